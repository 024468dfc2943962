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
import { setup, open, setLabControl, labSettled, labEval, num, watch, shotsDir } from './support.mjs';

const env = setup();
/** The INT8 accuracy the accuracy figure shows, in percent. */
const acc = async (page) => (await labEval(page)).int8;
/** The technique table as shown: `${id}@${bits}` -> { accuracy (percent), runs ('integer' or 'QDQ (float)') }, and FP32's accuracy from its note. */
const techniqueTable = async (page) => {
  const t = await page.locator('#lab-techniques').evaluate((box) => ({
    rows: [...box.querySelectorAll('table.techniques tbody tr')].map((tr) => ({ key: `${tr.dataset.id}@${tr.dataset.bits}`, acc: tr.querySelector('.tval').textContent, runs: tr.cells[tr.cells.length - 1].textContent })),
    note: box.querySelector('.hint')?.textContent ?? '',
  }));
  return { rows: new Map(t.rows.map((x) => [x.key, { accuracy: num(x.acc), runs: x.runs }])), count: t.rows.length, fp32: num(/FP32 (\S+ %)/.exec(t.note)?.[1]) };
};
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
    assert.equal(await page.locator('#lab-eq-scope').innerText(), 'conv1 → conv2, conv2 → fc');
    // Each pair's figure gives its first layer's channel ranges: "before 0.1 … 0.9 · after 0.3 … 0.6".
    const spans = await page.locator('#lab-eq-charts figure .hint').first().innerText();
    const [, b0, b1, a0, a1] = /before (\S+) … (\S+) · after (\S+) … (\S+)/.exec(spans).map(num);
    assert.ok(a1 / a0 < b1 / b0, `conv1 channel ranges closer after equalization (${spans})`);
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
    assert.match(await page.locator('#lab-wstats-list').innerText(), /Scales\s+1,152: one per 16 inputs of each channel/, '64 × 18 scales');
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
    // Complete: the sentence that reads the finished table is there.
    await page.waitForSelector('#lab-techniques-sentence', { timeout: 240000 });
    const m = await techniqueTable(page);
    assert.equal(m.count, 18);
    const row = (id, bits) => m.rows.get(`${id}@${bits}`);
    // The targets, as the page shows them.
    assert.ok(row('tensor-gptq', 3).accuracy - row('tensor', 3).accuracy >= (m.fp32 - row('tensor', 3).accuracy) / 2);
    assert.ok(row('group32', 3).accuracy >= row('channel', 3).accuracy);
    assert.ok(row('tensor-eq-bc', 4).accuracy >= row('tensor', 4).accuracy);
    assert.equal(row('group32', 3).runs, 'QDQ (float)');
    assert.equal(row('channel', 3).runs, 'integer');
    assert.equal(row('channel-dynamic', 3).runs, 'QDQ (float)');
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
    await page.waitForSelector('#lab-techniques-sentence', { state: 'attached', timeout: 240000 });
    // (The debug mirror: which task the presenter started, and on which scene, shows nowhere.)
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
    // Complete: the result names the chosen bits beside the chart's key ("So far: …" until then).
    await page.waitForFunction(() => document.getElementById('lab-budget-result').textContent.startsWith('measured search'), null, { timeout: 240000 });
    const said = await page.locator('#lab-budget-result').innerText();
    assert.match(said, /^measured search uniform bits\nFor 18 KiB: conv1 \d, conv2 \d, fc \d-bit weights/, 'the search fits the budget');
    // "For 18 KiB: conv1 4, conv2 3, fc 4-bit weights, 17.2 KiB, 98.45 %; uniform 4 bits: 16.9 KiB, 98.10 %."
    const [, bitsText, chosenKiB, chosenAcc] = /For 18 KiB: (.*)-bit weights, (\S+) KiB, (\S+ %)/.exec(said);
    const below = /; uniform (\d) bits: (\S+) KiB, (\S+ %)/.exec(said);
    assert.ok(num(chosenKiB) <= 18, `${chosenKiB} KiB`);
    assert.ok(below, `a uniform width of no larger size is named: ${said}`);
    assert.ok(num(chosenAcc) >= num(below[3]), `search ${chosenAcc} vs uniform ${below[3]} at ${below[2]} KiB`);
    await page.locator('#lab-fig-budget').scrollIntoViewIfNeeded();
    await page.locator('#lab-fig-budget').screenshot({ path: path.join(shotsDir, 'budget-1280x800.png') });
    // Apply: the chosen bits become the mixed-precision overrides, and the lab measures them.
    await page.click('#lab-apply-budget');
    // The layers' indices, as the layer select has them ("conv1" is layer 0).
    const index = Object.fromEntries(await page.locator('#lab-layer option').evaluateAll((os) => os.map((o) => [o.textContent, Number(o.value)])));
    const chosen = bitsText.split(', ').map((p) => p.split(' ')).map(([name, w]) => [index[name], w]).sort((a, b) => a[0] - b[0]);
    const mix = chosen.map(([i, w]) => `${i}:${w}:-`).join(',');
    await page.waitForFunction((want) => location.hash.includes(`lab.mix=${want}`), mix);
    await page.waitForFunction((acc) => document.getElementById('lab-acc-int8')?.textContent === acc
      && document.getElementById('lab-k-fp32-sub').textContent.includes('2,000 test digits'), chosenAcc, { timeout: 60000 });
    await labSettled(page, ['eval']);
    assert.equal((await labEval(page)).text.int8, chosenAcc, 'the lab measures the chosen bits: the accuracy the search found');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
