// Weights of the selected layer on the integer grid: value and error histograms, per-channel
// SQNR and scales, and the statistics (all from analyzeQuantization, computed by the controller
// on the page's wasm instance so a slider redraws them inside one frame).
import { HistogramChart, ChannelChart, COLORS, chartFor } from '../charts.js';
import { fmt, thousands } from './text.js';

/**
 * `el`: the lab section. `data`: { a (the layer's analysis), view (the analysis drawn: the
 * channel's under per-channel and group-wise), bits, perChannel, group (inputs per group, or
 * null), groups (per channel), channel, layerName }.
 */
export function render(el, { a, view, bits, perChannel, group, groups, channel, layerName }) {
  const $ = (id) => el.querySelector(`#${id}`);
  const weights = chartFor($('lab-chart-weights'), () => new HistogramChart($('lab-chart-weights'), { color: COLORS.fp32, xLabel: 'weight (float32)', height: 240 }));
  const errors = chartFor($('lab-chart-werrors'), () => new HistogramChart($('lab-chart-werrors'), { color: COLORS.int8, xLabel: 'w − ŵ', height: 240 }));
  weights.update(view.valueHistogram, { grid: view.grid, zeroIndex: -a.qmin, clipLow: view.clipLow, clipHigh: view.clipHigh });
  errors.update(view.errorHistogram, null);
  const scope = group ? `${layerName}, channel ${channel}, ${groups} groups of ${group}` : perChannel ? `${layerName}, channel ${channel}` : `${layerName}, whole layer`;
  for (const id of ['lab-weights-scope', 'lab-werrors-scope']) $(id).textContent = `${scope}, ${bits} bits`;
  $('lab-wstats-scope').textContent = `${layerName}, ${bits} bits`;
  const stride = weights.gridStride;
  const foot = $('lab-weight-grid');
  foot.dataset.gridPoints = String(a.grid.length);
  foot.textContent = `${a.grid.length} grid points, q = ${fmt.int(a.qmin)} … ${fmt.int(a.qmax)}, step s = ${fmt.num(view.scale[0])}` +
    (group ? ` (the channel's first group; its ${groups} groups have steps ${fmt.num(Math.min(...view.scale))} … ${fmt.num(Math.max(...view.scale))})` : '') +
    (stride > 1 ? ` (every ${stride}th line drawn)` : '');
  $('lab-fig-channels').classList.toggle('is-empty', !perChannel);
  if (perChannel) {
    chartFor($('lab-chart-channels'), () => new ChannelChart($('lab-chart-channels'), { height: 220 }))
      .update(Array.from(a.channelSqnrDb), Array.from(a.scale), channel);
  }
  $('lab-wstats-list').innerHTML = statsHtml(a, channel, perChannel, group);
}

function statsHtml(a, channel, perChannel, groupSize) {
  const params = [];
  if (groupSize) {
    params.push([`Scales`, `${thousands(a.scale.length)}: one per ${groupSize} inputs of each channel`]);
    params.push([`All ${thousands(a.scale.length)} scales`, `${fmt.num(Math.min(...a.scale))} … ${fmt.num(Math.max(...a.scale))}`]);
  } else if (perChannel) {
    params.push([`Scale s (ch ${channel})`, fmt.num(a.scale[channel], 4)]);
    params.push([`All ${a.scale.length} scales`, `${fmt.num(Math.min(...a.scale))} … ${fmt.num(Math.max(...a.scale))}`]);
  } else {
    params.push(['Scale s', fmt.num(a.scale[0], 4)]);
  }
  params.push(['Zero point z', '0 <small>(symmetric)</small>']);
  params.push(['Integers q', `${fmt.int(a.qmin)} … ${fmt.int(a.qmax)} <small>(${a.qmax - a.qmin + 1} levels)</small>`]);
  params.push(['Weight range', `${fmt.num(a.dataMin)} … ${fmt.num(a.dataMax)}`]);
  const error = [
    ['SQNR', `<span id="lab-stat-sqnr">${fmt.db(a.sqnrDb)}</span>`],
    ['MSE', fmt.num(a.mse)],
    ['… from rounding', fmt.num(a.roundingMse)],
    ['… from clipping', fmt.num(a.clippingMse)],
    ['Max |error|', fmt.num(a.maxAbsError)],
  ];
  const size = [
    ['Weights', thousands(a.count)],
    ['float32', fmt.bytes(a.bytesFloat)],
    ['int8 + scales', fmt.bytes(a.bytesInt8)],
    [`packed at ${a.bits} bits`, fmt.bytes(a.bytesPacked)],
  ];
  const group = (title, rows) => `<div class="stat-group"><h3>${title}</h3><dl>` +
    rows.map(([k, v]) => `<div class="stat"><dt>${k}</dt><dd>${v}</dd></div>`).join('') + '</dl></div>';
  return group('Parameters', params) + group('Error', error) + group('Size', size);
}
