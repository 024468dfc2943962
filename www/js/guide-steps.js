// The guided path ("Try this"): each step sets the page's state with one click, points at the
// control to move and the figure to watch, and says in a sentence or two what to notice. Pure
// data; js/guide.js shows it. `explorer` / `lab`: settings the step applies (the rest stay);
// `control`: the id of the control to point at; `figure`: the id of the figure to watch; `live`:
// the id of a sentence the page computes for these settings (shown with the step); `action`:
// what else the step starts ('timing', 'digit').
export const STEPS = Object.freeze([
  {
    title: 'The integer grid, 8 bits',
    explorer: { tensor: 'weights', seed: 42, bits: 8, scheme: 'symmetric', dtype: 'int8', granularity: 'tensor', method: 'minmax' },
    control: 'bits', figure: 'fig-values',
    text: 'Each thin gray line is a value INT8 can store, 255 of them. Every weight snaps to its nearest line, so the error is tiny: the SQNR above the chart, signal power over error power, is well over 30 dB.',
  },
  {
    title: 'Fewer bits: 4',
    explorer: { bits: 4 },
    control: 'bits', figure: 'fig-values',
    text: 'At 4 bits 15 levels are left. The lines are far apart, and the SQNR falls by about 6 dB for every bit removed: each bit halves the step between levels.',
  },
  {
    title: '2 bits: three levels',
    explorer: { bits: 2 },
    control: 'bits', figure: 'fig-errors',
    text: 'Three levels: −s, 0 and +s. Most weights round to 0, and the error histogram is as wide as the weights themselves.',
  },
  {
    title: 'An outlier stretches the grid',
    explorer: { tensor: 'outliers', bits: 4, method: 'minmax', granularity: 'tensor' },
    control: 'tensor', figure: 'fig-values',
    text: 'The same weights with six large outliers, at 4 bits: min-max calibration makes the grid reach them, so the ordinary weights share a few levels near 0. The SQNR is far below step 2\'s at the same 4 bits.',
  },
  {
    title: 'Clip the outliers, at few bits',
    explorer: { tensor: 'outliers', bits: 4, method: 'percentile', percentile: 99.9 },
    control: 'method', figure: 'fig-values',
    text: 'Percentile calibration keeps 99.9 % of |x| and clips the rest: the outliers saturate, every other weight gets a finer grid, and at 4 bits the SQNR goes up (MSE search, another method, goes further). At 8 bits the grid is already fine and clipping costs more than it saves: try Bits 8.',
  },
  {
    title: 'Per tensor vs per channel',
    explorer: { tensor: 'weights', bits: 4, method: 'minmax', granularity: 'channel', channel: 0 },
    control: 'granularity', figure: 'fig-channels',
    text: 'One scale per output channel: a channel with small weights gets a fine grid of its own instead of sharing the widest channel\'s, and at the same 4 bits the SQNR is well above step 2\'s. Each bar is one channel\'s SQNR.',
  },
  {
    title: 'The CNN at 4 bits',
    lab: { weightBits: 4, actBits: 8, scheme: 'asymmetric', granularity: 'channel', method: 'minmax', layer: 3, channel: 0, overrides: {} },
    control: 'lab-wbits', figure: 'lab-fig-accuracy', live: 'lab-acc-note',
    text: 'The trained CNN with 4-bit weights, run as true integer inference on 2,000 test digits: accuracy barely moves. Per-channel scales and the network\'s redundancy absorb the error.',
  },
  {
    title: 'The CNN at 2 bits',
    lab: { weightBits: 2, actBits: 8 },
    control: 'lab-wbits', figure: 'lab-fig-accuracy', live: 'lab-acc-note',
    text: 'At 2 bits accuracy collapses. The note under the statistics says what happened: how many levels are left, how many weights became 0, which digits flip into what.',
  },
  {
    title: 'A clean digit at 2 bits',
    lab: { weightBits: 2, actBits: 8 },
    control: 'lab-draw-index', figure: 'lab-fig-draw', live: 'lab-draw-note', action: 'digit',
    text: 'Test digit 0 is in the pad; draw your own too. A bold, centred digit often survives 2 bits while ambiguous ones flip: it sits far from the boundary between two classes.',
  },
  {
    title: 'Is INT8 faster?',
    lab: { weightBits: 8, actBits: 8 },
    control: 'lab-run-timing', figure: 'lab-fig-timing', action: 'timing',
    text: 'Simulated INT8 (the course module\'s path) turns the weights back into floats and runs the float kernels, so it takes about as long as FP32 or longer; true INT8 runs integer kernels. The timing starts by itself: compare the bars and read "Why".',
  },
  {
    title: 'One bit fewer: 7-bit weights',
    lab: { weightBits: 7, actBits: 8 },
    control: 'lab-wbits', figure: 'lab-fig-timing', action: 'timing',
    text: 'The same model with 7-bit weights, the trade onnxruntime\'s reduce_range makes on x86 CPUs without VNNI. Where the engine\'s int16 relaxed dot reads activations as unsigned, every pair of products then fits in 16 bits, and true INT8 runs on usdot7: three instructions per 16 multiply-adds instead of four. The timing starts by itself; "Why" says whether this engine is one of those, and the accuracy barely moves.',
  },
  {
    title: 'Train through the rounding',
    lab: { weightBits: 3, actBits: 3, granularity: 'channel', method: 'minmax' },
    control: 'lab-run-qat', figure: 'lab-fig-qat', action: 'qat',
    text: 'At 3-bit weights and 3-bit activations post-training quantization loses about five points. Quantization-aware training fine-tunes the weights while the forward pass rounds them as the integer model will, and learns where to clip each activation: watch the curve climb back within a minute, then look at the weights on the grid.',
  },
]);
