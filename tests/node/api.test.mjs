// Loads the package with the whole JS API (target/pkg-full, built by `make build`; the page's
// www/pkg leaves out the exports the page never calls, see docs/size.md) in Node and calls it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, * as q from '../../target/pkg-full/quantlab.js';

before(async () => {
  await init({ module_or_path: await readFile(new URL('../../target/pkg-full/quantlab_bg.wasm', import.meta.url)) });
});

test('quantizeLinear rounds half to even and saturates (int8)', () => {
  const x = new Float32Array([0.5, 1.5, 2.5, -0.5, -1.5, 1000, -1000, 0]);
  const y = q.quantizeLinear(x, new Float32Array([1]), new Int32Array([0]), { dtype: 'int8' });
  assert.ok(y instanceof Int8Array);
  assert.deepEqual([...y], [0, 2, 2, -0, -2, 127, -128, 0].map(v => v || 0));
});

test('quantizeLinear uint8 with zero point returns a Uint8Array', () => {
  const y = q.quantizeLinear(new Float32Array([-1, 0, 1, 300]), [0.5], [128], { dtype: 'uint8' });
  assert.ok(y instanceof Uint8Array);
  assert.deepEqual([...y], [126, 128, 130, 255]);
});

test('per-axis quantize and dequantize follow ONNX axis semantics', () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]);
  const y = q.quantizeLinear(x, new Float32Array([1, 2]), new Int32Array([0, 0]), { shape: [2, 3], axis: 0 });
  assert.deepEqual([...y], [1, 2, 3, 2, 2, 3]);
  const back = q.dequantizeLinear(y, new Float32Array([1, 2]), new Int32Array([0, 0]), { shape: [2, 3], axis: 0 });
  assert.ok(back instanceof Float32Array);
  assert.deepEqual([...back], [1, 2, 3, 4, 4, 6]);
});

test('dequantizeLinear accepts Int32Array biases', () => {
  const y = q.dequantizeLinear(new Int32Array([-1000, 7]), new Float32Array([0.25]), new Int32Array([0]));
  assert.deepEqual([...y], [-250, 1.75]);
});

test('chooseQuantParams gives ONNX Runtime scale and zero point', () => {
  const x = new Float32Array([-1, 0.5, 2]);
  const sym = q.chooseQuantParams(x, { scheme: 'symmetric', dtype: 'int8' });
  assert.equal(sym.scale[0], Math.fround(2 / 127));
  assert.equal(sym.zeroPoint[0], 0);
  const asym = q.chooseQuantParams(x, { scheme: 'asymmetric', dtype: 'uint8' });
  assert.equal(asym.scale[0], Math.fround(3 / 255));
  assert.equal(asym.zeroPoint[0], 85);
  const pc = q.chooseQuantParams(new Float32Array([1, -2, 4, 8]), { scheme: 'symmetric', dtype: 'int8', shape: [2, 2], axis: 0 });
  assert.equal(pc.scale.length, 2);
  assert.equal(pc.axis, 0);
});

test('analyzeQuantization reports statistics and histograms', () => {
  const x = new Float32Array(1000).map((_, i) => Math.sin(i) * 3);
  const a = q.analyzeQuantization(x, { scheme: 'symmetric', dtype: 'int8', bits: 4, bins: 32 });
  assert.equal(a.count, 1000);
  assert.equal(a.valueHistogram.counts.length, 32);
  assert.equal(a.grid.length, 15);
  assert.ok(a.sqnrDb > 15 && a.sqnrDb < 30, `sqnr ${a.sqnrDb}`);
  assert.ok(a.maxAbsError <= a.scale[0] / 2 + 1e-6);
  assert.equal(a.bytesFloat, 4000);
});

test('invalid arguments raise Errors that name the argument', () => {
  const x = new Float32Array([1, 2]);
  const cases = [
    [() => q.quantizeLinear(x, [0], [0]), /scale/],
    [() => q.quantizeLinear(x, [NaN], [0]), /scale/],
    [() => q.quantizeLinear(x, [1], [200], { dtype: 'int8' }), /zeroPoint/],
    [() => q.quantizeLinear(x, [1, 2, 3], [0, 0, 0], { shape: [2], axis: 0 }), /scale/],
    [() => q.quantizeLinear(x, [1], [0], { dtype: 'int16' }), /options.dtype/],
    [() => q.quantizeLinear(x, [1], [0], { dtyp: 'int8' }), /unknown key 'dtyp'/],
    [() => q.quantizeLinear('nope', [1], [0]), /^x:/],
    [() => q.chooseQuantParams(new Float32Array([1, NaN]), { scheme: 'symmetric', dtype: 'int8' }), /^x: contains NaN/],
    [() => q.chooseQuantParams(new Float32Array([Infinity]), { scheme: 'symmetric', dtype: 'int8' }), /^x: contains inf/],
    [() => q.chooseQuantParams(x, { scheme: 'symmetric', dtype: 'int8', bits: 9 }), /options.bits/],
    [() => q.chooseQuantParams(x, { scheme: 'sym', dtype: 'int8' }), /options.scheme/],
    [() => q.chooseQuantParams(x, { scheme: 'symmetric', dtype: 'int8', method: 'kl' }), /options.method/],
    [() => q.chooseQuantParams(x, { scheme: 'symmetric', dtype: 'int8', shape: [3] }), /options.shape/],
    [() => q.dequantizeLinear(new Float32Array([1]), [1], [0]), /^q:/],
  ];
  for (const [f, re] of cases) {
    assert.throws(f, (e) => e instanceof Error && re.test(e.message), String(f));
  }
  // The instance still works after errors (nothing panicked).
  assert.equal(q.quantizeLinear(x, [1], [0])[1], 2);
});

test('roundToFloat16 / roundToBfloat16: ties to even, overflow to infinity, subnormals; NaN to quantizeLinear names its index', () => {
  assert.deepEqual(Array.from(q.roundToFloat16(new Float32Array([1.00048828125, 65520, 65519, 1e-8, -0, 2 ** -24]))),
    [1, Infinity, 65504, 0, -0, 2 ** -24]);
  assert.deepEqual(Array.from(q.roundToBfloat16([1.00390625, 0.1, 3.4e38])), [1, 0.10009765625, Infinity]);
  assert.ok(Number.isNaN(q.roundToFloat16([NaN])[0]));
  assert.throws(() => q.quantizeLinear(new Float32Array([0.5, 1, NaN]), [1], [0]), /x: element 2 is NaN/);
  assert.deepEqual(Array.from(q.quantizeLinear(new Float32Array([Infinity, -Infinity]), [1], [0])), [127, -128]);
});

test('dynamicQuantizeLinear: parameters from the data, ties to even; an all-zero input; NaN is an Error naming its index', () => {
  const r = q.dynamicQuantizeLinear(new Float32Array([-1.25, 126.25, 0.25, 0.75, 1.25, 2.25]));
  assert.deepEqual([Array.from(r.y), r.scale, r.zeroPoint], [[0, 254, 2, 4, 4, 6], 0.5, 2]);
  const z = q.dynamicQuantizeLinear([0, 0, 0]);
  assert.deepEqual([Array.from(z.y), z.scale, z.zeroPoint], [[0, 0, 0], 1, 0]);
  assert.throws(() => q.dynamicQuantizeLinear([1, NaN]), /x: element 1 is NaN/);
});
