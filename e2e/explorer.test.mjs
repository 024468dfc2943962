// End-to-end test of the Explorer page in headless Chromium: every control changes what is shown,
// a wasm error shows in the alert without losing the state, nothing leaves 127.0.0.1, and the page
// logs no errors. Screenshots go to e2e/screenshots/ (gitignored).
//
// Run: node --test e2e/    (needs www/pkg built and www/vendor copied: `make build`)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, guardedPage, num, shotsDir } from './support.mjs';

const env = setup();

/**
 * Opens the page at `viewport`, collecting console errors, failed and off-origin requests.
 * Nothing may leave 127.0.0.1: anything else is recorded and blocked before it goes out.
 */
async function openPage(viewport, hash = '') {
  const problems = [];
  const { context, page } = await guardedPage(env.browser, problems, { viewport });
  await page.goto(env.base + hash);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 15000 });
  return { context, page, problems };
}

// The debug mirror only for what no element shows: the frame counters (drawn or refused), and the
// wasm API itself (its own argument errors).
const frames = (page) => page.evaluate(() => window.__quantlab.redraws + window.__quantlab.errors);

/**
 * Sets a control the way a user would and waits for the frame that redraws (or rejects) it;
 * unless `expectError`, the frame must succeed.
 */
async function setControl(page, id, value, { expectError = false } = {}) {
  const n = await frames(page);
  const el = page.locator(`#${id}`);
  const kind = await el.evaluate((e) => e.tagName === 'SELECT' ? 'select' : e.type);
  if (kind === 'select') {
    await el.selectOption(String(value));
  } else if (kind === 'range') {
    await el.evaluate((e, v) => { e.value = v; e.dispatchEvent(new Event('input', { bubbles: true })); }, String(value));
  } else {
    await el.fill(String(value));
  }
  await page.waitForFunction((before) => window.__quantlab.redraws + window.__quantlab.errors > before, n);
  if (!expectError) {
    assert.equal(await page.locator('#explorer-alert').innerText(), '', `setting #${id} to ${value} shows an error`);
  }
}

const text = (page, sel) => page.locator(sel).innerText();
const gridPoints = async (page) => Number(await page.locator('#grid-count').getAttribute('data-grid-points'));
const sqnr = async (page) => parseFloat((await text(page, '#stat-sqnr')).replace('−', '-'));
const snapshot = (page) => page.evaluate(() => ({
  stats: document.getElementById('stats-list').innerText,
  formula: document.querySelector('.formula').innerText,
  keystats: document.querySelector('.keystats').innerText,
}));

test('explorer: every control changes what is shown, errors keep the state', async () => {
  const { context, page, problems } = await openPage({ width: 1280, height: 800 });
  try {
    assert.match(await text(page, '#wasm-version'), /^v\d+\.\d+\.\d+/);
    assert.equal(await page.locator('#explorer-alert').innerText(), '');

    // Bits 8 -> 4 -> 2: fewer grid points, lower SQNR.
    assert.equal(await gridPoints(page), 255, 'int8 symmetric, 8 bits: [-127, 127]');
    const sqnr8 = await sqnr(page);
    await setControl(page, 'bits', 4);
    assert.equal(await gridPoints(page), 15);
    const sqnr4 = await sqnr(page);
    await setControl(page, 'bits', 2);
    assert.equal(await gridPoints(page), 3);
    const sqnr2 = await sqnr(page);
    assert.ok(sqnr8 > sqnr4 && sqnr4 > sqnr2, `SQNR should fall with bits: ${sqnr8}, ${sqnr4}, ${sqnr2}`);
    assert.equal(await text(page, '#bits-out'), '2');
    await setControl(page, 'bits', 8);

    // Scheme: asymmetric int8 uses the full [-128, 127] and a fitted zero point.
    let prev = await snapshot(page);
    await setControl(page, 'scheme', 'asymmetric');
    assert.equal(await gridPoints(page), 256);
    assert.notDeepEqual(await snapshot(page), prev, 'scheme changes the numbers');

    // Dtype: uint8 moves the zero point into [0, 255].
    prev = await snapshot(page);
    await setControl(page, 'dtype', 'uint8');
    const z = Number((await text(page, '#f-z2')).replace(/[^\d]/g, ''));
    assert.ok(z > 0 && z <= 255, `uint8 zero point ${z}`);
    assert.notDeepEqual(await snapshot(page), prev, 'dtype changes the numbers');
    await setControl(page, 'scheme', 'symmetric');
    await setControl(page, 'dtype', 'int8');

    // Granularity: per channel raises SQNR for weights whose channels differ in spread.
    assert.equal(await page.locator('#channel').isDisabled(), true);
    const sqnrTensor = await sqnr(page);
    await setControl(page, 'granularity', 'channel');
    const sqnrChannel = await sqnr(page);
    assert.ok(sqnrChannel > sqnrTensor, `per-channel ${sqnrChannel} dB vs per-tensor ${sqnrTensor} dB`);
    assert.equal(await page.locator('#channel').isDisabled(), false);
    assert.equal(await page.locator('#chart-channels').isVisible(), true);
    const s0 = await text(page, '#f-s1');
    await setControl(page, 'channel', 5);
    assert.notEqual(await text(page, '#f-s1'), s0, 'another channel has another scale');
    assert.match(await text(page, '#values-scope'), /channel 5/);

    // Method, on the tensor with outliers: min-max clips nothing, the others trade clipping for resolution.
    await setControl(page, 'granularity', 'tensor');
    await setControl(page, 'tensor', 'outliers');
    assert.equal(await text(page, '#k-clipped'), '0 %');
    assert.equal(await page.locator('#percentile').isDisabled(), true);
    // The methods choose different ranges. (On this tensor at 8 bits, MSE and entropy may both keep
    // the outliers, as min-max does: two clipped outliers cost more than the finer grid saves.
    // At 4 bits the rounding error dominates and they clip.)
    await setControl(page, 'bits', 4);
    const seen = new Set();
    for (const method of ['minmax', 'percentile', 'mse', 'entropy']) {
      await setControl(page, 'method', method);
      seen.add(JSON.stringify(await snapshot(page)));
    }
    assert.ok(seen.size >= 3, `only ${seen.size} distinct results from 4 methods`);
    await setControl(page, 'bits', 8);
    await setControl(page, 'method', 'percentile');
    assert.equal(await page.locator('#percentile').isDisabled(), false);
    assert.notEqual(await text(page, '#k-clipped'), '0 %', 'the 99.9th percentile clips the outliers');

    // Error path: a percentile beyond 100 is rejected by wasm; the alert names it, the views stay.
    const kept = await snapshot(page);
    const errorsBefore = await page.evaluate(() => window.__quantlab.errors);
    await setControl(page, 'percentile', 150, { expectError: true });
    const alert = page.locator('#explorer-alert[role="alert"]');
    await assert.doesNotReject(alert.waitFor({ state: 'visible' }));
    assert.match(await alert.innerText(), /percentile/);
    assert.equal(await page.evaluate(() => window.__quantlab.errors), errorsBefore + 1);
    assert.deepEqual(await snapshot(page), kept, 'the last valid state stays on screen');
    await setControl(page, 'percentile', 99);
    assert.equal(await alert.innerText(), '');
    assert.notDeepEqual(await snapshot(page), kept);

    // The wasm API itself names the bad argument.
    const message = await page.evaluate(() => {
      try { window.__quantlab.api.quantizeLinear(new Float32Array([1]), [0], [0]); return null; } catch (e) { return e.message; }
    });
    assert.match(message, /^scale/);

    // Redraw time: input event -> charts drawn, over slider moves.
    await setControl(page, 'tensor', 'weights');
    await setControl(page, 'method', 'minmax');
    const times = [];
    for (const bits of [7, 6, 5, 4, 3, 2, 3, 4, 5, 6, 7, 8]) {
      await setControl(page, 'bits', bits);
      times.push(num(await text(page, '#redraw-ms'))); // "explorer redraw 3.2 ms (…)"
    }
    await setControl(page, 'granularity', 'channel');
    for (const method of ['mse', 'entropy']) {
      await setControl(page, 'method', method);
      times.push(num(await text(page, '#redraw-ms')));
    }
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    console.log(`redraw ms (input -> drawn), ${times.length} inputs: ${times.map((t) => t.toFixed(1)).join(' ')}; median ${median.toFixed(1)}`);
    console.log(`page shows: ${await text(page, '#redraw-ms')} | ${await text(page, '#timer-note')}`);
    assert.match(await text(page, '#redraw-ms'), /redraw \d+\.\d ms/);

    // A shareable state: the hash reproduces it in a fresh page.
    await setControl(page, 'method', 'minmax');
    await setControl(page, 'bits', 4);
    await page.waitForFunction(() => location.hash.includes('bits=4'));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shotsDir, 'explorer-1280x800.png'), fullPage: true });
    await page.screenshot({ path: path.join(shotsDir, 'explorer-1280x800-viewport.png') });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('explorer: phone layout stacks without horizontal scrolling', async () => {
  const { context, page, problems } = await openPage({ width: 390, height: 844 }, '#tensor=relu&scheme=asymmetric&dtype=uint8&bits=4');
  try {
    assert.equal(await page.locator('#tensor').inputValue(), 'relu');
    assert.equal(await page.locator('#granularity').isDisabled(), true, 'activations are per tensor only');
    assert.equal(await gridPoints(page), 16);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await page.screenshot({ path: path.join(shotsDir, 'explorer-390x844.png'), fullPage: true });
    await setControl(page, 'tensor', 'weights');
    await setControl(page, 'scheme', 'symmetric');
    await setControl(page, 'dtype', 'int8');
    await setControl(page, 'granularity', 'channel');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shotsDir, 'explorer-390x844-channel.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
