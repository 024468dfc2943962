// The guided path: "Try this" in the header, or `#guide=N` in a link. A card walks through
// STEPS (guide-steps.js); each step sets the explorer's or the lab's settings as if the controls
// had been moved, marks the control to move and the figure to watch, and says what to notice.
// The step is part of the URL (url-state.js), so Back goes to the previous step and a link
// opens at a step; the settings a step made are in the same history entry.
import { STEPS } from './guide-steps.js';
import { notifyState } from './url-state.js';

export class Guide {
  /** `explorer`, `lab` (or null): the sections; `url`: the UrlSync. */
  constructor({ explorer, lab, url }) {
    Object.assign(this, { explorer, lab, url });
    this.step = 0; // 1-based; 0 = closed
    this.debug = { step: 0, applied: 0, steps: STEPS.length };
  }

  start() {
    this.card = document.createElement('section');
    this.card.className = 'guide';
    this.card.id = 'guide';
    this.card.hidden = true;
    this.card.setAttribute('aria-labelledby', 'guide-title');
    this.card.innerHTML =
      '<p class="guide-count" id="guide-count"></p>' +
      '<h2 class="guide-title" id="guide-title" tabindex="-1"></h2>' +
      '<p class="guide-text" id="guide-text"></p>' +
      '<p class="guide-live" id="guide-live" aria-live="polite"></p>' +
      '<div class="guide-buttons">' +
      '<button type="button" class="button guide-close" id="guide-close">Close</button>' +
      '<button type="button" class="button" id="guide-prev">← Back</button>' +
      '<button type="button" class="button primary" id="guide-next">Next →</button>' +
      '</div>';
    // Inside <main>, so its buttons count as gestures for the URL's history (url-state.js).
    document.querySelector('main').append(this.card);
    const $ = (id) => document.getElementById(id);
    $('guide-prev').addEventListener('click', () => this.go(this.step - 1));
    $('guide-next').addEventListener('click', () => (this.step < STEPS.length ? this.go(this.step + 1) : this.go(0)));
    $('guide-close').addEventListener('click', () => this.go(0));
    document.getElementById('guide-start')?.addEventListener('click', () => this.go(this.step || 1));
    this.url.attach('guide', { get: () => this.step, set: (n) => this.show(n ?? 0) });
    // The page's own sentence for the step (the accuracy note, the drawing note) follows the page.
    this.liveObserver = new MutationObserver(() => this.syncLive());
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.step && this.card.contains(document.activeElement)) this.go(0);
    });
    // A link with only `#guide=N` opens step N with its settings; a link with more (a step and
    // what the student changed since) keeps those settings and just shows the step.
    const first = this.url.initial.guide;
    if (first) {
      const only = /^#guide=\d+$/.test(location.hash);
      requestAnimationFrame(() => (only ? this.go(first, { focus: false }) : this.show(first)));
    }
  }

  /** Goes to step `n` (0 closes): applies its settings and shows it. */
  go(n, { focus = true } = {}) {
    const step = Math.max(0, Math.min(STEPS.length, n));
    const s = STEPS[step - 1];
    if (s) this.apply(s);
    this.show(step, { focus });
    notifyState('guide'); // the URL follows: a new history entry (a click is a gesture)
  }

  apply(s) {
    this.debug.applied++;
    if (s.explorer && this.explorer) {
      this.explorer.writeForm({ ...(this.explorer.state ?? {}), ...s.explorer });
      this.explorer.schedule();
    }
    if (s.lab && this.lab) this.lab.apply(s.lab);
    if (s.action === 'digit') this.lab?.loadDigit(0);
    if (s.action === 'timing' && this.lab && !this.lab.debug.timing) this.lab.runTiming();
    if (s.action === 'qat' && this.lab && !this.lab.debug.qat && !this.lab.debug.qatProgress) this.lab.runQat();
  }

  /** Shows step `n` without changing any setting (Back restores the settings from the URL). */
  show(n, { focus = false } = {}) {
    const step = Math.max(0, Math.min(STEPS.length, n));
    this.step = step;
    this.debug.step = step;
    for (const el of document.querySelectorAll('.guide-target, .guide-figure')) el.classList.remove('guide-target', 'guide-figure');
    this.liveObserver.disconnect();
    this.card.hidden = step === 0;
    document.getElementById('guide-start')?.setAttribute('aria-expanded', String(step > 0));
    if (!step) return;
    const s = STEPS[step - 1];
    const $ = (id) => document.getElementById(id);
    $('guide-count').textContent = `Try this · step ${step} of ${STEPS.length}`;
    $('guide-title').textContent = s.title;
    $('guide-text').textContent = s.text;
    $('guide-prev').disabled = step === 1;
    $('guide-next').textContent = step === STEPS.length ? 'Finish' : 'Next →';
    const control = $(s.control);
    (control?.closest('.field') ?? control)?.classList.add('guide-target');
    const figure = $(s.figure);
    figure?.classList.add('guide-figure');
    figure?.scrollIntoView({ block: 'start', behavior: 'instant' });
    if (s.live && $(s.live)) this.liveObserver.observe($(s.live), { childList: true, characterData: true, subtree: true });
    this.syncLive();
    if (focus) $('guide-title').focus({ preventScroll: true });
  }

  syncLive() {
    const s = STEPS[this.step - 1];
    const text = s?.live ? document.getElementById(s.live)?.textContent ?? '' : '';
    document.getElementById('guide-live').textContent = text;
    this.debug.live = text;
  }
}
