// The lab's second core: a worker that computes parts of the sweep's points (js/sweep-point.js)
// for js/lab-worker.js, on its own copy of the model, calibrated the same way (js/lab-model.js),
// so its numbers are the ones the lab worker would compute. It loads the same build as its parent.
//
// Protocol: { type: 'model', gen, bytes, ranges, dataset } (bytes null: the shipped model; ranges:
// fixed activation ranges, a kept QAT model's, or null; dataset: the user's test file the lab
// measures on, or null) -> { type: 'ready', gen },
// then { type: 'part', gen, key, part } (one part of a sweep point, from sweep-point.js parts()) ->
// { type: 'part', gen, key, part, result } or { type: 'error', gen, key, part, message }.
// { type: 'hold', on, seq }: with `on`, it stops between two steps of its part (a step is one chunk of
// digits, tens of milliseconds) until `on` is false, and says { type: 'held', seq } (the hold's) once it has
// stopped (at once when idle): the lab holds it while the user waits for an evaluation, and while
// it times. { type: 'logits', gen, key, cfg, from, n } -> { type: 'logits', gen, key, from,
// logits | error }: the quantized logits of test digits [from, from + n), the second half of the
// evaluation the lab is waiting for (answered while held). Requests of an older model generation
// are dropped.
import { loadCore, preferredBuild } from './wasm-build.js';
import { runPart, randomSet } from './sweep-point.js';
import { baselineBytes, fetchBytes, calibrate, dataInfo } from './lab-model.js';

let api = null;
let data = null;
let model = null;
let set = null;
let own = null; // the user's test file, { set }
let gen = 0;
let ready = Promise.resolve();

async function setup(m) {
  if (!api) {
    const [core, c, t] = await Promise.all([
      loadCore(preferredBuild(self.location.href)),
      fetchBytes(new URL('../data/digits-calib.bin', import.meta.url)),
      fetchBytes(new URL('../data/digits-test.bin', import.meta.url)),
    ]);
    api = core.api;
    data = { calib: api.Digits.fromBytes(c), test: api.Digits.fromBytes(t) };
  }
  model?.free();
  model = api.Model.fromSafetensors(m.bytes ? new Uint8Array(m.bytes) : await baselineBytes());
  const summary = model.summary();
  own?.set.free();
  own = m.dataset ? { set: api.Digits.fromSafetensors(new Uint8Array(m.dataset)) } : null;
  calibrate(model, summary, data.calib, own);
  if (m.ranges) model.setRanges(m.ranges);
  set = dataInfo(summary, own).digits ? { kind: 'digits', test: own?.set ?? data.test } : randomSet(summary.input);
}

/** Held by the lab: `wake` resumes the part that stopped for it. */
let held = false;
let holdSeq = 0;
let wake = null;
let working = false;

/** A macrotask with no delay (setTimeout is clamped to 4 ms when nested), so messages get through. */
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
const macrotask = () => new Promise((resolve) => {
  waiting.push(resolve);
  channel.port2.postMessage(null);
});

/** Between two steps of a part: lets 'hold' in, and waits while held. */
async function between() {
  await macrotask();
  if (!held) return;
  self.postMessage({ type: 'held', seq: holdSeq });
  await new Promise((resolve) => { wake = resolve; });
}

self.onmessage = async (e) => {
  const m = e.data;
  if (m.type === 'model') {
    gen = m.gen;
    ready = ready.then(() => setup(m));
    // Says when it holds the model (its module graph, wasm and data all loaded); a failed setup
    // is reported by the first part it is asked for.
    ready.then(() => self.postMessage({ type: 'ready', gen: m.gen }), () => {});
    return;
  }
  if (m.type === 'hold') {
    held = m.on;
    if (!held) {
      wake?.();
      wake = null;
    } else {
      holdSeq = m.seq;
      if (!working) self.postMessage({ type: 'held', seq: holdSeq });
    }
    return;
  }
  if (m.type === 'logits') {
    await helpEvaluate(m);
    return;
  }
  working = true;
  try {
    await ready;
    if (m.gen !== gen) return;
    const g = runPart(model, set, m.part);
    let r = g.next();
    while (!r.done) {
      await between();
      if (m.gen !== gen) {
        g.return(); // a new model came: this part's figures would be of the old one
        return;
      }
      r = g.next();
    }
    self.postMessage({ type: 'part', gen: m.gen, key: m.key, part: m.part, result: r.value });
  } catch (err) {
    self.postMessage({ type: 'error', gen: m.gen, key: m.key, part: m.part, message: err?.message ?? String(err) });
  } finally {
    working = false;
  }
};

/**
 * The quantized logits of test digits `[from, from + n)` under quantize config `cfg`: the second
 * half of an evaluation the lab's worker is waiting for (QuantizedModel.addEvalLogits). It runs
 * while sweep parts are held.
 */
async function helpEvaluate(m) {
  try {
    await ready;
    if (m.gen !== gen) return;
    const qm = model.quantize(m.cfg);
    try {
      const logits = qm.forward(set.test.images(model, m.from, m.n), m.n);
      self.postMessage({ type: 'logits', gen: m.gen, key: m.key, from: m.from, logits }, [logits.buffer]);
    } finally {
      qm.free();
    }
  } catch (err) {
    self.postMessage({ type: 'logits', gen: m.gen, key: m.key, from: m.from, error: err?.message ?? String(err) });
  }
}
