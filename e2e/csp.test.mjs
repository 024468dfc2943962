// The page under a strict Content-Security-Policy (no inline scripts or styles, wasm allowed):
// the explorer and the CNN lab start, show numbers and redraw after a slider move, no CSP
// violation is reported (console or `securitypolicyviolation`, page and worker), and no request
// leaves the page's origin, also with a user's model loaded and a refused file.
//
// Run: node --test e2e/csp.test.mjs    (needs www/pkg built and www/vendor copied)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setup, guardedPage, labSettled, here } from './support.mjs';

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";

const env = setup({ headers: { 'Content-Security-Policy': CSP } });

test('csp: explorer and lab work under a strict policy, with no violation and no off-origin request', async () => {
  const problems = [];
  const origin = new URL(env.base).origin;
  // Console errors and any console line about the policy (page and worker) are problems.
  const { context, page } = await guardedPage(env.browser, problems, {
    viewport: { width: 1280, height: 800 },
    allowed: (url) => url.origin === origin,
    isProblem: (m) => m.type() === 'error' || /Content.Security.Policy/i.test(m.text()),
  });
  // Record violations from the first moment, before any script of the page runs.
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective}: ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber} (${e.sample})`);
    });
  });
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  try {
    const res = await page.goto(`${env.base}#lab`);
    assert.equal(res.headers()['content-security-policy'], CSP, 'the server sends the policy');
    await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
    await page.waitForSelector('#lab[data-ready="true"]', { timeout: 60000 });

    // Explorer: numbers shown; a slider move redraws.
    assert.match(await page.locator('#k-sqnr').innerText(), /dB/);
    const n = await page.evaluate(() => window.__quantlab.redraws);
    const sqnr8 = await page.locator('#k-sqnr').innerText();
    await page.locator('#bits').evaluate((e) => { e.value = '3'; e.dispatchEvent(new Event('input', { bubbles: true })); });
    await page.waitForFunction((before) => window.__quantlab.redraws > before, n);
    assert.notEqual(await page.locator('#k-sqnr').innerText(), sqnr8, 'the explorer redraws under CSP');

    // Lab: accuracy from the worker, a slider move redraws the weights and re-evaluates.
    assert.match(await page.locator('#lab-k-int8').innerText(), /^\d+\.\d %$/);
    const r = await page.evaluate(() => window.__quantlab.lab.redraws);
    const acc8 = await page.locator('#lab-acc-int8').innerText();
    await page.locator('#lab-wbits').evaluate((e) => { e.value = '2'; e.dispatchEvent(new Event('input', { bubbles: true })); });
    await page.waitForFunction((before) => window.__quantlab.lab.redraws > before, r);
    await labSettled(page, ['report', 'eval', 'sens']);
    assert.notEqual(await page.locator('#lab-acc-int8').innerText(), acc8, 'the lab re-evaluates under CSP');
    assert.equal(await page.locator('#lab-weight-grid').getAttribute('data-grid-points'), '3');

    // The views that size bars from JS (sensitivity, methods, timing) are drawn, with their widths.
    const sensWidth = await page.locator('#lab-sens .hbar-fill').first().evaluate((e) => e.getBoundingClientRect().width);
    assert.ok(sensWidth > 10, `sensitivity bars have a width (${sensWidth})`);
    await page.selectOption('#lab-batch', '1');
    await page.selectOption('#lab-samples', '7');
    await page.click('#lab-run-timing');
    await page.waitForSelector('#lab-timing .hbar-row', { timeout: 60000 });
    const timingWidth = await page.locator('#lab-timing .hbar-fill').first().evaluate((e) => e.getBoundingClientRect().width);
    assert.ok(timingWidth > 10, `timing bars have a width (${timingWidth})`);
    const methodWidths = await page.locator('#lab-methods .mbar-r').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
    assert.ok(methodWidths.some((w) => w > 5), `method bars have widths (${methodWidths})`);

    // A user's model (sweep charts on random inputs and notes built from JS) and a refused file.
    const tiny = await readFile(path.join(here, '..', 'tests', 'models', 'good', 'tiny.safetensors'));
    await page.setInputFiles('#lab-model-file', { name: 'tiny.safetensors', mimeType: 'application/octet-stream', buffer: tiny });
    await page.waitForFunction(() => document.getElementById('lab-model-name').textContent === 'tiny.safetensors' && document.getElementById('lab-model').getAttribute('aria-busy') === 'false', null, { timeout: 60000 });
    await labSettled(page, ['report', 'eval', 'sweep']);
    assert.match(await page.locator('#lab-fig-accuracy .nodigits-note').innerText(), /not available/);
    const keyColor = await page.locator('.layer-key').first().evaluate((e) => getComputedStyle(e, '::before').borderTopColor);
    assert.equal(keyColor, 'rgb(0, 158, 115)', 'the legend colour set from JS applies');
    await page.setInputFiles('#lab-model-file', { name: 'junk.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('junk') });
    await page.waitForFunction(() => document.getElementById('lab-model-alert').textContent.includes('junk.safetensors'));
    assert.match(await page.locator('#lab-model-alert').innerText(), /junk\.safetensors: .*too short/);

    const violations = await page.evaluate(() => window.__csp);
    assert.deepEqual(violations, [], 'no securitypolicyviolation event');
    assert.deepEqual(problems, []);
    assert.ok(!consoleLines.some((l) => /Refused to/i.test(l)), 'no refusal in the console');
  } finally {
    await context.close();
  }
});
