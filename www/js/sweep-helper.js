// The lab's second core: a worker that computes whole bit widths of the sweep (js/sweep-point.js)
// for js/lab-worker.js, on its own copy of the model, calibrated on the same digits, so its
// numbers are the ones the lab worker would compute. It loads the same build as its parent.
//
// Protocol: { type: 'model', gen, bytes } (bytes null: the shipped model), then
// { type: 'point', gen, key, base, bits } -> { type: 'point', gen, key, bits, point } or
// { type: 'error', gen, key, bits, message }. Requests of an older model generation are dropped.
import { loadCore, preferredBuild } from './wasm-build.js';
import { weightsOnly, weightsAndActivations } from './sweep-point.js';

let api = null;
let data = null;
let model = null;
let gen = 0;
let ready = Promise.resolve();

async function bytes(rel) {
  const res = await fetch(new URL(rel, import.meta.url));
  if (!res.ok) throw new Error(`${rel}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function setup(m) {
  if (!api) {
    const [core, c, t] = await Promise.all([loadCore(preferredBuild(self.location.href)), bytes('../data/digits-calib.bin'), bytes('../data/digits-test.bin')]);
    api = core.api;
    data = { calib: api.Digits.fromBytes(c), test: api.Digits.fromBytes(t) };
  }
  model?.free();
  model = m.bytes ? api.Model.fromSafetensors(new Uint8Array(m.bytes)) : api.Model.baseline();
  model.calibrate(data.calib);
}

self.onmessage = async (e) => {
  const m = e.data;
  if (m.type === 'model') {
    gen = m.gen;
    ready = ready.then(() => setup(m));
    return;
  }
  try {
    await ready;
    if (m.gen !== gen) return;
    const point = { ...weightsOnly(model, data.test, m.base, m.bits), ...weightsAndActivations(model, data.test, m.base, m.bits) };
    self.postMessage({ type: 'point', gen: m.gen, key: m.key, bits: m.bits, point });
  } catch (err) {
    self.postMessage({ type: 'error', gen: m.gen, key: m.key, bits: m.bits, message: err?.message ?? String(err) });
  }
};
