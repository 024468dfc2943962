// The CNN lab's state and the pure logic around it: no DOM. Shared by the page
// (js/lab/controller.js) and the worker (js/lab-worker.js), so both derive the same quantize()
// config and the same task keys from one settings object; the keys come from the core (js/core.js).
import { resultKey } from './core.js';

/**
 * The layers a model quantizes (conv and linear) from its `Model.summary()`: `[{index, name}]`.
 * The page's controller and the worker each derive their own list from the model they hold.
 */
export function quantizedLayers(summary) {
  return Object.freeze(summary.layers
    .filter((l) => l.kind === 'conv2d' || l.kind === 'linear')
    // nn.Sequential names are positions ("0", "3"): say what the layer is.
    .map((l) => ({ index: l.index, name: /^\d+$/.test(l.name) ? `${l.name} (${l.kind === 'linear' ? 'linear' : 'conv'})` : l.name })));
}

/** The layer the detail views show first: the shipped model's conv2, else the second quantized layer. */
export const defaultLayer = (layers) => (layers[1] ?? layers[0]).index;

/** How many test digits the provisional accuracy uses while a setting moves (then all of them). */
export const PROVISIONAL_DIGITS = 250;

export const SWEEP_BITS = Object.freeze([8, 7, 6, 5, 4, 3, 2]);

export const DEFAULTS = Object.freeze({
  weightBits: 8,
  actBits: 8,
  scheme: 'asymmetric', // of the activations; weights are always symmetric
  granularity: 'channel', // of the weights: 'channel' | 'tensor' | 'group'
  groupSize: 32, // inputs per group when granularity is 'group'
  rounding: 'nearest', // or 'gptq'
  equalize: false, // cross-layer equalization
  biasCorrection: false,
  method: 'minmax', // or 'dynamic': activation parameters per input at run time
  budget: 20, // KiB: the size the mixed-precision search fits the weights into
  percentile: 99.99,
  layer: 3,
  channel: 0,
  /** Mixed precision: layer index -> {w, a}, each a bit width or null ("as above"). */
  overrides: Object.freeze({}),
});

/** A copy of `s` with fields from `patch`; overrides are copied, never shared. */
export function withSettings(s, patch) {
  const out = { ...s, ...patch };
  out.overrides = { ...(patch.overrides ?? s.overrides) };
  return out;
}

/** The (weight, activation) bits layer `index` uses, overrides applied. */
export function bitsFor(s, index) {
  const o = s.overrides[index] ?? {};
  return { w: o.w ?? s.weightBits, a: o.a ?? s.actBits };
}

/** The layers with their own bits (mixed precision), by index, in order. */
const overridden = (s) => Object.keys(s.overrides).map(Number).sort((a, b) => a - b)
  .filter((index) => s.overrides[index] && (s.overrides[index].w != null || s.overrides[index].a != null));

/** Whether any layer has its own bits (mixed precision). */
export const hasOverrides = (s) => overridden(s).length > 0;

/** The config for `model.quantize` (see README: "The model"). */
export function quantConfig(s, patch = {}) {
  const cfg = {
    weightBits: s.weightBits,
    actBits: s.actBits,
    granularity: s.granularity,
    method: s.method,
    actScheme: s.scheme,
    rounding: s.rounding,
    equalize: s.equalize,
    biasCorrection: s.biasCorrection,
    layerBits: [],
  };
  if (s.granularity === 'group') cfg.groupSize = s.groupSize;
  if (s.method === 'percentile') cfg.percentile = s.percentile;
  for (const index of overridden(s)) {
    const b = bitsFor(s, index);
    cfg.layerBits.push({ layer: index, weightBits: b.w, actBits: b.a });
  }
  return { ...cfg, ...patch };
}

// Task keys: a long job restarts only when a setting it depends on changes. Which settings each
// result depends on is the core's decision (configKey); a job's own parameters (the budget, QAT's
// steps) are added here.
export const evalKey = (s) => resultKey(quantConfig(s), 'eval');
/** Sensitivity: weights only at the global weight bits, one layer at a time. */
export const sensKey = (s) => resultKey(quantConfig(s), 'sensitivity');
/** The sweep sets the bits itself; the rest of the settings still matter. */
export const sweepKey = (s) => resultKey(quantConfig(s), 'sweep');
/** The technique comparison measures fixed weight configurations with the activations as set. */
export const techniquesKey = (s) => resultKey(quantConfig(s), 'techniques');
/** The budgeted mixed-precision search: the budget and everything the quantized model depends on but the bits. */
export const budgetKey = (s) => `${resultKey(quantConfig(s), 'budget')}|${s.budget}`;
/** The weight bits the search tries for each layer, highest first. */
/**
 * Quantization-aware training: the step counts the lab offers (the first is the default), and its
 * curve, measured every QAT_CURVE_EVERY steps on the first QAT_CURVE_DIGITS test digits (all of
 * them at the end). A run depends on everything the evaluation does, and on its steps.
 */
export const QAT_STEPS = Object.freeze([600, 300, 150, 1200]);
export const QAT_CURVE_EVERY = 50;
export const QAT_CURVE_DIGITS = 500;
export const qatKey = (s, steps) => JSON.stringify({ e: evalKey(s), steps });

export const BUDGET_BITS = Object.freeze([8, 6, 5, 4, 3, 2]);
/** Digits each candidate move is scored on (the path's points are then measured on all of them). */
export const BUDGET_SEARCH_DIGITS = 500;

/**
 * The technique comparison (js/lab/techniques.js): each row a configuration measured on the
 * true INT8 path (QDQ for group-wise, dynamic and float formats), at each weight bit width.
 */
export const TECHNIQUE_BITS = Object.freeze([4, 3]);
export const TECHNIQUES = Object.freeze([
  { id: 'tensor', name: 'per tensor, round to nearest', patch: { granularity: 'tensor' } },
  { id: 'tensor-eq-bc', name: 'per tensor + equalization + bias correction', patch: { granularity: 'tensor', equalize: true, biasCorrection: true } },
  { id: 'tensor-gptq', name: 'per tensor, GPTQ', patch: { granularity: 'tensor', rounding: 'gptq' } },
  { id: 'channel', name: 'per channel, round to nearest', patch: { granularity: 'channel' } },
  { id: 'channel-gptq', name: 'per channel, GPTQ', patch: { granularity: 'channel', rounding: 'gptq' } },
  { id: 'channel-dynamic', name: 'per channel, dynamic activations', patch: { granularity: 'channel', method: 'dynamic' } },
  { id: 'group32', name: 'group-wise (32), round to nearest', patch: { granularity: 'group', groupSize: 32 } },
  { id: 'group32-gptq', name: 'group-wise (32), GPTQ', patch: { granularity: 'group', groupSize: 32, rounding: 'gptq' } },
]);
/** Rows without a bit width: float formats (weights and activations in the format). */
export const FORMATS = Object.freeze([
  { id: 'fp16', name: 'float16 (weights and activations)', patch: { format: 'fp16' } },
  { id: 'bf16', name: 'bfloat16 (weights and activations)', patch: { format: 'bf16' } },
]);

/** `q`-quantile (0..1) of `values` by linear interpolation. */
export function quantile(values, q) {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return NaN;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(v.length - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/**
 * Hardware-aware: what the engine in front of the student runs (`kernelInfo()`: the build, the
 * probe's finding, the kernel table's chosen entries) next to what each runtime would pick.
 */
function engineRow(k) {
  const chosen = (part) => part.entries.find((e) => e.name === part.chosen);
  const instr = (part) => chosen(part)?.instruction ?? '';
  const limit = chosen(k.int8)?.weightLimit;
  return {
    aspect: 'This browser',
    page: `${k.build} build; INT8 on <code>${k.int8.chosen}</code> (${instr(k.int8)})${limit != null ? ` for layers whose weights are within ±${limit}, <code>${chosen(k.int8).fallback}</code> for wider ones` : ''}, FP32 on <code>${k.fp32.chosen}</code> (${instr(k.fp32)}); ` +
      `relaxed dot: ${k.probe.describe}. On an NVIDIA GPU, TensorRT would run int8 Tensor Core (IMMA) kernels instead.`,
    tflite: ['XNNPACK picks its kernels at start-up the same way: NEON dot / AVX-VNNI natively, the wasm relaxed dot where the engine has it', 'partly'],
    pytorch: ['FBGEMM (AVX2, AVX-512 VNNI) on x86, QNNPACK on ARM; no WebAssembly backend', false],
    ort: ['MLAS: AVX-VNNI / AVX-512 on x86, NEON dot on ARM (on AVX2 without VNNI, <code>vpmaddubsw</code>, which can saturate; its <code>reduce_range</code> quantizes weights to 7 bits for that); onnxruntime-web: wasm SIMD, the relaxed dot when its probe (HasUSDot) allows', k.build === 'relaxed' ? true : 'partly'],
  };
}

/**
 * How the current settings map to three production toolchains. Each row: an aspect, what this
 * page does now, and per runtime `[text, same]` where `same` says whether it matches the page.
 * Facts: TFLite 8-bit quantization spec; PyTorch torch.ao `get_default_qconfig('x86')`;
 * ONNX Runtime `quantize_static` defaults (see docs/spec.md).
 */
export function productionRows(s, kernels = null) {
  const pc = s.granularity === 'channel';
  const asym = s.scheme === 'asymmetric';
  const mixed = hasOverrides(s);
  const low = s.weightBits < 8 || s.actBits < 8 || mixed;
  const wq = (2 ** (s.weightBits - 1)) - 1;
  const methodName = { minmax: 'min-max', percentile: `percentile (${s.percentile} %)`, mse: 'MSE search', entropy: 'entropy (KL)', dynamic: 'dynamic: from each input at run time (DynamicQuantizeLinear)' }[s.method];
  return [
    {
      aspect: 'Weights',
      page: `symmetric, z = 0, q in [−${wq}, ${wq}]`,
      tflite: ['int8 symmetric, z = 0, [−127, 127]', true],
      pytorch: ['qint8 symmetric, z = 0, [−128, 127]: +max is clipped to 127', false],
      ort: ['int8 symmetric (WeightSymmetric), [−127, 127]', true],
    },
    {
      aspect: 'Weight scales',
      page: s.granularity === 'group' ? `one per ${s.groupSize} inputs of each output channel (blocked, ONNX opset 21)` : pc ? 'one per output channel' : 'one per tensor',
      tflite: ['per channel for conv; per tensor for fully connected by default', 'partly'],
      pytorch: ['per channel (PerChannelMinMaxObserver)', pc],
      ort: ['per tensor unless per_channel=True', !pc],
    },
    {
      aspect: 'Activations',
      page: asym ? 'asymmetric int8, fitted zero point, per tensor' : 'symmetric int8, z = 0, per tensor',
      tflite: ['asymmetric int8, per tensor', asym],
      pytorch: ['asymmetric quint8, per tensor; x86 uses 7 bits (reduce_range)', asym ? 'partly' : false],
      ort: ['asymmetric (ActivationSymmetric=False), int8 or uint8', asym],
    },
    {
      aspect: 'Calibration',
      page: methodName,
      tflite: ['min-max over a representative dataset', s.method === 'minmax'],
      pytorch: ['HistogramObserver: searches the range with the least L2 error', s.method === 'mse' ? 'partly' : false],
      ort: ['MinMax by default; Percentile (99.999 %), Entropy, Distribution', s.method === 'minmax' ? true : 'partly'],
    },
    {
      aspect: 'Bit widths',
      page: mixed ? 'mixed per layer' : `${s.weightBits}-bit weights, ${s.actBits}-bit activations`,
      tflite: ['8-bit integer kernels (16x8 mode for activations)', !low],
      pytorch: ['8-bit integer kernels', !low],
      ort: ['8-bit integer kernels (4-bit blocks only for weight-only MatMul)', !low],
    },
    {
      aspect: 'Rounding',
      page: [s.rounding === 'gptq' ? 'GPTQ (error-compensating, from calibration inputs)' : 'round to nearest',
        s.equalize ? 'cross-layer equalization' : '', s.biasCorrection ? 'bias correction' : ''].filter(Boolean).join(' + '),
      tflite: ['round to nearest; no equalization or bias correction in the converter', s.rounding === 'nearest' && !s.equalize && !s.biasCorrection],
      pytorch: ['round to nearest; AdaRound, equalization and bias correction in AIMET', s.rounding === 'nearest' ? 'partly' : false],
      ort: ['round to nearest (quantize_static); GPTQ and blocked 4-bit for weight-only MatMul (matmul_nbits_quantizer)', s.rounding === 'gptq' ? 'partly' : true],
    },
    {
      aspect: 'Runs as',
      page: s.granularity === 'group' || s.method === 'dynamic'
        ? 'QDQ graph in float: (blocked) DequantizeLinear into float convs, activations QuantizeLinear → DequantizeLinear'
        : 'integer-only: int8 × int8 → int32, requantized',
      tflite: ['integer kernels; no group-wise conv, dynamic range only for weights', s.granularity !== 'group' && s.method !== 'dynamic'],
      pytorch: ['integer kernels (FBGEMM/QNNPACK); dynamic quantization for Linear/LSTM', s.granularity !== 'group'],
      ort: ['QLinearConv when Q/DQ fuse; otherwise the QDQ graph as here; quantize_dynamic → ConvInteger/MatMulInteger', true],
    },
    ...(kernels ? [engineRow(kernels)] : []),
    {
      aspect: 'Requantization',
      page: 'float multiplier M = s_x·s_w / s_y, round half to even',
      tflite: ['fixed-point int32 multiplier and shift: 1-LSB differences on near-ties', 'partly'],
      pytorch: ['float multiplier (FBGEMM)', true],
      ort: ['float multiplier, round half to even (x86)', true],
    },
    {
      aspect: 'Bias',
      page: 'int32, scale s_x·s_w, z = 0',
      tflite: ['int32, scale s_x·s_w', true],
      pytorch: ['float bias, added in the requantization step (FBGEMM)', 'partly'],
      ort: ['int32, scale s_x·s_w', true],
    },
  ];
}
