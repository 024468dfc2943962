#!/usr/bin/env node
// Writes <root>/precache.json: the files the service worker (www/sw.js) caches at install so the
// page works offline after one visit, and a version that changes with any of their contents.
// Run after the build (`make build`); scripts/dist.mjs runs it on dist/ too.
//
// Usage: node scripts/precache.mjs [--root www]
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Not part of the page: the benchmark and its peers (onnxruntime-web, tfjs), type declarations, ONNX files, half-built packages. */
export const EXCLUDE = [/^bench\//, /^vendor\/(ort|tfjs)\//, /^precache\.json$/, /^sw\.js$/, /\.d\.ts$/, /\.onnx$/, /(^|\/)\./, /^pkg[^/]*\.(tmp|old)\//, /\.map$/];

/** Every file under `root` the page may need, as sorted '/'-separated relative paths. */
export async function pageFiles(root) {
  const out = [];
  async function walk(dir) {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      const rel = path.relative(root, abs).split(path.sep).join('/');
      if (EXCLUDE.some((re) => re.test(rel + (e.isDirectory() ? '/' : '')))) continue;
      if (e.isDirectory()) await walk(abs);
      else if (e.isFile()) out.push(rel);
    }
  }
  await walk(root);
  return out.sort();
}

export async function writePrecache(root) {
  const files = await pageFiles(root);
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(f);
    hash.update(await readFile(path.join(root, f)));
  }
  const sw = await readFile(path.join(root, 'sw.js')).catch(() => Buffer.alloc(0));
  hash.update(sw);
  const manifest = { version: hash.digest('hex').slice(0, 16), files: ['./', ...files] };
  await writeFile(path.join(root, 'precache.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--root');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', i >= 0 ? args[i + 1] : 'www');
  const { version, files } = await writePrecache(root);
  console.log(`${path.relative(process.cwd(), root) || '.'}/precache.json: ${files.length} files, version ${version}`);
}
