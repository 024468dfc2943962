// The "Explorer" section: one tensor, one set of quantization settings, four live views.
//
// Flow: an `input` event on the form notes the time and asks for one animation frame; the frame
// reads the form into a state object, asks wasm for every number (analyzeQuantization for the
// statistics and histograms, quantizeLinear/dequantizeLinear for the staircase), and updates the
// charts. If wasm throws, the message goes to the alert area and every view keeps its last state.
import { HistogramChart, MappingChart, ChannelChart, COLORS, binsFor } from './charts.js';
import { TENSORS, makeTensor, channelSlice, linspace } from './tensors.js';
import { parseHash } from './state.js';
import { notifyState } from './url-state.js';
import * as fmt from './format.js';

const MAPPING_POINTS = 801;
const HISTORY = 30;

const METHOD_NOTES = {
  minmax: 'Clip range = data range: nothing clips, but one outlier stretches the grid for everyone.',
  percentile: 'Clips the rarest values: keeps the given percentile of |x| (ONNX Runtime uses 99.999 %).',
  mse: 'Tries 200 narrower ranges and keeps the one with the least mean squared error (MSE).',
  entropy: 'Picks the range whose quantized histogram loses the least information (Kullback-Leibler divergence), as TensorRT does.',
};

export class Explorer {
  /** `root`: the section element; `api`: the wasm module's exports. */
  constructor(root, api) {
    this.root = root;
    this.api = api;
    this.$ = (id) => root.querySelector(`#${id}`);
    this.form = this.$('controls');
    this.tensor = null;
    this.state = null;
    this.pendingT0 = null;
    this.history = [];
    this.debug = { lastRedrawMs: null, lastWorkMs: null, medianRedrawMs: null, redraws: 0, errors: 0, state: null, analysis: null, api };
  }

  start() {
    this.fillTensorOptions();
    this.writeForm(parseHash(location.hash));
    this.charts = {
      values: new HistogramChart(this.$('chart-values'), { color: COLORS.fp32, xLabel: 'x (float32)' }),
      mapping: new MappingChart(this.$('chart-mapping')),
      errors: new HistogramChart(this.$('chart-errors'), { color: COLORS.int8, xLabel: 'x − x̂' }),
      channels: new ChannelChart(this.$('chart-channels')),
    };
    this.form.addEventListener('input', () => this.schedule());
    this.$('bar-bits').addEventListener('input', (e) => {
      this.$('bits').value = e.target.value;
      this.schedule();
    });
    this.form.addEventListener('submit', (e) => e.preventDefault());
    this.$('reseed').addEventListener('click', () => {
      this.$('seed').value = String(Math.floor(Math.random() * 1e6));
      this.schedule();
    });
    // Back/forward and edited links come in through js/url-state.js (writeForm + schedule).
    this.schedule();
  }

  fillTensorOptions() {
    const sel = this.$('tensor');
    for (const [key, spec] of Object.entries(TENSORS)) sel.add(new Option(spec.label, key));
  }

  writeForm(s) {
    for (const key of ['tensor', 'seed', 'bits', 'scheme', 'dtype', 'granularity', 'method', 'percentile']) {
      this.$(key).value = String(s[key]);
    }
    this.syncChannelOptions(TENSORS[s.tensor] ?? TENSORS.weights);
    this.$('channel').value = String(s.channel);
  }

  readForm() {
    const v = (id) => this.$(id).value;
    return {
      tensor: v('tensor'),
      seed: v('seed') === '' ? NaN : Number(v('seed')),
      bits: Number(v('bits')),
      scheme: v('scheme'),
      dtype: v('dtype'),
      granularity: v('granularity'),
      method: v('method'),
      // An empty or partial number field reads as NaN; wasm rejects it with a message.
      percentile: v('percentile') === '' ? NaN : Number(v('percentile')),
      channel: Number(v('channel')) || 0,
    };
  }

  /** Rebuilds the channel list when the tensor's channel count changes. */
  syncChannelOptions(spec) {
    const sel = this.$('channel');
    const m = spec.channelAxis === null ? 0 : spec.shape[spec.channelAxis];
    if (sel.options.length === m) return;
    const keep = sel.value;
    sel.replaceChildren(...Array.from({ length: m }, (_, c) => new Option(`channel ${c}`, String(c))));
    this.$('channel-count').textContent = m ? `(of ${m})` : '';
    if (keep && Number(keep) < m) sel.value = keep;
  }

  /** Enables only the controls that mean something for the current settings. */
  syncControls(spec) {
    const hasChannels = spec.channelAxis !== null;
    const gran = this.$('granularity');
    gran.disabled = !hasChannels;
    gran.title = hasChannels ? '' : 'Activations are quantized per tensor: their range changes with every input.';
    if (!hasChannels) gran.value = 'tensor';
    this.syncChannelOptions(spec);
    this.$('channel').disabled = !hasChannels || gran.value !== 'channel';
    this.$('percentile').disabled = this.$('method').value !== 'percentile';
    this.$('bits-out').value = this.$('bits').value;
    // The phone's sticky bar mirrors the bits.
    this.$('bar-bits').value = this.$('bits').value;
    this.$('bar-bits-out').value = this.$('bits').value;
    this.$('tensor-note').textContent = spec.note;
    this.$('method-note').textContent = METHOD_NOTES[this.$('method').value] ?? '';
  }

  /** Visibility hook (js/visibility.js): out of view, a change is kept and drawn on return. */
  setVisible(visible) {
    this.visible = visible;
    this.debug.visible = visible;
    if (visible && this.deferred) {
      this.deferred = false;
      this.schedule();
    }
  }

  schedule() {
    if (this.visible === false) {
      this.deferred = true;
      return;
    }
    if (this.pendingT0 === null) {
      this.pendingT0 = performance.now();
      requestAnimationFrame(() => this.frame());
    }
  }

  frame() {
    const t0 = this.pendingT0;
    const tWork = performance.now();
    this.pendingT0 = null;
    const spec = TENSORS[this.$('tensor').value] ?? TENSORS.weights;
    this.syncControls(spec);
    const state = this.readForm();
    try {
      const result = this.compute(state);
      this.draw(state, result);
      this.showError(null);
      this.state = state;
      notifyState('explorer');
    } catch (err) {
      this.debug.errors++;
      this.showError(err instanceof Error ? err.message : String(err));
      return;
    }
    const t1 = performance.now();
    this.record(t1 - t0, t1 - tWork);
  }

  tensorFor(state) {
    if (!Number.isInteger(state.seed) || state.seed < 0 || state.seed > 0xffffffff) {
      throw new Error(`seed: must be a whole number from 0 to 4294967295, found ${Number.isNaN(state.seed) ? 'nothing' : state.seed}`);
    }
    const t = this.tensor;
    if (!t || t.kind !== state.tensor || t.seed !== state.seed) this.tensor = makeTensor(state.tensor, state.seed);
    return this.tensor;
  }

  /** Every number shown comes from here, and every one of them from wasm. */
  compute(state) {
    const t = this.tensorFor(state);
    const perChannel = state.granularity === 'channel' && t.channelAxis !== null;
    const grid = { scheme: state.scheme, dtype: state.dtype, bits: state.bits };
    const opts = { ...grid, method: state.method, shape: t.shape, bins: binsFor(t.data.length) };
    if (state.method === 'percentile') opts.percentile = state.percentile;
    if (perChannel) Object.assign(opts, { axis: t.channelAxis, channel: state.channel });
    const a = this.api.analyzeQuantization(t.data, opts);

    const c = a.channel;
    const s = a.scale[c];
    const z = a.zeroPoint[c];
    // The views show one channel when per-channel: analyse its slice under its own (s, z).
    const view = perChannel
      ? (() => {
        const slice = channelSlice(t, c);
        return this.api.analyzeQuantization(slice, { ...grid, scale: [s], zeroPoint: [z], bins: binsFor(slice.length) });
      })()
      : a;

    // The staircase: quantize then dequantize a fine sweep of x. quantizeLinear saturates to the
    // full int8/uint8 range and has no `bits` option, so inputs are first limited to the clip
    // range [s(qmin − z), s(qmax − z)], which is the same as saturating q to [qmin, qmax].
    const { lo, hi } = view.valueHistogram;
    const xs = linspace(lo, hi, MAPPING_POINTS);
    const limited = xs.map((x) => Math.min(Math.max(x, a.clipLow), a.clipHigh));
    const q = this.api.quantizeLinear(limited, new Float32Array([s]), new Int32Array([z]), { dtype: state.dtype });
    const xhat = this.api.dequantizeLinear(q, new Float32Array([s]), new Int32Array([z]));
    return { tensor: t, perChannel, a, view, s, z, xs, xhat, lo, hi };
  }

  draw(state, r) {
    const { a, view, s, z, perChannel } = r;
    const markers = { grid: a.grid, zeroIndex: z - a.qmin, clipLow: a.clipLow, clipHigh: a.clipHigh };
    this.charts.values.update(view.valueHistogram, markers);
    this.charts.errors.update(view.errorHistogram, null);
    this.charts.mapping.update(r.xs, r.xhat, r.lo, r.hi, [a.clipLow, a.clipHigh]);

    const scope = perChannel ? `channel ${a.channel}` : 'whole tensor';
    for (const id of ['values-scope', 'mapping-scope', 'errors-scope']) this.$(id).textContent = scope;

    const stride = this.charts.values.gridStride;
    const gc = this.$('grid-count');
    gc.dataset.gridPoints = String(a.grid.length);
    gc.textContent = `${a.grid.length} grid points, q = ${fmt.int(a.qmin)} … ${fmt.int(a.qmax)}` +
      (stride > 1 ? ` (every ${ordinal(stride)} line drawn)` : '');

    this.drawFormula(a, s, z);
    this.drawKeyStats(a, s);
    this.drawStats(a, perChannel);

    const fig = this.$('fig-channels');
    fig.classList.toggle('is-empty', !perChannel);
    this.$('channels-empty').textContent = r.tensor.channelAxis === null
      ? 'Activations are quantized per tensor: their range changes with every input, so one (s, z) must fit them all.'
      : 'Switch Granularity to “per channel” to give each output channel its own scale.';
    if (perChannel) this.charts.channels.update(a.channelSqnrDb, a.scale, a.channel);

    this.debug.state = state;
    this.debug.analysis = a;
  }

  drawFormula(a, s, z) {
    const sTxt = fmt.plain(s, 4);
    this.$('f-s1').textContent = sTxt;
    this.$('f-s2').textContent = sTxt;
    this.$('f-z1').textContent = z < 0 ? `− ${-z}` : `+ ${z}`;
    this.$('f-z2').textContent = z < 0 ? `+ ${-z}` : `− ${z}`;
    this.$('f-qmin').textContent = fmt.int(a.qmin);
    this.$('f-qmax').textContent = fmt.int(a.qmax);
  }

  drawKeyStats(a, s) {
    this.$('k-sqnr').textContent = fmt.db(a.sqnrDb);
    this.$('bar-sqnr').textContent = fmt.db(a.sqnrDb);
    this.$('k-maxerr').textContent = fmt.num(a.maxAbsError);
    this.$('k-maxerr-sub').textContent = a.scale.length > 1 ? 'largest move of any value' : `half a step: s/2 = ${fmt.num(s / 2)}`;
    this.$('k-clipped').textContent = fmt.percent(a.clippedFraction);
    this.$('k-ratio').textContent = fmt.ratio(a.bytesFloat, a.bits < 8 ? a.bytesPacked : a.bytesInt8);
    this.$('k-ratio-sub').textContent = a.bits < 8 ? `smaller than float32, packed at ${a.bits} bits` : 'smaller than float32';
  }

  drawStats(a, perChannel) {
    const params = [];
    if (perChannel) {
      const lo = Math.min(...a.scale);
      const hi = Math.max(...a.scale);
      params.push([`Scale s (ch ${a.channel})`, `${fmt.num(a.scale[a.channel], 4)}`]);
      params.push([`All ${a.scale.length} scales`, `${fmt.num(lo)} … ${fmt.num(hi)}`]);
      const zs = new Set(a.zeroPoint);
      params.push(zs.size === 1
        ? ['Zero point z', `${fmt.int(a.zeroPoint[0])} <small>(all channels)</small>`]
        : [`Zero point z (ch ${a.channel})`, fmt.int(a.zeroPoint[a.channel])]);
    } else {
      params.push(['Scale s', fmt.num(a.scale[0], 4)]);
      params.push(['Zero point z', fmt.int(a.zeroPoint[0])]);
    }
    params.push(['Integers q', `${fmt.int(a.qmin)} … ${fmt.int(a.qmax)} <small>(${a.qmax - a.qmin + 1} levels)</small>`]);
    params.push(['Data range', `${fmt.num(a.dataMin)} … ${fmt.num(a.dataMax)}`]);
    params.push([perChannel ? `Clip range (ch ${a.channel})` : 'Clip range', `${fmt.num(a.clipLow)} … ${fmt.num(a.clipHigh)}`]);

    const error = [
      ['SQNR', `<span id="stat-sqnr">${fmt.db(a.sqnrDb)}</span>`],
      ['MSE', fmt.num(a.mse)],
      ['… from rounding', fmt.num(a.roundingMse)],
      ['… from clipping', fmt.num(a.clippingMse)],
      ['Max |error|', fmt.num(a.maxAbsError)],
      ['Clipped', fmt.percent(a.clippedFraction)],
    ];

    const size = [
      ['Values', String(a.count)],
      ['float32', fmt.bytes(a.bytesFloat)],
      ['int8 + s, z', fmt.bytes(a.bytesInt8)],
      [`packed at ${a.bits} bits`, fmt.bytes(a.bytesPacked)],
      ['Compression int8', fmt.ratio(a.bytesFloat, a.bytesInt8)],
      ['Compression packed', fmt.ratio(a.bytesFloat, a.bytesPacked)],
    ];

    // Only numbers and fixed labels go into this HTML.
    const group = (title, rows) => `<div class="stat-group"><h3>${title}</h3><dl>` +
      rows.map(([k, v]) => `<div class="stat"><dt>${k}</dt><dd>${v}</dd></div>`).join('') + '</dl></div>';
    this.$('stats-list').innerHTML = group('Parameters', params) + group('Error', error) + group('Size', size);
  }

  showError(message) {
    const el = this.$('explorer-alert');
    if (message === null) {
      if (el.textContent) el.textContent = '';
      return;
    }
    el.textContent = `Not applied: ${message}. The views still show the last valid settings.`;
  }

  record(redrawMs, workMs) {
    this.history.push(redrawMs);
    if (this.history.length > HISTORY) this.history.shift();
    const sorted = [...this.history].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)];
    Object.assign(this.debug, { lastRedrawMs: redrawMs, lastWorkMs: workMs, medianRedrawMs: median, redraws: this.debug.redraws + 1 });
    // In the footer: how fast the page answers is part of what it shows, but not a control.
    document.getElementById('redraw-ms').textContent = `explorer redraw ${redrawMs.toFixed(1)} ms (compute + draw ${workMs.toFixed(1)} ms) ·`;
    document.getElementById('redraw-ms').title = `From the input event to the charts drawn, median of the last ${this.history.length}: ${median.toFixed(2)} ms`;
  }
}

function ordinal(n) {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th');
  return `${n}${s}`;
}
