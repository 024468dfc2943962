// Everything for lectures and course pages, wired in one place: the URL state (url-state.js),
// presenter mode and embeds (page-mode.js, present.js), the postMessage API (embed.js), the
// share tools (share.js), work only in view (visibility.js), screen-reader support (a11y.js)
// and the offline copy (offline.js). main.js creates this before the sections start (so the
// view is laid out before the first frame) and calls start() once they run.
//
// Presenter mode prepares its scenes' work: while any scene of the talk is the lab's, the lab
// keeps working during the other scenes (so the sweep is measured before its scene comes), and a
// scene that `runs` a task (views.js: the speed scene's timing) starts it on arrival when the
// lab has no result for it yet.
import { UrlSync, LAB_URL_DEFAULTS } from './url-state.js';
import { PageMode } from './page-mode.js';
import { EmbedApi } from './embed.js';
import { ShareTools } from './share.js';
import { watchVisibility } from './visibility.js';
import { Access } from './a11y.js';
import { registerOffline } from './offline.js';
import { VIEWS } from './views.js';
import { chartsInfo } from './charts.js';

export class LectureTools {
  constructor(api) {
    this.api = api;
    this.framed = window.parent !== window;
    this.url = new UrlSync({ embedded: this.framed });
    this.mode = new PageMode(this.url.initial.ui, { onChange: () => this.url.changed(), onApply: () => this.onMode() });
    this.asked = new Set(); // the tasks scenes have started and whose result has not come yet
    this.mode.start();
  }

  /** Presenter mode with a lab scene in the talk: the lab works in every scene. */
  labNeeded() {
    const { present, embed, scenes } = this.mode.ui;
    return present && !embed && scenes.some((name) => VIEWS[name]?.section === 'lab');
  }

  /** After each change of mode: which sections work, and what the new scene starts. */
  onMode() {
    this.updateVisibility?.();
    const { lab, mode } = this;
    if (!lab || !mode.ui.present || mode.ui.embed) return;
    // Long tasks run on request only (they compete with the page for the machine): the scene that
    // shows one is the request. Once per run: stepping away and back does not restart it.
    const task = VIEWS[mode.view]?.runs;
    if (task && !lab.debug[task] && !this.asked.has(task)) {
      this.asked.add(task);
      lab.run(task);
      mode.presenter.debug.runs.push({ task, scene: mode.view });
    }
  }

  /** Whether section `name` is shown by the current mode (an embed of the lab hides the explorer). */
  shown(name) {
    const view = VIEWS[this.mode.view];
    return !view || view.section === name;
  }

  /** An embed that does not show the lab: the lab's worker loads nothing until it is shown. */
  holdsLab() {
    return Boolean(this.mode.ui.embed) && !this.shown('lab');
  }

  /** `explorer`: the Explorer; `lab`: the Lab, or null when it could not start. */
  start({ explorer, lab }) {
    const { url, mode } = this;
    this.explorer = explorer;
    this.lab = lab;
    url.attach('ui', { get: () => mode.get(), set: (ui) => mode.apply(ui) });
    url.attach('explorer', {
      get: () => explorer.state,
      set: (s) => { explorer.writeForm(s); explorer.schedule(); },
    });
    if (lab) {
      const batch = document.getElementById('lab-batch');
      const runs = document.getElementById('lab-samples');
      const setLab = (s) => {
        const known = [...document.getElementById('lab-layer').options].map((o) => Number(o.value));
        lab.writeForm({ ...s, layer: known.includes(s.layer) ? s.layer : LAB_URL_DEFAULTS.layer });
        batch.value = String(s.batch);
        runs.value = String(s.runs);
        lab.schedule();
      };
      url.attach('lab', {
        get: () => lab.state && { ...lab.state, batch: Number(batch.value), runs: Number(runs.value) },
        set: setLab,
      });
      setLab(url.initial.lab); // before the lab's first frame (a rAF away)
      for (const el of [batch, runs]) el.addEventListener('change', () => url.changed());
    }
    url.start();
    url.changed();
    this.interceptSectionLinks();
    if (url.initial.ui.at === 'lab' && !mode.view) {
      // After the explorer's first frame has given it its height.
      const go = () => document.getElementById('lab').scrollIntoView();
      requestAnimationFrame(() => requestAnimationFrame(go));
    }

    const targets = [{ name: 'explorer', el: explorer.root, section: explorer }];
    if (lab) targets.push({ name: 'lab', el: lab.root, section: lab });
    const watch = watchVisibility(targets, { keep: (name) => name === 'lab' && this.labNeeded() });
    this.visibility = watch.state;
    this.updateVisibility = watch.update;
    // A result ends the run a scene asked for (after a failure, the figure's own button).
    lab?.root.addEventListener('quantlab:result', (e) => this.asked.delete(e.detail?.type));
    this.access = new Access({ explorer, lab, isVisible: (name) => this.visibility.visible[name] !== false });
    this.access.start();
    const version = `v${this.api.version()}`;
    this.mode.fullLink = () => url.link({ embed: '', controls: 'shown', hide: [], origin: '' });
    if (this.framed) {
      this.embed = new EmbedApi({ url, mode, explorer, lab, version });
      this.embed.start();
    }
    if (!mode.ui.embed) {
      this.share = new ShareTools({ url, mode, sectionInView: () => this.sectionInView() });
      this.share.start();
    }
    this.debug = {
      url: url.debug, presenter: mode.presenter.debug, visibility: this.visibility, access: this.access.debug, embed: this.embed?.debug,
      share: this.share?.debug,
      get charts() { return chartsInfo(); },
    };
    this.onMode(); // a link straight to a scene arrives there now
    // Offline copy: after the page is up, so its downloads never compete with the first frame.
    setTimeout(() => registerOffline(), 1000);
  }

  /** The section the reader is looking at (the nav marks it). */
  sectionInView() {
    const a = document.querySelector('.app-nav a[aria-current]');
    return a?.hash.slice(1) === 'lab' ? 'lab' : 'explorer';
  }

  /** The nav links scroll to their section but keep the state in the URL (a bare "#lab" would drop it). */
  interceptSectionLinks() {
    document.addEventListener('click', (e) => {
      const a = e.target instanceof Element ? e.target.closest('a[href^="#"]') : null;
      const target = a && document.getElementById(a.hash.slice(1));
      if (!target || !target.matches('main > section') || e.ctrlKey || e.metaKey || e.shiftKey) return;
      e.preventDefault();
      target.scrollIntoView({ block: 'start' });
      const heading = target.querySelector('h1');
      if (heading) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: true });
      }
    });
  }
}
