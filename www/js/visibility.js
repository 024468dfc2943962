// Work only near the viewport (as Distill's figures do): each section is told when it comes into
// or goes out of view, and when the whole page is hidden (another tab, a minimised window). In an
// iframe the browser measures against the top page's viewport, so an embed scrolled out of the
// course page's view stops too. `setVisible(bool)` is the sections' hook (explorer.js, lab.js).

/** `targets`: [{el, section}] where `section.setVisible(visible)` exists. */
export function watchVisibility(targets, { rootMargin = '300px 0px' } = {}) {
  const seen = new Map(targets.map((t) => [t.el, false]));
  const state = { visible: {} };
  const apply = () => {
    const pageShown = document.visibilityState !== 'hidden';
    for (const { el, section, name } of targets) {
      const v = seen.get(el) && pageShown;
      if (state.visible[name] === v) continue;
      state.visible[name] = v;
      section.setVisible(v);
    }
  };
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) seen.set(e.target, e.isIntersecting);
    apply();
  }, { rootMargin });
  for (const { el } of targets) io.observe(el);
  document.addEventListener('visibilitychange', apply);
  return state;
}
