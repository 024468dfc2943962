#!/usr/bin/env node
// Runs the end-to-end tests (e2e/*.test.mjs) one file at a time with node's test runner. Nothing
// is rerun: a file that fails fails the run (a flaky test is a defect to find and fix, and a rerun
// would hide it). Every file still runs, so one run of this slow suite names every failing file
// rather than only the first. Ends with "e2e: N passed, N failed"; exits 1 if any file failed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'e2e');
const only = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.test.mjs') && (!only.length || only.some((o) => f.includes(o)))).sort();
const counts = { passed: 0, failed: 0 };
const failed = [];

function run(file) {
  const r = spawnSync(process.execPath, ['--test', path.join(dir, file)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout);
  const n = (name) => Number((r.stdout.match(new RegExp(`^# ${name} (\\d+)`, 'm')) || [])[1] || 0);
  return { ok: r.status === 0, pass: n('pass'), fail: n('fail') };
}

for (const file of files) {
  console.log(`\n== e2e/${file} ==`);
  const r = run(file);
  if (!r.ok) failed.push(file);
  counts.passed += r.pass;
  // A file that exits non-zero with no failed test (a crash in a hook) still counts as a failure.
  counts.failed += r.ok ? r.fail : Math.max(1, r.fail);
}
if (failed.length) console.log(`\nFAILED: ${failed.join(', ')}`);
console.log(`\ne2e: ${counts.passed} passed, ${counts.failed} failed`);
process.exit(failed.length ? 1 : 0);
