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
// Inputs are real test digits (digits-test.bin 0..63, preprocessed by quantlab), created once;
// every call returns a fresh output array, for both libraries.
import init, { Digits, Model, version } from '../pkg/quantlab.js';

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
  await init();
  const tick = timerResolution();
  const tickMs = Math.max(tick.medianMs, 0.001);

  const model = Model.baseline();
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

  const paths = [
    { id: 'ql-fp32', label: 'quantlab FP32', lib: 'quantlab', precision: 'fp32',
      make: (x, n) => () => model.forward(x, n) },
    { id: 'ql-int8-sim', label: 'quantlab INT8 simulated', lib: 'quantlab', precision: 'int8-simulated',
      make: (x, n) => () => q.forwardSimulated(x, n) },
    { id: 'ql-int8', label: 'quantlab INT8', lib: 'quantlab', precision: 'int8',
      make: (x, n) => () => q.forward(x, n) },
    { id: 'ort-fp32', label: 'ort-web FP32', lib: 'onnxruntime-web', precision: 'fp32', isAsync: true,
      make: (x, n) => ortCall(ortFp32, x, n) },
    { id: 'ort-int8', label: 'ort-web INT8', lib: 'onnxruntime-web', precision: 'int8', isAsync: true,
      make: (x, n) => ortCall(ortInt8, x, n) },
  ];
  function ortCall(session, x, n) {
    const feeds = { input: new ort.Tensor('float32', x, [n, ...summary.input]) };
    return async () => (await session.run(feeds)).logits.data;
  }

  // Correctness first, on the largest batch: every path must classify the digits like FP32 does.
  const reference = model.forward(xAll, maxBatch);
  const refPred = argmaxes(reference, maxBatch, classes);
  const refInt8 = q.forward(xAll, maxBatch);
  const checks = {};
  for (const p of paths) {
    const y = await p.make(xAll, maxBatch)();
    const pred = argmaxes(y, maxBatch, classes);
    checks[p.id] = {
      accuracy: pred.filter((c, i) => c === labels[i]).length / maxBatch,
      agreementWithQuantlabFp32: pred.filter((c, i) => c === refPred[i]).length / maxBatch,
      maxAbsLogitDiffVsQuantlabFp32: maxAbsDiff(y, reference),
      maxAbsLogitDiffVsQuantlabInt8: maxAbsDiff(y, refInt8),
    };
  }

  const cells = [];
  for (const n of BATCHES) {
    const x = xAll.slice(0, n * inputLen);
    for (const p of paths) {
      progress(`timing ${p.label}, batch ${n}`);
      const m = await measure(p.make(x, n), !!p.isAsync, cfg, tickMs);
      const perImage = (v) => v / n;
      const median = perImage(m.median);
      cells.push({
        path: p.id, label: p.label, library: p.lib, precision: p.precision, batch: n,
        medianMsPerImage: median, p10MsPerImage: perImage(m.p10), p90MsPerImage: perImage(m.p90),
        medianMsPerCall: m.median,
        runs: m.runs, samples: m.samples, callsPerSample: m.callsPerSample, seconds: m.seconds,
        gmacPerS: macs / (median * 1e-3) / 1e9,
      });
    }
  }

  const med = (id, n) => cells.find((c) => c.path === id && c.batch === n).medianMsPerImage;
  // speedup of A over B = median time of B / median time of A (> 1: A is faster).
  const speedups = [];
  const add = (what, a, b, n) => speedups.push({ what, faster: a, than: b, batch: n, speedup: med(b, n) / med(a, n) });
  for (const n of BATCHES) {
    add('int8 vs fp32 (quantlab, true int8)', 'ql-int8', 'ql-fp32', n);
    add('int8 vs fp32 (quantlab, simulated int8)', 'ql-int8-sim', 'ql-fp32', n);
    add('int8 vs fp32 (ort-web)', 'ort-int8', 'ort-fp32', n);
    add('ours vs ort (fp32)', 'ql-fp32', 'ort-fp32', n);
    add('ours vs ort (int8)', 'ql-int8', 'ort-int8', n);
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
    versions: { quantlab: version(), onnxruntimeWeb: ort.env.versions?.web ?? null },
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
