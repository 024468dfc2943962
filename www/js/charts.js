// Small uPlot wrappers. Each chart is created once; `update()` swaps its data with `setData()`
// inside `batch()`, so it is drawn synchronously (and the redraw time measured after it is real).
// Charts only draw what they are given: no quantization math here.
//
// Text and marks have one size on the page and a larger one in presenter mode (chartScale()).
// uPlot reads fonts and axis sizes once, when it is created, so each chart keeps the function
// that makes its options from the scale and is created again, with its data, when the scale
// changes (refreshCharts() after a change of mode, or a resize in presenter mode).
import uPlot from '../vendor/uPlot.esm.js';

/** Okabe-Ito colours (colour-blind safe) with fixed meanings across the app. */
export const COLORS = {
  fp32: '#0072B2', // blue: float values
  int8: '#D55E00', // vermillion: quantized values and their error
  clip: '#CC79A7', // reddish purple: clip bounds
  grid: '#7a7a7a', // gray: grid points
  good: '#009E73', // bluish green: per-channel SQNR
  ink: '#1f2328',
};

const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", sans-serif';

/**
 * How much larger than on the page chart text and marks are drawn: 1, or in presenter mode (html.present)
 * in step with the screen's height, so that 14 px axis text is 21 px on a 1080-line projector (readable
 * from the back of a hall, as large a part of the picture as on the page). Never smaller than on the
 * page, and not larger where the screen is narrow (a phone has no room for it). In tenths, so a small
 * resize does not re-create the charts.
 */
export function chartScale() {
  if (typeof document === 'undefined' || !document.documentElement.classList.contains('present')) return 1;
  const k = Math.min(window.innerHeight / 720, window.innerWidth / 1000);
  return Math.min(1.8, Math.max(1, Math.round(k * 10) / 10));
}

/**
 * Axis, grid and label colours follow the page's theme (modes.css: light or dark): read from the
 * body's text colour when the charts are (re)drawn, see refreshCharts().
 */
const THEME = { ink: COLORS.ink, grid: 'rgba(0,0,0,0.07)', ticks: 'rgba(0,0,0,0.25)' };
function readTheme() {
  const ink = getComputedStyle(document.body).color;
  const dark = /^rgb\((\d+)/.exec(ink)?.[1] > 128;
  Object.assign(THEME, dark
    ? { ink, grid: 'rgba(255,255,255,0.10)', ticks: 'rgba(255,255,255,0.35)' }
    : { ink, grid: 'rgba(0,0,0,0.07)', ticks: 'rgba(0,0,0,0.25)' });
}

/**
 * An axis at scale `k`: fonts, the label's and the tick labels' room (`size`) and the least room
 * between ticks (`space`; uPlot's defaults are 50 px along x, 30 px up y) grow with it. uPlot finds
 * "Npx" in a font by whole numbers only, so font sizes are rounded.
 */
function axis(k, label, { size, space, ...extra } = {}) {
  const px = (n) => Math.round(n * k);
  return {
    label,
    stroke: () => THEME.ink,
    font: `${px(14)}px ${FONT_FAMILY}`,
    labelFont: `600 ${px(14)}px ${FONT_FAMILY}`,
    labelSize: px(22),
    gap: px(5),
    ...(size !== undefined ? { size: px(size) } : {}),
    ...(space !== undefined ? { space: px(space) } : {}),
    grid: { stroke: () => THEME.grid, width: 1 },
    ticks: { stroke: () => THEME.ticks, width: 1, size: px(5) },
    ...extra,
  };
}

/** Counts with a unit suffix: 250000 -> "250k", 1200000 -> "1.2M". */
export function compactCounts(_u, splits) {
  return splits.map((v) => {
    if (v == null) return '';
    if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
    if (Math.abs(v) >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
    return String(v);
  });
}

/** Tick labels with few digits: 0.0031 -> "0.0031", 12000 -> "1.2e4". */
function tickValues(_u, splits) {
  return splits.map((v) => {
    if (v == null) return '';
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(1).replace('+', '');
    return String(+v.toPrecision(3));
  });
}

const dpr = () => window.devicePixelRatio || 1;

/** Draws a vertical line at real value `x` across the plot area (canvas pixels). */
function vline(u, x, { color, width = 1, dash = [], alpha = 1 }) {
  const px = Math.round(u.valToPos(x, 'x', true)) + 0.5;
  const { top, height, left, width: w } = u.bbox;
  if (px < left - 1 || px > left + w + 1) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.globalAlpha = alpha;
  ctx.strokeStyle = color;
  ctx.lineWidth = width * dpr();
  ctx.setLineDash(dash.map((d) => d * dpr()));
  ctx.beginPath();
  ctx.moveTo(px, top);
  ctx.lineTo(px, top + height);
  ctx.stroke();
  ctx.restore();
}

/** A small text tag at the top of the plot next to real value `x` (`k`: the chart's scale). */
function tag(u, x, text, color, side, k) {
  const ctx = u.ctx;
  const px = u.valToPos(x, 'x', true);
  ctx.save();
  ctx.font = `600 ${Math.round(12 * k * dpr())}px system-ui, sans-serif`;
  ctx.fillStyle = color;
  ctx.textBaseline = 'top';
  ctx.textAlign = side < 0 ? 'right' : 'left';
  ctx.fillText(text, px + side * 4 * dpr(), u.bbox.top + 3 * dpr());
  ctx.restore();
}

const CHARTS = new Set();

/**
 * Re-reads the theme and re-fits every chart (after a change of theme or of presenter mode);
 * a chart whose scale changed is created again.
 */
export function refreshCharts() {
  readTheme();
  for (const c of CHARTS) {
    // A chart whose element left the page (or that chartFor replaced) is let go.
    if (!c.el.isConnected || !c.u.root.isConnected) {
      c.resize.disconnect();
      CHARTS.delete(c);
      continue;
    }
    c.fit(true);
  }
}

/** What each chart is drawn at, for tests and bug reports: its element, scale, size and fonts. */
export function chartsInfo() {
  return [...CHARTS].filter((c) => c.el.isConnected).map((c) => ({
    id: c.el.id, scale: c.scale, width: c.u.width, height: c.u.height,
    // uPlot keeps each axis font as [font, device px, CSS px].
    axisFontPx: c.u.axes.map((a) => a.font[2]),
    labelFontPx: c.u.axes.map((a) => a.labelFont[2]),
  }));
}

if (typeof window !== 'undefined') {
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener?.('change', () => refreshCharts());
}

/**
 * Base class: creates the uPlot, keeps its size in step with the container. `options(k)` gives
 * the uPlot options at scale `k` (chartScale()); `height` is the chart's height on the page.
 */
class Chart {
  constructor(el, options, data, height) {
    if (!CHARTS.size) readTheme();
    this.el = el;
    this.height = height;
    this.options = options;
    this.create(data);
    this.resize = new ResizeObserver(() => this.fit(false));
    this.resize.observe(el);
    CHARTS.add(this);
  }

  create(data) {
    this.scale = chartScale();
    const width = Math.max(200, this.el.clientWidth);
    this.u = new uPlot({ ...this.options(this.scale), width, height: this.heightFor(width) }, data, this.el);
  }

  fit(redraw) {
    if (chartScale() !== this.scale) {
      // uPlot has no way to change its fonts: a new one, with the data of the old.
      const data = this.u.data;
      this.u.destroy();
      this.create(data);
      return;
    }
    const w = Math.max(200, this.el.clientWidth);
    const h = this.heightFor(w);
    if (w !== this.u.width || h !== this.u.height) this.u.setSize({ width: w, height: h });
    else if (redraw) this.u.redraw(false);
  }

  /**
   * Presenter mode (html.present) draws charts to fill the scene: modes.css gives each scene's
   * charts a height in `--chart-height` (a registered length, so it reads back in px); without one,
   * up to about half the screen.
   */
  heightFor(width) {
    if (document.documentElement.classList.contains('present')) {
      const css = parseFloat(getComputedStyle(this.el).getPropertyValue('--chart-height'));
      if (css > 0) return Math.round(css);
      return Math.max(this.height, Math.min(Math.round(window.innerHeight * 0.46), Math.round(width * 0.62), 560));
    }
    return width < 420 ? Math.round(this.height * 0.85) : this.height;
  }

  setData(data) {
    this.u.batch(() => this.u.setData(data));
  }
}

/**
 * Histogram of `{lo, hi, counts}` as bars, with optional markers: the grid points (thin gray,
 * thinned to every k-th when denser than `minGap` CSS pixels, always including real zero) and the
 * clip bounds (dashed, coloured).
 */
export class HistogramChart extends Chart {
  constructor(el, { color, xLabel, yLabel = 'count', height = 260, yValues = null }) {
    const self = { markers: null };
    const options = (k) => ({
      legend: { show: false },
      cursor: { show: false },
      padding: [14, 12, 0, 4],
      scales: {
        x: { time: false, range: () => [self.lo ?? 0, self.hi ?? 1] },
        y: { range: (_u, _min, max) => [0, self.yMax ?? Math.max(1, max) * 1.1] },
      },
      axes: [axis(k, xLabel, { values: tickValues, size: 34, space: 50 }), axis(k, yLabel, { size: 52, space: 30, ...(yValues ? { values: yValues } : {}) })],
      series: [
        {},
        {
          stroke: color,
          fill: color + '99',
          width: 1,
          paths: uPlot.paths.bars({ size: [1, Infinity], gap: 0, align: 0 }),
          points: { show: false },
        },
      ],
      hooks: { draw: [(u) => this.drawMarkers(u, k)] },
    });
    super(el, options, [[0], [0]], height);
    this.self = self;
    /** Stride used when drawing the grid (1 = every point), for captions. */
    this.gridStride = 1;
  }

  /**
   * `hist`: {lo, hi, counts}. `markers`: {grid: number[], zeroIndex, clipLow, clipHigh} or null.
   */
  update(hist, markers = null) {
    const n = hist.counts.length;
    const w = (hist.hi - hist.lo) / n;
    const xs = Array.from({ length: n }, (_, i) => hist.lo + (i + 0.5) * w);
    const counts = Array.from(hist.counts);
    // One bin far taller than the rest (the exact zeros after ReLU, say) would flatten every other
    // bar: cut the axis above the second-tallest bin and label the tall one with its count.
    let top = 0;
    for (let i = 1; i < n; i++) if (counts[i] > counts[top]) top = i;
    const second = Math.max(0, ...counts.filter((_, i) => i !== top));
    const cut = second > 0 && counts[top] > 4 * second;
    Object.assign(this.self, {
      lo: hist.lo, hi: hist.hi, markers,
      yMax: cut ? second * 1.45 : null,
      tall: cut ? { x: xs[top], count: counts[top] } : null,
    });
    this.setData([xs, counts]);
  }

  drawMarkers(u, k) {
    const tall = this.self.tall;
    if (tall) {
      const ctx = u.ctx;
      ctx.save();
      ctx.font = `600 ${Math.round(13 * k * dpr())}px system-ui, sans-serif`;
      ctx.fillStyle = THEME.ink;
      ctx.textBaseline = 'top';
      const px = u.valToPos(tall.x, 'x', true);
      const right = px > u.bbox.left + u.bbox.width * 0.7;
      ctx.textAlign = right ? 'right' : 'left';
      ctx.fillText(`↑ ${tall.count} (bar cut)`, px + (right ? -6 : 6) * dpr(), u.bbox.top + 20 * k * dpr());
      ctx.restore();
    }
    const m = this.self.markers;
    if (!m) return;
    const { grid, zeroIndex } = m;
    if (grid.length > 1) {
      const gapPx = Math.abs(u.valToPos(grid[1], 'x') - u.valToPos(grid[0], 'x'));
      const minGap = 5;
      const stride = gapPx >= minGap ? 1 : Math.ceil(minGap / Math.max(gapPx, 1e-9));
      this.gridStride = stride;
      const alpha = stride === 1 && gapPx >= 12 ? 0.7 : 0.45;
      for (let i = 0; i < grid.length; i++) {
        if ((i - zeroIndex) % stride !== 0) continue;
        vline(u, grid[i], { color: COLORS.grid, width: 1, alpha });
      }
    }
    vline(u, m.clipLow, { color: COLORS.clip, width: 2.5, dash: [6, 4] });
    vline(u, m.clipHigh, { color: COLORS.clip, width: 2.5, dash: [6, 4] });
    tag(u, m.clipLow, 'clipLow', COLORS.clip, 1, k);
    tag(u, m.clipHigh, 'clipHigh', COLORS.clip, -1, k);
  }
}

/** x -> x̂ staircase over the identity line, with the clip bounds. */
export class MappingChart extends Chart {
  constructor(el, { height = 260 } = {}) {
    const self = { clip: null };
    const options = (k) => ({
      legend: { show: false },
      cursor: { show: false },
      padding: [14, 12, 0, 4],
      scales: {
        x: { time: false, range: () => [self.lo ?? 0, self.hi ?? 1] },
        y: { range: () => [self.lo ?? 0, self.hi ?? 1] },
      },
      axes: [axis(k, 'x (float32)', { values: tickValues, size: 34, space: 50 }), axis(k, 'x̂ = s·(q − z)', { values: tickValues, size: 56, space: 30 })],
      series: [
        {},
        { stroke: COLORS.fp32, width: 1.5 * k, dash: [6, 5], points: { show: false } },
        { stroke: COLORS.int8, width: 2.5 * k, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
      ],
      hooks: {
        draw: [
          (u) => {
            if (!self.clip) return;
            vline(u, self.clip[0], { color: COLORS.clip, width: 2, dash: [6, 4] });
            vline(u, self.clip[1], { color: COLORS.clip, width: 2, dash: [6, 4] });
          },
        ],
      },
    });
    super(el, options, [[0], [0], [0]], height);
    this.self = self;
  }

  /** `xs` inputs, `xhat` their dequantized values, `[lo, hi]` the axis range, `clip` [low, high]. */
  update(xs, xhat, lo, hi, clip) {
    Object.assign(this.self, { lo, hi, clip });
    this.setData([Array.from(xs), Array.from(xs), Array.from(xhat)]);
  }
}

/** Per-channel SQNR (bars, left axis, dB) and scale (dots, right axis, log), one channel highlighted. */
export class ChannelChart extends Chart {
  constructor(el, { height = 240 } = {}) {
    const self = { selected: -1 };
    const options = (k) => ({
      legend: { show: false },
      cursor: { show: false },
      padding: [14, 8, 0, 4],
      scales: {
        x: { time: false, range: (_u, min, max) => [min - 0.6, max + 0.6] },
        db: { range: (_u, _min, max) => [0, Math.max(10, max) * 1.12] },
        s: { distr: 3, log: 10 },
      },
      axes: [
        axis(k, 'output channel', { size: 34, incrs: [1, 2, 4, 8, 16, 32], values: (_u, v) => v.map((x) => (Number.isInteger(x) ? String(x) : '')) }),
        axis(k, 'SQNR (dB)', { scale: 'db', size: 52, space: 30 }),
        axis(k, 'scale s', { scale: 's', side: 1, size: 70, space: 30, grid: { show: false }, values: tickValues, stroke: COLORS.int8 }),
      ],
      series: [
        {},
        {
          scale: 'db',
          stroke: COLORS.good,
          fill: COLORS.good + 'aa',
          width: 1,
          paths: uPlot.paths.bars({ size: [0.7, 60], align: 0 }),
          points: { show: false },
        },
        { scale: 's', stroke: COLORS.int8, width: 0, paths: () => null, points: { show: true, size: 9 * k, fill: COLORS.int8, stroke: COLORS.int8 } },
      ],
      hooks: {
        drawClear: [
          (u) => {
            if (self.selected < 0) return;
            const x0 = u.valToPos(self.selected - 0.5, 'x', true);
            const x1 = u.valToPos(self.selected + 0.5, 'x', true);
            u.ctx.save();
            u.ctx.fillStyle = 'rgba(86, 180, 233, 0.35)';
            u.ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
            u.ctx.restore();
          },
        ],
      },
    });
    super(el, options, [[0], [0], [1]], height);
    this.self = self;
  }

  /** `sqnrDb[c]` (Infinity drawn as a missing bar), `scales[c]`, `selected` channel. */
  update(sqnrDb, scales, selected) {
    this.self.selected = selected;
    const xs = scales.map((_, c) => c);
    this.setData([xs, sqnrDb.map((v) => (Number.isFinite(v) ? v : null)), Array.from(scales)]);
  }
}

/**
 * Lines over a few numeric x positions (bit widths), one per series, with dots; `null` is a gap
 * (a point not measured yet). `yRange(min, max)` gives the y axis range from the data; `xPad` the
 * margin beyond the first and last x, in x units.
 */
export class LineChart extends Chart {
  constructor(el, { xs, series, xLabel, yLabel, yRange, yValues = tickValues, xIncrs = [1, 2], xPad = 0.35, height = 220 }) {
    const options = (k) => ({
      legend: { show: false },
      cursor: { show: false },
      padding: [14, 12, 0, 4],
      scales: {
        x: { time: false, range: () => [xs[0] - xPad, xs[xs.length - 1] + xPad] },
        y: { range: (_u, min, max) => yRange(min ?? 0, max ?? 1) },
      },
      axes: [
        axis(k, xLabel, { size: 34, space: 22, incrs: xIncrs, values: (_u, v) => v.map((x) => (Number.isInteger(x) ? String(x) : '')) }),
        axis(k, yLabel, { size: 54, space: 30, values: yValues }),
      ],
      series: [
        {},
        ...series.map((s) => ({
          stroke: s.color,
          width: (s.width ?? 2.5) * k,
          dash: s.dash?.map((d) => d * k),
          spanGaps: false,
          points: { show: s.points ?? true, size: 8 * k, width: 2 * k, fill: s.fill ?? s.color, stroke: s.color },
        })),
      ],
    });
    super(el, options, [xs, ...series.map(() => xs.map(() => null))], height);
    this.xs = xs;
  }

  /** One array per series, aligned with `xs` (null where not measured). */
  update(columns) {
    this.setData([this.xs, ...columns]);
  }
}

/** About 2·√n histogram bins (12 to 72): enough detail without a comb of empty bins for a small channel. */
export const binsFor = (n) => Math.max(12, Math.min(72, Math.round(2 * Math.sqrt(n))));

const BY_ELEMENT = new WeakMap();

/**
 * The chart drawn in `el`: made by `make()` the first time, or again when `key` changes (a chart
 * with another number of series). Views render data into the page and keep no chart of their
 * own; the chart lives with its element.
 */
export function chartFor(el, make, key = '') {
  let c = BY_ELEMENT.get(el);
  if (c && c.key !== key) {
    c.chart.resize.disconnect();
    c.chart.u.destroy();
    CHARTS.delete(c.chart);
    c = null;
  }
  if (!c) {
    c = { key, chart: make() };
    BY_ELEMENT.set(el, c);
  }
  return c.chart;
}
