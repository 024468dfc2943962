// Activations: the selected layer's calibrated output range on its grid, every calibration
// method's clip range and error split on that tensor, and the table of all activation tensors.
import { HistogramChart, COLORS, compactCounts, chartFor } from '../charts.js';
import { applyCss } from '../csp.js';
import { fmt, METHOD_LABEL } from './text.js';

/**
 * `el`: #lab-fig-act. `data`: { report, methods (per method: {method, tensors} or {method,
 * error}), position (the selected layer's place among the quantized layers), grid (its output's
 * grid values, from dequantizeLinear), state, actBits }.
 */
export function render(el, { report: r, methods, position: pos, grid, state: s }) {
  const $ = (id) => el.querySelector(`#${id}`);
  const layer = r.layers[pos];
  const act = layer.output;
  chartFor($('lab-chart-act'), () => new HistogramChart($('lab-chart-act'), { color: COLORS.fp32, xLabel: 'activation (float32)', height: 240, yValues: compactCounts }))
    .update({ lo: act.histLow, hi: act.histHigh, counts: act.histogram }, { grid, zeroIndex: act.zeroPoint - act.qmin, clipLow: act.clipLow, clipHigh: act.clipHigh });
  $('lab-act-scope').textContent = `${layer.name} output, ${layer.actBits} bits, ${s.scheme}`;
  const foot = $('lab-act-grid');
  foot.dataset.gridPoints = String(grid.length);
  foot.textContent = `s = ${fmt.num(act.scale, 4)}, z = ${fmt.int(act.zeroPoint)}, clip ${fmt.num(act.clipLow)} … ${fmt.num(act.clipHigh)} of data ${fmt.num(act.dataMin)} … ${fmt.num(act.dataMax)}`;

  const t = pos + 1; // tensor 0 is the model input
  const rows = methods.map((m) => (m.error ? m : { method: m.method, ...m.tensors[t] }));
  const maxTotal = Math.max(...rows.filter((x) => !x.error).map((x) => x.roundingMse + x.clippingMse), 1e-30);
  $('lab-methods').innerHTML = rows.map((x) => {
    if (x.error) return `<div class="mrow" data-method="${x.method}"><div class="mrow-head"><span class="mname">${METHOD_LABEL[x.method]}</span></div><div class="mvals">not available: check the percentile</div></div>`;
    const wR = (x.roundingMse / maxTotal) * 100;
    const wC = (x.clippingMse / maxTotal) * 100;
    const current = x.method === s.method ? ' is-current' : '';
    return `<div class="mrow${current}" data-method="${x.method}"><div class="mrow-head"><span class="mname">${METHOD_LABEL[x.method]}</span>` +
      `<span class="mclip">clip ${fmt.num(x.clipLow)} … ${fmt.num(x.clipHigh)}</span></div>` +
      `<div class="mbar" title="MSE ${fmt.num(x.roundingMse + x.clippingMse)}"><span class="mbar-r" data-css="width:${wR.toFixed(2)}%"></span><span class="mbar-c" data-css="width:${wC.toFixed(2)}%"></span></div>` +
      `<div class="mvals"><span class="swatch-int8">rounding ${fmt.num(x.roundingMse)}</span> <span class="swatch-clip">clipping ${fmt.num(x.clippingMse)}</span></div></div>`;
  }).join('');
  applyCss($('lab-methods'));

  const tensors = [{ name: 'input image', act: r.layers[0].input, bits: s.actBits }, ...r.layers.map((l) => ({ name: `${l.name} output${l.relu ? ' + ReLU' : ''}`, act: l.output, bits: l.actBits }))];
  $('lab-act-table').innerHTML =
    '<thead><tr><th>Tensor</th><th class="num">Bits</th><th class="num">Data range</th><th class="num">Clip range</th><th class="num">Scale <var>s</var></th><th class="num"><var>z</var></th>' +
    '<th class="num c-int8">MSE from<br>rounding</th><th class="num c-clip">MSE from<br>clipping</th></tr></thead><tbody>' +
    tensors.map(({ name, act: a, bits }, i) => `<tr${i === t ? ' class="is-current"' : ''}><td>${name}</td><td class="num">${bits}</td><td class="num">${fmt.num(a.dataMin)} … ${fmt.num(a.dataMax)}</td>` +
      `<td class="num">${fmt.num(a.clipLow)} … ${fmt.num(a.clipHigh)}</td><td class="num">${fmt.num(a.scale, 4)}</td><td class="num">${fmt.int(a.zeroPoint)}</td>` +
      `<td class="num">${fmt.num(a.roundingMse)}</td><td class="num">${fmt.num(a.clippingMse)}</td></tr>`).join('') + '</tbody>';
}
