// Benchmark page: starts the worker (worker.js does all the work), shows its progress and the
// result table, and leaves the result in window.__bench for scripts/bench.mjs:
//   { done: false } while running, then { done: true, result } or { done: true, error }.
const status = document.getElementById('status');
const results = document.getElementById('results');
const quick = new URLSearchParams(location.search).has('quick');
window.__bench = { done: false };

const fmt = (v, d = 3) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(d));

function el(tag, text) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
}

function table(head, rows) {
  const t = el('table');
  t.className = 'bench';
  const tr = el('tr');
  head.forEach((h) => tr.append(el('th', h)));
  t.append(tr);
  for (const r of rows) {
    const row = el('tr');
    r.forEach((c) => row.append(el('td', c)));
    t.append(row);
  }
  return t;
}

function show(r) {
  const m = r.machine;
  const note = el('p');
  note.className = 'muted';
  note.textContent = `${m.hardwareConcurrency} logical cores · ` +
    `${m.crossOriginIsolated ? 'cross-origin isolated' : 'NOT cross-origin isolated'} · timer step ` +
    `${(m.timerResolutionMs.medianMs * 1000).toFixed(1)} µs · ${r.config.macsPerImage.toLocaleString()} MACs per image · ` +
    `quantlab ${r.versions.quantlab}, onnxruntime-web ${r.versions.onnxruntimeWeb}${r.config.quick ? ' · QUICK run' : ''}`;
  results.replaceChildren(
    note,
    table(['path', 'batch', 'median ms/image', 'p10–p90 ms/image', 'GMAC/s', 'runs', 'accuracy (64)'],
      r.cells.map((c) => [c.label, c.batch, fmt(c.medianMsPerImage, 4), `${fmt(c.p10MsPerImage, 4)}–${fmt(c.p90MsPerImage, 4)}`,
        fmt(c.gmacPerS, 2), c.runs, `${(r.checks[c.path].accuracy * 100).toFixed(1)}%`])),
    table(['speedup', 'batch', '×'],
      r.speedups.map((s) => [`${s.what}: ${s.faster} over ${s.than}`, s.batch, s.speedup.toFixed(2)])),
  );
}

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === 'progress') {
    status.textContent = `${msg.text}…`;
  } else if (msg.type === 'done') {
    status.textContent = 'done';
    show(msg.result);
    window.__bench = { done: true, result: msg.result };
  } else if (msg.type === 'error') {
    status.textContent = `failed: ${msg.message}`;
    window.__bench = { done: true, error: msg.message };
  }
};
worker.onerror = (e) => {
  status.textContent = `worker failed: ${e.message}`;
  window.__bench = { done: true, error: `worker failed to load or crashed: ${e.message}` };
};
worker.postMessage({ quick });
