// The page as a lesson: the guided path (each step sets the state with one click and says its
// sentence; the step is in the URL and Back returns to the previous one), the lab's
// provisional-then-full accuracy while a setting moves (with a visible "computing" state), a test
// digit loaded into the drawing pad by keyboard (the pad's alternative to drawing), and the
// phone's sticky bar (a bits control and the figure it moves on screen together).
// Screenshots: guide-1280x800.png, guide-390x844.png, phone-bar-390x844.png.
//
// Run: node --test e2e/lesson.test.mjs    (needs www/pkg built and www/vendor copied)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, open, labSettled, setControl, guideAt, shotsDir } from './support.mjs';
import { STEPS } from '../www/js/guide-steps.js';

const env = setup();
const text = (page, sel) => page.locator(sel).innerText();
/** Waits until the lab's weight views are drawn at `w`-bit weights ("conv2, 4 bits"). */
const weightsDrawnAt = (page, w) => page.waitForFunction((b) => document.getElementById('lab-wstats-scope').textContent.endsWith(`, ${b} bits`), w);
/** Waits until the QAT figure's line says a run is past its first step ("Step 3 of 300, …"). */
const qatRunning = (page, timeout) => page.waitForFunction(() => Number(/^Step (\d+) of \d+/.exec(document.getElementById('lab-qat-result').textContent)?.[1]) > 0, null, { timeout });

test('guided path: every step sets its state with one click and says its sentence; Back returns', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, env.base, { problems });
    await page.click('#guide-start');
    const hashes = [];
    for (let i = 1; i <= STEPS.length; i++) {
      const s = STEPS[i - 1];
      await guideAt(page, i);
      assert.equal(await text(page, '#guide-title'), s.title);
      assert.equal(await text(page, '#guide-text'), s.text, `step ${i} says its sentence`);
      assert.equal(await page.locator('#guide-count').textContent(), `Try this · step ${i} of ${STEPS.length}`);
      // The state it set: the explorer's controls or the lab's.
      for (const [k, v] of Object.entries(s.explorer ?? {})) assert.equal(await page.locator(`#${k}`).inputValue(), String(v), `step ${i}: explorer ${k}`);
      if (s.lab) {
        await weightsDrawnAt(page, s.lab.weightBits);
        assert.equal(await page.locator('#lab-wbits').inputValue(), String(s.lab.weightBits));
      }
      // It points at the control and the figure, and the figure is in view.
      assert.equal(await page.locator('.guide-figure').getAttribute('id'), s.figure);
      assert.ok(await page.locator('.guide-target').count() >= 1, `step ${i} marks its control`);
      if (s.live) {
        // The page's own sentence for these settings (computed by the accuracy or drawing view).
        await page.waitForFunction((id) => document.getElementById('guide-live').textContent !== '' &&
          document.getElementById('guide-live').textContent === document.getElementById(id).textContent, s.live, { timeout: 60000 });
      }
      if (s.title === 'The CNN at 2 bits') {
        await labSettled(page, ['report', 'eval']);
        const live = await text(page, '#guide-live');
        console.log(`guide step ${i}: ${live}`);
        assert.match(live, /one of 3 levels and \d+\.\d % of them round to exactly 0/);
        assert.match(live, /digits flipped, costing \d+\.\d points of accuracy; most often FP32 → INT8 \d→\d \(\d+\)/);
      }
      await page.waitForFunction((n) => new RegExp(`guide=${n}(&|$)`).test(location.hash), i);
      hashes.push(await page.evaluate(() => location.hash));
      if (i === 1) await page.screenshot({ path: path.join(shotsDir, 'guide-1280x800.png') });
      if (i < STEPS.length) await page.click('#guide-next');
    }
    // The timing step started the timing by itself, and the last step quantization-aware training.
    await page.waitForSelector('#lab-timing .hbar-row', { state: 'attached', timeout: 120000 });
    await qatRunning(page, 120000);
    // At 3-bit weights and 3-bit activations, as the weight view and the controls' readouts say.
    assert.match(await page.locator('#lab-wstats-scope').textContent(), /, 3 bits$/);
    assert.deepEqual([await page.locator('#lab-wbits-out').textContent(), await page.locator('#lab-abits-out').textContent()], ['3', '3']);
    // Back: the previous step, with the state it set (from the URL).
    await page.goBack();
    await guideAt(page, STEPS.length - 1);
    assert.equal(await text(page, '#guide-title'), STEPS[STEPS.length - 2].title);
    await page.waitForFunction((b) => document.getElementById('lab-wbits').value === b, String(STEPS[STEPS.length - 2].lab.weightBits));
    // Its settings cancel the run (a new setting always does).
    await page.waitForFunction(() => document.getElementById('lab-qat-result').textContent.startsWith('Stopped: '), null, { timeout: 30000 });
    // A link opens at its step.
    const page2 = await open(context, `${env.base}#guide=3`, { problems });
    await guideAt(page2, 3);
    assert.equal(await page2.locator('#bits').inputValue(), '2');
    await page2.click('#guide-close');
    await page2.waitForFunction(() => !/guide=/.test(location.hash));
    assert.equal(await page2.locator('#guide').isVisible(), false);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('live: a bits change shows a provisional accuracy on 250 digits, then all 2,000; computing is visible', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, `${env.base}#lab`, { lab: true, problems });
    await labSettled(page, ['report', 'eval']);
    // What the key figures show, frame by frame, from the change until the full figure is back
    // (neither computing nor provisional, after having been one of them), with when.
    const seen = await page.evaluate(() => new Promise((resolve) => {
      const states = [];
      const el = document.getElementById('lab-wbits');
      const t0 = performance.now();
      el.value = '3';
      el.dispatchEvent(new Event('input', { bubbles: true }));
      const look = () => {
        const box = document.querySelector('#lab .keystats');
        const s = {
          computing: box.classList.contains('is-computing'),
          provisional: box.classList.contains('is-provisional'),
          state: document.getElementById('lab-k-state').textContent,
          sub: document.getElementById('lab-k-agree-sub').textContent,
          ms: performance.now() - t0,
        };
        states.push(s);
        if (!s.computing && !s.provisional && states.some((x) => x.computing || x.provisional)) resolve(states);
        else requestAnimationFrame(look);
      };
      requestAnimationFrame(look);
    }));
    const prov = seen.find((s) => s.provisional);
    assert.ok(seen.some((s) => s.computing), 'a computing state is shown');
    assert.ok(prov, 'a provisional figure is shown before the full one');
    assert.match(prov.state, /^provisional: first 250 digits/);
    assert.match(prov.sub, /of 250 digits flipped/);
    const last = seen[seen.length - 1];
    assert.deepEqual([last.provisional, last.computing], [false, false]);
    assert.match(last.sub, /of 2,000 digits flipped/);
    console.log(`live: provisional accuracy shown ${prov.ms.toFixed(0)} ms after the change, full ${last.ms.toFixed(0)} ms (this run)`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('keyboard: a test digit loads into the pad and both models classify it; a flipped thumbnail loads too', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, `${env.base}#lab.wbits=3&lab.abits=3&lab`, { lab: true, problems });
    await labSettled(page, ['report', 'eval']);
    await page.locator('#lab-draw-index').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('7');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('lab-draw-source').textContent.startsWith('Test digit 7 ('));
    assert.match(await text(page, '#lab-draw-fp32'), /^\d$/);
    assert.match(await text(page, '#lab-draw-source'), /^Test digit 7 \(true label \d\)\.$/);
    const inked = await page.locator('#lab-draw').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) n += d[i] > 128 ? 1 : 0;
      return n;
    });
    assert.ok(inked > 2000, `the digit is on the pad (${inked} inked pixels)`);
    // A flipped digit: focusable, Enter loads it.
    const thumb = page.locator('#lab-flipped button.thumb').first();
    const index = Number(await thumb.getAttribute('data-index'));
    await thumb.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((i) => document.getElementById('lab-draw-source').textContent.startsWith(`Test digit ${i} (`), index);
    const pad = [await text(page, '#lab-draw-fp32'), await text(page, '#lab-draw-int8')];
    const caption = thumb.locator('.thumb-cap');
    const shown = [await caption.locator('.swatch-fp32').textContent(), await caption.locator('.swatch-int8').textContent()];
    assert.deepEqual(pad, shown, 'the pad gives the same predictions as the accuracy view');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('phone: the sticky bar keeps a bits control and its figure on screen with the chart', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true });
  try {
    const page = await open(context, `${env.base}#lab`, { lab: true, problems });
    await labSettled(page, ['report', 'eval']);
    const inView = (sel) => page.locator(sel).evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight;
    });
    // Scroll the accuracy figure into view: the bar's slider and INT8 accuracy stay on screen.
    await page.locator('#lab-fig-accuracy').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    for (const sel of ['#lab-bar-wbits', '#lab-bar-int8', '#lab-acc-stats', '.app-header']) assert.ok(await inView(sel), `${sel} on screen`);
    assert.equal(await text(page, '#lab-bar-int8'), await text(page, '#lab-k-int8'));
    await setControl(page, 'lab-bar-wbits', 2);
    await weightsDrawnAt(page, 2);
    await labSettled(page, ['report', 'eval']);
    assert.equal(await page.locator('#lab-wbits').inputValue(), '2');
    await page.waitForFunction(() => document.getElementById('lab-bar-int8').textContent === document.getElementById('lab-k-int8').textContent);
    assert.match(await text(page, '#lab-bar-int8'), /^\d+\.\d %$/);
    assert.ok(await inView('#lab-acc-stats'));
    await page.screenshot({ path: path.join(shotsDir, 'phone-bar-390x844.png') });
    // The explorer's bar: bits and SQNR, with the values chart.
    await page.locator('#fig-values').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    for (const sel of ['#bar-bits', '#bar-sqnr']) assert.ok(await inView(sel), `${sel} on screen`);
    await setControl(page, 'bar-bits', 4);
    await page.waitForFunction(() => document.getElementById('bits').value === '4' && document.getElementById('bar-sqnr').textContent === document.getElementById('k-sqnr').textContent);
    // The guided path fits a phone too.
    await page.click('#guide-start');
    await guideAt(page, 1);
    const card = await page.locator('#guide').boundingBox();
    assert.ok(card.x >= 0 && card.x + card.width <= 390 && card.y + card.height <= 844, 'the guide card fits the screen');
    await page.screenshot({ path: path.join(shotsDir, 'guide-390x844.png') });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing scrolls sideways');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
