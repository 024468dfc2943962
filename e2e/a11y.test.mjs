// Accessibility and small screens. axe-core (npm, injected from node_modules) finds no violation
// of any impact on the whole page, light, dark and in presenter mode; every control is reached by Tab with a
// visible focus ring; changed metrics are announced (aria-live); charts carry their key numbers
// as text; reduced motion turns transitions off. At 390x844 (a phone) nothing scrolls sideways in
// the page, presenter mode or an embed, and a digit drawn by touch is classified. Screenshots:
// dark-1280x800.png, page-390x844.png, present-draw-390x844.png.
//
// Run: node --test e2e/a11y.test.mjs    (needs www/pkg built, www/vendor copied, `npm ci` for axe-core)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setup, open, labSettled, guideAt, shotsDir } from './support.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const env = setup(); // one browser and one static server for the file

/** Every axe violation on the page, of any impact, as readable lines. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ path: axePath });
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return violations.flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id}: ${n.target.join(' ')}: ${(n.any[0] ?? n.all[0] ?? n.none[0])?.message ?? v.help}`));
}

test('a11y: no axe violation (light, dark, guided path, presenter); focus visible; metrics announced; charts described', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  try {
    const page = await open(context, `${env.base}#lab`, { lab: true, problems });
    await labSettled(page, ['report', 'eval', 'sens', 'sweep'], 90000);
    assert.deepEqual(await axeViolations(page), [], 'light');

    // Keyboard: Tab from the top reaches the header tools and the controls, each with a focus ring.
    await page.locator('.brand').focus(); // the first element of the page
    const rings = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      rings.push(await page.evaluate(() => {
        const el = document.activeElement;
        const cs = getComputedStyle(el);
        return { id: el.id || el.textContent.trim().slice(0, 12), ring: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 };
      }));
    }
    const ids = rings.map((r) => r.id);
    for (const id of ['copy-link', 'present-toggle', 'tensor', 'seed', 'bits']) assert.ok(ids.includes(id), `Tab reaches #${id}: ${ids}`);
    assert.deepEqual(rings.filter((r) => !r.ring), [], 'every focused element shows a focus ring');

    // A change by keyboard is announced once it settles; the charts' text follows.
    await page.locator('#bits').focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => /^Explorer: SQNR [\d.]+ dB/.test(document.getElementById('announcer').textContent));
    const said = await page.locator('#announcer').textContent();
    assert.equal(said, `Explorer: SQNR ${await page.locator('#k-sqnr').textContent()}, largest error ${await page.locator('#k-maxerr').textContent()}, clipped ${await page.locator('#k-clipped').textContent()}, ${await page.locator('#k-ratio').textContent()} smaller.`);
    assert.equal(await page.locator('#announcer').getAttribute('aria-live'), 'polite');
    const label = (id) => page.locator(`#${id}`).getAttribute('aria-label');
    assert.match(await label('chart-values'), /^Histogram of 4608 values .*; 63 integer grid points;/);
    assert.match(await label('chart-mapping'), /steps of s = /);
    assert.match(await label('lab-chart-sweep-acc'), /8 bits \d+\.\d %, 7 bits/);
    assert.equal(await page.locator('#chart-values').getAttribute('role'), 'img');
    // Reduced motion: no transitions.
    assert.equal(await page.locator('#lab-eval-progress .progress-bar').evaluate((e) => getComputedStyle(e).transitionDuration), '0s');

    // Dark mode, from the system setting: dark page, charts redrawn, still no serious violation.
    await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
    await page.waitForFunction(() => getComputedStyle(document.body).backgroundColor === 'rgb(13, 17, 23)');
    // The media change reaches the page (and refreshCharts) in the rendering step of the next
    // frame: two frames later every chart has been redrawn in the dark theme.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    assert.deepEqual(await axeViolations(page), [], 'dark');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shotsDir, 'dark-1280x800.png') });
    // ... or from the URL, whatever the system says.
    await page.emulateMedia({ colorScheme: 'light' });
    const forced = await open(context, `${env.base}#theme=dark`, { problems });
    assert.equal(await forced.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(13, 17, 23)');
    // The guided path's card open on a lab step.
    await page.click('#guide-start');
    await guideAt(page, 1);
    await page.click('#guide-next');
    await guideAt(page, 2);
    assert.deepEqual(await axeViolations(page), [], 'guided path');
    // Presenter mode on an explorer scene and on a lab scene.
    for (const scene of ['affine', 'sweep', 'draw']) {
      const p = await open(context, `${env.base}#present&scene=${scene}`, { problems });
      if (scene !== 'affine') await labSettled(p, ['report', 'eval']);
      assert.deepEqual(await axeViolations(p), [], `presenter, ${scene}`);
      await p.close();
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

const overflowX = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

test('a11y: a 390x844 phone: no sideways scrolling (page, presenter, embed); touch drawing in presenter mode', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true });
  try {
    const page = await open(context, env.base, { problems });
    assert.ok(await overflowX(page) <= 0, 'page');
    for (const id of ['copy-link', 'present-toggle']) assert.ok(await page.locator(`#${id}`).isVisible(), `#${id} visible`);
    await page.locator('#share-embed summary').tap();
    const box = await page.locator('#share-embed .share-panel').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `the Embed panel fits the screen (${box.x}, ${box.width})`);
    await page.screenshot({ path: path.join(shotsDir, 'share-390x844.png') });
    await page.locator('#share-embed summary').tap();
    await page.screenshot({ path: path.join(shotsDir, 'page-390x844.png') });

    await page.locator('#present-toggle').tap();
    await page.waitForSelector('.pm-bar');
    assert.ok(await overflowX(page) <= 0, 'presenter mode');
    await page.locator('.pm-next').tap();
    assert.equal(await page.locator('.pm-bar').getAttribute('data-scene'), 'per-channel', 'the Next button steps by touch');
    await page.keyboard.press('End');
    assert.equal(await page.locator('.pm-bar').getAttribute('data-scene'), 'draw');
    // The lab's worker has answered: its report drew the activation view.
    await page.waitForFunction(() => document.getElementById('lab-act-scope').textContent !== '', null, { timeout: 60000 });
    assert.ok(await overflowX(page) <= 0, 'presenter mode, draw scene');
    // A "1" drawn with a finger (CDP touch events become pointer events of type touch).
    const pad = await page.locator('#lab-draw').boundingBox();
    const cdp = await context.newCDPSession(page);
    const pt = (x, y) => ({ x: pad.x + (x / 280) * pad.width, y: pad.y + (y / 280) * pad.height });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [pt(150, 40)] });
    for (let i = 1; i <= 20; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [pt(150 - i * 0.4, 40 + i * 10)] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    // (The debug mirror: whether the shown prediction is of the finished drawing shows nowhere.)
    await page.waitForFunction(() => window.__quantlab.lab.predict && !window.__quantlab.lab.drawBusy, null, { timeout: 30000 });
    assert.equal(await page.locator('#lab-draw-fp32').textContent(), '1');
    await page.screenshot({ path: path.join(shotsDir, 'present-draw-390x844.png') });

    const embed = await open(context, `${env.base}#embed=affine&controls=locked`, { problems });
    assert.ok(await overflowX(embed) <= 0, 'embed');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
