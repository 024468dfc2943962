// Shared set-up for the e2e tests: one headless Chromium, static servers on loopback, pages that
// record every problem (and, for the explorer, lab, models and csp tests, block off-origin requests).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { createServer } from '../scripts/serve.mjs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const wwwDir = path.resolve(here, '..', 'www');
export const shotsDir = path.join(here, 'screenshots');

export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A static server for `rootDir` on `host` (a loopback name), sending `headers` with every file;
 * resolves to {server, base}.
 */
export async function serve({ rootDir = wwwDir, host = '127.0.0.1', isolation = true, headers = {}, handler = null } = {}) {
  const server = handler ? (await import('node:http')).createServer(handler) : createServer({ rootDir, isolation, extraHeaders: headers });
  await new Promise((resolve) => server.listen(0, host === 'localhost' ? '127.0.0.1' : host, resolve));
  return { server, base: `http://${host}:${server.address().port}/` };
}

export const close = (server) => new Promise((resolve) => (server ? server.close(resolve) : resolve()));

/**
 * Registers this file's before/after hooks: a static server (`serveOptions` as for serve()), one
 * browser and the screenshots folder. Returns an object whose `browser` and `base` are set once
 * `before` has run.
 */
export function setup(serveOptions = {}) {
  const env = {};
  before(async () => {
    ({ server: env.server, base: env.base } = await serve(serveOptions));
    env.browser = await launch();
    await mkdir(shotsDir, { recursive: true });
  });
  after(async () => {
    await env.browser?.close();
    await close(env.server);
  });
  return env;
}

/**
 * Records console errors (or the console messages `isProblem` picks), page errors, failed requests,
 * HTTP errors and, with `offOrigin`, any request that is not to one of `allowedHosts` into
 * `problems` (no routing, so a service worker sees every request).
 */
export function watch(page, problems, {
  allowedHosts = ['127.0.0.1', 'localhost'], offOrigin = true, isProblem = (m) => m.type() === 'error',
} = {}) {
  page.on('console', (m) => { if (isProblem(m)) problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  if (offOrigin) {
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['data:', 'blob:'].includes(u.protocol) && !allowedHosts.includes(u.hostname)) problems.push(`off-origin request: ${u.href}`);
    });
  }
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on('worker', (w) => w.on('console', (m) => { if (isProblem(m)) problems.push(`worker console ${m.type()}: ${m.text()}`); }));
}

/**
 * A new context of `browser` (`viewport`, `hasTouch`, device scale 1) and a page in it, watched as
 * by watch(). Every request that `allowed` (a URL) refuses is recorded in `problems` and aborted
 * before it goes out (data: URLs pass); with `requests`, every request of the context whose URL
 * `ignoreRequest` does not pick is pushed to it. Routing, so not for service-worker tests.
 */
export async function guardedPage(browser, problems, {
  viewport, hasTouch = false, allowed = (u) => u.hostname === '127.0.0.1', requests = null, ignoreRequest = () => false, isProblem,
} = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, hasTouch });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || allowed(url)) return route.continue();
    problems.push(`off-origin request: ${url.href}`);
    return route.abort();
  });
  if (requests) context.on('request', (r) => { if (!ignoreRequest(r.url())) requests.push(r.url()); });
  const page = await context.newPage();
  watch(page, problems, { offOrigin: false, isProblem });
  return { context, page };
}

/** Opens `url` in a new page of `context` and waits for the explorer (and, with `lab`, the lab). */
export async function open(context, url, { lab = false, problems = [] } = {}) {
  const page = await context.newPage();
  watch(page, problems);
  await page.goto(url);
  await page.waitForSelector('html[data-ready="true"]', { state: 'attached', timeout: 20000 });
  if (lab) await labSettled(page);
  return page;
}

/** Waits until the lab's worker views show the current settings. */
export async function labSettled(page, views = ['report', 'eval'], timeout = 60000) {
  await page.waitForFunction((vs) => {
    const l = window.__quantlab?.lab;
    return l && vs.every((v) => l.have[v] !== undefined && l.have[v] === l.want[v]);
  }, views, { timeout });
}

/** Sets a control as a user would: select, range (input + change) or typed number. */
/**
 * Sets a lab control the way a user would (a checkbox takes true or false), waits for the frame
 * that redraws the weight views and then for the worker's views in `wait`; fails if the alert
 * shows something (unless `expectError`).
 */
export async function setLabControl(page, id, value, { wait = ['report', 'eval'], expectError = false, timeout = 30000 } = {}) {
  const n = await page.evaluate(() => window.__quantlab.lab.redraws);
  const el = page.locator(`#${id}`);
  const kind = await el.evaluate((e) => (e.tagName === 'SELECT' ? 'select' : e.type));
  if (kind === 'select') await el.selectOption(String(value));
  else if (kind === 'checkbox') await el.setChecked(Boolean(value));
  else if (kind === 'range') await el.evaluate((e, v) => { e.value = v; e.dispatchEvent(new Event('input', { bubbles: true })); }, String(value));
  else await el.fill(String(value));
  await page.waitForFunction((before) => window.__quantlab.lab.redraws > before, n);
  if (expectError) return;
  await labSettled(page, wait, timeout);
  assert.equal(await page.locator('#lab-alert').innerText(), '', `setting #${id} to ${value} shows an error`);
}

export async function setControl(page, id, value) {
  const el = page.locator(`#${id}`);
  const kind = await el.evaluate((e) => (e.tagName === 'SELECT' ? 'select' : e.type));
  if (kind === 'select') await el.selectOption(String(value));
  else if (kind === 'range') {
    await el.evaluate((e, v) => {
      e.value = v;
      e.dispatchEvent(new Event('input', { bubbles: true }));
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }, String(value));
  } else await el.fill(String(value));
}

// ---- What the page shows, read from the DOM (the tests assert on these, not on window.__quantlab) ----

/**
 * A number as the page writes it: real minus signs, thousands commas, a unit after it
 * ("98.65 %", "−3.2 dB", "1,152", "0.93×"); null for "–" or no number.
 */
export function num(text) {
  const m = /([−-]?\d[\d,]*(?:\.\d+)?)(?:×10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?/.exec(String(text ?? ''));
  if (!m) return null;
  const exp = m[2] ? Number([...m[2]].map((c) => (c === '⁻' ? '-' : '⁰¹²³⁴⁵⁶⁷⁸⁹'.indexOf(c))).join('')) : 0;
  return Number(m[1].replace('−', '-').replace(/,/g, '')) * 10 ** exp;
}

/** A time per image as the timing view writes it ("123 µs", "1.23 ms"), in ms. */
export const msOf = (text) => (/µs/.test(text) ? num(text) / 1000 : num(text));

/**
 * The lab's evaluation as the accuracy figure and the key figures show it, in percent: FP32
 * and INT8 accuracy and agreement to 0.01 % (exact for the 2,000 test digits or 500 images, as
 * every accuracy there is a multiple of 0.05 % or 0.2 %), logit SQNR, flipped and the number of
 * test images (the FP32 figure's note), and the texts as shown.
 */
export function labEval(page) {
  return page.evaluate(() => {
    const t = (id) => document.getElementById(id)?.textContent ?? '';
    const stat = (term) => [...document.querySelectorAll('#lab-acc-stats .stat')].find((s) => s.querySelector('dt').textContent === term)?.querySelector('dd').textContent ?? '';
    return { fp32: stat('FP32 accuracy'), int8: t('lab-acc-int8'), agree: t('lab-acc-agree'), sqnr: t('lab-acc-sqnr'), flipped: t('lab-acc-flipped'), ms: t('lab-acc-ms'), count: t('lab-k-fp32-sub') };
  }).then((e) => ({
    fp32: num(e.fp32), int8: num(e.int8), agree: num(e.agree), sqnrDb: num(e.sqnr), flipped: num(e.flipped), ms: num(e.ms),
    count: num(e.count), text: e,
  }));
}

/**
 * The sweep table as shown: `head` (column titles, spaces collapsed), `points` (a row per bit
 * width, 8 to 2: `bits` and the row's cells), `formats` (the float formats' rows: `format` and
 * cells), `complete` (the table carries the sweep's time once every row is in) and `ms`.
 */
export function sweepTable(page) {
  return page.locator('#lab-sweep-table').evaluate((table) => ({
    head: [...table.querySelectorAll('thead th')].map((th) => th.innerText.replace(/\s+/g, ' ').trim()),
    points: [...table.querySelectorAll('tbody tr[data-bits]')].map((tr) => ({ bits: Number(tr.dataset.bits), cells: [...tr.cells].map((c) => c.innerText.trim()) })),
    formats: [...table.querySelectorAll('tbody tr[data-format]')].map((tr) => ({ format: tr.dataset.format, cells: [...tr.cells].map((c) => c.innerText.trim()) })),
    complete: table.dataset.ms !== undefined,
    ms: table.dataset.ms === undefined ? null : Number(table.dataset.ms),
  }));
}

/**
 * The timing view as shown: a bar per path (`id` from data-path, its label, median, p10 and p90
 * per image in ms, GMAC/s, and the kernel text), the scope ("batch 16, 7 runs") and the step
 * table's INT8 column (each layer's time, with the entry it ran when not the run's own).
 */
export async function timingShown(page) {
  const t = await page.evaluate(() => ({
    rows: [...document.querySelectorAll('#lab-timing .hbar-row')].map((r) => ({
      id: r.dataset.path, label: r.querySelector('.hbar-label').textContent, median: r.querySelector('.hbar-val').textContent, sub: r.querySelector('.hbar-sub').textContent,
    })),
    scope: document.getElementById('lab-timing-scope').textContent,
    steps: [...document.querySelectorAll('#lab-timing-steps tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent.trim())),
  }));
  const results = t.rows.map((r) => {
    const [, p10, p90] = /p10–p90 (\S+ \S+) – (\S+ \S+)/.exec(r.sub) ?? [];
    return {
      id: r.id, label: r.label, medianMs: msOf(r.median), p10Ms: msOf(p10), p90Ms: msOf(p90), gmacs: num(/([\d.]+) GMAC\/s/.exec(r.sub)?.[1]),
      kernel: r.sub.split(' · ')[0], sub: r.sub,
    };
  });
  return { results, scope: t.scope, steps: t.steps };
}

/** Waits until the guided path's card shows step `n` ("Try this · step 3 of 12"). */
export const guideAt = (page, n) => page.waitForFunction((k) => new RegExp(`^Try this · step ${k} of \\d+$`).test(document.getElementById('guide-count')?.textContent ?? ''), n);
