// Beyond round-to-nearest in the page: each technique setting (group-wise, GPTQ, equalization,
// bias correction, dynamic) changes the accuracy the lab shows and round-trips through the URL,
// and "Compare techniques" measures the table (with its sentence) on all the test digits.
// The presenter's "Beyond round-to-nearest" scene starts the comparison on arrival, and an embed of
// it starts it on quantlab:run and posts the rows as quantlab:result.
// The equalization figure draws the ranges it changed; the budgeted mixed-precision search fits a
// size, beats uniform bits of no larger size and applies its bits.
// Screenshots: techniques-1280x800.png, techniques-390x844.png, techniques-1920x1080.png,
// techniques-presenter-1920x1080.png, equalize-1280x800.png, budget-1280x800.png.
//
// Run: node --test e2e/techniques.test.mjs    (needs www/pkg built and www/vendor copied)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, open, setLabControl, watch, shotsDir } from './support.mjs';

const env = setup();
const acc = (page) => page.evaluate(() => window.__quantlab.lab.eval?.int8Accuracy);
/** Sets a lab control as a user would and returns the accuracy the lab then shows. */
const change = async (page, id, value) => {
  await setLabControl(page, id, value);
  return acc(page);
};

test('each technique setting changes the accuracy and round-trips through the URL', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, `${env.base}#at=lab&lab.wbits=3&lab.granularity=tensor`, { lab: true, problems });
    const base = await acc(page); // open() waited for the lab to settle
    const gptq = await change(page, 'lab-rounding', 'gptq');
    assert.ok(gptq > base, `GPTQ ${gptq} beats nearest ${base} at 3-bit per-tensor weights`);
    assert.match(await page.locator('#lab-beyond-note').innerText(), /GPTQ rounds/);
    await page.waitForFunction(() => location.hash.includes('lab.rounding=gptq'));

    await change(page, 'lab-rounding', 'nearest');
    await change(page, 'lab-equalize', true);
    const eqbc = await change(page, 'lab-biascorr', true);
    // The equalization figure: conv1's and conv2's per-channel ranges, equal after it.
    const eq = await page.evaluate(() => window.__quantlab.lab.equalization);
    assert.deepEqual(eq.map((p) => `${p.first}→${p.second}`), ['conv1→conv2', 'conv2→fc']);
    const spread = (v) => Math.max(...v) / Math.min(...v);
    assert.ok(spread(eq[0].rangeFirstAfter) < spread(eq[0].rangeFirstBefore), 'conv1 channel ranges closer after equalization');
    assert.equal(await page.locator('#lab-fig-equalize').evaluate((e) => e.classList.contains('is-empty')), false);
    await page.locator('#lab-fig-equalize').scrollIntoViewIfNeeded();
    await page.locator('#lab-fig-equalize').screenshot({ path: path.join(shotsDir, 'equalize-1280x800.png') });
    assert.notEqual(eqbc, base, 'equalization + bias correction move the accuracy');
    await page.waitForFunction(() => location.hash.includes('lab.eq=1') && location.hash.includes('lab.bc=1'));

    await change(page, 'lab-equalize', false);
    await change(page, 'lab-biascorr', false);
    await change(page, 'lab-granularity', 'group');
    const group = await change(page, 'lab-group', '16');
    assert.ok(group > base, `group 16 ${group} beats per tensor ${base}`);
    await page.waitForFunction(() => location.hash.includes('lab.granularity=group') && location.hash.includes('lab.group=16'));
    assert.match(await page.locator('#lab-beyond-note').innerText(), /QDQ graph/);
    // The weight view quantizes as the model does: conv2's 64 channels × 288 inputs in groups of 16.
    assert.equal(await page.evaluate(() => window.__quantlab.lab.weights.scales), 64 * 18);
    assert.match(await page.locator('#lab-weight-grid').innerText(), /first group; its 18 groups have steps/);
    assert.match(await page.locator('#lab-weights-scope').innerText(), /conv2, channel 0, 18 groups of 16/);

    await change(page, 'lab-method', 'dynamic');
    await page.waitForFunction(() => location.hash.includes('lab.method=dynamic'));
    assert.match(await page.locator('#lab-method-note').innerText(), /DynamicQuantizeLinear/);

    // A link restores every one of them.
    const hash = await page.evaluate(() => location.hash);
    const again = await open(context, `${env.base}${hash}`, { lab: true, problems });
    for (const [id, v] of [['lab-granularity', 'group'], ['lab-group', '16'], ['lab-method', 'dynamic']]) {
      assert.equal(await again.locator(`#${id}`).inputValue(), v, `${id} from the URL`);
    }
    const link = await open(context, `${env.base}#at=lab&lab.rounding=gptq&lab.eq=1&lab.bc=1`, { lab: true, problems });
    assert.equal(await link.locator('#lab-rounding').inputValue(), 'gptq');
    assert.equal(await link.locator('#lab-equalize').isChecked(), true);
    assert.equal(await link.locator('#lab-biascorr').isChecked(), true);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('Compare techniques measures every row, with the sentence, at three screen sizes', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, `${env.base}#lab`, { lab: true, problems });
    await page.click('#lab-run-techniques');
    await page.waitForFunction(() => window.__quantlab.lab.techniques?.complete, null, { timeout: 240000 });
    const m = await page.evaluate(() => window.__quantlab.lab.techniques);
    assert.equal(m.rows.length, 18);
    const row = (id, bits) => m.rows.find((r) => r.id === id && r.bits === bits);
    // The targets, as the page measures them.
    assert.ok(row('tensor-gptq', 3).int8Accuracy - row('tensor', 3).int8Accuracy >= (m.fp32Accuracy - row('tensor', 3).int8Accuracy) / 2);
    assert.ok(row('group32', 3).int8Accuracy >= row('channel', 3).int8Accuracy);
    assert.ok(row('tensor-eq-bc', 4).int8Accuracy >= row('tensor', 4).int8Accuracy);
    assert.equal(row('group32', 3).deployed, 'qdq');
    assert.equal(row('channel', 3).deployed, 'integer');
    assert.equal(row('channel-dynamic', 3).deployed, 'qdq');
    assert.match(await page.locator('#lab-techniques-sentence').innerText(), /GPTQ on the same grid gives/);
    assert.equal(await page.locator('table.techniques tbody tr').count(), 18);
    await page.locator('#lab-fig-techniques').scrollIntoViewIfNeeded();
    await page.locator('#lab-fig-techniques').screenshot({ path: path.join(shotsDir, 'techniques-1280x800.png') });
    for (const [w, h, name] of [[390, 844, 'techniques-390x844.png'], [1920, 1080, 'techniques-1920x1080.png']]) {
      await page.setViewportSize({ width: w, height: h });
      await page.locator('#lab-fig-techniques').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(shotsDir, name) });
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the presenter scene starts the comparison on arrival; an embed runs it on quantlab:run', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, `${env.base}#present&scenes=techniques,sweep`, { problems });
    await page.waitForFunction(() => window.__quantlab.lab.techniques?.complete, null, { timeout: 240000 });
    assert.deepEqual(await page.evaluate(() => window.__quantlab.lecture.presenter.runs), [{ task: 'techniques', scene: 'techniques' }]);
    assert.equal(await page.locator('table.techniques tbody tr').count(), 18);
    assert.match(await page.locator('#pm-takeaway').innerText(), /GPTQ or group-wise scales/);
    await page.screenshot({ path: path.join(shotsDir, 'techniques-presenter-1920x1080.png') });

    // A course page embeds the figure and asks for the comparison.
    const host = await context.newPage();
    watch(host, problems);
    await host.setContent(`<script>window.msgs = []; addEventListener('message', (e) => window.msgs.push(e.data));</script>` +
      `<iframe src="${env.base}#embed=techniques" width="1000" height="1130"></iframe>`);
    const got = (type, kind) => host.evaluate(([t, k]) => window.msgs.filter((m) => m.type === t && (!k || m.kind === k)), [type, kind]);
    await host.waitForFunction(() => window.msgs.some((m) => m.type === 'quantlab:ready'), null, { timeout: 60000 });
    const send = (m) => host.evaluate((msg) => document.querySelector('iframe').contentWindow.postMessage(msg, '*'), m);
    await send({ type: 'quantlab:run', id: 'bad', task: 'gptq' });
    await host.waitForFunction(() => window.msgs.some((m) => m.type === 'quantlab:error' && m.id === 'bad'));
    assert.match((await got('quantlab:error')).find((m) => m.id === 'bad').message, /unknown task "gptq" \(expected "timing", "techniques", "budget" or "qat"\)/);
    await send({ type: 'quantlab:run', id: 'run', task: 'techniques' });
    await host.waitForFunction(() => window.msgs.some((m) => m.type === 'quantlab:result' && m.kind === 'techniques' && m.result.complete), null, { timeout: 240000 });
    const [last] = (await got('quantlab:result', 'techniques')).filter((m) => m.result.complete);
    assert.equal(last.result.rows.length, 18);
    assert.ok(last.result.rows.every((r) => r.int8Accuracy > 0.9 && r.bytes > 0));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('mixed precision for a size budget: the measured search fits it, beats uniform bits of no larger size, and applies', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, `${env.base}#at=lab&lab.budget=18`, { lab: true, problems });
    assert.equal(await page.locator('#lab-budget').inputValue(), '18');
    await page.click('#lab-run-budget');
    await page.waitForFunction(() => window.__quantlab.lab.budget?.complete, null, { timeout: 240000 });
    const m = await page.evaluate(() => window.__quantlab.lab.budget);
    assert.equal(m.fits, true);
    assert.ok(m.chosen.bytes <= 18 * 1024, `${m.chosen.bytes} B`);
    const below = m.uniform.filter((u) => u.bytes <= m.chosen.bytes).sort((a, b) => b.bytes - a.bytes)[0];
    assert.ok(m.chosen.accuracy >= below.accuracy, `search ${m.chosen.accuracy} vs uniform ${below.accuracy} at ${below.bytes} B`);
    assert.match(await page.locator('#lab-budget-result').innerText(), /^measured search uniform bits\nFor 18 KiB: conv1 \d, conv2 \d, fc \d-bit weights/);
    await page.locator('#lab-fig-budget').scrollIntoViewIfNeeded();
    await page.locator('#lab-fig-budget').screenshot({ path: path.join(shotsDir, 'budget-1280x800.png') });
    // Apply: the chosen bits become the mixed-precision overrides, and the lab measures them.
    await page.click('#lab-apply-budget');
    const mix = Object.entries(m.chosen.bits).map(([i, w]) => `${i}:${w}:-`).join(',');
    await page.waitForFunction((want) => location.hash.includes(`lab.mix=${want}`), mix);
    await page.waitForFunction((acc) => window.__quantlab.lab.eval?.count === 2000 && window.__quantlab.lab.eval.int8Accuracy === acc
      && window.__quantlab.lab.have.eval === window.__quantlab.lab.want.eval, m.chosen.accuracy, { timeout: 60000 });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
