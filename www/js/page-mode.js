// How the page is shown: normal, presenter mode or embedded; which view; controls shown, locked or
// hidden; light or dark. One `ui` object (url-state.js: UI_DEFAULTS), applied as a whole.
import { VIEWS } from './views.js';
import { UI_DEFAULTS } from './url-state.js';
import { focusView, Presenter } from './present.js';
import { refreshCharts } from './charts.js';

export class PageMode {
  /**
   * `ui`: the URL's ui part; `onChange()`: called after a change made here (writes the URL);
   * `onApply(ui)`: after every change of mode, from here or from the URL (lecture.js starts the
   * work a scene needs).
   */
  constructor(ui, { onChange = () => {}, onApply = () => {} } = {}) {
    this.ui = { ...UI_DEFAULTS, ...ui };
    this.onChange = onChange;
    this.onApply = onApply;
    this.presenter = new Presenter(this);
    this.embedBar = null;
    this.applied = '';
  }

  start() {
    this.presenter.start();
    this.apply(this.ui);
    // The boot guard (js/early.js) hid the page until its mode was applied.
    document.documentElement.classList.remove('booting');
  }

  /** The view shown alone, if any: the embed's, else the presenter's scene. */
  get view() {
    if (this.ui.embed) return this.ui.embed;
    if (this.ui.present) return this.presenter.where().name;
    return '';
  }

  patch(p) {
    this.apply({ ...this.ui, ...p });
    this.onChange();
  }

  apply(ui) {
    this.ui = { ...UI_DEFAULTS, ...ui };
    if (this.ui.present && !this.ui.scenes.includes(this.ui.scene)) this.ui.scene = this.ui.scenes[0];
    const html = document.documentElement;
    if (this.ui.theme) html.dataset.theme = this.ui.theme; else delete html.dataset.theme;
    html.classList.toggle('embed', Boolean(this.ui.embed));
    html.classList.toggle('present', Boolean(this.ui.present && !this.ui.embed));
    const key = JSON.stringify([this.view, this.ui.controls, this.ui.hide, this.ui.present, this.ui.theme]);
    if (key !== this.applied) {
      this.applied = key;
      focusView(this.view, { controls: this.ui.controls, hide: this.ui.hide });
      this.renderEmbedBar();
      // Chart sizes depend on the mode (presenter mode draws them taller); colours on the theme.
      requestAnimationFrame(() => refreshCharts());
    }
    this.presenter.render();
    this.onApply(this.ui);
  }

  get() {
    return { ...this.ui };
  }

  /** Embeds say what they are, which timer applies, and link to the full page. */
  renderEmbedBar() {
    if (!this.ui.embed) {
      this.embedBar?.remove();
      this.embedBar = null;
      return;
    }
    if (!this.embedBar) {
      const bar = document.createElement('footer');
      bar.className = 'embed-bar';
      bar.innerHTML = '<span class="embed-brand"><span class="brand-mark" aria-hidden="true">q</span>quantlab</span>' +
        '<span class="embed-title"></span><span class="embed-timer muted"></span>' +
        '<a class="embed-open" target="_blank" rel="noopener">Open the full page ↗</a>';
      // The link is made when followed, so it carries the state of that moment.
      const open = bar.querySelector('.embed-open');
      const refresh = () => { open.href = this.fullLink?.() ?? location.href; };
      open.addEventListener('pointerdown', refresh);
      open.addEventListener('focus', refresh);
      refresh();
      document.body.append(bar);
      this.embedBar = bar;
    }
    this.embedBar.querySelector('.embed-title').textContent = VIEWS[this.ui.embed].title;
    this.embedBar.querySelector('.embed-timer').textContent = timerNote();
  }
}

/** Which timer resolution applies here: embeds are usually not cross-origin isolated. */
export function timerNote() {
  return crossOriginIsolated
    ? 'timer resolution about 5 µs (cross-origin isolated)'
    : 'timer resolution about 100 µs (not cross-origin isolated: timings are coarser)';
}
