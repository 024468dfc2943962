// Model overview: per layer, its shape, parameters, MACs, bits and bytes as the core's report
// gives them (float32, int8 as stored, packed at the layer's bits).
import { fmt, thousands, macsText, kibN } from './text.js';

/** `el`: #lab-fig-overview; `data`: { summary, report } (Model.summary(), Model.report()). */
export function render(el, { summary, report: r }) {
  const byIndex = new Map(r.layers.map((l) => [l.index, l]));
  const rows = summary.layers.map((l) => {
    const q = byIndex.get(l.index);
    const shape = l.outputShape.filter((d, i) => i === 0 || d > 1).join('×');
    if (!q) {
      return `<tr class="muted-row hide-narrow"><td>${l.name}</td><td>${shape}</td><td class="num">–</td><td class="num">–</td><td></td><td class="num">–</td><td class="num">–</td><td class="num">–</td></tr>`;
    }
    return `<tr data-layer="${l.index}"><td><strong>${l.name}</strong></td><td class="hide-narrow">${shape}</td><td class="num">${thousands(l.params)}</td>` +
      `<td class="num hide-narrow">${macsText(l.macs)}</td><td class="num bits">${q.weightBits} / ${q.actBits}</td>` +
      `<td class="num c-fp32">${kibN(q.bytesFp32)}</td><td class="num c-int8">${kibN(q.bytesInt8)}</td>` +
      `<td class="num">${kibN(q.bytesPacked)}</td></tr>`;
  });
  el.querySelector('#lab-overview').innerHTML =
    '<thead><tr><th>Layer</th><th class="hide-narrow">Output</th><th class="num">Params</th><th class="num hide-narrow">MACs</th><th class="num">Bits<br>W / A</th>' +
    '<th class="num c-fp32">FP32<br>KiB</th><th class="num c-int8">INT8<br>KiB</th><th class="num">Packed<br>KiB</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody>` +
    `<tfoot><tr><td>Total</td><td class="hide-narrow"></td><td class="num">${thousands(r.params)}</td><td class="num hide-narrow">${macsText(r.macs)}</td><td></td>` +
    `<td class="num c-fp32">${kibN(r.bytesFp32)}</td><td class="num c-int8" id="lab-total-int8">${kibN(r.bytesInt8)}</td><td class="num">${kibN(r.bytesPacked)}</td></tr>` +
    `<tr class="ratio-row"><td colspan="3">Compression</td><td class="hide-narrow" colspan="2"></td><td class="num">1×</td><td class="num c-int8" id="lab-compression">${fmt.ratio(r.bytesFp32, r.bytesInt8)}</td><td class="num">${fmt.ratio(r.bytesFp32, r.bytesPacked)}</td></tr></tfoot>`;
}
