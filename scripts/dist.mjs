#!/usr/bin/env node
// `make dist`: writes dist/, the page as a folder of static files with relative paths only, to put
// on any static host (a course site, GitHub Pages, an LMS file area) or open from a USB stick
// behind `node scripts/serve.mjs --root dist`. Leaves out the benchmark (bench/, vendor/ort/) and
// build leftovers; writes dist/precache.json for the service worker; checks that no file refers
// to an absolute path or another origin.
//
// Usage: node scripts/dist.mjs [--out dist]     (after `make build`)
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pageFiles, writePrecache } from './precache.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const www = path.resolve(here, '..', 'www');
const args = process.argv.slice(2);
const out = path.resolve(here, '..', args.includes('--out') ? args[args.indexOf('--out') + 1] : 'dist');

for (const need of ['pkg/quantlab_bg.wasm', 'vendor/uPlot.esm.js']) {
  if (!(await stat(path.join(www, need)).catch(() => null))) {
    console.error(`www/${need} is missing: run \`make build\` first`);
    process.exit(1);
  }
}

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const files = [...await pageFiles(www), 'sw.js'];
for (const f of files) await cp(path.join(www, f), path.join(out, f));
await writeFile(path.join(out, '.nojekyll'), ''); // GitHub Pages: serve every file as it is

// Relative paths only: an absolute "/x" breaks under a course site's sub-folder; another origin
// breaks offline use and the page's promise to fetch nothing from elsewhere.
const BAD = [
  [/\b(?:src|href|action)\s*=\s*["']\/(?!\/)/, 'absolute path in an attribute'],
  [/\burl\(\s*["']?\/(?!\/)/, 'absolute path in url()'],
  [/\b(?:fetch|new URL|import)\s*\(\s*["'`]\/(?!\/)/, 'absolute path in a fetch/URL/import'],
  [/\bfrom\s+["']\/(?!\/)/, 'absolute import path'],
  [/\b(?:src|href)\s*=\s*["'](?:https?:)?\/\//, 'another origin in an attribute'],
];
const problems = [];
for (const f of files.filter((x) => /\.(html|css|m?js)$/.test(x) && !x.startsWith('vendor/'))) {
  const lines = (await readFile(path.join(out, f), 'utf8')).split('\n');
  lines.forEach((line, i) => {
    for (const [re, what] of BAD) if (re.test(line)) problems.push(`${f}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`);
  });
}
if (problems.length) {
  console.error(`dist: ${problems.length} path problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}

const { version } = await writePrecache(out);
let total = 0;
for (const f of files) total += (await stat(path.join(out, f))).size;
console.log(`${path.relative(process.cwd(), out)}/: ${files.length} files, ${(total / 1048576).toFixed(1)} MiB, precache version ${version}`);
console.log('Upload the folder as it is; open index.html over http(s) (a service worker needs it).');
