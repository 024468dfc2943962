// The page's whole state in the URL hash, so a link restores the exact setup (as TensorFlow
// Playground does), and browser history steps through it.
//
//   #bits=4&granularity=channel&lab.wbits=4&lab.mix=0:4:-,7:-:6&lab.granularity=group&lab.group=32&lab.rounding=gptq&lab.eq=1&present&scene=sweep
//
// Explorer keys are bare (state.js, unchanged since the first links were shared); lab keys start
// with `lab.`; the rest (`present`, `scenes`, `scene`, `embed`, `controls`, `hide`, `theme`,
// `origin`, `at`) choose how the page is shown; `guide=N` is the guided path's step (guide.js). Only values that differ from the defaults are
// written. A bare word is a flag (`#present`); a bare section id (`#lab`) is a link to it.
//
// History: a discrete change (a select, a button, a slider released or stepped by a key) pushes
// an entry; the values in between while a slider is dragged replace it (throttled, as browsers
// limit history updates). Back/forward (popstate) writes the entry's state into the controls. In
// an embed nothing is pushed: an iframe's entries would land in the course page's own history.
import { DEFAULTS as EXPLORER_DEFAULTS, parseHash as parseExplorer, toHash as explorerToHash } from './state.js';
import { DEFAULTS as LAB_DEFAULTS } from './lab-state.js';
import { DEFAULT_SCENES, isView } from './views.js';

/** Lab settings field -> URL key (beside the lab's own settings: the timing batch and runs). */
const LAB_KEYS = Object.freeze({
  weightBits: 'lab.wbits', actBits: 'lab.abits', scheme: 'lab.scheme', granularity: 'lab.granularity',
  method: 'lab.method', percentile: 'lab.percentile', layer: 'lab.layer', channel: 'lab.channel',
  overrides: 'lab.mix', batch: 'lab.batch', runs: 'lab.runs',
  groupSize: 'lab.group', rounding: 'lab.rounding', equalize: 'lab.eq', biasCorrection: 'lab.bc', budget: 'lab.budget',
});

export const LAB_URL_DEFAULTS = Object.freeze({ ...LAB_DEFAULTS, batch: 64, runs: 25 });

export const UI_DEFAULTS = Object.freeze({
  embed: '', controls: 'shown', hide: Object.freeze([]), present: false, scenes: DEFAULT_SCENES, scene: '',
  theme: '', origin: '', at: '',
});

/** URL key -> id of the element it sets (for `hide=` and for the postMessage API's errors). */
export const CONTROL_IDS = Object.freeze({
  tensor: 'tensor', seed: 'seed', bits: 'bits', scheme: 'scheme', dtype: 'dtype', granularity: 'granularity',
  channel: 'channel', method: 'method', percentile: 'percentile',
  'lab.wbits': 'lab-wbits', 'lab.abits': 'lab-abits', 'lab.scheme': 'lab-scheme', 'lab.granularity': 'lab-granularity',
  'lab.method': 'lab-method', 'lab.percentile': 'lab-percentile', 'lab.layer': 'lab-layer', 'lab.channel': 'lab-channel',
  'lab.mix': 'lab-overrides', 'lab.batch': 'lab-batch', 'lab.runs': 'lab-samples',
  'lab.group': 'lab-group', 'lab.rounding': 'lab-rounding', 'lab.eq': 'lab-equalize', 'lab.bc': 'lab-biascorr',
  'lab.budget': 'lab-budget',
});

const SECTIONS = new Set(['explorer', 'lab']);
const ENUMS = {
  scheme: ['asymmetric', 'symmetric'], granularity: ['channel', 'tensor', 'group'],
  method: ['minmax', 'percentile', 'mse', 'entropy', 'dynamic'], batch: [1, 16, 64], runs: [7, 25],
  groupSize: [8, 16, 32, 64, 128], rounding: ['nearest', 'gptq'],
};
const int = (v, lo, hi) => (/^\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi ? Number(v) : undefined);

/** `0:4:-,7:-:6` -> {0: {w: 4, a: null}, 7: {w: null, a: 6}}: layer index, weight bits, activation bits. */
export function parseMix(text) {
  const out = {};
  for (const part of String(text).split(',')) {
    const [i, w, a] = part.split(':');
    const index = int(i, 0, 1e6);
    const bits = (b) => (b === undefined || b === '-' || b === '' ? null : int(b, 2, 8) ?? null);
    if (index === undefined) continue;
    const o = { w: bits(w), a: bits(a) };
    if (o.w != null || o.a != null) out[index] = o;
  }
  return out;
}

export function mixToText(overrides) {
  return Object.keys(overrides ?? {})
    .map(Number).sort((x, y) => x - y)
    .map((i) => [i, overrides[i].w ?? '-', overrides[i].a ?? '-'])
    .filter(([, w, a]) => w !== '-' || a !== '-')
    .map((p) => p.join(':')).join(',');
}

/** The lab's part of a hash: LAB_URL_DEFAULTS with what the hash sets (invalid values ignored). */
function parseLab(params) {
  const s = { ...LAB_URL_DEFAULTS, overrides: {} };
  for (const [field, key] of Object.entries(LAB_KEYS)) {
    if (!params.has(key)) continue;
    const v = params.get(key);
    let x;
    if (field === 'weightBits' || field === 'actBits') x = int(v, 2, 8);
    else if (field === 'layer' || field === 'channel') x = int(v, 0, 1e6);
    else if (field === 'budget') x = int(v, 1, 1e6);
    else if (field === 'percentile') x = Number.isFinite(Number(v)) && v !== '' ? Number(v) : undefined;
    else if (field === 'overrides') x = parseMix(v);
    else if (field === 'batch' || field === 'runs' || field === 'groupSize') x = ENUMS[field].includes(Number(v)) ? Number(v) : undefined;
    else if (field === 'equalize' || field === 'biasCorrection') x = v === '1' || v === 'true' ? true : v === '0' || v === 'false' ? false : undefined;
    else x = ENUMS[field].includes(v) ? v : undefined;
    if (x !== undefined) s[field] = x;
  }
  return s;
}

function parseUi(params, flags) {
  const ui = { ...UI_DEFAULTS };
  const list = (v) => String(v).split(',').map((x) => x.trim()).filter(Boolean);
  if (flags.has('present') || (params.has('present') && params.get('present') !== '0')) ui.present = true;
  if (params.has('scenes')) {
    const scenes = list(params.get('scenes')).filter(isView);
    if (scenes.length) ui.scenes = scenes;
  }
  const scene = params.get('scene');
  if (scene && ui.scenes.includes(scene)) ui.scene = scene;
  const embed = params.get('embed') ?? params.get('view');
  if (embed && isView(embed)) ui.embed = embed;
  else if (flags.has('embed')) ui.embed = 'explorer';
  if (['hidden', 'locked', 'shown'].includes(params.get('controls'))) ui.controls = params.get('controls');
  if (params.has('hide')) ui.hide = list(params.get('hide')).filter((k) => k in CONTROL_IDS);
  if (['light', 'dark'].includes(params.get('theme'))) ui.theme = params.get('theme');
  const origin = params.get('origin');
  if (origin) {
    try { ui.origin = new URL(origin).origin; } catch { /* not an origin: ignored */ }
  }
  const at = params.get('at') ?? [...flags].find((f) => SECTIONS.has(f));
  if (at && SECTIONS.has(at)) ui.at = at;
  return ui;
}

/** `{explorer, lab, ui}` from a hash; unknown keys and invalid values fall back to the defaults. */
export function parseHash(hash) {
  const raw = String(hash).replace(/^#/, '');
  const params = new URLSearchParams(raw);
  const flags = new Set(raw.split('&').filter((p) => p && !p.includes('=')).map(decodeURIComponent));
  return { explorer: parseExplorer(`#${raw}`), lab: parseLab(params), ui: parseUi(params, flags), guide: int(params.get('guide') ?? '', 1, 99) ?? 0 };
}

// Values are written readably: only the characters that would break the hash are escaped.
const enc = (v) => String(v).replace(/[%&=#+\s]/g, (c) => encodeURIComponent(c));

/** The hash for `{explorer, lab, ui}`, defaults left out; '' when everything is default. */
export function toHash({ explorer, lab, ui, guide = 0 }) {
  const parts = [];
  if (guide) parts.push(`guide=${guide}`);
  const u = { ...UI_DEFAULTS, ...ui };
  if (u.embed) parts.push(`embed=${enc(u.embed)}`);
  if (u.controls !== 'shown') parts.push(`controls=${u.controls}`);
  if (u.hide.length) parts.push(`hide=${u.hide.map(enc).join(',')}`);
  if (u.present) parts.push('present');
  if (u.scenes.join(',') !== DEFAULT_SCENES.join(',')) parts.push(`scenes=${u.scenes.map(enc).join(',')}`);
  if (u.present && u.scene && u.scene !== u.scenes[0]) parts.push(`scene=${enc(u.scene)}`);
  if (u.theme) parts.push(`theme=${u.theme}`);
  if (u.origin) parts.push(`origin=${enc(u.origin)}`);
  if (u.at) parts.push(`at=${u.at}`);
  if (explorer) {
    const x = explorerToHash({ ...EXPLORER_DEFAULTS, ...explorer }).replace(/^#/, '');
    if (x) parts.push(x);
  }
  if (lab) {
    const s = { ...LAB_URL_DEFAULTS, ...lab };
    for (const [field, key] of Object.entries(LAB_KEYS)) {
      if (field === 'overrides') {
        const t = mixToText(s.overrides);
        if (t) parts.push(`${key}=${t}`);
      } else if (s[field] !== LAB_URL_DEFAULTS[field] && !(Number.isNaN(s[field]))) {
        parts.push(`${key}=${enc(typeof s[field] === 'boolean' ? Number(s[field]) : s[field])}`);
      }
    }
  }
  return parts.length ? `#${parts.join('&')}` : '';
}

const REPLACE_MS = 250;

/**
 * Keeps the URL and the page in step. `sources`: {explorer, lab, ui}, each {get(), set(state)};
 * get() returns the section's current state (null until it has one), set() writes one into the
 * controls and redraws. Sections call `changed()` (through the 'quantlab:state' event) after
 * each frame.
 */
export class UrlSync {
  constructor({ embedded = false } = {}) {
    this.initial = parseHash(location.hash);
    this.sources = {};
    this.embedded = embedded;
    this.written = location.hash;
    this.userEdit = false; // a new gesture began and has not been written yet
    this.gesture = null; // the control whose gesture owns the newest history entry
    this.gestureEnded = true; // that gesture was released (change/click): the next input starts a new one
    this.pending = null;
    this.timer = 0;
    this.debug = { pushes: 0, replaces: 0, restores: 0 };
  }

  attach(name, source) {
    this.sources[name] = source;
  }

  start() {
    const controls = (e) => e.target instanceof Element && e.target.closest('main, .pm-bar, .guide, .guide-start') && !e.target.closest('.share-panel');
    // A gesture is identified by its control, not by timing: a slow frame cannot split a drag
    // into two entries, nor merge two controls' changes into one.
    const begin = (target) => {
      if (target !== this.gesture || this.gestureEnded) {
        this.userEdit = true;
        this.gesture = target;
        this.gestureEnded = false;
      }
    };
    document.addEventListener('input', (e) => { if (controls(e)) begin(e.target); }, true);
    const endGesture = (target) => {
      begin(target); // a change or click with no input before it is a gesture of its own
      this.gestureEnded = true;
      // After the frame this event schedules has written its state (rAF callbacks run in order).
      requestAnimationFrame(() => this.flush());
    };
    document.addEventListener('change', (e) => { if (controls(e)) endGesture(e.target); }, true);
    document.addEventListener('click', (e) => {
      const button = e.target instanceof Element && e.target.closest('button');
      if (button && controls(e)) endGesture(button);
    }, true);
    document.addEventListener('quantlab:state', () => this.changed());
    window.addEventListener('popstate', () => this.restore());
    window.addEventListener('hashchange', () => this.restore());
  }

  /** The state now: each section's own, or what the URL gave it before its first frame. */
  current() {
    const get = (name) => this.sources[name]?.get() ?? this.initial[name];
    return { explorer: get('explorer'), lab: get('lab'), ui: get('ui'), guide: get('guide') };
  }

  hash() {
    return toHash(this.current());
  }

  /** A full link to the current state, optionally with changes to the ui part (e.g. embed). */
  link(uiPatch = {}) {
    this.flush();
    const s = this.current();
    // An embed or a presentation is one view: the guided path's step stays out of its link.
    const guide = uiPatch.embed || uiPatch.present ? 0 : s.guide;
    return `${location.origin}${location.pathname}${location.search}${toHash({ ...s, guide, ui: { ...s.ui, ...uiPatch } })}`;
  }

  /** Called after any section redrew: writes the URL if the state changed. */
  changed() {
    const hash = this.hash();
    if (hash === this.written && !this.pending) return;
    if (this.userEdit && !this.embedded) {
      // The previous gesture's last state goes into its own entry first (a quick second gesture
      // must not leave the first entry with a state from before its frame).
      if (this.pending !== null && this.pending !== this.written) this.write(this.pending, 'replace');
      this.pending = null;
      clearTimeout(this.timer);
      this.timer = 0;
      if (hash !== this.written) this.write(hash, 'push');
    } else {
      this.pending = hash;
      if (!this.timer) this.timer = setTimeout(() => this.flush(), REPLACE_MS);
    }
    this.userEdit = false;
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.pending === null) return;
    const hash = this.pending;
    this.pending = null;
    if (hash !== this.written) this.write(hash, 'replace');
  }

  write(hash, how) {
    const url = hash || location.pathname + location.search;
    if (how === 'push') {
      history.pushState(null, '', url);
      this.debug.pushes++;
    } else {
      history.replaceState(null, '', url);
      this.debug.replaces++;
    }
    this.written = hash;
    // The last few writes, for tests and bug reports.
    this.debug.log = [...(this.debug.log ?? []).slice(-7), `${how} ${hash}`];
  }

  /** Back/forward or an edited hash: put that state into the page. */
  restore() {
    if (location.hash === this.written) return;
    const raw = location.hash.replace(/^#/, '');
    // "#lab" is a link to the section (the browser scrolls to it), not a state.
    if (SECTIONS.has(raw)) return;
    clearTimeout(this.timer);
    this.timer = 0;
    this.pending = null;
    this.written = location.hash;
    this.userEdit = false;
    this.gesture = null;
    this.gestureEnded = true;
    const state = parseHash(location.hash);
    this.debug.restores++;
    for (const name of ['ui', 'explorer', 'lab', 'guide']) this.sources[name]?.set(state[name]);
  }
}

/** What sections call after each frame (explorer.js and lab/controller.js), so the URL follows. */
export function notifyState(section) {
  document.dispatchEvent(new CustomEvent('quantlab:state', { detail: { section } }));
}
