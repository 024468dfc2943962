// The header's share tools: "Copy link" (the whole setup, url-state.js), "Embed" (an <iframe>
// snippet for one view with its settings), "Present" (presenter mode, also the key P) and beside
// it the scene picker (which scenes presenter mode steps through, in which order: the URL's
// `scenes`).
import { VIEWS, DEFAULT_SCENES } from './views.js';

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

// The course page's half of the 'quantlab:size' message (embed.js): each quantlab iframe takes
// the height its content reports. Only messages from the iframe's own window and origin are read,
// so no other frame can resize it. Plain ES5 and no page-wide names but one flag, because it lands
// in pages we know nothing about; once per page however many snippets are pasted.
const AUTO_HEIGHT_SCRIPT = `<script>
/* quantlab: the iframe's height follows its content (its quantlab:size messages). */
if (!window.quantlabAutoHeight) {
  window.quantlabAutoHeight = true;
  window.addEventListener('message', function (e) {
    var d = e.data;
    if (!d || d.type !== 'quantlab:size' || !(d.height > 0)) return;
    var frames = document.querySelectorAll('iframe[data-quantlab]');
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      if (f.contentWindow === e.source && new URL(f.src).origin === e.origin) {
        f.style.height = Math.min(Math.ceil(d.height), 20000) + 'px';
      }
    }
  });
}
</script>`;

/**
 * The <iframe> snippet for `src` showing `view`. `autoHeight`: with the script that sizes the
 * iframe to its content; without it (for course sites that strip scripts), the height that fits
 * an embed about 960 px wide.
 */
export function embedSnippet(src, view, { autoHeight = true } = {}) {
  const v = VIEWS[view];
  const frame = `<iframe src="${esc(src)}" title="quantlab: ${esc(v.title)}" width="100%" height="${v.height}" ` +
    `loading="lazy" style="border: 0; max-width: 100%;"${autoHeight ? ' data-quantlab' : ''}></iframe>`;
  return autoHeight ? `${frame}\n${AUTO_HEIGHT_SCRIPT}` : frame;
}

/**
 * Which view each figure of the page belongs to: element -> the view that shows the fewest
 * figures besides it (its own single-figure view if there is one: #fig-values -> explorer.values,
 * not the affine scene). The headline numbers (.keystats) belong to no figure.
 */
function figureViews() {
  const best = new Map();
  for (const [name, v] of Object.entries(VIEWS)) {
    const figures = (v.show ?? []).filter((sel) => sel !== '.keystats');
    for (const sel of figures) {
      for (const el of document.getElementById(v.section)?.querySelectorAll(sel) ?? []) {
        if (!best.has(el) || figures.length < best.get(el).n) best.set(el, { name, n: figures.length });
      }
    }
  }
  return best;
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

/** A header drop-down: Escape closes it and gives the focus back to its button. */
function closeOnEscape(details) {
  details.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    e.stopPropagation();
    details.open = false;
    details.querySelector('summary').focus();
  });
}

export class ShareTools {
  /** `url`: the UrlSync; `mode`: the PageMode; `sectionInView()`: 'explorer' | 'lab'. */
  constructor({ url, mode, sectionInView }) {
    Object.assign(this, { url, mode, sectionInView });
    // `embedOpened`: how often the Embed panel has opened and chosen its view (the toggle event
    // comes a task after the click), for tests.
    this.debug = { embedOpened: 0 };
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
      '<div class="field share-view-field"><label for="share-view">View</label><select id="share-view"></select></div>' +
      '<div class="field"><label for="share-controls">Controls</label><select id="share-controls">' +
      '<option value="shown">shown</option><option value="locked">locked (visible, fixed)</option><option value="hidden">hidden</option></select></div>' +
      '<div class="field"><label for="share-sizing">Height</label><select id="share-sizing">' +
      '<option value="script">with auto-height script</option><option value="fixed">iframe only (fixed height)</option></select></div>' +
      '</div>' +
      '<label for="share-code" class="share-label">Embed code (the current settings are in the link)</label>' +
      '<textarea id="share-code" rows="5" readonly spellcheck="false"></textarea>' +
      '<p id="share-sizing-note" class="hint"></p>' +
      '<div class="share-actions"><button id="copy-embed" type="button" class="button primary">Copy embed code</button>' +
      '<a id="share-preview" target="_blank" rel="noopener">Open the embed view ↗</a></div>' +
      '<p class="hint">Works from any static host, without special headers; see the README for the URL flags and the postMessage API.</p>' +
      '</div></details>' +
      '<div class="present-split">' +
      '<button id="present-toggle" type="button" class="tool-button" aria-keyshortcuts="P" title="Presenter mode: one scene at a time, ← → to step (P)">Present</button>' +
      '<details id="share-scenes" class="share-embed">' +
      '<summary class="tool-button scenes-button" aria-label="Scenes" title="Choose and order the presenter\'s scenes"></summary>' +
      '<div class="share-panel panel scenes-panel" role="group" aria-labelledby="scenes-title">' +
      '<h2 id="scenes-title" class="share-title">Scenes for presenter mode</h2>' +
      '<p class="hint" id="scenes-hint">Tick the scenes to show; ↑ and ↓ set their order. The list is kept in the link ' +
      '(<code>scenes=</code>), so Copy link or a bookmark keeps the talk.</p>' +
      '<ol id="scene-list" class="scene-list" aria-describedby="scenes-hint"></ol>' +
      '<div class="share-actions"><button id="scenes-start" type="button" class="button primary">Present these scenes</button>' +
      '<button id="scenes-reset" type="button" class="button">Default scenes</button></div>' +
      '</div></details></div>' +
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
    // Every scene: the default talk's, then the others (a lecturer adds them with the picker).
    group('Scenes', [...DEFAULT_SCENES, ...Object.keys(VIEWS).filter((n) => !n.includes('.') && !DEFAULT_SCENES.includes(n) && n !== 'explorer' && n !== 'lab')]);
    group('Whole section', ['explorer', 'lab']);
    group('Single figure', Object.keys(VIEWS).filter((n) => n.includes('.')));

    $('copy-link').addEventListener('click', async (e) => {
      const button = e.currentTarget;
      const link = this.link();
      this.status(await copy(link, this.scratch(link)), button);
    });
    $('share-embed').addEventListener('toggle', () => {
      if (!$('share-embed').open) return;
      views.value = this.mode.ui.present ? this.mode.view : this.figureInView();
      this.refresh();
      this.debug.embedOpened++;
    });
    for (const id of ['share-view', 'share-controls', 'share-sizing']) $(id).addEventListener('change', () => this.refresh());
    $('copy-embed').addEventListener('click', async (e) => {
      const button = e.currentTarget;
      this.status(await copy($('share-code').value, $('share-code')), button);
    });
    closeOnEscape($('share-embed'));
    $('present-toggle').addEventListener('click', () => this.mode.presenter.enter());

    $('share-scenes').addEventListener('toggle', () => { if ($('share-scenes').open) this.renderScenes(); });
    closeOnEscape($('share-scenes'));
    $('scene-list').addEventListener('change', (e) => {
      const name = e.target.closest('[data-scene]')?.dataset.scene;
      if (name) this.toggleScene(name, e.target.checked);
    });
    $('scene-list').addEventListener('click', (e) => {
      const button = e.target.closest('button[data-move]');
      if (button) this.moveScene(button.closest('[data-scene]').dataset.scene, Number(button.dataset.move));
    });
    $('scenes-start').addEventListener('click', () => {
      $('share-scenes').open = false;
      this.mode.presenter.enter();
    });
    $('scenes-reset').addEventListener('click', () => {
      this.setScenes([...DEFAULT_SCENES], 'Default scenes.');
      this.renderScenes();
    });
    // Only one drop-down open at a time.
    for (const d of [$('share-embed'), $('share-scenes')]) {
      d.addEventListener('toggle', () => {
        if (d.open) for (const other of tools.querySelectorAll('details[open]')) if (other !== d) other.open = false;
      });
    }
  }

  /** The link to the current setup, opening at the section in view. */
  link() {
    const at = this.sectionInView();
    return this.url.link({ at: at === 'explorer' ? '' : at });
  }

  /**
   * The view of the figure nearest the centre of what the reader sees (below the sticky
   * header), else the section in view.
   */
  figureInView() {
    const top = Math.max(0, document.querySelector('.app-header')?.getBoundingClientRect().bottom ?? 0);
    const cx = window.innerWidth / 2;
    const cy = (top + window.innerHeight) / 2;
    let best = null;
    for (const [el, { name }] of figureViews()) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height || r.bottom <= top || r.top >= window.innerHeight) continue;
      const d = Math.hypot(Math.max(r.left - cx, 0, cx - r.right), Math.max(r.top - cy, 0, cy - r.bottom));
      if (!best || d < best.d) best = { d, name };
    }
    return best?.name ?? this.sectionInView();
  }

  embedLink() {
    const view = document.getElementById('share-view').value;
    const controls = document.getElementById('share-controls').value;
    return this.url.link({ embed: view, controls, present: false, scene: '', at: '' });
  }

  refresh() {
    const src = this.embedLink();
    const autoHeight = document.getElementById('share-sizing').value === 'script';
    const code = document.getElementById('share-code');
    code.value = embedSnippet(src, document.getElementById('share-view').value, { autoHeight });
    code.rows = autoHeight ? 9 : 4;
    document.getElementById('share-sizing-note').textContent = autoHeight
      ? 'The script makes the iframe as tall as its content, at any width; it reads only quantlab\'s size messages, and only from the iframe it sizes.'
      : 'For course sites that remove scripts: a fixed height that fits about 960 px wide; at narrower widths the view scrolls inside its frame.';
    document.getElementById('share-preview').href = src;
  }

  // ---- the scene picker ------------------------------------------------------------------------

  /** The picker's list: the talk's scenes in their order (ticked), then every other view. */
  renderScenes(focus = null) {
    const list = document.getElementById('scene-list');
    const { scenes } = this.mode.ui;
    const rest = Object.keys(VIEWS).filter((n) => !scenes.includes(n));
    list.replaceChildren(...[...scenes, ...rest].map((name) => {
      const i = scenes.indexOf(name);
      const li = document.createElement('li');
      li.className = 'scene-row';
      li.dataset.scene = name;
      li.classList.toggle('is-off', i < 0);
      const id = `scene-pick-${name}`;
      const title = VIEWS[name].title;
      li.innerHTML = `<input type="checkbox" id="${esc(id)}"${i >= 0 ? ' checked' : ''}>` +
        `<label for="${esc(id)}"><span class="scene-pos" aria-hidden="true">${i >= 0 ? i + 1 : ''}</span>${esc(title)}</label>` +
        (i >= 0
          ? `<button type="button" class="button scene-move" data-move="-1" aria-label="Move “${esc(title)}” earlier"${i === 0 ? ' disabled' : ''}>↑</button>` +
            `<button type="button" class="button scene-move" data-move="1" aria-label="Move “${esc(title)}” later"${i === scenes.length - 1 ? ' disabled' : ''}>↓</button>`
          : '');
      return li;
    }));
    if (focus) {
      const row = [...list.children].find((li) => li.dataset.scene === focus.name);
      const target = focus.move ? row?.querySelector(`button[data-move="${focus.move}"]:not(:disabled)`) ?? row?.querySelector('button:not(:disabled)') : null;
      (target ?? row?.querySelector('input'))?.focus();
    }
  }

  /** Writes the talk's scenes (mode and URL) and says what changed. */
  setScenes(scenes, said) {
    this.mode.patch({ scenes });
    this.status(said);
  }

  toggleScene(name, on) {
    const { scenes } = this.mode.ui;
    if (!on && scenes.length === 1) {
      this.renderScenes({ name });
      this.status('A talk needs at least one scene.');
      return;
    }
    const next = on ? [...scenes, name] : scenes.filter((n) => n !== name);
    this.setScenes(next, on ? `${VIEWS[name].title}: added as scene ${next.length} of ${next.length}.` : `${VIEWS[name].title}: removed.`);
    this.renderScenes({ name });
  }

  moveScene(name, by) {
    const scenes = [...this.mode.ui.scenes];
    const i = scenes.indexOf(name);
    const j = i + by;
    if (i < 0 || j < 0 || j >= scenes.length) return;
    [scenes[i], scenes[j]] = [scenes[j], scenes[i]];
    this.setScenes(scenes, `${VIEWS[name].title}: now scene ${j + 1} of ${scenes.length}.`);
    this.renderScenes({ name, move: String(by) });
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

  /** Says what happened: to screen readers, and after a copy on the button for a moment. */
  status(text, button = null) {
    const el = document.getElementById('share-status');
    el.textContent = '';
    requestAnimationFrame(() => { el.textContent = text; });
    if (text !== 'Copied.' || !button) return;
    const was = button.dataset.label ?? button.textContent;
    button.dataset.label = was;
    button.textContent = 'Copied ✓';
    clearTimeout(button.resetTimer);
    button.resetTimer = setTimeout(() => { button.textContent = was; }, 1600);
  }
}
