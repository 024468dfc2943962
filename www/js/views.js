// The named views of the page: what presenter mode steps through (scenes) and what an embed shows.
// Pure data: each view names its section, the elements of that section it shows (`show`, CSS
// selectors; null = the whole section) and the controls it keeps (`controls`, element ids; null =
// all of the section's controls, [] = none). `height` is the iframe height the embed snippet
// suggests: the view's height in an embed about 960 px wide (narrower embeds grow taller; an embed
// reports its height to the course page with a 'quantlab:size' message, see embed.js).

export const VIEWS = Object.freeze({
  // The six lecture scenes, in their default order.
  affine: {
    title: 'The affine map', section: 'explorer', height: 730,
    show: ['.keystats', '#fig-mapping', '#fig-values'], controls: ['bits', 'scheme', 'dtype'],
  },
  'per-channel': {
    title: 'Per-tensor vs per-channel', section: 'explorer', height: 720,
    show: ['.keystats', '#fig-values', '#fig-channels'], controls: ['tensor', 'bits', 'granularity', 'channel'],
  },
  calibration: {
    title: 'Calibration and outliers', section: 'explorer', height: 800,
    show: ['.keystats', '#fig-values', '#fig-errors'], controls: ['tensor', 'seed', 'bits', 'method', 'percentile'],
  },
  sweep: {
    title: 'The bit-width sweep', section: 'lab', height: 600,
    show: ['#lab-fig-sweep'], controls: ['lab-scheme', 'lab-granularity', 'lab-method', 'lab-percentile'],
  },
  speed: {
    title: 'Is INT8 faster? Simulated vs true INT8', section: 'lab', height: 680,
    show: ['#lab-fig-timing'], controls: [],
  },
  draw: {
    title: 'Draw a digit', section: 'lab', height: 700,
    show: ['#lab-fig-draw'], controls: ['lab-wbits', 'lab-abits'],
  },
  // Whole sections.
  explorer: { title: 'Affine quantization explorer', section: 'explorer', height: 2080, show: null, controls: null },
  lab: { title: 'CNN lab', section: 'lab', height: 5900, show: null, controls: null },
  // Single figures, with all of their section's controls.
  'explorer.values': { title: 'Values and the integer grid', section: 'explorer', height: 1170, show: ['.keystats', '#fig-values'], controls: null },
  'explorer.mapping': { title: 'The mapping x → x̂', section: 'explorer', height: 1170, show: ['.keystats', '#fig-mapping'], controls: null },
  'explorer.errors': { title: 'Quantization error', section: 'explorer', height: 1170, show: ['.keystats', '#fig-errors'], controls: null },
  'explorer.channels': { title: 'Per-channel scales', section: 'explorer', height: 1170, show: ['.keystats', '#fig-channels'], controls: null },
  'explorer.stats': { title: 'Statistics', section: 'explorer', height: 1170, show: ['.keystats', '#stats'], controls: null },
  'lab.overview': { title: 'Model overview', section: 'lab', height: 1170, show: ['.keystats', '#lab-fig-overview'], controls: null },
  'lab.accuracy': { title: 'Accuracy: where INT8 and FP32 disagree', section: 'lab', height: 1170, show: ['.keystats', '#lab-fig-accuracy'], controls: null },
  'lab.weights': { title: 'Weights and the integer grid', section: 'lab', height: 1170, show: ['#lab-fig-weights', '#lab-fig-werrors', '#lab-fig-channels'], controls: null },
  'lab.activations': { title: 'Activations: calibrated ranges', section: 'lab', height: 1170, show: ['#lab-fig-act'], controls: null },
  'lab.sensitivity': { title: 'Per-layer sensitivity', section: 'lab', height: 1170, show: ['#lab-fig-sens'], controls: null },
  'lab.production': { title: 'Production notes', section: 'lab', height: 1170, show: ['#lab-fig-prod'], controls: null },
});

/** Presenter mode's scenes when the URL does not choose them. */
export const DEFAULT_SCENES = Object.freeze(['affine', 'per-channel', 'calibration', 'sweep', 'speed', 'draw']);

export const isView = (name) => Object.prototype.hasOwnProperty.call(VIEWS, name);
