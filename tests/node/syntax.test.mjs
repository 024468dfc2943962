// Every script of the page, its workers, the benchmark pages and the build scripts parses: some
// of them (the benchmark's workers, scripts run by hand) are loaded by no other test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const scripts = (dir) => readdirSync(path.join(root, dir), { recursive: true })
  .filter((f) => /\.m?js$/.test(f))
  .map((f) => path.join(dir, f));

test('every script parses', async () => {
  const files = ['www/js', 'www/bench', 'scripts', 'e2e'].flatMap(scripts).concat(['www/sw.js']);
  assert.ok(files.length > 40, `found ${files.length} scripts`);
  const check = (f) => promisify(execFile)(process.execPath, ['--check', path.join(root, f)])
    .then(() => null, (e) => `${f}: ${e.stderr.split('\n').slice(0, 5).join('\n')}`);
  // Two at a time (the machine's two cores).
  const failed = [];
  for (let i = 0; i < files.length; i += 2) failed.push(...(await Promise.all(files.slice(i, i + 2).map(check))).filter(Boolean));
  assert.deepEqual(failed, []);
});
