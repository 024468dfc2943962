// One view at a time: the layout presenter mode and embeds share (`focusView`), and presenter
// mode itself: full screen, large type, arrow keys stepping through named scenes (views.js).
//
// The layout is classes only (style: modes.css): `html.focus` hides the page chrome; the view's
// section gets `.focus-section`, the elements the view shows `.focus-on`, and the controls the
// view keeps `.focus-on` on themselves, their `.field` and fieldset. Nothing is moved or rebuilt,
// so every control keeps working and the URL state stays the same.
//
// The presenter bar shows the scene's title and its takeaway (views.js), the one sentence the
// scene is there to teach.
import { VIEWS } from './views.js';
import { CONTROL_IDS } from './url-state.js';
import { refreshCharts } from './charts.js';

const FOCUS_CLASSES = ['focus-on', 'focus-section', 'focus-partial', 'focus-single', 'focus-somecontrols', 'focus-nocontrols', 'focus-hidden'];

/**
 * Shows only view `name` ('' = the whole page). `controls`: 'shown' | 'hidden' | 'locked'
 * (locked = visible but disabled); `hide`: URL keys of single controls to hide (url-state.js).
 */
export function focusView(name, { controls = 'shown', hide = [] } = {}) {
  const html = document.documentElement;
  for (const cls of FOCUS_CLASSES) {
    for (const el of document.querySelectorAll(`.${cls}`)) el.classList.remove(cls);
  }
  for (const el of document.querySelectorAll('[data-focus-locked]')) {
    el.disabled = false;
    delete el.dataset.focusLocked;
  }
  const view = VIEWS[name];
  html.classList.toggle('focus', Boolean(view));
  html.classList.toggle('controls-locked', controls === 'locked');
  const sections = view ? [document.getElementById(view.section)] : [...document.querySelectorAll('main > section')];
  for (const section of sections) {
    if (!section) continue;
    if (view) {
      section.classList.add('focus-section');
      if (view.show) {
        section.classList.add('focus-partial');
        for (const sel of view.show) for (const el of section.querySelectorAll(sel)) el.classList.add('focus-on');
        // One figure (besides the headline numbers) takes the whole width, not one column of two.
        const figures = view.show.filter((sel) => sel !== '.keystats').flatMap((sel) => [...section.querySelectorAll(sel)]);
        section.classList.toggle('focus-single', figures.length === 1);
      }
      if (view.controls && view.controls.length && controls !== 'hidden') {
        section.classList.add('focus-somecontrols');
        for (const id of view.controls) {
          const el = document.getElementById(id);
          // The element itself too: a control that is no .field (the per-layer overrides) is a
          // direct child of its fieldset.
          el?.classList.add('focus-on');
          for (let f = el?.closest('.field'); f; f = f.parentElement.closest('.field')) f.classList.add('focus-on');
          el?.closest('fieldset')?.classList.add('focus-on');
        }
      }
    }
    if (controls === 'hidden' || (view?.controls && view.controls.length === 0)) section.classList.add('focus-nocontrols');
    if (controls === 'locked') {
      for (const el of section.querySelectorAll('form.controls fieldset, .timing-controls select')) {
        el.disabled = true;
        el.dataset.focusLocked = 'true';
      }
    }
  }
  for (const key of hide) {
    const el = document.getElementById(CONTROL_IDS[key]);
    // The outermost field: the seed's row also holds its "New seed" button.
    let field = el?.closest('.field');
    while (field?.parentElement?.closest('.field')) field = field.parentElement.closest('.field');
    (field ?? el?.closest('fieldset') ?? el)?.classList.add('focus-hidden');
  }
}

const editable = (t) => t instanceof Element && (t.isContentEditable ||
  t.matches('textarea, select, input:not([type="range"]):not([type="checkbox"]):not([type="radio"]):not([type="button"])'));
const formControl = (t) => t instanceof Element && t.matches('input, select, textarea');

/**
 * Presenter mode. `mode` is the page's mode (page-mode.js): its `ui` holds `present`, `scenes`
 * and `scene`, and `mode.patch()` changes them (and the URL).
 */
export class Presenter {
  constructor(mode) {
    this.mode = mode;
    this.bar = null;
    // `runs`: the tasks scenes started on arrival (lecture.js), for tests.
    this.debug = { steps: 0, runs: [] };
  }

  start() {
    document.addEventListener('keydown', (e) => this.onKey(e));
    document.addEventListener('fullscreenchange', () => this.syncBar());
  }

  get active() {
    return this.mode.ui.present;
  }

  /** The current scene's name and position. */
  where() {
    const { scenes, scene } = this.mode.ui;
    const i = Math.max(0, scenes.indexOf(scene));
    return { i, name: scenes[i], count: scenes.length };
  }

  enter({ fullscreen = true } = {}) {
    if (this.mode.ui.embed) return;
    this.returnFocus = document.activeElement;
    this.mode.patch({ present: true, scene: this.mode.ui.scene || this.mode.ui.scenes[0] });
    if (fullscreen && document.fullscreenEnabled && !document.fullscreenElement) {
      document.documentElement.requestFullscreen().catch(() => {});
    }
    this.bar?.querySelector('.pm-next')?.focus({ preventScroll: true });
  }

  exit() {
    const { name } = this.where();
    this.mode.patch({ present: false });
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    document.getElementById(VIEWS[name]?.section ?? 'explorer')?.scrollIntoView({ block: 'start' });
    (this.returnFocus instanceof HTMLElement && this.returnFocus.isConnected ? this.returnFocus : document.getElementById('present-toggle'))?.focus({ preventScroll: true });
  }

  go(i) {
    const { scenes } = this.mode.ui;
    const j = Math.min(scenes.length - 1, Math.max(0, i));
    if (scenes[j] === this.where().name && this.mode.ui.scene) return;
    this.debug.steps++;
    this.mode.patch({ scene: scenes[j] });
    window.scrollTo(0, 0);
  }

  onKey(e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target;
    if ((e.key === 'p' || e.key === 'P') && !editable(t) && !this.mode.ui.embed) {
      e.preventDefault();
      if (this.active) this.exit(); else this.enter();
      return;
    }
    if (!this.active) return;
    const { i, count } = this.where();
    // Arrow keys belong to a focused slider or select; PageUp/PageDown (presentation clickers) never do.
    const arrowsFree = !formControl(t);
    const keys = {
      ArrowRight: arrowsFree && (() => this.go(i + 1)),
      ArrowLeft: arrowsFree && (() => this.go(i - 1)),
      PageDown: () => this.go(i + 1),
      PageUp: () => this.go(i - 1),
      Home: arrowsFree && (() => this.go(0)),
      End: arrowsFree && (() => this.go(count - 1)),
      Escape: () => this.exit(),
      f: !editable(t) && (() => this.toggleFullscreen()),
    };
    const action = keys[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }

  toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else document.documentElement.requestFullscreen?.().catch(() => {});
  }

  /** Draws the presenter bar for the current scene (or removes it). Called by the page mode. */
  render() {
    if (!this.active) {
      this.barSize?.disconnect();
      this.bar?.remove();
      this.bar = null;
      document.documentElement.style.removeProperty('--pm-bar-h');
      return;
    }
    if (!this.bar) this.bar = this.buildBar();
    this.syncBar();
  }

  buildBar() {
    const bar = document.createElement('div');
    bar.className = 'pm-bar';
    bar.setAttribute('role', 'region');
    bar.setAttribute('aria-label', 'Presenter');
    // Title and takeaway are one live region, so a screen reader says both on each new scene.
    bar.innerHTML =
      '<p class="pm-count" aria-hidden="true"></p>' +
      '<div class="pm-heading" aria-live="polite" aria-atomic="true"><h1 class="pm-title" id="pm-title"></h1>' +
      '<p class="pm-takeaway" id="pm-takeaway"></p></div>' +
      '<div class="pm-buttons">' +
      '<button type="button" class="button pm-prev" aria-label="Previous scene" aria-keyshortcuts="ArrowLeft PageUp" title="Previous scene (← or PageUp)">← <span class="pm-label">Previous</span></button>' +
      '<button type="button" class="button pm-next" aria-label="Next scene" aria-keyshortcuts="ArrowRight PageDown" title="Next scene (→ or PageDown)"><span class="pm-label">Next</span> →</button>' +
      '<button type="button" class="button pm-full" aria-keyshortcuts="F" title="Full screen (F)">Full screen</button>' +
      '<button type="button" class="button pm-exit" aria-keyshortcuts="Escape P" title="Leave presenter mode (Esc or P)">Exit</button>' +
      '</div>' +
      '<p class="pm-help">← → step through the scenes · F full screen · Esc or P leaves</p>';
    bar.querySelector('.pm-prev').addEventListener('click', () => this.go(this.where().i - 1));
    bar.querySelector('.pm-next').addEventListener('click', () => this.go(this.where().i + 1));
    bar.querySelector('.pm-full').addEventListener('click', () => this.toggleFullscreen());
    bar.querySelector('.pm-exit').addEventListener('click', () => this.exit());
    document.body.prepend(bar);
    // The scene's charts take the screen below the bar (modes.css: --chart-height), and the bar is
    // as tall as its takeaway makes it: its height goes into --pm-bar-h, and the charts re-fit.
    this.barSize = new ResizeObserver(() => {
      const h = `${Math.ceil(bar.getBoundingClientRect().height)}px`;
      if (document.documentElement.style.getPropertyValue('--pm-bar-h') === h) return;
      document.documentElement.style.setProperty('--pm-bar-h', h);
      refreshCharts();
    });
    this.barSize.observe(bar);
    return bar;
  }

  syncBar() {
    if (!this.bar) return;
    const { i, name, count } = this.where();
    this.bar.querySelector('.pm-count').textContent = `${i + 1} / ${count}`;
    this.bar.querySelector('.pm-title').textContent = VIEWS[name].title;
    const takeaway = this.bar.querySelector('.pm-takeaway');
    takeaway.textContent = VIEWS[name].takeaway ?? '';
    takeaway.hidden = !VIEWS[name].takeaway;
    this.bar.querySelector('.pm-prev').disabled = i === 0;
    this.bar.querySelector('.pm-next').disabled = i === count - 1;
    this.bar.querySelector('.pm-full').textContent = document.fullscreenElement ? 'Leave full screen' : 'Full screen';
    this.bar.querySelector('.pm-full').hidden = !document.fullscreenEnabled;
    this.bar.dataset.scene = name;
  }
}
