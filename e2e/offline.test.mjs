// Offline and static hosting: `node scripts/dist.mjs` writes a folder that runs from a plain
// static server under a sub-folder (like a course site or GitHub Pages: no special headers); after
// one visit the service worker has cached the page, wasm, model and digits, and with the network
// switched off (the browser offline and the server stopped) a reload still runs the explorer and
// the CNN lab, and a link to another setup opens too.
//
// Run: node --test e2e/offline.test.mjs    (needs www/pkg built and www/vendor copied)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { launch, serve, close, open, labSettled, here } from './support.mjs';

const site = path.join(here, 'out', 'site');
const sub = 'course/week5/quantlab';
let browser;
let web;

before(async () => {
  await rm(site, { recursive: true, force: true });
  await promisify(execFile)(process.execPath, [path.join(here, '..', 'scripts', 'dist.mjs'), '--out', path.join('e2e', 'out', 'site', sub)]);
  browser = await launch();
  web = await serve({ rootDir: site, isolation: false });
});

after(async () => {
  await browser?.close();
  await close(web?.server);
});

test('offline: the dist folder from a sub-folder, then with the network off after one visit', async () => {
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const url = `${web.base}${sub}/#bits=4&lab.wbits=6&at=lab`;
    const page = await open(context, url, { lab: true, problems });
    await page.waitForSelector('html[data-offline="ready"]', { state: 'attached', timeout: 30000 });
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const cache = await caches.open(names.at(-1));
      return (await cache.keys()).map((r) => new URL(r.url).pathname.replace(/^.*\/quantlab\//, ''));
    });
    for (const f of ['', 'index.html', 'pkg/quantlab_bg.wasm', 'pkg/quantlab.js', 'data/digits-test.bin', 'data/digits-calib.bin',
      'models/baseline-cnn.safetensors', 'js/lab-worker.js', 'style.css', 'vendor/uPlot.esm.js']) {
      assert.ok(cached.includes(f), `cached: ${f || './'} (${cached.length} files)`);
    }
    assert.ok(!cached.some((f) => f.startsWith('bench/') || f.startsWith('vendor/ort/')), 'no benchmark files');
    const online = { sqnr: await page.locator('#k-sqnr').innerText(), int8: await page.locator('#lab-k-int8').innerText() };

    // Network off: the browser offline, and the server gone.
    await context.setOffline(true);
    await close(web.server);
    web = null;
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]', { state: 'attached', timeout: 20000 });
    await labSettled(page);
    assert.ok(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), 'the service worker answers');
    assert.equal(await page.locator('#bits').inputValue(), '4');
    assert.deepEqual({ sqnr: await page.locator('#k-sqnr').innerText(), int8: await page.locator('#lab-k-int8').innerText() }, online,
      'the same numbers offline');
    // Another setup from a link, offline: an embed of the drawing scene.
    const other = await open(context, `${url.split('#')[0]}#embed=draw&lab.abits=4`, { problems });
    // Its worker started offline: its report drew the activation view.
    await other.waitForFunction(() => document.getElementById('lab-act-scope').textContent !== '', null, { timeout: 30000 });
    assert.equal(await other.locator('#lab-abits').inputValue(), '4');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
