// Your own test images through the package's JS API (Digits.fromSafetensors): accepted wherever
// the digit sets are, with errors that name the tensor. The file is written here by hand, as
// numpy's or PyTorch's safetensors writer would.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, * as q from '../../www/pkg/quantlab.js';

const file = (p) => readFile(new URL(`../../${p}`, import.meta.url));

/** safetensors bytes: `tensors` = { name: [dtype, shape, TypedArray] }, `meta` = { key: string }. */
function safetensors(tensors, meta) {
  const header = {};
  const parts = [];
  let offset = 0;
  for (const [name, [dtype, shape, data]] of Object.entries(tensors)) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  if (meta) header.__metadata__ = meta;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

let model;
before(async () => {
  await init({ module_or_path: await file('www/pkg/quantlab_bg.wasm') });
  model = q.Model.fromSafetensors(await file('www/models/baseline-cnn.safetensors'));
});

test('the test digits as a dataset file evaluate like the digits', async () => {
  const digits = q.Digits.fromBytes(await file('www/data/digits-test.bin'));
  const n = 200;
  const x = digits.images(model, 0, n);
  const labels = BigInt64Array.from(digits.labels().slice(0, n), (l) => BigInt(l));
  const ds = q.Digits.fromSafetensors(safetensors({ images: ['F32', [n, 1, 32, 32], x], labels: ['I64', [n], labels] },
    { classes: JSON.stringify(['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']) }));
  assert.equal(ds.length, n);
  assert.deepEqual([...ds.shape], [1, 32, 32]);
  assert.equal(ds.classes[7], 'seven');
  assert.equal(ds.pixels(0).length, 32 * 32);
  model.calibrate(ds, 64);
  const qm = model.quantize({ weightBits: 8, actBits: 8 });
  const e = model.evaluate(qm, ds);
  assert.equal(e.count, n);
  assert.ok(e.fp32Accuracy > 0.97, String(e.fp32Accuracy));
  // A dataset of another shape is refused by the model that cannot take it, naming both shapes.
  const rgb = q.Digits.fromSafetensors(safetensors({ images: ['U8', [2, 3, 4, 4], new Uint8Array(96)], labels: ['U8', [2], new Uint8Array([0, 1])] }));
  assert.deepEqual([...rgb.shape], [3, 4, 4]);
  assert.throws(() => rgb.images(model, 0, 2), /holds 3×4×4 images but the model takes 1×32×32/);
});

test('bad dataset files are refused naming the tensor', () => {
  const img = ['F32', [2, 1, 2, 2], new Float32Array(8)];
  assert.throws(() => q.Digits.fromSafetensors(safetensors({ images: img })), /^Error: dataset: has no tensor 'labels'/);
  assert.throws(() => q.Digits.fromSafetensors(safetensors({ images: img, labels: ['I32', [2], new Int32Array([0, 300])] })), /^Error: labels: holds 300 at index 1/);
  assert.throws(() => q.Digits.fromSafetensors(safetensors({ images: img, labels: ['I32', [3], new Int32Array([0, 1, 2])] })), /^Error: labels: has shape \[3\]; expected \[2\]/);
  assert.throws(() => q.Digits.fromSafetensors(new Uint8Array([1, 2, 3])), /^Error: dataset: is not a valid safetensors file/);
});

test('checkFits says whether a model can be tested on a set, and the RGB model on its own colour digits', async () => {
  // Dataset.fromSafetensors is the same reader, giving the same class.
  const colour = q.Dataset.fromSafetensors(await file('tests/data/colour-digits-test.safetensors'));
  assert.ok(colour instanceof q.Digits);
  assert.deepEqual(Array.from(colour.shape), [3, 32, 32]);
  assert.equal(colour.length, 500);
  assert.equal(colour.classes[9], 'nine');
  assert.throws(() => colour.checkFits(model), { message: 'images: are 3×32×32 but the model takes 1×32×32 inputs' });
  const rgb = q.Model.fromSafetensors(await file('tests/data/rgb-cnn.safetensors'));
  colour.checkFits(rgb);
  // Its BatchNorms folded, each with the channel ranges of the conv it went into.
  const folds = rgb.folding;
  assert.deepEqual(folds.map((f) => [f.batchnorm, f.into, f.before.length, f.after.length]), [['bn1', 'conv1', 16, 16], ['bn2', 'conv2', 32, 32]]);
  assert.deepEqual(model.folding, []);
  const digits = q.Digits.fromBytes(await file('www/data/digits-calib.bin'));
  digits.checkFits(model);
  assert.throws(() => digits.checkFits(rgb), { message: 'images: are 1×28×28 digits but the model takes 3×32×32 inputs' });
  rgb.calibrate(colour, 256);
  const qm = rgb.quantize({});
  const e = rgb.evaluate(qm, colour);
  assert.equal(e.count, 500);
  assert.ok(e.fp32Accuracy >= 0.85 && e.fp32Accuracy - e.int8Accuracy <= 0.005, JSON.stringify([e.fp32Accuracy, e.int8Accuracy]));
  for (const o of [qm, rgb, colour, digits]) o.free();
});
