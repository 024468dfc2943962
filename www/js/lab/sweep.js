// The bit-width sweep, 8 down to 2 bits: accuracy (or, for a model without test digits,
// agreement with FP32 on random inputs), logit SQNR, per-layer weight SQNR (random inputs only)
// and packed size, as charts and a table. One view for both kinds of sweep (js/sweep-point.js).
import { LineChart, COLORS, chartFor } from '../charts.js';
import { SWEEP_BITS } from '../lab-state.js';
import { fmt, WONLY, kib, pct, thousands, METHOD_LABEL } from './text.js';

/** Per-layer lines: first the colours the sweep's FP32, weights-only and int8 lines do not use. */
const SERIES = [COLORS.good, COLORS.clip, '#56B4E9', COLORS.grid, '#F0E442', COLORS.fp32, COLORS.int8, WONLY];
const XS = [...SWEEP_BITS].reverse();
const line = (el, opts) => new LineChart(el, { xs: XS, xLabel: 'bits', ...opts });

/**
 * `el`: #lab-fig-sweep. `data`: { mode: 'digits' | 'random', points (one per bit width),
 * formats (float16, bfloat16: `format`, weights + activations only), complete, ms, inputs,
 * helpers (how many helper workers shared the work), state, layers }. Points arrive in any order
 * (the lab's worker and its helpers compute them).
 */
export function render(el, { mode, points, formats = [], complete, ms, inputs, helpers = 0, state: s, layers }) {
  const $ = (id) => el.querySelector(`#${id}`);
  const random = mode === 'random';
  const granularity = { channel: 'per channel', tensor: 'per tensor', group: `groups of ${s.groupSize}` }[s.granularity];
  $('lab-sweep-scope').textContent = `${granularity}${s.rounding === 'gptq' ? ', GPTQ' : ''}, ${METHOD_LABEL[s.method] ?? s.method}, ${s.scheme}`;
  const at = (b) => points.find((p) => p.bits === b);
  const col = (f) => XS.map((b) => { const p = at(b); return p ? f(p) : null; });

  // The first chart: accuracy with the FP32 line, or agreement with FP32.
  const first = $('lab-chart-sweep-acc');
  first.closest('figure').querySelector('figcaption').textContent = random ? 'Agreement with FP32 on random inputs' : 'Accuracy';
  const acc = chartFor(first, () => line(first, {
    yLabel: random ? 'agreement (%)' : 'accuracy (%)',
    yRange: () => [0, 100],
    series: [
      { color: COLORS.fp32, dash: [6, 5], width: 2, points: false },
      { color: WONLY, dash: [8, 4], fill: '#fff' },
      { color: COLORS.int8 },
    ],
  }), mode);
  const fp32 = random ? null : points[0]?.fp32Accuracy ?? null;
  acc.update([XS.map(() => (fp32 === null ? null : fp32 * 100)), col((p) => (random ? p.wAgreement : p.wAccuracy) * 100), col((p) => (random ? p.waAgreement : p.waAccuracy) * 100)]);

  const sqnrEl = $('lab-chart-sweep-sqnr');
  sqnrEl.closest('figure').querySelector('figcaption').textContent = random ? 'Logit SQNR on random inputs' : 'Logit SQNR';
  chartFor(sqnrEl, () => line(sqnrEl, {
    yLabel: 'SQNR (dB)',
    // From 0 dB, or lower if quantization made the logits worse than no signal at all.
    yRange: (min, max) => [Math.min(0, Math.floor(min / 10) * 10), Math.max(10, Math.ceil((max * 1.1) / 10) * 10)],
    series: [{ color: WONLY, dash: [8, 4], fill: '#fff' }, { color: COLORS.int8 }],
  })).update([col((p) => p.wSqnrDb), col((p) => p.waSqnrDb)]);

  // Weight SQNR per layer: shown for the random sweep, where there is no accuracy to read.
  const wfig = $('lab-sweep-wsqnr-fig');
  wfig.hidden = !random;
  if (random) {
    const wel = $('lab-chart-sweep-wsqnr');
    chartFor(wel, () => line(wel, {
      yLabel: 'SQNR (dB)',
      yRange: (_min, max) => [0, Math.max(10, Math.ceil((max * 1.1) / 10) * 10)],
      series: layers.map((_, i) => ({ color: SERIES[i % SERIES.length] })),
    }), layers.map((l) => l.name).join('|')).update(layers.map((_, i) => col((p) => p.weightSqnrDb[i])));
    const legend = $('lab-sweep-wsqnr-legend');
    legend.replaceChildren(...layers.map((l, i) => {
      const key = document.createElement('span');
      key.className = 'key layer-key';
      key.textContent = l.name;
      key.style.setProperty('--key-color', SERIES[i % SERIES.length]);
      return key;
    }));
  }

  const sizeEl = $('lab-chart-sweep-size');
  const f32kib = points[0] ? points[0].bytesFp32 / 1024 : null;
  chartFor(sizeEl, () => line(sizeEl, {
    yLabel: 'size (KiB)',
    yRange: (_min, max) => [0, max > 0 ? max * 1.1 : 10],
    series: [{ color: COLORS.fp32, dash: [6, 5], width: 2, points: false }, { color: COLORS.int8 }],
  })).update([XS.map(() => f32kib), col((p) => p.bytesPacked / 1024)]);

  const note = $('lab-sweep-inputs');
  note.hidden = !random;
  note.textContent = random ? `On ${thousands(inputs)} seeded random inputs in [0, 1] (the timing inputs), not test digits. Agreement: same top output as FP32.` : '';
  // Who measured it: the lab's worker, and a helper on each spare core (js/lab/worker/pool.js).
  const by = $('lab-sweep-workers');
  by.textContent = helpers ? `Measured in parallel by the lab's worker and ${helpers} helper${helpers === 1 ? '' : 's'}, one per spare core.` : 'Measured by the lab\'s worker alone (no spare core).';
  by.dataset.helpers = String(helpers);
  const table = $('lab-sweep-table');
  table.innerHTML = random ? randomTable(at, layers, formats) : digitsTable(at, formats);
  if (complete) table.dataset.ms = String(Math.round(ms));
  else delete table.dataset.ms;
}

const FORMAT_LABEL = { fp16: 'FP16', bf16: 'BF16' };
const NO_FLOAT16 = 'float16 and bfloat16: weights and activations rounded to the format; WebAssembly has no float16 arithmetic, so they save memory here, not time';
/** A float format's row: weights + activations only (there is no weights-only half). */
const formatRow = (p, cells) => `<tr data-format="${p.format}" title="${NO_FLOAT16}"><td class="num"><strong>${FORMAT_LABEL[p.format]}</strong></td>${cells}</tr>`;

function digitsTable(at, formats) {
  return (formats.length ? `<caption class="hint sweep-formats">FP16, BF16: ${NO_FLOAT16}.</caption>` : '') + '<thead><tr><th class="num">Bits</th><th class="num c-wonly">Accuracy<br><small>weights only</small></th><th class="num c-int8">Accuracy<br><small>weights + act.</small></th>' +
    '<th class="num">Agreement<br><small>weights + act.</small></th><th class="num c-wonly">Logit SQNR<br><small>weights only</small></th><th class="num c-int8">Logit SQNR<br><small>weights + act.</small></th>' +
    '<th class="num">Size<br><small>packed</small></th><th class="num">vs FP32</th></tr></thead><tbody>' +
    SWEEP_BITS.map((b) => {
      const p = at(b);
      if (!p) return `<tr class="muted-row"><td class="num">${b}</td><td colspan="7">…</td></tr>`;
      return `<tr data-bits="${b}"><td class="num"><strong>${b}</strong></td><td class="num">${pct(p.wAccuracy)}</td><td class="num">${pct(p.waAccuracy)}</td><td class="num">${pct(p.waAgreement)}</td>` +
        `<td class="num">${fmt.db(p.wSqnrDb)}</td><td class="num">${fmt.db(p.waSqnrDb)}</td><td class="num">${kib(p.bytesPacked)}</td><td class="num">${fmt.ratio(p.bytesFp32, p.bytesPacked)}</td></tr>`;
    }).join('') +
    formats.map((p) => formatRow(p, `<td class="num">–</td><td class="num">${pct(p.waAccuracy)}</td><td class="num">${pct(p.waAgreement)}</td>` +
      `<td class="num">–</td><td class="num">${fmt.db(p.waSqnrDb)}</td><td class="num">${kib(p.bytesPacked)}</td><td class="num">${fmt.ratio(p.bytesFp32, p.bytesPacked)}</td>`)).join('') +
    '</tbody>';
}

function randomTable(at, layers, formats) {
  const layerHead = layers.map((l) => `<th class="num">${l.name}<br><small>weight SQNR</small></th>`).join('');
  const cols = 5 + layers.length + 2;
  return '<thead><tr><th class="num">Bits</th><th class="num c-wonly">Agreement<br><small>weights only</small></th><th class="num c-int8">Agreement<br><small>weights + act.</small></th>' +
    '<th class="num c-wonly">Logit SQNR<br><small>weights only</small></th><th class="num c-int8">Logit SQNR<br><small>weights + act.</small></th>' +
    `${layerHead}<th class="num">Size<br><small>packed</small></th><th class="num">vs FP32</th></tr></thead><tbody>` +
    SWEEP_BITS.map((b) => {
      const p = at(b);
      if (!p) return `<tr class="muted-row"><td class="num">${b}</td><td colspan="${cols - 1}">…</td></tr>`;
      return `<tr data-bits="${b}"><td class="num"><strong>${b}</strong></td><td class="num">${pct(p.wAgreement)}</td><td class="num">${pct(p.waAgreement)}</td>` +
        `<td class="num">${fmt.db(p.wSqnrDb)}</td><td class="num">${fmt.db(p.waSqnrDb)}</td>` +
        `${p.weightSqnrDb.map((d) => `<td class="num">${fmt.db(d)}</td>`).join('')}` +
        `<td class="num">${fmt.bytes(p.bytesPacked)}</td><td class="num">${fmt.ratio(p.bytesFp32, p.bytesPacked)}</td></tr>`;
    }).join('') +
    formats.map((p) => formatRow(p, `<td class="num">–</td><td class="num">${pct(p.waAgreement)}</td><td class="num">–</td><td class="num">${fmt.db(p.waSqnrDb)}</td>` +
      `${layers.map(() => '<td class="num">–</td>').join('')}<td class="num">${fmt.bytes(p.bytesPacked)}</td><td class="num">${fmt.ratio(p.bytesFp32, p.bytesPacked)}</td>`)).join('') +
    '</tbody>';
}

/** An empty sweep (a new model): every chart and the table cleared. */
export function clear(el, state, layers, mode = 'digits') {
  render(el, { mode, points: [], formats: [], complete: false, ms: 0, inputs: 0, state, layers });
}
