// The header's share tools: "Copy link" (the whole setup, url-state.js), "Embed" (an <iframe>
// snippet for one view with its settings) and "Present" (presenter mode, also the key P).
import { VIEWS, DEFAULT_SCENES } from './views.js';

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

/** The <iframe> snippet for `src` showing `view`. */
export function embedSnippet(src, view) {
  const v = VIEWS[view];
  return `<iframe src="${esc(src)}" title="quantlab: ${esc(v.title)}" width="100%" height="${v.height}" ` +
    'loading="lazy" style="border: 0; max-width: 100%;"></iframe>';
}

/** Copies `text`; falls back to selecting `field` so Ctrl+C works. Resolves to what happened. */
async function copy(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return 'Copied.';
  } catch {
    field.focus();
    field.select();
    return document.execCommand?.('copy') ? 'Copied.' : 'Selected: press Ctrl+C (⌘C) to copy.';
  }
}

export class ShareTools {
  /** `url`: the UrlSync; `mode`: the PageMode; `sectionInView()`: 'explorer' | 'lab'. */
  constructor({ url, mode, sectionInView }) {
    Object.assign(this, { url, mode, sectionInView });
  }

  start() {
    const header = document.querySelector('.app-header');
    const tools = document.createElement('div');
    tools.className = 'share-tools';
    tools.innerHTML =
      '<button id="copy-link" type="button" class="tool-button" title="Copy a link to exactly this setup">Copy link</button>' +
      '<details id="share-embed" class="share-embed">' +
      '<summary class="tool-button" title="Embed one view in a course page">Embed</summary>' +
      '<div class="share-panel panel" role="group" aria-labelledby="share-embed-title">' +
      '<h2 id="share-embed-title" class="share-title">Embed this view in a course page</h2>' +
      '<div class="share-fields">' +
      '<div class="field"><label for="share-view">View</label><select id="share-view"></select></div>' +
      '<div class="field"><label for="share-controls">Controls</label><select id="share-controls">' +
      '<option value="shown">shown</option><option value="locked">locked (visible, fixed)</option><option value="hidden">hidden</option></select></div>' +
      '</div>' +
      '<label for="share-code" class="share-label">Embed code (the current settings are in the link)</label>' +
      '<textarea id="share-code" rows="5" readonly spellcheck="false"></textarea>' +
      '<div class="share-actions"><button id="copy-embed" type="button" class="button primary">Copy embed code</button>' +
      '<a id="share-preview" target="_blank" rel="noopener">Open the embed view ↗</a></div>' +
      '<p class="hint">Works from any static host, without special headers; see the README for the URL flags and the postMessage API.</p>' +
      '</div></details>' +
      '<button id="present-toggle" type="button" class="tool-button" aria-keyshortcuts="P" title="Presenter mode: one scene at a time, ← → to step (P)">Present</button>' +
      '<p id="share-status" class="sr-only" role="status"></p>';
    header.append(tools);
    const $ = (id) => document.getElementById(id);
    const views = $('share-view');
    const group = (label, names) => {
      const g = document.createElement('optgroup');
      g.label = label;
      for (const n of names) g.append(new Option(VIEWS[n].title, n));
      views.append(g);
    };
    group('Scenes', DEFAULT_SCENES);
    group('Whole section', ['explorer', 'lab']);
    group('Single figure', Object.keys(VIEWS).filter((n) => n.includes('.')));

    $('copy-link').addEventListener('click', async (e) => {
      const button = e.currentTarget;
      const link = this.link();
      this.status(await copy(link, this.scratch(link)), button);
    });
    $('share-embed').addEventListener('toggle', () => {
      if (!$('share-embed').open) return;
      views.value = this.mode.ui.present ? this.mode.view : this.sectionInView();
      this.refresh();
    });
    views.addEventListener('change', () => this.refresh());
    $('share-controls').addEventListener('change', () => this.refresh());
    $('copy-embed').addEventListener('click', async (e) => {
      const button = e.currentTarget;
      this.status(await copy($('share-code').value, $('share-code')), button);
    });
    $('share-embed').addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        $('share-embed').open = false;
        $('share-embed').querySelector('summary').focus();
      }
    });
    $('present-toggle').addEventListener('click', () => this.mode.presenter.enter());
  }

  /** The link to the current setup, opening at the section in view. */
  link() {
    const at = this.sectionInView();
    return this.url.link({ at: at === 'explorer' ? '' : at });
  }

  embedLink() {
    const view = document.getElementById('share-view').value;
    const controls = document.getElementById('share-controls').value;
    return this.url.link({ embed: view, controls, present: false, scene: '', at: '' });
  }

  refresh() {
    const src = this.embedLink();
    document.getElementById('share-code').value = embedSnippet(src, document.getElementById('share-view').value);
    document.getElementById('share-preview').href = src;
  }

  /** A hidden field holding `text`, for the copy fallback. */
  scratch(text) {
    let f = document.getElementById('share-scratch');
    if (!f) {
      f = document.createElement('textarea');
      f.id = 'share-scratch';
      f.className = 'sr-only';
      f.setAttribute('aria-hidden', 'true');
      f.tabIndex = -1;
      document.body.append(f);
    }
    f.value = text;
    return f;
  }

  /** Says what the copy did: to screen readers, and on the button for a moment. */
  status(text, button) {
    const el = document.getElementById('share-status');
    el.textContent = '';
    requestAnimationFrame(() => { el.textContent = text; });
    if (text !== 'Copied.') return;
    const was = button.dataset.label ?? button.textContent;
    button.dataset.label = was;
    button.textContent = 'Copied ✓';
    clearTimeout(button.resetTimer);
    button.resetTimer = setTimeout(() => { button.textContent = was; }, 1600);
  }
}
