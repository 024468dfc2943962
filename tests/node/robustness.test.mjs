// The JS entry points under random arguments (no call may trap: a Rust panic would surface as a
// WebAssembly.RuntimeError and poison the instance), and wasm memory under repeated work.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, * as q from '../../target/pkg-full/quantlab.js';

const root = new URL('../../', import.meta.url);
const bytes = async (p) => new Uint8Array(await readFile(new URL(p, root)));
let wasm, model, calib, testSet, goodFile;

before(async () => {
  wasm = await init({ module_or_path: await bytes('target/pkg-full/quantlab_bg.wasm') });
  model = q.Model.fromSafetensors(await bytes('www/models/baseline-cnn.safetensors'));
  calib = q.Digits.fromBytes(await bytes('www/data/digits-calib.bin'));
  testSet = q.Digits.fromBytes(await bytes('www/data/digits-test.bin'));
  goodFile = await bytes('tests/models/good/tiny.safetensors');
  model.calibrate(calib, 64);
});

// SplitMix-style generator: the same cases every run.
function rng(seed) {
  let s = BigInt(seed);
  return () => {
    s = (s + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    return Number((z ^ (z >> 31n)) & 0xffffffffn) / 4294967296;
  };
}

function junk(r, depth = 0) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  switch (Math.floor(r() * 16)) {
    case 0: return undefined;
    case 1: return null;
    case 2: return pick([0, 1, -1, 2, 8, 9, 0.5, NaN, Infinity, -Infinity, 1e30, 2 ** 31, -(2 ** 53)]);
    case 3: return pick(['', 'int8', 'uint8', 'int16', 'symmetric', 'asymmetric', 'minmax', 'entropy', 'x']);
    case 4: return new Float32Array(Math.floor(r() * 12)).map(() => pick([0, 1, -3.5, NaN, Infinity, 1e-40, 127.5]));
    case 5: return new Int32Array(Math.floor(r() * 6)).map(() => pick([0, 1, -128, 127, 300, -1, 2 ** 31 - 1]));
    case 6: return new Int8Array(Math.floor(r() * 40)).map(() => Math.floor(r() * 256) - 128);
    case 7: return new Uint8Array(Math.floor(r() * 40)).map(() => Math.floor(r() * 256));
    case 8: return depth > 1 ? {} : Array.from({ length: Math.floor(r() * 5) }, () => junk(r, depth + 1));
    case 9: {
      if (depth > 1) return {};
      const keys = ['dtype', 'axis', 'shape', 'scheme', 'bits', 'method', 'percentile', 'bins', 'channel', 'scale', 'zeroPoint',
        'weightBits', 'actBits', 'perChannel', 'actScheme', 'layerBits', 'skip', 'xShape', 'wShape', 'pads', 'aShape', 'bShape', 'nope'];
      const o = {};
      for (let i = Math.floor(r() * 4); i > 0; i--) o[pick(keys)] = junk(r, depth + 1);
      return o;
    }
    case 10: return pick([[2, 3], [1, 1, 3, 3], [0], [-1, 2], [1e9, 1e9], [4]]);
    case 11: return pick([true, false]);
    case 12: return goodFile.slice(0, Math.floor(r() * goodFile.length));
    case 13: return { scheme: pick(['symmetric', 'asymmetric']), dtype: pick(['int8', 'uint8']), bits: Math.floor(r() * 10), method: pick(['minmax', 'percentile', 'mse', 'entropy']), percentile: pick([99, 0, 150, NaN]) };
    case 14: return new Float32Array(Math.floor(r() * 3000)).map(() => r() * 4 - 2);
    default: return Math.floor(r() * 100);
  }
}

test('random arguments to every entry point throw Errors, never trap', () => {
  const qm = model.quantize({});
  const calls = [
    (a) => q.quantizeLinear(a[0], a[1], a[2], a[3]),
    (a) => q.dequantizeLinear(a[0], a[1], a[2], a[3]),
    (a) => q.chooseQuantParams(a[0], a[1]),
    (a) => q.analyzeQuantization(a[0], a[1]),
    (a) => q.qlinearConv(...a.slice(0, 10)),
    (a) => q.qlinearMatMul(...a.slice(0, 9)),
    (a) => q.softmax(a[0], a[1]),
    (a) => q.Model.fromSafetensors(a[0]).summary(),
    (a) => q.Digits.fromBytes(a[0]),
    (a) => model.forward(a[0], a[1]),
    (a) => model.quantize(a[0]),
    (a) => model.report(qm, a[0], a[1]),
    (a) => model.layerWeights(a[0]),
    (a) => model.inputFromDrawing(a[0], a[1], a[2]),
    (a) => qm.forward(a[0], a[1]),
    (a) => qm.forwardSimulated(a[0], a[1]),
    (a) => testSet.images(model, a[0], a[1]),
    (a) => testSet.pixels(a[0]),
  ];
  const r = rng(1);
  let threw = 0, returned = 0;
  const cases = Number(process.env.QUANTLAB_JS_FUZZ_CASES || 20000);
  for (let i = 0; i < cases; i++) {
    const f = calls[i % calls.length];
    const args = Array.from({ length: 10 }, () => junk(r));
    try {
      const out = f(args);
      if (out && typeof out.free === 'function') out.free();
      returned++;
    } catch (e) {
      // wasm-bindgen's own argument conversion may throw TypeError/RangeError before Rust runs;
      // anything from Rust is an Error with "subject: message". A trap is a RuntimeError.
      assert.ok(!(e instanceof WebAssembly.RuntimeError), `case ${i}: trap ${e && e.stack}`);
      assert.ok(e instanceof Error, `case ${i}: threw ${e}`);
      threw++;
    }
  }
  console.log(`js fuzz: ${cases} calls, ${returned} returned, ${threw} threw Errors, no trap`);
  // Still fully working afterwards.
  const e = model.evaluate(model.quantize({}), testSet);
  assert.ok(e.int8Accuracy > 0.97);
});

test('wasm memory stays flat: 10,000 re-quantizations and 1,000 forward passes', () => {
  const x = testSet.images(model, 0, 1);
  const cycle = (i) => {
    const qm = model.quantize({ weightBits: 2 + (i % 7), actBits: 8 - (i % 5), method: ['minmax', 'percentile', 'mse'][i % 3] });
    if (i % 10 === 0) { qm.forward(x, 1); qm.forwardSimulated(x, 1); model.forward(x, 1); }
    qm.free();
  };
  for (let i = 0; i < 500; i++) cycle(i); // warm-up: allocator pools and scratch reach their size
  const before = wasm.memory.buffer.byteLength;
  for (let i = 0; i < 10000; i++) cycle(i);
  const after = wasm.memory.buffer.byteLength;
  console.log(`memory: ${before} bytes after warm-up, ${after} after 10,000 quantizations and 1,000 forward passes of each path (+${after - before})`);
  assert.ok(after - before <= 1 << 20, `grew by ${after - before} bytes`);
});
