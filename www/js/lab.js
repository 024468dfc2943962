// The "CNN lab" section: the trained CNN quantized live.
//
// Two places compute. The page's own wasm instance (the same module the explorer uses) analyses
// the selected layer's weights with analyzeQuantization, so moving a bits slider redraws the
// weight histograms inside the frame that follows the input event. Everything else (quantize,
// report, evaluation, sweep, sensitivity, timing, drawing predictions) runs in js/lab-worker.js;
// its answers carry the settings generation or task key they were computed for, and answers
// for settings that are no longer current are dropped.
import { HistogramChart, ChannelChart, LineChart, COLORS, compactCounts } from './charts.js';
import * as fmt from './format.js';
import { applyCss } from './csp.js';
import { ModelFile } from './model-file.js';
import { notifyState } from './url-state.js';
import {
  DEFAULTS, QLAYERS, SWEEP_BITS, withSettings, bitsFor, evalKey, sensKey, sweepKey, productionRows,
} from './lab-state.js';

const WONLY = '#E69F00'; // Okabe-Ito orange: the weights-only ("simulated") path
const MAX_BINS = 72;
const binsFor = (n) => Math.max(12, Math.min(MAX_BINS, Math.round(2 * Math.sqrt(n))));
const HISTORY = 30;
const DRAW_LINE = 22; // stroke width on the 280×280 pad: about an MNIST pen stroke after scaling

const METHOD_NOTES = {
  minmax: 'Clip range = the largest value seen in calibration: nothing clips, but rare large values stretch the grid.',
  percentile: 'Keeps the given percentile of |x| and clips the rest (ONNX Runtime uses 99.999 %).',
  mse: 'Tries narrower ranges and keeps the one with the least mean squared error.',
  entropy: 'Keeps the range whose quantized histogram loses the least information (KL divergence), as TensorRT does.',
};
const METHOD_LABEL = { minmax: 'min-max', percentile: 'percentile', mse: 'MSE', entropy: 'entropy' };
const PATH_LABEL = { fp32: 'FP32', simulated: 'Simulated INT8', int8: 'True INT8' };
const PATH_COLOR = { fp32: COLORS.fp32, simulated: WONLY, int8: COLORS.int8 };
const pathLabel = (id) => PATH_LABEL[id] ?? `True INT8, ${id.split(':')[1]}`;
const pathColor = (id) => PATH_COLOR[id] ?? COLORS.int8;

const pct = (v) => `${(v * 100).toFixed(1)} %`;
const pct2 = (v) => `${(v * 100).toFixed(2)} %`;
const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
const kibN = (b) => (b / 1024).toFixed(1);
const thousands = (n) => n.toLocaleString('en-US');
/** MACs in millions, or in full for a small model. */
const macsText = (n) => (n >= 1e5 ? `${fmt.num(n / 1e6, 3)} M` : thousands(n));
const msPerImage = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`);

export class Lab {
  /** `root`: the section element; `api`: the wasm module's exports (already initialised). */
  constructor(root, api) {
    this.root = root;
    this.api = api;
    this.$ = (id) => root.querySelector(`#${id}`);
    this.form = this.$('lab-controls');
    this.gen = 0;
    this.sentKey = null;
    this.state = null;
    this.pendingT0 = null;
    this.history = [];
    this.report = null;
    this.methods = null;
    this.drawId = 0;
    this.sentDrawId = 0;
    this.drawInFlight = false;
    this.drawDirty = false;
    this.hasInk = false;
    this.timingRun = 0;
    this.weightCache = new Map();
    this.debug = {
      ready: false, workerReady: false, lastRedrawMs: null, medianRedrawMs: null, redraws: 0,
      lastEvalMs: null, evalLatencyMs: null, evals: 0, reports: 0, predictions: 0, errors: 0,
      state: null, weights: null, report: null, eval: null, sens: null, sweep: null, timing: null,
      predict: null, worker: null, alerts: [],
      // What the current settings need (`want`) and what is on screen (`have`), per view.
      want: {}, have: {},
    };
  }

  start() {
    this.model = this.api.Model.baseline();
    this.summary = this.model.summary();
    this.buildControls();
    this.writeForm(DEFAULTS);
    this.charts = {
      weights: new HistogramChart(this.$('lab-chart-weights'), { color: COLORS.fp32, xLabel: 'weight (float32)', height: 240 }),
      werrors: new HistogramChart(this.$('lab-chart-werrors'), { color: COLORS.int8, xLabel: 'w − ŵ', height: 240 }),
      channels: new ChannelChart(this.$('lab-chart-channels'), { height: 220 }),
      act: new HistogramChart(this.$('lab-chart-act'), { color: COLORS.fp32, xLabel: 'activation (float32)', height: 240, yValues: compactCounts }),
      sweepAcc: new LineChart(this.$('lab-chart-sweep-acc'), {
        xs: [...SWEEP_BITS].reverse(),
        xLabel: 'bits',
        yLabel: 'accuracy (%)',
        yRange: () => [0, 100],
        series: [
          { color: COLORS.fp32, dash: [6, 5], width: 2, points: false },
          { color: WONLY, dash: [8, 4], fill: '#fff' },
          { color: COLORS.int8 },
        ],
      }),
      sweepSqnr: new LineChart(this.$('lab-chart-sweep-sqnr'), {
        xs: [...SWEEP_BITS].reverse(),
        xLabel: 'bits',
        yLabel: 'SQNR (dB)',
        // From 0 dB, or lower if quantization made the logits worse than no signal at all.
        yRange: (min, max) => [Math.min(0, Math.floor(min / 10) * 10), Math.max(10, Math.ceil((max * 1.1) / 10) * 10)],
        series: [
          { color: WONLY, dash: [8, 4], fill: '#fff' },
          { color: COLORS.int8 },
        ],
      }),
      sweepSize: new LineChart(this.$('lab-chart-sweep-size'), {
        xs: [...SWEEP_BITS].reverse(),
        xLabel: 'bits',
        yLabel: 'size (KiB)',
        yRange: (_min, max) => [0, max > 0 ? max * 1.1 : 10],
        series: [
          { color: COLORS.fp32, dash: [6, 5], width: 2, points: false },
          { color: COLORS.int8 },
        ],
      }),
    };
    this.form.addEventListener('input', () => this.schedule());
    this.form.addEventListener('submit', (e) => e.preventDefault());
    this.$('lab-reset-overrides').addEventListener('click', () => {
      for (const sel of this.form.querySelectorAll('.override')) sel.value = '';
      this.schedule();
    });
    this.$('lab-run-timing').addEventListener('click', () => this.runTiming());
    this.setupDrawing();
    this.startWorker();
    this.modelFile = new ModelFile(this);
    this.modelFile.start();
    this.schedule();
  }

  // ---- controls ------------------------------------------------------------------------------

  buildControls() {
    this.buildLayerControls();
    this.buildProbs();
  }

  /** The layer picker and the per-layer bit overrides: one entry per quantized layer (QLAYERS). */
  buildLayerControls() {
    const layerSel = this.$('lab-layer');
    layerSel.replaceChildren();
    for (const { index, name } of QLAYERS) {
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
    for (const { index, name } of QLAYERS) {
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

  buildProbs() {
    const probs = this.$('lab-probs');
    probs.innerHTML = '<div class="prob-head"><span>digit</span><span><span class="swatch-fp32">FP32</span> / <span class="swatch-int8">INT8</span> probability</span></div>' +
      Array.from({ length: 10 }, (_, d) => `<div class="prob-row" data-digit="${d}"><span class="prob-digit">${d}</span>` +
        '<div class="prob-bars"><div class="pbar pbar-fp32"></div><div class="pbar pbar-int8"></div></div>' +
        `<span class="prob-val"><span id="lab-p-fp32-${d}" class="swatch-fp32">–</span> <span id="lab-p-int8-${d}" class="swatch-int8">–</span></span></div>`).join('');
  }

  writeForm(s) {
    this.$('lab-wbits').value = String(s.weightBits);
    this.$('lab-abits').value = String(s.actBits);
    this.$('lab-scheme').value = s.scheme;
    this.$('lab-granularity').value = s.granularity;
    this.$('lab-method').value = s.method;
    this.$('lab-percentile').value = String(s.percentile);
    this.$('lab-layer').value = String(s.layer);
    this.syncChannelOptions(s.layer);
    this.$('lab-channel').value = String(s.channel);
    for (const { index } of QLAYERS) {
      const o = s.overrides[index] ?? {};
      this.$(`lab-ov-w-${index}`).value = o.w == null ? '' : String(o.w);
      this.$(`lab-ov-a-${index}`).value = o.a == null ? '' : String(o.a);
    }
  }

  readForm() {
    const v = (id) => this.$(id).value;
    const overrides = {};
    for (const { index } of QLAYERS) {
      const w = v(`lab-ov-w-${index}`);
      const a = v(`lab-ov-a-${index}`);
      if (w || a) overrides[index] = { w: w ? Number(w) : null, a: a ? Number(a) : null };
    }
    return withSettings(DEFAULTS, {
      weightBits: Number(v('lab-wbits')),
      actBits: Number(v('lab-abits')),
      scheme: v('lab-scheme'),
      granularity: v('lab-granularity'),
      method: v('lab-method'),
      percentile: v('lab-percentile') === '' ? NaN : Number(v('lab-percentile')),
      layer: Number(v('lab-layer')),
      channel: Number(v('lab-channel')) || 0,
      overrides,
    });
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
    this.$('lab-channel').disabled = this.$('lab-granularity').value !== 'channel';
    this.$('lab-wbits-out').value = this.$('lab-wbits').value;
    this.$('lab-abits-out').value = this.$('lab-abits').value;
    this.$('lab-method-note').textContent = METHOD_NOTES[method] ?? '';
  }

  schedule() {
    if (this.pendingT0 === null) {
      this.pendingT0 = performance.now();
      requestAnimationFrame(() => this.frame());
    }
  }

  /** One frame: the weight views from the page's wasm, then the settings to the worker. */
  frame() {
    const t0 = this.pendingT0;
    this.pendingT0 = null;
    this.syncControls();
    const s = this.readForm();
    const prev = this.state;
    this.state = s;
    this.debug.state = s;
    try {
      this.drawWeights(s, this.computeWeights(s));
    } catch (err) {
      this.alert(err.message);
      return;
    }
    const t1 = performance.now();
    this.record(t1 - t0);
    this.sendSettings(s);
    Object.assign(this.debug.want, { report: this.gen, eval: evalKey(s), sens: sensKey(s), sweep: sweepKey(s) });
    if (this.report && (!prev || prev.layer !== s.layer)) this.drawActivations();
    this.drawProduction(s);
    this.$('lab-sens-scope').textContent = `${s.weightBits}-bit weights`;
    notifyState('lab'); // the URL follows (js/url-state.js)
  }

  record(ms) {
    this.history.push(ms);
    if (this.history.length > HISTORY) this.history.shift();
    const sorted = [...this.history].sort((a, b) => a - b);
    Object.assign(this.debug, { lastRedrawMs: ms, medianRedrawMs: sorted[Math.floor(sorted.length / 2)], redraws: this.debug.redraws + 1 });
    this.$('lab-redraw-ms').textContent = `weights redrawn ${ms.toFixed(1)} ms after the input`;
  }

  /** Sends the settings when anything the worker uses changed (layer and channel are page-only). */
  sendSettings(s) {
    if (this.modelFile?.busy) return; // a model is loading: its settings follow once it is in
    const key = JSON.stringify({ ...s, layer: 0, channel: 0 });
    if (key === this.sentKey) return;
    this.sentKey = key;
    this.gen++;
    this.evalSentAt = performance.now();
    this.worker.postMessage({ type: 'settings', gen: this.gen, settings: s });
  }

  // ---- weights (page wasm) -------------------------------------------------------------------

  weightsOf(layer) {
    if (!this.weightCache.has(layer)) this.weightCache.set(layer, this.model.layerWeights(layer));
    return this.weightCache.get(layer);
  }

  /** Weights of the selected layer quantized as the model does: symmetric int8 grid, min-max. */
  computeWeights(s) {
    const w = this.weightsOf(s.layer);
    const m = this.channelsOf(s.layer);
    const bits = bitsFor(s, s.layer).w;
    const perChannel = s.granularity === 'channel';
    const grid = { scheme: 'symmetric', dtype: 'int8', bits };
    const opts = { ...grid, method: 'minmax', shape: [m, w.length / m], bins: binsFor(w.length) };
    if (perChannel) Object.assign(opts, { axis: 0, channel: s.channel });
    const a = this.api.analyzeQuantization(w, opts);
    let view = a;
    if (perChannel) {
      const inner = w.length / m;
      const slice = w.subarray(s.channel * inner, (s.channel + 1) * inner);
      view = this.api.analyzeQuantization(slice, { ...grid, scale: [a.scale[s.channel]], zeroPoint: [0], bins: binsFor(slice.length) });
    }
    return { a, view, bits, perChannel };
  }

  drawWeights(s, { a, view, bits, perChannel }) {
    const markers = { grid: a.grid, zeroIndex: -a.qmin, clipLow: a.clipLow, clipHigh: a.clipHigh };
    this.charts.weights.update(view.valueHistogram, markers);
    this.charts.werrors.update(view.errorHistogram, null);
    const name = QLAYERS.find((l) => l.index === s.layer).name;
    const scope = perChannel ? `${name}, channel ${s.channel}` : `${name}, whole layer`;
    for (const id of ['lab-weights-scope', 'lab-werrors-scope']) this.$(id).textContent = `${scope}, ${bits} bits`;
    this.$('lab-wstats-scope').textContent = `${name}, ${bits} bits`;
    const stride = this.charts.weights.gridStride;
    const foot = this.$('lab-weight-grid');
    foot.dataset.gridPoints = String(a.grid.length);
    foot.textContent = `${a.grid.length} grid points, q = ${fmt.int(a.qmin)} … ${fmt.int(a.qmax)}, step s = ${fmt.num(a.scale[perChannel ? s.channel : 0])}` +
      (stride > 1 ? ` (every ${stride}th line drawn)` : '');
    const fig = this.$('lab-fig-channels');
    fig.classList.toggle('is-empty', !perChannel);
    if (perChannel) this.charts.channels.update(Array.from(a.channelSqnrDb), Array.from(a.scale), s.channel);
    this.drawWeightStats(a, s, perChannel);
    this.debug.weights = { layer: s.layer, bits, perChannel, channel: s.channel, sqnrDb: a.sqnrDb, gridPoints: a.grid.length, scales: a.scale.length, histogram: Array.from(view.valueHistogram.counts), errorLo: view.errorHistogram.lo };
  }

  drawWeightStats(a, s, perChannel) {
    const params = [];
    if (perChannel) {
      params.push([`Scale s (ch ${s.channel})`, fmt.num(a.scale[s.channel], 4)]);
      params.push([`All ${a.scale.length} scales`, `${fmt.num(Math.min(...a.scale))} … ${fmt.num(Math.max(...a.scale))}`]);
    } else {
      params.push(['Scale s', fmt.num(a.scale[0], 4)]);
    }
    params.push(['Zero point z', '0 <small>(symmetric)</small>']);
    params.push(['Integers q', `${fmt.int(a.qmin)} … ${fmt.int(a.qmax)} <small>(${a.qmax - a.qmin + 1} levels)</small>`]);
    params.push(['Weight range', `${fmt.num(a.dataMin)} … ${fmt.num(a.dataMax)}`]);
    const error = [
      ['SQNR', `<span id="lab-stat-sqnr">${fmt.db(a.sqnrDb)}</span>`],
      ['MSE', fmt.num(a.mse)],
      ['… from rounding', fmt.num(a.roundingMse)],
      ['… from clipping', fmt.num(a.clippingMse)],
      ['Max |error|', fmt.num(a.maxAbsError)],
    ];
    const size = [
      ['Weights', thousands(a.count)],
      ['float32', fmt.bytes(a.bytesFloat)],
      ['int8 + scales', fmt.bytes(a.bytesInt8)],
      [`packed at ${a.bits} bits`, fmt.bytes(a.bytesPacked)],
    ];
    const group = (title, rows) => `<div class="stat-group"><h3>${title}</h3><dl>` +
      rows.map(([k, v]) => `<div class="stat"><dt>${k}</dt><dd>${v}</dd></div>`).join('') + '</dl></div>';
    this.$('lab-wstats-list').innerHTML = group('Parameters', params) + group('Error', error) + group('Size', size);
  }

  // ---- worker --------------------------------------------------------------------------------

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
    // The worker loads the same build as the page (js/wasm-build.js).
    const workerUrl = new URL('./lab-worker.js', import.meta.url);
    workerUrl.searchParams.set('build', document.documentElement.dataset.build ?? 'simd128');
    this.worker = new Worker(workerUrl, { type: 'module' });
    this.worker.onmessage = (e) => this.onMessage(e.data);
    this.worker.onerror = (e) => {
      this.alert(`the lab's worker failed: ${e.message ?? 'unknown error'}`);
      this.debug.errors++;
    };
    if (this.debug.visible === false) this.worker.postMessage({ type: 'visible', visible: false }); // see setVisible
    this.worker.postMessage({ type: 'init' });
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
      predict: () => this.onPredict(m),
      error: () => this.onError(m),
      model: () => this.modelFile.onModel(m),
      'model-error': () => this.modelFile.onModelError(m),
      fatal: () => this.alert(`the lab could not start: ${m.message}`),
    }[m.type];
    handler?.();
    // Page hooks (js/embed.js posts results to a parent page; js/a11y.js announces them).
    this.root.dispatchEvent(new CustomEvent('quantlab:result', { bubbles: true, detail: { type: m.type } }));
  }

  onReady(m) {
    this.debug.workerReady = true;
    this.debug.worker = m;
    this.timer = m.timer;
    this.$('lab-status').textContent = `worker ready: data ${m.ms.load.toFixed(0)} ms, calibration on ${m.calibCount} digits ${m.ms.calibrate.toFixed(0)} ms, FP32 logits of ${thousands(m.testCount)} digits ${m.ms.fp32Eval.toFixed(0)} ms`;
    this.drawTimerNote();
    this.kernels = m.kernels;
    this.drawKernelNote();
    if (!this.debug.timing) {
      this.$('lab-timing').innerHTML = `<p class="hbar-note">Not run yet: a quick run takes a few seconds and the page stays usable meanwhile. ${this.timerText[0].toUpperCase()}${this.timerText.slice(1)}.</p>`;
    }
    if (this.hasInk) this.sendDrawing();
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

  progressEl(task) {
    return this.$({ eval: 'lab-eval-progress', sens: 'lab-sens-progress', sweep: 'lab-sweep-progress', timing: 'lab-timing-progress' }[task]);
  }

  currentKey(task) {
    const s = this.state;
    return { eval: evalKey(s), sens: sensKey(s), sweep: sweepKey(s) }[task];
  }

  onProgress(m) {
    const el = this.progressEl(m.task);
    if (!el) return;
    if (m.task !== 'timing' && m.key !== this.currentKey(m.task)) return;
    el.hidden = false;
    const f = m.total ? m.done / m.total : 0;
    el.querySelector('.progress-bar').style.width = `${(f * 100).toFixed(1)}%`;
    el.querySelector('.progress-label').textContent = m.label;
    el.setAttribute('role', 'progressbar');
    el.setAttribute('aria-valuenow', String(Math.round(f * 100)));
    el.closest('.figure')?.classList.add('is-stale');
  }

  hideProgress(task) {
    const el = this.progressEl(task);
    if (!el) return;
    el.hidden = true;
    el.closest('.figure')?.classList.remove('is-stale');
  }

  // ---- report: overview and activations ------------------------------------------------------

  onReport(m) {
    if (m.gen !== this.gen) return;
    this.clearAlert();
    this.report = m.report;
    this.methods = m.methods;
    this.debug.report = m.report;
    this.debug.methods = m.methods;
    this.debug.reports++;
    this.debug.have.report = m.gen;
    this.drawOverview();
    this.drawActivations();
  }

  drawOverview() {
    const r = this.report;
    const byIndex = new Map(r.layers.map((l) => [l.index, l]));
    const rows = this.summary.layers.map((l) => {
      const q = byIndex.get(l.index);
      const shape = l.outputShape.filter((d, i) => i === 0 || d > 1).join('×');
      if (!q) {
        return `<tr class="muted-row hide-narrow"><td>${l.name}</td><td>${shape}</td><td class="num">–</td><td class="num">–</td><td></td><td class="num">–</td><td class="num">–</td><td class="num">–</td></tr>`;
      }
      return `<tr data-layer="${l.index}"><td><strong>${l.name}</strong></td><td class="hide-narrow">${shape}</td><td class="num">${thousands(l.params)}</td>` +
        `<td class="num hide-narrow">${macsText(l.macs)}</td><td class="num bits">${q.weightBits} / ${q.actBits}</td>` +
        `<td class="num c-fp32">${kibN(q.bytesFp32)}</td><td class="num c-int8">${kibN(q.bytesInt8)}</td>` +
        `<td class="num">${kibN(q.bytesPacked)}</td></tr>`;
    });
    const packed = r.layers.reduce((sum, l) => sum + l.bytesPacked, 0);
    this.$('lab-overview').innerHTML =
      '<thead><tr><th>Layer</th><th class="hide-narrow">Output</th><th class="num">Params</th><th class="num hide-narrow">MACs</th><th class="num">Bits<br>W / A</th>' +
      '<th class="num c-fp32">FP32<br>KiB</th><th class="num c-int8">INT8<br>KiB</th><th class="num">Packed<br>KiB</th></tr></thead>' +
      `<tbody>${rows.join('')}</tbody>` +
      `<tfoot><tr><td>Total</td><td class="hide-narrow"></td><td class="num">${thousands(r.params)}</td><td class="num hide-narrow">${macsText(r.macs)}</td><td></td>` +
      `<td class="num c-fp32">${kibN(r.bytesFp32)}</td><td class="num c-int8" id="lab-total-int8">${kibN(r.bytesInt8)}</td><td class="num">${kibN(packed)}</td></tr>` +
      `<tr class="ratio-row"><td colspan="3">Compression</td><td class="hide-narrow" colspan="2"></td><td class="num">1×</td><td class="num c-int8" id="lab-compression">${fmt.ratio(r.bytesFp32, r.bytesInt8)}</td><td class="num">${fmt.ratio(r.bytesFp32, packed)}</td></tr></tfoot>`;
    this.$('lab-k-size').textContent = fmt.ratio(r.bytesFp32, r.bytesInt8);
    const lowBits = packed < r.bytesInt8;
    this.$('lab-k-size-sub').textContent = `${kib(r.bytesFp32)} → ${kib(r.bytesInt8)}` + (lowBits ? ` (${kib(packed)} packed)` : ' smaller');
  }

  drawActivations() {
    const r = this.report;
    const s = this.state;
    const pos = QLAYERS.findIndex((l) => l.index === s.layer);
    const layer = r.layers[pos];
    const act = layer.output;
    const levels = Int8Array.from({ length: act.qmax - act.qmin + 1 }, (_, i) => act.qmin + i);
    const grid = Array.from(this.api.dequantizeLinear(levels, new Float32Array([act.scale]), new Int32Array([act.zeroPoint])));
    this.charts.act.update({ lo: act.histLow, hi: act.histHigh, counts: act.histogram }, { grid, zeroIndex: act.zeroPoint - act.qmin, clipLow: act.clipLow, clipHigh: act.clipHigh });
    this.$('lab-act-scope').textContent = `${layer.name} output, ${layer.actBits} bits, ${s.scheme}`;
    const foot = this.$('lab-act-grid');
    foot.dataset.gridPoints = String(grid.length);
    foot.textContent = `s = ${fmt.num(act.scale, 4)}, z = ${fmt.int(act.zeroPoint)}, clip ${fmt.num(act.clipLow)} … ${fmt.num(act.clipHigh)} of data ${fmt.num(act.dataMin)} … ${fmt.num(act.dataMax)}`;

    // The calibration methods on this tensor: clip range and error split.
    const t = pos + 1; // tensor 0 is the model input
    const rows = this.methods.map((m) => (m.error ? m : { method: m.method, ...m.tensors[t] }));
    const maxTotal = Math.max(...rows.filter((x) => !x.error).map((x) => x.roundingMse + x.clippingMse), 1e-30);
    this.$('lab-methods').innerHTML = rows.map((x) => {
      if (x.error) return `<div class="mrow" data-method="${x.method}"><div class="mrow-head"><span class="mname">${METHOD_LABEL[x.method]}</span></div><div class="mvals">not available: check the percentile</div></div>`;
      const wR = (x.roundingMse / maxTotal) * 100;
      const wC = (x.clippingMse / maxTotal) * 100;
      const current = x.method === s.method ? ' is-current' : '';
      return `<div class="mrow${current}" data-method="${x.method}"><div class="mrow-head"><span class="mname">${METHOD_LABEL[x.method]}</span>` +
        `<span class="mclip">clip ${fmt.num(x.clipLow)} … ${fmt.num(x.clipHigh)}</span></div>` +
        `<div class="mbar" title="MSE ${fmt.num(x.roundingMse + x.clippingMse)}"><span class="mbar-r" data-css="width:${wR.toFixed(2)}%"></span><span class="mbar-c" data-css="width:${wC.toFixed(2)}%"></span></div>` +
        `<div class="mvals"><span class="swatch-int8">rounding ${fmt.num(x.roundingMse)}</span> <span class="swatch-clip">clipping ${fmt.num(x.clippingMse)}</span></div></div>`;
    }).join('');
    applyCss(this.$('lab-methods'));

    const tensors = [{ name: 'input image', act: r.layers[0].input, bits: this.state.actBits }, ...r.layers.map((l) => ({ name: `${l.name} output${l.relu ? ' + ReLU' : ''}`, act: l.output, bits: l.actBits }))];
    this.$('lab-act-table').innerHTML =
      '<thead><tr><th>Tensor</th><th class="num">Bits</th><th class="num">Data range</th><th class="num">Clip range</th><th class="num">Scale <var>s</var></th><th class="num"><var>z</var></th>' +
      '<th class="num c-int8">MSE from<br>rounding</th><th class="num c-clip">MSE from<br>clipping</th></tr></thead><tbody>' +
      tensors.map(({ name, act: a, bits }, i) => `<tr${i === t ? ' class="is-current"' : ''}><td>${name}</td><td class="num">${bits}</td><td class="num">${fmt.num(a.dataMin)} … ${fmt.num(a.dataMax)}</td>` +
        `<td class="num">${fmt.num(a.clipLow)} … ${fmt.num(a.clipHigh)}</td><td class="num">${fmt.num(a.scale, 4)}</td><td class="num">${fmt.int(a.zeroPoint)}</td>` +
        `<td class="num">${fmt.num(a.roundingMse)}</td><td class="num">${fmt.num(a.clippingMse)}</td></tr>`).join('') + '</tbody>';
  }

  // ---- evaluation ----------------------------------------------------------------------------

  onEval(m) {
    if (m.key !== evalKey(this.state)) return;
    this.hideProgress('eval');
    if (m.unavailable) {
      this.debug.have.eval = m.key;
      this.modelFile.showNoAccuracy(m.unavailable);
      return;
    }
    const e = m.result;
    this.debug.lastEvalMs = m.ms;
    this.debug.evalLatencyMs = performance.now() - this.evalSentAt;
    this.debug.eval = { ...e, flipped: e.flipped.map((f) => ({ index: f.index, label: f.label, fp32: f.fp32, int8: f.int8 })) };
    this.debug.evals++;
    this.debug.have.eval = m.key;
    if (!this.debug.ready) {
      this.debug.ready = true;
      this.root.dataset.ready = 'true';
    }
    this.$('lab-k-fp32').textContent = pct(e.fp32Accuracy);
    this.$('lab-k-int8').textContent = pct(e.int8Accuracy);
    const drop = (e.int8Accuracy - e.fp32Accuracy) * 100;
    this.$('lab-k-int8-sub').textContent = `${drop >= 0 ? '+' : '−'}${Math.abs(drop).toFixed(2)} points vs FP32`;
    this.$('lab-k-agree').textContent = pct(e.agreement);
    this.$('lab-k-agree-sub').textContent = `${thousands(e.flippedCount)} of ${thousands(e.count)} digits flipped`;
    const stat = (k, v, id = '') => `<div class="stat"><dt>${k}</dt><dd${id ? ` id="${id}"` : ''}>${v}</dd></div>`;
    this.$('lab-acc-stats').innerHTML = '<dl>' +
      stat('FP32 accuracy', `<span class="swatch-fp32">${pct2(e.fp32Accuracy)}</span>`) +
      stat('INT8 accuracy', `<span class="swatch-int8">${pct2(e.int8Accuracy)}</span>`, 'lab-acc-int8') +
      stat('Agreement', pct2(e.agreement), 'lab-acc-agree') +
      stat('Logit SQNR', fmt.db(e.logitSqnrDb), 'lab-acc-sqnr') +
      stat('Flipped', `${thousands(e.flippedCount)}`, 'lab-acc-flipped') +
      stat('Evaluated in', `${m.ms.toFixed(0)} ms`, 'lab-acc-ms') + '</dl>';
    this.drawThumbs(e);
  }

  drawThumbs(e) {
    const box = this.$('lab-flipped');
    box.replaceChildren();
    if (!e.flipped.length) {
      const p = document.createElement('p');
      p.className = 'empty-note shown';
      p.textContent = 'No digit changed its prediction: INT8 agrees with FP32 on all of them.';
      box.append(p);
      return;
    }
    for (const f of e.flipped) {
      const fig = document.createElement('figure');
      fig.className = 'thumb';
      fig.dataset.index = String(f.index);
      const c = document.createElement('canvas');
      c.width = 28;
      c.height = 28;
      const ctx = c.getContext('2d');
      const img = ctx.createImageData(28, 28);
      for (let i = 0; i < 784; i++) {
        const v = 255 - f.pixels[i];
        img.data.set([v, v, v, 255], i * 4);
      }
      ctx.putImageData(img, 0, 0);
      c.setAttribute('aria-label', `digit ${f.index}: true ${f.label}, FP32 says ${f.fp32}, INT8 says ${f.int8}`);
      const cap = document.createElement('figcaption');
      cap.innerHTML = `<span class="swatch-fp32">${f.fp32}</span>→<span class="swatch-int8">${f.int8}</span> <small>true ${f.label}</small>`;
      fig.append(c, cap);
      box.append(fig);
    }
    if (e.flippedCount > e.flipped.length) {
      const more = document.createElement('p');
      more.className = 'thumbs-more';
      more.textContent = `… and ${thousands(e.flippedCount - e.flipped.length)} more`;
      box.append(more);
    }
  }

  // ---- sensitivity ---------------------------------------------------------------------------

  onSens(m) {
    if (m.key !== sensKey(this.state)) return;
    if (m.complete) this.hideProgress('sens');
    this.debug.sens = m;
    if (m.complete) this.debug.have.sens = m.key;
    if (m.unavailable) return; // the model file's note says why
    const fp32 = m.rows[0]?.fp32Accuracy ?? 0;
    this.$('lab-sens').innerHTML = m.rows.map((r) => {
      const d = (r.accuracy - r.fp32Accuracy) * 100;
      return `<div class="hbar-row${r.layer === null ? ' is-all' : ''}"><span class="hbar-label">${r.layer === null ? r.name : `only ${r.name}`}</span>` +
        `<div class="hbar"><span class="hbar-fill" data-css="width:${(r.accuracy * 100).toFixed(2)}%; background:var(--int8)"></span>` +
        `<span class="hbar-ref" data-css="left:${(fp32 * 100).toFixed(2)}%" title="FP32"></span></div>` +
        `<span class="hbar-val">${pct(r.accuracy)} <small>${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)}</small></span></div>`;
    }).join('') + `<p class="hbar-note"><span class="ref-key"></span> FP32 ${pct(fp32)}; numbers after the accuracy: points vs FP32.</p>`;
    applyCss(this.$('lab-sens'));
  }

  // ---- sweep ---------------------------------------------------------------------------------

  onSweep(m) {
    if (m.key !== sweepKey(this.state)) return;
    if (m.complete) this.hideProgress('sweep');
    this.debug.sweep = m;
    if (m.complete) this.debug.have.sweep = m.key;
    const s = this.state;
    this.$('lab-sweep-scope').textContent = `${s.granularity === 'channel' ? 'per channel' : 'per tensor'}, ${METHOD_LABEL[s.method]}, ${s.scheme}`;
    if (m.mode === 'random') {
      this.modelFile.drawRandomSweep(m);
      return;
    }
    const xs = [...SWEEP_BITS].reverse();
    const at = (b) => m.points.find((p) => p.bits === b);
    const col = (f) => xs.map((b) => { const p = at(b); return p ? f(p) : null; });
    const fp32 = m.points[0]?.fp32Accuracy ?? null;
    this.charts.sweepAcc.update([xs.map(() => (fp32 === null ? null : fp32 * 100)), col((p) => p.wAccuracy * 100), col((p) => p.waAccuracy * 100)]);
    this.charts.sweepSqnr.update([col((p) => p.wSqnrDb), col((p) => p.waSqnrDb)]);
    const f32kib = m.points[0] ? m.points[0].bytesFp32 / 1024 : null;
    this.charts.sweepSize.update([xs.map(() => f32kib), col((p) => p.bytesPacked / 1024)]);
    this.$('lab-sweep-table').innerHTML =
      '<thead><tr><th class="num">Bits</th><th class="num c-wonly">Accuracy<br><small>weights only</small></th><th class="num c-int8">Accuracy<br><small>weights + act.</small></th>' +
      '<th class="num">Agreement<br><small>weights + act.</small></th><th class="num c-wonly">Logit SQNR<br><small>weights only</small></th><th class="num c-int8">Logit SQNR<br><small>weights + act.</small></th>' +
      '<th class="num">Size<br><small>packed</small></th><th class="num">vs FP32</th></tr></thead><tbody>' +
      SWEEP_BITS.map((b) => {
        const p = at(b);
        if (!p) return `<tr class="muted-row"><td class="num">${b}</td><td colspan="7">…</td></tr>`;
        return `<tr data-bits="${b}"><td class="num"><strong>${b}</strong></td><td class="num">${pct(p.wAccuracy)}</td><td class="num">${pct(p.waAccuracy)}</td><td class="num">${pct(p.waAgreement)}</td>` +
          `<td class="num">${fmt.db(p.wSqnrDb)}</td><td class="num">${fmt.db(p.waSqnrDb)}</td><td class="num">${kib(p.bytesPacked)}</td><td class="num">${fmt.ratio(p.bytesFp32, p.bytesPacked)}</td></tr>`;
      }).join('') + '</tbody>';
    if (m.complete) this.$('lab-sweep-table').dataset.ms = String(Math.round(m.ms));
  }

  // ---- timing --------------------------------------------------------------------------------

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
    const wall = performance.now() - this.timingStartedAt;
    this.debug.timing = { ...m, wallMs: wall };
    const byId = Object.fromEntries(m.results.map((r) => [r.id, r]));
    const maxP90 = Math.max(...m.results.map((r) => r.p90Ms));
    const f = byId.fp32.medianMs;
    this.$('lab-timing-scope').textContent = `batch ${m.batch}, ${m.samples} runs`;
    this.$('lab-timing').innerHTML = m.results.map((r) => {
      const w = (r.medianMs / maxP90) * 100;
      const lo = (r.p10Ms / maxP90) * 100;
      const hi = (r.p90Ms / maxP90) * 100;
      const vs = r.id === 'fp32' ? 'reference' : r.medianMs < f ? `${(f / r.medianMs).toFixed(2)}× faster` : `${(r.medianMs / f).toFixed(2)}× slower`;
      return `<div class="hbar-row" data-path="${r.id}"><span class="hbar-label" data-css="color:${pathColor(r.id)}">${pathLabel(r.id)}</span>` +
        `<div class="hbar"><span class="hbar-fill" data-css="width:${w.toFixed(2)}%; background:${pathColor(r.id)}"></span>` +
        `<span class="hbar-whisker" data-css="left:${lo.toFixed(2)}%; width:${Math.max(0.5, hi - lo).toFixed(2)}%"></span></div>` +
        `<span class="hbar-val"><strong>${msPerImage(r.medianMs)}</strong></span>` +
        `<span class="hbar-sub"><code>${r.kernel}</code> · p10–p90 ${msPerImage(r.p10Ms)} – ${msPerImage(r.p90Ms)} · ${r.gmacs.toFixed(2)} GMAC/s` +
        `${this.ceiling(m, r.kernel) && r.id !== 'simulated' ? ` (${Math.round((100 * r.gmacs) / this.ceiling(m, r.kernel))}% of this machine's ceiling for it)` : ''} · ${vs}` +
        `${r.jsCallMs ? ` · as a JS call, copies included: ${msPerImage(r.jsCallMs)}` : ''}</span></div>`;
    }).join('') + '<p class="hbar-note">Bar: median time per image inside the module; whisker: 10th to 90th percentile of the runs.</p>';
    applyCss(this.$('lab-timing'));
    this.kernels = m.kernels;
    this.drawKernelNote();
    this.drawSteps(m);
    this.drawWhy(m, byId);
  }

  /** Which build and kernel-table entries run here, and what the probe saw. */
  drawKernelNote() {
    const k = this.kernels;
    if (!k) return;
    const sel = this.$('lab-int8-kernel');
    if (sel.options.length === 2) {
      for (const name of k.int8.available) sel.add(new Option(`${name}${name === k.int8.best ? ' (chosen)' : ''}`, name), sel.options[1]);
    }
    const probe = k.build === 'relaxed'
      ? `the probe ran the relaxed dot on test vectors and saw (${k.probe.dotSamples.join(', ')}): it ${k.probe.describe}`
      : 'this browser has no relaxed SIMD, so no probe ran';
    this.$('lab-kernel-note').innerHTML = `Build <strong>${k.build}</strong>: ${probe}. ` +
      `INT8 runs <code>${k.int8.entries.find((e) => e.name === k.int8.best).entry}</code>, FP32 <code>${k.fp32.entries.find((e) => e.name === k.fp32.best).entry}</code>.`;
  }

  /** Per-step time per image of the FP32 and chosen INT8 runs. */
  drawSteps(m) {
    const rows = m.results.filter((r) => r.steps?.length && (r.id === 'fp32' || r.id === 'int8'));
    const t = this.$('lab-timing-steps');
    if (!rows.length) { t.innerHTML = ''; return; }
    // Rows in pipeline order: each name at its earliest position in either run (input first).
    const at = (n) => Math.min(...rows.map((r) => { const i = r.steps.findIndex((x) => x.name === n); return i < 0 ? Infinity : i; }));
    const names = [...new Set(rows.flatMap((r) => r.steps.map((s) => s.name)))].sort((a, b) => at(a) - at(b));
    const cell = (r, n) => { const s = r.steps.find((x) => x.name === n); return s ? msPerImage(s.ms) : '–'; };
    t.innerHTML = `<caption>Where the time goes (per image, profiled runs)</caption><thead><tr><th scope="col">step</th>${rows.map((r) => `<th scope="col" class="num">${pathLabel(r.id)}</th>`).join('')}</tr></thead>` +
      `<tbody>${names.map((n) => `<tr><th scope="row">${n}</th>${rows.map((r) => `<td class="num">${cell(r, n)}</td>`).join('')}</tr>`).join('')}</tbody>`;
  }

  drawTimerNote() {
    const t = this.timer;
    if (!t) return;
    this.timerText = `${t.isolated ? 'cross-origin isolated' : 'not cross-origin isolated'}: timer steps of about ${(t.resolutionMs * 1000).toFixed(t.resolutionMs < 0.01 ? 1 : 0)} µs`;
  }

  /** The instruction-throughput ceiling of table entry `entry` (GMAC/s), from the micro-benchmark. */
  ceiling(m, entry) {
    return m.peaks?.flatMap((p) => p.entries).find((e) => e.entry === entry)?.gmacPerS ?? null;
  }

  /** Multiply-adds per instruction of the entries that ran, and what this machine reaches. */
  instructionsWhy(m, byId) {
    const k = m.kernels;
    const f = (v) => (v ? `${v.toFixed(1)} GMAC/s` : 'not measured');
    const i8 = k.int8.entries.find((e) => e.entry === byId.int8.kernel);
    const f32 = k.fp32.entries.find((e) => e.entry === byId.fp32.kernel);
    const parts = [
      `FP32 ran <code>${f32.instruction}</code>, ${f32.macsPerInstruction} multiply-adds per instruction (this machine's ceiling for it: ${f(this.ceiling(m, f32.entry))}).`,
      `INT8 ran <code>${i8.instruction}</code>, ${i8.macsPerInstruction} per instruction (ceiling ${f(this.ceiling(m, i8.entry))}).`,
    ];
    if (k.build === 'relaxed' && k.probe.dot !== 'usdot') {
      parts.push(`The relaxed dot <code>i32x4.relaxed_dot_i8x16_i7x16_add_s</code> would do 16 per instruction, but here it ${k.probe.describe}, so it is exact only on 7-bit operands: ` +
        `<code>split</code> needs two of them per 16 multiply-adds${k.probe.dot === 'other' ? ', and this engine builds each from three x86 instructions (no AVX-VNNI), so <code>dot16</code> is faster' : ''}.`);
    } else if (k.probe.dot === 'usdot') {
      parts.push('Here the relaxed dot reads its second operand as unsigned without saturating (one <code>vpdpbusd</code>): an exact uint8 × int8 dot of 16 multiply-adds.');
    } else {
      parts.push('This browser has no relaxed SIMD, so the widest exact integer dot is <code>i32x4.dot_i16x8_s</code>.');
    }
    parts.push('Quantizing the input, requantizing and pooling do not shrink with the dot.');
    return parts.join(' ');
  }

  /** The "why", from the measured numbers and the model's sizes. */
  drawWhy(m, byId) {
    const r = this.report;
    const f = byId.fp32.medianMs;
    const i8 = byId.int8.medianMs;
    const sim = byId.simulated.medianMs;
    // Tensors written per image: the input, each conv (ReLU fused), pool and fc output.
    const actElems = this.summary.layers.reduce((sum, l) => sum + (l.kind === 'flatten' || l.kind === 'relu' ? 0 : l.outputShape.reduce((a, b) => a * b, 1)), this.summary.input.reduce((a, b) => a * b, 1));
    const speed = i8 < f ? `${(f / i8).toFixed(2)}× faster than FP32` : `${(i8 / f).toFixed(2)}× slower than FP32`;
    const fp = byId.fp32;
    const simVs = sim >= fp.p10Ms && sim <= fp.p90Ms
      ? `about as fast as FP32 (${msPerImage(sim)}, inside FP32's p10–p90 spread)`
      : sim > f ? `${(sim / f).toFixed(2)}× slower than FP32` : `${(f / sim).toFixed(2)}× faster than FP32`;
    const weightBytes = r ? `${kib(r.bytesFp32)} of float32 weights against ${kib(r.bytesInt8)} in INT8` : 'four times fewer weight bytes';
    this.$('lab-why').innerHTML = '<h3 class="subhead">Why</h3><ul>' +
      `<li><strong>Measured:</strong> true INT8 ran ${speed} (${msPerImage(i8)} vs ${msPerImage(f)} per image, batch ${m.batch}).</li>` +
      `<li><strong>Bytes moved:</strong> ${weightBytes}; per image about ${thousands(actElems)} activations, ${kib(actElems * 4)} as float32 and ${kib(actElems)} as int8. Weights this small fit in a typical CPU's L2 cache either way, so fewer bytes help less here than in a large model.</li>` +
      `<li><strong>Instructions:</strong> ${this.instructionsWhy(m, byId)}</li>` +
      `<li><strong>Simulated INT8</strong> (the course module's path) turns all ${thousands(this.summary.params)} weights back into floats on every call and then runs the same float kernels: ${simVs}. Quantizing only the storage saves memory, not time.</li>` +
      `<li><strong>Timer:</strong> ${this.timerText ?? 'unknown'}; each run timed ${m.reps} forward call${m.reps > 1 ? 's' : ''} in a row, so a run spans many timer steps.</li></ul>`;
  }

  // ---- drawing -------------------------------------------------------------------------------

  setupDrawing() {
    const c = this.$('lab-draw');
    const ctx = c.getContext('2d', { willReadFrequently: true });
    this.drawCtx = ctx;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineWidth = DRAW_LINE;
    ctx.strokeStyle = '#000';
    let last = null;
    const pos = (e) => {
      const r = c.getBoundingClientRect();
      return [((e.clientX - r.left) / r.width) * c.width, ((e.clientY - r.top) / r.height) * c.height];
    };
    const dot = (p) => {
      ctx.beginPath();
      ctx.arc(p[0], p[1], DRAW_LINE / 2, 0, 2 * Math.PI);
      ctx.fillStyle = '#000';
      ctx.fill();
    };
    c.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      c.setPointerCapture(e.pointerId);
      last = pos(e);
      dot(last);
      this.inked();
    });
    c.addEventListener('pointermove', (e) => {
      if (!last) return;
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
      ctx.beginPath();
      ctx.moveTo(last[0], last[1]);
      for (const ev of events.length ? events : [e]) {
        const p = pos(ev);
        ctx.lineTo(p[0], p[1]);
        last = p;
      }
      ctx.stroke();
      this.inked();
    });
    const end = () => { last = null; };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
    this.$('lab-draw-clear').addEventListener('click', () => this.clearDrawing());
  }

  inked() {
    this.hasInk = true;
    this.debug.drawBusy = true;
    if (this.drawFrame) return;
    this.drawFrame = requestAnimationFrame(() => {
      this.drawFrame = 0;
      this.sendDrawing();
    });
  }

  sendDrawing() {
    if (!this.debug.workerReady || !this.hasInk) return;
    if (this.drawInFlight) {
      this.drawDirty = true;
      return;
    }
    const c = this.$('lab-draw');
    const { data } = this.drawCtx.getImageData(0, 0, c.width, c.height);
    const ink = new Float32Array(c.width * c.height);
    for (let i = 0; i < ink.length; i++) ink[i] = data[i * 4 + 3] / 255;
    this.drawInFlight = true;
    this.drawDirty = false;
    this.sentDrawId = ++this.drawId;
    this.debug.drawId = this.drawId;
    this.worker.postMessage({ type: 'draw', id: this.sentDrawId, ink, width: c.width, height: c.height }, [ink.buffer]);
  }

  clearDrawing() {
    const c = this.$('lab-draw');
    this.drawCtx.clearRect(0, 0, c.width, c.height);
    this.hasInk = false;
    this.drawId++;
    this.worker.postMessage({ type: 'clear' });
    this.$('lab-draw-input').getContext('2d').clearRect(0, 0, this.$('lab-draw-input').width, this.$('lab-draw-input').height);
    for (const which of ['fp32', 'int8']) {
      this.$(`lab-draw-${which}`).textContent = '–';
      this.$(`lab-draw-${which}-p`).textContent = which === 'fp32' ? 'draw something' : '\u00a0';
    }
    for (let d = 0; d < 10; d++) {
      this.$(`lab-p-fp32-${d}`).textContent = '–';
      this.$(`lab-p-int8-${d}`).textContent = '–';
    }
    for (const bar of this.$('lab-probs').querySelectorAll('.pbar')) bar.style.width = '0';
    this.debug.predict = null;
  }

  onPredict(m) {
    if (m.id === this.sentDrawId) this.drawInFlight = false;
    if (m.id !== this.drawId) {
      if (this.drawDirty) this.sendDrawing();
      return; // an older drawing, or cleared since
    }
    const argmax = (p) => p.indexOf(Math.max(...p));
    const fp = Array.from(m.fp32);
    const i8 = Array.from(m.int8);
    const df = argmax(fp);
    const di = argmax(i8);
    this.$('lab-draw-fp32').textContent = String(df);
    this.$('lab-draw-int8').textContent = String(di);
    this.$('lab-draw-fp32-p').textContent = `${pct(fp[df])} sure`;
    this.$('lab-draw-int8-p').textContent = `${pct(i8[di])} sure` + (df !== di ? ' · disagrees!' : '');
    const rows = this.$('lab-probs').querySelectorAll('.prob-row');
    rows.forEach((row, d) => {
      row.querySelector('.pbar-fp32').style.width = `${(fp[d] * 100).toFixed(1)}%`;
      row.querySelector('.pbar-int8').style.width = `${(i8[d] * 100).toFixed(1)}%`;
      row.classList.toggle('is-top', d === df || d === di);
      this.$(`lab-p-fp32-${d}`).textContent = (fp[d] * 100).toFixed(1);
      this.$(`lab-p-int8-${d}`).textContent = (i8[d] * 100).toFixed(1);
    });
    // What the model sees: the preprocessed input, 32×32 or 28×28 (0 = background, 1 = ink).
    const inputCanvas = this.$('lab-draw-input');
    const ctx = inputCanvas.getContext('2d');
    const img = ctx.createImageData(inputCanvas.width, inputCanvas.height);
    for (let i = 0; i < img.width * img.height; i++) {
      const v = 255 - Math.round(Math.min(1, Math.max(0, m.input[i])) * 255);
      img.data.set([v, v, v, 255], i * 4);
    }
    ctx.putImageData(img, 0, 0);
    this.debug.predict = { id: m.id, gen: m.gen, fp32: df, int8: di, fp32P: fp, int8P: i8, ms: m.ms };
    this.debug.predictions++;
    if (this.drawDirty) this.sendDrawing();
    this.debug.drawBusy = this.drawInFlight || this.drawDirty || Boolean(this.drawFrame);
  }

  // ---- production notes ----------------------------------------------------------------------

  drawProduction(s) {
    // A line break may fall between the words of a long identifier (Per|Channel|Min|Max|Observer).
    const breakable = (t) => t.replace(/[\w=.]{14,}/g, (w) => w.replace(/[a-z](?=[A-Z])/g, '$&<wbr>'));
    const mark = (v) => (v === true ? '<span class="mark mark-same" title="same">✓</span>' : v === false ? '<span class="mark mark-differs" title="different">✗</span>' : '<span class="mark mark-partly" title="partly">≈</span>');
    const cell = ([text, same], label) => `<td data-label="${label}">${mark(same)} ${breakable(text)}</td>`;
    const html = '<thead><tr><th><span class="sr-only">Aspect</span></th><th>This page now</th><th>TFLite</th><th>PyTorch (x86)</th><th>ONNX Runtime</th></tr></thead><tbody>' +
      productionRows(s).map((r) => `<tr><th scope="row">${r.aspect}</th><td class="page-cell" data-label="This page">${r.page}</td>` +
        `${cell(r.tflite, 'TFLite')}${cell(r.pytorch, 'PyTorch')}${cell(r.ort, 'ONNX Runtime')}</tr>`).join('') +
      '</tbody>';
    if (html !== this.prodHtml) {
      this.prodHtml = html;
      this.$('lab-prod').innerHTML = html;
    }
  }
}
