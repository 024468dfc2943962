// Wiring: load the wasm core, start each section of the app, report readiness for tests.
import { loadCore, preferredBuild } from './wasm-build.js';
import { Explorer } from './explorer.js';
import { Lab } from './lab/controller.js';
import { baselineBytes } from './lab-model.js';
import { LectureTools } from './lecture.js';
import { Guide } from './guide.js';

let api;
let build;
/** The shipped model's file, fetched while the module loads (null if that failed: the lab says why). */
let modelBytes = null;
let modelError = null;

async function main() {
  const [core, bytes] = await Promise.all([
    loadCore(preferredBuild(location.href)),
    baselineBytes().catch((err) => { modelError = err; return null; }),
  ]);
  ({ api, build } = core);
  modelBytes = bytes;
  document.documentElement.dataset.build = build;
  document.getElementById('wasm-version').textContent = `v${api.version()}`;
  document.getElementById('timer-note').textContent = crossOriginIsolated
    ? 'timer resolution about 5 µs (cross-origin isolated)'
    : 'timer resolution about 100 µs (not cross-origin isolated)';

  // URL state, presenter mode, embeds, sharing, offline (js/lecture.js): the mode is laid out first.
  const lecture = new LectureTools(api);
  const explorer = new Explorer(document.getElementById('explorer'), api);
  // A debug mirror of each section's state, for bug reports and tests. The e2e tests assert on
  // the DOM a user sees and read this only for what no element shows: frame counters (drawn or
  // refused) and the lab's redraw time; which settings each worker view shows (have/want,
  // e2e/support.mjs labSettled); the time from a setting to its accuracy; which drawing a
  // prediction is of, and INT8 probabilities finer than the pad's 0.1 %; which timing run is on
  // screen; what each section was told about being in view; whether the sweep's helper, or in an
  // explorer embed the hidden lab's worker, started; how many model files loaded; the tasks the
  // presenter started; what is inside canvases (charts' scale and fonts, the QAT curve's points
  // and grids); a sweep point's INT8 size before packing; the Embed menu's opening; the URL
  // writes (in failure messages only); and the wasm API itself.
  window.__quantlab = explorer.debug;
  explorer.start();
  const lab = startLab(lecture);
  trackSections();
  trackHeader();
  lecture.start({ explorer, lab });
  window.__quantlab.lecture = lecture.debug;
  if (!lecture.mode.ui.embed) {
    const guide = new Guide({ explorer, lab, url: lecture.url });
    guide.start();
    window.__quantlab.guide = guide.debug;
  }
  // Ready once the first frame has drawn every view.
  await new Promise((resolve) => {
    // (An embed of a lab view hides the explorer, which then draws nothing: ready at once.)
    const poll = () => (explorer.debug.redraws > 0 || explorer.debug.errors > 0 || explorer.debug.visible === false ? resolve() : requestAnimationFrame(poll));
    poll();
  });
  document.documentElement.dataset.ready = 'true';
}

/** The sticky header's height, for what sticks below it (the phone's bits bars, style.css). */
function trackHeader() {
  const header = document.querySelector('.app-header');
  const set = () => document.documentElement.style.setProperty('--header-h', `${header.offsetHeight}px`);
  new ResizeObserver(set).observe(header);
  set();
}

/** Marks the nav link of the section in view. */
function trackSections() {
  const links = new Map([...document.querySelectorAll('.app-nav a')].map((a) => [a.hash.slice(1), a]));
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      for (const [id, a] of links) {
        if (id === e.target.id) a.setAttribute('aria-current', 'location');
        else a.removeAttribute('aria-current');
      }
    }
  }, { rootMargin: '-45% 0px -50% 0px' });
  for (const id of links.keys()) io.observe(document.getElementById(id));
}

/** The CNN lab: its own section, its own worker; a failure there leaves the explorer working. */
function startLab(lecture) {
  const root = document.getElementById('lab');
  try {
    if (!modelBytes) throw new Error(`the shipped model did not load (${modelError?.message ?? 'unknown error'})`);
    // js/early.js started the lab's worker before this module graph loaded, so both load at once.
    const worker = window.__quantlabEarlyWorker;
    if (!worker) throw new Error('this browser could not start its worker (module workers are needed)');
    const lab = new Lab(root, api, modelBytes, worker);
    window.__quantlab.lab = lab.debug;
    if (lecture.holdsLab()) lab.setVisible(false); // an embed without the lab: its worker waits
    lab.start();
    return lab;
  } catch (err) {
    document.getElementById('lab-alert').textContent = `The CNN lab could not start: ${err.message}`;
    console.error(err);
    return null;
  }
}

main().catch((err) => {
  const el = document.getElementById('explorer-alert');
  el.textContent = `quantlab could not start: ${err.message}`;
  console.error(err);
});
