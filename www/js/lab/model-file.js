// Bring your own model: the file picker and drop zone (input), and what the lab says about the
// model it holds (a view). The controller owns the swap: it checks the file with the page's wasm,
// hands it to the worker, and replaces its model only when the worker's is in.
//
// A file is read with File.arrayBuffer() (it never leaves the browser: no request is made).
import { thousands, macsText, dims } from './text.js';

/** Files above this are not read: the loader's limits (4 M parameters, 1 MB header) stay far below. */
export const MAX_FILE_BYTES = 40 * 1024 * 1024;

/**
 * Calls `onFile(file, note)` for a file chosen with the picker or dropped anywhere on `root`;
 * `onReset()` for "Back to the shipped model".
 */
export function wire(root, { onFile, onReset }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const input = $('lab-model-file');
  $('lab-model-pick').addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    const [file] = input.files;
    input.value = ''; // the same file can be chosen again
    if (file) onFile(file, '');
  });
  $('lab-model-reset').addEventListener('click', () => onReset());
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
    if (!files.length) return;
    const file = files.find((f) => /\.safetensors$/i.test(f.name)) ?? files[0];
    onFile(file, files.length > 1 ? `${files.length} files dropped; loading ${file.name}` : '');
  });
  // A file dropped anywhere else must not replace the page (the browser would open it).
  for (const type of ['dragover', 'drop']) {
    document.addEventListener(type, (e) => { if (hasFiles(e)) e.preventDefault(); });
  }
}

/** The picker's busy state and the status line. */
export function renderBusy(root, busy, status = '') {
  const $ = (id) => root.querySelector(`#${id}`);
  $('lab-model-pick').disabled = busy;
  $('lab-model-reset').disabled = busy;
  $('lab-model').classList.toggle('is-busy', busy);
  $('lab-model').setAttribute('aria-busy', String(busy));
  if (status) $('lab-model-status').textContent = status;
}

/** Shows what is wrong with a file (or clears it with ''). */
export function renderError(root, text) {
  root.querySelector('#lab-model-alert').textContent = text;
}

/**
 * `root`: the lab section. `data`: { summary, layers, name, shipped, note, digits, reason,
 * texts: {title, lede} (the shipped model's, as the page was written), qat (a kept QAT model) }.
 */
export function render(root, { summary, layers, name, shipped, note, digits, reason, texts, qat = false }) {
  const $ = (id) => root.querySelector(`#${id}`);
  $('lab-model-name').textContent = shipped ? 'the shipped CNN' : name;
  $('lab-model-desc').textContent = `· input ${dims(summary.input)}, ${summary.layers.length} layers (${layers.length} quantized), ` +
    `${thousands(summary.params)} parameters, ${macsText(summary.macs)} MACs, ${summary.outputs} outputs`;
  const noteEl = $('lab-model-note');
  noteEl.hidden = !note;
  // The core's note: how the layers were inferred, which BatchNorms were folded into which conv.
  noteEl.textContent = note ? `${note[0].toUpperCase()}${note.slice(1)}.` : '';
  $('lab-model-reset').hidden = shipped;
  root.classList.toggle('lab-no-digits', !digits);
  $('lab-title').textContent = shipped ? texts.title : qat ? 'CNN lab: the fine-tuned model' : 'CNN lab: quantize your model';
  root.querySelector('.section-head .lede').textContent = shipped ? texts.lede
    : qat ? `The lab's model is ${name}: the weights before it, fine-tuned here by quantization-aware training. Its activation ` +
      'ranges are the ones it learned, not the calibration method\'s; every number below is measured on it in your browser.'
    : `Your model, ${name}: ${summary.layers.map((l) => (l.name === l.kind ? l.kind : `${l.name} (${l.kind})`)).join(' → ')}, ` +
      (digits
        ? 'quantized live and calibrated on 512 training digits, tested on 2,000 digits. Every number below is measured on it in your browser.'
        : 'quantized live. It does not take the test digits, so it is calibrated and timed on seeded random inputs; every number below is measured on it in your browser.');
  // A note in each view that needs the digits, saying why it is empty.
  const views = digits ? {} : {
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
