// What the lab's two workers rely on to share work (js/lab-worker.js, js/sweep-helper.js): the
// sweep keeps a part's result under only the settings it depends on (sweep-point.js partKey), and
// the helper's half of an evaluation, computed on its own copy of the model, is the lab worker's.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, * as q from '../../www/pkg/quantlab.js';
import { parts, partKey, runPart, run } from '../../www/js/sweep-point.js';
import { setCore } from '../../www/js/core.js';

const root = new URL('../../', import.meta.url);
const bytes = async (p) => new Uint8Array(await readFile(new URL(p, root)));
let modelBytes, calib, testSet;

/** A model loaded and calibrated as both lab workers do it (their own copies). */
function copy() {
  const m = q.Model.fromSafetensors(modelBytes);
  m.calibrate(calib);
  return m;
}

before(async () => {
  await init({ module_or_path: await readFile(new URL('www/pkg/quantlab_bg.wasm', root)) });
  setCore(q);
  modelBytes = await bytes('www/models/baseline-cnn.safetensors');
  calib = q.Digits.fromBytes(await bytes('www/data/digits-calib.bin'));
  testSet = q.Digits.fromBytes(await bytes('www/data/digits-test.bin'));
});

const base = { weightBits: 8, actBits: 8, granularity: 'channel', method: 'minmax', actScheme: 'asymmetric', rounding: 'nearest', equalize: false, biasCorrection: false, layerBits: [] };
const set = () => ({ kind: 'digits', test: testSet });

test('a part is kept under the settings it depends on: weights-only and float-format parts ignore the others', () => {
  const model = copy();
  const partOf = (cfg, kind) => parts(kind === 'fmt' ? 'fp16' : 4, cfg).find((p) => p.kind === kind);
  // Settings a weights-only part (float activations) and a float format (rounds the float
  // weights and activations) do not depend on: their results are the same, and so are the keys.
  const activation = [{ method: 'mse' }, { method: 'entropy' }, { method: 'dynamic' }, { actScheme: 'symmetric' }, { actBits: 3 }];
  const grid = [{ granularity: 'tensor' }, { rounding: 'gptq' }, { biasCorrection: true }, { weightBits: 3 }, ...activation];
  for (const [kind, others] of [['w', activation], ['fmt', grid]]) {
    const ref = partOf(base, kind);
    const want = run(runPart(model, set(), ref));
    for (const o of others) {
      const p = partOf({ ...base, ...o }, kind);
      assert.equal(p.key, ref.key, `${kind} key with ${JSON.stringify(o)}`);
      assert.deepEqual(run(runPart(model, set(), p)), want, `${kind} part with ${JSON.stringify(o)}`);
    }
  }
  // And the settings they do depend on change the key.
  assert.notEqual(partOf({ ...base, granularity: 'tensor' }, 'w').key, partOf(base, 'w').key);
  assert.notEqual(partOf({ ...base, equalize: true }, 'fmt').key, partOf(base, 'fmt').key);
  assert.notEqual(partOf({ ...base, method: 'mse' }, 'wa').key, partOf(base, 'wa').key);
  // Key order and empty lists do not matter; a layer left out does.
  assert.equal(partKey('wa', { ...base }), partKey('wa', Object.fromEntries(Object.entries(base).reverse())));
  assert.equal(partKey('w', { ...base, skip: [] }), partKey('w', base));
  assert.notEqual(partKey('w', { ...base, skip: [1] }), partKey('w', base));
  // A config the core refuses still gets a key of its own (its job then reports the error).
  assert.match(partKey('w', { ...base, weightBits: 12 }), /refused:weights:.*config.weightBits/);
  model.free();
});

test('the lab evaluation at uniform bits is the sweep\'s weights + activations part at those bits', () => {
  const model = copy();
  const p = parts(6, base).find((x) => x.kind === 'wa');
  const qm = model.quantize(p.cfg);
  const e = model.evaluate(qm, testSet, 'int8');
  assert.deepEqual(run(runPart(model, set(), p)), { waAccuracy: e.int8Accuracy, waAgreement: e.agreement, waSqnrDb: e.logitSqnrDb });
  qm.free();
  model.free();
});

test('addEvalLogits: half an evaluation from another copy of the model gives the whole one, and a misplaced half is refused', () => {
  const [a, b] = [copy(), copy()];
  const n = testSet.length;
  for (const cfg of [base, { ...base, weightBits: 6, actBits: 6 }, { ...base, rounding: 'gptq', equalize: true }]) {
    const whole = a.quantize(cfg);
    const want = a.evaluate(whole, testSet, 'int8');
    const [mine, theirs] = [a.quantize(cfg), b.quantize(cfg)];
    a.evaluate(mine, testSet, 'int8', 1000);
    const half = theirs.forward(testSet.images(b, 1000, n - 1000), n - 1000);
    assert.equal(mine.addEvalLogits(testSet, 'int8', 1000, half), n);
    const got = a.evaluate(mine, testSet, 'int8');
    for (const k of ['count', 'fp32Accuracy', 'int8Accuracy', 'agreement', 'logitSqnrDb']) assert.equal(got[k], want[k], `${k} (${JSON.stringify(cfg)})`);
    assert.deepEqual(Array.from(got.int8Pred), Array.from(want.int8Pred));
    // Refused: not right after what is evaluated, or more rows than digits, or a partial row.
    assert.throws(() => mine.addEvalLogits(testSet, 'int8', 1000, half), /from: is 1000, but 2000 digits are evaluated/);
    const fresh = a.quantize(cfg);
    assert.throws(() => fresh.addEvalLogits(testSet, 'int8', 0, new Float32Array((n + 1) * 10)), /logits: has 2001 rows, beyond the 2000 digits/);
    assert.throws(() => fresh.addEvalLogits(testSet, 'int8', 0, new Float32Array(15)), /not a whole number of 10-logit rows/);
    assert.throws(() => fresh.addEvalLogits(testSet, 'sideways', 0, new Float32Array(10)), /mode/);
    for (const m of [whole, mine, theirs, fresh]) m.free();
  }
  a.free();
  b.free();
});
