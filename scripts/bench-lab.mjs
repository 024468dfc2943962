// make bench-lab: how long the CNN lab makes someone wait, in one headless-Chromium run of the
// page as a user drives it (1280x800): the accuracy on all 2,000 test digits after a setting
// changes (target <= 400 ms), and the bit-width sweep after a change it depends on (target
// <= 3 s), split into changes of the weights (every weights-only part measured again), of the
// activations (the weights-only parts kept) and back to settings measured before (all kept).
// JSON on stdout, a table on stderr. Numbers, never a pass/fail: the targets are read off here.
import os from 'node:os';
import { launch, serve, close, guardedPage, setLabControl } from '../e2e/support.mjs';

const ROUNDS = Number(process.env.BENCH_LAB_ROUNDS ?? 12);

const quantile = (xs, q) => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor(q * v.length))];
};
const stats = (xs) => ({ medianMs: quantile(xs, 0.5), p10Ms: quantile(xs, 0.1), p90Ms: quantile(xs, 0.9), n: xs.length, ms: xs });

const { server, base } = await serve();
const browser = await launch();
const problems = [];
let result;
try {
  const { page } = await guardedPage(browser, problems, { viewport: { width: 1280, height: 800 } });
  await page.goto(`${base}#lab`);
  await page.waitForSelector('#lab[data-ready="true"]', { timeout: 30000 });
  const settled = (views) => page.waitForFunction((vs) => {
    const l = window.__quantlab.lab;
    return vs.every((v) => l.have[v] !== undefined && l.have[v] === l.want[v]);
  }, views, { timeout: 120000 });
  await settled(['report', 'eval', 'sens', 'sweep']);
  const lab = (expr) => page.evaluate(`(() => { const l = window.__quantlab.lab; return ${expr}; })()`);
  const first = await lab('({ firstAccuracyMs: l.firstAccuracyMs, sweepMs: l.sweep.ms, kernels: l.timing?.kernels ?? null })');
  process.stderr.write(`[bench-lab] page ready; first sweep ${first.sweepMs.toFixed(0)} ms from its request\n`);

  // The accuracy after a change: the activation bits back and forth (a new quantized model each
  // time, evaluated from scratch: the core keeps logits per quantized model only).
  const evals = { latency: [], compute: [], provisional: [] };
  for (let i = 0; i < ROUNDS; i++) {
    await setLabControl(page, 'lab-abits', i % 2 ? 8 : 7, { wait: ['report', 'eval', 'sens', 'sweep'] });
    const d = await lab('({ latency: l.evalLatencyMs, compute: l.lastEvalMs, provisional: l.provisionalLatencyMs })');
    for (const k of Object.keys(evals)) evals[k].push(d[k]);
  }
  process.stderr.write(`[bench-lab] ${ROUNDS} evaluations timed\n`);

  // The sweep after a change, as the worker times it (from the settings message that asked for
  // it), and when the page has settled (from the control's change until every view, the
  // sensitivity last, shows the new settings).
  // Three weight and three activation changes, then back the same way, so each step back
  // returns to settings measured before.
  const forth = [
    ['weights', 'lab-granularity', 'tensor', 'channel'], ['activations', 'lab-method', 'mse', 'minmax'],
    ['activations', 'lab-scheme', 'symmetric', 'asymmetric'], ['weights', 'lab-equalize', true, false],
    ['activations', 'lab-method', 'entropy', 'mse'], ['weights', 'lab-biascorr', true, false],
  ];
  const cases = [
    ...forth.map(([kind, id, value]) => [kind, id, value]),
    ...[...forth].reverse().map(([, id, , back]) => ['kept', id, back]),
  ];
  const sweeps = [];
  for (const [kind, id, value] of cases) {
    const t0 = await page.evaluate(() => performance.now());
    await setLabControl(page, id, value, { wait: ['report', 'eval', 'sens', 'sweep'], timeout: 120000 });
    const d = await page.evaluate((start) => ({ ms: window.__quantlab.lab.sweep.ms, shownMs: performance.now() - start }), t0);
    sweeps.push({ kind, control: id, value, workerMs: d.ms, pageMs: d.shownMs });
    process.stderr.write(`[bench-lab] sweep after ${id} = ${value}: ${d.ms.toFixed(0)} ms\n`);
  }
  const byKind = Object.fromEntries(['weights', 'activations', 'kept'].map((k) => [k, stats(sweeps.filter((s) => s.kind === k).map((s) => s.workerMs))]));
  const info = await page.evaluate(() => ({ userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency }));
  result = {
    host: { cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAvg1m: os.loadavg()[0] },
    browser: info,
    rounds: ROUNDS,
    firstLoad: first,
    eval: { latency: stats(evals.latency), compute: stats(evals.compute), provisional: stats(evals.provisional) },
    sweeps,
    sweepByKind: byKind,
    targets: { evalLatencyMs: 400, sweepMs: 3000 },
    problems,
  };
} finally {
  await browser.close();
  await close(server);
}

const f = (s) => `${s.medianMs.toFixed(0).padStart(5)} ms (p10 ${s.p10Ms.toFixed(0)}, p90 ${s.p90Ms.toFixed(0)}, n ${s.n})`;
const lines = [
  `quantlab lab latency, ${result.browser.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? result.browser.userAgent}, ${result.host.cpuModel}, ${result.browser.cores} cores`,
  `first load: accuracy shown ${result.firstLoad.firstAccuracyMs.toFixed(0)} ms after navigation, sweep ${result.firstLoad.sweepMs.toFixed(0)} ms from its request`,
  '',
  'after a setting changes (activation bits 8 <-> 7; target: accuracy on 2,000 digits shown <= 400 ms)',
  `  accuracy on 2,000 digits shown   ${f(result.eval.latency)}`,
  `    of which the evaluation runs   ${f(result.eval.compute)}`,
  `  provisional (first 250) shown    ${f(result.eval.provisional)}`,
  '',
  'the bit-width sweep (7 bit widths x 2 paths + 2 float formats) from its request (target <= 3 s)',
  `  weight settings changed           ${f(result.sweepByKind.weights)}`,
  `  activation settings changed       ${f(result.sweepByKind.activations)}`,
  `  back to settings measured before  ${f(result.sweepByKind.kept)}`,
  ...result.sweeps.map((s) => `    ${s.kind.padEnd(12)}${`${s.control} = ${s.value}`.padEnd(28)}${s.workerMs.toFixed(0).padStart(6)} ms (the page settled, sensitivity last, ${s.pageMs.toFixed(0)} ms after the change)`),
];
if (result.problems.length) lines.push('', `problems: ${result.problems.join('; ')}`);
process.stderr.write(`${lines.join('\n')}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
