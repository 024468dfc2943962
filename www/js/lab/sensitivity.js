// Per-layer sensitivity: accuracy with only one layer's weights quantized, then all of them.
import { applyCss } from '../csp.js';
import { pct } from './text.js';

/** `el`: #lab-fig-sens. `data`: { rows: [{name, layer, accuracy, fp32Accuracy}], bits }. */
export function render(el, { rows, bits }) {
  el.querySelector('#lab-sens-scope').textContent = `${bits}-bit weights`;
  const box = el.querySelector('#lab-sens');
  const fp32 = rows[0]?.fp32Accuracy ?? 0;
  box.innerHTML = rows.map((r) => {
    const d = (r.accuracy - r.fp32Accuracy) * 100;
    return `<div class="hbar-row${r.layer === null ? ' is-all' : ''}"><span class="hbar-label">${r.layer === null ? r.name : `only ${r.name}`}</span>` +
      `<div class="hbar"><span class="hbar-fill" data-css="width:${(r.accuracy * 100).toFixed(2)}%; background:var(--int8)"></span>` +
      `<span class="hbar-ref" data-css="left:${(fp32 * 100).toFixed(2)}%" title="FP32"></span></div>` +
      `<span class="hbar-val">${pct(r.accuracy)} <small>${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)}</small></span></div>`;
  }).join('') + (rows.length ? `<p class="hbar-note"><span class="ref-key"></span> FP32 ${pct(fp32)}; numbers after the accuracy: points vs FP32.</p>` : '');
  applyCss(box);
}
