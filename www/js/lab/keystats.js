// The lab's headline figures: FP32 and INT8 accuracy, agreement, size. While a setting moves
// they show the provisional figure (first digits only), marked as such; a model without test
// digits shows why there is no accuracy.
import { fmt, kib, pct, thousands, dims } from './text.js';

const SUBS = { fp32: 'float model, 2,000 test digits', int8: 'true integer inference', agree: 'same digit predicted' };

/**
 * `el`: the .keystats box. `data`: { eval: {result, provisional} | null, unavailable, computing,
 * report, summary }.
 */
export function render(el, { eval: ev, unavailable, computing, report, summary }) {
  const $ = (id) => el.querySelector(`#${id}`);
  el.classList.toggle('is-computing', Boolean(computing));
  el.classList.toggle('is-provisional', Boolean(ev?.provisional));
  el.setAttribute('aria-busy', String(Boolean(computing)));
  const state = $('lab-k-state');
  if (unavailable) {
    for (const id of ['lab-k-fp32', 'lab-k-int8', 'lab-k-agree']) $(id).textContent = '–';
    $('lab-k-fp32-sub').textContent = 'needs test digits';
    $('lab-k-int8-sub').textContent = 'needs test digits';
    $('lab-k-agree-sub').textContent = `not for ${dims(summary.input)} inputs`;
    state.textContent = '';
  } else if (ev) {
    const e = ev.result;
    $('lab-k-fp32').textContent = pct(e.fp32Accuracy);
    $('lab-k-int8').textContent = pct(e.int8Accuracy);
    const drop = (e.int8Accuracy - e.fp32Accuracy) * 100;
    const unit = e.own ? 'images' : 'digits';
    $('lab-k-fp32-sub').textContent = `float model, ${thousands(e.count)} test ${unit}`;
    $('lab-k-int8-sub').textContent = `${drop >= 0 ? '+' : '−'}${Math.abs(drop).toFixed(2)} points vs FP32`;
    $('lab-k-agree').textContent = pct(e.agreement);
    $('lab-k-agree-sub').textContent = `${thousands(e.flippedCount)} of ${thousands(e.count)} ${unit} flipped`;
    state.textContent = ev.provisional ? `provisional: first ${thousands(e.count)} ${unit}; the rest follow` : computing ? 'computing…' : '';
  } else {
    for (const id of ['lab-k-fp32', 'lab-k-int8', 'lab-k-agree']) $(id).textContent = '–';
    $('lab-k-fp32-sub').textContent = SUBS.fp32;
    $('lab-k-int8-sub').textContent = SUBS.int8;
    $('lab-k-agree-sub').textContent = SUBS.agree;
    state.textContent = computing ? 'computing…' : '';
  }
  if (report) {
    $('lab-k-size').textContent = fmt.ratio(report.bytesFp32, report.bytesInt8);
    const lowBits = report.bytesPacked < report.bytesInt8;
    $('lab-k-size-sub').textContent = `${kib(report.bytesFp32)} → ${kib(report.bytesInt8)}` + (lowBits ? ` (${kib(report.bytesPacked)} packed)` : ' smaller');
  } else {
    $('lab-k-size').textContent = '–';
    $('lab-k-size-sub').textContent = '–';
  }
}
