// Quantization-aware training through the package's JS API in Node (www/pkg, the SIMD128 build):
// the same weights to the bit as natively and in Chromium (tests/golden/qat_fingerprint.txt, the
// run of tests/common/mod.rs `qat_run`), the trained ranges carried by the tuned model, the grid
// view, the saved file, and errors that name what is wrong.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, * as q from '../../www/pkg/quantlab.js';

const file = (p) => readFile(new URL(`../../${p}`, import.meta.url));
let model;
let calib;

before(async () => {
  await init({ module_or_path: await file('www/pkg/quantlab_bg.wasm') });
  model = q.Model.fromSafetensors(await file('www/models/baseline-cnn.safetensors'));
  calib = q.Digits.fromBytes(await file('www/data/digits-calib.bin'));
});

/** FNV-1a 64 over the float32 bytes of `arrays`, as `quantlab::train::fingerprint`. */
function fnv(arrays) {
  let h = 0xcbf29ce484222325n;
  for (const a of arrays) {
    for (const b of new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) {
      h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
    }
  }
  return h.toString(16).padStart(16, '0');
}

test('a fixed run gives the committed weights, and its model quantizes with the trained ranges', async () => {
  assert.throws(() => new q.Qat(model, calib, { weightBits: 3 }, {}), /^Error: model: is not calibrated/);
  model.calibrate(calib, 64);
  const cfg = { weightBits: 3, actBits: 3 };
  assert.throws(() => new q.Qat(model, calib, cfg, { steps: 6, lr: -1 }), /^Error: options\.lr: must be in \(0, 1\]/);
  assert.throws(() => new q.Qat(model, calib, { ...cfg, method: 'dynamic' }, {}), /^Error: config\.method: is dynamic/);
  const qat = new q.Qat(model, calib, cfg, { steps: 6, batch: 8, seed: 7 });
  const p = qat.run(100);
  assert.deepEqual([p.step, p.steps, p.done], [6, 6, true]);
  const tuned = qat.model();
  const want = (await file('tests/golden/qat_fingerprint.txt')).toString().trim();
  assert.equal(fnv([0, 3, 7].flatMap((i) => [tuned.layerWeights(i), tuned.layerBias(i)])), want);
  const ranges = qat.ranges();
  assert.equal(ranges.length, 4);
  assert.ok(ranges.every(([lo, hi]) => lo <= 0 && hi > 0));
  // The tuned model's integer version uses the ranges it trained against; the observer's differ.
  const x = calib.images(tuned, 0, 8);
  const withRanges = tuned.quantize(cfg).forward(x, 8);
  tuned.setRanges(null);
  const observer = tuned.quantize(cfg).forward(x, 8);
  assert.notDeepEqual([...withRanges], [...observer]);
  tuned.setRanges(ranges);
  assert.deepEqual([...tuned.quantize(cfg).forward(x, 8)], [...withRanges]);
  assert.throws(() => tuned.setRanges([[0, 1]]), /^Error: ranges: has 1 ranges for 4 quantized tensors/);
  assert.throws(() => tuned.setRanges([[1, 0], [0, 1], [0, 1], [0, 1]]), /^Error: ranges: range 0 is \(1\.0, 0\.0\)/);
  // Where conv2's weights sit on their 3-bit grid, before and after.
  const g = qat.weightGrid(3, 8);
  assert.deepEqual([g.layer, g.name, g.qmax], [3, 'conv2', 3]);
  assert.equal(g.before.counts.length, 7 * 8);
  assert.equal(g.after.counts.reduce((a, b) => a + b), 64 * 32 * 9);
  assert.ok(g.levelsChanged > 0 && g.levelsChanged < 0.5, String(g.levelsChanged));
  assert.throws(() => qat.weightGrid(1), /^Error: layer: 1 is not a conv or linear layer/);
  // The saved file loads back with the same weights, and with the trained ranges.
  const plain = q.Model.fromSafetensors(tuned.toSafetensors('node test'));
  assert.deepEqual([...plain.layerWeights(7)], [...tuned.layerWeights(7)]);
  assert.equal(plain.savedRanges, undefined);
  const back = q.Model.fromSafetensors(tuned.toSafetensors('node test', ranges));
  assert.deepEqual(back.savedRanges, ranges);
  assert.match(back.loadNote, /activation ranges from the file/);
  back.calibrate(calib, 64);
  back.setRanges(back.savedRanges);
  assert.deepEqual([...back.quantize(cfg).forward(x, 8)], [...withRanges]);
  assert.throws(() => tuned.toSafetensors('x', [[0, 1, 2]]), /^Error: ranges: must be an array of \[min, max\] pairs/);
});
