// One bit width of the lab's sweep, in two halves so the lab worker's scheduler can run other
// work between them: weights only (the simulated path: float activations) and weights +
// activations (the true INT8 path); and the sweep's float-format points (float16, bfloat16:
// weights and activations rounded to the format, run as the QDQ graph), in one part each. Shared by js/lab-worker.js and js/sweep-helper.js, which
// computes bit widths in parallel on a second core.
//
// One sweep serves every model. `set` says what it is measured on:
//   {kind: 'digits', test}        the labelled test digits: accuracy, agreement, logit SQNR
//   {kind: 'random', x, n}        seeded random inputs for a model that does not take digits:
//                                 agreement with FP32's top output and logit SQNR (model.compare)
// Every number comes from the core (evaluate, compare, report); nothing is recomputed here.
//
// The functions are generators: an evaluation of the 2,000 digits runs as prefixes growing by
// EVAL_CHUNK (the core keeps the logits computed so far, Model.evaluate's `limit`), and each
// `yield` between them lets the lab worker answer a new setting within tens of milliseconds.
// `run()` drives one to the end (the helper worker, which nothing interrupts).
import { mulberry32 } from './tensors.js';

/** The seed of the random inputs a model without digits is timed and swept on. */
export const TIMING_SEED = 7;
/** At most this many floats of random inputs (8 MB). */
export const RANDOM_FLOATS = 1 << 21;

const numel = (shape) => shape.reduce((a, b) => a * b, 1);

/** `n` seeded random images of `shape`, uniform in [0, 1). */
export function randomInputs(shape, n, seed) {
  const rand = mulberry32(seed);
  const x = new Float32Array(n * numel(shape));
  for (let i = 0; i < x.length; i++) x[i] = rand();
  return x;
}

/** How many random inputs the sweep compares FP32 and quantized outputs on: up to 64, as at most RANDOM_FLOATS floats. */
export const sweepInputCount = (shape) => Math.max(1, Math.min(64, Math.floor(RANDOM_FLOATS / numel(shape))));

/** The random sweep set of a model with input `shape` (the timing inputs). */
export function randomSet(shape) {
  const n = sweepInputCount(shape);
  return { kind: 'random', x: randomInputs(shape, n, TIMING_SEED), n };
}

/** Digits per evaluation step: about 40 ms of int8 inference here. */
export const EVAL_CHUNK = 250;

/** Drives generator `g` to its end; returns its value. */
export function run(g) {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** `model.evaluate(qm, test, path)` in steps of EVAL_CHUNK digits; yields the digits done. */
export function* evaluateInSteps(model, qm, test, path, first = EVAL_CHUNK) {
  for (let n = Math.min(first, test.length); ; n = Math.min(test.length, n + EVAL_CHUNK)) {
    const e = model.evaluate(qm, test, path, n);
    if (n >= test.length) return e;
    yield n;
  }
}

/** `qm` against FP32 on `set` along `path`: `{accuracy?, fp32Accuracy?, agreement, sqnrDb}`. */
function* measure(model, qm, set, path) {
  if (set.kind === 'digits') {
    const e = yield* evaluateInSteps(model, qm, set.test, path);
    return { accuracy: e.int8Accuracy, fp32Accuracy: e.fp32Accuracy, agreement: e.agreement, sqnrDb: e.logitSqnrDb };
  }
  const c = model.compare(qm, set.x, set.n, path);
  return { agreement: c.agreement, sqnrDb: c.logitSqnrDb };
}

/** The float formats the sweep measures after the bit widths (each point carries `format`). */
export const SWEEP_FORMATS = Object.freeze(['fp16', 'bf16']);
const FORMAT_NAME = { fp16: 'float16', bf16: 'bfloat16' };

/**
 * The measurements of sweep point `id` (a bit width or a format), as `[label, start]` parts that
 * a scheduler can run apart: `start(model, set, base)` is a generator; the parts' results merge
 * into the point.
 */
export function parts(id) {
  if (typeof id === 'number') {
    return [
      [`${id} bits, weights only`, (model, set, base) => weightsOnly(model, set, base, id)],
      [`${id} bits, weights + activations`, (model, set, base) => weightsAndActivations(model, set, base, id)],
    ];
  }
  return [[FORMAT_NAME[id], (model, set, base) => formatPoint(model, set, base, id)]];
}

/** Weights and activations in float format `format` ('fp16' | 'bf16'): accuracy, SQNR, size. */
export function* formatPoint(model, set, base, format) {
  const qm = model.quantize({ ...base, format });
  try {
    const m = yield* measure(model, qm, set, 'int8');
    const rep = model.report(qm, 4, 0);
    return {
      format,
      fp32Accuracy: m.fp32Accuracy ?? null,
      waAccuracy: m.accuracy ?? null,
      waAgreement: m.agreement,
      waSqnrDb: m.sqnrDb,
      bytesFp32: rep.bytesFp32,
      bytesPacked: rep.bytesPacked,
    };
  } finally {
    qm.free();
  }
}

/** Weights quantized to `bits`, activations float: accuracy or agreement, SQNR and the report's sizes. */
export function* weightsOnly(model, set, base, bits) {
  const qm = model.quantize({ ...base, weightBits: bits, actBits: 8 });
  try {
    const m = yield* measure(model, qm, set, 'simulated');
    const rep = model.report(qm, 4, 0);
    return {
      bits,
      fp32Accuracy: m.fp32Accuracy ?? null,
      wAccuracy: m.accuracy ?? null,
      wAgreement: m.agreement,
      wSqnrDb: m.sqnrDb,
      bytesFp32: rep.bytesFp32,
      bytesInt8: rep.bytesInt8,
      bytesPacked: rep.bytesPacked,
      weightSqnrDb: rep.layers.map((l) => l.weight.sqnrDb),
    };
  } finally {
    qm.free();
  }
}

/** Weights and activations at `bits` on the integer path. */
export function* weightsAndActivations(model, set, base, bits) {
  const qm = model.quantize({ ...base, weightBits: bits, actBits: bits });
  try {
    const m = yield* measure(model, qm, set, 'int8');
    return { waAccuracy: m.accuracy ?? null, waAgreement: m.agreement, waSqnrDb: m.sqnrDb };
  } finally {
    qm.free();
  }
}
