// The postMessage API of an embedded quantlab (README: "Embedding in a course page").
//
// Only active when the page is inside a frame. It listens to the parent window only (and only to
// `origin` when the URL sets one, e.g. `#embed=affine&origin=https://course.example`), and posts
// to that origin, or to any when none is set (nothing private is ever sent: settings and results).
//
//   parent -> quantlab  {type: 'quantlab:get', id?}
//                       {type: 'quantlab:set', id?, state: {explorer?: {...}, lab?: {...}, ui?: {...}}}
//                       {type: 'quantlab:set', id?, hash: '#bits=4&lab.wbits=4'}
//                       {type: 'quantlab:run', id?, task: 'timing' | 'techniques' | 'budget' | 'qat', steps?}
//   quantlab -> parent  {type: 'quantlab:ready', version, view, state, hash, crossOriginIsolated, timer}
//                       {type: 'quantlab:state', id?, state, hash}     (reply to get and set)
//                       {type: 'quantlab:result', section, kind, state, result}
//                       {type: 'quantlab:size', height}
//                       {type: 'quantlab:error', id?, message}
//
// `height` is the content's height, not the document's: a document is never shorter than its
// iframe, so a course page that sized the iframe from it could grow it but never shrink it back.
// The Embed panel's snippet (share.js) carries the few lines that apply it to the iframe.
//
// Result kinds: explorer 'analysis'; lab 'report', 'eval', 'sweep' (each bit width as measured,
// then `complete: true`), 'timing', 'predict', 'techniques' (rows as measured, then `complete: true`), 'budget',
// 'qat-progress' (each slice of quantization-aware training: step, steps, seconds, loss, curve) and 'qat' (the end:
// `result: {steps, seconds, weightBits, actBits, before: {int8Accuracy}, after: {int8Accuracy, fp32Accuracy}}`, or
// `{cancelled: true, reason}`).
import { parseHash, toHash } from './url-state.js';
import { timerNote } from './page-mode.js';
import { TASKS } from './views.js';

const pick = (o, keys) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, ArrayBuffer.isView(o[k]) ? Array.from(o[k]) : o[k]]));

export class EmbedApi {
  /** `url`: the UrlSync; `explorer`, `lab`: the sections (lab may be null); `version`: the core's. */
  constructor({ url, mode, explorer, lab, version }) {
    Object.assign(this, { url, mode, explorer, lab, version });
    this.parent = window.parent;
    this.sent = new Map();
    this.debug = { received: 0, posted: 0, errors: 0 };
  }

  get target() {
    return this.mode.ui.origin || '*';
  }

  start() {
    window.addEventListener('message', (e) => this.onMessage(e));
    document.addEventListener('quantlab:state', (e) => { if (e.detail?.section === 'explorer') this.explorerResult(); });
    document.addEventListener('quantlab:result', () => this.labResults());
    let lastHeight = 0;
    new ResizeObserver(() => {
      const height = Math.ceil(document.body.getBoundingClientRect().height);
      if (height !== lastHeight) this.post({ type: 'quantlab:size', height: (lastHeight = height) });
    }).observe(document.body);
    this.post({
      type: 'quantlab:ready', version: this.version, view: this.mode.ui.embed || null, ...this.snapshot(),
      crossOriginIsolated: self.crossOriginIsolated === true, timer: timerNote(),
    });
    this.explorerResult();
  }

  post(msg) {
    this.parent.postMessage(msg, this.target);
    this.debug.posted++;
  }

  snapshot() {
    const s = this.url.current();
    return { state: JSON.parse(JSON.stringify(s)), hash: toHash(s) };
  }

  onMessage(e) {
    if (e.source !== this.parent) return;
    if (this.mode.ui.origin && e.origin !== this.mode.ui.origin) return;
    const m = e.data;
    if (!m || typeof m.type !== 'string' || !m.type.startsWith('quantlab:')) return;
    this.debug.received++;
    try {
      if (m.type === 'quantlab:get') this.post({ type: 'quantlab:state', id: m.id, ...this.snapshot() });
      else if (m.type === 'quantlab:set') this.set(m);
      else if (m.type === 'quantlab:run') this.run(m);
      else throw new Error(`${m.type}: unknown message type (expected quantlab:get, quantlab:set or quantlab:run)`);
    } catch (err) {
      this.debug.errors++;
      this.post({ type: 'quantlab:error', id: m.id, message: err.message });
    }
  }

  /** Applies a patch (or a whole hash) after checking every key: all or nothing. */
  set(m) {
    const now = this.url.current();
    let next;
    if (typeof m.hash === 'string') {
      next = parseHash(m.hash);
      next.ui = { ...next.ui, embed: next.ui.embed || now.ui.embed, origin: now.ui.origin };
    } else if (m.state && typeof m.state === 'object') {
      next = {};
      for (const part of Object.keys(m.state)) {
        if (!['explorer', 'lab', 'ui'].includes(part)) throw new Error(`state.${part}: unknown part (expected explorer, lab or ui)`);
      }
      for (const part of ['explorer', 'lab', 'ui']) {
        const patch = m.state[part] ?? {};
        for (const key of Object.keys(patch)) {
          if (!(key in now[part])) throw new Error(`state.${part}.${key}: unknown setting`);
        }
        next[part] = { ...now[part], ...patch };
      }
      if (next.ui.origin !== now.ui.origin) throw new Error('state.ui.origin: set by the URL only');
      // Round trip through the URL form: what it drops or changes was not a valid value.
      const checked = parseHash(toHash(next));
      for (const part of ['explorer', 'lab', 'ui']) {
        for (const [key, value] of Object.entries(m.state[part] ?? {})) {
          if (JSON.stringify(normal(checked[part][key])) !== JSON.stringify(normal(value))) {
            throw new Error(`state.${part}.${key}: ${JSON.stringify(value)} is not a valid value`);
          }
        }
      }
      next = checked;
    } else {
      throw new Error('quantlab:set: needs `state` (an object) or `hash` (a string)');
    }
    for (const name of ['ui', 'explorer', 'lab']) this.url.sources[name]?.set(next[name]);
    // The reply says what the controls now hold; the sections draw it in their next frame (which
    // a browser runs only while the frame is in view) and their results follow.
    const state = JSON.parse(JSON.stringify(next));
    this.post({ type: 'quantlab:state', id: m.id, state, hash: toHash(state) });
  }

  run(m) {
    if (!TASKS.includes(m.task)) {
      const names = TASKS.map((t) => `"${t}"`);
      throw new Error(`quantlab:run: unknown task ${JSON.stringify(m.task)} (expected ${names.slice(0, -1).join(', ')} or ${names.at(-1)})`);
    }
    if (!this.lab) throw new Error('quantlab:run: the CNN lab is not running');
    this.lab.run(m.task, { steps: m.steps });
    this.post({ type: 'quantlab:state', id: m.id, ...this.snapshot() });
  }

  explorerResult() {
    const d = this.explorer?.debug;
    if (!d?.analysis || this.sent.get('analysis') === d.analysis) return;
    this.sent.set('analysis', d.analysis);
    this.post({
      type: 'quantlab:result', section: 'explorer', kind: 'analysis', state: { ...d.state },
      result: pick(d.analysis, ['bits', 'qmin', 'qmax', 'scale', 'zeroPoint', 'clipLow', 'clipHigh', 'dataMin', 'dataMax',
        'count', 'sqnrDb', 'mse', 'roundingMse', 'clippingMse', 'maxAbsError', 'clippedFraction', 'bytesFloat', 'bytesInt8', 'bytesPacked']),
    });
  }

  /** Posts each lab view's newest result once (the lab drops results for outdated settings). */
  labResults() {
    const d = this.lab?.debug;
    if (!d) return;
    const kinds = {
      report: (r) => pick(r, ['bytesFp32', 'bytesInt8', 'compression', 'params', 'macs']),
      eval: (r) => pick(r, ['count', 'fp32Accuracy', 'int8Accuracy', 'agreement', 'flippedCount', 'logitSqnrDb']),
      sweep: (r) => ({ complete: Boolean(r.complete), points: r.points, formats: r.formats }),
      timing: (r) => ({ batch: r.batch, samples: r.samples, results: r.results }),
      predict: (r) => pick(r, ['fp32', 'int8', 'fp32P', 'int8P']),
      techniques: (r) => ({ complete: Boolean(r.complete), fp32Accuracy: r.fp32Accuracy, rows: r.rows }),
      budget: (r) => ({ complete: Boolean(r.complete), budgetKiB: r.budgetKiB, chosen: r.chosen ?? null, fits: r.fits ?? null, path: r.path, uniform: r.uniform }),
      'qat-progress': (r) => pick(r, ['step', 'steps', 'seconds', 'loss', 'trainAccuracy', 'curve']),
      qat: (r) => (r.cancelled ? { cancelled: true, reason: r.reason } : { ...r.result, curve: r.curve }),
    };
    const source = { 'qat-progress': 'qatProgress' };
    for (const [kind, slim] of Object.entries(kinds)) {
      const r = d[source[kind] ?? kind];
      if (!r || this.sent.get(kind) === r) continue;
      this.sent.set(kind, r);
      this.post({ type: 'quantlab:result', section: 'lab', kind, state: { ...d.state }, result: slim(r) });
    }
  }
}

/** Values as the URL form keeps them, for comparing a patch with its round trip. */
function normal(v) {
  if (Array.isArray(v)) return v.map(String);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [String(k), normal(x)]));
  return v;
}
