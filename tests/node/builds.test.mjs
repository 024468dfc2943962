// The page's builds leave out the exports the page never calls (Cargo feature `full`, off in
// www/pkg and www/pkg-relaxed; docs/size.md): they must leave out exactly those, and no script of
// the page (www/js, its workers, the benchmark page) may call one of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const LEFT_OUT = ['chooseQuantParams', 'dynamicQuantizeLinear', 'qlinearConv', 'qlinearMatMul', 'roundToBfloat16', 'roundToFloat16'];

/** The names a wasm-bindgen `--target web` glue file exports (functions and classes). */
function exportsOf(dir) {
  const js = readFileSync(path.join(root, dir, 'quantlab.js'), 'utf8');
  return [...js.matchAll(/^export (?:function|class) (\w+)/gm)].map((m) => m[1]).sort();
}

test('www/pkg and www/pkg-relaxed have the same exports: target/pkg-full\'s less exactly the ones the page never calls', () => {
  const full = exportsOf('target/pkg-full'), page = exportsOf('www/pkg');
  assert.ok(full.length > 20, `target/pkg-full exports ${full.length} names`);
  assert.deepEqual(full.filter((n) => !page.includes(n)), LEFT_OUT);
  assert.deepEqual(page.filter((n) => !full.includes(n)), []);
  assert.deepEqual(exportsOf('www/pkg-relaxed'), page);
});

test('no script of the page calls an export its builds leave out', () => {
  const found = [];
  const walk = (dir) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!['pkg', 'pkg-relaxed', 'vendor', 'data', 'models'].includes(e.name)) walk(rel);
      } else if (/\.(m?js|html)$/.test(e.name)) {
        const text = readFileSync(path.join(root, rel), 'utf8');
        for (const name of LEFT_OUT) if (new RegExp(`\\b${name}\\b`).test(text)) found.push(`${rel}: ${name}`);
      }
    }
  };
  walk('www');
  assert.deepEqual(found, []);
});
