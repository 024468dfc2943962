// Cross-layer equalization: for each pair of layers the core rescaled, the first layer's
// per-channel weight ranges before and after (QuantizedModel.equalization, as the core returns it).
import { LineChart, COLORS, chartFor } from '../charts.js';
import { fmt } from './text.js';

/**
 * `el`: #lab-fig-equalize. `data`: { pairs: [{ first, second, rangeFirstBefore,
 * rangeFirstAfter, rangeSecondBefore, rangeSecondAfter, scale }] } (empty: equalization is off).
 */
export function render(el, { pairs }) {
  const $ = (id) => el.querySelector(`#${id}`);
  const box = $('lab-eq-charts');
  el.classList.toggle('is-empty', !pairs.length);
  $('lab-eq-scope').textContent = pairs.map((p) => `${p.first} → ${p.second}`).join(', ');
  rangeFigures(box, pairs.map((p) => ({
    key: `${p.first}-${p.second}`,
    caption: `${p.first} → ${p.second}: ${p.first}'s output channels`,
    before: p.rangeFirstBefore,
    after: p.rangeFirstAfter,
  })));
}

/**
 * One small chart per item in `box`: a layer's per-output-channel max |w| before (dashed) and
 * after (solid), with the spans in words. `items`: [{ key, caption, before, after }]; the charts
 * are kept with their elements, and a new list of keys (another model) rebuilds them. Also the
 * model panel's BatchNorm-folding figures (model-file.js).
 */
export function rangeFigures(box, items) {
  const names = items.map((p) => p.key).join('|');
  if (box.dataset.pairs !== names) {
    box.replaceChildren(...items.map((p) => {
      const fig = document.createElement('figure');
      fig.className = 'mini';
      fig.innerHTML = '<figcaption></figcaption><div class="chart"></div><p class="hint"></p>';
      fig.querySelector('figcaption').textContent = p.caption;
      return fig;
    }));
    box.dataset.pairs = names;
  }
  items.forEach((p, i) => {
    const fig = box.children[i];
    const xs = Array.from(p.before, (_, c) => c);
    const chartEl = fig.querySelector('.chart');
    chartFor(chartEl, () => new LineChart(chartEl, {
      xs, xLabel: 'channel', yLabel: 'max |w|', xIncrs: [1, 2, 4, 8, 16],
      yRange: (_min, max) => [0, max > 0 ? max * 1.1 : 1],
      series: [{ color: COLORS.fp32, dash: [6, 5] }, { color: COLORS.int8 }],
    }), xs.length).update([Array.from(p.before), Array.from(p.after)]);
    const span = (v) => `${fmt.num(Math.min(...v))} … ${fmt.num(Math.max(...v))}`;
    fig.querySelector('.hint').innerHTML = `<span class="key key-fp32">before</span> ${span(p.before)} · ` +
      `<span class="key key-int8">after</span> ${span(p.after)}`;
  });
}
