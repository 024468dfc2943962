// tfjs-wasm (XNNPACK inside) on the same weights and digits as quantlab, for `make bench`: a
// classic worker (tfjs ships as classic scripts), started by worker.js, which posts
// { x, n, layers, cfg, tickMs } per batch and gets { cell } back. Single-threaded SIMD binary,
// one thread, as onnxruntime-web is run. The layers are quantlab's own (Model.layerWeights),
// converted to tfjs' layouts: NHWC activations, HWIO conv kernels, and fc1's columns reordered
// from PyTorch's NCHW flattening to NHWC.
importScripts('../vendor/tfjs/tf.min.js', '../vendor/tfjs/tf-backend-wasm.min.js');

let ready = null;
let net = null;

async function setup(layers) {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tf.wasm.setWasmPaths(new URL('../vendor/tfjs/', self.location.href).href);
  tf.wasm.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  net = layers.map((l) => {
    if (l.kind === 'conv2d') {
      const [m, c, k] = [l.m, l.c, l.k];
      const hwio = new Float32Array(k * k * c * m);
      for (let o = 0; o < m; o++) for (let i = 0; i < c; i++) for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) {
        hwio[((u * k + v) * c + i) * m + o] = l.weight[((o * c + i) * k + u) * k + v];
      }
      return { ...l, w: tf.tensor4d(hwio, [k, k, c, m]), b: tf.tensor1d(l.bias) };
    }
    if (l.kind === 'linear') {
      const [nOut, nIn] = [l.nOut, l.nIn];
      const w = new Float32Array(nIn * nOut); // [in, out], rows in NHWC order when flattened
      const [c, h, wd] = l.from ?? [nIn, 1, 1];
      for (let o = 0; o < nOut; o++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < h; i++) for (let j = 0; j < wd; j++) {
        w[((i * wd + j) * c + ch) * nOut + o] = l.weight[o * nIn + (ch * h + i) * wd + j];
      }
      return { ...l, w: tf.tensor2d(w, [nIn, nOut]), b: tf.tensor1d(l.bias) };
    }
    return l;
  });
}

function forward(x, n, input) {
  return tf.tidy(() => {
    let a = tf.tensor4d(x, [n, input[1], input[2], input[0]]); // C = 1: NCHW is NHWC
    for (const l of net) {
      if (l.kind === 'conv2d') a = tf.add(tf.conv2d(a, l.w, 1, l.pad), l.b);
      else if (l.kind === 'relu') a = tf.relu(a);
      else if (l.kind === 'maxpool2d') a = tf.maxPool(a, 2, 2, 'valid');
      else if (l.kind === 'flatten') a = tf.reshape(a, [n, -1]);
      else if (l.kind === 'linear') a = tf.add(tf.matMul(a, l.w), l.b);
    }
    return a;
  });
}

function quantile(sorted, q) {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

self.onmessage = async (e) => {
  try {
    const { x, n, layers, input, cfg, tickMs } = e.data;
    if (!ready) ready = setup(layers);
    await ready;
    const call = () => { const y = forward(x, n, input); const d = y.dataSync(); y.dispose(); return d; };
    const logits = call();
    let calls = 0;
    let t0 = performance.now();
    while (calls < cfg.warmupCalls || performance.now() - t0 < cfg.warmupTime * 1000) { call(); calls++; }
    const k = Math.max(1, Math.ceil((100 * tickMs) / ((performance.now() - t0) / calls)));
    const samples = [];
    t0 = performance.now();
    while (samples.length < cfg.minSamples || performance.now() - t0 < cfg.minTime * 1000) {
      const s = performance.now();
      for (let j = 0; j < k; j++) call();
      samples.push((performance.now() - s) / k);
    }
    samples.sort((a, b) => a - b);
    self.postMessage({ logits, version: tf.version.tfjs, median: quantile(samples, 0.5), p10: quantile(samples, 0.1), p90: quantile(samples, 0.9), samples: samples.length, callsPerSample: k });
  } catch (err) {
    self.postMessage({ error: err?.stack || String(err) });
  }
};
