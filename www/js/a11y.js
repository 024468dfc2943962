// For screen readers: the key numbers said after a change settles (one polite live region, so a
// dragged slider is one announcement, not sixty), and a text alternative on every chart (its key
// numbers, kept current). Also makes scrollable tables reachable by keyboard and names the
// progress bars. Reads what the sections publish in their `debug` objects; computes nothing.
import * as fmt from './format.js';

const SETTLE_MS = 900;
const text = (id) => document.getElementById(id)?.textContent.trim() ?? '';

export class Access {
  /** `explorer`, `lab`: the sections (lab may be null); `isVisible(name)`: whether a section is in view. */
  constructor({ explorer, lab, isVisible = () => true }) {
    Object.assign(this, { explorer, lab, isVisible });
    this.timers = {};
    this.said = {};
    this.debug = { announcements: [] };
  }

  start() {
    const live = document.createElement('div');
    live.id = 'announcer';
    live.className = 'sr-only';
    live.setAttribute('role', 'status');
    live.setAttribute('aria-live', 'polite');
    document.body.append(live);
    this.live = live;
    for (const wrap of document.querySelectorAll('.table-wrap')) {
      const title = wrap.closest('section, figure')?.querySelector('h2')?.textContent.trim();
      wrap.tabIndex = 0;
      wrap.setAttribute('role', 'region');
      wrap.setAttribute('aria-label', title ? `${title} (table; scrolls sideways)` : 'Table');
    }
    for (const bar of document.querySelectorAll('.progress')) {
      const title = bar.closest('section, figure')?.querySelector('h2')?.textContent.trim();
      bar.setAttribute('aria-label', `${title ?? 'Task'}: progress`);
    }
    for (const id of Object.keys(this.chartLabels())) {
      const el = document.getElementById(id);
      el?.setAttribute('role', 'img');
      el?.setAttribute('aria-label', 'Chart: not drawn yet');
    }
    document.addEventListener('quantlab:state', (e) => this.onChange(e.detail?.section, null));
    document.addEventListener('quantlab:result', (e) => this.onChange('lab', e.detail?.type));
  }

  onChange(section, kind) {
    this.labelCharts();
    const say = {
      explorer: () => this.explorer?.debug.analysis &&
        `Explorer: SQNR ${text('k-sqnr')}, largest error ${text('k-maxerr')}, clipped ${text('k-clipped')}, ${text('k-ratio')} smaller.`,
      'lab:eval': () => this.lab?.debug.eval && `CNN lab: INT8 accuracy ${text('lab-k-int8')}, FP32 ${text('lab-k-fp32')}, agreement ${text('lab-k-agree')}.`,
      'lab:sweep': () => this.lab?.debug.sweep?.complete && (this.sweepText('waAccuracy') ? `Bit-width sweep done: ${this.sweepText('waAccuracy')}.` : 'Bit-width sweep done.'),
      'lab:timing': () => {
        const t = this.lab?.debug.timing;
        return t && `Timing done, per image: ${t.results.map((r) => `${{ fp32: 'FP32', simulated: 'simulated INT8', int8: 'true INT8' }[r.id] ?? r.id} ${msText(r.medianMs)}`).join(', ')}.`;
      },
      'lab:predict': () => `FP32 says ${text('lab-draw-fp32')}, INT8 says ${text('lab-draw-int8')}.`,
    };
    const key = kind ? `${section}:${kind}` : section;
    if (!say[key] || !this.isVisible(section)) return;
    clearTimeout(this.timers[key]);
    this.timers[key] = setTimeout(() => {
      const message = say[key]();
      if (!message || message === this.said[key]) return;
      this.said[key] = message;
      this.announce(message);
    }, SETTLE_MS);
  }

  announce(message) {
    this.debug.announcements.push(message);
    // A new text node each time, so an identical sentence after a different one is read again.
    this.live.textContent = '';
    requestAnimationFrame(() => { this.live.textContent = message; });
  }

  sweepText(field) {
    const pts = (this.lab?.debug.sweep?.points ?? []).filter((p) => Number.isFinite(p[field]));
    return pts.sort((a, b) => b.bits - a.bits).map((p) => `${p.bits} bits ${(p[field] * 100).toFixed(1)} %`).join(', ');
  }

  /** Chart element id -> its text alternative (or null while it has no data). */
  chartLabels() {
    const a = this.explorer?.debug.analysis;
    const w = this.lab?.debug.weights;
    const sweep = this.lab?.debug.sweep;
    const range = (lo, hi) => `${fmt.num(lo)} to ${fmt.num(hi)}`;
    const minMax = (xs) => { const f = Array.from(xs).filter(Number.isFinite); return f.length ? range(Math.min(...f), Math.max(...f)) : '–'; };
    // (A loaded model without digits is swept on random inputs: those points lack the accuracy fields.)
    const sweepLine = (label, field, unit) => {
      const pts = (sweep?.points ?? []).filter((p) => Number.isFinite(p[field])).sort((x, y) => y.bits - x.bits);
      return pts.length ? `${label}: ${pts.map((p) => `${p.bits} bits ${unit(p[field])}`).join(', ')}` : null;
    };
    const pct = (v) => `${(v * 100).toFixed(1)} %`;
    return {
      'chart-values': a && `Histogram of ${a.count} values from ${range(a.dataMin, a.dataMax)}; ${a.grid.length} integer grid points; clip range ${range(a.clipLow, a.clipHigh)}; ${fmt.percent(a.clippedFraction)} clipped.`,
      'chart-mapping': a && `Staircase from x to its quantized value: steps of s = ${fmt.num(a.scale[a.channel ?? 0], 4)}, flat outside ${range(a.clipLow, a.clipHigh)}.`,
      'chart-errors': a && `Histogram of the error x − x̂: largest ${fmt.num(a.maxAbsError)}; MSE ${fmt.num(a.mse)} (rounding ${fmt.num(a.roundingMse)}, clipping ${fmt.num(a.clippingMse)}).`,
      'chart-channels': a && (a.scale.length > 1
        ? `Per-channel SQNR of ${a.scale.length} channels, ${minMax(a.channelSqnrDb)} dB; scales ${minMax(a.scale)}; channel ${a.channel} selected.`
        : 'Per-channel chart: empty while one scale covers the whole tensor.'),
      'lab-chart-weights': w && `Histogram of the weights of layer ${w.layer} at ${w.bits} bits: ${w.gridPoints} grid points, ${w.scales} scale${w.scales > 1 ? 's' : ''}, SQNR ${fmt.db(w.sqnrDb)}.`,
      'lab-chart-werrors': w && `Histogram of the weight error at ${w.bits} bits: within plus or minus half a grid step; SQNR ${fmt.db(w.sqnrDb)}.`,
      'lab-chart-channels': w && (w.perChannel ? `Per-channel SQNR and scale of the ${w.scales} output channels; channel ${w.channel} selected.` : 'Per-channel chart: empty, one scale per layer.'),
      'lab-chart-act': this.lab?.debug.report && `Histogram of ${text('lab-act-scope')}: ${text('lab-act-grid')}.`,
      'lab-chart-sweep-acc': sweepLine('Accuracy, weights + activations', 'waAccuracy', pct),
      'lab-chart-sweep-sqnr': sweepLine('Logit SQNR, weights + activations', 'waSqnrDb', fmt.db),
      // A loaded model without digits: its sweep on random inputs (js/lab/sweep.js).
      'lab-chart-sweep-agree': sweepLine('Agreement with FP32 on random inputs, weights + activations', 'waAgreement', pct),
      'lab-chart-sweep-size': sweepLine('Model size, packed', 'bytesPacked', (v) => `${(v / 1024).toFixed(1)} KiB`),
    };
  }

  labelCharts() {
    for (const [id, label] of Object.entries(this.chartLabels())) {
      const el = document.getElementById(id);
      if (el && label && el.getAttribute('aria-label') !== label) el.setAttribute('aria-label', label);
    }
  }
}

const msText = (ms) => (ms >= 1 ? `${ms.toFixed(2)} milliseconds` : `${(ms * 1000).toFixed(0)} microseconds`);
