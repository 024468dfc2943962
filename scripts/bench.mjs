#!/usr/bin/env node
// `make bench`: times the baseline CNN's forward pass in headless Chromium, inside a Web Worker,
// with quantlab (FP32, simulated INT8, true INT8) and onnxruntime-web 1.30 (wasm backend, one
// thread, SIMD; FP32 and INT8 ONNX models), at batch 1 and 64. The work is in www/bench/worker.js;
// this script serves www/ on 127.0.0.1 with cross-origin isolation (fine performance.now()),
// opens www/bench/index.html and collects the result.
//
// Usage: node scripts/bench.mjs [--quick] [--json-only]
//   --quick      a few runs per cell instead of >= 30 runs and >= 2 s (a smoke test, ~20 s)
//   --json-only  nothing on stderr but errors
// Output: one JSON object on stdout; a readable table on stderr. Exits 1 on any failure,
// including any request to a host other than 127.0.0.1.
//
// Needs: www/pkg (make build), www/models/baseline-cnn{,.int8}.onnx (committed; regenerate with
// scripts/onnx/export.py), and node_modules/onnxruntime-web, whose wasm-backend files this script
// copies into www/vendor/ort/ (gitignored, like the rest of www/vendor/).
import { copyFile, mkdir, access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from './serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const www = path.join(repo, 'www');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonOnly = args.includes('--json-only');
const unknown = args.filter((a) => !['--quick', '--json-only'].includes(a));
const log = (...a) => { if (!jsonOnly) console.error(...a); };

// The ESM entry of the wasm-only build and the module + binary it loads (plain SIMD build; the
// JSEP/JSPI/asyncify variants are for WebGPU/WebNN and are not needed).
const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];

async function need(file, hint) {
  await access(file).catch(() => { throw new Error(`${path.relative(repo, file)} is missing: ${hint}`); });
}

async function vendorOrt() {
  const src = path.join(repo, 'node_modules', 'onnxruntime-web', 'dist');
  const dst = path.join(www, 'vendor', 'ort');
  await mkdir(dst, { recursive: true });
  for (const f of ORT_FILES) {
    await need(path.join(src, f), 'run `npm install` (onnxruntime-web is a devDependency)');
    await copyFile(path.join(src, f), path.join(dst, f));
  }
}

const pad = (s, n, left = false) => (left ? String(s).padEnd(n) : String(s).padStart(n));
const f = (v) => (v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(3) : v.toFixed(4));

function renderTable(r) {
  const m = r.machine;
  const lines = [];
  lines.push(`quantlab ${r.versions.quantlab} vs onnxruntime-web ${r.versions.onnxruntimeWeb}` +
    `${r.config.quick ? '  (QUICK run: numbers are rough)' : ''}`);
  lines.push(`${m.userAgent}`);
  lines.push(`${r.host.cpuModel}; 1-min load average ${r.host.loadAvg1mStart.toFixed(2)} at start, ` +
    `${r.host.loadAvg1mEnd.toFixed(2)} at end (the bench itself adds about 1)`);
  lines.push(`${m.hardwareConcurrency} logical cores, crossOriginIsolated=${m.crossOriginIsolated}, timer step ` +
    `${(m.timerResolutionMs.medianMs * 1000).toFixed(1)} us (min ${(m.timerResolutionMs.minMs * 1000).toFixed(1)} us), ` +
    `${r.config.macsPerImage.toLocaleString('en')} MACs/image`);
  lines.push('');
  const pr = r.kernels.probe;
  lines.push(`build ${r.build}; relaxed dot probe: ${pr.dot} (${pr.dotSamples.join(', ')}): ${pr.describe}; ` +
    `int16 relaxed dot: ${pr.pairs} (${pr.pairSamples.join(', ')}); ` +
    `chosen int8 ${r.kernels.int8.chosen} (8-bit weights on ${r.kernels.int8.runs8bitWeights}), fp32 ${r.kernels.fp32.chosen}; ` +
    `int8 entries identical on ${r.int8Identity.digits} digits at ${r.int8Identity.weightBits.join(', ')}-bit weights: ${r.int8Identity.identical}`);
  lines.push('instruction peaks (GMAC/s): ' + r.peaks.map((p) => `${p.name} ${p.gmacPerS.toFixed(1)}`).join(', '));
  lines.push('');
  lines.push(`${pad('path', 28, true)}${pad('batch', 6)}${pad('median ms/img', 15)}${pad('p10 - p90 ms/img', 21)}` +
    `${pad('GMAC/s', 9)}${pad('% peak', 8)}${pad('runs', 8)}${pad('acc(64)', 9)}`);
  for (const c of r.cells) {
    lines.push(`${pad(c.label, 28, true)}${pad(c.batch, 6)}${pad(f(c.medianMsPerImage), 15)}` +
      `${pad(`${f(c.p10MsPerImage)} - ${f(c.p90MsPerImage)}`, 21)}${pad(c.gmacPerS.toFixed(2), 9)}` +
      `${pad(c.shareOfPeak ? `${(c.shareOfPeak * 100).toFixed(0)}%` : '', 8)}${pad(c.runs, 8)}` +
      `${pad(`${(r.checks[c.path].accuracy * 100).toFixed(1)}%`, 9)}`);
  }
  lines.push('');
  lines.push('per-step time, us per image (inside wasm, profiled runs):');
  for (const c of r.cells.filter((c) => c.steps?.length && c.batch === 64)) {
    // A layer that ran another entry than its row's (usdot7's dot16 fallback) says which.
    const other = (s) => (s.kernel && s.kernel !== `gemm_int8_${c.kernel}` ? ` (${s.kernel.replace('gemm_int8_', '')})` : '');
    lines.push(`  ${pad(c.label, 26, true)} ${c.steps.map((s) => `${s.name} ${s.usPerImage.toFixed(1)}${other(s)}`).join(' | ')}`);
  }
  lines.push('');
  lines.push('speedups (x = median time of the second / median time of the first; > 1: first is faster)');
  for (const s of r.speedups) {
    lines.push(`  batch ${pad(s.batch, 2)}  ${pad(`${s.faster} over ${s.than}`, 34, true)} ${pad(s.speedup.toFixed(2), 6)}x   ${s.what}`);
  }
  lines.push('');
  lines.push(`ort-web INT8 model: ${r.ortInt8.format}`);
  lines.push(`  integer kernels: ${r.ortInt8.integerKernels}`);
  if (r.ortInt8.nodes.length) {
    const bs = r.ortInt8ProfileRuns.batches;
    lines.push(`  per node, median kernel us per call (profiled runs):  ${bs.map((n) => `batch ${n}`).join('   ')}`);
    for (const n of r.ortInt8.nodes) {
      lines.push(`    ${pad(n.node, 26, true)}${pad(n.op, 16, true)}${bs.map((b) => pad(n[`medianUsBatch${b}`], 9)).join('  ')}`);
    }
  }
  return lines.join('\n');
}

/**
 * Summarises the profiled ort-web runs of the INT8 model (`runsPerBatch` runs at each batch, in
 * order): which ops ran, and each node's median kernel time per batch with the first (cold) run
 * of each batch left out.
 */
function summariseProfile(lines, { batches, runsPerBatch }) {
  const runs = [[]];
  for (const line of lines) {
    let ev;
    try { ev = JSON.parse(line.replace(/,\s*$/, '')); } catch { continue; }
    if (ev.cat === 'Node' && ev.name?.endsWith('_kernel_time')) runs[runs.length - 1].push(ev);
    else if (ev.cat === 'Session' && ev.name === 'model_run') runs.push([]);
  }
  runs.pop();
  if (runs.length !== batches.length * runsPerBatch) {
    return { opsExecuted: [], nodes: [], integerKernels: `unknown (expected ${batches.length * runsPerBatch} profiled runs, saw ${runs.length})` };
  }
  const median = (v) => { const s = v.slice().sort((a, b) => a - b); return s[s.length >> 1]; };
  const nodes = runs[0].map((ev, i) => {
    const node = { node: ev.name.replace(/_kernel_time$/, ''), op: ev.args?.op_name, provider: ev.args?.provider };
    batches.forEach((n, b) => {
      const warm = runs.slice(b * runsPerBatch + 1, (b + 1) * runsPerBatch);
      node[`medianUsBatch${n}`] = median(warm.map((r) => r[i]?.dur ?? NaN));
    });
    return node;
  });
  const ops = [...new Set(nodes.map((n) => n.op).filter(Boolean))];
  const floatCompute = ops.filter((o) => /^(Fused)?(Conv|Gemm|MatMul)$/.test(o));
  const intCompute = ops.filter((o) => /^(QLinear|QGemm|ConvInteger|MatMulInteger)/.test(o));
  return {
    opsExecuted: ops,
    nodes,
    integerKernels: intCompute.length > 0 && floatCompute.length === 0
      ? `yes (${intCompute.join(', ')}; no float Conv/Gemm/MatMul ran)`
      : `no (${floatCompute.join(', ') || 'no integer op'} ran)`,
  };
}

const TFJS_FILES = [['@tensorflow/tfjs/dist', 'tf.min.js'], ['@tensorflow/tfjs-backend-wasm/dist', 'tf-backend-wasm.min.js'],
  ['@tensorflow/tfjs-backend-wasm/dist', 'tfjs-backend-wasm-simd.wasm'], ['@tensorflow/tfjs-backend-wasm/dist', 'tfjs-backend-wasm.wasm']];

async function vendorTfjs() {
  const dst = path.join(www, 'vendor', 'tfjs');
  await mkdir(dst, { recursive: true });
  for (const [dir, f] of TFJS_FILES) {
    const src = path.join(repo, 'node_modules', dir, f);
    await need(src, 'run `npm install` (@tensorflow/tfjs and tfjs-backend-wasm are devDependencies)');
    await copyFile(src, path.join(dst, f));
  }
}

async function main() {
  if (unknown.length) throw new Error(`unknown option(s) ${unknown.join(' ')}; use --quick and/or --json-only`);
  await need(path.join(www, 'pkg', 'quantlab.js'), 'run `make build` first');
  await need(path.join(www, 'pkg-relaxed', 'quantlab.js'), 'run `make build` first');
  for (const m of ['baseline-cnn.onnx', 'baseline-cnn.int8.onnx']) {
    await need(path.join(www, 'models', m), 'run scripts/onnx/export.py (see its docstring)');
  }
  await vendorOrt();
  await vendorTfjs();

  const server = createServer({ rootDir: www, isolation: true });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const offsite = [];
  const consoleErrors = [];
  let seen = 0;
  try {
    const context = await browser.newContext();
    // Nothing may leave 127.0.0.1: block and record anything else (workers' requests included).
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1') {
        seen++;
        return route.continue();
      }
      offsite.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    const profileLines = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
      // The worker's one profiled ort-web run prints one JSON event per line.
      else if (msg.text().startsWith('{"cat"')) profileLines.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));

    const loadStart = os.loadavg()[0];
    const started = Date.now();
    log(`bench: ${base}/bench/${quick ? '?quick' : ''} in headless Chromium${quick ? ' (quick)' : ''}`);
    await page.goto(`${base}/bench/${quick ? '?quick' : ''}`);
    let lastStatus = '';
    const deadline = Date.now() + (quick ? 120 : 400) * 1000;
    for (;;) {
      const state = await page.evaluate(() => ({ done: window.__bench?.done, status: document.getElementById('status')?.textContent }));
      if (state.status !== lastStatus) { log(`  ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s  ${state.status}`); lastStatus = state.status; }
      if (state.done) break;
      if (Date.now() > deadline) throw new Error(`timed out; last status: ${lastStatus}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const bench = await page.evaluate(() => window.__bench);
    if (bench.error) throw new Error(`benchmark failed in the page: ${bench.error}`);
    if (offsite.length) throw new Error(`requests left 127.0.0.1 (blocked): ${offsite.join(', ')}`);
    if (seen === 0) throw new Error('saw no requests at all: the request guard is not working');

    const r = bench.result;
    const profile = summariseProfile(profileLines, r.ortInt8ProfileRuns);
    r.ortInt8 = {
      model: 'www/models/baseline-cnn.int8.onnx',
      format: 'QOperator (QuantizeLinear, QLinearConv, MaxPool/Flatten on uint8, com.microsoft QGemm, DequantizeLinear); ' +
        'activations uint8 asymmetric, weights int8 symmetric per channel',
      ...profile,
    };
    r.requests = { total: seen, offsite: offsite.length };
    // Chromium hides the CPU model; the load average tells whether something else was running.
    r.host = { cpuModel: os.cpus()[0]?.model ?? null, loadAvg1mStart: loadStart, loadAvg1mEnd: os.loadavg()[0] };
    r.wallSeconds = (Date.now() - started) / 1000;
    if (consoleErrors.length) r.consoleErrors = consoleErrors;
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    log(`\n${renderTable(r)}\n`);
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
