// The technique comparison: each configuration beyond round-to-nearest measured on all the test
// digits (the worker's techniques job), as a table of bars, and the sentence that reads it.
import { applyCss } from '../csp.js';
import { pct2, kib } from './text.js';

const byId = (rows, id, bits) => rows.find((r) => r.id === id && r.bits === bits);

/** What the finished table says, from the rows as measured (nothing here is recomputed). */
function sentence(rows, fp32) {
  const t = byId(rows, 'tensor', 3);
  const g = byId(rows, 'tensor-gptq', 3);
  const c = byId(rows, 'channel', 3);
  const g32 = byId(rows, 'group32', 3);
  const eq = byId(rows, 'tensor-eq-bc', 4);
  const t4 = byId(rows, 'tensor', 4);
  const parts = [];
  if (t && g) parts.push(`At 3-bit weights, per-tensor rounding to nearest gives ${pct2(t.int8Accuracy)} (FP32 ${pct2(fp32)}); GPTQ on the same grid gives ${pct2(g.int8Accuracy)}.`);
  if (c && g32) parts.push(`Per-channel scales give ${pct2(c.int8Accuracy)}, groups of 32 inputs ${pct2(g32.int8Accuracy)} for ${kib(g32.bytes)} against ${kib(c.bytes)} (the group scales are counted).`);
  if (t4 && eq) parts.push(`At 4 bits per tensor, equalization with bias correction gives ${pct2(eq.int8Accuracy)} against ${pct2(t4.int8Accuracy)}.`);
  return parts.join(' ');
}

/**
 * `el`: #lab-fig-techniques. `data`: { rows: [{id, name, bits, int8Accuracy, logitSqnrDb, bytes,
 * deployed, ms}], fp32Accuracy, actBits (of every integer row), complete, unavailable }.
 */
export function render(el, { rows, fp32Accuracy, actBits, complete, unavailable }) {
  const box = el.querySelector('#lab-techniques');
  if (unavailable) {
    box.textContent = `Not available: ${unavailable}.`;
    return;
  }
  const fp32 = fp32Accuracy ?? 0;
  // The bars start a point below the lowest row, so differences of tenths of a point show.
  const lo = Math.max(0, Math.floor(Math.min(fp32, ...rows.map((r) => r.int8Accuracy)) * 100) - 1);
  const w = (a) => Math.max(0, (a * 100 - lo) / (100 - lo)) * 100;
  const head = '<tr><th scope="col">Technique</th><th scope="col">Weights</th><th scope="col">Accuracy</th><th scope="col">Logit SQNR</th><th scope="col">Size</th><th scope="col">Runs as</th></tr>';
  const body = rows.map((r) => `<tr data-id="${r.id}" data-bits="${r.bits ?? ''}">` +
    `<th scope="row">${r.name}</th><td>${r.bits ? `${r.bits} bits` : '16 bits'}</td>` +
    `<td class="bar-cell"><span class="tbar" data-css="width:${w(r.int8Accuracy).toFixed(2)}%"></span><span class="tbar-ref" data-css="left:${w(fp32).toFixed(2)}%"></span><span class="tval">${pct2(r.int8Accuracy)}</span></td>` +
    `<td>${Number.isFinite(r.logitSqnrDb) ? `${r.logitSqnrDb.toFixed(1)} dB` : '∞'}</td><td>${kib(r.bytes)}</td>` +
    `<td>${r.deployed === 'qdq' ? 'QDQ (float)' : 'integer'}</td></tr>`).join('');
  box.innerHTML = `<table class="techniques"><thead>${head}</thead><tbody>${body}</tbody></table>` +
    `<p class="hint">${actBits}-bit activations in every integer row; bars from ${lo} % to 100 %, FP32 ${pct2(fp32)} the line in each. Float16 and bfloat16 save memory, not time, here: WebAssembly has no float16 arithmetic, so they compute in float32.</p>` +
    (complete ? `<p class="takeaway" id="lab-techniques-sentence">${sentence(rows, fp32)}</p>` : '');
  applyCss(box);
}
