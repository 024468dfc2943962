// Benchmark worker: times one forward pass of the baseline CNN, per path and batch size, with
// quantlab (FP32, simulated INT8, true INT8) and onnxruntime-web's wasm backend (FP32 and INT8
// ONNX models). It owns both wasm instances; the page only starts it and shows the result.
//
// Protocol: the page posts { quick }; the worker posts { type: 'progress', text } while it works,
// then { type: 'done', result } or { type: 'error', message }.
//
// Method, per cell (path x batch): a warm-up, then timed samples until there are at least
// `minSamples` of them and `minTime` seconds have passed. A sample is `k` consecutive calls timed
// together, with `k` chosen after the warm-up so that a sample lasts at least 100 timer ticks
// (k = 1 whenever a single call is long enough). Per-image times are sample / (k * batch).
// quantlab's paths timed inside the module (timeForward) take turns instead: each cell's samples
// come in ROUNDS slices, one slice of every such path per round, so the ratios between them hold
// through a slow phase of a shared machine.
// Inputs are real test digits (digits-test.bin 0..63, preprocessed by quantlab), created once;
// every call returns a fresh output array, for both libraries.
import { loadCore, preferredBuild } from '../js/wasm-build.js';

const ORT_DIR = new URL('../vendor/ort/', import.meta.url).href;
const BATCHES = [1, 64];

const post = (msg) => self.postMessage(msg);
const progress = (text) => post({ type: 'progress', text });

async function fetchBytes(rel) {
  const res = await fetch(new URL(rel, import.meta.url));
  if (!res.ok) throw new Error(`${rel}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Smallest and median step of performance.now() over 200 distinct ticks. */
function timerResolution() {
  const steps = [];
  let last = performance.now();
  const stop = last + 200;
  while (steps.length < 200) {
    const t = performance.now();
    if (t !== last) { steps.push(t - last); last = t; }
    if (t > stop) break;
  }
  steps.sort((a, b) => a - b);
  return { minMs: steps[0], medianMs: steps[steps.length >> 1] };
}

function quantile(sorted, q) {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/**
 * Times `call` (sync or async, `isAsync` says which so sync paths pay no await) and returns
 * per-call statistics in ms.
 */
async function measure(call, isAsync, cfg, tickMs) {
  // Warm-up: at least `warmupCalls` calls and `warmupTime` seconds.
  let calls = 0;
  let t0 = performance.now();
  while (calls < cfg.warmupCalls || performance.now() - t0 < cfg.warmupTime * 1000) {
    if (isAsync) await call(); else call();
    calls++;
  }
  const perCall = (performance.now() - t0) / calls;
  const k = Math.max(1, Math.ceil((100 * tickMs) / perCall));
  const samples = [];
  t0 = performance.now();
  while (samples.length < cfg.minSamples || performance.now() - t0 < cfg.minTime * 1000) {
    const s = performance.now();
    if (isAsync) for (let j = 0; j < k; j++) await call();
    else for (let j = 0; j < k; j++) call();
    samples.push((performance.now() - s) / k);
    if (samples.length > 100000) break;
  }
  const sorted = samples.slice().sort((a, b) => a - b);
  return {
    samples: samples.length,
    callsPerSample: k,
    runs: samples.length * k,
    seconds: (performance.now() - t0) / 1000,
    median: quantile(sorted, 0.5),
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
  };
}

function argmaxes(y, n, classes) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (y[i * classes + c] > y[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Profiled runs of `modelBytes`: `runs` calls at each batch size, in order. onnxruntime-web prints
 * the profile (one JSON event per node and run) to the console, where scripts/bench.mjs reads
 * which kernels ran and how long each took; nothing is returned here.
 */
async function ortProfile(ort, modelBytes, feedsPerBatch, runs) {
  const s = await ort.InferenceSession.create(modelBytes, {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableProfiling: true,
  });
  for (const feeds of feedsPerBatch) {
    for (let i = 0; i < runs; i++) await s.run(feeds);
  }
  s.endProfiling();
  await s.release();
}

async function run({ quick }) {
  const cfg = quick
    ? { warmupCalls: 2, warmupTime: 0.05, minSamples: 5, minTime: 0.1 }
    : { warmupCalls: 5, warmupTime: 0.3, minSamples: 30, minTime: 2 };

  progress('loading quantlab');
  const { api, build } = await loadCore(preferredBuild(self.location.href));
  const { Digits, Model, version } = api;
  const kernels = api.kernelInfo();
  progress('instruction-throughput micro-benchmark');
  const peaks = api.peakThroughput(quick ? 50000 : 400000);
  const tick = timerResolution();
  const tickMs = Math.max(tick.medianMs, 0.001);

  const model = Model.fromSafetensors(await fetchBytes('../models/baseline-cnn.safetensors'));
  const summary = model.summary();
  const macs = summary.macs;
  const classes = summary.layers[summary.layers.length - 1].outputShape[0];
  const [calibBytes, testBytes, fp32Onnx, int8Onnx] = await Promise.all([
    fetchBytes('../data/digits-calib.bin'), fetchBytes('../data/digits-test.bin'),
    fetchBytes('../models/baseline-cnn.onnx'), fetchBytes('../models/baseline-cnn.int8.onnx'),
  ]);
  const calib = Digits.fromBytes(calibBytes);
  const test = Digits.fromBytes(testBytes);
  progress('calibrating and quantizing');
  model.calibrate(calib);
  const quantConfig = { weightBits: 8, actBits: 8, perChannel: true, method: 'minmax' };
  const q = model.quantize(quantConfig);
  // 7-bit weights (onnxruntime's reduce_range): where the engine's int16 relaxed dot is exact for
  // them, `usdot7` runs them; 8-bit weights never fit it (each channel's largest is ±127), so the
  // 8-bit rows leave it out and time the entry that runs them.
  const q7 = model.quantize({ ...quantConfig, weightBits: 7 });
  // 6-bit weights: usdot7 adds two int16 pair sums before widening them.
  const q6 = model.quantize({ ...quantConfig, weightBits: 6 });
  // The entry 8-bit weights (|w| up to 127) run when `k` is asked for: its fallback past its weight limit.
  const int8Entry = (k) => kernels.int8.entries.find((e) => e.name === k);
  const runs8 = (k) => {
    const e = int8Entry(k);
    return e.weightLimit != null && e.weightLimit < 127 ? e.fallback : k;
  };
  const int8Entries = kernels.int8.available.filter((k) => runs8(k) === k);
  const best8Name = runs8(kernels.int8.best);
  const w7Entries = [...new Set([kernels.int8.best, 'dot16'])].filter((k) => kernels.int8.available.includes(k));
  const maxBatch = Math.max(...BATCHES);
  const xAll = test.images(model, 0, maxBatch);
  const labels = Array.from(test.labels().slice(0, maxBatch));
  const inputLen = xAll.length / maxBatch;

  progress('loading onnxruntime-web');
  const ort = await import(`${ORT_DIR}ort.wasm.min.mjs`);
  ort.env.wasm.wasmPaths = ORT_DIR;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'warning';
  const sessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const ortFp32 = await ort.InferenceSession.create(fp32Onnx, sessionOptions);
  const ortInt8 = await ort.InferenceSession.create(int8Onnx, sessionOptions);

  const inWasm = (label, setKernels, time) => ({ label, inWasm: true, setKernels, time });
  const paths = [
    ...kernels.fp32.available.map((k) => ({ id: `ql-fp32-${k}`, lib: 'quantlab', precision: 'fp32', kernel: k,
      ...inWasm(`quantlab FP32 ${k}`, { fp32: k }, (x, n, s, r, p) => model.timeForward(x, n, s, r, p)),
      make: (x, n) => () => model.forward(x, n) })),
    ...int8Entries.map((k) => ({ id: `ql-int8-${k}`, lib: 'quantlab', precision: 'int8', kernel: k,
      ...inWasm(`quantlab INT8 ${k}`, { int8: k }, (x, n, s, r, p) => q.timeForward(x, n, s, r, p, 'int8')),
      make: (x, n) => () => q.forward(x, n) })),
    ...w7Entries.map((k) => ({ id: `ql-int8w7-${k}`, lib: 'quantlab', precision: 'int8', kernel: k, weightBits: 7,
      ...inWasm(`quantlab INT8 ${k}, w7`, { int8: k }, (x, n, s, r, p) => q7.timeForward(x, n, s, r, p, 'int8')),
      make: (x, n) => () => q7.forward(x, n) })),
    ...w7Entries.slice(0, 1).map((k) => ({ id: `ql-int8w6-${k}`, lib: 'quantlab', precision: 'int8', kernel: k, weightBits: 6,
      ...inWasm(`quantlab INT8 ${k}, w6`, { int8: k }, (x, n, s, r, p) => q6.timeForward(x, n, s, r, p, 'int8')),
      make: (x, n) => () => q6.forward(x, n) })),
    { id: 'ql-int8-sim', lib: 'quantlab', precision: 'int8-simulated',
      ...inWasm('quantlab INT8 simulated', { fp32: 'auto' }, (x, n, s, r) => q.timeForward(x, n, s, r, 0, 'simulated')),
      make: (x, n) => () => q.forwardSimulated(x, n) },
    { id: 'ql-fp32-js', label: 'quantlab FP32 (JS call)', lib: 'quantlab', precision: 'fp32', kernel: kernels.fp32.best,
      make: (x, n) => () => model.forward(x, n) },
    { id: 'ql-int8-js', label: 'quantlab INT8 (JS call)', lib: 'quantlab', precision: 'int8', kernel: best8Name,
      make: (x, n) => () => q.forward(x, n) },
    { id: 'ort-fp32', label: 'ort-web FP32', lib: 'onnxruntime-web', precision: 'fp32', isAsync: true,
      make: (x, n) => ortCall(ortFp32, x, n) },
    { id: 'ort-int8', label: 'ort-web INT8', lib: 'onnxruntime-web', precision: 'int8', isAsync: true,
      make: (x, n) => ortCall(ortInt8, x, n) },
    { id: 'tfjs-fp32', label: 'tfjs-wasm FP32', lib: 'tfjs-wasm', precision: 'fp32', tfjs: true },
  ];
  // tfjs-wasm runs in its own (classic) worker on quantlab's weights.
  const tfLayers = summary.layers.map((l, i) => {
    const prev = i === 0 ? summary.input : summary.layers[i - 1].outputShape;
    if (l.kind === 'conv2d') {
      const w = model.layerWeights(i);
      const [m, c] = [l.outputShape[0], prev[0]];
      const k = Math.round(Math.sqrt(w.length / (m * c)));
      return { kind: l.kind, m, c, k, pad: (l.outputShape[1] - prev[1] + k - 1) / 2, weight: w, bias: model.layerBias(i) };
    }
    if (l.kind === 'linear') {
      const w = model.layerWeights(i);
      const before = summary.layers[i - 1]?.kind === 'flatten' ? (i > 1 ? summary.layers[i - 2].outputShape : summary.input) : null;
      return { kind: l.kind, nOut: l.outputShape[0], nIn: w.length / l.outputShape[0], from: before && before[1] * before[2] > 1 ? before : null, weight: w, bias: model.layerBias(i) };
    }
    return { kind: l.kind };
  });
  const tfWorker = new Worker(new URL('./tfjs-worker.js', import.meta.url));
  const tfRun = (x, n) => new Promise((resolve, reject) => {
    tfWorker.onmessage = (e) => (e.data.error ? reject(new Error(`tfjs-wasm: ${e.data.error}`)) : resolve(e.data));
    tfWorker.postMessage({ x, n, layers: tfLayers, input: summary.input, cfg, tickMs });
  });
  function ortCall(session, x, n) {
    const feeds = { input: new ort.Tensor('float32', x, [n, ...summary.input]) };
    return async () => (await session.run(feeds)).logits.data;
  }

  // Correctness first, on the largest batch: every path must classify the digits like FP32 does.
  const reference = model.forward(xAll, maxBatch);
  const refPred = argmaxes(reference, maxBatch, classes);
  const refInt8 = q.forward(xAll, maxBatch);
  const checks = {};
  let tfVersion = null;
  for (const p of paths) {
    if (p.setKernels) api.useKernels(p.setKernels);
    const y = p.tfjs ? (await tfRun(xAll, maxBatch)).logits : await p.make(xAll, maxBatch)();
    api.useKernels({ int8: 'auto', fp32: 'auto' });
    const pred = argmaxes(y, maxBatch, classes);
    checks[p.id] = {
      accuracy: pred.filter((c, i) => c === labels[i]).length / maxBatch,
      agreementWithQuantlabFp32: pred.filter((c, i) => c === refPred[i]).length / maxBatch,
      maxAbsLogitDiffVsQuantlabFp32: maxAbsDiff(y, reference),
      maxAbsLogitDiffVsQuantlabInt8: maxAbsDiff(y, refInt8),
    };
  }
  // Every int8 entry gives the same int8 logits on all test digits.
  const xTest = test.images(model, 0, test.length);
  // So do they with 7- and 6-bit weights, where usdot7 runs its own kernel and its two-sums form.
  let int8Identity = { digits: test.length, entries: kernels.int8.available, weightBits: [8, 7, 6], identical: true };
  for (const [bits, qm] of [[8, q], [7, q7], [6, q6]]) {
    let first = null;
    for (const k of kernels.int8.available) {
      api.useKernels({ int8: k });
      const y = qm.forwardInt8(xTest, test.length).join(',');
      if (first === null) first = y; else if (y !== first) int8Identity = { ...int8Identity, identical: false, differs: `${k}, ${bits}-bit weights` };
    }
  }
  api.useKernels({ int8: 'auto', fp32: 'auto' });
  // Each entry's ceiling on this machine, as peakThroughput() reports it.
  const ceilings = Object.fromEntries(peaks.flatMap((p) => p.entries.map((e) => [e.entry, e.gmacPerS])));
  const entryOf = (p) => (p.kernel ? (kernels[p.precision]?.entries.find((e) => e.name === p.kernel)?.entry ?? null) : null);
  const peakOf = (p) => ceilings[entryOf(p)] ?? null;

  // The paths timed inside the module take turns: each gets its samples in ROUNDS slices, one
  // slice of every path per round, so a slow phase of this machine (a shared host: the same
  // loop varies by 15% from one run to the next here) hits them all alike and their ratios hold.
  // Reps per sample so a sample spans >= 100 timer steps, samples for >= minTime seconds in
  // all; then profiled runs for the per-step breakdown.
  const ROUNDS = quick ? 2 : 10;
  const timeInterleaved = (ps, x, n) => {
    const plan = new Map();
    for (const p of ps) {
      api.useKernels(p.setKernels);
      const probe = p.time(x, n, 3, 1, 0);
      const reps = Math.min(10000, Math.max(1, Math.ceil((100 * tickMs) / Math.max(probe.medianMs, 1e-3))));
      const samples = Math.min(10000, Math.max(cfg.minSamples, Math.ceil((cfg.minTime * 1000) / (reps * probe.medianMs))));
      plan.set(p, { reps, perRound: Math.max(1, Math.ceil(samples / ROUNDS)), ms: [] });
    }
    for (let r = 0; r < ROUNDS; r++) {
      progress(`timing quantlab's kernels inside wasm, batch ${n}, round ${r + 1} of ${ROUNDS}`);
      for (const p of ps) {
        const pl = plan.get(p);
        api.useKernels(p.setKernels);
        pl.ms.push(...p.time(x, n, pl.perRound, pl.reps, 0).samplesMs);
      }
    }
    const out = new Map();
    for (const p of ps) {
      const { reps, ms } = plan.get(p);
      api.useKernels(p.setKernels);
      const t = p.time(x, n, 1, 1, quick ? 3 : 20);
      const v = [...ms].sort((a, b) => a - b);
      out.set(p, {
        m: { median: quantile(v, 0.5), p10: quantile(v, 0.1), p90: quantile(v, 0.9), runs: v.length * reps, samples: v.length, callsPerSample: reps, seconds: null },
        steps: t.steps.map((st) => ({ name: st.name, usPerImage: (st.ms / n) * 1000, kernel: st.kernel ?? null })),
      });
    }
    api.useKernels({ int8: 'auto', fp32: 'auto' });
    return out;
  };

  const cells = [];
  for (const n of BATCHES) {
    const x = xAll.slice(0, n * inputLen);
    const wasmTimes = timeInterleaved(paths.filter((p) => p.inWasm), x, n);
    for (const p of paths) {
      progress(`timing ${p.label}, batch ${n}`);
      let m;
      let steps = [];
      if (p.tfjs) {
        const r = await tfRun(x, n);
        tfVersion = r.version;
        m = { ...r, runs: r.samples * r.callsPerSample, seconds: null };
      } else if (p.inWasm) {
        ({ m, steps } = wasmTimes.get(p));
      } else {
        m = await measure(p.make(x, n), !!p.isAsync, cfg, tickMs);
      }
      const perImage = (v) => v / n;
      const median = perImage(m.median);
      const gmac = macs / (median * 1e-3) / 1e9;
      const peak = peakOf(p);
      cells.push({
        path: p.id, label: p.label, library: p.lib, precision: p.precision, kernel: p.kernel ?? null, weightBits: p.weightBits ?? 8, batch: n,
        timing: p.inWasm ? 'inside wasm' : 'JS call',
        medianMsPerImage: median, p10MsPerImage: perImage(m.p10), p90MsPerImage: perImage(m.p90),
        medianMsPerCall: m.median,
        runs: m.runs, samples: m.samples, callsPerSample: m.callsPerSample, seconds: m.seconds,
        gmacPerS: gmac, peakGmacPerS: peak, shareOfPeak: peak ? gmac / peak : null, steps,
      });
    }
  }
  tfWorker.terminate();

  const med = (id, n) => cells.find((c) => c.path === id && c.batch === n).medianMsPerImage;
  // speedup of A over B = median time of B / median time of A (> 1: A is faster).
  const speedups = [];
  const add = (what, a, b, n) => speedups.push({ what, faster: a, than: b, batch: n, speedup: med(b, n) / med(a, n) });
  const best8 = `ql-int8-${best8Name}`;
  const best32 = `ql-fp32-${kernels.fp32.best}`;
  const fasterPeer = (n) => (med('tfjs-fp32', n) < med('ort-fp32', n) ? 'tfjs-fp32' : 'ort-fp32');
  for (const n of BATCHES) {
    add(`int8 (${best8Name}) vs fp32 (${kernels.fp32.best}), quantlab`, best8, best32, n);
    for (const k of int8Entries) if (k !== best8Name) add(`int8 ${k} vs fp32 (${kernels.fp32.best})`, `ql-int8-${k}`, best32, n);
    for (const k of w7Entries) add(`int8 ${k}, 7-bit weights, vs fp32 (${kernels.fp32.best})`, `ql-int8w7-${k}`, best32, n);
    if (w7Entries.length > 1) add(`7-bit weights: ${w7Entries[0]} vs dot16`, `ql-int8w7-${w7Entries[0]}`, 'ql-int8w7-dot16', n);
    if (w7Entries.length) add(`int8 ${w7Entries[0]}, 6-bit weights, vs fp32 (${kernels.fp32.best})`, `ql-int8w6-${w7Entries[0]}`, best32, n);
    add('int8 simulated vs fp32, quantlab', 'ql-int8-sim', best32, n);
    add('ours vs the faster peer (fp32)', best32, fasterPeer(n), n);
    add('ours vs ort-web (int8)', best8, 'ort-int8', n);
    add('int8 vs fp32, ort-web', 'ort-int8', 'ort-fp32', n);
  }

  progress('profiling the ort-web INT8 session');
  const profileRuns = quick ? 3 : 11;
  await ortProfile(ort, int8Onnx, BATCHES.map((n) => ({
    input: new ort.Tensor('float32', xAll.slice(0, n * inputLen), [n, ...summary.input]),
  })), profileRuns);

  await ortFp32.release();
  await ortInt8.release();
  return {
    machine: {
      userAgent: navigator.userAgent,
      hardwareConcurrency: navigator.hardwareConcurrency,
      crossOriginIsolated: self.crossOriginIsolated,
      timerResolutionMs: tick,
    },
    versions: { quantlab: version(), onnxruntimeWeb: ort.env.versions?.web ?? null, tfjs: tfVersion },
    build,
    kernels: { probe: kernels.probe, int8: { chosen: kernels.int8.best, runs8bitWeights: best8Name, available: kernels.int8.available }, fp32: { chosen: kernels.fp32.best, available: kernels.fp32.available } },
    peaks,
    int8Identity,
    config: {
      quick: !!quick, ...cfg, batches: BATCHES,
      input: summary.input, macsPerImage: macs, params: summary.params,
      quantlabQuantize: quantConfig,
      ort: { backend: 'wasm', numThreads: ort.env.wasm.numThreads, simd: ort.env.wasm.simd, proxy: ort.env.wasm.proxy, graphOptimizationLevel: 'all' },
      inputs: `digits-test.bin images 0..${maxBatch - 1}, preprocessed by quantlab`,
    },
    checks,
    cells,
    speedups,
    ortInt8ProfileRuns: { batches: BATCHES, runsPerBatch: profileRuns },
  };
}

self.onmessage = async (e) => {
  try {
    post({ type: 'done', result: await run(e.data ?? {}) });
  } catch (err) {
    post({ type: 'error', message: err?.stack || String(err) });
  }
};
