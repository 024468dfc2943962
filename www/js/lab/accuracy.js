// Accuracy: FP32 against true INT8 on the test set (the digits or the user's own images), the
// images whose prediction flipped (a digit's thumbnail is a button that loads it into the drawing
// pad; a user's image, RGB or gray, is a picture), and in words what the settings did.
import { fmt, pct, pct2, thousands, stats } from './text.js';

/**
 * `el`: #lab-fig-accuracy. `data`: { result (Model.evaluate with the first flipped digits'
 * pixels), provisional, ms, note (the sentence from `explain`) }.
 */
export function render(el, { result: e, provisional, ms, note }) {
  const $ = (id) => el.querySelector(`#${id}`);
  el.classList.toggle('is-provisional', Boolean(provisional));
  $('lab-acc-stats').innerHTML = stats([
    ['FP32 accuracy', `<span class="swatch-fp32">${pct2(e.fp32Accuracy)}</span>`],
    ['INT8 accuracy', `<span class="swatch-int8">${pct2(e.int8Accuracy)}</span>`, 'lab-acc-int8'],
    ['Agreement', pct2(e.agreement), 'lab-acc-agree'],
    ['Logit SQNR', fmt.db(e.logitSqnrDb), 'lab-acc-sqnr'],
    ['Flipped', `${thousands(e.flippedCount)}`, 'lab-acc-flipped'],
    [provisional ? `Provisional (${thousands(e.count)} ${e.own ? 'images' : 'digits'}) in` : 'Evaluated in', `${ms.toFixed(0)} ms`, 'lab-acc-ms'],
  ]);
  $('lab-acc-note').textContent = note;
  thumbs($('lab-flipped'), e);
}

/** A plain-language account of an evaluation: grid levels, zeroed weights, what flipped into what. */
export function explain({ result: e, weightBits, weightLevels, actBits, actLevels, layerName, zeroFraction }) {
  const drop = (e.fp32Accuracy - e.int8Accuracy) * 100;
  const unit = e.own ? 'images' : 'digits';
  const parts = [`At ${weightBits}-bit weights each of ${layerName}'s weights is one of ${weightLevels} levels` +
    (zeroFraction != null ? ` and ${pct(zeroFraction)} of them round to exactly 0` : '') +
    `; ${actBits}-bit activations have ${actLevels} levels.`];
  if (!e.flippedCount) {
    parts.push(`No test ${unit.slice(0, -1)} changed its prediction: at these settings the grid is fine enough.`);
  } else {
    const top = e.confusions.slice(0, 3).map(([a, b, n]) => `${className(e, a)}→${className(e, b)} (${n})`).join(', ');
    parts.push(`${thousands(e.flippedCount)} of ${thousands(e.count)} ${unit} flipped` +
      (drop > 0.05 ? `, costing ${drop.toFixed(1)} points of accuracy` : drop < -0.05 ? `, yet accuracy rose ${(-drop).toFixed(1)} points` : ', with accuracy about the same') +
      `; most often FP32 → INT8 ${top}.`);
  }
  if (weightBits <= 3) parts.push(`With so few levels, small weights vanish and large ones are coarsened: the features the layers compute change, and ambiguous ${unit} go first.`);
  return parts.join(' ');
}

/** A class's name: the user's file's, else its index (the digits are their own names). */
const className = (e, k) => e.classes?.[k] ?? String(k);

/** An 8-bit C·H·W picture on a canvas: RGB from 3 channels, else the first channel in gray. */
function picture(pixels, [c, h, w], invert) {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  canvas.setAttribute('aria-hidden', 'true');
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, h);
  const hw = h * w;
  for (let i = 0; i < hw; i++) {
    const [r, g, b] = c === 3 ? [pixels[i], pixels[hw + i], pixels[2 * hw + i]] : [pixels[i], pixels[i], pixels[i]];
    // The digits are ink on paper: drawn dark on light, as on the pad.
    img.data.set(invert ? [255 - r, 255 - g, 255 - b, 255] : [r, g, b, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function thumbs(box, e) {
  box.replaceChildren();
  const unit = e.own ? 'image' : 'digit';
  if (!e.flipped.length) {
    const p = document.createElement('p');
    p.className = 'empty-note shown';
    p.textContent = `No ${unit} changed its prediction: INT8 agrees with FP32 on all of them.`;
    box.append(p);
    return;
  }
  const shape = e.imageShape ?? [1, 28, 28];
  const list = document.createElement('ul');
  list.className = 'thumb-list';
  for (const f of e.flipped) {
    const li = document.createElement('li');
    // A digit loads into the drawing pad; a user's image is only shown.
    const b = document.createElement(e.own ? 'div' : 'button');
    b.className = e.own ? 'thumb is-image' : 'thumb';
    if (!e.own) {
      b.type = 'button';
      b.dataset.index = String(f.index);
      b.title = 'Load into the drawing pad';
    }
    const cap = document.createElement('span');
    cap.className = 'thumb-cap';
    const [fp, q, truth] = [f.fp32, f.int8, f.label].map((k) => className(e, k));
    // The name is the visible text with what it means around it (axe: label-content-name-mismatch).
    cap.innerHTML = `<span class="sr-only">Test ${unit} ${f.index}, FP32 then INT8: </span><span class="swatch-fp32"></span>→<span class="swatch-int8"></span> ` +
      `<small></small>${e.own ? '' : '<span class="sr-only">. Load it into the drawing pad.</span>'}`;
    const [s1, s2] = cap.querySelectorAll('.swatch-fp32, .swatch-int8');
    s1.textContent = fp; // class names come from the user's file: text, never markup
    s2.textContent = q;
    cap.querySelector('small').textContent = `true ${truth}`;
    b.append(picture(f.pixels, shape, !e.own), cap);
    li.append(b);
    list.append(li);
  }
  box.append(list);
  if (e.flippedCount > e.flipped.length) {
    const more = document.createElement('p');
    more.className = 'thumbs-more';
    more.textContent = `… and ${thousands(e.flippedCount - e.flipped.length)} more`;
    box.append(more);
  }
}
