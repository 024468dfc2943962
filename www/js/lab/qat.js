// Quantization-aware training: the curve of the integer model's accuracy while it fine-tunes
// (the worker's qat job measures every point), the result, and where one layer's float weights
// sit on their integer grid before and after. Nothing here is recomputed: the worker and the core
// give every number.
import { LineChart, HistogramChart, COLORS, chartFor } from '../charts.js';
import { pct2, thousands } from './text.js';
import { QAT_CURVE_EVERY, QAT_CURVE_DIGITS } from '../lab-state.js';

const secs = (s) => `${s.toFixed(s < 10 ? 1 : 0)} s`;

/**
 * `el`: #lab-fig-qat. `data`: the newest qat-progress or qat message ({ step, steps, seconds,
 * loss, curve: [{step, seconds, int8Accuracy, all?}], before, result?, grids?, cancelled?, reason? }),
 * `layer`: the lab's selected layer index (whose weights the grids show), `bits`: { w, a } of the run,
 * `kept`: the run's model is the lab's now.
 */
export function render(el, { data, layer, bits, kept = false }) {
  const $ = (id) => el.querySelector(`#${id}`);
  $('lab-qat-scope').textContent = bits ? `${bits.w}-bit weights, ${bits.a}-bit activations` : '';
  const result = $('lab-qat-result');
  // Nothing run for this model yet: no curve, no grids (a chart keeps its last data otherwise).
  el.querySelector('.qat-grids').hidden = !data?.grids;
  $('lab-qat-grid-note').hidden = !data?.grids;
  $('lab-chart-qat').hidden = !data?.curve?.length;
  $('lab-qat-key').hidden = !data?.curve?.length;
  if (!data) {
    result.textContent = '';
    return;
  }
  if (data.cancelled) {
    result.textContent = `Stopped: ${data.reason}.` + (data.curve?.length > 1 ? ' The curve shows the steps it took.' : '');
    return;
  }
  const steps = data.steps ?? data.result?.steps;
  const curve = data.curve ?? [];
  if (steps && curve.length) drawCurve($('lab-chart-qat'), curve, steps);
  const base = curve[0]?.int8Accuracy;
  $('lab-qat-key').innerHTML = `<span class="key key-int8">integer model after QAT</span> <span class="key key-fp32">post-training, same bits</span> ` +
    `· every ${QAT_CURVE_EVERY} steps on the first ${thousands(QAT_CURVE_DIGITS)} test digits, the last point on all of them`;
  if (!data.result) {
    const last = curve[curve.length - 1];
    result.textContent = `Step ${data.step} of ${steps}, ${secs(data.seconds)}: loss ${data.loss.toFixed(3)}` +
      (last && last.step > 0 ? `; the integer model ${pct2(last.int8Accuracy)} on the first ${thousands(QAT_CURVE_DIGITS)} digits (post-training ${pct2(base)}).` : '.');
    return;
  }
  const r = data.result;
  result.textContent = (kept ? 'The lab now runs this fine-tuned model. ' : '') + `${r.weightBits}-bit weights, ${r.actBits}-bit activations, all 2,000 test digits on the integer path: ` +
    `post-training ${pct2(r.before.int8Accuracy)}, after ${thousands(r.steps)} steps of quantization-aware training ` +
    `(${secs(r.seconds)} in this browser) ${pct2(r.after.int8Accuracy)}. The fine-tuned float model scores ${pct2(r.after.fp32Accuracy)} ` +
    `(the original ${pct2(r.before.fp32Accuracy)}).`;
  drawGrids(el, data.grids ?? [], layer);
}

function drawCurve(el, curve, steps) {
  const xs = [];
  for (let s = 0; s < steps; s += QAT_CURVE_EVERY) xs.push(s);
  xs.push(steps);
  const at = new Map(curve.map((p) => [p.step, p.int8Accuracy * 100]));
  const base = curve[0].int8Accuracy * 100;
  const lo = Math.max(0, Math.floor(Math.min(...curve.map((p) => p.int8Accuracy * 100))) - 1);
  chartFor(el, () => new LineChart(el, {
    xs, xLabel: 'training step', yLabel: 'accuracy (%)', xIncrs: [50, 100, 200, 300, 600], xPad: steps / 40,
    yRange: () => [lo, 100],
    series: [{ color: COLORS.int8 }, { color: COLORS.fp32, dash: [6, 5], points: false, width: 2 }],
  }), `${steps}|${lo}`).update([xs.map((x) => at.get(x) ?? null), xs.map(() => base)]);
}

function drawGrids(el, grids, layer) {
  const g = grids.find((x) => x.layer === layer) ?? grids[grids.length > 1 ? 1 : 0];
  if (!g) return;
  const ticks = Array.from({ length: 2 * g.qmax + 1 }, (_, i) => i - g.qmax);
  const markers = { grid: ticks, zeroIndex: g.qmax, clipLow: -g.qmax, clipHigh: g.qmax };
  for (const [which, h] of [['before', g.before], ['after', g.after]]) {
    const chartEl = el.querySelector(`#lab-chart-qat-${which}`);
    chartFor(chartEl, () => new HistogramChart(chartEl, { color: which === 'before' ? COLORS.fp32 : COLORS.int8, xLabel: `${g.name} weight / scale (grid steps)`, height: 200 }))
      .update(h, markers);
  }
  el.querySelector('#lab-qat-before-caption').textContent = `Before: ${g.name}'s float weights on the integer grid`;
  el.querySelector('#lab-qat-after-caption').textContent = 'After quantization-aware training';
  el.querySelector('#lab-qat-grid-note').textContent =
    `Within a tenth of a step of a grid point: ${(g.before.nearFraction * 100).toFixed(1)} % of ${g.name}'s weights before, ` +
    `${(g.after.nearFraction * 100).toFixed(1)} % after (20 % if they sat anywhere between grid points at random). ` +
    `Fine-tuning moved ${(g.levelsChanged * 100).toFixed(1)} % of ${g.name}'s integer weights to another level: it does not pull the ` +
    'weights onto grid points, it chooses which level each one rounds to.';
}
