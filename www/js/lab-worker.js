// The CNN lab's worker: owns the wasm Model, the digit sets and the current QuantizedModel, and
// runs everything heavy so the page never freezes.
//
// Protocol (messages are plain objects with a `type`):
//   page -> worker  init {hold} | settings {gen, settings} | draw {id, ink, width, height} | clear
//                   | timing {runId, batch, samples} | load {id, name, bytes} | baseline {id}
//                   | digit {index} | visible {visible}  (out of view: the scheduler pauses) | techniques | budget
//                   | qat {action: 'start', steps} | qat {action: 'cancel' | 'save'} | qat {action: 'keep' | 'reset', id}
//                   | dataset {id, name, bytes}  (the user's test images; bytes null: back to the digits)
//   worker -> page  ready | report {gen, report, methods} | progress {task, key}
//                   | eval {key, provisional} | sens {key} | sweep {key, points, complete, mode}
//                   | timing {key} | predict {id, gen} | digit {index, label, pixels} | error
//                   | model {id, summary, digits, dataset} | model-error {id, name, message, dataset}
//                   | helper {ready}  (the sweep's helper worker holds the current model)
//                   | budget {key, path, uniform, chosen, fits, complete}
//                   | techniques {key, rows, fp32Accuracy, complete}
//                   | qat-progress {key, step, steps, seconds, loss, trainAccuracy, curve}
//                   | qat {key, result, curve, grids, complete} | qat {key, cancelled, reason}
//                   | qat-file {bytes, name}
//
// Reports and evaluations go to the page as the core returns them: the page draws them and
// computes nothing again.
//
// Long work runs as generator "tasks" (eval, timing, sens, sweep). A scheduler runs one step of
// the highest-priority task per macrotask (setTimeout 0), so messages get through between steps.
// A new setting is answered in two steps: at once a provisional accuracy on the first
// PROVISIONAL_DIGITS test digits (about a tenth of the work, so a moving slider is followed within
// a frame budget), then the eval task's figure on all of them.
// A task carries a key made of the settings it depends on (lab-state.js): a new setting replaces
// only the tasks whose key changed (the old generator is closed, freeing its wasm objects), so
// moving the bits does not restart the sweep, which does not depend on them. The background tasks
// (sens, sweep) also pause for QUIET_MS after each settings message, so the next evaluation
// starts at once while someone is moving the controls.
import { loadCore, preferredBuild } from './wasm-build.js';
import { SWEEP_BITS, PROVISIONAL_DIGITS, quantConfig, evalKey, sensKey, sweepKey, techniquesKey, budgetKey, qatKey, TECHNIQUES, TECHNIQUE_BITS, FORMATS, BUDGET_BITS, BUDGET_SEARCH_DIGITS, QAT_CURVE_EVERY, QAT_CURVE_DIGITS, quantizedLayers } from './lab-state.js';
import { parts, runPart, partKey, measurement, coreSteps, wResultOf, waResult, SWEEP_FORMATS, EVAL_CHUNK, evaluateInSteps, randomSet, randomInputs, TIMING_SEED } from './sweep-point.js';
import { baselineBytes, fetchBytes, calibrate, dataInfo } from './lab-model.js';
import { HelperPool, poolSize } from './lab/worker/pool.js';

/** The wasm module's exports, once loaded (js/wasm-build.js picks the build), and which build. */
let q;
let build = 'simd128';
/** The instruction-throughput micro-benchmark, run with the first timing. */
let peaks = null;
/** The running sweep's state, shared with the helper worker (see sweepJob). */
let sweep = null;
/** Kept sweep-part results (partKey -> result) of the current model and test set, at most PART_CACHE_SIZE. */
const partCache = new Map();
const PART_CACHE_SIZE = 400;
/** The helpers on the spare cores (js/lab/worker/pool.js), or null on one core. */
let pool = null;
/** How long a timing run waits for the helpers to stop (a step of a part, or their set-up). */
const HELPER_WAIT_MS = 3000;
const THUMBS = 40;
/** What the sweep measures: every bit width, then the float formats. */
const SWEEP_POINTS = Object.freeze([...SWEEP_BITS, ...SWEEP_FORMATS]);
// The sweep before the sensitivity: after a change of the weight settings both start again, and
// the sweep (every bit width) is the figure the lab's charts lead with; the sensitivity follows
// the bits, which leave the sweep as it is.
const PRIORITY = { eval: 3, timing: 2, qat: 1.6, techniques: 1.5, budget: 1.5, sweep: 1, sens: 0 };
/**
 * Background tasks (sensitivity, sweep) wait this long after a settings message, so while
 * someone moves the controls (a settings message a frame) their steps do not take turns with
 * the next setting's evaluation. A step is one chunk of digits (tens of milliseconds), so a
 * message that comes during one waits no longer than that; the wait only has to outlast the gap
 * between two messages of a moving control, and the sweep starts this much after its request.
 */
const QUIET_MS = 250;

let model = null;
/** The set the lab measures on: the test digits, or the user's test file when one fits. */
let test = null;
let digitsTest = null; // the shipped test digits (the drawing pad's examples)
let digitLabels = null;
/** The user's test file `{ set, name, bytes }` (bytes kept for the sweep's helper), or null. */
let own = null;
let calib = null; // kept: a model loaded later is calibrated on it too
let shippedBytes = null; // the shipped model's file, for "Back to the shipped model"
let started = null; // start()'s promise
let labels = null;
let summary = null;
/** The current model's quantized layers (lab-state.js quantizedLayers). */
let layers = [];
/** What the sweep measures on: the test digits, or random inputs for another model (sweep-point.js). */
let sweepSet = null;
let timer = null;
let settings = null;
let pending = null; // latest {gen, settings} not yet applied
let current = null; // {qm, gen}
let drawing = null; // {id, x}: the last drawing, preprocessed
let timingRequest = null;
/** The technique comparison was asked for (a button, a scene, the embed API): it follows the settings. */
let techniquesWanted = false;
/** The key of the last finished comparison: the same settings do not measure it again. */
let techniquesDone = null;
/** The same for the budgeted mixed-precision search. */
let budgetWanted = false;
let budgetDone = null;
/**
 * Finished sensitivities by key (their messages, at most SENS_KEPT), and the key of the last
 * finished sweep: a setting that leaves a key as it was (the activation method, for the
 * sensitivity; the bits, for the sweep) or goes back to one measured before starts nothing again.
 */
const sensDone = new Map();
const SENS_KEPT = 64;
let sweepDone = null;
/** Quantization-aware training: the steps asked for (until it starts), the finished run, and what Reset returns to. */
let qatWanted = null;
let qatResult = null; // {key, model, ranges, s, steps}: the tuned model handle, kept until another run or a model change
let preQat = null; // {bytes, name}: the model a kept QAT model replaced (bytes null: the shipped one)
// The current model's file (bytes null: the shipped one), its fixed ranges and whether it is a kept QAT model.
let currentFile = { bytes: null, name: null, ranges: null, qat: false };
let trainDigits = null; // the training digits, fetched and gunzipped on the first QAT run
/** Steps per scheduler slice of a QAT run: about 0.1 s, so messages (cancel, settings) get through. */
const QAT_SLICE = 2;
const tasks = new Map();
let timerId = null;
let timerDue = 0;
let lastSettingsAt = -Infinity;
/** The lab is out of view (js/visibility.js via lab.setVisible): the scheduler runs nothing. */
let paused = false;
/**
 * start() waits for the lab to be shown only in an embed that does not show the lab (`hold`);
 * otherwise it loads and calibrates at once, so the lab is ready when it is scrolled to.
 */
let hold = false;
let resume = [];

const post = (msg, transfer = []) => self.postMessage(msg, transfer);
const now = () => performance.now();

self.onmessage = (e) => {
  const m = e.data;
  try {
    HANDLERS[m.type](m);
  } catch (err) {
    post({ type: 'error', task: m.type, message: err?.message ?? String(err) });
  }
};

const HANDLERS = {
  init: (m) => {
    hold = Boolean(m.hold);
    started = start();
    started.catch((err) => post({ type: 'fatal', message: err?.message ?? String(err) }));
  },
  load: (m) => whenStarted(m),
  baseline: (m) => whenStarted(m),
  settings: (m) => {
    pending = m;
    lastSettingsAt = now();
    kick();
  },
  draw: (m) => {
    if (!model || !modelInfo.takesDigits) return;
    drawing = { id: m.id, x: model.inputFromDrawing(m.ink, m.width, m.height), source: null };
    predict();
  },
  clear: () => {
    drawing = null;
  },
  // A test digit for the drawing pad (the keyboard's way to give it an input).
  // The model classifies the digit itself (as the accuracy view did), not a redrawing of it.
  digit: (m) => {
    if (!digitsTest || !modelInfo.takesDigits) return;
    const index = Math.max(0, Math.min(digitsTest.length - 1, Math.trunc(m.index)));
    const pixels = digitsTest.pixels(index);
    post({ type: 'digit', id: m.id, index, label: digitLabels[index], pixels }, [pixels.buffer]);
    drawing = { id: m.id, x: digitsTest.images(model, index, 1), source: { index, label: digitLabels[index] } };
    predict();
  },
  visible: (m) => {
    paused = !m.visible;
    if (paused) return;
    hold = false;
    for (const r of resume.splice(0)) r();
    if (sweep?.points.size) postSweep(sweep); // what the helper finished while out of view
    feedHelper();
    kick();
  },
  timing: (m) => {
    timingRequest = m;
    if (settings) startTiming();
  },
  // The technique comparison: every configuration of TECHNIQUES at each TECHNIQUE_BITS, and the
  // float formats, on all the test digits. Asked for before the first settings, it starts with them.
  techniques: () => {
    techniquesWanted = true;
    techniquesDone = null; // asked again: measure again
    if (settings) startTechniques();
  },
  budget: () => {
    budgetWanted = true;
    budgetDone = null;
    if (settings) startBudget();
  },
  qat: (m) => QAT_ACTIONS[m.action](m),
  dataset: (m) => {
    started.then(() => useDataset(m), (err) => {
      post({ type: 'model-error', id: m.id, name: m.name ?? null, dataset: true, message: `the lab's worker did not start (${err?.message ?? err})` });
    });
  },
};

const here = (rel) => new URL(rel, import.meta.url);

async function start() {
  if (hold) await new Promise((r) => resume.push(r)); // an embed without the lab: load nothing yet
  const t0 = now();
  const [core, modelBytes, calibBytes, testBytes] = await Promise.all([
    loadCore(preferredBuild(self.location.href)),
    baselineBytes(),
    fetchBytes(here('../data/digits-calib.bin')),
    fetchBytes(here('../data/digits-test.bin')),
  ]);
  q = core.api;
  build = core.build;
  const tLoad = now();
  shippedBytes = modelBytes;
  model = q.Model.fromSafetensors(modelBytes);
  calib = q.Digits.fromBytes(calibBytes);
  test = digitsTest = q.Digits.fromBytes(testBytes);
  labels = digitLabels = test.labels();
  model.calibrate(calib);
  const tCalib = now();
  // The FP32 logits of the test digits are computed by the evaluations that need them, a prefix
  // at a time (Model.evaluate), so the first (provisional) accuracy waits for 250 digits only.
  summary = model.summary();
  layers = quantizedLayers(summary);
  sweepSet = { kind: 'digits', test };
  partCache.clear();
  timer = measureTimer();
  post({
    type: 'ready',
    summary,
    testCount: test.length,
    calibCount: calib.length,
    timer,
    kernels: q.kernelInfo(),
    ms: { load: tLoad - t0, calibrate: tCalib - tLoad },
  });
  // The sweep's helper loads its own copy now, on the other core, while this one evaluates.
  startHelper(shippedBytes);
  kick();
}

/** Smallest step of performance.now() seen, and whether the worker is cross-origin isolated. */
function measureTimer() {
  let min = Infinity;
  let last = now();
  let steps = 0;
  const until = last + 30;
  for (let t = now(); steps < 40 && t < until; t = now()) {
    if (t > last) {
      min = Math.min(min, t - last);
      last = t;
      steps++;
    }
  }
  return { isolated: self.crossOriginIsolated === true, resolutionMs: min };
}

// ---- scheduler ---------------------------------------------------------------------------------

/** Runs `step` after `delay` ms, or sooner if a sooner run is already due. */
function kick(delay = 0) {
  if (!model || paused) return;
  const due = now() + delay;
  if (timerId !== null && timerDue <= due) return;
  if (timerId !== null && timerId !== NOW) clearTimeout(timerId);
  timerDue = due;
  if (delay <= 0) {
    // The next step as the next task: a MessageChannel message, not setTimeout(0), which
    // browsers clamp to 4 ms once nested (a 4 ms gap after every 40 ms step of a long job).
    timerId = NOW;
    nextStep.port2.postMessage(null);
    return;
  }
  timerId = setTimeout(() => {
    timerId = null;
    step();
  }, delay);
}
const NOW = -1;
const nextStep = new MessageChannel();
nextStep.port1.onmessage = () => {
  if (timerId !== NOW) return; // a later, delayed run replaced it
  timerId = null;
  step();
};

function setTask(name, key, make, extra = {}) {
  const old = tasks.get(name);
  if (old && old.key === key) return;
  old?.iter.return();
  // (Queued before `make` runs: a sweep whose parts are all kept posts itself complete there.)
  post({ type: 'progress', task: name, key, done: 0, total: 1, label: 'queued' });
  tasks.set(name, { name, key, prio: PRIORITY[name], iter: make(), ...extra });
  kick();
}

function step() {
  if (paused) return; // resumed by the 'visible' message
  if (pending) {
    try {
      applySettings();
    } catch (err) {
      post({ type: 'error', task: 'settings', message: err?.message ?? String(err) });
    }
  }
  let best = null;
  for (const t of tasks.values()) if (!best || t.prio > best.prio) best = t;
  const quiet = QUIET_MS - (now() - lastSettingsAt);
  if (best && best.prio <= PRIORITY.sweep && quiet > 0) {
    kick(quiet);
    return;
  }
  if (best) {
    try {
      const r = best.iter.next();
      if (r.done) tasks.delete(best.name);
      else {
        const { waitMs, ...progress } = r.value;
        post({ type: 'progress', task: best.name, key: best.key, ...progress });
        // A task waiting for something outside this worker (timing, for the helper to go idle)
        // asks to be stepped again later; nothing else runs meanwhile.
        if (waitMs) {
          kick(waitMs);
          return;
        }
      }
    } catch (err) {
      tasks.delete(best.name);
      post({ type: 'error', task: best.name, key: best.key, message: err?.message ?? String(err) });
    }
  }
  if (tasks.size || pending) kick();
}

// ---- settings: quantize, report, and (re)start the tasks that depend on what changed ----------

function applySettings() {
  const m = pending;
  pending = null;
  const t0 = now();
  const cfg = quantConfig(m.settings);
  const key = evalKey(m.settings);
  // Settings with the same evaluation key (another percentile while the method is min-max) give
  // the same quantized model: keep it, with the logits it has evaluated.
  const fresh = !current || key !== evalKey(settings);
  const qm = fresh ? model.quantize(cfg) : current.qm; // throws (config.*) on a bad setting: nothing below changes
  // The user waits for this evaluation: the helper stops its sweep part from now until it is
  // done (evalJob), and computes the second half of it.
  if (fresh && modelInfo.digits) {
    holdForEval();
    askEvalHelp(key, cfg);
  }
  const tq = now();
  if (fresh) current?.qm.free();
  current = { qm, gen: m.gen };
  settings = m.settings;
  // First the figure someone moving a slider waits for: accuracy on a prefix of the digits.
  if (fresh && modelInfo.digits) post(evalMessage(key, model.evaluate(qm, test, 'int8', PROVISIONAL_DIGITS), now() - tq, true));
  const tp = now();
  const report = model.report(qm, 64, 0);
  const methods = compareMethods(m.settings);
  // Equalization's per-channel weight ranges before and after (the core's; empty when it is off).
  const equalization = qm.equalization;
  post({ type: 'report', gen: m.gen, report, methods, equalization, ms: { quantize: tq - t0, provisional: tp - tq, total: now() - t0 } });
  predict();
  const s = settings;
  if (!modelInfo.digits) {
    noDigitsTasks(s);
  } else {
    setTask('eval', key, () => evalJob(key, qm, cfg));
    const sens = sensDone.get(sensKey(s));
    if (sens) {
      tasks.get('sens')?.iter.return();
      tasks.delete('sens');
      post(sens);
    } else {
      setTask('sens', sensKey(s), () => sensJob(s, sensKey(s)));
    }
  }
  // (A sweep of other settings still running is replaced even when these were measured last:
  // the new job posts them from the part cache at once.)
  if (sweepKey(s) !== sweepDone || tasks.has('sweep')) setTask('sweep', sweepKey(s), () => sweepJob(s, sweepKey(s)));
  if (timingRequest) startTiming();
  if (techniquesWanted) startTechniques();
  if (budgetWanted) startBudget();
  const run = tasks.get('qat');
  if (run && run.key !== qatKey(s, run.steps)) cancelQat('the settings changed');
  if (qatWanted && trainDigits) startQat();
}

function startBudget() {
  const key = budgetKey(settings);
  if (key === budgetDone) return;
  if (!modelInfo.digits) {
    post({ type: 'budget', key, unavailable: modelInfo.reason, path: [], uniform: [], complete: true });
    return;
  }
  setTask('budget', key, () => budgetJob(settings, key));
}

function startTechniques() {
  const key = techniquesKey(settings);
  if (key === techniquesDone) return;
  if (!modelInfo.digits) {
    post({ type: 'techniques', key, unavailable: modelInfo.reason, rows: [], complete: true });
    return;
  }
  setTask('techniques', key, () => techniquesJob(settings, key));
}

/** An `eval` message: the core's evaluation with the first THUMBS flipped digits' pictures. */
function evalMessage(key, e, ms, provisional) {
  const flipped = Array.from(e.flipped.slice(0, THUMBS), (i) => ({
    index: i,
    label: labels[i],
    fp32: e.fp32Pred[i],
    int8: e.int8Pred[i],
    pixels: test.pixels(i), // C·H·W, 8-bit
  }));
  return {
    type: 'eval',
    key,
    ms,
    provisional,
    result: {
      count: e.count,
      fp32Accuracy: e.fp32Accuracy,
      int8Accuracy: e.int8Accuracy,
      agreement: e.agreement,
      logitSqnrDb: e.logitSqnrDb,
      flippedCount: e.flipped.length,
      confusions: e.confusions,
      flipped,
      // How to draw the pictures and name the classes: the digits', or the user's file's.
      imageShape: Array.from(test.shape),
      own: Boolean(own),
      classes: own ? (own.set.classes ?? null) : null,
    },
  };
}

/** Every calibration method at the current bits: clip range and the MSE split, per tensor (the core's). */
const compareMethods = (s) => q.compareMethods(model, quantConfig(s), s.percentile);

// ---- drawing ----------------------------------------------------------------------------------

function predict() {
  if (!drawing || !current) return;
  const t0 = now();
  const fp32 = q.softmax(model.forward(drawing.x, 1), 10);
  const int8 = q.softmax(current.qm.forward(drawing.x, 1), 10);
  const input = drawing.x.slice();
  post({ type: 'predict', id: drawing.id, gen: current.gen, fp32, int8, input, source: drawing.source, ms: now() - t0 }, [input.buffer]);
}

// ---- long jobs (generators: each `yield` is a point where new messages get through) ------------

/**
 * The full evaluation of `qm` (the current quantized model, quantize config `cfg`), continuing
 * from the provisional prefix (the core keeps the logits computed so far). A setting with another
 * evaluation key frees `qm` and replaces this task before its next step. The user waits for this
 * figure, so the sweep's helper is held meanwhile: the two would share the machine (measured here:
 * each about 1.5x slower while the other runs). At uniform bits the figure is also the sweep's
 * weights + activations part at those bits.
 */
function* evalJob(key, qm, cfg) {
  const token = evalHold;
  let help = evalHelp?.key === key ? evalHelp : null;
  let ms = 0;
  try {
    // The first PROVISIONAL_DIGITS were evaluated for the provisional figure; the core kept their logits.
    let n = Math.min(PROVISIONAL_DIGITS, test.length);
    let waitUntil = null;
    for (;;) {
      const t0 = now();
      if (help && n >= help.from) {
        // The helper's half: wait for it at most as long as this half took (about the same
        // work); after that this worker goes on alone.
        waitUntil ??= t0 + ms;
        if (!help.logits && !help.error && t0 < waitUntil) {
          yield { done: n, total: test.length, label: `${n.toLocaleString('en-US')} of ${test.length.toLocaleString('en-US')}; the other half on the second core`, waitMs: 2 };
          ms += now() - t0;
          continue;
        }
        // (Refused if this model has evaluated past `from` meanwhile: then its own figures stand.)
        if (help.logits) n = tryAdd(qm, help) ?? n;
        help = evalHelp = null;
      }
      n = Math.min(test.length, help ? help.from : test.length, n + EVAL_CHUNK);
      const e = model.evaluate(qm, test, 'int8', n);
      ms += now() - t0;
      if (n >= test.length) {
        post(evalMessage(key, e, ms, false));
        if (!cfg.layerBits.length && cfg.weightBits === cfg.actBits) {
          offerPart({ id: cfg.weightBits, kind: 'wa', key: partKey('wa', cfg) }, waResult(measurement(e)));
        }
        return;
      }
      yield { done: n, total: test.length, label: `${n.toLocaleString('en-US')} of ${test.length.toLocaleString('en-US')} ${own ? 'images' : 'digits'}` };
    }
  } finally {
    releaseHelper(token);
  }
}

function tryAdd(qm, help) {
  try {
    return qm.addEvalLogits(test, 'int8', help.from, help.logits);
  } catch {
    return null;
  }
}

/**
 * The second half of the evaluation the user waits for, asked of the helper (which holds an
 * identical model: its integer logits are these ones) when it is free for it: `{ key, from,
 * logits, error }`, or null. (make bench-lab, back to back: 130 ms of evaluation and 219 ms to the
 * figure on screen, against 218 and 291 with this worker alone and the helper held.)
 */
let evalHelp = null;

/** Asks the helper for the logits of the second half of the test digits under `cfg` (evaluation `key`). */
function askEvalHelp(key, cfg) {
  evalHelp = null;
  if (!pool || test.length < 2 * EVAL_CHUNK) return;
  const from = Math.ceil(test.length / 2 / EVAL_CHUNK) * EVAL_CHUNK;
  if (pool.askLogits(key, cfg, from, test.length - from)) evalHelp = { key, from, logits: null, error: null };
}

/** The hold of the evaluation the user waits for (a token; see holdHelper), or null. */
let evalHold = null;

/** Holds the helper for a new evaluation; the one it replaces no longer needs it held. */
function holdForEval() {
  const before = evalHold;
  evalHold = {};
  holdHelper(evalHold);
  releaseHelper(before);
}

/** One of the core's jobs as a task (sweep-point.js coreSteps) on the lab's model and test set. */
const coreJob = (job, onUpdate) => coreSteps(job, model, test, onUpdate);

/** The technique comparison: the core measures each configuration (evaluation, size, how it runs). */
function* techniquesJob(s, key) {
  // Every row starts from plain round-to-nearest at uniform weight bits (the activations as set),
  // then sets its own technique.
  const plain = { layerBits: [], rounding: 'nearest', equalize: false, biasCorrection: false };
  const cases = [
    ...TECHNIQUE_BITS.flatMap((bits) => TECHNIQUES.map((t) => ({ ...t, bits, patch: { ...plain, weightBits: bits, ...t.patch } }))),
    ...FORMATS.map((f) => ({ ...f, bits: null, patch: { ...plain, ...f.patch } })),
  ];
  const asks = cases.map((c) => ({ config: quantConfig(s, c.patch), mode: 'int8', label: `${c.name}${c.bits ? ` at ${c.bits} bits` : ''}` }));
  yield* coreJob(q.LabJob.measureList(asks), (outcomes, complete) => {
    const rows = outcomes.map((o, i) => ({ id: cases[i].id, name: cases[i].name, bits: cases[i].bits, int8Accuracy: o.measure.score, logitSqnrDb: o.measure.sqnrDb, bytes: o.bytesPacked, deployed: o.deployed, quantizeMs: o.quantizeMs, ms: o.ms }));
    post({ type: 'techniques', key, rows, fp32Accuracy: outcomes[outcomes.length - 1].measure.fp32Score, actBits: s.actBits, complete });
  });
  techniquesDone = key;
}

/**
 * Mixed precision for a size budget: the core's greedy search on measured accuracy (LabJob.budget;
 * the algorithm is written above lab::jobs::Budget), over BUDGET_BITS, scoring each move on the
 * first BUDGET_SEARCH_DIGITS digits.
 */
function* budgetJob(s, key) {
  const job = q.LabJob.budget(quantConfig(s, { layerBits: [] }), s.budget * 1024, BUDGET_BITS, BUDGET_SEARCH_DIGITS, layers);
  yield* coreJob(job, (u) => post({ type: 'budget', key, budgetKiB: s.budget, actBits: s.actBits, layers, ...u }));
  budgetDone = key;
}

/** Accuracy with only one layer's weights quantized (simulated path, the others kept in float). */
function* sensJob(s, key) {
  const bits = s.weightBits;
  const rows = [];
  const cases = [...layers.map((l) => ({ name: l.name, only: l.index })), { name: layers.length === 3 ? 'all three' : `all ${layers.length}`, only: null }];
  // The current settings (granularity, rounding, equalization ...) at uniform weight bits, the
  // layers other than `only` kept in float (none: all quantized).
  const cfgOf = (c) => quantConfig(s, { weightBits: bits, actBits: 8, layerBits: [], skip: c.only === null ? [] : layers.filter((l) => l.index !== c.only).map((l) => l.index) });
  const ask = (c) => ({ config: cfgOf(c), mode: 'simulated', label: `${c.name} at ${bits} bits` });
  const row = (c, m) => ({ name: c.name, layer: c.only, accuracy: m.score, fp32Accuracy: m.fp32Score, agreement: m.agreement, logitSqnrDb: m.sqnrDb });
  const t0 = now();
  const show = () => {
    const msg = { type: 'sens', key, bits, rows: rows.slice(), complete: rows.length === cases.length, ms: now() - t0 };
    post(msg);
    if (msg.complete) {
      sensDone.set(key, msg);
      if (sensDone.size > SENS_KEPT) sensDone.delete(sensDone.keys().next().value);
    }
  };
  // One layer at a time: the core measures them in order (LabJob.measureList).
  const single = cases.slice(0, -1);
  yield* coreJob(q.LabJob.measureList(single.map(ask)), (outcomes) => {
    rows.splice(0, rows.length, ...outcomes.map((o, i) => row(single[i], o.measure)));
    show();
  });
  // All layers at once is the sweep's weights-only part at these bits: either hands it to the other.
  const all = cases[cases.length - 1];
  const part = { id: bits, kind: 'w', key: partKey('w', cfgOf(all)) };
  const kept = partCache.get(part.key);
  if (kept) {
    rows.push(row(all, { score: kept.wAccuracy, fp32Score: kept.fp32Accuracy, agreement: kept.wAgreement, sqnrDb: kept.wSqnrDb }));
    show();
    return;
  }
  yield* coreJob(q.LabJob.measureList([ask(all)]), ([o]) => {
    offerPart(part, wResultOf(bits, o));
    rows.push(row(all, o.measure));
    show();
  });
}

/**
 * For 8 down to 2 bits: weights only (simulated path: float activations) and weights +
 * activations (true int8), accuracy (or, without digits, agreement with FP32 on random inputs)
 * and logit SQNR; and the model size with the weights packed at that many bits; then the float
 * formats. Each point is made of parts (sweep-point.js), and a part's result is kept in `partCache`
 * under the settings it depends on: a change of the activation method keeps every weights-only
 * part and both formats, going back to earlier settings keeps all, and the evaluation and the
 * sensitivity hand in the parts they computed anyway (weights + activations at the current bits,
 * weights only at the current weight bits). What is left is shared with the helper worker on the
 * second core: this worker takes parts from the front of `todo` (8 bits first), the helper from
 * the back (one part per message), and whichever finishes the last one posts the complete sweep.
 * On one core the same loop does all of them.
 */
function sweepJob(s, key) {
  // The current settings at uniform bits (each part sets its bits or its format).
  const base = quantConfig(s, { layerBits: [] });
  const all = SWEEP_POINTS.flatMap((id) => parts(id, base));
  // Timed from the request: what someone waits for, including the tasks this worker runs first.
  sweep = { key, need: new Map(SWEEP_POINTS.map((id) => [id, all.filter((p) => p.id === id).length])), points: new Map(), todo: [], t0: now(), localDone: false };
  for (const part of all) {
    if (partCache.has(part.key)) addPart(sweep, part, partCache.get(part.key));
    else sweep.todo.push(part);
  }
  // What is kept shows at once (all of it, when nothing is left to measure).
  if (sweep.points.size) postSweep(sweep);
  // The helper starts now, while this worker still answers the setting (above the sweep in
  // PRIORITY), so the second core is not idle meanwhile.
  feedHelper();
  return sweepSteps(sweep);
}

/** Keeps a part's result (the least recently kept goes past PART_CACHE_SIZE). */
function keepPart(key, result) {
  partCache.delete(key);
  partCache.set(key, result);
  if (partCache.size > PART_CACHE_SIZE) partCache.delete(partCache.keys().next().value);
}

/** A part's result from outside the sweep: kept, and merged into the running sweep if it needs it. */
function offerPart(part, result) {
  keepPart(part.key, result);
  const st = sweep;
  const i = st ? st.todo.findIndex((p) => p.key === part.key) : -1;
  if (i < 0) return;
  const [mine] = st.todo.splice(i, 1);
  addPart(st, mine, result);
  if (!paused) postSweep(st);
}

/** Merges `result` into its point of sweep `st`; a point is whole once all its parts are in. */
function addPart(st, part, result) {
  const have = st.points.get(part.id) ?? { kinds: [] };
  if (have.kinds.includes(part.kind)) return; // the helper's copy of a part handed in meanwhile
  st.points.set(part.id, { ...have, ...result, kinds: [...have.kinds, part.kind] });
}

const whole = (st, id) => st.points.get(id)?.kinds.length === st.need.get(id);

function* sweepSteps(st) {
  let done = false;
  const progress = (label) => ({ done: SWEEP_POINTS.filter((id) => whole(st, id)).length, total: SWEEP_POINTS.length, label });
  try {
    while (st.todo.length) {
      const part = st.todo.shift();
      feedHelper();
      yield progress(part.label);
      const result = yield* labelled(runPart(model, sweepSet, part), () => progress(part.label));
      keepPart(part.key, result);
      addPart(st, part, result);
      postSweep(st);
    }
    done = true;
    st.localDone = true;
  } finally {
    if (!done && sweep === st) sweep = null; // cancelled: drop what the helper still sends
  }
}

/** Runs generator `g`, turning each value it yields into a progress message with `progress`. */
function* labelled(g, progress) {
  try {
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
      yield progress(r.value);
    }
  } finally {
    g.return(); // cancelled: closes `g` too, so its wasm objects are freed
  }
}

/** The sweep as measured so far: the whole bit widths (`points`), then the float formats (`formats`). */
function postSweep(st) {
  const have = (ids) => ids.filter((id) => whole(st, id)).map((id) => {
    const { kinds: _, ...point } = st.points.get(id);
    return point;
  });
  const [points, formats] = [have(SWEEP_BITS), have(SWEEP_FORMATS)];
  const complete = points.length + formats.length === SWEEP_POINTS.length;
  if (complete) sweepDone = st.key;
  post({ type: 'sweep', key: st.key, mode: sweepSet.kind, inputs: sweepSet.n ?? null, points, formats, complete, ms: now() - st.t0, helpers: pool?.size ?? 0 });
}

/** The helpers load `bytes` (the current model file; null: the shipped one) with `ranges`. */
function startHelper(bytes, ranges = null) {
  if (!pool) {
    const size = poolSize(new URL(self.location.href).searchParams.get('helpers'));
    if (!size) return;
    const url = new URL('./sweep-helper.js', import.meta.url);
    url.searchParams.set('build', build); // the build this worker runs, so all compute alike
    pool = new HelperPool(url, size, {
      onPart: helperPart,
      onLost: lostPart,
      onLogits: (m) => {
        if (evalHelp && m.key === evalHelp.key && m.from === evalHelp.from) {
          Object.assign(evalHelp, m.error ? { error: m.error } : { logits: m.logits });
        }
      },
      onReady: () => post({ type: 'helper', ready: true }),
    });
  }
  pool.load(bytes, ranges, own?.bytes);
}

const feedHelper = () => pool?.feed(sweep, paused);

/**
 * Holds the helpers for `reason` (a token) until releaseHelper(reason): each stops between two
 * steps of its part and gets no new one, so this worker has the machine to itself: the user
 * waits for the evaluation, and a timing run must not share the machine.
 */
const holdHelper = (reason) => pool?.hold(reason);

function releaseHelper(reason) {
  if (pool?.release(reason)) feedHelper();
}

/** A helper's part of sweep `key`: kept, and merged into the running sweep if it is that one. */
function helperPart(part, result, key) {
  keepPart(part.key, result);
  const st = sweep && sweep.key === key ? sweep : null;
  if (st) {
    addPart(st, part, result);
    // Out of view nothing is posted (the page does no work there); it goes out on return.
    if (!paused) postSweep(st);
  }
  feedHelper();
}

/** A part a helper could not finish (it failed and was dropped) goes back to this worker. */
function lostPart(part, key) {
  const st = sweep && sweep.key === key ? sweep : null;
  if (!st || partCache.has(part.key)) return;
  st.todo.push(part);
  if (st.localDone) {
    st.localDone = false;
    tasks.set('sweep', { name: 'sweep', key: st.key, prio: PRIORITY.sweep, iter: sweepSteps(st) });
    kick();
  }
}

// ---- quantization-aware training -----------------------------------------------------------

const QAT_ACTIONS = {
  start: (m) => {
    qatWanted = { steps: m.steps };
    trainSet().then(() => {
      // With settings still to apply, applySettings starts it, for them.
      if (settings && qatWanted && !pending) startQat();
      kick();
    }, (err) => {
      qatWanted = null;
      post({ type: 'error', task: 'qat', message: `the training digits did not load (${err?.message ?? err})` });
    });
  },
  cancel: () => cancelQat('cancelled'),
  keep: (m) => keepQat(m),
  reset: (m) => {
    const back = preQat ?? { bytes: null, name: null };
    whenStarted({ id: m.id, name: back.name, bytes: back.bytes, reset: true });
  },
  save: () => {
    if (!qatResult) throw new Error('no fine-tuned model to save: run quantization-aware training first');
    const { s, steps } = qatResult;
    const bytes = qatResult.model.toSafetensors(qatNote(qatResult), qatResult.ranges);
    post({ type: 'qat-file', bytes, name: `quantlab-qat-w${s.weightBits}a${s.actBits}-${steps}steps.safetensors` }, [bytes.buffer]);
  },
};

/** The training digits (www/data/digits-train.bin.gz, precached), gunzipped by the browser. */
async function trainSet() {
  if (trainDigits) return trainDigits;
  await started; // the core (q) is there once start() has run: a run asked for at once waits for it
  const gz = await fetchBytes(here('../data/digits-train.bin.gz'));
  const raw = await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  trainDigits = q.Digits.fromBytes(new Uint8Array(raw));
  return trainDigits;
}

function startQat() {
  const { steps } = qatWanted;
  qatWanted = null;
  if (!modelInfo.takesDigits) {
    post({ type: 'qat', key: qatKey(settings, steps), cancelled: true, reason: `not available: ${modelInfo.drawReason ?? modelInfo.reason} (it trains on the training digits)` });
    return;
  }
  const s = settings;
  const key = qatKey(s, steps);
  setTask('qat', key, () => qatJob(s, key, steps), { steps });
}

function cancelQat(reason) {
  const run = tasks.get('qat');
  if (!run) return;
  run.iter.return();
  tasks.delete('qat');
  post({ type: 'qat', key: run.key, cancelled: true, reason });
}

/** The `trained` metadata of a saved fine-tuned model. */
const qatNote = ({ s, steps, result }) =>
  `quantlab quantization-aware training in the browser: ${steps} steps of 32 digits, Adam with a cosine learning rate, ` +
  `${s.weightBits}-bit weights and ${s.actBits}-bit activations (${s.granularity}), learned activation scales; ` +
  `integer-path accuracy ${result.before.int8Accuracy} -> ${result.after.int8Accuracy} on the 2,000 test digits. ` +
  `The activation ranges it trained against are in activation_ranges; quantlab applies them when it loads this file.`;

/** The integer model's accuracy on the first `limit` test digits (all: null) for `m`, freed after. */
function* accuracyOf(m, cfg, limit, progress) {
  const qm = m.quantize(cfg);
  try {
    return limit ? m.evaluate(qm, test, 'int8', limit) : yield* labelled(evaluateInSteps(m, qm, test, 'int8'), progress);
  } finally {
    qm.free();
  }
}

/**
 * Quantization-aware training at the current settings (the core's Qat: fake quantization with the
 * integer model's grids, learned activation scales, Adam), in slices of QAT_SLICE steps. Every
 * QAT_CURVE_EVERY steps the tuned model is quantized by the post-training code with the ranges it
 * trained against and evaluated on the integer path on the first QAT_CURVE_DIGITS digits; at the
 * end on all of them. The baseline is post-training quantization of the model it started from.
 */
function* qatJob(s, key, steps) {
  const cfg = quantConfig(s);
  const t0 = now();
  const label = (t) => ({ done: 0, total: steps, label: t });
  yield label('post-training baseline');
  // One quantized model for the baseline: its first QAT_CURVE_DIGITS digits (the curve's step 0),
  // then the rest of them (the core keeps the logits of the prefix).
  const base = model.quantize(cfg);
  let subset;
  let before;
  try {
    subset = model.evaluate(base, test, 'int8', QAT_CURVE_DIGITS);
    before = yield* labelled(evaluateInSteps(model, base, test, 'int8', QAT_CURVE_DIGITS), () => label('post-training baseline'));
  } finally {
    base.free();
  }
  qatResult?.model.free();
  qatResult = null;
  const qat = new q.Qat(model, trainDigits, cfg, { steps });
  let tuned = null;
  try {
    const curve = [{ step: 0, seconds: 0, int8Accuracy: subset.int8Accuracy }];
    let trainMs = 0;
    let p = { step: 0, loss: NaN, trainAccuracy: NaN, done: false };
    const progress = () => ({ type: 'qat-progress', key, step: p.step, steps, seconds: (now() - t0) / 1000, trainSeconds: trainMs / 1000, loss: p.loss, trainAccuracy: p.trainAccuracy, curve: curve.slice(), before: { int8Accuracy: before.int8Accuracy, fp32Accuracy: before.fp32Accuracy, subset: subset.int8Accuracy } });
    while (!p.done) {
      const ts = now();
      p = qat.run(QAT_SLICE);
      trainMs += now() - ts;
      // The last point is measured on all the digits below, once.
      if (p.step % QAT_CURVE_EVERY === 0 && !p.done) {
        const m = qat.model();
        try {
          const e = yield* accuracyOf(m, cfg, QAT_CURVE_DIGITS);
          curve.push({ step: p.step, seconds: (now() - t0) / 1000, int8Accuracy: e.int8Accuracy });
        } finally {
          m.free();
        }
      }
      post(progress());
      yield { done: p.step, total: steps, label: `step ${p.step} of ${steps} · ${((now() - t0) / 1000).toFixed(0)} s · loss ${p.loss.toFixed(3)}` };
    }
    tuned = qat.model();
    const after = yield* accuracyOf(tuned, cfg, null, () => label('the integer model on all digits'));
    const grids = quantizedLayers(summary).map((l) => qat.weightGrid(l.index, 8));
    const result = {
      steps, seconds: (now() - t0) / 1000, trainSeconds: trainMs / 1000, weightBits: s.weightBits, actBits: s.actBits,
      before: { int8Accuracy: before.int8Accuracy, fp32Accuracy: before.fp32Accuracy },
      after: { int8Accuracy: after.int8Accuracy, fp32Accuracy: after.fp32Accuracy },
    };
    curve.push({ step: p.step, seconds: (now() - t0) / 1000, int8Accuracy: after.int8Accuracy, all: true });
    qatResult = { key, model: tuned, ranges: qat.ranges(), s, steps, result };
    tuned = null;
    post({ type: 'qat', key, result, curve, grids, ranges: qatResult.ranges, complete: true });
  } finally {
    tuned?.free();
    qat.free();
  }
}

/**
 * "Keep": the tuned model becomes the lab's, with the activation ranges it trained against (the
 * sweep's helper gets them too); "Reset" returns to the model it replaced.
 */
function keepQat(m) {
  if (!qatResult) {
    post({ type: 'model-error', id: m.id, name: 'the fine-tuned model', message: 'no fine-tuned model: run quantization-aware training first' });
    return;
  }
  const { model: tuned, ranges, s } = qatResult;
  preQat ??= { ...currentFile };
  const bytes = tuned.toSafetensors(qatNote(qatResult), ranges);
  qatResult = null; // the handle becomes the lab's model
  replaceModel(tuned, {
    id: m.id, name: `the QAT-tuned model (${s.weightBits}-bit weights, ${s.actBits}-bit activations)`, bytes, ranges, qat: true,
    calibCount: calib.length, ms: { load: 0, calibrate: 0 },
  });
}

function startTiming() {
  const r = timingRequest;
  const cfg = quantConfig(settings);
  const key = `${evalKey(settings)}|${r.batch}|${r.samples}|${r.runId}`;
  setTask('timing', key, () => timingJob(cfg, r, key));
}

/**
 * FP32, simulated INT8 and true INT8 on the same `batch` test digits. Each sample times `reps`
 * calls in a row, enough for one sample to span many timer steps; the paths take turns so a
 * slow moment hits all three alike.
 */
function* timingJob(cfg, r, key) {
  // The sweep's helper would share the two cores with the timed loops (and the page): it is held
  // for the run, and the timing waits until it has stopped.
  holdHelper('timing');
  try {
    // (At most HELPER_WAIT_MS: a helper whose set-up failed never says it is ready.)
    const until = now() + HELPER_WAIT_MS;
    while (pool && !pool.settled() && now() < until) {
      yield { done: 0, total: 1, label: 'waiting for the sweep\'s helper to stop', waitMs: 10 };
    }
    yield* timedRuns(cfg, r, key);
  } finally {
    releaseHelper('timing');
  }
}

function* timedRuns(cfg, r, key) {
  const { batch, samples } = r;
  const qm = model.quantize(cfg);
  try {
    const x = inputsFor(batch);
    // `r.int8`: 'auto' (the probe's choice) or one table entry; 'all' times every available
    // int8 entry side by side. The loops run inside wasm (timeForward): compute only, scratch
    // held; the JS-call figure (copies into and out of wasm memory included) is timed here.
    const info = q.kernelInfo();
    const chosen = r.int8 && r.int8 !== 'all' && r.int8 !== 'auto' ? r.int8 : info.int8.best;
    const extra = r.int8 === 'all' ? info.int8.available.filter((k) => k !== chosen && k !== 'portable') : [];
    const paths = [
      { id: 'fp32', kernels: { fp32: 'auto' }, time: (s, k, p) => model.timeForward(x, batch, s, k, p), call: () => model.forward(x, batch) },
      { id: 'simulated', kernels: { fp32: 'auto' }, time: (s, k) => qm.timeForward(x, batch, s, k, 0, 'simulated') },
      { id: 'int8', kernels: { int8: chosen }, time: (s, k, p) => qm.timeForward(x, batch, s, k, p, 'int8'), call: () => qm.forward(x, batch) },
      ...extra.map((k) => ({ id: `int8:${k}`, kernels: { int8: k }, time: (s, n, p) => qm.timeForward(x, batch, s, n, p, 'int8') })),
    ];
    const total = paths.length * 2 + 1;
    yield { done: 0, total, label: 'warming up' };
    const targetMs = Math.max(4, 100 * timer.resolutionMs);
    const results = [];
    let step = 0;
    for (const p of paths) {
      q.useKernels(p.kernels);
      const probe = p.time(2, 1, 0);
      const reps = Math.max(1, Math.min(10000, Math.ceil(targetMs / Math.max(probe.medianMs, timer.resolutionMs))));
      yield { done: ++step, total, label: `${p.id}: ${samples} runs` };
      const t = p.time(samples, reps, 10);
      let jsCall = null;
      if (p.call) {
        p.call();
        const t0 = now();
        for (let j = 0; j < reps; j++) p.call();
        jsCall = (now() - t0) / reps / batch;
      }
      yield { done: ++step, total, label: `${p.id} done` };
      results.push({
        id: p.id,
        // 'qdq' where the quantized model has no integer kernel (group-wise, dynamic, float16).
        path: t.path,
        kernel: t.kernel,
        medianMs: t.medianMs / batch,
        p10Ms: t.p10Ms / batch,
        p90Ms: t.p90Ms / batch,
        gmacs: t.gmacPerS,
        reps,
        jsCallMs: jsCall,
        // `kernel`: the entry a layer step ran (usdot7 packs a layer with 8-bit weights for dot16).
        steps: t.steps.map((s) => ({ name: s.name, ms: s.ms / batch, kernel: s.kernel ?? null })),
      });
    }
    timingRequest = null;
    if (!peaks) peaks = q.peakThroughput(200000);
    post({ type: 'timing', key, runId: r.runId, batch, samples, reps: results[0].reps, timer, macs: summary.macs, results, kernels: info, peaks });
  } finally {
    q.useKernels({ int8: 'auto', fp32: 'auto' });
    qm.free();
  }
}

// ==== Bring your own model (issue 6) ============================================================
// `load` replaces the model with one from a .safetensors file (the page transfers the bytes; the
// file never leaves the browser), `baseline` goes back to the shipped one. Everything is checked
// and calibrated before anything is replaced: on any error the page gets `model-error` and the
// previous model, its quantized version, the settings and the running tasks stay as they were.
// A model with 1×28×28 or 1×32×32 inputs and 10 outputs gets the digits (accuracy, sensitivity,
// drawing); any other is calibrated and timed on seeded random inputs in [0, 1], and its sweep
// compares FP32 and quantized outputs on the timing inputs (model.compare: logit SQNR and arg-max
// agreement instead of accuracy) and shows each layer's weight SQNR (the wasm report).

/** What the page can show for the current model: `digits` or why not. */
let modelInfo = { digits: true, takesDigits: true, reason: null, inputs: 'digits', dataset: null };

/** `n` inputs for timing: test digits, or seeded random images for other models. */
function inputsFor(n) {
  return modelInfo.digits ? test.images(model, 0, n) : randomInputs(summary.input, n, TIMING_SEED);
}

/** Loads once start() is done; if it failed, the page hears so instead of waiting for ever. */
function whenStarted(m) {
  started.then(() => loadModel(m), (err) => {
    post({ type: 'model-error', id: m.id, name: m.name ?? null, message: `the lab's worker did not start (${err?.message ?? err})` });
  });
}

function loadModel(m) {
  const t0 = now();
  let next = null;
  try {
    next = q.Model.fromSafetensors(m.bytes ? new Uint8Array(m.bytes) : shippedBytes);
    const s = next.summary();
    const tLoad = now();
    // The user's test file stays if it fits the new model; otherwise the lab says why it left.
    let keepOwn = own;
    let dropped = null;
    if (own) {
      try {
        own.set.checkFits(next);
      } catch (err) {
        keepOwn = null;
        dropped = `${own.name} no longer fits (${err?.message ?? err}); the lab is back on the test digits`;
      }
    }
    const calibCount = calibrate(next, s, calib, keepOwn);
    next.quantize({}).free(); // fails here, not after the swap, if this model cannot be quantized
    const tCalib = now();
    preQat = null; // a file, or Reset: no kept QAT model to return from
    // On Reset the page has no copy of the model it returns to: it gets the bytes.
    if (!keepOwn) setOwn(null);
    replaceModel(next, { id: m.id, name: m.name ?? null, bytes: m.bytes ?? null, pageCopy: Boolean(m.reset), calibCount, dropped, ms: { load: tLoad - t0, calibrate: tCalib - tLoad } });
    next = null;
  } catch (err) {
    next?.free();
    post({ type: 'model-error', id: m.id, name: m.name ?? null, message: err?.message ?? String(err) });
  }
}

/**
 * Makes `next` (checked and calibrated) the lab's model and drops everything computed for the old
 * one. `ranges`: fixed activation ranges (a kept QAT model's), which the helper applies too.
 */
function replaceModel(next, { id, name, bytes, ranges = null, qat = false, pageCopy = qat, calibCount, dropped = null, ms }) {
  const s = next.summary();
  dropDerived();
  if (qatResult && qatResult.model !== next) qatResult.model.free();
  qatResult = null;
  model.free();
  model = next;
  summary = s;
  layers = quantizedLayers(s);
  currentFile = { bytes: bytes ?? null, name, ranges, qat };
  // Where the page has no instance of this model (kept or reset to), it builds one from the bytes
  // (a copy: the helper has the first). A file the page read itself needs none.
  const pageBytes = pageCopy && bytes ? new Uint8Array(bytes).slice() : null;
  announce({ id, pageBytes, calibCount, dropped, ms });
}

/** Drops every task and result computed for the current model or test set. */
function dropDerived() {
  for (const t of tasks.values()) t.iter.return();
  tasks.clear();
  sweep = null; // a sweep this worker had not started yet holds no generator to close
  current?.qm.free();
  current = null;
  settings = null;
  pending = null;
  drawing = null;
  timingRequest = null;
  techniquesWanted = false;
  techniquesDone = null;
  budgetWanted = false;
  budgetDone = null;
  sensDone.clear();
  sweepDone = null;
  releaseHelper(evalHold);
  evalHold = null;
  qatWanted = null;
}

/** The user's test file (or null): the set the lab measures on from now. */
function setOwn(next) {
  if (own && own !== next) own.set.free();
  own = next;
  test = own ? own.set : digitsTest;
  labels = own ? own.set.labels() : digitLabels;
}

/**
 * Tells the page (and the sweep's helper) what the lab now holds: the current model on the current
 * test set. Everything computed before was dropped; the page sends its settings again.
 */
function announce({ id, pageBytes = null, calibCount, dropped = null, ms }) {
  const info = dataInfo(summary, own);
  modelInfo = info;
  sweepSet = info.digits ? { kind: 'digits', test } : randomSet(summary.input);
  partCache.clear(); // its parts were of another model or test set
  startHelper(currentFile.bytes ?? shippedBytes, currentFile.ranges);
  post({
    type: 'model',
    id,
    name: currentFile.name,
    shipped: !currentFile.bytes,
    qat: currentFile.qat,
    bytes: pageBytes,
    canReset: preQat !== null,
    resetTo: preQat ? (preQat.name ?? 'the shipped weights') : null,
    summary,
    note: currentFile.qat ? null : (model.loadNote ?? null),
    ...info,
    calibCount,
    calibOn: info.takesDigits ? 'digits' : own ? 'dataset' : 'random',
    dropped,
    ms,
  }, pageBytes ? [pageBytes.buffer] : []);
}

/**
 * The user's test images (`bytes` a .safetensors file with `images` and `labels`; null: back to
 * the test digits). Checked against the current model first: on any error the page gets
 * `model-error` with `dataset: true` and the lab keeps its set. A model that does not take the
 * digits is calibrated again, on the file's first OWN_CALIB images.
 */
function useDataset(m) {
  const t0 = now();
  let set = null;
  try {
    if (m.bytes) {
      set = q.Digits.fromSafetensors(new Uint8Array(m.bytes));
      set.checkFits(model);
    }
    const next = set ? { set, name: m.name, bytes: m.bytes } : null;
    // A digit model keeps its calibration; another is calibrated again, replaced only if that
    // succeeds (the core keeps the old one on an error).
    const calibCount = modelInfo.takesDigits ? calib.length : calibrate(model, summary, calib, next);
    dropDerived();
    setOwn(next);
    set = null;
    announce({ id: m.id, calibCount, ms: { load: 0, calibrate: now() - t0 } });
  } catch (err) {
    set?.free();
    post({ type: 'model-error', id: m.id, name: m.name ?? null, dataset: true, message: err?.message ?? String(err) });
  }
}

/** Without digits: no accuracy or sensitivity (the page says why); the sweep runs on random inputs. */
function noDigitsTasks(s) {
  for (const name of ['eval', 'sens']) {
    tasks.get(name)?.iter.return();
    tasks.delete(name);
  }
  post({ type: 'eval', key: evalKey(s), unavailable: modelInfo.reason });
  post({ type: 'sens', key: sensKey(s), unavailable: modelInfo.reason, rows: [], complete: true });
}
// ==== end: bring your own model ==================================================================
