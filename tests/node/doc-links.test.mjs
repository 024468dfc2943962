// The docs are maps, so their links must lead somewhere: every relative link (and image) in
// README.md, ARCHITECTURE.md and docs/*.md names a file or folder of this repository, and nothing
// in the repository points outside it (the project once cited notes beside the checkout,
// ../shared/*.md, which a clone does not have).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const docs = ['README.md', 'ARCHITECTURE.md',
  ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The targets of a Markdown file's inline links and images, outside code blocks and code spans. */
function links(text) {
  const prose = text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
}

test('every relative link in the docs resolves to a file of the repository', () => {
  const broken = [];
  let checked = 0;
  for (const doc of docs) {
    for (const target of links(readFileSync(path.join(root, doc), 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // a URL or an anchor
      const file = path.resolve(root, path.dirname(doc), decodeURIComponent(target.split('#')[0]));
      checked++;
      if (path.relative(root, file).startsWith('..')) broken.push(`${doc}: ${target} leaves the repository`);
      else if (!existsSync(file)) broken.push(`${doc}: ${target} does not exist`);
    }
  }
  assert.ok(docs.length >= 8 && checked >= 30, `checked ${checked} links in ${docs.length} files`);
  assert.deepEqual(broken, []);
});

test('the docs link every page of docs/ from README.md', () => {
  const readme = links(readFileSync(path.join(root, 'README.md'), 'utf8'));
  const missing = docs.filter((d) => d.startsWith('docs/') && !readme.includes(d));
  assert.deepEqual(missing, []);
});

test('nothing in the repository refers to ../shared/', () => {
  const skip = new Set(['node_modules', 'target', 'pkg', 'pkg-relaxed', 'vendor', 'dist', '.git', 'screenshots']);
  const text = /\.(md|js|mjs|rs|py|toml|sh|html|css|json)$|^Makefile$/;
  const found = [];
  const walk = (dir) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!skip.has(e.name)) walk(rel);
      } else if (text.test(e.name) && !rel.startsWith(path.join('tests', 'golden'))
        && readFileSync(path.join(root, rel), 'utf8').includes('../shared/')) {
        found.push(rel);
      }
    }
  };
  walk('.');
  // (This file names the string it looks for.)
  assert.deepEqual(found.filter((f) => f !== path.join('tests', 'node', 'doc-links.test.mjs')), []);
});
