// Bring your own model: the CNN lab's file picker and drop zone, and what the lab shows for a
// model that is not the shipped one.
//
// A file is read with File.arrayBuffer() (it never leaves the browser: no request is made) and
// checked by the page's own wasm (Model.fromSafetensors), which names any problem. Only then are
// the bytes transferred to the worker, which loads and calibrates the same model and answers
// `model` or `model-error`; the page swaps its own instance (the one the weight views use) when
// the worker's is in. Until then, and whenever anything fails, the previous model, its views and
// every setting stay as they were; the error, with the file's name, goes to the alert next to
// the picker.
//
// Models taking 1×28×28 or 1×32×32 digits with 10 outputs get the full lab. Others get the
// weight views, activation ranges and timing on seeded random inputs, and a sweep on those inputs
// (agreement with FP32 and logit SQNR instead of accuracy, plus each layer's weight SQNR); the
// page says why accuracy (and so sensitivity and drawing) is missing.
import { LineChart, COLORS } from './charts.js';
import * as fmt from './format.js';
import { SWEEP_BITS, QLAYERS, setModelLayers, defaultLayer, withSettings } from './lab-state.js';

/** Files above this are not read: the loader's limits (4 M parameters, 1 MB header) stay far below. */
const MAX_FILE_BYTES = 40 * 1024 * 1024;
const WONLY = '#E69F00'; // as js/lab.js: the weights-only ("simulated") path
/** Per-layer lines: first the colours the sweep's FP32, weights-only and int8 lines do not use. */
const SERIES = [COLORS.good, COLORS.clip, '#56B4E9', COLORS.grid, '#F0E442', COLORS.fp32, COLORS.int8, WONLY];

const dims = (shape) => shape.join('×');
const thousands = (n) => n.toLocaleString('en-US');
const macsText = (n) => (n >= 1e5 ? `${fmt.num(n / 1e6, 3)} M` : thousands(n));

export class ModelFile {
  constructor(lab) {
    this.lab = lab;
    this.$ = lab.$;
    this.busy = false;
    this.loadId = 0;
    this.pending = null; // {id, name, model}: the page's copy while the worker loads its own
    this.digits = true;
    this.sweepCharts = []; // the charts only a model without digits has (agreement, weight SQNR)
    this.debug = { name: null, shipped: true, digits: true, note: null, loads: 0, errors: [] };
    lab.debug.modelFile = this.debug;
  }

  start() {
    const input = this.$('lab-model-file');
    this.lede = this.lab.root.querySelector('.section-head .lede');
    this.shippedLede = this.lede?.textContent ?? '';
    this.title = this.$('lab-title');
    this.shippedTitle = this.title?.textContent ?? '';
    this.fp32Sub = this.$('lab-k-fp32').nextElementSibling;
    this.fp32SubText = this.fp32Sub.textContent;
    this.$('lab-model-pick').addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      const [file] = input.files;
      input.value = ''; // the same file can be chosen again
      if (file) this.load(file);
    });
    this.$('lab-model-reset').addEventListener('click', () => this.backToShipped());
    // What only digits can show; hidden (with a note saying why) for other models.
    this.$('lab-chart-sweep-acc').closest('figure').classList.add('needs-digits');
    this.sqnrCaption = this.$('lab-chart-sweep-sqnr').closest('figure').querySelector('figcaption');
    for (const el of this.lab.root.querySelectorAll('#lab-fig-sweep > .explain, #lab-fig-accuracy > .explain, #lab-fig-draw > .explain, #lab-fig-draw > .draw-layout, #lab-fig-sens > .explain, #lab-fig-timing > .explain')) {
      el.classList.add('needs-digits');
    }
    this.setupDrop();
    this.describe(this.lab.summary, { name: null, shipped: true, note: null });
  }

  // ---- drag and drop --------------------------------------------------------------------------

  setupDrop() {
    const zone = this.lab.root;
    const panel = this.$('lab-model');
    const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    let depth = 0;
    zone.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      depth++;
      panel.classList.add('is-drop');
    });
    zone.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (!depth) panel.classList.remove('is-drop');
    });
    zone.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    });
    zone.addEventListener('drop', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.stopPropagation();
      depth = 0;
      panel.classList.remove('is-drop');
      const files = [...e.dataTransfer.files];
      if (!files.length) return;
      const file = files.find((f) => /\.safetensors$/i.test(f.name)) ?? files[0];
      this.load(file, files.length > 1 ? `${files.length} files dropped; loading ${file.name}` : '');
    });
    // A file dropped anywhere else must not replace the page (the browser would open it).
    for (const type of ['dragover', 'drop']) {
      document.addEventListener(type, (e) => { if (hasFiles(e)) e.preventDefault(); });
    }
  }

  // ---- loading --------------------------------------------------------------------------------

  async load(file, note = '') {
    if (this.busy) {
      this.fail(file.name, 'another model is still loading; try again in a moment', false);
      return;
    }
    this.clearError();
    if (file.size > MAX_FILE_BYTES) {
      this.fail(file.name, `file: is ${(file.size / 2 ** 20).toFixed(0)} MB; the page reads model files of up to ${MAX_FILE_BYTES / 2 ** 20} MB (4 M parameters)`);
      return;
    }
    this.setBusy(true, `reading ${file.name}…${note ? ` (${note})` : ''}`);
    let bytes;
    let next = null;
    try {
      bytes = await file.arrayBuffer();
      // The page's instance first: a bad file is refused here, and the worker never sees it.
      next = this.lab.api.Model.fromSafetensors(new Uint8Array(bytes));
    } catch (err) {
      this.setBusy(false);
      this.fail(file.name, err?.message ?? String(err));
      return;
    }
    const id = ++this.loadId;
    this.pending = { id, name: file.name, model: next, t0: performance.now() };
    this.setBusy(true, `checking and calibrating ${file.name}…`);
    this.lab.worker.postMessage({ type: 'load', id, name: file.name, bytes }, [bytes]);
  }

  backToShipped() {
    if (this.busy) return;
    this.clearError();
    const id = ++this.loadId;
    this.pending = { id, name: null, model: this.lab.api.Model.baseline(), t0: performance.now() };
    this.setBusy(true, 'loading the shipped model…');
    this.lab.worker.postMessage({ type: 'baseline', id });
  }

  setBusy(busy, status = '') {
    this.busy = busy;
    this.debug.busy = busy;
    this.$('lab-model-pick').disabled = busy;
    this.$('lab-model-reset').disabled = busy;
    this.$('lab-model').classList.toggle('is-busy', busy);
    this.$('lab-model').setAttribute('aria-busy', String(busy));
    if (status) this.$('lab-status').textContent = status;
  }

  /** The worker has the new model: swap the page's, rebuild what depends on its layers. */
  onModel(m) {
    const p = this.pending;
    if (!p || p.id !== m.id) return;
    this.pending = null;
    const lab = this.lab;
    const kept = lab.state ?? lab.readForm();
    lab.model.free();
    lab.model = p.model;
    lab.summary = lab.model.summary();
    lab.weightCache.clear();
    setModelLayers(lab.summary);
    lab.buildLayerControls();
    this.digits = m.digits;
    this.resetViews(m);
    // Bits, scheme, granularity and calibration stay; layer, channel and overrides are per model.
    lab.writeForm(withSettings(kept, { layer: defaultLayer(), channel: 0, overrides: {} }));
    this.setBusy(false);
    const ms = performance.now() - p.t0;
    const how = m.digits ? `${thousands(m.calibCount)} training digits` : `${thousands(m.calibCount)} seeded random inputs in [0, 1]`;
    lab.$('lab-status').textContent = `${m.shipped ? 'shipped model' : m.name} loaded and calibrated on ${how} in ${ms.toFixed(0)} ms`;
    this.describe(lab.summary, m);
    Object.assign(this.debug, { name: m.name, shipped: m.shipped, digits: m.digits, note: m.note, reason: m.reason, loads: this.debug.loads + 1 });
    lab.schedule();
  }

  onModelError(m) {
    const p = this.pending;
    if (!p || p.id !== m.id) return;
    this.pending = null;
    p.model.free();
    this.setBusy(false);
    this.fail(m.name ?? 'the shipped model', m.message);
  }

  /** Shows what is wrong; everything else stays. Not a console error: it is the page's answer. */
  fail(name, message, record = true) {
    const text = `Could not load ${name}: ${message}. The previous model and all settings are kept.`;
    this.$('lab-model-alert').textContent = text;
    if (record) this.debug.errors.push({ name, message });
    this.lab.schedule(); // settings moved while loading were not sent yet
    this.lab.$('lab-status').textContent = `${name} was not loaded`;
  }

  clearError() {
    this.$('lab-model-alert').textContent = '';
  }

  // ---- what the page says about the model -----------------------------------------------------

  describe(summary, { name, shipped, note }) {
    const q = QLAYERS.length;
    this.$('lab-model-name').textContent = shipped ? 'the shipped CNN' : name;
    this.$('lab-model-desc').textContent = `· input ${dims(summary.input)}, ${summary.layers.length} layers (${q} quantized), ` +
      `${thousands(summary.params)} parameters, ${macsText(summary.macs)} MACs, ${summary.outputs} outputs`;
    const noteEl = this.$('lab-model-note');
    noteEl.hidden = !note;
    noteEl.textContent = note ? `Inferred: ${note}.` : '';
    this.$('lab-model-reset').hidden = shipped;
    this.lab.root.classList.toggle('lab-no-digits', !this.digits);
    this.sqnrCaption.textContent = this.digits ? 'Logit SQNR' : 'Logit SQNR on random inputs';
    if (this.title) this.title.textContent = shipped ? this.shippedTitle : 'CNN lab: quantize your model';
    if (this.lede) {
      this.lede.textContent = shipped ? this.shippedLede
        : `Your model, ${name}: ${summary.layers.map((l) => l.name === l.kind ? l.kind : `${l.name} (${l.kind})`).join(' → ')}, ` +
          (this.digits
            ? 'quantized live and calibrated on 512 training digits, tested on 2,000 digits. Every number below is measured on it in your browser.'
            : 'quantized live. It does not take the test digits, so it is calibrated and timed on seeded random inputs; every number below is measured on it in your browser.');
    }
    this.setNotes();
  }

  /** A note in each view that needs the digits, saying why it is empty (or removes them). */
  setNotes() {
    const reason = this.digits ? null : this.debug.reason ?? this.reasonText();
    const views = {
      'lab-fig-accuracy': `Accuracy is not available: ${reason}. Every other view works on this model.`,
      'lab-fig-draw': `Drawing is not available: ${reason}.`,
      'lab-fig-sens': `Per-layer sensitivity measures accuracy, which is not available: ${reason}.`,
      'lab-fig-sweep': 'Without test digits there is no accuracy. Instead, the whole model at 8 down to 2 bits on seeded random inputs in [0, 1] ' +
        '(the timing inputs): how often its top output agrees with FP32 and the logit SQNR, for weights only (the course module\'s ' +
        '“simulated” path) and weights + activations (true integer inference at that many bits); each layer\'s weight SQNR (about 6 dB per bit); ' +
        'and the packed model size. Random inputs are not the data the model was made for, so these numbers show the trend, not deployment accuracy.',
      'lab-fig-timing': 'This model does not take the test digits: it is timed on seeded random inputs in [0, 1].',
    };
    for (const [id, text] of Object.entries(views)) {
      const fig = this.$(id);
      let note = fig.querySelector(':scope > .nodigits-note');
      if (this.digits) {
        note?.remove();
        continue;
      }
      if (!note) {
        note = document.createElement('p');
        note.className = 'nodigits-note';
        fig.querySelector(':scope > h2').after(note);
      }
      note.textContent = text;
    }
  }

  reasonText() {
    const s = this.lab.summary;
    return `this model takes ${dims(s.input)} inputs and gives ${s.outputs} outputs, but the test digits need 1×28×28 or 1×32×32 inputs and 10 outputs`;
  }

  /** Empties every view computed for the previous model; they fill again for the new one. */
  resetViews(m) {
    const lab = this.lab;
    lab.report = null;
    lab.methods = null;
    lab.sentKey = null;
    lab.timingRun++; // an answer for the old model's timing is dropped
    Object.assign(lab.debug, { report: null, eval: null, sens: null, sweep: null, timing: null, have: {}, want: {} });
    this.debug.reason = m.reason;
    for (const task of ['eval', 'sens', 'sweep', 'timing']) lab.hideProgress(task);
    for (const id of ['lab-k-fp32', 'lab-k-int8', 'lab-k-agree']) lab.$(id).textContent = '–';
    lab.$('lab-k-int8-sub').textContent = 'true integer inference';
    this.fp32Sub.textContent = this.fp32SubText;
    lab.$('lab-k-agree-sub').textContent = 'same digit predicted';
    for (const id of ['lab-acc-stats', 'lab-flipped', 'lab-sens', 'lab-sweep-table', 'lab-why']) lab.$(id).replaceChildren();
    lab.$('lab-timing').innerHTML = '<p class="hbar-note">Not run yet for this model.</p>';
    lab.$('lab-timing-scope').textContent = '';
    lab.charts.sweepAcc.update([SWEEP_BITS.map(() => null), SWEEP_BITS.map(() => null), SWEEP_BITS.map(() => null)]);
    lab.charts.sweepSqnr.update([SWEEP_BITS.map(() => null), SWEEP_BITS.map(() => null)]);
    lab.charts.sweepSize.update([SWEEP_BITS.map(() => null), SWEEP_BITS.map(() => null)]);
    // Drawing: the model's input canvas is 32×32 or 28×28.
    const [, h, w] = lab.summary.input;
    const inputCanvas = lab.$('lab-draw-input');
    if (m.digits && (inputCanvas.width !== w || inputCanvas.height !== h)) {
      inputCanvas.width = w;
      inputCanvas.height = h;
      inputCanvas.nextElementSibling.textContent = `model input ${h}×${w}`;
    }
    lab.clearDrawing();
    this.buildRandomSweepCharts(m);
  }

  // ---- views without digits ------------------------------------------------------------------

  showNoAccuracy(reason) {
    const lab = this.lab;
    lab.$('lab-k-fp32').textContent = '–';
    lab.$('lab-k-int8').textContent = '–';
    lab.$('lab-k-agree').textContent = '–';
    lab.$('lab-k-int8-sub').textContent = 'needs test digits';
    this.fp32Sub.textContent = 'needs test digits';
    lab.$('lab-k-agree-sub').textContent = `not for ${dims(lab.summary.input)} inputs`;
    lab.$('lab-acc-stats').replaceChildren();
    lab.$('lab-flipped').replaceChildren();
    lab.debug.eval = { unavailable: reason };
    if (!lab.debug.ready) {
      lab.debug.ready = true;
      lab.root.dataset.ready = 'true';
    }
  }

  /** A chart figure in the sweep, as the digit sweep's: caption, chart, optional legend. */
  sweepFigure(id, caption, options, legend = null) {
    const fig = document.createElement('figure');
    fig.id = `${id}-fig`;
    fig.className = 'mini';
    const cap = document.createElement('figcaption');
    cap.textContent = caption;
    const el = document.createElement('div');
    el.id = id;
    el.className = 'chart';
    fig.append(cap, el);
    if (legend) fig.append(legend);
    return { fig, make: () => new LineChart(el, { xs: [...SWEEP_BITS].reverse(), xLabel: 'bits', ...options }) };
  }

  /**
   * Without digits, next to the logit SQNR and size charts the digit sweep also has: agreement
   * with FP32 on the random inputs (where the digit sweep shows accuracy) and one line per
   * quantized layer for its weight SQNR.
   */
  buildRandomSweepCharts(m) {
    for (const c of this.sweepCharts) {
      c.u.destroy();
      c.resize.disconnect();
      c.el.closest('figure').remove();
    }
    this.sweepCharts = [];
    this.$('lab-sweep-inputs')?.remove();
    if (m.digits) return;
    // Above the table (a <caption> would be as wide as the table, which scrolls on a phone).
    const inputs = document.createElement('p');
    inputs.id = 'lab-sweep-inputs';
    inputs.className = 'table-note';
    this.$('lab-sweep-table').closest('.table-wrap').before(inputs);
    const box = this.lab.root.querySelector('#lab-fig-sweep .sweep-charts');
    const agree = this.sweepFigure('lab-chart-sweep-agree', 'Agreement with FP32 on random inputs', {
      yLabel: 'agreement (%)',
      yRange: () => [0, 100],
      series: [{ color: WONLY, dash: [8, 4], fill: '#fff' }, { color: COLORS.int8 }],
    });
    const legend = document.createElement('p');
    legend.className = 'legend layer-legend';
    QLAYERS.forEach((l, i) => {
      const key = document.createElement('span');
      key.className = 'key layer-key';
      key.textContent = l.name;
      key.style.setProperty('--key-color', SERIES[i % SERIES.length]);
      legend.append(key);
    });
    const wsqnr = this.sweepFigure('lab-chart-sweep-wsqnr', 'Weight SQNR per layer', {
      yLabel: 'SQNR (dB)',
      yRange: (_min, max) => [0, Math.max(10, Math.ceil((max * 1.1) / 10) * 10)],
      series: QLAYERS.map((_, i) => ({ color: SERIES[i % SERIES.length] })),
    }, legend);
    // Agreement, logit SQNR, weight SQNR, size: the digit sweep's order, accuracy replaced.
    box.prepend(agree.fig);
    this.$('lab-chart-sweep-size').closest('figure').before(wsqnr.fig);
    this.agreeChart = agree.make();
    this.weightChart = wsqnr.make();
    this.sweepCharts = [this.agreeChart, this.weightChart];
  }

  /** The sweep on random inputs: charts and table as the digit sweep's, agreement for accuracy. */
  drawRandomSweep(m) {
    const lab = this.lab;
    const xs = [...SWEEP_BITS].reverse();
    const at = (b) => m.points.find((p) => p.bits === b);
    const col = (f) => xs.map((b) => { const p = at(b); return p ? f(p) : null; });
    this.agreeChart?.update([col((p) => p.wAgreement * 100), col((p) => p.waAgreement * 100)]);
    lab.charts.sweepSqnr.update([col((p) => p.wSqnrDb), col((p) => p.waSqnrDb)]);
    this.weightChart?.update(QLAYERS.map((_, i) => col((p) => p.weightSqnrDb[i])));
    const f32kib = m.points[0] ? m.points[0].bytesFp32 / 1024 : null;
    lab.charts.sweepSize.update([xs.map(() => f32kib), col((p) => p.bytesPacked / 1024)]);
    const pct = (v) => `${(v * 100).toFixed(1)} %`;
    const layerHead = QLAYERS.map((l) => `<th class="num">${l.name}<br><small>weight SQNR</small></th>`).join('');
    const cols = 5 + QLAYERS.length + 2;
    this.$('lab-sweep-inputs').textContent =
      `On ${thousands(m.inputs)} seeded random inputs in [0, 1] (the timing inputs), not test digits. Agreement: same top output as FP32.`;
    lab.$('lab-sweep-table').innerHTML =
      '<thead><tr><th class="num">Bits</th><th class="num c-wonly">Agreement<br><small>weights only</small></th><th class="num c-int8">Agreement<br><small>weights + act.</small></th>' +
      '<th class="num c-wonly">Logit SQNR<br><small>weights only</small></th><th class="num c-int8">Logit SQNR<br><small>weights + act.</small></th>' +
      `${layerHead}<th class="num">Size<br><small>packed</small></th><th class="num">vs FP32</th></tr></thead><tbody>` +
      SWEEP_BITS.map((b) => {
        const p = at(b);
        if (!p) return `<tr class="muted-row"><td class="num">${b}</td><td colspan="${cols - 1}">…</td></tr>`;
        return `<tr data-bits="${b}"><td class="num"><strong>${b}</strong></td><td class="num">${pct(p.wAgreement)}</td><td class="num">${pct(p.waAgreement)}</td>` +
          `<td class="num">${fmt.db(p.wSqnrDb)}</td><td class="num">${fmt.db(p.waSqnrDb)}</td>` +
          `${p.weightSqnrDb.map((d) => `<td class="num">${fmt.db(d)}</td>`).join('')}` +
          `<td class="num">${fmt.bytes(p.bytesPacked)}</td><td class="num">${fmt.ratio(p.bytesFp32, p.bytesPacked)}</td></tr>`;
      }).join('') + '</tbody>';
    if (m.complete) lab.$('lab-sweep-table').dataset.ms = String(Math.round(m.ms));
  }
}
