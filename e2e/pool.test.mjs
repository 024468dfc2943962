// The lab's helper pool (js/lab/worker/pool.js): the sweep's parts are spread over one helper
// per spare core, and the figures do not depend on how many there are. `?helpers=N` sets the
// pool; the sweep says who measured it. Pools of 1, 2 and 3 helpers must show the same table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, guardedPage, labSettled, sweepTable } from './support.mjs';

const env = setup();

/** The lab with `helpers` helpers, once its sweep is complete: the table and the note. */
async function sweepWith(helpers) {
  const problems = [];
  const { context, page } = await guardedPage(env.browser, problems, { viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(`${env.base}?helpers=${helpers}#lab`);
    await page.waitForSelector('#lab[data-ready="true"]', { timeout: 30000 });
    await labSettled(page, ['report', 'eval', 'sweep'], 120000);
    const table = await sweepTable(page);
    const note = await page.locator('#lab-sweep-workers').evaluate((e) => ({ text: e.textContent, helpers: Number(e.dataset.helpers) }));
    assert.deepEqual(problems, [], `helpers=${helpers}`);
    return { table, note };
  } finally {
    await context.close();
  }
}

test('a sweep measured by 1, 2 or 3 helpers shows the same figures, and says who measured it', async () => {
  const runs = [];
  for (const n of [1, 2, 3]) runs.push(await sweepWith(n));
  for (const [i, n] of [1, 2, 3].entries()) {
    const { table, note } = runs[i];
    assert.equal(table.complete, true);
    assert.equal(note.helpers, n, note.text);
    assert.match(note.text, new RegExp(`lab's worker and ${n} helpers?, one per spare core`));
  }
  const [one, ...others] = runs.map((r) => ({ points: r.table.points, formats: r.table.formats }));
  assert.deepEqual(one.points.map((p) => p.bits), [8, 7, 6, 5, 4, 3, 2]);
  for (const other of others) assert.deepEqual(other, one);
});
