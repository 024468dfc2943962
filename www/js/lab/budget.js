// Mixed precision for a size budget: the greedy search's path (accuracy against size, each point
// measured on all the test digits) beside uniform bits, and the bits it chose (the worker's
// budget job; nothing here is recomputed).
import { LineChart, COLORS, chartFor } from '../charts.js';
import { pct2, kib } from './text.js';

/**
 * `el`: #lab-fig-budget. `data`: { budgetKiB, actBits, layers: [{index, name}], path: [{bits,
 * accuracy, bytes}], uniform: [...], chosen, fits, complete, unavailable }.
 */
export function render(el, { budgetKiB, actBits, layers = [], path, uniform, chosen, fits, complete, unavailable }) {
  const $ = (id) => el.querySelector(`#${id}`);
  const result = $('lab-budget-result');
  if (unavailable) {
    result.textContent = `Not available: ${unavailable}.`;
    return;
  }
  $('lab-budget-scope').textContent = `${budgetKiB} KiB, ${actBits}-bit activations`;
  // One x axis for both series: every size measured, in KiB, ascending.
  const at = (list) => new Map(list.map((p) => [Math.round(p.bytes / 102.4) / 10, p.accuracy * 100]));
  const [greedy, flat] = [at(path), at(uniform)];
  const xs = [...new Set([...greedy.keys(), ...flat.keys()])].sort((a, b) => a - b);
  const chartEl = $('lab-chart-budget');
  // The axis starts two points below the search's lowest accuracy, so tenths show; a uniform
  // width far below it is named under the chart instead.
  const floor = Math.max(0, Math.floor(Math.min(...path.map((p) => p.accuracy * 100)) - 2));
  if (xs.length) {
    chartFor(chartEl, () => new LineChart(chartEl, {
      xs, xLabel: 'size (KiB)', yLabel: 'accuracy (%)', xIncrs: [5, 10, 20, 50],
      yRange: () => [floor, 100],
      series: [{ color: COLORS.int8 }, { color: COLORS.fp32, dash: [6, 5] }],
    }), `${xs.join(',')}|${floor}`).update([xs.map((x) => greedy.get(x) ?? null), xs.map((x) => flat.get(x) ?? null)]);
  }
  const off = uniform.filter((u) => u.accuracy * 100 < floor);
  const bitsText = (p) => layers.map((l) => `${l.name} ${p.bits[l.index]}`).join(', ');
  if (!complete) {
    const last = path[path.length - 1];
    result.textContent = last ? `So far: ${bitsText(last)} bits, ${kib(last.bytes)}, ${pct2(last.accuracy)}…` : '';
    return;
  }
  // The uniform width nearest the chosen size from below, to compare at no larger size.
  const below = uniform.filter((u) => u.bytes <= chosen.bytes).sort((a, b) => b.bytes - a.bytes)[0];
  result.innerHTML = `<span class="key key-int8">measured search</span> <span class="key key-fp32">uniform bits</span><br>` +
    (fits ? `For ${budgetKiB} KiB: ${bitsText(chosen)}-bit weights, ${kib(chosen.bytes)}, ${pct2(chosen.accuracy)}` :
      `Even 2 bits everywhere (${kib(chosen.bytes)}) does not fit ${budgetKiB} KiB`) +
    (below ? `; uniform ${below.bits[layers[0].index]} bits: ${kib(below.bytes)}, ${pct2(below.accuracy)}.` : '.') +
    (off.length ? ` Below the chart: ${off.map((u) => `uniform ${u.bits[layers[0].index]} bits, ${kib(u.bytes)}, ${pct2(u.accuracy)}`).join('; ')}.` : '');
}
