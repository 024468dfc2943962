// The lab's long jobs run in the core (LabJob, src/lab/jobs.rs) a bounded step at a time. Here
// the size-budget search is checked against a plain reference of the same greedy search, written
// straight through on the public API (as the lab worker ran it before it moved into the core),
// and the list job against evaluating each config on its own.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init, * as q from '../../www/pkg/quantlab.js';

const root = new URL('../../', import.meta.url);
const bytes = async (p) => new Uint8Array(await readFile(new URL(p, root)));
let model, testSet, layers;

before(async () => {
  await init({ module_or_path: await readFile(new URL('www/pkg/quantlab_bg.wasm', root)) });
  model = q.Model.fromSafetensors(await bytes('www/models/baseline-cnn.safetensors'));
  model.calibrate(q.Digits.fromBytes(await bytes('www/data/digits-calib.bin')));
  testSet = q.Digits.fromBytes(await bytes('www/data/digits-test.bin'));
  layers = model.summary().layers.filter((l) => l.kind === 'conv2d' || l.kind === 'linear').map((l) => ({ index: l.index, name: l.name }));
});

/** Drives a LabJob to its end; returns every step's progress, the last one complete. */
function drive(job) {
  const steps = [];
  for (;;) {
    const p = job.step(model, testSet);
    steps.push(p);
    if (p.complete) break;
    assert.ok(steps.length < 5000, 'the job ends');
  }
  job.free();
  return steps;
}

/** The last update of a job's steps. */
const lastUpdate = (steps) => steps.filter((p) => p.update).at(-1).update;

const WIDTHS = [8, 6, 5, 4, 3, 2];
const PREFIX = 500;

/** The greedy search, straight through: the reference the core's job must equal. */
function reference(base, budget) {
  const measure = (bits, limit) => {
    const qm = model.quantize({ ...base, layerBits: layers.map((l) => ({ layer: l.index, weightBits: bits[l.index], actBits: base.actBits })) });
    try {
      const e = model.evaluate(qm, testSet, 'int8', limit ?? undefined);
      return { bits: { ...bits }, accuracy: e.int8Accuracy, bytes: model.report(qm, 4, 0).bytesPacked };
    } finally {
      qm.free();
    }
  };
  let bits = Object.fromEntries(layers.map((l) => [l.index, WIDTHS[0]]));
  let cur = measure(bits, null);
  let curPrefix = measure(bits, PREFIX).accuracy;
  const path = [cur];
  while (cur.bytes > budget) {
    let best = null;
    for (const l of layers) {
      const i = WIDTHS.indexOf(bits[l.index]);
      if (i === WIDTHS.length - 1) continue;
      const cand = { ...bits, [l.index]: WIDTHS[i + 1] };
      const m = measure(cand, PREFIX);
      const saved = cur.bytes - m.bytes;
      if (saved <= 0) continue;
      const cost = (curPrefix - m.accuracy) / saved;
      if (!best || cost < best.cost || (cost === best.cost && saved > best.saved)) best = { cost, saved, bits: cand, prefix: m.accuracy };
    }
    if (!best) break;
    bits = best.bits;
    curPrefix = best.prefix;
    cur = measure(bits, null);
    path.push(cur);
  }
  const uniform = WIDTHS.map((b) => measure(Object.fromEntries(layers.map((l) => [l.index, b])), null));
  return { path, uniform, chosen: cur, fits: cur.bytes <= budget };
}

test('the size-budget search in the core equals the plain greedy search, step by bounded step', () => {
  const base = { weightBits: 8, actBits: 8, layerBits: [] };
  const budget = 20 * 1024;
  const steps = drive(q.LabJob.budget(base, budget, WIDTHS, PREFIX, layers));
  const last = lastUpdate(steps);
  const want = reference(base, budget);
  const plain = (x) => JSON.parse(JSON.stringify(x));
  assert.deepEqual(plain({ path: last.path, uniform: last.uniform, chosen: last.chosen, fits: last.fits }), plain(want));
  assert.ok(last.complete && last.fits && want.path.length > 3, `a search of several moves (${want.path.length})`);
  // Bounded steps: every full measurement is quantize + 8 chunks, so there are many steps, and
  // progress never goes backwards.
  assert.ok(steps.length > 100, `${steps.length} steps`);
  for (let i = 1; i < steps.length; i++) assert.ok(steps[i].done >= steps[i - 1].done);
});

test('a list job measures each config as an evaluation on its own would', () => {
  const configs = [{ weightBits: 4 }, { weightBits: 4, granularity: 'group', groupSize: 16 }, { format: 'bf16' }];
  const steps = drive(q.LabJob.measureList(configs.map((config, i) => ({ config, mode: 'int8', label: `case ${i}` }))));
  const rows = lastUpdate(steps);
  assert.equal(rows.length, configs.length);
  assert.deepEqual([...new Set(steps.map((p) => p.label))], ['case 0', 'case 1', 'case 2']);
  for (const [i, config] of configs.entries()) {
    const qm = model.quantize(config);
    const e = model.evaluate(qm, testSet, 'int8');
    assert.equal(rows[i].measure.score, e.int8Accuracy, JSON.stringify(config));
    assert.equal(rows[i].measure.sqnrDb, e.logitSqnrDb);
    assert.equal(rows[i].measure.fp32Score, e.fp32Accuracy);
    assert.equal(rows[i].bytesPacked, model.report(qm, 4, 0).bytesPacked);
    assert.equal(rows[i].deployed, qm.deployed);
    qm.free();
  }
  assert.throws(() => q.LabJob.measureList([{ config: { weightBits: 1 } }]), /asks\[0\]\.config\.weightBits/);
  assert.throws(() => q.LabJob.measureList([{ config: {}, mode: 'sideways' }]), /mode/);
});

test('the method comparison comes from the core: each method as quantizing with it would report', () => {
  const cfg = { weightBits: 8, actBits: 6, method: 'entropy' };
  const rows = q.compareMethods(model, cfg, 99.9);
  assert.deepEqual(rows.map((r) => r.method), ['minmax', 'percentile', 'mse', 'entropy']);
  for (const r of rows) {
    const qm = model.quantize({ ...cfg, method: r.method, percentile: r.method === 'percentile' ? 99.9 : undefined });
    const rep = model.report(qm, 4, 0);
    const acts = [rep.layers[0].input, ...rep.layers.map((l) => l.output)];
    assert.equal(r.tensors.length, acts.length);
    for (const [i, a] of acts.entries()) {
      for (const k of ['clipLow', 'clipHigh', 'scale', 'zeroPoint', 'roundingMse', 'clippingMse']) assert.equal(r.tensors[i][k], a[k], `${r.method} ${i} ${k}`);
    }
    qm.free();
  }
  // A bad percentile is that row's error; the others stand.
  const bad = q.compareMethods(model, cfg, 0);
  assert.match(bad[1].error, /percentile/);
  assert.ok(bad[0].tensors.length > 0);
});
