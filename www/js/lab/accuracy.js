// Accuracy: FP32 against true INT8 on the test digits, the digits whose prediction flipped (each
// a button that loads it into the drawing pad), and in words what the settings did.
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
    [provisional ? `Provisional (${thousands(e.count)} digits) in` : 'Evaluated in', `${ms.toFixed(0)} ms`, 'lab-acc-ms'],
  ]);
  $('lab-acc-note').textContent = note;
  thumbs($('lab-flipped'), e);
}

/** A plain-language account of an evaluation: grid levels, zeroed weights, what flipped into what. */
export function explain({ result: e, weightBits, weightLevels, actBits, actLevels, layerName, zeroFraction }) {
  const drop = (e.fp32Accuracy - e.int8Accuracy) * 100;
  const parts = [`At ${weightBits}-bit weights each of ${layerName}'s weights is one of ${weightLevels} levels` +
    (zeroFraction != null ? ` and ${pct(zeroFraction)} of them round to exactly 0` : '') +
    `; ${actBits}-bit activations have ${actLevels} levels.`];
  if (!e.flippedCount) {
    parts.push('No test digit changed its prediction: at these settings the grid is fine enough.');
  } else {
    const top = e.confusions.slice(0, 3).map(([a, b, n]) => `${a}→${b} (${n})`).join(', ');
    parts.push(`${thousands(e.flippedCount)} of ${thousands(e.count)} digits flipped` +
      (drop > 0.05 ? `, costing ${drop.toFixed(1)} points of accuracy` : drop < -0.05 ? `, yet accuracy rose ${(-drop).toFixed(1)} points` : ', with accuracy about the same') +
      `; most often FP32 → INT8 ${top}.`);
  }
  if (weightBits <= 3) parts.push('With so few levels, small weights vanish and large ones are coarsened: the features the layers compute change, and ambiguous digits go first.');
  return parts.join(' ');
}

function thumbs(box, e) {
  box.replaceChildren();
  if (!e.flipped.length) {
    const p = document.createElement('p');
    p.className = 'empty-note shown';
    p.textContent = 'No digit changed its prediction: INT8 agrees with FP32 on all of them.';
    box.append(p);
    return;
  }
  const list = document.createElement('ul');
  list.className = 'thumb-list';
  for (const f of e.flipped) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'thumb';
    b.dataset.index = String(f.index);
    b.title = 'Load into the drawing pad';
    const c = document.createElement('canvas');
    c.width = 28;
    c.height = 28;
    c.setAttribute('aria-hidden', 'true');
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = 255 - f.pixels[i];
      img.data.set([v, v, v, 255], i * 4);
    }
    ctx.putImageData(img, 0, 0);
    const cap = document.createElement('span');
    cap.className = 'thumb-cap';
    // The name is the visible text with what it means around it (axe: label-content-name-mismatch).
    cap.innerHTML = `<span class="sr-only">Test digit ${f.index}, FP32 then INT8: </span><span class="swatch-fp32">${f.fp32}</span>→<span class="swatch-int8">${f.int8}</span> ` +
      `<small>true ${f.label}</small><span class="sr-only">. Load it into the drawing pad.</span>`;
    b.append(c, cap);
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
