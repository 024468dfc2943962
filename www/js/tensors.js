// Seeded example tensors to quantize. Pure: no DOM, no wasm; the same (kind, seed) always gives
// the same Float32Array, so a URL with a seed reproduces a figure exactly.

/** mulberry32: a tiny 32-bit PRNG, uniform in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function rand() {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform generator (Box-Muller, one value per call). */
export function normalSampler(rand) {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const numel = (shape) => shape.reduce((a, b) => a * b, 1);

/** Per-channel standard deviations spread log-uniformly over `[lo, hi]`, in shuffled order. */
function channelStds(rand, channels, lo, hi) {
  const stds = Array.from({ length: channels }, (_, c) => lo * (hi / lo) ** (c / (channels - 1)));
  for (let i = channels - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [stds[i], stds[j]] = [stds[j], stds[i]];
  }
  return stds;
}

/** Conv weights [M, C, kH, kW]: normal per output channel, std varying over ~15x across channels. */
function convWeights(seed, shape) {
  const rand = mulberry32(seed);
  const normal = normalSampler(rand);
  const [m] = shape;
  const inner = numel(shape) / m;
  const stds = channelStds(rand, m, 0.01, 0.15);
  const x = new Float32Array(numel(shape));
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < inner; i++) x[c * inner + i] = stds[c] * normal();
  }
  return x;
}

/** The same weights with a handful of large outliers, as in trained LLM and CNN layers. */
function weightsWithOutliers(seed, shape) {
  const x = convWeights(seed, shape);
  const rand = mulberry32(seed ^ 0x9e3779b9);
  const count = 6;
  for (let k = 0; k < count; k++) {
    const i = Math.floor(rand() * x.length);
    x[i] = (rand() < 0.5 ? -1 : 1) * (0.7 + 0.6 * rand());
  }
  return x;
}

/** Post-ReLU activations: non-negative, about half exact zeros, a long right tail. */
function reluActivations(seed, shape) {
  const rand = mulberry32(seed);
  const normal = normalSampler(rand);
  const x = new Float32Array(numel(shape));
  for (let i = 0; i < x.length; i++) {
    const pre = normal() - 0.1;
    x[i] = pre > 0 ? pre * Math.exp(0.6 * normal()) : 0;
  }
  return x;
}

/**
 * The tensors the explorer offers. `channelAxis` is the axis per-channel quantization uses, or
 * null where the tensor is quantized per tensor only (activations).
 */
export const TENSORS = {
  weights: {
    label: 'Conv weights (normal)',
    shape: [16, 32, 3, 3],
    channelAxis: 0,
    make: convWeights,
    note: 'Conv weights [16, 32, 3, 3]: normal, each output channel with its own spread (about 15× from smallest to largest).',
  },
  outliers: {
    label: 'Conv weights + outliers',
    shape: [16, 32, 3, 3],
    channelAxis: 0,
    make: weightsWithOutliers,
    note: 'The same weights with 6 large outliers: min-max stretches the grid to reach them.',
  },
  relu: {
    label: 'Activations after ReLU',
    shape: [1, 16, 16, 16],
    channelAxis: null,
    make: reluActivations,
    note: 'Activations [1, 16, 16, 16] after ReLU: non-negative, half zeros, a long right tail. Activations use one (s, z) per tensor.',
  },
};

/** `{ kind, seed, shape, channelAxis, data }` for a tensor of TENSORS. */
export function makeTensor(kind, seed) {
  const spec = TENSORS[kind];
  if (!spec) throw new Error(`tensor: unknown kind '${kind}'`);
  return { kind, seed, shape: spec.shape, channelAxis: spec.channelAxis, data: spec.make(seed, spec.shape) };
}

/** The values of channel `c` along axis 0 (contiguous in row-major order): a view, not a copy. */
export function channelSlice(tensor, c) {
  const inner = tensor.data.length / tensor.shape[0];
  return tensor.data.subarray(c * inner, (c + 1) * inner);
}

/** `n` evenly spaced float32 values from `lo` to `hi`. */
export function linspace(lo, hi, n) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + ((hi - lo) * i) / (n - 1);
  return out;
}
