// The kernel table from JS (SIMD128 build in Node: Node 20 computes relaxed SIMD wrongly, so
// the relaxed build's entries are tested in Chromium by tests/kernels.rs and e2e/timing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, * as q from '../../www/pkg/quantlab.js';

await init({ module_or_path: await readFile(new URL('../../www/pkg/quantlab_bg.wasm', import.meta.url)) });

test('kernelInfo names the build, the probe and the table entries', () => {
  const k = q.kernelInfo();
  assert.equal(k.build, 'simd128');
  assert.equal(k.probe.dot, 'none');
  assert.deepEqual(k.int8.available, ['dot16', 'portable']);
  assert.deepEqual(k.fp32.available, ['muladd', 'portable']);
  assert.equal(k.int8.chosen, 'dot16');
  assert.equal(k.fp32.chosen, 'muladd');
  const usdot = k.int8.entries.find((e) => e.name === 'usdot');
  assert.deepEqual([usdot.compiled, usdot.usable, usdot.macsPerInstruction], [false, false, 16]);
  // Only usdot7 has a weight limit (its int16 pair sums), and it names the entry wider weights run.
  const limits = Object.fromEntries(k.int8.entries.map((e) => [e.name, [e.weightLimit, e.fallback]]));
  assert.deepEqual(limits, { usdot: [null, null], usdot7: [64, 'dot16'], split: [null, null], dot16: [null, null], portable: [null, null] });
  assert.ok(k.fp32.entries.every((e) => e.weightLimit === null && e.fallback === null));
});

test('useKernels switches entries, refuses unknown and unavailable ones, and every int8 entry agrees', async () => {
  const model = q.Model.fromSafetensors(await readFile(new URL('../../www/models/baseline-cnn.safetensors', import.meta.url)));
  const digits = q.Digits.fromBytes(await readFile(new URL('../../www/data/digits-test.bin', import.meta.url)));
  model.calibrate(digits, 64);
  const qm = model.quantize({});
  const x = digits.images(model, 0, 40);
  const got = {};
  for (const k of ['dot16', 'portable']) {
    assert.equal(q.useKernels({ int8: k }).int8.chosen, k);
    got[k] = Array.from(qm.forwardInt8(x, 40));
    assert.equal(qm.kernel, k);
  }
  assert.deepEqual(got.dot16, got.portable);
  const f = {};
  for (const k of ['muladd', 'portable']) {
    q.useKernels({ fp32: k });
    f[k] = Array.from(model.forward(x, 40));
  }
  f.muladd.forEach((v, i) => assert.ok(Math.abs(v - f.portable[i]) < 1e-3 * (1 + Math.abs(v)), `logit ${i}`));
  assert.throws(() => q.useKernels({ int8: 'nope' }), /kernels\.int8: unknown kernel 'nope'/);
  assert.throws(() => q.useKernels({ int8: 'usdot' }), /'usdot' is not in the simd128 build; available here: 'dot16', 'portable'/);
  assert.throws(() => q.useKernels({ fp32: 'madd' }), /kernels\.fp32: 'madd' is not in the simd128 build/);
  assert.throws(() => q.useKernels({ int9: 'dot16' }), /int9/);
  assert.equal(q.useKernels({ int8: 'auto', fp32: 'auto' }).int8.chosen, 'dot16');
});

test('timeForward times inside the module and checks its arguments', async () => {
  const model = q.Model.fromSafetensors(await readFile(new URL('../../www/models/baseline-cnn.safetensors', import.meta.url)));
  const digits = q.Digits.fromBytes(await readFile(new URL('../../www/data/digits-test.bin', import.meta.url)));
  model.calibrate(digits, 32);
  const qm = model.quantize({});
  const x = digits.images(model, 0, 4);
  const t = qm.timeForward(x, 4, 5, 2, 3);
  assert.equal(t.path, 'int8');
  assert.equal(t.kernel, 'gemm_int8_dot16');
  assert.equal(t.samplesMs.length, 5);
  assert.ok(t.p10Ms <= t.medianMs && t.medianMs <= t.p90Ms && t.gmacPerS > 0);
  assert.deepEqual(t.steps.map((s) => s.name), ['quantize input', 'conv1', 'maxpool', 'conv2', 'maxpool', 'flatten', 'fc', 'dequantize output']);
  const f = model.timeForward(x, 4, 3, 1, 2);
  assert.equal(f.kernel, 'gemm_f32_muladd');
  assert.equal(qm.timeForward(x, 4, 3, 1, 0, 'simulated').path, 'simulated');
  assert.throws(() => qm.timeForward(x, 4, 0, 1), /samples: must be from 1 to 10000/);
  assert.throws(() => model.timeForward(x, 5, 3, 1), /x: has 4096 values but 5 images/);
  assert.throws(() => qm.timeForward(x, 4, 3, 1, 0, 'fast'), /mode/);
  const peaks = q.peakThroughput(1000);
  assert.deepEqual(peaks.map((p) => p.name), ['f32 mul+add', 'int8 dot16']);
  assert.throws(() => q.peakThroughput(0), /iterations/);
});
