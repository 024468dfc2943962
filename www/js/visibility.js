// Work only near the viewport (as Distill's figures do): each section is told when it comes into
// or goes out of view, and when the whole page is hidden (another tab, a minimised window). In an
// iframe the browser measures against the top page's viewport, so an embed scrolled out of the
// course page's view stops too. `setVisible(bool)` is the sections' hook (explorer.js, lab/controller.js).
//
// `keep(name)` holds a section "in view" while it is not: presenter mode keeps the lab working
// during the explorer's scenes when a lab scene is still to come (lecture.js), so its sweep is
// measured by the time that scene is shown. A hidden page stops everything all the same.

/**
 * `targets`: [{name, el, section}] where `section.setVisible(visible)` exists. Returns `state`
 * ({visible: {name: bool}}, what each section was last told) and `update()`, to call when what
 * `keep` says has changed.
 */
export function watchVisibility(targets, { rootMargin = '300px 0px', keep = () => false } = {}) {
  const seen = new Map(targets.map((t) => [t.el, false]));
  const state = { visible: {} };
  const apply = () => {
    const pageShown = document.visibilityState !== 'hidden';
    for (const { el, section, name } of targets) {
      const v = (seen.get(el) || keep(name)) && pageShown;
      if (state.visible[name] === v) continue;
      state.visible[name] = v;
      section.setVisible(v);
    }
  };
  // Nothing is said before the observer's first report: until then "not seen" means "not known".
  let observed = false;
  const io = new IntersectionObserver((entries) => {
    observed = true;
    for (const e of entries) seen.set(e.target, e.isIntersecting);
    apply();
  }, { rootMargin });
  for (const { el } of targets) io.observe(el);
  document.addEventListener('visibilitychange', apply);
  return { state, update: () => { if (observed) apply(); } };
}
