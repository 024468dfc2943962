// Production notes: how these settings map to TFLite, PyTorch and ONNX Runtime (rows from
// lab-state.js productionRows).

// A line break may fall between the words of a long identifier (Per|Channel|Min|Max|Observer).
const breakable = (t) => t.replace(/[\w=.]{14,}/g, (w) => w.replace(/[a-z](?=[A-Z])/g, '$&<wbr>'));
const mark = (v) => (v === true ? '<span class="mark mark-same" title="same">✓</span>' : v === false ? '<span class="mark mark-differs" title="different">✗</span>' : '<span class="mark mark-partly" title="partly">≈</span>');
const cell = ([text, same], label) => `<td data-label="${label}">${mark(same)} ${breakable(text)}</td>`;

/** `el`: #lab-fig-prod. `data`: { rows }. Redraws only when the text changes. */
export function render(el, { rows }) {
  const html = '<thead><tr><th><span class="sr-only">Aspect</span></th><th>This page now</th><th>TFLite</th><th>PyTorch (x86)</th><th>ONNX Runtime</th></tr></thead><tbody>' +
    rows.map((r) => `<tr><th scope="row">${r.aspect}</th><td class="page-cell" data-label="This page">${r.page}</td>` +
      `${cell(r.tflite, 'TFLite')}${cell(r.pytorch, 'PyTorch')}${cell(r.ort, 'ONNX Runtime')}</tr>`).join('') +
    '</tbody>';
  const table = el.querySelector('#lab-prod');
  if (table.__html !== html) { // the text the table shows, kept with it
    table.innerHTML = html;
    table.__html = html;
  }
}
