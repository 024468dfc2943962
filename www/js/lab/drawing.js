// The drawing's predictions: FP32's and INT8's digit and confidence, the ten probabilities, and
// the image the model sees (the preprocessed input).
import { pct } from './text.js';

/** Empty probability rows, once. */
export function build(el) {
  el.querySelector('#lab-probs').innerHTML = '<div class="prob-head"><span>digit</span><span><span class="swatch-fp32">FP32</span> / <span class="swatch-int8">INT8</span> probability</span></div>' +
    Array.from({ length: 10 }, (_, d) => `<div class="prob-row" data-digit="${d}"><span class="prob-digit">${d}</span>` +
      '<div class="prob-bars"><div class="pbar pbar-fp32"></div><div class="pbar pbar-int8"></div></div>' +
      `<span class="prob-val"><span id="lab-p-fp32-${d}" class="swatch-fp32">–</span> <span id="lab-p-int8-${d}" class="swatch-int8">–</span></span></div>`).join('');
}

const argmax = (p) => p.indexOf(Math.max(...p));

/**
 * `el`: #lab-fig-draw. `data`: { fp32, int8 (probabilities), input (the model's input image,
 * 0 = background, 1 = ink), source ('drawing' | test digit {index, label}) } or null (cleared).
 */
export function render(el, data) {
  const $ = (id) => el.querySelector(`#${id}`);
  const inputCanvas = $('lab-draw-input');
  const ctx = inputCanvas.getContext('2d');
  if (!data) {
    ctx.clearRect(0, 0, inputCanvas.width, inputCanvas.height);
    for (const which of ['fp32', 'int8']) {
      $(`lab-draw-${which}`).textContent = '–';
      $(`lab-draw-${which}-p`).textContent = which === 'fp32' ? 'draw something' : '\u00a0';
    }
    for (let d = 0; d < 10; d++) {
      $(`lab-p-fp32-${d}`).textContent = '–';
      $(`lab-p-int8-${d}`).textContent = '–';
    }
    for (const bar of $('lab-probs').querySelectorAll('.pbar')) bar.style.width = '0';
    for (const row of $('lab-probs').querySelectorAll('.prob-row')) row.classList.remove('is-top');
    $('lab-draw-source').textContent = '';
    return;
  }
  const fp = Array.from(data.fp32);
  const i8 = Array.from(data.int8);
  const df = argmax(fp);
  const di = argmax(i8);
  $('lab-draw-fp32').textContent = String(df);
  $('lab-draw-int8').textContent = String(di);
  $('lab-draw-fp32-p').textContent = `${pct(fp[df])} sure`;
  $('lab-draw-int8-p').textContent = `${pct(i8[di])} sure` + (df !== di ? ' · disagrees!' : '');
  $('lab-probs').querySelectorAll('.prob-row').forEach((row, d) => {
    row.querySelector('.pbar-fp32').style.width = `${(fp[d] * 100).toFixed(1)}%`;
    row.querySelector('.pbar-int8').style.width = `${(i8[d] * 100).toFixed(1)}%`;
    row.classList.toggle('is-top', d === df || d === di);
    $(`lab-p-fp32-${d}`).textContent = (fp[d] * 100).toFixed(1);
    $(`lab-p-int8-${d}`).textContent = (i8[d] * 100).toFixed(1);
  });
  const img = ctx.createImageData(inputCanvas.width, inputCanvas.height);
  for (let i = 0; i < img.width * img.height; i++) {
    const v = 255 - Math.round(Math.min(1, Math.max(0, data.input[i])) * 255);
    img.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  $('lab-draw-source').textContent = data.source?.index != null
    ? `Test digit ${data.source.index} (true label ${data.source.label}).`
    : '';
}

/**
 * Why a clean drawing survives what test digits do not: shown when INT8 still agrees with FP32 at
 * low bits while test digits flip.
 */
export function note({ fp32, int8, weightBits, flippedCount }) {
  if (!fp32 || weightBits > 4) return '';
  const df = argmax(Array.from(fp32));
  const di = argmax(Array.from(int8));
  if (df !== di) return `At ${weightBits} bits INT8 reads this digit differently from FP32: the coarse grid moved it across a decision boundary.`;
  if (!flippedCount) return '';
  return `INT8 still agrees here although ${flippedCount.toLocaleString('en-US')} test digits flipped: a bold, centred drawing sits far from the boundary between two classes, so it takes more error to move it; the digits that flip are the ambiguous ones (look at them in the Accuracy view).`;
}
