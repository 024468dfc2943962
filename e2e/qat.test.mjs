// Quantization-aware training in the page: the button trains in the worker, the curve and the
// after-accuracy appear, the integer model beats post-training quantization at 3/3 bits, the
// tuned model can be saved (with its trained ranges: loaded back, it measures the same), kept as the
// lab's model (its accuracy is then the lab's) and reset;
// Cancel and a new setting stop a run; the presenter's qat scene starts one on arrival; an embed
// starts one with quantlab:run and hears qat-progress and qat results.
// Screenshots: qat-1280x800.png, qat-390x844.png, qat-presenter-1920x1080.png.
// (The targets, 3/3 bits within 60 s and 2/4 within 90 s, are measured by `make bench-qat`.)
//
// Run: node --test e2e/qat.test.mjs    (needs www/pkg built and www/vendor copied)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { setup, open, labSettled, setLabControl, watch, labEval, num, shotsDir } from './support.mjs';

const env = setup();
// The debug mirror only for what no element shows: the curve's points and the grids' histograms
// (drawn on canvases, with no text alternative) and which task the presenter started.
const lab = (page, f) => page.evaluate(f);
/** Waits until the QAT figure's line says a run is at step `n` or later ("Step 23 of 150, …"). */
const atStep = (page, n, timeout) => page.waitForFunction((k) => Number(/^Step (\d+) of \d+/.exec(document.getElementById('lab-qat-result').textContent)?.[1]) >= k, n, { timeout });
/** Waits for the QAT figure's line to give a run's result ("3-bit weights, …") or why it stopped. */
const qatResult = (page, re, timeout) => page.waitForFunction((src) => new RegExp(src).test(document.getElementById('lab-qat-result').textContent), re.source, { timeout });
const FINE_TUNED = 'CNN lab: the fine-tuned model';

test('Fine-tune with QAT: curve, result, save, keep and reset', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, acceptDownloads: true });
  try {
    const page = await open(context, `${env.base}#at=lab&lab.wbits=3&lab.abits=3`, { lab: true, problems });
    await page.locator('#lab-qat-steps').selectOption('150');
    await page.click('#lab-run-qat');
    assert.equal(await page.locator('#lab-cancel-qat').isVisible(), true);
    await atStep(page, 20, 60000);
    assert.match(await page.locator('#lab-qat-progress .progress-label').innerText(), /^step \d+ of 150 · \d+ s · loss \d\.\d{3}$/);
    await qatResult(page, /^\d-bit weights, \d-bit activations, all 2,000 test digits/, 120000);
    // "3-bit weights, 3-bit activations, all 2,000 test digits on the integer path: post-training
    // 91.25 %, after 150 steps of quantization-aware training (40 s in this browser) 95.10 %. …"
    const said = await page.locator('#lab-qat-result').innerText();
    const [, wBits, aBits, before, steps, after] = /^(\d)-bit weights, (\d)-bit activations, .* post-training (\S+ %), after (\d+) steps of quantization-aware training \([^)]*\) (\S+ %)\./.exec(said);
    const r = { steps: Number(steps), weightBits: Number(wBits), actBits: Number(aBits), before: { int8: before }, after: { int8: after } };
    assert.deepEqual([r.steps, r.weightBits, r.actBits], [150, 3, 3]);
    const m = await lab(page, () => window.__quantlab.lab.qat);
    assert.deepEqual(m.curve.map((p) => p.step), [0, 50, 100, 150]);
    assert.equal(m.curve.at(-1).int8Accuracy, m.result.after.int8Accuracy, 'the last point is the accuracy on all the digits');
    assert.ok(num(after) > num(before) + 1.5, `QAT ${after} vs post-training ${before}`);
    assert.equal(m.grids.length, 3);
    assert.equal(m.grids[1].qmax, 3);
    assert.equal(m.grids[1].before.counts.reduce((a, b) => a + b), 64 * 32 * 9);
    assert.match(await page.locator('#lab-qat-result').innerText(), /^3-bit weights, 3-bit activations, all 2,000 test digits on the integer path: post-training \d+\.\d\d %, after 150 steps/);
    assert.match(await page.locator('#lab-qat-grid-note').innerText(), /of conv2's weights before/);
    assert.equal(await page.locator('#lab-cancel-qat').isVisible(), false);
    await page.locator('#lab-fig-qat').scrollIntoViewIfNeeded();
    await page.locator('#lab-fig-qat').screenshot({ path: path.join(shotsDir, 'qat-1280x800.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#lab-chart-qat').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shotsDir, 'qat-390x844.png') });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Save: a .safetensors file the loader reads back (the page's own wasm checks it).
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#lab-save-qat')]);
    assert.equal(download.suggestedFilename(), 'quantlab-qat-w3a3-150steps.safetensors');
    const saved = await stat(await download.path());
    assert.ok(saved.size > 160000, `${saved.size} bytes`);

    // Keep: the tuned model is the lab's, with its trained ranges: the lab measures what QAT did.
    await page.click('#lab-keep-qat');
    await page.waitForFunction((t) => document.getElementById('lab-title').textContent === t, FINE_TUNED, { timeout: 30000 });
    await labSettled(page);
    assert.equal((await labEval(page)).text.int8, r.after.int8, 'the lab shows the accuracy QAT reached');
    assert.equal(await page.locator('#lab-reset-qat').isVisible(), true);
    assert.equal(await page.locator('#lab-keep-qat').isDisabled(), true);
    // Other views work on it: the sweep measures it.
    await labSettled(page, ['report', 'eval', 'sweep'], 90000);

    // Reset: back to the shipped weights and post-training's accuracy.
    await page.click('#lab-reset-qat');
    await page.waitForFunction((t) => document.getElementById('lab-title').textContent !== t && document.getElementById('lab-model-name').textContent === 'the shipped CNN', FINE_TUNED, { timeout: 30000 });
    await labSettled(page);
    assert.equal((await labEval(page)).text.int8, r.before.int8, 'the lab shows post-training\'s accuracy again');
    assert.equal(await page.locator('#lab-reset-qat').isVisible(), false);

    // The saved file, loaded back as a user's model: it carries the trained ranges, so the lab
    // measures the same integer model QAT made.
    await page.setInputFiles('#lab-model-file', await download.path());
    await page.waitForFunction((name) => document.getElementById('lab-model-name').textContent === name && document.getElementById('lab-model').getAttribute('aria-busy') === 'false',
      path.basename(await download.path()), { timeout: 30000 });
    await labSettled(page);
    assert.match(await page.locator('#lab-model-note').innerText(), /activation ranges from the file/i);
    assert.equal((await labEval(page)).text.int8, r.after.int8, 'the saved file measures what QAT reached');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('Cancel stops a run, and so does a new setting', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, `${env.base}#at=lab&lab.wbits=3&lab.abits=3`, { lab: true, problems });
    await page.click('#lab-run-qat');
    await atStep(page, 6, 60000);
    await page.click('#lab-cancel-qat');
    await qatResult(page, /^Stopped: /, 10000);
    assert.match(await page.locator('#lab-qat-result').innerText(), /^Stopped: cancelled\./);
    assert.equal(await page.locator('#lab-qat-progress').isVisible(), false);
    assert.equal(await page.locator('#lab-keep-qat').isDisabled(), true);

    await page.click('#lab-run-qat');
    await atStep(page, 6, 60000);
    await setLabControl(page, 'lab-wbits', 4);
    await qatResult(page, /^Stopped: /, 10000);
    assert.match(await page.locator('#lab-qat-result').innerText(), /^Stopped: the settings changed\./);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the presenter qat scene starts a run on arrival; an embed runs one on quantlab:run', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, `${env.base}#present&scenes=qat,sweep&lab.wbits=3&lab.abits=3`, { problems });
    await atStep(page, 100, 120000);
    assert.deepEqual(await lab(page, () => window.__quantlab.lecture.presenter.runs), [{ task: 'qat', scene: 'qat' }]);
    assert.match(await page.locator('#pm-takeaway').innerText(), /training through the rounding/);
    await page.screenshot({ path: path.join(shotsDir, 'qat-presenter-1920x1080.png') });
    await page.close();

    const host = await context.newPage();
    watch(host, problems);
    await host.setContent(`<script>window.msgs = []; addEventListener('message', (e) => window.msgs.push(e.data));</script>` +
      `<iframe src="${env.base}#embed=qat&lab.wbits=3&lab.abits=3" width="1000" height="1000"></iframe>`);
    await host.waitForFunction(() => window.msgs.some((m) => m.type === 'quantlab:ready'), null, { timeout: 60000 });
    const send = (m) => host.evaluate((msg) => document.querySelector('iframe').contentWindow.postMessage(msg, '*'), m);
    await send({ type: 'quantlab:run', id: 'bad', task: 'qat', steps: 0 });
    await host.waitForFunction(() => window.msgs.some((m) => m.type === 'quantlab:error' && m.id === 'bad'));
    assert.match((await host.evaluate(() => window.msgs.find((m) => m.id === 'bad'))).message, /steps must be an integer from 1 to 100000, found 0/);
    await send({ type: 'quantlab:run', id: 'run', task: 'qat', steps: 50 });
    await host.waitForFunction(() => window.msgs.some((m) => m.type === 'quantlab:result' && m.kind === 'qat'), null, { timeout: 120000 });
    const results = await host.evaluate(() => window.msgs.filter((m) => m.type === 'quantlab:result'));
    const progress = results.filter((m) => m.kind === 'qat-progress');
    assert.ok(progress.length >= 10, `${progress.length} progress messages`);
    assert.deepEqual(Object.keys(progress.at(-1).result).sort(), ['curve', 'loss', 'seconds', 'step', 'steps', 'trainAccuracy']);
    const end = results.find((m) => m.kind === 'qat').result;
    assert.deepEqual([end.steps, end.weightBits, end.actBits], [50, 3, 3]);
    assert.ok(end.seconds > 0);
    assert.ok(end.after.int8Accuracy > end.before.int8Accuracy, `${end.after.int8Accuracy} vs ${end.before.int8Accuracy}`);
    assert.ok(end.after.fp32Accuracy > 0.9);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
