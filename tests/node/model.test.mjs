// The model API of the built package from Node: load, calibrate, quantize, evaluate, the integer
// ONNX ops against onnxruntime's golden vectors, and native == wasm int8 outputs. It loads
// target/pkg-full (the whole JS API): the page's www/pkg leaves the ONNX ops out (docs/size.md).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, * as q from '../../target/pkg-full/quantlab.js';

const root = new URL('../../', import.meta.url);
const bytes = async (p) => new Uint8Array(await readFile(new URL(p, root)));
let model, calib, testSet;

before(async () => {
  await init({ module_or_path: await bytes('target/pkg-full/quantlab_bg.wasm') });
  model = q.Model.fromSafetensors(await bytes('www/models/baseline-cnn.safetensors'));
  calib = q.Digits.fromBytes(await bytes('www/data/digits-calib.bin'));
  testSet = q.Digits.fromBytes(await bytes('www/data/digits-test.bin'));
  model.calibrate(calib);
});

test('the baseline model has the course module layers', () => {
  const s = model.summary();
  assert.deepEqual(s.input, [1, 32, 32]);
  assert.deepEqual(s.layers.map((l) => l.kind), ['conv2d', 'relu', 'maxpool2d', 'conv2d', 'relu', 'maxpool2d', 'flatten', 'linear']);
  assert.equal(s.params, 41866);
  assert.equal(testSet.length, 2000);
  assert.equal(calib.length, 512);
});

/** FNV-1a 64 of int8 values as bytes, hex (as tests/common/mod.rs computes it natively). */
function fnv1a64(v) {
  let h = 0xcbf29ce484222325n;
  for (const b of v) h = ((h ^ BigInt(b & 0xff)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

test('true INT8 logits equal the native build bit for bit, on every int8 kernel entry and all test digits', async () => {
  const snap = JSON.parse(await readFile(new URL('tests/golden/int8_baseline.json', root), 'utf8'));
  const qm = model.quantize({ weightBits: 8, actBits: 8, perChannel: true, method: 'minmax' });
  const x = testSet.images(model, 0, testSet.length);
  try {
    for (const k of q.kernelInfo().int8.available) {
      q.useKernels({ int8: k });
      const got = qm.forwardInt8(x, testSet.length);
      assert.deepEqual([...got.slice(0, snap.int8.length)], snap.int8, k);
      assert.equal(fnv1a64(got), snap.all.fnv1a64, `${k} on all ${snap.all.images} digits`);
    }
  } finally {
    q.useKernels({ int8: 'auto' });
  }
});

test('evaluation: accuracy, agreement and flipped digits', () => {
  const qm = model.quantize({ weightBits: 8, actBits: 8, perChannel: true, method: 'minmax' });
  const e = model.evaluate(qm, testSet);
  assert.equal(e.count, 2000);
  assert.ok(e.fp32Accuracy >= 0.98, `fp32 ${e.fp32Accuracy}`);
  assert.ok(e.int8Accuracy >= e.fp32Accuracy - 0.003, `int8 ${e.int8Accuracy}`);
  assert.ok(e.agreement >= 0.995, `agreement ${e.agreement}`);
  assert.equal(e.flipped.length, Math.round((1 - e.agreement) * 2000));
  // 2-bit weights and activations break the model: the page must show that, not hide it.
  const q2 = model.quantize({ weightBits: 2, actBits: 2 });
  assert.ok(model.evaluate(q2, testSet).int8Accuracy < e.int8Accuracy);
});

test('simulated INT8 stays close to FP32; all three paths give logits', () => {
  const qm = model.quantize({});
  const x = testSet.images(model, 0, 8);
  const f = model.forward(x, 8), s = qm.forwardSimulated(x, 8), t = qm.forward(x, 8);
  assert.equal(f.length, 80); assert.equal(s.length, 80); assert.equal(t.length, 80);
  const maxDiff = Math.max(...f.map((v, i) => Math.abs(v - s[i])));
  assert.ok(maxDiff < 0.5, `simulated differs by ${maxDiff}`);
});

test('report: bytes count int8 weights, scales and int32 biases, no float copy', () => {
  const qm = model.quantize({ perChannel: true });
  const r = model.report(qm, 32);
  assert.equal(r.layers.length, 3);
  const conv2 = r.layers[1];
  assert.equal(conv2.bytesFp32, 4 * (64 * 288 + 64));
  assert.equal(conv2.bytesInt8, 64 * 288 + 64 * 5 + 64 * 4);
  assert.ok(r.compression > 3.8 && r.compression < 4, `compression ${r.compression}`);
  assert.equal(conv2.weight.valueHistogram.counts.length, 32);
  assert.ok(conv2.output.zeroPoint === -128, 'post-ReLU output is calibrated on [0, max], so z = qmin');
});

test('qlinearConv and qlinearMatMul match onnxruntime through the JS API', async () => {
  const g = JSON.parse(await readFile(new URL('tests/golden/qlinear.json', root), 'utf8'));
  const f32 = (bits) => new Float32Array(new Uint32Array(bits).buffer);
  const arr = (dt, v) => (dt === 'uint8' ? Uint8Array : Int8Array).from(v);
  for (const c of g.qlinearconv) {
    const out = q.qlinearConv(arr(c.x_dtype, c.x), f32(c.x_scale_bits), [c.x_zero_point], Int8Array.from(c.w),
      f32(c.w_scale_bits), c.w_zero_point, f32(c.y_scale_bits), [c.y_zero_point], Int32Array.from(c.bias),
      { xShape: c.x_shape, wShape: c.w_shape, pads: c.pads[0] });
    assert.deepEqual([...out.acc], c.acc, c.name);
    assert.deepEqual([...out.y], c.y, c.name);
  }
  for (const c of g.qlinearmatmul) {
    const out = q.qlinearMatMul(arr(c.a_dtype, c.a), f32(c.a_scale_bits), [c.a_zero_point], Int8Array.from(c.b),
      f32(c.b_scale_bits), c.b_zero_point, f32(c.y_scale_bits), [c.y_zero_point], { aShape: c.a_shape, bShape: c.b_shape });
    assert.deepEqual([...out.y], c.y, c.name);
  }
});

test('bad model input is an Error, and the module keeps working', () => {
  assert.throws(() => q.Model.fromSafetensors(new Uint8Array([1, 2, 3])), /file: is 3 bytes/);
  assert.throws(() => model.forward(new Float32Array(10), 1), /^Error: x: has 10 values/);
  assert.throws(() => model.quantize({ weightBits: 9 }), /config.weightBits/);
  assert.throws(() => model.quantize({ method: 'nope' }), /config.method/);
  // The core reads the config (serde): unknown keys and wrong types are refused, naming the key.
  assert.throws(() => model.quantize({ weigthBits: 4 }), /config.*unknown field `weigthBits`/);
  assert.throws(() => model.quantize({ layerBits: [{ layer: 3, weightBits: 9 }] }), /config.layerBits\[0\].weightBits: must be an integer from 2 to 8, found 9/);
  assert.throws(() => model.quantize({ equalize: 'yes' }), /config.equalize: invalid type/);
  assert.deepEqual(q.configOptions().formats, ['int', 'fp16', 'bf16']);
  assert.equal(q.configKey({ actBits: 4 }, 'weights'), q.configKey({}, 'weights'));
  assert.notEqual(q.configKey({ actBits: 4 }, 'eval'), q.configKey({}, 'eval'));
  assert.throws(() => q.configKey({}, 'everything'), /kind: unknown result kind/);
  assert.throws(() => q.Digits.fromBytes(new Uint8Array(20)), /digits:/);
  assert.throws(() => q.qlinearConv(new Int8Array(4), [1], [0], new Int8Array(9), [1], [0], [1], [0], null, { xShape: [1, 1, 2, 2], wShape: [1, 1, 3, 3] }), /w.shape/);
  assert.equal(model.forward(testSet.images(model, 0, 1), 1).length, 10);
});

test('weights-only (simulated) evaluation, per-layer skip, logit SQNR', () => {
  const q4 = model.quantize({ weightBits: 4, actBits: 8 });
  const sim = model.evaluate(q4, testSet, 'simulated');
  const int8 = model.evaluate(q4, testSet, 'int8');
  assert.ok(sim.logitSqnrDb > 5 && int8.logitSqnrDb > 5, `${sim.logitSqnrDb} ${int8.logitSqnrDb}`);
  // Quantizing only the fc layer at 2 bits (others float) hurts less than all layers at 2 bits.
  const onlyFc = model.quantize({ weightBits: 2, skip: [0, 3] });
  const all2 = model.quantize({ weightBits: 2 });
  assert.ok(model.evaluate(onlyFc, testSet, 'simulated').int8Accuracy >= model.evaluate(all2, testSet, 'simulated').int8Accuracy);
  assert.throws(() => model.evaluate(q4, testSet, 'fast'), /mode/);
  assert.throws(() => model.quantize({ skip: [1] }), /config.skip/);
});

test('a drawing is preprocessed like MNIST and classified', () => {
  // A thick vertical bar, drawn off-centre on a 200x200 canvas: a "1".
  const w = 200, h = 200, ink = new Float32Array(w * h);
  for (let y = 20; y < 120; y++) for (let x = 30; x < 42; x++) ink[y * w + x] = 1;
  const x = model.inputFromDrawing(ink, w, h);
  assert.equal(x.length, 1024);
  // Centred: the ink's centre of mass lies near the middle of the 32x32 canvas.
  let m = 0, cx = 0;
  x.forEach((v, i) => { m += v; cx += v * (i % 32); });
  assert.ok(Math.abs(cx / m - 16) < 1.5, `centre ${cx / m}`);
  const p = q.softmax(model.forward(x, 1), 10);
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  assert.equal(p.indexOf(Math.max(...p)), 1);
  assert.throws(() => model.inputFromDrawing(new Float32Array(5), 2, 2), /drawing/);
});
