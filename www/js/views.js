// The named views of the page: what presenter mode steps through (scenes) and what an embed shows.
// Pure data: each view names its section, the elements of that section it shows (`show`, CSS
// selectors; null = the whole section) and the controls it keeps (`controls`, element ids; null =
// all of the section's controls, [] = none). `height` is the iframe height the embed snippet
// suggests: the view's height in an embed about 960 px wide (narrower embeds grow taller; an embed
// reports its height to the course page with a 'quantlab:size' message, see embed.js).
//
// `takeaway` is the one sentence presenter mode shows under the scene's title: what the figure
// teaches, said so that a student who only reads that line still leaves with it. `runs` names lab
// work the scene starts on arrival when there is no result yet (lecture.js): the timing is not
// run on its own, because it competes with the page for the machine.
//
// A figure's `controls` are the ones its numbers depend on (the lab's task keys in lab-state.js
// and what each view draws), so an embed of one figure carries only what moves it.

const EXPLORER_ALL = Object.freeze(['tensor', 'seed', 'bits', 'scheme', 'dtype', 'granularity', 'channel', 'method', 'percentile']);
const LAB_QUANT = Object.freeze(['lab-wbits', 'lab-abits', 'lab-scheme', 'lab-granularity', 'lab-group', 'lab-method', 'lab-percentile',
  'lab-rounding', 'lab-equalize', 'lab-biascorr']);
/** The lab tasks a scene (`runs`) or an embed (`quantlab:run`) can start (Lab.run). */
export const TASKS = Object.freeze(['timing', 'techniques', 'budget', 'qat']);

export const VIEWS = Object.freeze({
  // The six lecture scenes, in their default order.
  affine: {
    title: 'The affine map', section: 'explorer', height: 730,
    show: ['.keystats', '#fig-mapping', '#fig-values'], controls: ['bits', 'scheme', 'dtype'],
    takeaway: 'Every value snaps to a grid of about 2ᵇ levels, x̂ = s·(q − z): each bit removed doubles the step s and costs about 6 dB of SQNR.',
  },
  'per-channel': {
    title: 'Per-tensor vs per-channel', section: 'explorer', height: 720,
    show: ['.keystats', '#fig-values', '#fig-channels'], controls: ['tensor', 'bits', 'granularity', 'channel'],
    takeaway: 'With one scale per tensor the largest channel sets everyone\'s step; a scale per output channel gives each channel a grid that fits its own range.',
  },
  calibration: {
    title: 'Calibration and outliers', section: 'explorer', height: 800,
    show: ['.keystats', '#fig-values', '#fig-errors'], controls: ['tensor', 'seed', 'bits', 'method', 'percentile'],
    takeaway: 'A few outliers stretch the min-max range for everything else: clipping them costs a little clipping error and buys a much finer grid.',
  },
  sweep: {
    title: 'The bit-width sweep', section: 'lab', height: 840,
    show: ['#lab-fig-sweep'], controls: ['lab-scheme', 'lab-granularity', 'lab-group', 'lab-method', 'lab-percentile', 'lab-rounding', 'lab-equalize', 'lab-biascorr'],
    takeaway: 'Accuracy holds to about 4 bits, then falls off a cliff: each bit removed halves the grid.',
  },
  speed: {
    title: 'Is INT8 faster? Simulated vs true INT8', section: 'lab', height: 1200,
    show: ['#lab-fig-timing'], controls: [], runs: 'timing',
    takeaway: 'Simulated INT8 rounds the weights but still computes in float, so it is no faster; only integer kernels (int8 × int8 → int32) buy speed.',
  },
  draw: {
    title: 'Draw a digit', section: 'lab', height: 700,
    show: ['#lab-fig-draw'], controls: ['lab-wbits', 'lab-abits'],
    takeaway: 'INT8 and FP32 part ways only on ambiguous digits: quantization noise flips a prediction where the top two scores were already close.',
  },
  // Whole sections.
  explorer: {
    title: 'Affine quantization explorer', section: 'explorer', height: 2080, show: null, controls: null,
    takeaway: 'One tensor, one grid: bits set the number of levels, the clip range sets their spacing, and the error is what falls between them.',
  },
  lab: {
    title: 'CNN lab', section: 'lab', height: 6650, show: null, controls: null,
    takeaway: 'A trained network quantized for real: integer weights, activations and arithmetic, measured on held-out test images (the 2,000 test digits, or your own).',
  },
  // Further scenes, not in the default talk (the scene picker or `scenes=` adds them).
  techniques: {
    title: 'Beyond round-to-nearest', section: 'lab', height: 1130,
    show: ['#lab-fig-techniques'], controls: ['lab-abits', 'lab-scheme', 'lab-method', 'lab-percentile'], runs: 'techniques',
    takeaway: 'How weights are rounded matters as much as how many bits they get: at 3 bits GPTQ or group-wise scales keep almost all of the float accuracy that round-to-nearest per tensor loses.',
  },
  qat: {
    title: 'Quantization-aware training', section: 'lab', height: 1000,
    show: ['#lab-fig-qat'], controls: ['lab-wbits', 'lab-abits', 'lab-granularity', 'lab-method'], runs: 'qat',
    takeaway: 'Post-training quantization can only round the weights it is given; a few hundred steps of training through the rounding (and learned clip ranges) win back most of what 3 bits cost.',
  },
  // Single figures, each with the controls its numbers depend on. Every explorer figure is one
  // analysis of the same tensor, so each depends on every explorer setting.
  'explorer.values': {
    title: 'Values and the integer grid', section: 'explorer', height: 880, show: ['.keystats', '#fig-values'], controls: EXPLORER_ALL,
    takeaway: 'The grid covers the clip range evenly: values between two grid lines are rounded to the nearer one, values beyond the range are clipped.',
  },
  'explorer.mapping': {
    title: 'The mapping x → x̂', section: 'explorer', height: 920, show: ['.keystats', '#fig-mapping'], controls: EXPLORER_ALL,
    takeaway: 'Quantize then dequantize is a staircase: flat steps of width s inside the clip range, flat beyond it.',
  },
  'explorer.errors': {
    title: 'Quantization error', section: 'explorer', height: 810, show: ['.keystats', '#fig-errors'], controls: EXPLORER_ALL,
    takeaway: 'Rounding error stays within half a step, ±s/2; anything wider is clipping.',
  },
  'explorer.channels': {
    title: 'Per-channel scales', section: 'explorer', height: 780, show: ['.keystats', '#fig-channels'], controls: EXPLORER_ALL,
    takeaway: 'Channels with small weights get small scales, and their SQNR no longer depends on the largest channel.',
  },
  'explorer.stats': {
    title: 'Statistics', section: 'explorer', height: 780, show: ['.keystats', '#stats'], controls: EXPLORER_ALL,
    takeaway: 'The error splits into rounding (grid too coarse) and clipping (range too narrow): calibration trades one for the other.',
  },
  // The lab's: weights are quantized per the weight bits and granularity; activations per the
  // activation bits, scheme and calibration (lab-state.js: evalKey, sensKey, sweepKey).
  'lab.overview': {
    title: 'Model overview', section: 'lab', height: 900, show: ['.keystats', '#lab-fig-overview'],
    controls: ['lab-wbits', 'lab-abits', 'lab-granularity', 'lab-overrides', 'lab-reset-overrides'],
    takeaway: 'INT8 keeps one byte per weight plus a scale per channel: a little under 4× smaller than float32.',
  },
  'lab.accuracy': {
    title: 'Accuracy: where INT8 and FP32 disagree', section: 'lab', height: 780, show: ['.keystats', '#lab-fig-accuracy'], controls: LAB_QUANT,
    takeaway: 'Down to about 4 bits the integer model agrees with the float one on almost every test image; the ones it flips were close calls, and below that whole classes collapse into one.',
  },
  'lab.weights': {
    title: 'Weights and the integer grid', section: 'lab', height: 890, show: ['#lab-fig-weights', '#lab-fig-werrors', '#lab-fig-channels'],
    controls: ['lab-wbits', 'lab-granularity', 'lab-group', 'lab-layer', 'lab-channel'],
    takeaway: 'Weights are quantized symmetrically around zero; per-channel scales keep small channels from being rounded away.',
  },
  'lab.budget': {
    title: 'Mixed precision for a size budget', section: 'lab', height: 640, show: ['#lab-fig-budget'], runs: 'budget',
    controls: ['lab-budget', 'lab-abits', 'lab-granularity', 'lab-group', 'lab-rounding'],
    takeaway: 'Given a size, spend the bits where the accuracy is: the measured search keeps the sensitive layer wide and squeezes the others, and beats uniform bits of the same size.',
  },
  'lab.equalization': {
    title: 'Cross-layer equalization', section: 'lab', height: 560, show: ['#lab-fig-equalize'],
    controls: ['lab-equalize', 'lab-wbits', 'lab-granularity'],
    takeaway: 'Equalization moves part of each channel\'s scale into the next layer, leaving the float model unchanged: the channels\' weight ranges move closer together, so one per-tensor scale wastes less of the grid.',
  },
  'lab.activations': {
    title: 'Activations: calibrated ranges', section: 'lab', height: 1280, show: ['#lab-fig-act'],
    controls: ['lab-abits', 'lab-scheme', 'lab-method', 'lab-percentile', 'lab-layer'],
    takeaway: 'Activation ranges come from calibration data: the method decides how much of the tail to clip for a finer grid.',
  },
  'lab.sensitivity': {
    title: 'Per-layer sensitivity', section: 'lab', height: 440, show: ['#lab-fig-sens'], controls: ['lab-wbits', 'lab-granularity', 'lab-group', 'lab-rounding', 'lab-equalize', 'lab-biascorr'],
    takeaway: 'Layers are not equally fragile: the one that loses most alone is the one to keep at more bits.',
  },
  'lab.production': {
    title: 'Production notes', section: 'lab', height: 1170, show: ['#lab-fig-prod'], controls: null,
    takeaway: 'The same settings in TFLite, PyTorch and ONNX Runtime: what carries over unchanged and what each one does differently.',
  },
});

/** Presenter mode's scenes when the URL does not choose them. */
export const DEFAULT_SCENES = Object.freeze(['affine', 'per-channel', 'calibration', 'sweep', 'speed', 'draw']);

export const isView = (name) => Object.prototype.hasOwnProperty.call(VIEWS, name);
