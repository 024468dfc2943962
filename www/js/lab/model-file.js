// Bring your own model: the file picker and drop zone (input), and what the lab says about the
// model it holds (a view). The controller owns the swap: it checks the file with the page's wasm,
// hands it to the worker, and replaces its model only when the worker's is in.
//
// A file is read with File.arrayBuffer() (it never leaves the browser: no request is made).
import { thousands, macsText, dims } from './text.js';
import { rangeFigures } from './equalize.js';

/** Files above this are not read: the loader's limits (4 M parameters, 1 MB header) stay far below. */
export const MAX_FILE_BYTES = 40 * 1024 * 1024;

/**
 * Does this safetensors file hold test images (`images` and `labels`) rather than a model? Only
 * routes a dropped file: the core reads and checks it either way.
 */
export function holdsImages(buffer) {
  if (buffer.byteLength < 8) return false;
  const n = Number(new DataView(buffer).getBigUint64(0, true));
  if (n > buffer.byteLength - 8 || n > 1 << 20) return false;
  try {
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, n)));
    return 'images' in header && 'labels' in header;
  } catch {
    return false;
  }
}

/**
 * Calls `onFiles(files, as)` for files chosen with a picker (`as` 'model' or 'dataset') or
 * dropped anywhere on `root` (`as` null: each file says what it is); `onReset()` for "Back to the
 * shipped model", `onDigits()` for "Back to the test digits".
 */
export function wire(root, { onFiles, onReset, onDigits }) {
  const $ = (id) => root.querySelector(`#${id}`);
  for (const [as, pick, file] of [['model', 'lab-model-pick', 'lab-model-file'], ['dataset', 'lab-data-pick', 'lab-data-file']]) {
    const input = $(file);
    $(pick).addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      const files = [...input.files];
      input.value = ''; // the same file can be chosen again
      if (files.length) onFiles(files, as);
    });
  }
  $('lab-model-reset').addEventListener('click', () => onReset());
  $('lab-data-reset').addEventListener('click', () => onDigits());
  const panel = $('lab-model');
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  let depth = 0; // dragenter/dragleave pairs over the section's children
  root.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    depth++;
    panel.classList.add('is-drop');
  });
  root.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) panel.classList.remove('is-drop');
  });
  root.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  root.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.stopPropagation();
    depth = 0;
    panel.classList.remove('is-drop');
    const files = [...e.dataTransfer.files];
    if (files.length) onFiles(files, null);
  });
  // A file dropped anywhere else must not replace the page (the browser would open it).
  for (const type of ['dragover', 'drop']) {
    document.addEventListener(type, (e) => { if (hasFiles(e)) e.preventDefault(); });
  }
}

/** The picker's busy state and the status line. */
export function renderBusy(root, busy, status = '') {
  const $ = (id) => root.querySelector(`#${id}`);
  for (const id of ['lab-model-pick', 'lab-model-reset', 'lab-data-pick', 'lab-data-reset']) $(id).disabled = busy;
  $('lab-model').classList.toggle('is-busy', busy);
  $('lab-model').setAttribute('aria-busy', String(busy));
  if (status) $('lab-model-status').textContent = status;
}

/** Shows what is wrong with a file (or clears it with ''). */
export function renderError(root, text) {
  root.querySelector('#lab-model-alert').textContent = text;
}

/** "3×32×32 images, 10 classes (cat, dog, …)" for the user's test file. */
function datasetText({ name, count, shape, classes }, calibCount) {
  const names = classes?.length ? ` (${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', …' : ''})` : '';
  return `Test images: ${name}, ${thousands(count)} images of ${dims(shape)}${names}. ` +
    (calibCount ? `The model does not take digits, so it is calibrated on the first ${thousands(calibCount)} of them.` :
      'The model is calibrated on the training digits as before; only what it is tested on changed.');
}

/**
 * `root`: the lab section. `data`: { summary, layers, name, shipped, note, digits (a labelled
 * test set), takesDigits, reason, drawReason, dataset (the user's test file: {name, count,
 * shape, classes}) and datasetCalib (images it calibrated on, when the model does not take
 * digits), folds (Model.folding: each BatchNorm folded, with the ranges before and after), texts: {title, lede} (the shipped model's, as the page was written), qat (a kept QAT
 * model) }.
 */
export function render(root, { summary, layers, name, shipped, note, folds = [], digits, takesDigits = digits, reason, drawReason = reason, dataset = null, datasetCalib = 0, texts, qat = false }) {
  const $ = (id) => root.querySelector(`#${id}`);
  $('lab-model-name').textContent = shipped ? 'the shipped CNN' : name;
  $('lab-model-desc').textContent = `· input ${dims(summary.input)}, ${summary.layers.length} layers (${layers.length} quantized), ` +
    `${thousands(summary.params)} parameters, ${macsText(summary.macs)} MACs, ${summary.outputs} outputs`;
  const noteEl = $('lab-model-note');
  noteEl.hidden = !note;
  // The core's note: how the layers were inferred, which BatchNorms were folded into which conv.
  // A note that starts with a layer's name (bn1 folded into conv1) keeps its case.
  noteEl.textContent = note ? `${note.startsWith('no layer list') ? `N${note.slice(1)}` : note}.` : '';
  $('lab-model-reset').hidden = shipped;
  // Each folded BatchNorm: its layer's per-channel weight ranges before and after (the core's).
  $('lab-model-fold').hidden = !folds.length;
  rangeFigures($('lab-model-fold-charts'), folds.map((f) => ({
    key: `${f.batchnorm}-${f.into}`,
    caption: `${f.batchnorm} folded into ${f.into}: ${f.into}'s output channels`,
    before: f.before,
    after: f.after,
  })));
  $('lab-data-reset').hidden = !dataset;
  const dataEl = $('lab-data-desc');
  dataEl.hidden = !dataset;
  dataEl.textContent = dataset ? datasetText(dataset, datasetCalib) : '';
  // The views' fixed texts name the set they measure on.
  for (const el of root.querySelectorAll('.test-set-name')) {
    el.textContent = dataset ? `${thousands(dataset.count)} images of ${dataset.name}` : '2,000 test digits';
  }
  root.classList.toggle('lab-no-digits', !digits);
  root.classList.toggle('lab-no-draw', digits && !takesDigits);
  const tested = dataset ? `tested on your ${thousands(dataset.count)} images (${dataset.name})` : 'tested on 2,000 digits';
  $('lab-title').textContent = shipped ? texts.title : qat ? 'CNN lab: the fine-tuned model' : 'CNN lab: quantize your model';
  root.querySelector('.section-head .lede').textContent = shipped && !dataset ? texts.lede
    : shipped ? `The shipped CNN, calibrated on 512 training digits and ${tested}. Every number below is measured on it in your browser.`
    : qat ? `The lab's model is ${name}: the weights before it, fine-tuned here by quantization-aware training. Its activation ` +
      'ranges are the ones it learned, not the calibration method\'s; every number below is measured on it in your browser.'
    : `Your model, ${name}: ${summary.layers.map((l) => (l.name === l.kind ? l.kind : `${l.name} (${l.kind})`)).join(' → ')}, ` +
      (digits && takesDigits
        ? `quantized live and calibrated on 512 training digits, ${tested}. Every number below is measured on it in your browser.`
        : digits
          ? `quantized live, calibrated on the first ${thousands(datasetCalib)} of your images and ${tested}. Every number below is measured on it in your browser.`
          : 'quantized live. It does not take the test digits, so it is calibrated and timed on seeded random inputs; every number below is measured on it in your browser.');
  // A note in each view that needs the digits, saying why it is empty.
  const views = digits ? (takesDigits ? {} : { 'lab-fig-draw': `Drawing is not available: ${drawReason}. Accuracy, the sweep and sensitivity use your test images.` }) : {
    'lab-fig-accuracy': `Accuracy is not available: ${reason}. Every other view works on this model.`,
    'lab-fig-draw': `Drawing is not available: ${reason}.`,
    'lab-fig-sens': `Per-layer sensitivity measures accuracy, which is not available: ${reason}.`,
    'lab-fig-sweep': 'Without test digits there is no accuracy. Instead, the whole model at 8 down to 2 bits on seeded random inputs in [0, 1] ' +
      '(the timing inputs): how often its top output agrees with FP32 and the logit SQNR, for weights only (the course module\'s ' +
      '“simulated” path) and weights + activations (true integer inference at that many bits); each layer\'s weight SQNR (about 6 dB per bit); ' +
      'and the packed model size. Random inputs are not the data the model was made for, so these numbers show the trend, not deployment accuracy.',
    'lab-fig-timing': 'This model does not take the test digits: it is timed on seeded random inputs in [0, 1].',
  };
  for (const id of ['lab-fig-accuracy', 'lab-fig-draw', 'lab-fig-sens', 'lab-fig-sweep', 'lab-fig-timing']) {
    const fig = $(id);
    let p = fig.querySelector(':scope > .nodigits-note');
    if (!views[id]) {
      p?.remove();
      continue;
    }
    if (!p) {
      p = document.createElement('p');
      p.className = 'nodigits-note';
      fig.querySelector(':scope > h2').after(p);
    }
    p.textContent = views[id];
  }
}
