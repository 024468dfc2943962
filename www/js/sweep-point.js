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
import { core, resultKey } from './core.js';

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

/** A measurement from the core's evaluation `e` (Model.evaluate): what the parts are made of. */
export const measurement = (e) => ({ accuracy: e.int8Accuracy, fp32Accuracy: e.fp32Accuracy, agreement: e.agreement, sqnrDb: e.logitSqnrDb });


/** The float formats the sweep measures after the bit widths (each point carries `format`). */
export const SWEEP_FORMATS = Object.freeze(['fp16', 'bf16']);
const FORMAT_NAME = { fp16: 'float16', bf16: 'bfloat16' };

/** The core's result kind of each kind of part (js/core.js resultKey; the core's choices are pinned by tests/node/sweep.test.mjs). */
const PART_KIND = { w: 'weights', fmt: 'format', wa: 'eval' };

/** The cache key of a `kind` part measured with quantize config `cfg`. */
export const partKey = (kind, cfg) => `${kind}|${resultKey(cfg, PART_KIND[kind])}`;

/**
 * The parts of sweep point `id` (a bit width or a format), each `{ id, kind, label, cfg, key }`,
 * that a scheduler can run apart (or take from a cache by `key`): `runPart(model, set, part)`
 * measures one; the parts' results merge into the point. `base`: the settings' quantize config at
 * uniform bits.
 */
export function parts(id, base) {
  const make = (kind, label, cfg) => ({ id, kind, label, cfg, key: partKey(kind, cfg) });
  if (typeof id === 'number') {
    return [
      make('w', `${id} bits, weights only`, { ...base, weightBits: id, actBits: 8 }),
      make('wa', `${id} bits, weights + activations`, { ...base, weightBits: id, actBits: id }),
    ];
  }
  return [make('fmt', FORMAT_NAME[id], { ...base, format: id })];
}

/**
 * Drives one of the core's jobs (LabJob: a bounded step per call) on `model` and its test set
 * `test`: each step's progress is yielded, each update goes to `onUpdate(update, complete)`; the
 * job is freed when it ends or the generator is closed.
 */
export function* coreSteps(job, model, test, onUpdate) {
  try {
    for (;;) {
      const p = job.step(model, test);
      if (p.update) onUpdate(p.update, p.complete);
      if (p.complete) return;
      yield { done: p.done, total: p.total, label: p.label };
    }
  } finally {
    job.free();
  }
}

/**
 * Measures `part` (from parts()) on `set`: a generator, as evaluateInSteps. On labelled test
 * images the core measures it (LabJob.measureList); on random inputs, FP32 against quantized
 * outputs (Model.compare).
 */
export function* runPart(model, set, part) {
  const path = part.kind === 'w' ? 'simulated' : 'int8';
  if (set.kind === 'digits') {
    let o;
    yield* coreSteps(core.LabJob.measureList([{ config: part.cfg, mode: path, label: part.label }]), model, set.test, ([first]) => { o = first; });
    const m = { accuracy: o.measure.score, fp32Accuracy: o.measure.fp32Score, agreement: o.measure.agreement, sqnrDb: o.measure.sqnrDb };
    if (part.kind === 'wa') return waResult(m);
    return part.kind === 'w' ? wResultOf(part.cfg.weightBits, o) : fmtResult(part.cfg.format, m, o);
  }
  const qm = model.quantize(part.cfg);
  try {
    const c = model.compare(qm, set.x, set.n, path);
    const m = { agreement: c.agreement, sqnrDb: c.logitSqnrDb };
    if (part.kind === 'wa') return waResult(m);
    const rep = model.report(qm, 4, 0);
    return part.kind === 'w' ? wResult(part.cfg.weightBits, m, rep) : fmtResult(part.cfg.format, m, rep);
  } finally {
    qm.free();
  }
}

/** A weights-only part from its measurement `m` and the quantized model's report `rep`. */
export function wResult(bits, m, rep) {
  return { bits, fp32Accuracy: m.fp32Accuracy ?? null, wAccuracy: m.accuracy ?? null, wAgreement: m.agreement, wSqnrDb: m.sqnrDb, ...sizes(rep) };
}

/** The sizes and per-layer weight SQNR of a report (Model.report). */
const sizes = (rep) => ({ bytesFp32: rep.bytesFp32, bytesInt8: rep.bytesInt8, bytesPacked: rep.bytesPacked, weightSqnrDb: rep.layers.map((l) => l.weight.sqnrDb) });

/** A weights-only part from the outcome `o` of one of the core's list jobs (LabJob.measureList). */
export const wResultOf = (bits, o) => ({
  bits, fp32Accuracy: o.measure.fp32Score, wAccuracy: o.measure.score, wAgreement: o.measure.agreement, wSqnrDb: o.measure.sqnrDb,
  bytesFp32: o.bytesFp32, bytesInt8: o.bytesInt8, bytesPacked: o.bytesPacked, weightSqnrDb: o.weightSqnrDb,
});

/** A weights + activations part from its measurement (also what the lab's evaluation gives at uniform bits). */
export const waResult = (m) => ({ waAccuracy: m.accuracy ?? null, waAgreement: m.agreement, waSqnrDb: m.sqnrDb });

/** A float-format part: its accuracy and SQNR are weights + activations ones, as waResult. */
function fmtResult(format, m, rep) {
  return { format, fp32Accuracy: m.fp32Accuracy ?? null, ...waResult(m), bytesFp32: rep.bytesFp32, bytesPacked: rep.bytesPacked };
}
