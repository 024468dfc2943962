// The "CNN lab" section's controller: it alone owns the settings, the worker and its messages,
// and the model swap; the views (this folder) render the data it gives them and keep no state.
//
// Two places compute. The page's own wasm instance (the same module the explorer uses) analyses
// the selected layer's weights with analyzeQuantization, so moving a bits slider redraws the
// weight histograms inside the frame that follows the input event. Everything else (quantize,
// report, evaluation, sweep, sensitivity, timing, drawing predictions) runs in js/lab-worker.js;
// its answers carry the settings generation or task key they were computed for, and answers for
// settings that are no longer current are dropped. A new setting is answered first by a
// provisional accuracy on the first PROVISIONAL_DIGITS digits, then by the full figure.
import { notifyState } from '../url-state.js';
import {
  DEFAULTS, withSettings, bitsFor, evalKey, sensKey, sweepKey, techniquesKey, budgetKey, qatKey, QAT_STEPS, productionRows, quantizedLayers, defaultLayer,
} from '../lab-state.js';
import * as keystats from './keystats.js';
import * as overview from './overview.js';
import * as weights from './weights.js';
import * as activations from './activations.js';
import * as accuracy from './accuracy.js';
import * as sensitivity from './sensitivity.js';
import * as techniques from './techniques.js';
import * as equalize from './equalize.js';
import * as budget from './budget.js';
import * as qat from './qat.js';
import * as sweep from './sweep.js';
import * as timing from './timing.js';
import * as drawing from './drawing.js';
import * as production from './production.js';
import * as modelFile from './model-file.js';
import { Pad } from './pad.js';
import { binsFor } from '../charts.js';
import { Latest } from './latest.js';
import { thousands } from './text.js';

const HISTORY = 30;

const METHOD_NOTES = {
  minmax: 'Clip range = the largest value seen in calibration: nothing clips, but rare large values stretch the grid.',
  percentile: 'Keeps the given percentile of |x| and clips the rest (ONNX Runtime uses 99.999 %).',
  mse: 'Tries narrower ranges and keeps the one with the least mean squared error.',
  entropy: 'Keeps the range whose quantized histogram loses the least information (KL divergence), as TensorRT does.',
  dynamic: 'No calibration: each input\'s own min and max set the scale at run time (DynamicQuantizeLinear), at the cost of a pass over every activation.',
};

/** What the "beyond round-to-nearest" settings do, in a sentence. */
function beyondNote(rounding, equalize, biasCorrection, granularity) {
  const parts = [];
  if (rounding === 'gptq') parts.push('GPTQ rounds each layer\'s weights one input at a time and pushes the error onto the inputs not yet rounded, weighted by the calibration inputs\' correlations (X\u1d40X); it takes a second or so per setting.');
  if (equalize) parts.push('Equalization rescales each of conv1\'s output channels and the next layer\'s matching inputs so the channel has the same range in both (√(r₁·r₂)): the float model is unchanged, and the channels\' ranges move closer together, which a per-tensor scale needs.');
  if (biasCorrection) parts.push('Bias correction subtracts the mean output shift that rounding the weights causes, measured on the calibration digits.');
  if (granularity === 'group') parts.push('Group-wise scales have no integer conv kernel in onnxruntime or TFLite: the model runs as the QDQ graph in float, weights through blocked DequantizeLinear.');
  return parts.join(' ') || 'Round to nearest, as every runtime\'s quantizer does by default. Try GPTQ or equalization at 3-4 bits per tensor.';
}
const PROGRESS = { eval: 'lab-eval-progress', sens: 'lab-sens-progress', sweep: 'lab-sweep-progress', timing: 'lab-timing-progress', techniques: 'lab-tech-progress', budget: 'lab-budget-progress', qat: 'lab-qat-progress' };

export class Lab {
  /**
   * `root`: the section element; `api`: the wasm module's exports (initialised); `modelBytes`:
   * the shipped model's file (js/lab-model.js), fetched while the module loaded; `worker`:
   * `{ worker, queued, startedMs }`, the lab's worker as js/early.js started it.
   */
  constructor(root, api, modelBytes, worker) {
    this.started = worker;
    this.root = root;
    this.api = api;
    this.$ = (id) => root.querySelector(`#${id}`);
    this.form = this.$('lab-controls');
    this.gen = 0;
    this.sentKey = null;
    this.state = null;
    this.pendingT0 = null;
    this.history = [];
    this.weightCache = new Map();
    this.timingRun = 0;
    this.loadId = 0;
    this.pendingModel = null; // {id, name, model, t0}: the page's copy while the worker loads its own
    this.data = {}; // the newest answer per view, for the current settings
    this.texts = { title: this.$('lab-title').textContent, lede: root.querySelector('.section-head .lede').textContent };
    this.debug = {
      ready: false, workerReady: false, helperReady: false, lastRedrawMs: null, medianRedrawMs: null, redraws: 0,
      lastEvalMs: null, evalLatencyMs: null, provisionalLatencyMs: null, evals: 0, provisionals: 0, reports: 0, predictions: 0, errors: 0,
      state: null, weights: null, report: null, eval: null, sens: null, sweep: null, timing: null,
      predict: null, worker: null, alerts: [], status: [], computing: false,
      // What the current settings need (`want`) and what is on screen (`have`), per view.
      want: {}, have: {},
      modelFile: { name: null, shipped: true, digits: true, note: null, loads: 0, errors: [], busy: false },
    };
    this.shippedBytes = modelBytes;
    this.setModel(api.Model.fromSafetensors(modelBytes), { name: null, shipped: true, note: null, digits: true, takesDigits: true, reason: null, dataset: null });
  }

  start() {
    this.writeForm(DEFAULTS);
    drawing.build(this.root);
    // The worker hears of a change at once (not a frame later); the views follow in the frame.
    this.form.addEventListener('input', () => {
      if (this.state) this.sendSettings(this.readForm());
      this.schedule();
    });
    this.form.addEventListener('submit', (e) => e.preventDefault());
    this.$('lab-reset-overrides').addEventListener('click', () => {
      for (const sel of this.form.querySelectorAll('.override')) sel.value = '';
      this.schedule();
    });
    this.$('lab-run-timing').addEventListener('click', () => this.runTiming());
    this.$('lab-run-techniques').addEventListener('click', () => this.runTechniques());
    this.$('lab-run-budget').addEventListener('click', () => this.runBudget());
    this.$('lab-run-qat').addEventListener('click', () => this.runQat());
    this.$('lab-cancel-qat').addEventListener('click', () => this.worker.postMessage({ type: 'qat', action: 'cancel' }));
    this.$('lab-keep-qat').addEventListener('click', () => this.keepQat());
    this.$('lab-reset-qat').addEventListener('click', () => this.resetQat());
    this.$('lab-save-qat').addEventListener('click', () => this.worker.postMessage({ type: 'qat', action: 'save' }));
    // The chosen bits become the mixed-precision overrides (weights; activations as set).
    this.$('lab-apply-budget').addEventListener('click', () => {
      const chosen = this.data.budget?.chosen;
      if (!chosen) return;
      this.apply({ overrides: Object.fromEntries(Object.entries(chosen.bits).map(([i, w]) => [i, { w, a: null }])) });
    });
    // The phone's sticky bar: the same bits, next to the INT8 accuracy.
    for (const [bar, control] of [['lab-bar-wbits', 'lab-wbits'], ['lab-bar-abits', 'lab-abits']]) {
      this.$(bar).addEventListener('input', (e) => {
        this.$(control).value = e.target.value;
        if (this.state) this.sendSettings(this.readForm());
        this.schedule();
      });
    }
    this.pad = new Pad(this.$('lab-draw'), () => this.sendDrawing());
    this.draws = new Latest((id, make) => this.worker.postMessage(make(id)));
    this.$('lab-draw-clear').addEventListener('click', () => this.clearDrawing());
    this.$('lab-draw-load').addEventListener('click', () => this.loadDigit(Number(this.$('lab-draw-index').value)));
    this.$('lab-draw-index').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.loadDigit(Number(e.target.value));
      }
    });
    // A flipped digit's button loads it into the pad (keyboard and pointer alike).
    this.$('lab-flipped').addEventListener('click', (e) => {
      const b = e.target.closest('button.thumb');
      if (b) this.loadDigit(Number(b.dataset.index), { scroll: true });
    });
    modelFile.wire(this.root, { onFiles: (files, as) => this.loadFiles(files, as), onReset: () => this.backToShipped(), onDigits: () => this.backToDigits() });
    this.startWorker();
    this.schedule();
  }

  // ---- the model the page holds ---------------------------------------------------------------

  /** Makes `model` the page's: its layers, the controls that list them, the model panel. */
  setModel(model, info) {
    if (this.model !== model) this.model?.free(); // a new test set keeps the model
    this.model = model;
    this.summary = model.summary();
    this.layers = quantizedLayers(this.summary);
    this.info = info;
    this.weightCache.clear();
    this.buildLayerControls();
    modelFile.render(this.root, { summary: this.summary, layers: this.layers, texts: this.texts, folds: model.folding, ...info });
  }

  // ---- controls -------------------------------------------------------------------------------

  /** The layer picker and the per-layer bit overrides: one entry per quantized layer. */
  buildLayerControls() {
    const layerSel = this.$('lab-layer');
    layerSel.replaceChildren();
    for (const { index, name } of this.layers) {
      const l = this.summary.layers[index];
      const opt = new Option(name, String(index));
      opt.title = l.kind === 'linear' ? 'fully connected' : 'convolution';
      layerSel.add(opt);
    }
    const bitsOptions = () => [new Option('–', ''), ...[8, 7, 6, 5, 4, 3, 2].map((b) => new Option(String(b), String(b)))];
    const grid = this.$('lab-overrides');
    grid.replaceChildren();
    const head = document.createElement('div');
    head.className = 'ov-head';
    head.innerHTML = '<span></span><span>weights</span><span>activations</span>';
    grid.append(head);
    for (const { index, name } of this.layers) {
      const row = document.createElement('div');
      row.className = 'ov-row';
      const label = document.createElement('span');
      label.className = 'ov-name';
      label.textContent = name;
      row.append(label);
      for (const which of ['w', 'a']) {
        const sel = document.createElement('select');
        sel.id = `lab-ov-${which}-${index}`;
        sel.className = 'override';
        sel.setAttribute('aria-label', `${name} ${which === 'w' ? 'weight' : 'activation'} bits`);
        sel.append(...bitsOptions());
        row.append(sel);
      }
      grid.append(row);
    }
  }

  writeForm(s) {
    this.$('lab-wbits').value = String(s.weightBits);
    this.$('lab-abits').value = String(s.actBits);
    this.$('lab-scheme').value = s.scheme;
    this.$('lab-granularity').value = s.granularity;
    this.$('lab-group').value = String(s.groupSize);
    this.$('lab-budget').value = String(s.budget);
    this.$('lab-rounding').value = s.rounding;
    this.$('lab-equalize').checked = s.equalize;
    this.$('lab-biascorr').checked = s.biasCorrection;
    this.$('lab-method').value = s.method;
    this.$('lab-percentile').value = String(s.percentile);
    this.$('lab-layer').value = String(s.layer);
    this.syncChannelOptions(s.layer);
    this.$('lab-channel').value = String(s.channel);
    for (const { index } of this.layers) {
      const o = s.overrides[index] ?? {};
      this.$(`lab-ov-w-${index}`).value = o.w == null ? '' : String(o.w);
      this.$(`lab-ov-a-${index}`).value = o.a == null ? '' : String(o.a);
    }
    this.syncControls();
  }

  readForm() {
    const v = (id) => this.$(id).value;
    const overrides = {};
    for (const { index } of this.layers) {
      const w = v(`lab-ov-w-${index}`);
      const a = v(`lab-ov-a-${index}`);
      if (w || a) overrides[index] = { w: w ? Number(w) : null, a: a ? Number(a) : null };
    }
    return withSettings(DEFAULTS, {
      weightBits: Number(v('lab-wbits')),
      actBits: Number(v('lab-abits')),
      scheme: v('lab-scheme'),
      granularity: v('lab-granularity'),
      groupSize: Number(v('lab-group')),
      budget: Math.max(1, Math.round(Number(v('lab-budget')) || DEFAULTS.budget)),
      rounding: v('lab-rounding'),
      equalize: this.$('lab-equalize').checked,
      biasCorrection: this.$('lab-biascorr').checked,
      method: v('lab-method'),
      percentile: v('lab-percentile') === '' ? NaN : Number(v('lab-percentile')),
      layer: Number(v('lab-layer')),
      channel: Number(v('lab-channel')) || 0,
      overrides,
    });
  }

  /** Sets some settings (the guided path, the embed API) as if the controls had been moved. */
  apply(patch) {
    this.writeForm(withSettings(this.state ?? this.readForm(), patch));
    this.schedule();
  }

  channelsOf(layer) {
    return this.summary.layers[layer].outputShape[0];
  }

  syncChannelOptions(layer) {
    const sel = this.$('lab-channel');
    const m = this.channelsOf(layer);
    if (sel.options.length === m) return;
    const keep = Number(sel.value) || 0;
    sel.replaceChildren(...Array.from({ length: m }, (_, c) => new Option(String(c), String(c))));
    sel.value = String(keep < m ? keep : 0);
    this.$('lab-channel-count').textContent = `(of ${m})`;
  }

  syncControls() {
    this.syncChannelOptions(Number(this.$('lab-layer').value));
    const method = this.$('lab-method').value;
    this.$('lab-percentile').disabled = method !== 'percentile';
    this.$('lab-channel').disabled = this.$('lab-granularity').value === 'tensor';
    this.$('lab-wbits-out').value = this.$('lab-wbits').value;
    this.$('lab-abits-out').value = this.$('lab-abits').value;
    this.$('lab-method-note').textContent = METHOD_NOTES[method] ?? '';
    this.$('lab-group').disabled = this.$('lab-granularity').value !== 'group';
    this.$('lab-beyond-note').textContent = beyondNote(this.$('lab-rounding').value, this.$('lab-equalize').checked, this.$('lab-biascorr').checked, this.$('lab-granularity').value);
    // The phone's sticky bar mirrors the bits.
    for (const [id, src] of [['lab-bar-wbits', 'lab-wbits'], ['lab-bar-abits', 'lab-abits']]) {
      const el = this.$(id);
      if (el.value !== this.$(src).value) el.value = this.$(src).value;
      this.$(`${id}-out`).value = this.$(src).value;
    }
  }

  schedule() {
    if (this.pendingT0 === null) {
      this.pendingT0 = performance.now();
      requestAnimationFrame(() => this.frame());
    }
  }

  /** One frame: the settings to the worker, then the weight views from the page's wasm. */
  frame() {
    const t0 = this.pendingT0;
    this.pendingT0 = null;
    this.syncControls();
    const s = this.readForm();
    const prev = this.state;
    this.state = s;
    this.debug.state = s;
    // The worker first: its provisional accuracy is on its way while this frame draws the weights.
    this.sendSettings(s);
    let w;
    try {
      w = this.computeWeights(s);
      weights.render(this.root, w);
    } catch (err) {
      this.alert(err.message);
      return;
    }
    this.weightsNow = w;
    this.debug.weights = { layer: s.layer, bits: w.bits, perChannel: w.perChannel, channel: s.channel, sqnrDb: w.a.sqnrDb, gridPoints: w.a.grid.length, scales: w.a.scale.length, zeroFraction: w.a.zeroFraction, histogram: Array.from(w.view.valueHistogram.counts), errorLo: w.view.errorHistogram.lo };
    this.record(performance.now() - t0);
    Object.assign(this.debug.want, { report: this.gen, eval: evalKey(s), sens: sensKey(s), sweep: sweepKey(s) });
    if (this.data.report && (!prev || prev.layer !== s.layer)) this.drawActivations();
    production.render(this.root, { rows: productionRows(s, this.kernels) });
    this.drawKeystats();
    if (this.data.eval && prev && prev.layer !== s.layer) this.drawAccuracy();
    if (this.data.qat?.grids && prev && prev.layer !== s.layer) this.drawQat();
    notifyState('lab'); // the URL follows (js/url-state.js)
  }

  record(ms) {
    this.history.push(ms);
    if (this.history.length > HISTORY) this.history.shift();
    const sorted = [...this.history].sort((a, b) => a - b);
    Object.assign(this.debug, { lastRedrawMs: ms, medianRedrawMs: sorted[Math.floor(sorted.length / 2)], redraws: this.debug.redraws + 1 });
  }

  /** Sends the settings when anything the worker uses changed (layer and channel are page-only). */
  sendSettings(s) {
    if (this.pendingModel) return; // a model is loading: its settings follow once it is in
    // Answers are matched against what was sent: an input event sends before its frame has
    // made the settings the views' state, and a quick answer may come in between.
    this.sent = s;
    const key = JSON.stringify({ ...s, layer: 0, channel: 0 });
    if (key === this.sentKey) return;
    this.sentKey = key;
    this.gen++;
    this.evalSentAt = performance.now();
    this.debug.firstSettingsMs ??= this.evalSentAt;
    this.worker.postMessage({ type: 'settings', gen: this.gen, settings: s });
  }

  // ---- weights (page wasm) --------------------------------------------------------------------

  weightsOf(layer) {
    if (!this.weightCache.has(layer)) this.weightCache.set(layer, this.model.layerWeights(layer));
    return this.weightCache.get(layer);
  }

  /**
   * Weights of the selected layer quantized as the model does: symmetric int8 grid, min-max, one
   * scale per layer, per output channel, or per group of inputs of each channel (blocked along
   * the inputs, as the core quantizes them).
   */
  computeWeights(s) {
    const w = this.weightsOf(s.layer);
    const m = this.channelsOf(s.layer);
    const k = w.length / m;
    const bits = bitsFor(s, s.layer).w;
    const perChannel = s.granularity === 'channel';
    const group = s.granularity === 'group' ? s.groupSize : null;
    const groups = group ? Math.ceil(k / group) : 1; // per channel
    const grid = { scheme: 'symmetric', dtype: 'int8', bits };
    const opts = { ...grid, method: 'minmax', shape: [m, k], bins: binsFor(w.length) };
    if (perChannel) Object.assign(opts, { axis: 0, channel: s.channel });
    if (group) Object.assign(opts, { axis: 1, blockSize: group, channel: s.channel * groups });
    const a = this.api.analyzeQuantization(w, opts);
    let view = a;
    if (perChannel || group) {
      // The selected channel's weights on its own scale(s): its grid is the one drawn.
      const slice = w.subarray(s.channel * k, (s.channel + 1) * k);
      const first = s.channel * groups;
      const own = { scale: a.scale.slice(first, first + groups), zeroPoint: new Int32Array(groups), bins: binsFor(slice.length) };
      view = this.api.analyzeQuantization(slice, group ? { ...grid, ...own, shape: [k], axis: 0, blockSize: group } : { ...grid, ...own });
    }
    const layerName = this.layers.find((l) => l.index === s.layer).name;
    return { a, view, bits, perChannel, group, groups, channel: s.channel, layerName };
  }

  // ---- worker ---------------------------------------------------------------------------------

  /**
   * Visibility hook (js/visibility.js): out of view, the worker's long jobs (evaluation, sweep,
   * sensitivity, timing) wait; settings keep arriving and the newest is applied on return.
   */
  setVisible(visible) {
    if (this.debug.visible === visible) return;
    this.debug.visible = visible;
    this.worker?.postMessage({ type: 'visible', visible });
  }

  startWorker() {
    ({ worker: this.worker, startedMs: this.debug.workerStartedMs } = this.started);
    this.worker.onmessage = (e) => this.onMessage(e.data);
    for (const m of this.started.queued.splice(0)) this.onMessage(m);
    this.worker.onerror = (e) => {
      this.alert(`the lab's worker failed: ${e.message ?? 'unknown error'}`);
      this.debug.errors++;
    };
    if (this.debug.visible === false) this.worker.postMessage({ type: 'visible', visible: false }); // see setVisible
  }

  onMessage(m) {
    const handler = {
      ready: () => this.onReady(m),
      report: () => this.onReport(m),
      progress: () => this.onProgress(m),
      eval: () => this.onEval(m),
      sens: () => this.onSens(m),
      sweep: () => this.onSweep(m),
      timing: () => this.onTiming(m),
      techniques: () => this.onTechniques(m),
      budget: () => this.onBudget(m),
      'qat-progress': () => this.onQat(m),
      qat: () => this.onQat(m),
      'qat-file': () => this.onQatFile(m),
      helper: () => { this.debug.helperReady = true; },
      predict: () => this.onPredict(m),
      digit: () => this.onDigit(m),
      error: () => this.onError(m),
      model: () => this.onModel(m),
      'model-error': () => this.onModelError(m),
      fatal: () => this.alert(`the lab could not start: ${m.message}`),
    }[m.type];
    handler?.();
    // Page hooks (js/embed.js posts results to a parent page; js/a11y.js announces them).
    this.root.dispatchEvent(new CustomEvent('quantlab:result', { bubbles: true, detail: { type: m.type, provisional: Boolean(m.provisional) } }));
  }

  /** Developer status (timings of start-up and loads): kept for tests and the console, not the UI. */
  status(text) {
    this.debug.status.push(text);
  }

  onReady(m) {
    this.debug.workerReady = true;
    this.debug.workerReadyMs = performance.now();
    this.debug.worker = m;
    this.timer = m.timer;
    this.status(`worker ready: data ${m.ms.load.toFixed(0)} ms, calibration on ${m.calibCount} digits ${m.ms.calibrate.toFixed(0)} ms`);
    this.kernels = m.kernels;
    timing.renderKernels(this.root, m.kernels);
    if (this.state) production.render(this.root, { rows: productionRows(this.state, this.kernels) });
    if (!this.data.timing) timing.renderIdle(this.root, { timer: this.timer });
    if (this.pad.hasInk) this.sendDrawing();
  }

  onError(m) {
    this.debug.errors++;
    if (m.task === 'settings' || m.task === 'eval') {
      this.alert(`Not applied: ${m.message}. The views still show the last valid settings.`);
    } else {
      this.alert(`${m.task}: ${m.message}`);
    }
    this.hideProgress(m.task);
  }

  alert(message) {
    this.debug.alerts.push(message);
    this.$('lab-alert').textContent = message;
  }

  clearAlert() {
    if (this.$('lab-alert').textContent) this.$('lab-alert').textContent = '';
  }

  currentKey(task) {
    const s = this.sent;
    return { eval: evalKey(s), sens: sensKey(s), sweep: sweepKey(s), techniques: techniquesKey(s), budget: budgetKey(s), qat: qatKey(s, this.qatSteps) }[task];
  }

  onProgress(m) {
    const el = PROGRESS[m.task] && this.$(PROGRESS[m.task]);
    if (!el) return;
    if (m.task !== 'timing' && m.key !== this.currentKey(m.task)) return;
    el.hidden = false;
    const f = m.total ? m.done / m.total : 0;
    el.querySelector('.progress-bar').style.width = `${(f * 100).toFixed(1)}%`;
    el.querySelector('.progress-label').textContent = m.label;
    el.setAttribute('role', 'progressbar');
    el.setAttribute('aria-label', `${m.task}: ${m.label}`);
    el.setAttribute('aria-valuenow', String(Math.round(f * 100)));
    el.closest('.figure')?.classList.add('is-stale');
  }

  hideProgress(task) {
    const el = PROGRESS[task] && this.$(PROGRESS[task]);
    if (!el) return;
    el.hidden = true;
    el.closest('.figure')?.classList.remove('is-stale');
  }

  // ---- report: overview, activations, size ----------------------------------------------------

  onReport(m) {
    if (m.gen !== this.gen) return;
    this.clearAlert();
    this.data.report = m;
    Object.assign(this.debug, { report: m.report, methods: m.methods, reportMs: m.ms, reports: this.debug.reports + 1 });
    this.debug.have.report = m.gen;
    overview.render(this.$('lab-fig-overview'), { summary: this.summary, report: m.report });
    this.debug.equalization = m.equalization ?? [];
    equalize.render(this.$('lab-fig-equalize'), { pairs: this.debug.equalization });
    this.drawActivations();
    this.drawKeystats();
  }

  drawActivations() {
    const { report, methods } = this.data.report;
    const s = this.state;
    const position = this.layers.findIndex((l) => l.index === s.layer);
    const act = report.layers[position].output;
    // The output's grid values, from the core's DequantizeLinear.
    const levels = Int8Array.from({ length: act.qmax - act.qmin + 1 }, (_, i) => act.qmin + i);
    const grid = Array.from(this.api.dequantizeLinear(levels, new Float32Array([act.scale]), new Int32Array([act.zeroPoint])));
    activations.render(this.$('lab-fig-act'), { report, methods, position, grid, state: s });
  }

  // ---- evaluation -----------------------------------------------------------------------------

  /** Whether the figure on screen is the full one for the current settings. */
  computing() {
    return Boolean(this.sent) && this.info.digits && this.debug.have.eval !== evalKey(this.sent);
  }

  drawKeystats() {
    const ev = this.data.eval ?? null; // while computing: the last figure, marked as such
    const computing = this.computing();
    this.debug.computing = computing;
    keystats.render(this.root.querySelector('.keystats'), {
      eval: ev && !ev.unavailable ? ev : null,
      unavailable: ev?.unavailable ?? null,
      computing,
      report: this.data.report?.report ?? null,
      summary: this.summary,
    });
    this.root.querySelector('.lab-bar')?.classList.toggle('is-computing', computing);
    const bar = this.$('lab-bar-int8');
    if (bar) bar.textContent = ev && !ev.unavailable ? this.$('lab-k-int8').textContent : '–';
  }

  onEval(m) {
    if (m.key !== evalKey(this.sent)) return;
    // A provisional figure never replaces the full one for the same settings.
    if (m.provisional && this.debug.have.eval === m.key) return;
    if (!m.provisional) this.hideProgress('eval');
    this.data.eval = m;
    if (m.unavailable) {
      this.debug.have.eval = m.key;
      this.debug.eval = { unavailable: m.unavailable };
      this.$('lab-acc-stats').replaceChildren();
      this.$('lab-flipped').replaceChildren();
      this.$('lab-acc-note').textContent = '';
      this.drawKeystats();
      this.markReady();
      return;
    }
    const e = m.result;
    const latency = performance.now() - this.evalSentAt;
    if (m.provisional) {
      Object.assign(this.debug, { provisional: { key: m.key, count: e.count, int8Accuracy: e.int8Accuracy, ms: m.ms }, provisionalLatencyMs: latency, provisionals: this.debug.provisionals + 1 });
    } else {
      this.debug.lastEvalMs = m.ms;
      this.debug.evalLatencyMs = latency;
      this.debug.eval = { ...e, flipped: e.flipped.map((f) => ({ index: f.index, label: f.label, fp32: f.fp32, int8: f.int8 })) };
      this.debug.evals++;
      this.debug.have.eval = m.key;
    }
    this.drawKeystats();
    this.drawAccuracy();
    // Since navigation (performance.now()'s origin): the first accuracy on screen, and the first full one.
    this.debug.firstAccuracyMs ??= performance.now();
    if (!m.provisional) this.debug.firstFullAccuracyMs ??= performance.now();
    if (!m.provisional) this.markReady();
  }

  drawAccuracy() {
    const m = this.data.eval;
    if (!m || m.unavailable) return;
    const s = this.state;
    const w = this.weightsNow;
    const pos = this.layers.findIndex((l) => l.index === s.layer);
    const act = this.data.report?.report.layers[pos]?.output;
    const note = accuracy.explain({
      result: m.result,
      weightBits: w.bits,
      weightLevels: w.a.qmax - w.a.qmin + 1,
      actBits: bitsFor(s, s.layer).a,
      actLevels: act ? act.qmax - act.qmin + 1 : 2 ** bitsFor(s, s.layer).a,
      layerName: w.layerName,
      zeroFraction: w.a.zeroFraction,
    });
    accuracy.render(this.$('lab-fig-accuracy'), { result: m.result, provisional: m.provisional, ms: m.ms, note });
    this.debug.accuracyNote = note;
    this.drawDrawingNote();
  }

  markReady() {
    if (this.debug.ready) return;
    this.debug.ready = true;
    this.root.dataset.ready = 'true';
  }

  // ---- sensitivity and sweep ------------------------------------------------------------------

  /** Starts a long task by name (views.js TASKS: a presenter scene's `runs`, the embed API). */
  run(task, options = {}) {
    const start = { timing: () => this.runTiming(), techniques: () => this.runTechniques(), budget: () => this.runBudget(), qat: () => this.runQat(options.steps) }[task];
    if (!start) throw new Error(`unknown lab task ${JSON.stringify(task)}`);
    start();
  }

  // ---- quantization-aware training ------------------------------------------------------------

  /** Fine-tunes at the current settings for `steps` (the select's when not given). */
  runQat(steps) {
    const n = steps ?? Number(this.$('lab-qat-steps').value);
    if (!Number.isInteger(n) || n < 1 || n > 100000) throw new Error(`qat: steps must be an integer from 1 to 100000, found ${JSON.stringify(steps)}`);
    if (QAT_STEPS.includes(n)) this.$('lab-qat-steps').value = String(n);
    // The settings as the form has them now (a step of the guided path may have just set them),
    // so the run the worker starts is for these and no settings message cancels it.
    const s = this.readForm();
    this.sendSettings(s);
    this.qatSteps = n;
    this.qatBits = { w: s.weightBits, a: s.actBits };
    this.data.qat = null;
    Object.assign(this.debug, { qat: null, qatProgress: null, qatStartedAt: performance.now() });
    this.$('lab-cancel-qat').hidden = false;
    this.$('lab-keep-qat').disabled = true;
    this.$('lab-save-qat').disabled = true;
    this.worker.postMessage({ type: 'qat', action: 'start', steps: n });
    this.onProgress({ task: 'qat', key: qatKey(this.sent, n), done: 0, total: n, label: 'loading the training digits' });
  }

  onQat(m) {
    if (m.key !== qatKey(this.sent, this.qatSteps) && !m.cancelled) return;
    if (m.type === 'qat-progress') {
      this.debug.qatProgress = m;
    } else {
      this.hideProgress('qat');
      this.$('lab-cancel-qat').hidden = true;
      this.debug.qat = m.cancelled ? { cancelled: true, reason: m.reason } : m;
      this.$('lab-keep-qat').disabled = !m.complete;
      this.$('lab-save-qat').disabled = !m.complete;
    }
    // A cancelled run keeps the curve it drew.
    this.data.qat = m.cancelled ? { ...(this.data.qat ?? {}), ...m } : m;
    this.drawQat();
  }

  drawQat() {
    qat.render(this.$('lab-fig-qat'), { data: this.data.qat, layer: this.state?.layer, bits: this.qatBits, kept: this.info?.qat === true });
  }

  /** The saved file: a download of the bytes the core wrote (nothing leaves the browser). */
  onQatFile(m) {
    const url = URL.createObjectURL(new Blob([m.bytes], { type: 'application/octet-stream' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: m.name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    this.debug.qatSaved = { name: m.name, bytes: m.bytes.byteLength };
  }

  /** The fine-tuned model becomes the lab's (its activation ranges with it); Reset returns. */
  keepQat() {
    if (this.pendingModel) return;
    const id = ++this.loadId;
    this.pendingModel = { id, name: 'the fine-tuned model', model: null, t0: performance.now() };
    this.setBusy(true, 'keeping the fine-tuned model…');
    this.worker.postMessage({ type: 'qat', action: 'keep', id });
  }

  resetQat() {
    if (this.pendingModel) return;
    const id = ++this.loadId;
    this.pendingModel = { id, name: null, model: null, t0: performance.now() };
    this.setBusy(true, 'returning to the weights before fine-tuning…');
    this.worker.postMessage({ type: 'qat', action: 'reset', id });
  }

  /** The technique comparison (the worker measures every row; the view draws them). */
  runTechniques() {
    this.worker.postMessage({ type: 'techniques' });
  }

  /** The budgeted mixed-precision search (the worker measures; the view draws). */
  runBudget() {
    this.worker.postMessage({ type: 'budget' });
  }

  onBudget(m) {
    if (m.key !== budgetKey(this.sent)) return;
    if (m.complete) this.hideProgress('budget');
    this.data.budget = m;
    this.debug.budget = m;
    this.$('lab-apply-budget').disabled = !(m.complete && m.chosen);
    budget.render(this.$('lab-fig-budget'), m);
  }

  onTechniques(m) {
    if (m.key !== techniquesKey(this.sent)) return;
    if (m.complete) this.hideProgress('techniques');
    this.debug.techniques = m;
    techniques.render(this.$('lab-fig-techniques'), m);
  }

  onSens(m) {
    if (m.key !== sensKey(this.sent)) return;
    if (m.complete) this.hideProgress('sens');
    this.debug.sens = m;
    if (m.complete) this.debug.have.sens = m.key;
    if (m.unavailable) return; // the model panel's note says why
    sensitivity.render(this.$('lab-fig-sens'), { rows: m.rows, bits: m.bits });
  }

  onSweep(m) {
    if (m.key !== sweepKey(this.sent)) return;
    if (m.complete) this.hideProgress('sweep');
    this.debug.sweep = m;
    if (m.complete) this.debug.have.sweep = m.key;
    sweep.render(this.$('lab-fig-sweep'), { ...m, state: this.state, layers: this.layers });
  }

  // ---- timing ---------------------------------------------------------------------------------

  runTiming() {
    this.timingRun++;
    const batch = Number(this.$('lab-batch').value);
    const samples = Number(this.$('lab-samples').value);
    this.timingStartedAt = performance.now();
    const int8 = this.$('lab-int8-kernel').value;
    this.worker.postMessage({ type: 'timing', runId: this.timingRun, batch, samples, int8 });
    this.onProgress({ task: 'timing', done: 0, total: 1, label: this.debug.workerReady ? 'queued' : 'waiting for the worker' });
  }

  onTiming(m) {
    if (m.runId !== this.timingRun) return;
    this.hideProgress('timing');
    this.data.timing = m;
    this.debug.timing = { ...m, wallMs: performance.now() - this.timingStartedAt };
    this.kernels = m.kernels;
    timing.render(this.$('lab-fig-timing'), { timing: m, report: this.data.report?.report ?? null, summary: this.summary, timer: this.timer });
  }

  // ---- drawing --------------------------------------------------------------------------------

  sendDrawing() {
    this.debug.drawBusy = true;
    if (!this.debug.workerReady) return; // sent on 'ready'
    this.drawSource = null;
    this.draws.request((id) => {
      const { ink, width, height } = this.pad.ink();
      this.debug.drawId = id;
      return { type: 'draw', id, ink, width, height };
    });
  }

  /** Test digit `index` into the pad (the keyboard's and the thumbnails' way to give an input). */
  loadDigit(index, { scroll = false } = {}) {
    if (!this.debug.workerReady || !this.info.takesDigits) return;
    const count = this.debug.worker?.testCount ?? 2000;
    const i = Number.isFinite(index) ? Math.max(0, Math.min(count - 1, Math.trunc(index))) : 0;
    this.$('lab-draw-index').value = String(i);
    this.debug.drawBusy = true;
    this.draws.request((id) => {
      this.debug.drawId = id;
      return { type: 'digit', id, index: i };
    });
    if (scroll) {
      this.$('lab-fig-draw').scrollIntoView({ block: 'nearest' });
      this.$('lab-draw-index').focus({ preventScroll: true });
    }
  }

  onDigit(m) {
    this.pad.showDigit(m.pixels);
    this.drawSource = { index: m.index, label: m.label };
  }

  clearDrawing() {
    this.pad.clear();
    this.draws.reset();
    this.drawSource = null;
    this.worker.postMessage({ type: 'clear' });
    drawing.render(this.$('lab-fig-draw'), null);
    this.$('lab-draw-note').textContent = '';
    this.data.predict = null;
    this.debug.predict = null;
    this.debug.drawBusy = false;
  }

  onPredict(m) {
    const newest = this.draws.answered(m.id);
    this.debug.drawBusy = this.draws.busy;
    if (!newest) return; // an older drawing, or cleared since
    this.data.predict = m;
    drawing.render(this.$('lab-fig-draw'), { ...m, source: m.source ?? this.drawSource });
    const argmax = (p) => Array.from(p).indexOf(Math.max(...p));
    this.debug.predict = { id: m.id, gen: m.gen, fp32: argmax(m.fp32), int8: argmax(m.int8), fp32P: Array.from(m.fp32), int8P: Array.from(m.int8), ms: m.ms, source: m.source ?? null };
    this.debug.predictions++;
    this.drawDrawingNote();
  }

  drawDrawingNote() {
    const p = this.data.predict;
    const e = this.data.eval;
    this.$('lab-draw-note').textContent = p && e && !e.unavailable
      ? drawing.note({ fp32: p.fp32, int8: p.int8, weightBits: this.state.weightBits, flippedCount: e.result.flippedCount })
      : '';
  }

  // ---- bring your own model -------------------------------------------------------------------

  /**
   * Files chosen or dropped: `as` 'model' or 'dataset' (a picker), or null (a drop: each file's
   * header says whether it holds test images). Models go first, so test images dropped with
   * their model are checked against it; one at a time, each after the worker has the last.
   */
  async loadFiles(files, as) {
    if (this.pendingModel || this.loadingFiles) {
      this.fail(files[0].name, 'another file is still loading; try again in a moment', false);
      return;
    }
    modelFile.renderError(this.root, '');
    this.loadingFiles = true;
    try {
      const read = [];
      for (const file of files) {
        if (file.size > modelFile.MAX_FILE_BYTES) {
          this.fail(file.name, `file: is ${(file.size / 2 ** 20).toFixed(0)} MB; the page reads files of up to ${modelFile.MAX_FILE_BYTES / 2 ** 20} MB`);
          return;
        }
        this.setBusy(true, `reading ${file.name}…`);
        const bytes = await file.arrayBuffer();
        read.push({ name: file.name, bytes, kind: as ?? (modelFile.holdsImages(bytes) ? 'dataset' : 'model') });
      }
      read.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'model' ? -1 : 1));
      for (const f of read) {
        const ok = await (f.kind === 'model' ? this.loadModelBytes(f.name, f.bytes) : this.loadDataset(f.name, f.bytes));
        if (!ok) return;
      }
    } finally {
      this.loadingFiles = false;
      if (!this.pendingModel) this.setBusy(false);
    }
  }

  /** Sends a model file to the worker; resolves with whether the lab took it. */
  loadModelBytes(name, bytes) {
    let next;
    try {
      // The page's instance first: a bad file is refused here, and the worker never sees it.
      next = this.api.Model.fromSafetensors(new Uint8Array(bytes));
    } catch (err) {
      this.setBusy(false);
      this.fail(name, err?.message ?? String(err));
      return Promise.resolve(false);
    }
    return this.sendLoad({ type: 'load', name, bytes }, { name, model: next }, `checking and calibrating ${name}…`);
  }

  /**
   * Sends the user's test images to the worker, checked here first against the page's model (the
   * same core check the worker makes); resolves with whether the lab took them.
   */
  loadDataset(name, bytes) {
    let set = null;
    try {
      set = this.api.Digits.fromSafetensors(new Uint8Array(bytes));
      set.checkFits(this.model);
    } catch (err) {
      this.setBusy(false);
      this.fail(name, err?.message ?? String(err), true, true);
      return Promise.resolve(false);
    } finally {
      set?.free();
    }
    return this.sendLoad({ type: 'dataset', name, bytes }, { name, model: this.model, dataset: true }, `testing on ${name}…`);
  }

  /** "Back to the test digits": the lab measures on the shipped digits again. */
  backToDigits() {
    if (this.pendingModel || this.loadingFiles) return;
    modelFile.renderError(this.root, '');
    this.sendLoad({ type: 'dataset', name: null, bytes: null }, { name: 'the test digits', model: this.model, dataset: true }, 'back to the test digits…');
  }

  /** Posts a load to the worker; the promise settles when it answers (onModel / onModelError). */
  sendLoad(msg, pending, status) {
    const id = ++this.loadId;
    return new Promise((resolve) => {
      this.pendingModel = { id, t0: performance.now(), resolve, ...pending };
      this.setBusy(true, status);
      this.worker.postMessage({ ...msg, id }, msg.bytes ? [msg.bytes] : []);
    });
  }

  backToShipped() {
    if (this.pendingModel) return;
    modelFile.renderError(this.root, '');
    const id = ++this.loadId;
    // The worker keeps the shipped file's bytes; the page's copy comes from the same URL (cached).
    this.pendingModel = { id, name: null, model: null, t0: performance.now(), resolve: () => {} };
    this.setBusy(true, 'loading the shipped model…');
    this.worker.postMessage({ type: 'baseline', id });
  }

  setBusy(busy, status = '') {
    this.debug.modelFile.busy = busy;
    modelFile.renderBusy(this.root, busy, status);
  }

  /** The worker has the new model: swap the page's, empty every view computed for the old one. */
  onModel(m) {
    const p = this.pendingModel;
    if (!p || p.id !== m.id) return;
    p.model ??= this.api.Model.fromSafetensors(m.bytes ? new Uint8Array(m.bytes) : this.shippedBytes);
    this.pendingModel = null;
    const reset = this.$('lab-reset-qat');
    reset.hidden = !m.canReset;
    if (m.canReset) reset.textContent = m.resetTo === 'the shipped weights' ? 'Reset to the shipped weights' : `Back to ${m.resetTo}`;
    if (m.qat) this.$('lab-keep-qat').disabled = true;
    const kept = this.state ?? this.readForm();
    const info = {
      name: m.name, shipped: m.shipped, note: m.note, qat: Boolean(m.qat), digits: m.digits, takesDigits: m.takesDigits, reason: m.reason,
      drawReason: m.drawReason ?? m.reason, dataset: m.dataset, datasetCalib: m.calibOn === 'dataset' ? m.calibCount : 0,
    };
    this.setModel(p.model, info);
    this.resetViews(m);
    // A kept QAT model: its run stays on screen (the curve and grids that made it).
    if (m.qat && this.debug.qat?.complete) this.data.qat = this.debug.qat;
    this.drawQat();
    // Bits, scheme, granularity and calibration stay; layer, channel and overrides are per model.
    this.writeForm(withSettings(kept, { layer: defaultLayer(this.layers), channel: 0, overrides: {} }));
    this.setBusy(false);
    const ms = performance.now() - p.t0;
    const how = { digits: 'training digits', dataset: `of your images (${m.dataset?.name})`, random: 'seeded random inputs in [0, 1]' }[m.calibOn];
    this.setBusy(false, p.dataset
      ? (m.dataset ? `testing on ${m.dataset.name}: ${thousands(m.dataset.count)} images${m.calibOn === 'dataset' ? `, calibrated on ${thousands(m.calibCount)} of them` : ''} in ${ms.toFixed(0)} ms` : 'back on the test digits')
      : m.qat
        ? `${m.name[0].toUpperCase()}${m.name.slice(1)} is the lab's model now, with the activation ranges it trained against (the calibration method no longer chooses them)`
        : `${m.shipped ? 'shipped model' : m.name} loaded and calibrated on ${thousands(m.calibCount)} ${how} in ${ms.toFixed(0)} ms` +
          (m.dropped ? `; ${m.dropped}` : ''));
    Object.assign(this.debug.modelFile, {
      name: m.name, shipped: m.shipped, qat: Boolean(m.qat), digits: m.digits, takesDigits: m.takesDigits, dataset: m.dataset,
      calibOn: m.calibOn, calibCount: m.calibCount, note: m.note, reason: m.reason, loads: this.debug.modelFile.loads + 1,
    });
    p.resolve?.(true);
    this.schedule();
  }

  onModelError(m) {
    const p = this.pendingModel;
    if (!p || p.id !== m.id) return;
    this.pendingModel = null;
    if (p.model !== this.model) p.model?.free();
    this.setBusy(false);
    this.fail(m.name ?? (m.dataset ? 'the test digits' : 'the shipped model'), m.message, true, Boolean(m.dataset));
    p.resolve?.(false);
  }

  /** Shows what is wrong; everything else stays. Not a console error: it is the page's answer. */
  fail(name, message, record = true, dataset = false) {
    modelFile.renderError(this.root, dataset
      ? `Could not test on ${name}: ${message}. The model, its test set and all settings are kept.`
      : `Could not load ${name}: ${message}. The previous model and all settings are kept.`);
    if (record) this.debug.modelFile.errors.push({ name, message, dataset });
    this.setBusy(Boolean(this.pendingModel), `${name} was not loaded`);
    this.schedule(); // settings moved while loading were not sent yet
  }

  /** Empties every view computed for the previous model; they fill again for the new one. */
  resetViews(m) {
    this.data = {};
    this.sentKey = null;
    this.timingRun++; // an answer for the old model's timing is dropped
    Object.assign(this.debug, { report: null, eval: null, sens: null, sweep: null, timing: null, provisional: null, have: {}, want: {} });
    for (const task of Object.keys(PROGRESS)) this.hideProgress(task);
    this.$('lab-cancel-qat').hidden = true;
    this.$('lab-keep-qat').disabled = true;
    this.$('lab-save-qat').disabled = true;
    this.$('lab-qat-result').textContent = '';
    for (const id of ['lab-acc-stats', 'lab-flipped', 'lab-sens', 'lab-timing-steps', 'lab-why']) this.$(id).replaceChildren();
    this.$('lab-acc-note').textContent = '';
    timing.renderIdle(this.root, { timer: this.timer, note: 'Not run yet for this model.' });
    sweep.clear(this.$('lab-fig-sweep'), this.state ?? DEFAULTS, this.layers, m.digits ? 'digits' : 'random');
    this.drawKeystats();
    // Drawing: the model's input canvas is 32×32 or 28×28.
    const [, h, w] = this.summary.input;
    const inputCanvas = this.$('lab-draw-input');
    if (m.takesDigits && (inputCanvas.width !== w || inputCanvas.height !== h)) {
      inputCanvas.width = w;
      inputCanvas.height = h;
      inputCanvas.nextElementSibling.textContent = `model input ${h}×${w}`;
    }
    this.clearDrawing();
  }
}
