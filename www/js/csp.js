// Under the page's Content-Security-Policy (style-src 'self'), style="" attributes are refused,
// also when they arrive through innerHTML; setting element.style (CSSOM) is allowed. Markup built
// as a string carries its computed sizes in `data-css`; applyCss moves them into element.style.

/** Applies and removes every `data-css` attribute under `root`. */
export function applyCss(root) {
  for (const el of root.querySelectorAll('[data-css]')) {
    el.style.cssText = el.dataset.css;
    el.removeAttribute('data-css');
  }
}
