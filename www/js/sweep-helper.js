// The lab's second core: a worker that computes whole points of the sweep (js/sweep-point.js)
// for js/lab-worker.js, on its own copy of the model, calibrated the same way (js/lab-model.js),
// so its numbers are the ones the lab worker would compute. It loads the same build as its parent.
//
// Protocol: { type: 'model', gen, bytes, ranges, dataset } (bytes null: the shipped model; ranges:
// fixed activation ranges, a kept QAT model's, or null; dataset: the user's test file the lab
// measures on, or null) -> { type: 'ready', gen },
// then { type: 'point', gen, key, base, id } (id: a bit width or a format) ->
// { type: 'point', gen, key, id, point } or { type: 'error', gen, key, id, message }. Requests of
// an older model generation are dropped.
import { loadCore, preferredBuild } from './wasm-build.js';
import { parts, randomSet, run } from './sweep-point.js';
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

self.onmessage = async (e) => {
  const m = e.data;
  if (m.type === 'model') {
    gen = m.gen;
    ready = ready.then(() => setup(m));
    // Says when it holds the model (its module graph, wasm and data all loaded); a failed setup
    // is reported by the first point it is asked for.
    ready.then(() => self.postMessage({ type: 'ready', gen: m.gen }), () => {});
    return;
  }
  try {
    await ready;
    if (m.gen !== gen) return;
    const point = Object.assign({}, ...parts(m.id).map(([, start]) => run(start(model, set, m.base))));
    self.postMessage({ type: 'point', gen: m.gen, key: m.key, id: m.id, point });
  } catch (err) {
    self.postMessage({ type: 'error', gen: m.gen, key: m.key, id: m.id, message: err?.message ?? String(err) });
  }
};
