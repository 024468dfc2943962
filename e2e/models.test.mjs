// Bring your own model, through the page in headless Chromium: a PyTorch nn.Sequential file
// without a layer list (the page says what it inferred and runs the full lab on the test digits),
// a 1×8×8 model dropped on the lab (weight views, timing, and a sweep on seeded random inputs:
// agreement and logit SQNR of both paths from model.compare, weight SQNR; the page says why
// accuracy is unavailable), every bad file of tests/models/manifest.json (the alert names
// the file and the problem; the previous model, its views and every setting stay), and back to the
// shipped model. No request is made after the page has loaded (a user's file never leaves the
// browser), nothing goes off 127.0.0.1, no console errors. Screenshots go to e2e/screenshots/.
//
// Run: node --test e2e/models.test.mjs    (needs www/pkg built and www/vendor copied)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setup, guardedPage, labSettled, labEval, sweepTable, timingShown, num, here, shotsDir } from './support.mjs';

const modelsDir = path.resolve(here, '..', 'tests', 'models');
const manifest = JSON.parse(await readFile(path.join(modelsDir, 'manifest.json'), 'utf8'));
const fileBytes = (rel) => readFile(path.join(modelsDir, rel));

const env = setup();

/** Opens the lab at `viewport`; collects problems and every request (page and worker). */
async function openPage(viewport) {
  const problems = [];
  const requests = [];
  const { context, page } = await guardedPage(env.browser, problems, {
    viewport, requests,
    // Headless Chromium re-requests the favicon when the URL hash changes; that is not a file leaving the page.
    ignoreRequest: (url) => url.endsWith('/favicon.svg'),
  });
  await page.goto(`${env.base}#lab`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
  await page.waitForSelector('#lab[data-ready="true"]', { timeout: 60000 });
  await settled(page, ['report', 'eval']);
  // Started means everything start-up fetches has been fetched: the service worker's precache
  // (it installs while the lab starts, and its last files can come after the lab has settled),
  // and the sweep's helper worker (on two or more cores) with its own modules, wasm and digits.
  await page.waitForSelector('html[data-offline="ready"]', { state: 'attached', timeout: 60000 });
  // (The debug mirror: whether the helper worker has started shows nowhere on the page.)
  await page.waitForFunction(() => window.__quantlab.lab.helperReady || navigator.hardwareConcurrency < 2, null, { timeout: 60000 });
  return { context, page, problems, requests };
}

// The debug mirror only for what no element shows: the redraw counter, how many model files have
// loaded, which drawing the prediction is of, and a sweep point's INT8 size before packing.
const lab = (page, expr) => page.evaluate(`(() => { const l = window.__quantlab.lab; return ${expr}; })()`);
const text = (page, sel) => page.locator(sel).innerText();

/** Waits until no model file is loading (the model panel's aria-busy) and the views show the current settings. */
async function settled(page, views, timeout = 60000) {
  await page.waitForFunction(() => document.getElementById('lab-model').getAttribute('aria-busy') !== 'true', null, { timeout });
  await labSettled(page, views, timeout);
}

/** Bytes from the page's size text ("96 B", "1.23 KiB"). */
const bytesOf = (t) => num(t) * (/KiB/.test(t) ? 1024 : 1);

async function setRange(page, id, value) {
  const n = await lab(page, 'l.redraws');
  await page.locator(`#${id}`).evaluate((e, v) => { e.value = v; e.dispatchEvent(new Event('input', { bubbles: true })); }, String(value));
  await page.waitForFunction((before) => window.__quantlab.lab.redraws > before, n);
}

/** Chooses `rel` (a file of tests/models) in the file picker, as a user would. */
async function pick(page, rel) {
  await page.setInputFiles('#lab-model-file', { name: path.basename(rel), mimeType: 'application/octet-stream', buffer: await fileBytes(rel) });
}

/** Drops `rels` (files of tests/models) on the lab section: dragenter, dragover and drop with a DataTransfer holding them. */
async function drop(page, ...rels) {
  const files = await Promise.all(rels.map(async (rel) => ({ name: path.basename(rel), bytes: [...await fileBytes(rel)] })));
  await page.evaluate((fs) => {
    const dt = new DataTransfer();
    for (const { name, bytes: b } of fs) dt.items.add(new File([new Uint8Array(b)], name, { type: 'application/octet-stream' }));
    const target = document.getElementById('lab-fig-overview');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, files);
}

/**
 * A .safetensors file built here: a 1×28×28 model (conv 4×3×3 → ReLU → pool → flatten → linear
 * 676→10) with seeded weights. Not trained, but it takes the digits, so it gets the full lab.
 */
function model28() {
  let seed = 12345;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 - 0.5; };
  const tensors = { 'conv.weight': [4, 1, 3, 3], 'conv.bias': [4], 'fc.weight': [10, 676], 'fc.bias': [10] };
  const header = {};
  const parts = [];
  let offset = 0;
  for (const [name, shape] of Object.entries(tensors)) {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 0.2);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    parts.push(Buffer.from(data.buffer));
    offset += data.byteLength;
  }
  header.__metadata__ = {
    layers: JSON.stringify([{ type: 'conv2d', name: 'conv', padding: 0 }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 },
      { type: 'flatten' }, { type: 'linear', name: 'fc' }]),
    input: '[1,28,28]',
  };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...parts]);
}

async function loaded(page, n) {
  await page.waitForFunction((k) => window.__quantlab.lab.modelFile.loads >= k, n, { timeout: 60000 });
  await settled(page, ['report', 'eval']);
}

/** What must not change when a file is refused: the model, its views and the settings. */
const keptState = (page) => page.evaluate(() => {
  const t = (id) => document.getElementById(id).innerText;
  const label = (id) => document.getElementById(id).getAttribute('aria-label');
  return {
    model: t('lab-model-name') + t('lab-model-desc'),
    overview: t('lab-overview'),
    layers: [...document.querySelectorAll('#lab-layer option')].map((o) => o.textContent).join('|'),
    form: [...document.querySelectorAll('#lab-controls input, #lab-controls select')].map((e) => `${e.id}=${e.value}`).join('&'),
    weights: [t('lab-weights-scope'), t('lab-weight-grid'), t('lab-wstats-list'), label('lab-chart-weights'), label('lab-chart-werrors')].join(' | '),
    keystats: t('lab-k-fp32') + t('lab-k-int8') + t('lab-k-size'),
    // The views the worker fills for the settings: nothing new arrives for a refused file. (Not
    // the sweep and the sensitivity, which may still be adding their points meanwhile.)
    worker: [t('lab-act-table'), t('lab-methods'), t('lab-acc-stats'), t('lab-timing')].join(' | '),
  };
});

test('models: a PyTorch file with inferred layers, a 1×8×8 model by drag and drop, every bad file, back to the shipped model', async () => {
  const { context, page, problems, requests } = await openPage({ width: 1280, height: 800 });
  try {
    assert.equal(await text(page, '#lab-model-name'), 'the shipped CNN');
    assert.equal(await page.locator('#lab-model-reset').isVisible(), false);
    // A setting chosen before loading: 6-bit weights, symmetric activations.
    await setRange(page, 'lab-wbits', 6);
    await page.selectOption('#lab-scheme', 'symmetric');
    await settled(page, ['report', 'eval']);
    const requestsAfterStart = requests.length;

    // 1. nn.Sequential state_dict without metadata: layers inferred, full lab on the digits.
    const t0 = Date.now();
    await pick(page, 'good/sequential.safetensors');
    await loaded(page, 1);
    console.log(`models: sequential.safetensors loaded, calibrated and evaluated in ${Date.now() - t0} ms`);
    assert.equal(await text(page, '#lab-model-alert'), '');
    assert.equal(await text(page, '#lab-model-name'), 'sequential.safetensors');
    assert.match(await text(page, '#lab-model-desc'), /input 1×32×32, 8 layers \(3 quantized\), 41,866 parameters/);
    assert.equal(await page.locator('#lab-model-note').isVisible(), true);
    assert.match(await text(page, '#lab-model-note'), /inferred from tensor names and shapes/);
    assert.match(await text(page, '#lab-model-note'), /0 \(conv, padding 0\) → relu → maxpool → 3/);
    assert.equal(await page.locator('#lab-model-reset').isVisible(), true);
    assert.deepEqual(await page.locator('#lab-layer option').allTextContents(), ['0 (conv)', '3 (conv)', '7 (linear)']);
    assert.equal(await page.locator('#lab-wbits').inputValue(), '6', 'the chosen weight bits stay');
    assert.equal(await page.locator('#lab-scheme').inputValue(), 'symmetric', 'the chosen scheme stays');
    const ev = await labEval(page);
    console.log(`models: sequential FP32 ${ev.text.fp32}, INT8 (6-bit weights) ${ev.text.int8}, agreement ${ev.text.agree}`);
    assert.ok(ev.fp32 > 98 && ev.fp32 < 99, `fp32 ${ev.text.fp32}`);
    assert.ok(ev.int8 > 97, `int8 ${ev.text.int8}`);
    assert.match(await text(page, '#lab-k-fp32'), /^98\.\d %$/);
    assert.match(await text(page, '#lab-k-int8'), /^9\d\.\d %$/);
    assert.equal(await page.locator('#lab-weight-grid').getAttribute('data-grid-points'), '63', '6-bit symmetric weight grid');
    assert.match(await text(page, '#lab-weights-scope'), /^3 \(conv\)/);
    assert.equal(await page.locator('#lab-overview tbody tr[data-layer]').count(), 3);
    assert.equal(await page.locator('#lab-fig-draw .draw-layout').isVisible(), true);
    assert.equal(await page.locator('.nodigits-note').count(), 0);
    assert.match(await text(page, '#lab .lede'), /Your model, sequential\.safetensors/);
    // Drawing works on it too (the full lab).
    await page.locator('#lab-fig-draw').scrollIntoViewIfNeeded();
    const box = await page.locator('#lab-draw').boundingBox();
    await page.mouse.move(box.x + box.width * 0.53, box.y + box.height * 0.14);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.51, box.y + box.height * 0.87, { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction(() => {
      const l = window.__quantlab.lab;
      return l.predict && l.predict.id === l.drawId && !l.drawBusy;
    });
    console.log(`models: a "1" drawn for sequential.safetensors: FP32 says ${await text(page, '#lab-draw-fp32')}, INT8 says ${await text(page, '#lab-draw-int8')}`);
    assert.match(await text(page, '#lab-draw-fp32'), /^\d$/);
    await page.evaluate(() => document.getElementById('lab').scrollIntoView());
    await page.screenshot({ path: path.join(shotsDir, 'model-sequential-1280x800.png') });

    // 2. A 1×8×8 model with 3 outputs, dropped on the lab.
    await drop(page, 'good/tiny.safetensors');
    await loaded(page, 2);
    assert.equal(await text(page, '#lab-model-alert'), '');
    assert.equal(await text(page, '#lab-model-name'), 'tiny.safetensors');
    assert.equal(await page.locator('#lab-model-note').isVisible(), false, 'the file had a layer list: nothing inferred');
    assert.match(await text(page, '#lab-model-desc'), /input 1×8×8, 5 layers \(2 quantized\), 119 parameters/);
    assert.deepEqual(await page.locator('#lab-layer option').allTextContents(), ['conv', 'fc']);
    assert.equal(await page.locator('#lab-wbits').inputValue(), '6');
    assert.equal(await text(page, '#lab-k-fp32'), '–');
    const why = await text(page, '#lab-fig-accuracy .nodigits-note');
    assert.match(why, /Accuracy is not available: this model takes 1×8×8 inputs and gives 3 outputs/);
    assert.match(why, /1×28×28 or 1×32×32/);
    assert.match(await text(page, '#lab-fig-sens .nodigits-note'), /not available/);
    assert.equal(await page.locator('#lab-fig-draw .draw-layout').isVisible(), false);
    assert.equal(await text(page, '#lab-k-fp32-sub'), 'needs test digits');
    // Weight views: the page's wasm has the same model as the worker.
    assert.equal(await page.locator('#lab-layer').inputValue(), '4', 'fc, the second quantized layer');
    assert.match(await text(page, '#lab-weights-scope'), /^fc, /);
    assert.equal(await page.locator('#lab-weight-grid').getAttribute('data-grid-points'), '63');
    assert.match(await text(page, '#lab-wstats-list'), /Weights\s*96/);
    await setRange(page, 'lab-wbits', 3);
    assert.equal(await page.locator('#lab-weight-grid').getAttribute('data-grid-points'), '7');
    await settled(page, ['report', 'eval']);
    assert.match(await page.locator('#lab-overview tr[data-layer="4"] .bits').innerText(), /^3 \/ 8$/);
    assert.ok((await page.locator('#lab-act-table tbody tr').count()) === 3, 'input and two layer outputs');
    // The sweep on random inputs: 7 points; agreement and logit SQNR for weights only and
    // weights + activations (model.compare in the worker), each layer's weight SQNR, packed size.
    await settled(page, ['sweep']);
    // The sweep table on random inputs, labelled so: bits, agreement weights only and weights +
    // act., logit SQNR of both, each layer's weight SQNR, packed size, vs FP32.
    assert.equal(await page.locator('#lab-sweep-inputs').isVisible(), true);
    assert.match(await text(page, '#lab-sweep-inputs'), /^On 64 seeded random inputs/, '64 seeded random inputs');
    const sweep = await sweepTable(page);
    assert.deepEqual(sweep.head, ['Bits', 'Agreement weights only', 'Agreement weights + act.', 'Logit SQNR weights only', 'Logit SQNR weights + act.',
      'conv weight SQNR', 'fc weight SQNR', 'Size packed', 'vs FP32']);
    assert.equal(sweep.complete, true);
    assert.deepEqual(sweep.points.map((p) => p.bits), [8, 7, 6, 5, 4, 3, 2]);
    const pt = (p) => ({ bits: p.bits, wAgree: num(p.cells[1]), waAgree: num(p.cells[2]), wSqnr: num(p.cells[3]), waSqnr: num(p.cells[4]), layerSqnr: [num(p.cells[5]), num(p.cells[6])], bytes: bytesOf(p.cells[7]), cells: p.cells });
    const points = sweep.points.map(pt);
    const at = (b) => points.find((p) => p.bits === b);
    const int8Bytes = await lab(page, 'Object.fromEntries(l.sweep.points.map((p) => [p.bits, p.bytesInt8]))');
    for (const p of points) {
      for (const k of ['wSqnr', 'waSqnr']) assert.ok(Number.isFinite(p[k]), `${p.bits} bits: ${k} = ${p.cells.join(', ')}`);
      for (const k of ['wAgree', 'waAgree']) assert.ok(p[k] >= 0 && p[k] <= 100, `${p.bits} bits: ${k} = ${p[k]}`);
      assert.ok(p.bytes > 0 && p.bytes <= int8Bytes[p.bits], `${p.bits} bits: packed ${p.cells[7]} of ${int8Bytes[p.bits]} B`);
    }
    assert.ok(at(8).wSqnr > at(2).wSqnr, `weights only: 8-bit ${at(8).wSqnr} dB > 2-bit ${at(2).wSqnr} dB`);
    assert.ok(at(8).waSqnr > at(2).waSqnr, `weights + act.: 8-bit ${at(8).waSqnr} dB > 2-bit ${at(2).waSqnr} dB`);
    assert.ok(at(8).wSqnr > 30 && at(8).waSqnr > 30, '8 bits: the quantized logits are close to FP32');
    assert.ok(at(8).bytes > at(2).bytes);
    for (const i of [0, 1]) assert.ok(at(8).layerSqnr[i] > at(4).layerSqnr[i] && at(4).layerSqnr[i] > at(2).layerSqnr[i]);
    console.log(`models: tiny on 64 random inputs, logit SQNR weights only / weights + act. at 8/4/2 bits: ${[8, 4, 2].map((b) => `${at(b).cells[3]} / ${at(b).cells[4]}`).join(', ')}; ` +
      `agreement at 2 bits ${at(2).cells[1]} / ${at(2).cells[2]}; ` +
      `weight SQNR at 8/4/2 bits: ${[8, 4, 2].map((b) => at(b).cells.slice(5, 7).join(' / ')).join(', ')}`);
    // The SQNR chart's text alternative says what the table says.
    const sqnrLabel = await page.locator('#lab-chart-sweep-sqnr').getAttribute('aria-label');
    for (const b of [8, 2]) {
      assert.ok(sqnrLabel.includes(`${b} bits ${at(b).cells[4]}`), `${b}-bit row: logit SQNR ${at(b).cells[4]} in the chart's summary: ${sqnrLabel}`);
      assert.match(at(b).cells[2], /^\d+\.\d %$/);
    }
    assert.match(await text(page, '#lab-fig-sweep .nodigits-note'), /random inputs/);
    // The accuracy chart shows agreement instead (one sweep view for both kinds of model).
    for (const id of ['lab-chart-sweep-acc', 'lab-chart-sweep-sqnr', 'lab-chart-sweep-wsqnr', 'lab-chart-sweep-size']) {
      assert.equal(await page.locator(`#${id}`).isVisible(), true, `${id} is shown`);
    }
    assert.deepEqual(await page.locator('#lab-fig-sweep .sweep-charts figure:visible figcaption').allInnerTexts(),
      ['Agreement with FP32 on random inputs', 'Logit SQNR on random inputs', 'Weight SQNR per layer', 'Model size (weights packed)']);
    await page.evaluate(() => {
      const header = document.querySelector('.app-header').getBoundingClientRect().height;
      window.scrollTo(0, document.getElementById('lab-fig-sweep').getBoundingClientRect().top + window.scrollY - header - 8);
    });
    await page.screenshot({ path: path.join(shotsDir, 'model-tiny-sweep-1280x800.png') });
    // Timing on random inputs.
    await page.selectOption('#lab-batch', '16');
    await page.selectOption('#lab-samples', '7');
    await page.click('#lab-run-timing');
    await page.waitForSelector('#lab-timing .hbar-row', { timeout: 60000 });
    const timing = await timingShown(page);
    assert.deepEqual(timing.results.map((r) => r.id), ['fp32', 'simulated', 'int8']);
    for (const r of timing.results) assert.ok(r.medianMs > 0 && r.gmacs > 0, JSON.stringify(r));
    assert.match(await text(page, '#lab-fig-timing .nodigits-note'), /random inputs/);
    assert.match(await text(page, '#lab-why'), /Measured:/);
    await page.evaluate(() => document.getElementById('lab').scrollIntoView());
    await page.screenshot({ path: path.join(shotsDir, 'model-tiny-1280x800.png') });
    await page.locator('#lab').screenshot({ path: path.join(shotsDir, 'model-tiny-1280x800-lab.png') });

    // 3. Every bad file: the alert names the file and the problem; nothing else changes.
    const kept = await keptState(page);
    for (const bad of manifest.bad) {
      const name = path.basename(bad.file);
      await pick(page, bad.file);
      // (Each bad file has its own name, so the alert naming it is this file's.)
      await page.waitForFunction((f) => document.getElementById('lab-model-alert').textContent.includes(`Could not load ${f}: `), name);
      const alert = await text(page, '#lab-model-alert');
      assert.ok(alert.includes(`Could not load ${name}: `), `${bad.file}: alert names the file: ${alert}`);
      assert.ok(alert.split(`${name}: `)[1].includes(bad.expect), `${bad.file}: expected "${bad.expect}" in: ${alert}`);
      assert.match(alert, /The previous model and all settings are kept\.$/);
      assert.equal(await page.locator('#lab-model-alert').getAttribute('role'), 'alert');
      assert.deepEqual(await keptState(page), kept, `${bad.file}: the model, views and settings stay`);
      assert.equal(await text(page, '#lab-alert'), '', `${bad.file}: the lab itself shows no error`);
    }
    console.log(`models: ${manifest.bad.length} bad files refused, e.g. "${await text(page, '#lab-model-alert')}"`);
    await page.locator('#lab-model').scrollIntoViewIfNeeded();
    await page.evaluate(() => document.getElementById('lab').scrollIntoView());
    await page.screenshot({ path: path.join(shotsDir, 'model-error-1280x800.png') });
    // The lab still answers after all of them.
    await setRange(page, 'lab-wbits', 5);
    await settled(page, ['report', 'eval']);
    assert.match(await page.locator('#lab-overview tr[data-layer="4"] .bits').innerText(), /^5 \/ 8$/);
    // A good file clears the error.
    await pick(page, 'good/named-no-layers.safetensors');
    await loaded(page, 3);
    assert.equal(await text(page, '#lab-model-alert'), '');
    assert.deepEqual(await page.locator('#lab-layer option').allTextContents(), ['conv1', 'conv2', 'fc']);

    // 4. Back to the shipped model: the full lab as at the start, with the settings kept.
    await page.click('#lab-model-reset');
    await loaded(page, 4);
    assert.equal(await text(page, '#lab-model-name'), 'the shipped CNN');
    assert.equal(await page.locator('#lab-model-reset').isVisible(), false);
    assert.equal(await page.locator('#lab-model-note').isVisible(), false);
    assert.match(await text(page, '#lab .lede'), /A small convolutional network/);
    assert.equal(await page.locator('#lab-wbits').inputValue(), '5');
    assert.match(await text(page, '#lab-k-fp32'), /^98\.\d %$/);
    assert.equal(await page.locator('#lab-fig-draw .draw-layout').isVisible(), true);
    await settled(page, ['sweep']);
    assert.equal((await sweepTable(page)).head[1], 'Accuracy weights only', 'the digit sweep again');
    assert.equal(await page.locator('#lab-chart-sweep-acc').isVisible(), true);
    assert.equal(await page.locator('#lab-chart-sweep-wsqnr, #lab-sweep-inputs').and(page.locator(':visible')).count(), 0);
    assert.deepEqual(await page.locator('#lab-fig-sweep .sweep-charts figure:visible figcaption').allInnerTexts(), ['Accuracy', 'Logit SQNR', 'Model size (weights packed)']);

    assert.deepEqual(requests.slice(requestsAfterStart), [], 'no request after the page loaded: files stay in the browser');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('models: phone layout with a loaded model and an error', async () => {
  const { context, page, problems, requests } = await openPage({ width: 390, height: 844 });
  try {
    const requestsAfterStart = requests.length;
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await pick(page, 'good/sequential.safetensors');
    await loaded(page, 1);
    assert.ok(await overflow() <= 0, 'no horizontal scrolling with a loaded model');
    await page.locator('#lab-model').scrollIntoViewIfNeeded();
    await page.evaluate(() => document.getElementById('lab-model').scrollIntoView());
    await page.screenshot({ path: path.join(shotsDir, 'model-sequential-390x844.png') });
    await pick(page, 'good/tiny.safetensors');
    await loaded(page, 2);
    await settled(page, ['sweep']);
    assert.ok(await overflow() <= 0, 'no horizontal scrolling with a 1×8×8 model');
    await page.evaluate(() => document.getElementById('lab-model').scrollIntoView());
    await page.screenshot({ path: path.join(shotsDir, 'model-tiny-390x844.png') });
    await page.locator('#lab-fig-sweep').screenshot({ path: path.join(shotsDir, 'model-tiny-sweep-390x844.png') });
    // A 1×28×28 model takes the digits without padding: accuracy, and drawing on a 28×28 input.
    await page.setInputFiles('#lab-model-file', { name: 'digits28.safetensors', mimeType: 'application/octet-stream', buffer: model28() });
    await loaded(page, 3);
    assert.match(await text(page, '#lab-model-desc'), /input 1×28×28/);
    const ev = await labEval(page);
    console.log(`models: an untrained 1×28×28 model: FP32 ${ev.text.fp32}, INT8 ${ev.text.int8} on ${ev.count} digits`);
    assert.equal(ev.count, 2000);
    assert.match(await text(page, '#lab-k-fp32'), /^\d+\.\d %$/);
    assert.equal(await page.locator('.nodigits-note').count(), 0);
    assert.deepEqual(await page.locator('#lab-draw-input').evaluate((c) => [c.width, c.height]), [28, 28]);
    await page.locator('#lab-fig-draw').scrollIntoViewIfNeeded();
    const box = await page.locator('#lab-draw').boundingBox();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.85, { steps: 10 });
    await page.mouse.up();
    await page.waitForFunction(() => {
      const l = window.__quantlab.lab;
      return l.predict && l.predict.id === l.drawId && !l.drawBusy;
    });
    assert.match(await text(page, '#lab-draw-int8'), /^\d$/);
    assert.equal(await page.locator('.draw-input figcaption').innerText(), 'model input 28×28');

    await pick(page, 'bad/shapes-do-not-chain.safetensors');
    await page.waitForFunction(() => document.getElementById('lab-model-alert').textContent.includes('Could not load shapes-do-not-chain.safetensors: '));
    assert.match(await text(page, '#lab-model-alert'), /shapes-do-not-chain\.safetensors: layer 3 \(fc\): expects 32 inputs but receives 128/);
    assert.ok(await overflow() <= 0, 'no horizontal scrolling with an error');
    await page.evaluate(() => document.getElementById('lab-model').scrollIntoView());
    await page.screenshot({ path: path.join(shotsDir, 'model-error-390x844.png') });
    assert.deepEqual(requests.slice(requestsAfterStart), []);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('models: a Conv-BatchNorm-ReLU PyTorch file is folded, says so, and runs the full lab', async () => {
  const { context, page, problems } = await openPage({ width: 1280, height: 800 });
  try {
    // The shipped CNN as nn.Sequential with a BatchNorm2d after each conv (int64 num_batches_tracked
    // included), no metadata: the layers are inferred and each BatchNorm folded into its conv.
    await pick(page, 'good/bn-baseline.safetensors');
    await loaded(page, 1);
    assert.equal(await text(page, '#lab-model-alert'), '');
    const note = await text(page, '#lab-model-note');
    assert.match(note, /0 \(conv, padding 0\) → 1 \(batchnorm\) → relu → maxpool → 4 \(conv, padding 0\) → 5 \(batchnorm\)/);
    assert.match(note, /1 folded into 0 \(per-channel weight ranges, max \|w\|: \d\.\d{3}–\d\.\d{3} before, \d\.\d{3}–\d\.\d{3} after\); 5 folded into 4/);
    assert.deepEqual(await page.locator('#lab-layer option').allTextContents(), ['0 (conv)', '4 (conv)', '9 (linear)']);
    // The folding figure: each folded conv's per-channel weight ranges, before and after.
    assert.equal(await page.locator('#lab-model-fold').isVisible(), true);
    assert.deepEqual(await page.locator('#lab-model-fold-charts figcaption').allTextContents(),
      ["1 folded into 0: 0's output channels", "5 folded into 4: 4's output channels"]);
    assert.equal(await page.locator('#lab-model-fold-charts canvas').count() >= 2, true);
    const ev = await labEval(page);
    console.log(`models: BatchNorm model folded: FP32 ${ev.text.fp32}, INT8 8-bit per channel ${ev.text.int8}`);
    assert.ok(Math.abs(ev.fp32 - 98.55) <= 0.1 + 1e-9, `fp32 ${ev.text.fp32}`);
    assert.ok(ev.fp32 - ev.int8 <= 0.5 + 1e-9, `int8 ${ev.text.int8}`);
    await page.locator('#lab-model').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shotsDir, 'model-batchnorm-1280x800.png') });
    // The other views work on it: the sweep measures it.
    await settled(page, ['report', 'eval', 'sweep'], 90000);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('models: an RGB student model with its own test images runs the full lab, RGB thumbnails and class names included', async () => {
  const { context, page, problems, requests } = await openPage({ width: 1280, height: 800 });
  try {
    const data = '../data/colour-digits-test.safetensors';
    // Test images that do not fit the shipped model are refused by the picker, naming why; nothing changes.
    const before = await keptState(page);
    await page.setInputFiles('#lab-data-file', { name: 'colour-digits-test.safetensors', mimeType: 'application/octet-stream', buffer: await fileBytes(data) });
    await page.waitForFunction(() => document.getElementById('lab-model-alert').textContent !== '');
    assert.equal(await text(page, '#lab-model-alert'),
      'Could not test on colour-digits-test.safetensors: images: are 3×32×32 but the model takes 1×32×32 inputs. The model, its test set and all settings are kept.');
    assert.deepEqual(await keptState(page), before);
    // The model and its test file dropped together: the model goes first, then the images are checked against it.
    const nRequests = requests.length;
    await drop(page, data, '../data/rgb-cnn.safetensors');
    await loaded(page, 2);
    assert.equal(await text(page, '#lab-model-alert'), '');
    assert.match(await text(page, '#lab-model-note'), /bn1 folded into conv1 \(per-channel weight ranges, max \|w\|: [\d.]+–[\d.]+ before, [\d.]+–[\d.]+ after\); bn2 folded into conv2/);
    assert.equal(await text(page, '#lab-data-desc'),
      'Test images: colour-digits-test.safetensors, 500 images of 3×32×32 (zero, one, two, three, four, five, six, seven, eight, nine). ' +
      'The model does not take digits, so it is calibrated on the first 256 of them.');
    assert.match(await text(page, '#lab-model-status'), /^testing on colour-digits-test\.safetensors: 500 images, calibrated on 256 of them in \d+ ms$/);
    assert.deepEqual(await page.locator('#lab-layer option').allTextContents(), ['conv1', 'conv2', 'conv3', 'conv4', 'fc']);
    const ev = await labEval(page);
    assert.equal(ev.count, 500);
    console.log(`models: RGB model on its own 500 images: FP32 ${ev.text.fp32}, INT8 ${ev.text.int8}`);
    assert.ok(ev.fp32 >= 85, `fp32 ${ev.text.fp32}`);
    assert.ok(ev.fp32 - ev.int8 <= 0.5 + 1e-9, `int8 ${ev.text.int8}`);
    // Drawing needs a digit model; the rest of the lab works on the images.
    assert.match(await text(page, '#lab-fig-draw'), /Drawing is not available: this model takes 3×32×32 inputs/);
    assert.equal(await page.locator('#lab-fig-draw .draw-layout').isVisible(), false);
    assert.equal(await page.locator('#lab-fig-accuracy .nodigits-note').count(), 0);
    // At 3-bit weights images flip: their thumbnails are the RGB pictures, captioned with the file's class names.
    await setRange(page, 'lab-wbits', 3);
    await settled(page, ['report', 'eval']);
    const thumbs = page.locator('#lab-flipped .thumb.is-image');
    assert.ok(await thumbs.count() > 0, 'some images flipped');
    assert.equal(await page.locator('#lab-flipped button.thumb').count(), 0, 'a user image is not a drawing-pad button');
    assert.match(await thumbs.first().innerText(), /^Test image \d+, FP32 then INT8:\s+(zero|one|two|three|four|five|six|seven|eight|nine)→(zero|one|two|three|four|five|six|seven|eight|nine)\s+true (zero|one|two|three|four|five|six|seven|eight|nine)$/);
    const colourful = await thumbs.first().locator('canvas').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let spread = 0;
      for (let i = 0; i < d.length; i += 4) spread = Math.max(spread, Math.abs(d[i] - d[i + 1]), Math.abs(d[i + 1] - d[i + 2]));
      return { w: c.width, h: c.height, spread };
    });
    assert.deepEqual([colourful.w, colourful.h], [32, 32]);
    assert.ok(colourful.spread > 40, `colour, not gray: ${colourful.spread}`);
    await page.locator('#lab-fig-accuracy').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shotsDir, 'model-rgb-accuracy-1280x800.png') });
    await page.locator('#lab-model').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shotsDir, 'model-rgb-1280x800.png') });
    // The sweep and the per-layer sensitivity measure accuracy on the user's images too.
    await settled(page, ['report', 'eval', 'sweep', 'sens'], 120000);
    const rgbSweep = await sweepTable(page);
    assert.ok(rgbSweep.points.length >= 7, `${rgbSweep.points.length} sweep points`);
    assert.equal(rgbSweep.head[1], 'Accuracy weights only', 'accuracy on the images, not agreement on random inputs');
    await page.locator('#lab-fig-sweep').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shotsDir, 'model-rgb-sweep-1280x800.png') });
    // Back to the test digits: they do not fit this model, so it has no accuracy and runs on random inputs.
    await page.locator('#lab-data-reset').click();
    await loaded(page, 3);
    assert.equal(await text(page, '#lab-model-status'), 'back on the test digits');
    assert.match(await text(page, '#lab .lede'), /calibrated and timed on seeded random inputs/);
    assert.match(await text(page, '#lab-fig-accuracy'), /Accuracy is not available/);
    assert.equal(await page.locator('#lab-data-desc').isVisible(), false);
    // The images again (they fit the RGB model), then a digit model they do not fit: the lab goes
    // back to the test digits and says why.
    await page.setInputFiles('#lab-data-file', { name: 'colour-digits-test.safetensors', mimeType: 'application/octet-stream', buffer: await fileBytes(data) });
    await loaded(page, 4);
    assert.match(await text(page, '#lab-data-desc'), /^Test images: colour-digits-test\.safetensors, 500 images of 3×32×32/);
    await pick(page, 'good/bn-baseline.safetensors');
    await loaded(page, 5);
    assert.match(await text(page, '#lab-model-status'),
      /colour-digits-test\.safetensors no longer fits \(images: are 3×32×32 but the model takes 1×32×32 inputs\); the lab is back on the test digits/);
    assert.equal(await page.locator('#lab-data-desc').isVisible(), false, 'no test file any more');
    assert.equal((await labEval(page)).count, 2000);
    // The user's files never left the page.
    assert.deepEqual(requests.slice(nRequests), []);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('models: the RGB model and its test images on a phone', async () => {
  const { context, page, problems } = await openPage({ width: 390, height: 844 });
  try {
    await drop(page, '../data/rgb-cnn.safetensors', '../data/colour-digits-test.safetensors');
    await loaded(page, 2);
    await setRange(page, 'lab-wbits', 3);
    await settled(page, ['report', 'eval']);
    await page.locator('#lab-model').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shotsDir, 'model-rgb-390x844.png') });
    await page.locator('#lab-fig-accuracy').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shotsDir, 'model-rgb-accuracy-390x844.png') });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
