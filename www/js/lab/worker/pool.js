// The lab worker's helpers: one worker per spare core (js/sweep-helper.js), each with its own
// copy of the model, loaded and calibrated as the lab worker's (so its figures are the lab
// worker's bit for bit). They take the sweep's parts one at a time; the first ready one also
// computes the second half of the evaluation the user waits for. While anything holds the pool
// (that evaluation, a timing run) every helper stops between two steps of its part and gets no
// new one, so the lab worker has the machine.
//
// Size: `navigator.hardwareConcurrency - 1` helpers (the lab worker has a core), at most
// MAX_HELPERS; `?helpers=N` in the page's URL sets it (0: the lab worker alone), which is how the
// tests check that a pool of 1, 2 or 3 gives the same figures.

/** More helpers than this only add copies of the model (memory) for a sweep of 9 points. */
export const MAX_HELPERS = 3;

/** The pool size for this engine: `requested` (the URL's `helpers`) when given, else one per spare core. */
export function poolSize(requested, cores = navigator.hardwareConcurrency ?? 1) {
  const n = requested === null || requested === undefined || requested === '' ? cores - 1 : Number(requested);
  return Number.isInteger(n) ? Math.max(0, Math.min(MAX_HELPERS, n)) : Math.max(0, Math.min(MAX_HELPERS, cores - 1));
}

/**
 * @typedef {object} PoolEvents
 * @property {(part: object, result: object, key: string) => void} onPart  a helper measured a part of sweep `key`
 * @property {(part: object, key: string) => void} onLost  a helper failed or died with `part` (of sweep `key`) unfinished
 * @property {(m: {key: string, from: number, logits?: Float32Array, error?: string}) => void} onLogits  the evaluation's second half
 * @property {() => void} onReady  the first helper holds the current model
 */

export class HelperPool {
  /**
   * @param {URL} url  js/sweep-helper.js with the build the lab worker runs
   * @param {number} size
   * @param {PoolEvents} events
   */
  constructor(url, size, events) {
    this.url = url;
    this.size = size;
    this.events = events;
    /** @type {{worker: Worker, busy: object | null, ready: boolean, held: boolean, helping: boolean}[]} */
    this.helpers = [];
    this.gen = 0;
    this.holds = new Set();
    this.holdSeq = 0;
    /** Whether any helper said it holds the current model (the page's 'helper ready'). */
    this.announced = false;
  }

  /** Every helper loads `bytes` (null: the shipped model) with `ranges` and the user's `dataset`. */
  load(bytes, ranges, dataset) {
    while (this.helpers.length < this.size) {
      try {
        const h = { worker: new Worker(this.url, { type: 'module' }), busy: null, ready: false, held: false, helping: false };
        h.worker.onmessage = (e) => this.message(h, e.data);
        h.worker.onerror = () => this.drop(h);
        this.helpers.push(h);
      } catch {
        this.size = this.helpers.length; // this engine will not start more workers
      }
    }
    this.gen++;
    this.announced = false;
    // (A part still running is of the old model's sweep: dropped with it.)
    for (const h of this.helpers) {
      h.busy = null;
      h.ready = false; // loading and calibrating its copy: busy too, as far as timing goes
      h.helping = false;
      h.worker.postMessage({ type: 'model', gen: this.gen, bytes: bytes ?? null, ranges, dataset: dataset ?? null });
    }
  }

  /** Gives each idle helper one part from the back of `sweep.todo` (unless held or paused). */
  feed(sweep, paused) {
    if (this.holds.size || !sweep || paused) return;
    for (const h of this.helpers) {
      if (h.busy || !sweep.todo.length) continue;
      const part = sweep.todo.pop();
      h.busy = { part, key: sweep.key };
      h.worker.postMessage({ type: 'part', gen: this.gen, key: sweep.key, part });
    }
  }

  /**
   * Asks the first ready, free helper for the logits of test items [from, from + n) under `cfg`
   * (evaluation `key`). False when none can.
   */
  askLogits(key, cfg, from, n) {
    const h = this.helpers.find((x) => x.ready && !x.helping);
    if (!h) return false;
    h.helping = true;
    h.worker.postMessage({ type: 'logits', gen: this.gen, key, cfg, from, n });
    return true;
  }

  /** Holds every helper for `reason` (a token) until release(reason). */
  hold(reason) {
    if (!this.holds.size) {
      this.holdSeq++;
      for (const h of this.helpers) {
        h.held = false;
        h.worker.postMessage({ type: 'hold', on: true, seq: this.holdSeq });
      }
    }
    this.holds.add(reason);
  }

  /** Releases `reason`'s hold; with none left the helpers go on. Returns whether they did. */
  release(reason) {
    if (!this.holds.delete(reason) || this.holds.size) return false;
    for (const h of this.helpers) {
      h.held = false;
      h.worker.postMessage({ type: 'hold', on: false });
    }
    return true;
  }

  /** Every helper has stopped for the hold and holds the current model (a timing run may start). */
  settled() {
    return this.helpers.every((h) => h.held && h.ready);
  }

  message(h, m) {
    if (m.type === 'held') {
      // (A reply to an earlier hold, released since, does not count.)
      h.held = this.holds.size > 0 && m.seq === this.holdSeq;
      return;
    }
    if (m.type === 'logits') {
      h.helping = false;
      if (m.gen === this.gen) this.events.onLogits(m);
      return;
    }
    if (m.gen !== this.gen) return;
    if (m.type === 'ready') {
      h.ready = true;
      if (!this.announced) {
        this.announced = true;
        this.events.onReady();
      }
      return;
    }
    const busy = h.busy;
    h.busy = null;
    if (m.type === 'error') {
      this.drop(h, busy);
      return;
    }
    this.events.onPart(m.part, m.result, m.key);
  }

  /** Without helper `h` from now on; a part it held goes back to the lab worker. */
  drop(h, busy = h.busy) {
    h.worker.terminate();
    this.helpers = this.helpers.filter((x) => x !== h);
    this.size = this.helpers.length;
    if (busy) this.events.onLost(busy.part, busy.key);
  }
}
