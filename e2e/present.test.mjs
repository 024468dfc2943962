// Presenter mode: the key P enters it (full screen, large type, one scene at a time); arrow keys,
// PageUp/PageDown, Home/End step through the scenes; a lecturer's own list and order of scenes
// comes from the URL or the scene picker beside the Present button; Escape leaves. Out-of-view
// sections do no work, except that a talk with lab scenes keeps the lab working, so the sweep is
// measured before its scene comes. On a 1920x1080 projector the charts fill the scene with text
// of at least 20 px, each scene says its takeaway, and the speed scene times on arrival.
// Screenshots: e2e/screenshots/present-affine-1280x800.png, present-{sweep,speed,draw}-1920x1080.png.
//
// Run: node --test e2e/present.test.mjs    (needs www/pkg built and www/vendor copied)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setup, open, labSettled, shotsDir } from './support.mjs';
import { VIEWS } from '../www/js/views.js';

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
    await page.waitForFunction(() => document.getElementById('k-ratio-sub').textContent.endsWith('packed at 5 bits'));
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
    await talk.keyboard.press('ArrowRight');
    s = await shown(talk);
    assert.equal(s.scene, 'affine');
    assert.equal(s.lab, false);
    // The talk has lab scenes still to come, so the lab works on while the explorer is shown
    // (checked once the observer has seen the explorer come into view and the lab leave).
    // (The debug mirror: what each section has been told about being in view shows nowhere.)
    await talk.waitForFunction(() => window.__quantlab.lecture.visibility.visible.explorer === true);
    assert.equal(await talk.evaluate(() => window.__quantlab.lab.visible), true, 'the lab keeps working for its next scene');
    await talk.keyboard.press('ArrowRight');
    assert.equal((await shown(talk)).scene, 'draw');
    // A talk without lab scenes: the lab is out of view and told so (its worker pauses).
    const explorerTalk = await open(context, `${env.base}#present&scenes=affine,calibration`, { problems });
    await explorerTalk.waitForFunction(() => window.__quantlab.lecture.visibility.visible.explorer === true);
    assert.equal(await explorerTalk.evaluate(() => window.__quantlab.lab.visible), false, 'no lab scene: the lab pauses');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

/**
 * The charts drawn in `ids`, as charts.js reports them (size, scale, fonts) and as laid out.
 * (The debug mirror: the scale and fonts a chart is drawn at are inside its canvas.)
 */
const charts = (page, ids) => page.evaluate((want) => window.__quantlab.lecture.charts
  .filter((c) => want.includes(c.id))
  .map((c) => ({ ...c, boxHeight: document.getElementById(c.id).querySelector('canvas').getBoundingClientRect().height })), ids);

/** Checks that the scene's charts `ids` fill at least 45 % of the screen with text of 20 px or more. */
async function projected(page, ids, what) {
  // The charts are made again at the projector's scale after the mode's frame: wait for that.
  await page.waitForFunction((want) => {
    const cs = window.__quantlab.lecture.charts.filter((c) => want.includes(c.id));
    return cs.length === want.length && cs.every((c) => c.scale > 1);
  }, ids);
  for (const c of await charts(page, ids)) {
    assert.ok(c.boxHeight >= 0.45 * 1080, `${what}: #${c.id} is ${c.boxHeight} px tall on a 1080 px screen`);
    assert.ok(Math.min(...c.axisFontPx, ...c.labelFontPx) >= 20, `${what}: #${c.id} axis text ${c.axisFontPx} / labels ${c.labelFontPx} px`);
  }
}

test('present at 1920x1080: charts fill the scene in large type, takeaways, the lab prepares its scenes', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1 });
  try {
    // A quick timing (16 images, 7 runs), so its scene is not a long wait.
    const page = await open(context, `${env.base}#present&lab.batch=16&lab.runs=7`, { problems });
    const scene = () => page.locator('.pm-bar').getAttribute('data-scene');
    const takeaway = () => page.locator('.pm-takeaway').evaluate((el) => ({
      text: el.textContent, visible: el.checkVisibility(), fits: el.scrollWidth <= el.clientWidth,
      below: el.getBoundingClientRect().bottom <= document.querySelector('.pm-bar').getBoundingClientRect().bottom,
    }));
    assert.equal(await scene(), 'affine');
    await projected(page, ['chart-values', 'chart-mapping'], 'affine');
    assert.equal(await page.locator('#lab-timing .hbar-row').count(), 0, 'no timing before its scene');

    // The talk has lab scenes: the lab measures its sweep while the explorer's scenes are shown.
    await page.waitForSelector('#lab-sweep-table tbody tr[data-bits]', { state: 'attached', timeout: 60000 });
    for (const name of ['affine', 'per-channel', 'calibration', 'sweep', 'speed', 'draw']) {
      if (name !== 'affine') {
        await page.keyboard.press('ArrowRight');
        assert.equal(await scene(), name);
      }
      const t = await takeaway();
      assert.equal(t.text, VIEWS[name].takeaway, `${name}: its takeaway`);
      assert.ok(t.visible && t.fits && t.below, `${name}: the takeaway is shown whole in the bar (${JSON.stringify(t)})`);
      if (name === 'sweep') {
        // It began before this scene (waited for above); it is complete soon after arrival.
        await page.waitForSelector('#lab-sweep-table[data-ms]', { state: 'attached', timeout: 60000 });
        await projected(page, ['lab-chart-sweep-acc'], 'sweep');
        await page.screenshot({ path: path.join(shotsDir, 'present-sweep-1920x1080.png') });
      }
      if (name === 'speed') {
        // Arriving is the request: the timing starts now, once (the mirror: which task the presenter started).
        assert.deepEqual(await page.evaluate(() => window.__quantlab.lecture.presenter.runs), [{ task: 'timing', scene: 'speed' }]);
        await page.waitForFunction(() => document.querySelectorAll('#lab-timing .hbar-row').length >= 3, null, { timeout: 60000 });
        await page.screenshot({ path: path.join(shotsDir, 'present-speed-1920x1080.png') });
      }
      if (name === 'draw') {
        const pad = await page.locator('#lab-draw').boundingBox();
        assert.ok(pad.width >= 500 && Math.abs(pad.width - pad.height) < 2, `a large square pad (${pad.width}x${pad.height})`);
        // A 7, drawn on the large pad (in the pad's own 280-unit coordinates), is classified.
        const at = (x, y) => [pad.x + (x / 280) * pad.width, pad.y + (y / 280) * pad.height];
        await page.mouse.move(...at(70, 60));
        await page.mouse.down();
        for (const [x, y] of [[140, 60], [210, 60], [180, 130], [150, 200], [130, 240]]) await page.mouse.move(...at(x, y), { steps: 6 });
        await page.mouse.up();
        await page.waitForFunction(() => /^\d$/.test(document.getElementById('lab-draw-fp32').textContent), null, { timeout: 30000 });
        await page.screenshot({ path: path.join(shotsDir, 'present-draw-1920x1080.png') });
      }
    }
    // Back and forth again: the timing is not run twice.
    await page.keyboard.press('ArrowLeft');
    assert.equal(await scene(), 'speed');
    assert.equal((await page.evaluate(() => window.__quantlab.lecture.presenter.runs)).length, 1);

    // Leaving presenter mode gives the page its own chart sizes back.
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => window.__quantlab.lecture.charts.every((c) => c.scale === 1));
    const back = await charts(page, ['chart-values']);
    assert.deepEqual(back[0].axisFontPx, [14, 14]);
    assert.ok(back[0].height < 400, `chart-values ${back[0].height} px high on the page`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('present: the scene picker chooses and orders the scenes from the keyboard and writes the URL', async () => {
  const problems = [];
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await open(context, env.base, { problems });
    const rows = () => page.locator('#scene-list li').evaluateAll((lis) => lis.map((li) => `${li.querySelector('input').checked ? '+' : '-'}${li.dataset.scene}`));
    const focused = () => page.evaluate(() => {
      const el = document.activeElement;
      return `${el.closest('[data-scene]')?.dataset.scene} ${el.tagName === 'INPUT' ? 'tick' : el.dataset.move === '-1' ? 'earlier' : el.dataset.move === '1' ? 'later' : el.id}`;
    });
    await page.locator('#share-scenes summary').focus();
    await page.keyboard.press('Enter');
    await page.locator('#scene-list').waitFor();
    assert.deepEqual((await rows()).slice(0, 7), ['+affine', '+per-channel', '+calibration', '+sweep', '+speed', '+draw', '-explorer']);

    // Untick a scene with the space bar; the focus stays on its box, now among the unticked.
    await page.locator('[data-scene="per-channel"] input').focus();
    await page.keyboard.press('Space');
    assert.equal(await focused(), 'per-channel tick');
    // Move "draw" two places earlier with its ↑ button; the focus follows it.
    await page.locator('[data-scene="draw"] button[data-move="-1"]').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    assert.equal(await focused(), 'draw earlier');
    // Tick a single figure: it joins at the end.
    await page.locator('[data-scene="lab.accuracy"] input').focus();
    await page.keyboard.press('Space');
    const talk = ['affine', 'calibration', 'draw', 'sweep', 'speed', 'lab.accuracy'];
    assert.deepEqual((await rows()).slice(0, 6), talk.map((n) => `+${n}`));
    await page.waitForFunction((want) => location.hash === `#scenes=${want}`, talk.join(','));

    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#share-scenes').evaluate((d) => d.open), false, 'Escape closes the picker');
    assert.ok(await page.evaluate(() => document.activeElement === document.querySelector('#share-scenes summary')), 'and gives the focus back to its button');

    // "Present these scenes" presents the talk as chosen.
    await page.keyboard.press('Enter');
    await page.locator('#scenes-start').click();
    await page.waitForSelector('.pm-bar');
    assert.equal(await page.locator('.pm-count').textContent(), '1 / 6');
    await page.keyboard.press('End');
    assert.equal(await page.locator('.pm-bar').getAttribute('data-scene'), 'lab.accuracy');
    await page.waitForFunction((want) => location.hash === `#present&scenes=${want}&scene=lab.accuracy`, talk.join(','));

    // The link is the talk: opened again, the picker shows it in its order.
    const again = await open(context, `${env.base}#scenes=${talk.join(',')}`, { problems });
    await again.locator('#share-scenes summary').click();
    await again.locator('#scene-list').waitFor();
    assert.deepEqual((await again.locator('#scene-list li').evaluateAll((lis) => lis.map((li) => `${li.querySelector('input').checked ? '+' : '-'}${li.dataset.scene}`))).slice(0, 7),
      [...talk.map((n) => `+${n}`), '-per-channel']);
    await again.locator('#scene-list').screenshot({ path: path.join(shotsDir, 'present-scene-picker.png') });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
