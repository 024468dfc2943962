// Embedding: the "Embed" panel's <iframe> snippets, pasted into a course page on another origin
// (page on 127.0.0.1, course page on localhost; the page served without cross-origin isolation
// headers, as a course site would), show one view each without the page chrome, with controls
// locked or hidden; the course page drives them through postMessage (set, get, errors) and gets
// their results; an embed scrolled out of view does no work until it is back (while a copy of it
// in view measures a whole bit-width sweep for the same setting). The snippet's few
// lines of script make each iframe as tall as its content, at any width, and listen to nothing
// but their own iframes; the Embed menu starts at the figure in view. Screenshots:
// e2e/screenshots/embed-course-page.png, embed-course-390.png, embed-panel-1280x800.png.
//
// Run: node --test e2e/embed.test.mjs    (needs www/pkg built and www/vendor copied)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launch, serve, close, open, setControl, watch, labSettled, shotsDir } from './support.mjs';
import { VIEWS } from '../www/js/views.js';

let browser;
let web;
let course;
let coursePage = '<p>not set</p>';

before(async () => {
  browser = await launch();
  web = await serve({ isolation: false });
  course = await serve({
    host: 'localhost',
    handler: (req, res) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(coursePage),
  });
  await mkdir(shotsDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  await close(web?.server);
  await close(course?.server);
});

/** The snippet the Embed panel gives for `view` with `controls`. */
async function snippet(page, view, controls) {
  await page.locator('#share-view').selectOption(view);
  await page.locator('#share-controls').selectOption(controls);
  return page.locator('#share-code').inputValue();
}

test('embed: snippets in a course page on another origin, driven through postMessage; no work out of view', async () => {
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1100, height: 1000 }, deviceScaleFactor: 1 });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  try {
    // The course author sets up the explorer and copies the embed code.
    const author = await open(context, web.base, { problems });
    await setControl(author, 'bits', 6);
    await author.waitForFunction(() => location.hash === '#bits=6');
    await author.locator('#share-embed summary').click();
    const affine = await snippet(author, 'affine', 'locked');
    await author.locator('#copy-embed').click();
    assert.equal(await author.evaluate(() => navigator.clipboard.readText()), affine, 'Copy embed code copies the snippet');
    const sweep = await snippet(author, 'sweep', 'hidden');
    console.log(`embed snippet: ${affine.replace(/127\.0\.0\.1:\d+/, 'HOST')}`);
    assert.match(affine, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/#embed=affine&amp;controls=locked&amp;bits=6" title="quantlab: The affine map" width="100%" height="\d+" loading="lazy"/);
    await author.close();

    coursePage = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Week 5: quantization</title>' +
      '<script>window.msgs = []; addEventListener("message", (e) => window.msgs.push({ origin: e.origin, ' +
      'frame: [...document.querySelectorAll("iframe")].findIndex((f) => f.contentWindow === e.source), data: e.data }));</script>' +
      '<style>body { font: 16px system-ui; margin: 16px; max-width: 1000px; } iframe { display: block; margin: 12px 0; }</style></head>' +
      '<body><h1>Week 5: INT8 quantization</h1><p>Move the bits and watch the staircase.</p>' +
      `${affine}<p>And the whole network, measured at each bit width:</p>${sweep}<div style="height: 3000px"></div><p id="end">end</p>` +
      // The same sweep again at the end of the page: in view when the first one is scrolled out.
      `${sweep}</body></html>`;
    const page = await context.newPage();
    watch(page, problems);
    await page.goto(course.base);
    const msgs = (frame, type, kind) => page.evaluate(([f, t, k]) => window.msgs.filter((m) => m.frame === f && m.data.type === t && (!k || m.data.kind === k)).map((m) => ({ ...m.data, origin: m.origin })), [frame, type, kind]);
    const waitMsg = (frame, type, test = '() => true', timeout = 60000) => page.waitForFunction(([f, t, src]) => {
      const ok = eval(src);
      return window.msgs.some((m) => m.frame === f && m.data.type === t && ok(m.data));
    }, [frame, type, test], { timeout });
    const send = (frame, msg) => page.evaluate(([f, m]) => document.querySelectorAll('iframe')[f].contentWindow.postMessage(m, '*'), [frame, msg]);

    await waitMsg(0, 'quantlab:ready');
    await waitMsg(1, 'quantlab:ready');
    const [ready0] = await msgs(0, 'quantlab:ready');
    assert.equal(ready0.view, 'affine');
    assert.equal(ready0.crossOriginIsolated, false);
    assert.equal(ready0.state.explorer.bits, 6, 'the settings travel in the snippet');
    assert.match(ready0.origin, /^http:\/\/127\.0\.0\.1:/);
    assert.match(ready0.timer, /not cross-origin isolated/);

    // The embeds: one view each, no page chrome, the timer said on the page, controls locked / hidden.
    const frame = async (i) => (await page.locator('iframe').nth(i).elementHandle()).contentFrame();
    const f0 = await frame(0);
    const f1 = await frame(1);
    const look = (f) => f.evaluate(() => {
      const vis = (sel) => [...document.querySelectorAll(sel)].some((e) => e.getClientRects().length > 0);
      return {
        header: vis('.app-header'), explorer: vis('#explorer'), lab: vis('#lab'), controls: vis('.controls'),
        bitsLocked: document.getElementById('bits').matches(':disabled'), bar: document.querySelector('.embed-bar')?.textContent,
        overflowX: document.documentElement.scrollWidth - innerWidth,
        overflowY: document.documentElement.scrollHeight - innerHeight,
      };
    });
    const l0 = await look(f0);
    assert.deepEqual([l0.header, l0.explorer, l0.lab, l0.controls, l0.bitsLocked], [false, true, false, true, true]);
    assert.match(l0.bar, /The affine map.*not cross-origin isolated.*Open the full page/);
    assert.ok(l0.overflowX <= 0 && l0.overflowY <= 0, `fits its iframe (${l0.overflowX}, ${l0.overflowY} px over)`);
    const l1 = await look(f1);
    assert.deepEqual([l1.header, l1.explorer, l1.lab, l1.controls], [false, false, true, false]);

    // Drive the explorer embed: set, results, get, errors.
    await send(0, { type: 'quantlab:set', id: 'a', state: { explorer: { bits: 3, scheme: 'asymmetric' } } });
    await waitMsg(0, 'quantlab:state', '(d) => d.id === "a"');
    await waitMsg(0, 'quantlab:result', '(d) => d.kind === "analysis" && d.result.bits === 3');
    const [reply] = await msgs(0, 'quantlab:state');
    assert.equal(reply.state.explorer.bits, 3);
    assert.equal(reply.hash, '#embed=affine&controls=locked&bits=3&scheme=asymmetric');
    const analysis = (await msgs(0, 'quantlab:result', 'analysis')).find((r) => r.result.bits === 3).result;
    assert.equal(analysis.qmax - analysis.qmin + 1, 8, '3 bits: 8 levels');
    assert.ok(analysis.sqnrDb > 5 && analysis.sqnrDb < 25, `SQNR ${analysis.sqnrDb}`);
    assert.equal(await f0.locator('#k-sqnr').innerText(), `${analysis.sqnrDb.toFixed(1)} dB`, 'the embed shows what it reports');
    await send(0, { type: 'quantlab:get', id: 'g' });
    await waitMsg(0, 'quantlab:state', '(d) => d.id === "g" && d.state.explorer.scheme === "asymmetric"');
    await send(0, { type: 'quantlab:set', id: 'e1', state: { explorer: { bits: 12 } } });
    await send(0, { type: 'quantlab:set', id: 'e2', state: { explorer: { colour: 'red' } } });
    await waitMsg(0, 'quantlab:error', '(d) => d.id === "e2"');
    const errors = await msgs(0, 'quantlab:error');
    assert.match(errors[0].message, /state\.explorer\.bits: 12 is not a valid value/);
    assert.match(errors[1].message, /state\.explorer\.colour: unknown setting/);
    assert.equal(await f0.locator('#bits').inputValue(), '3', 'a refused message changes nothing');

    // The lab embed reports its evaluation; a new setting gives a new one.
    await waitMsg(1, 'quantlab:result', '(d) => d.kind === "eval"');
    await send(1, { type: 'quantlab:set', id: 'w2', state: { lab: { weightBits: 2 } } });
    await waitMsg(1, 'quantlab:result', '(d) => d.kind === "eval" && d.state.weightBits === 2');
    const evals = await msgs(1, 'quantlab:result', 'eval');
    assert.ok(evals[0].result.int8Accuracy > 0.9, `8-bit accuracy ${evals[0].result.int8Accuracy}`);
    assert.ok(evals.at(-1).result.int8Accuracy < evals[0].result.int8Accuracy, '2-bit weights cost accuracy');
    await page.waitForFunction(() => window.msgs.some((m) => m.frame === 1 && m.data.kind === 'sweep' && m.data.state.weightBits === 2 && m.data.result.complete), null, { timeout: 60000 });
    await page.screenshot({ path: path.join(shotsDir, 'embed-course-page.png'), fullPage: true, clip: { x: 0, y: 0, width: 1100, height: 1480 } });

    // Scrolled out of the course page's view, the embeds do no work; back in view, they catch up.
    // What proves "no work" without a sleep: the copy of the sweep embed at the end of the page,
    // now in view, is sent the same setting and measures its evaluation and then its whole sweep
    // (7 bit widths and 2 float formats, many evaluations' worth of work); by then the embed out
    // of view, if it worked, would long have posted its one evaluation. It has posted nothing.
    const historyBefore = await page.evaluate(() => history.length);
    await page.evaluate(() => document.getElementById('end').scrollIntoView());
    // Poll on a timer: Chromium stops animation frames in a cross-origin iframe scrolled out of
    // view, so waitForFunction's default (requestAnimationFrame) polling would never look again.
    // (The debug mirror: whether the lab has been told it is out of view shows on no screen.)
    await f1.waitForFunction(() => window.__quantlab.lab.visible === false, null, { polling: 100 });
    await waitMsg(2, 'quantlab:ready'); // (loading="lazy": the copy loads once scrolled near)
    for (const f of [1, 2]) await send(f, { type: 'quantlab:set', id: `w3-${f}`, state: { lab: { weightBits: 3 } } });
    await waitMsg(1, 'quantlab:state', '(d) => d.id === "w3-1"');
    await waitMsg(2, 'quantlab:result', '(d) => d.kind === "eval" && d.state.weightBits === 3');
    await waitMsg(2, 'quantlab:result', '(d) => d.kind === "sweep" && d.state.weightBits === 3 && d.result.complete', 120000);
    const outOfView = (await msgs(1, 'quantlab:result')).filter((d) => d.state.weightBits === 3);
    assert.deepEqual(outOfView.map((d) => d.kind), [], 'no result while out of view, in the time the embed in view measured a whole sweep');
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitMsg(1, 'quantlab:result', '(d) => d.kind === "eval" && d.state.weightBits === 3');
    assert.equal(await page.evaluate(() => history.length), historyBefore, 'embeds add nothing to the course page\'s history');
    // (The debug mirror: the lab's section is hidden in this embed, so no element can show its worker.)
    assert.equal(await f0.evaluate(() => window.__quantlab.lab.workerReady), false, 'the explorer embed never loaded the lab');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('embed: the snippet sizes its iframe on a cross-origin course page; the Embed menu starts at the figure in view', async () => {
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    // The Embed menu offers the figure nearest the middle of the screen (once the lab has drawn
    // every view: until then its figures grow as results arrive, and move what is in view).
    const author = await open(context, `${web.base}#lab.wbits=6`, { problems });
    await author.evaluate(() => document.getElementById('lab').scrollIntoView());
    await labSettled(author, ['report', 'eval', 'sens', 'sweep'], 90000);
    const menuFor = async (id) => {
      await author.evaluate((el) => document.getElementById(el).scrollIntoView({ block: 'center' }), id);
      const opened = await author.evaluate(() => window.__quantlab.lecture.share.embedOpened);
      await author.locator('#share-embed summary').click();
      await author.waitForFunction((n) => window.__quantlab.lecture.share.embedOpened > n, opened);
      return author.locator('#share-view').inputValue();
    };
    assert.equal(await menuFor('fig-errors'), 'explorer.errors');
    await author.keyboard.press('Escape');
    assert.equal(await menuFor('lab-fig-sweep'), 'sweep');
    await author.keyboard.press('Escape');
    assert.equal(await menuFor('lab-fig-accuracy'), 'lab.accuracy');
    await author.screenshot({ path: path.join(shotsDir, 'embed-panel-1280x800.png') });
    // Two variants: with the auto-height script (the default) and the bare iframe.
    const withScript = await author.locator('#share-code').inputValue();
    await author.locator('#share-sizing').selectOption('fixed');
    const bare = await author.locator('#share-code').inputValue();
    assert.match(withScript, /^<iframe [^>]* height="\d+" [^>]* data-quantlab><\/iframe>\n<script>[^]*quantlab:size[^]*<\/script>$/);
    assert.match(bare, new RegExp(`^<iframe [^>]*#embed=lab\\.accuracy&amp;lab\\.wbits=6" [^>]* height="${VIEWS['lab.accuracy'].height}" [^>]*style="border: 0; max-width: 100%;"></iframe>$`));
    await author.close();

    // A course page on another origin, 390 px wide (a phone), with the snippet pasted as it is.
    coursePage = '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
      '<title>Week 5 on a phone</title><script>window.msgs = []; addEventListener("message", (e) => window.msgs.push({ ' +
      'own: e.source === window, data: e.data }));</script>' +
      // A scrollbar from the start, so the iframe's growing does not also narrow it (which would
      // reflow the embed once more, and make "settled" a moving target for the test).
      '<style>html { overflow-y: scroll; } body { font: 16px system-ui; margin: 12px; }</style></head>' +
      `<body><h1>Where INT8 and FP32 disagree</h1>${withScript}<p id="after">After the figure.</p></body></html>`;
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await phone.newPage();
    watch(page, problems);
    await page.goto(course.base);
    const frame = () => page.frames().find((f) => f.url().includes('embed=lab.accuracy'));
    await page.waitForFunction(() => window.msgs.some((m) => m.data.type === 'quantlab:ready'), null, { timeout: 30000 });
    await labSettled(frame(), ['report', 'eval'], 60000);
    await frame().waitForSelector('#lab-flipped .thumb', { timeout: 60000 });
    // Settled: the iframe is as tall as the embed's content, and that is what the embed said last.
    const sized = async () => {
      const h = await (await frame().waitForFunction(() => {
        const content = Math.ceil(document.body.getBoundingClientRect().height);
        return Math.abs(content - innerHeight) <= 1 && innerHeight;
      })).jsonValue();
      const last = await page.evaluate(() => window.msgs.filter((m) => m.data.type === 'quantlab:size').at(-1).data.height);
      assert.equal(h, last, 'the iframe has the height the embed reported');
      return h;
    };
    const narrow = await sized();
    assert.ok(narrow > VIEWS['lab.accuracy'].height, `at 390 px the iframe grew past the snippet's ${VIEWS['lab.accuracy'].height} px (${narrow} px)`);
    const inside = () => frame().evaluate(() => ({
      over: document.documentElement.scrollHeight - innerHeight,
      figureBottom: document.getElementById('lab-fig-accuracy').getBoundingClientRect().bottom,
      height: innerHeight,
    }));
    let f = await inside();
    assert.ok(f.over <= 0 && f.figureBottom <= f.height, `the accuracy figure is not cut off (${JSON.stringify(f)})`);
    // (On a screen tall enough to hold it: Chromium does not paint an out-of-process frame's
    // part below the viewport, so a full-page screenshot would show it cut.)
    await page.setViewportSize({ width: 390, height: 1400 });
    await page.screenshot({ path: path.join(shotsDir, 'embed-course-390.png') });

    // Wider, the content is shorter, and so is the iframe.
    await page.setViewportSize({ width: 1100, height: 844 });
    await frame().waitForFunction((h) => innerHeight < h, narrow);
    const wide = await sized();
    f = await inside();
    assert.ok(wide < narrow && f.over <= 0 && f.figureBottom <= f.height, `at 1100 px: ${wide} px (${JSON.stringify(f)})`);

    // A size message from anyone but the embed (here the course page itself) changes nothing.
    await page.evaluate(() => window.postMessage({ type: 'quantlab:size', height: 40 }, '*'));
    await page.waitForFunction(() => window.msgs.some((m) => m.own && m.data.height === 40));
    assert.equal(await page.locator('iframe').evaluate((el) => Math.round(el.getBoundingClientRect().height)), Math.round(wide));
    await phone.close();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
