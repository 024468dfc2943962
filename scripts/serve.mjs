#!/usr/bin/env node
// Serves www/ (or the folder given with --root) on 127.0.0.1. Static files only, correct MIME
// types (application/wasm), no caching during development.
//
// By default it sends Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy so the page is
// cross-origin isolated and performance.now() has fine resolution (about 5 us instead of 100 us).
// --no-isolation serves without them, as a course site or an LMS would.
//
// Usage: node scripts/serve.mjs [--port 8080] [--root www] [--no-isolation] [--quiet]
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', opt('--root', 'www'));
const port = Number(opt('--port', process.env.PORT || 8080));
const host = opt('--host', '127.0.0.1');
const isolate = !args.includes('--no-isolation');
const quiet = args.includes('--quiet');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png',
  '.svg': 'image/svg+xml', '.bin': 'application/octet-stream', '.gz': 'application/gzip', '.safetensors': 'application/octet-stream',
  '.ico': 'image/x-icon', '.webmanifest': 'application/manifest+json', '.txt': 'text/plain; charset=utf-8',
};

export function createServer({ rootDir = root, isolation = isolate, extraHeaders = {} } = {}) {
  return http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      let p = path.normalize(decodeURIComponent(url.pathname));
      let file = path.join(rootDir, p);
      if (!file.startsWith(rootDir)) { res.writeHead(403).end('forbidden'); return; }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = path.join(file, 'index.html');
      const body = await readFile(file);
      const headers = {
        'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
        'Cache-Control': 'no-cache',
        ...extraHeaders,
      };
      if (isolation) {
        headers['Cross-Origin-Opener-Policy'] = 'same-origin';
        headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
        headers['Cross-Origin-Resource-Policy'] = 'same-origin';
      }
      res.writeHead(200, headers).end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  createServer().listen(port, host, () => {
    if (!quiet) {
      console.log(`quantlab is served from ${path.relative(process.cwd(), root) || '.'}/ ` +
        `${isolate ? 'with' : 'without'} cross-origin isolation.`);
      console.log(`Open  http://${host}:${port}/  (Ctrl-C stops the server)`);
    }
  });
}
