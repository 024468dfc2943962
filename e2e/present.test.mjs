// Presenter mode: the key P enters it (full screen, large type, one scene at a time); arrow keys,
// PageUp/PageDown, Home/End step through the scenes; a lecturer's own list and order of scenes
// comes from the URL; Escape leaves. Out-of-view sections do no work (the lab's worker pauses
// during explorer scenes). Screenshot: e2e/screenshots/present-affine-1280x800.png.
//
// Run: node --test e2e/present.test.mjs    (needs www/pkg built and www/vendor copied)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, open, labSettled, shotsDir } from './support.mjs';

const env = setup(); // one browser and one static server for the file

/** What is on screen: the scene, which sections and figures are visible, the URL. */
const shown = (page) => page.evaluate(() => {
  const visible = (id) => {
    const el = document.getElementById(id);
    return Boolean(el && el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden');
  };
  return {
    scene: document.querySelector('.pm-bar')?.dataset.scene ?? null,
    title: document.querySelector('.pm-title')?.textContent ?? null,
    count: document.querySelector('.pm-count')?.textContent ?? null,
    explorer: visible('explorer'),
    lab: visible('lab'),
    figures: ['fig-values', 'fig-mapping', 'fig-errors', 'fig-channels', 'stats', 'lab-fig-sweep', 'lab-fig-draw', 'lab-fig-timing', 'lab-fig-accuracy'].filter(visible),
    controls: ['bits', 'scheme', 'dtype', 'tensor', 'method', 'lab-wbits', 'lab-scheme', 'lab-layer'].filter(visible),
    header: visible('copy-link'),
    hash: location.hash,
    fontSize: parseFloat(getComputedStyle(document.documentElement).fontSize),
  };
});

test('present: P enters, arrow keys step through the scenes, Escape leaves; the URL chooses and orders scenes', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, `${env.base}#bits=4`, { problems });
    await page.keyboard.press('p');
    await page.waitForSelector('.pm-bar');
    let s = await shown(page);
    assert.equal(s.scene, 'affine');
    assert.equal(s.count, '1 / 6');
    assert.equal(s.title, 'The affine map');
    assert.deepEqual(s.figures, ['fig-values', 'fig-mapping']);
    assert.deepEqual(s.controls, ['bits', 'scheme', 'dtype'], 'only the scene\'s controls');
    assert.equal(s.lab, false);
    assert.equal(s.header, false, 'no page chrome');
    assert.ok(s.fontSize >= 20, `large type (${s.fontSize}px)`);
    await page.waitForFunction(() => location.hash === '#present&bits=4');
    assert.ok(await page.evaluate(() => document.fullscreenElement === document.documentElement), 'full screen');
    // Charts grow with the screen in presenter mode.
    const h = await page.locator('#chart-values canvas').first().evaluate((c) => c.getBoundingClientRect().height);
    assert.ok(h >= 260, `chart height ${h}`);
    await page.screenshot({ path: path.join(shotsDir, 'present-affine-1280x800.png') });

    const seq = [];
    for (const key of ['ArrowRight', 'ArrowRight', 'PageDown', 'ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowLeft', 'Home', 'End']) {
      await page.keyboard.press(key);
      await page.waitForFunction(() => document.querySelector('.pm-bar')?.dataset.scene);
      seq.push((await shown(page)).scene);
    }
    assert.deepEqual(seq, ['per-channel', 'calibration', 'sweep', 'speed', 'draw', 'draw', 'speed', 'affine', 'draw']);
    s = await shown(page);
    assert.deepEqual(s.figures, ['lab-fig-draw']);
    assert.equal(s.explorer, false);
    await page.waitForFunction(() => location.hash === '#present&scene=draw&bits=4');

    // Arrow keys on a focused slider move the slider, not the scene.
    await page.keyboard.press('Home');
    await page.locator('#bits').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal((await shown(page)).scene, 'affine');
    await page.waitForFunction(() => window.__quantlab.state.bits === 5);
    // Escape leaves: the whole page again, at the section of the last scene.
    await page.locator('.pm-next').focus();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('.pm-bar'));
    s = await shown(page);
    assert.ok(s.explorer && s.lab && s.header, 'whole page back');
    await page.waitForFunction(() => location.hash === '#bits=5');
    assert.equal(await page.evaluate(() => document.fullscreenElement), null);

    // A lecturer's own scenes, in their order, straight from a link.
    const talk = await open(context, `${env.base}#present&scenes=sweep,affine,draw&lab.granularity=tensor`, { problems });
    s = await shown(talk);
    assert.equal(s.scene, 'sweep');
    assert.equal(s.count, '1 / 3');
    assert.deepEqual(s.figures, ['lab-fig-sweep']);
    await labSettled(talk, ['report', 'eval']);
    await talk.waitForFunction(() => window.__quantlab.lab.sweep?.points?.length >= 1, null, { timeout: 60000 });
    await talk.keyboard.press('ArrowRight');
    s = await shown(talk);
    assert.equal(s.scene, 'affine');
    // The lab is out of view now: its worker pauses, so the sweep stops where it is.
    await talk.waitForFunction(() => window.__quantlab.lab.visible === false);
    const n = await talk.evaluate(() => window.__quantlab.lab.sweep.points.length);
    await talk.waitForTimeout(1500);
    const m = await talk.evaluate(() => window.__quantlab.lab.sweep.points.length);
    assert.ok(m <= n + 1, `sweep paused out of view (${n} -> ${m} points)`);
    await talk.keyboard.press('ArrowRight');
    assert.equal((await shown(talk)).scene, 'draw');
    await talk.waitForFunction(() => window.__quantlab.lab.visible === true);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
