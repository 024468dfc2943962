// Timing: FP32, simulated INT8 and true INT8 per image as measured inside the module (median,
// p10–p90), the kernel-table entry behind each bar, where the time goes per step, and a "why"
// built from the measured numbers, the probe and the micro-benchmark's ceilings.
import { applyCss } from '../csp.js';
import { kib, thousands, msPerImage, pathLabel, pathColor } from './text.js';

/** The instruction-throughput ceiling of table entry `entry` (GMAC/s), from the micro-benchmark. */
const ceiling = (m, entry) => m.peaks?.flatMap((p) => p.entries).find((e) => e.entry === entry)?.gmacPerS ?? null;

/** `timer`: the worker's {isolated, resolutionMs}: a sentence. */
export function timerText(t) {
  if (!t) return 'unknown';
  return `${t.isolated ? 'cross-origin isolated' : 'not cross-origin isolated'}: timer steps of about ${(t.resolutionMs * 1000).toFixed(t.resolutionMs < 0.01 ? 1 : 0)} µs`;
}

/** Before any run: what a run does. */
export function renderIdle(el, { timer, note = null }) {
  const t = timerText(timer);
  el.querySelector('#lab-timing').innerHTML = `<p class="hbar-note">${note ?? `Not run yet: a quick run takes a few seconds and the page stays usable meanwhile. ${t[0].toUpperCase()}${t.slice(1)}.`}</p>`;
  el.querySelector('#lab-timing-scope').textContent = '';
  for (const id of ['lab-timing-steps', 'lab-why']) el.querySelector(`#${id}`).replaceChildren();
}

/** Which build and kernel-table entries run here, and what the probe saw; fills the INT8 entry select once. */
export function renderKernels(el, k) {
  const sel = el.querySelector('#lab-int8-kernel');
  if (sel.options.length === 2) {
    for (const name of k.int8.available) sel.add(new Option(`${name}${name === k.int8.best ? ' (chosen)' : ''}`, name), sel.options[1]);
  }
  const pairs = { unsigned: 'it reads the activations as unsigned, exact for weights within ±64', signed: 'it reads them as signed', other: 'neither' }[k.probe.pairs];
  const probe = k.build === 'relaxed'
    ? `the probe ran the relaxed dot on test vectors and saw (${k.probe.dotSamples.join(', ')}): it ${k.probe.describe}; ` +
      `its int16 form saw (${k.probe.pairSamples.join(', ')}): ${pairs}`
    : 'this browser has no relaxed SIMD, so no probe ran';
  const entry = (part, name) => part.entries.find((e) => e.name === name);
  const best = entry(k.int8, k.int8.best);
  const int8 = best.weightLimit != null
    ? `<code>${best.entry}</code> for weights within ±${best.weightLimit} (${Math.log2(best.weightLimit) + 1} bits or fewer) and <code>${entry(k.int8, best.fallback).entry}</code> for wider ones`
    : `<code>${best.entry}</code>`;
  el.querySelector('#lab-kernel-note').innerHTML = `Build <strong>${k.build}</strong>: ${probe}. ` +
    `INT8 runs ${int8}, FP32 <code>${entry(k.fp32, k.fp32.best).entry}</code>.`;
}

/** A row's name: a quantized model that runs as the QDQ graph is not called true INT8. */
const label = (r) => (r.path === 'qdq' ? 'QDQ graph (float)' : pathLabel(r.id));

/** The entries an INT8 run's layers ran, each with its layers (usdot7 packs 8-bit weights for dot16). */
function layerKernels(r) {
  const by = new Map();
  for (const s of r.steps ?? []) if (s.kernel) by.set(s.kernel, [...(by.get(s.kernel) ?? []), s.name]);
  return by;
}

/** The entry a run's layers ran: its one layer kernel, else (mixed, or not profiled) the entry asked for. */
function ran(r) {
  const ks = layerKernels(r);
  return ks.size === 1 ? [...ks.keys()][0] : r.kernel;
}

/** The bar's kernel text: the entry that ran, and which layers ran another one and why (`k`: kernelInfo). */
function kernelText(r, k) {
  const fb = [...layerKernels(r)].filter(([name]) => name !== r.kernel);
  if (!fb.length) return `<code>${r.kernel}</code>`;
  const all = ran(r) !== r.kernel;
  const limit = k.int8.entries.find((e) => e.entry === r.kernel)?.weightLimit;
  const why = limit != null ? `: weights beyond ±${limit}` : '';
  if (all) return `<code>${ran(r)}</code> (asked for <code>${r.kernel}</code>${why})`;
  return `<code>${r.kernel}</code>, ${fb.map(([k, names]) => `${names.join(', ')} on <code>${k}</code>`).join('; ')}${why}`;
}

/**
 * `el`: #lab-fig-timing. `data`: { timing (the worker's timing message), report, summary, timer }.
 */
export function render(el, { timing: m, report, summary, timer }) {
  const byId = Object.fromEntries(m.results.map((r) => [r.id, r]));
  const maxP90 = Math.max(...m.results.map((r) => r.p90Ms));
  const f = byId.fp32.medianMs;
  el.querySelector('#lab-timing-scope').textContent = `batch ${m.batch}, ${m.samples} runs`;
  const bars = el.querySelector('#lab-timing');
  bars.innerHTML = m.results.map((r) => {
    const w = (r.medianMs / maxP90) * 100;
    const lo = (r.p10Ms / maxP90) * 100;
    const hi = (r.p90Ms / maxP90) * 100;
    const vs = r.id === 'fp32' ? 'reference' : r.medianMs < f ? `${(f / r.medianMs).toFixed(2)}× faster` : `${(r.medianMs / f).toFixed(2)}× slower`;
    const c = ceiling(m, ran(r));
    return `<div class="hbar-row" data-path="${r.id}"><span class="hbar-label" data-css="color:${pathColor(r.id)}">${label(r)}</span>` +
      `<div class="hbar"><span class="hbar-fill" data-css="width:${w.toFixed(2)}%; background:${pathColor(r.id)}"></span>` +
      `<span class="hbar-whisker" data-css="left:${lo.toFixed(2)}%; width:${Math.max(0.5, hi - lo).toFixed(2)}%"></span></div>` +
      `<span class="hbar-val"><strong>${msPerImage(r.medianMs)}</strong></span>` +
      `<span class="hbar-sub">${kernelText(r, m.kernels)} · p10–p90 ${msPerImage(r.p10Ms)} – ${msPerImage(r.p90Ms)} · ${r.gmacs.toFixed(2)} GMAC/s` +
      `${c && r.id !== 'simulated' ? ` (${Math.round((100 * r.gmacs) / c)}% of this machine's ceiling for it)` : ''} · ${vs}` +
      `${r.jsCallMs ? ` · as a JS call, copies included: ${msPerImage(r.jsCallMs)}` : ''}</span></div>`;
  }).join('') + '<p class="hbar-note">Bar: median time per image inside the module; whisker: 10th to 90th percentile of the runs.</p>';
  applyCss(bars);
  renderKernels(el, m.kernels);
  steps(el.querySelector('#lab-timing-steps'), m);
  el.querySelector('#lab-why').innerHTML = why(m, byId, report, summary, timer);
}

/** Per-step time per image of the FP32 and chosen INT8 runs. */
function steps(t, m) {
  const rows = m.results.filter((r) => r.steps?.length && (r.id === 'fp32' || r.id === 'int8')); // a QDQ run has none
  if (!rows.length) { t.innerHTML = ''; return; }
  // Rows in pipeline order: each name at its earliest position in either run (input first).
  const at = (n) => Math.min(...rows.map((r) => { const i = r.steps.findIndex((x) => x.name === n); return i < 0 ? Infinity : i; }));
  const names = [...new Set(rows.flatMap((r) => r.steps.map((s) => s.name)))].sort((a, b) => at(a) - at(b));
  // An INT8 layer names the entry it ran when that is not the run's own (usdot7's dot16 layers).
  const cell = (r, n) => {
    const s = r.steps.find((x) => x.name === n);
    if (!s) return '–';
    const other = s.kernel && s.kernel !== r.kernel ? ` <span class="step-kernel">(${s.kernel.replace('gemm_int8_', '')})</span>` : '';
    return msPerImage(s.ms) + other;
  };
  t.innerHTML = `<caption>Where the time goes (per image, profiled runs)</caption><thead><tr><th scope="col">step</th>${rows.map((r) => `<th scope="col" class="num">${label(r)}</th>`).join('')}</tr></thead>` +
    `<tbody>${names.map((n) => `<tr><th scope="row">${n}</th>${rows.map((r) => `<td class="num">${cell(r, n)}</td>`).join('')}</tr>`).join('')}</tbody>`;
}

/** Multiply-adds per instruction of the entries that ran, and what this machine reaches. */
function instructionsWhy(m, byId) {
  const k = m.kernels;
  const f = (v) => (v ? `${v.toFixed(1)} GMAC/s` : 'not measured');
  const per = (e) => (Number.isInteger(e.macsPerInstruction) ? e.macsPerInstruction : e.macsPerInstruction.toFixed(2));
  const i8 = k.int8.entries.find((e) => e.entry === ran(byId.int8));
  const f32 = k.fp32.entries.find((e) => e.entry === byId.fp32.kernel);
  const parts = [
    `FP32 ran <code>${f32.instruction}</code>, ${per(f32)} multiply-adds per instruction (this machine's ceiling for it: ${f(ceiling(m, f32.entry))}).`,
    `INT8 ran <code>${i8.instruction}</code>, ${per(i8)} per instruction (ceiling ${f(ceiling(m, i8.entry))}).`,
  ];
  if (k.probe.pairs === 'unsigned' && k.probe.dot !== 'usdot') {
    const u7 = k.int8.entries.find((e) => e.name === 'usdot7');
    const wide = ran(byId.int8) !== u7.entry && byId.int8.kernel === u7.entry;
    parts.push(`The relaxed dot <code>i32x4.relaxed_dot_i8x16_i7x16_add_s</code> would do 16 per instruction, but here it ${k.probe.describe} (no AVX-VNNI: three x86 instructions).` +
      ` Its int16 form <code>i16x8.relaxed_dot_i8x16_i7x16_s</code> is one <code>pmaddubsw</code> here: it reads the activations as unsigned and sums each pair of products in int16, exact whenever every weight is within ±64, so 7-bit weights (onnxruntime's <code>reduce_range</code> for x86 without VNNI) run <code>usdot7</code>,` +
      ` ${per(u7)} per instruction (ceiling ${f(ceiling(m, u7.entry))}; within ±32, 6 bits or fewer, two pair sums are added in int16 before they are widened: 6.4); 8-bit weights run <code>dot16</code>.` +
      `${wide ? ' These weights have 8 bits: set Weight bits to 7 or fewer to time <code>usdot7</code>.' : ''}`);
  } else if (k.build === 'relaxed' && k.probe.dot !== 'usdot') {
    parts.push(`The relaxed dot <code>i32x4.relaxed_dot_i8x16_i7x16_add_s</code> would do 16 per instruction, but here it ${k.probe.describe}, so it is exact only on 7-bit operands: ` +
      `<code>split</code> needs two of them per 16 multiply-adds${k.probe.dot === 'other' ? ', and this engine builds each from three x86 instructions (no AVX-VNNI), so <code>dot16</code> is faster' : ''}.`);
  } else if (k.probe.dot === 'usdot') {
    parts.push('Here the relaxed dot reads its second operand as unsigned without saturating (one <code>vpdpbusd</code>): an exact uint8 × int8 dot of 16 multiply-adds.');
  } else {
    parts.push('This browser has no relaxed SIMD, so the widest exact integer dot is <code>i32x4.dot_i16x8_s</code>.');
  }
  parts.push('Quantizing the input, requantizing and pooling do not shrink with the dot.');
  return parts.join(' ');
}

/** The "why", from the measured numbers and the model's sizes. */
function why(m, byId, r, summary, timer) {
  const f = byId.fp32.medianMs;
  const i8 = byId.int8.medianMs;
  const sim = byId.simulated.medianMs;
  // Tensors written per image: the input, each conv (ReLU fused), pool and fc output.
  const actElems = summary.layers.reduce((sum, l) => sum + (l.kind === 'flatten' || l.kind === 'relu' ? 0 : l.outputShape.reduce((a, b) => a * b, 1)), summary.input.reduce((a, b) => a * b, 1));
  const speed = i8 < f ? `${(f / i8).toFixed(2)}× faster than FP32` : `${(i8 / f).toFixed(2)}× slower than FP32`;
  const fp = byId.fp32;
  const simVs = sim >= fp.p10Ms && sim <= fp.p90Ms
    ? `about as fast as FP32 (${msPerImage(sim)}, inside FP32's p10–p90 spread)`
    : sim > f ? `${(sim / f).toFixed(2)}× slower than FP32` : `${(f / sim).toFixed(2)}× faster than FP32`;
  const weightBytes = r ? `${kib(r.bytesFp32)} of float32 weights against ${kib(r.bytesInt8)} in INT8` : 'four times fewer weight bytes';
  if (byId.int8.path === 'qdq') {
    return '<h3 class="subhead">Why</h3><ul>' +
      `<li><strong>No integer kernel for these settings:</strong> group-wise scales, dynamic activations and float formats run as the QDQ graph, on the float kernels, with every activation rounded on the way: ${speed} (${msPerImage(i8)} vs ${msPerImage(f)} per image, batch ${m.batch}). What they save is size or accuracy, not time; set per-channel or per-tensor weights and a calibration method to time true INT8.</li>` +
      `<li><strong>Timer:</strong> ${timerText(timer)}; each run timed ${m.reps} forward call${m.reps > 1 ? 's' : ''} in a row, so a run spans many timer steps.</li></ul>`;
  }
  return '<h3 class="subhead">Why</h3><ul>' +
    `<li><strong>Measured:</strong> true INT8 ran ${speed} (${msPerImage(i8)} vs ${msPerImage(f)} per image, batch ${m.batch}).</li>` +
    `<li><strong>Bytes moved:</strong> ${weightBytes}; per image about ${thousands(actElems)} activations, ${kib(actElems * 4)} as float32 and ${kib(actElems)} as int8. Weights this small fit in a typical CPU's L2 cache either way, so fewer bytes help less here than in a large model.</li>` +
    `<li><strong>Instructions:</strong> ${instructionsWhy(m, byId)}</li>` +
    `<li><strong>Simulated INT8</strong> (the course module's path) turns all ${thousands(summary.params)} weights back into floats on every call and then runs the same float kernels: ${simVs}. Quantizing only the storage saves memory, not time.</li>` +
    `<li><strong>Timer:</strong> ${timerText(timer)}; each run timed ${m.reps} forward call${m.reps > 1 ? 's' : ''} in a row, so a run spans many timer steps.</li></ul>`;
}
