// The whole setup in the URL: a non-default setup made with the controls is copied with "Copy
// link" and opened in a fresh browser context, which shows exactly the same controls and the same
// numbers (explorer and lab, mixed precision, selected layer and channel, seed, timing batch).
// Back and forward step through the discrete changes; a slider dragged is one history entry.
//
// Run: node --test e2e/url-state.test.mjs    (needs www/pkg built and www/vendor copied)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, serve, close, open, labSettled, setControl } from './support.mjs';

let browser;
let web;

before(async () => {
  browser = await launch();
  web = await serve();
});

after(async () => {
  await browser?.close();
  await close(web?.server);
});

const CONTROLS = ['tensor', 'seed', 'bits', 'scheme', 'dtype', 'granularity', 'channel', 'method', 'percentile',
  'lab-wbits', 'lab-abits', 'lab-scheme', 'lab-granularity', 'lab-method', 'lab-layer', 'lab-channel',
  'lab-ov-w-0', 'lab-ov-a-0', 'lab-ov-w-3', 'lab-ov-a-3', 'lab-ov-w-7', 'lab-ov-a-7', 'lab-batch', 'lab-samples'];

const controls = (page) => page.evaluate((ids) => Object.fromEntries(ids.map((id) => [id, document.getElementById(id).value])), CONTROLS);
const numbers = (page) => page.evaluate(() => ({
  sqnr: document.getElementById('k-sqnr').textContent,
  grid: document.getElementById('grid-count').textContent,
  int8: document.getElementById('lab-k-int8').textContent,
  size: document.getElementById('lab-k-size').textContent,
  weights: document.getElementById('lab-weight-grid').textContent,
}));

test('url: a copied link restores a non-default setup in a fresh browser; back and forward work', async () => {
  const problems = [];
  const a = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  await a.grantPermissions(['clipboard-read', 'clipboard-write']);
  const b = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(a, `${web.base}#lab`, { lab: true, problems });
    // A setup far from the defaults, made with the controls.
    for (const [id, v] of [['tensor', 'outliers'], ['seed', 7], ['bits', 5], ['scheme', 'asymmetric'], ['dtype', 'uint8'],
      ['method', 'percentile'], ['percentile', 99.5]]) await setControl(page, id, v);
    for (const [id, v] of [['lab-wbits', 4], ['lab-abits', 6], ['lab-granularity', 'tensor'], ['lab-method', 'mse'],
      ['lab-layer', 7], ['lab-ov-w-0', 6], ['lab-ov-a-3', 5], ['lab-batch', 16], ['lab-samples', 7]]) await setControl(page, id, v);
    await labSettled(page);
    await page.waitForFunction(() => location.hash.includes('lab.runs=7'));
    const want = await controls(page);
    const shown = await numbers(page);

    // "Copy link": the clipboard holds the link, which carries every setting and the section in view.
    await page.evaluate(() => document.getElementById('lab').scrollIntoView());
    await page.locator('#copy-link').click(); // the header stays in view
    await page.waitForFunction(() => document.getElementById('copy-link').textContent.includes('Copied'));
    const link = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/#/);
    for (const part of ['tensor=outliers', 'seed=7', 'bits=5', 'percentile=99.5', 'lab.wbits=4', 'lab.mix=0:6:-,3:-:5', 'lab.layer=7', 'lab.batch=16', 'at=lab']) {
      assert.ok(link.includes(part), `the link has ${part}: ${link}`);
    }
    console.log(`copied link: ${link.replace(/^http:\/\/[^/]+/, '')}`);

    // A student opens it: same controls, same numbers.
    const student = await open(b, link, { lab: true, problems });
    assert.deepEqual(await controls(student), want, 'every control restored');
    assert.deepEqual(await numbers(student), shown, 'the same numbers');
    const labTop = await student.evaluate(() => document.getElementById('lab').getBoundingClientRect().top);
    assert.ok(labTop >= 0 && labTop < 100, `the link opens at the lab (top ${labTop})`);

    // History: each discrete change is one entry; a drag is one entry too.
    // The explorer draws (and so writes its state) only while in view; let the visibility
    // observer see it before changing its controls, as a person scrolling to it would.
    await page.locator('#granularity').scrollIntoViewIfNeeded();
    // (The debug mirror: whether the explorer has been told it is in view shows nowhere.)
    await page.waitForFunction(() => window.__quantlab.lecture.visibility.visible.explorer === true);
    const entries = await page.evaluate(() => history.length);
    // One change per frame, as a person makes them: two changes drawn in the same frame are one
    // state, so one entry (the test would otherwise race the explorer's frame).
    await setControl(page, 'granularity', 'channel');
    await page.waitForFunction(() => location.hash.includes('granularity=channel'));
    await setControl(page, 'channel', 3);
    await page.waitForFunction(() => location.hash.includes('channel=3'));
    await page.locator('#bits').evaluate(async (e) => {
      for (const v of ['4', '3', '2']) { // dragging: input events only, one frame each
        e.value = v;
        e.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      }
      e.dispatchEvent(new Event('change', { bubbles: true })); // released
    });
    await page.waitForFunction(() => location.hash.includes('bits=2'));
    assert.equal(await page.evaluate(() => history.length), entries + 3,
      `three changes, three entries; last writes: ${await page.evaluate(() => JSON.stringify(window.__quantlab.lecture.url.log))}`);
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('bits').value === '5', null, { timeout: 10000 }).catch(async (err) => {
      console.log('history debug:', await page.evaluate(() => JSON.stringify({ hash: location.hash, len: history.length,
        bits: document.getElementById('bits').value, url: window.__quantlab.lecture.url, vis: window.__quantlab.lecture.visibility })));
      throw err;
    });
    assert.equal(await page.locator('#channel').inputValue(), '3');
    // Drawn, not only set: the views say 5 bits and channel 3.
    await page.waitForFunction(() => document.getElementById('k-ratio-sub').textContent.endsWith('packed at 5 bits') && document.getElementById('values-scope').textContent === 'channel 3');
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('channel').value === '0');
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('granularity').value === 'tensor');
    await page.goForward();
    await page.goForward();
    await page.goForward();
    await page.waitForFunction(() => document.getElementById('bits').value === '2' && document.getElementById('k-ratio-sub').textContent.endsWith('packed at 2 bits'));
    assert.equal(await page.locator('#granularity').inputValue(), 'channel');
    // Back through a lab change restores the lab too.
    await setControl(page, 'lab-wbits', 3);
    await page.waitForFunction(() => location.hash.includes('lab.wbits=3'));
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('lab-wbits').value === '4');
    await labSettled(page);
    assert.equal(await page.locator('#lab-weight-grid').getAttribute('data-grid-points'), '15', '4-bit weights drawn again');

    // An edited link with nonsense in it falls back to the defaults for those keys only.
    const odd = await open(b, `${web.base}#bits=4&lab.wbits=99&lab.method=magic&lab.mix=0:x:5,junk&scenes=nope`, { problems });
    await odd.waitForFunction(() => document.getElementById('lab-wstats-scope').textContent !== ''); // the lab's first frame drew
    assert.equal(await odd.locator('#bits').inputValue(), '4');
    assert.equal(await odd.locator('#lab-wbits').inputValue(), '8');
    assert.equal(await odd.locator('#lab-method').inputValue(), 'minmax');
    assert.equal(await odd.locator('#lab-ov-a-0').inputValue(), '5');
    assert.deepEqual(problems, []);
  } finally {
    await a.close();
    await b.close();
  }
});
