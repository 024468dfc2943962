// Number formats and labels the lab's views share (text only: no math on results).
import * as fmt from '../format.js';
import { COLORS } from '../charts.js';

export { fmt };
export const WONLY = '#E69F00'; // Okabe-Ito orange: the weights-only ("simulated") path
export const pct = (v) => `${(v * 100).toFixed(1)} %`;
export const pct2 = (v) => `${(v * 100).toFixed(2)} %`;
export const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
export const kibN = (b) => (b / 1024).toFixed(1);
export const thousands = (n) => n.toLocaleString('en-US');
/** MACs in millions, or in full for a small model. */
export const macsText = (n) => (n >= 1e5 ? `${fmt.num(n / 1e6, 3)} M` : thousands(n));
export const msPerImage = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`);
export const dims = (shape) => shape.join('×');
export const METHOD_LABEL = { minmax: 'min-max', percentile: 'percentile', mse: 'MSE', entropy: 'entropy' };
const PATH_LABEL = { fp32: 'FP32', simulated: 'Simulated INT8', int8: 'True INT8' };
const PATH_COLOR = { fp32: COLORS.fp32, simulated: WONLY, int8: COLORS.int8 };
export const pathLabel = (id) => PATH_LABEL[id] ?? `True INT8, ${id.split(':')[1]}`;
export const pathColor = (id) => PATH_COLOR[id] ?? COLORS.int8;
/** `<dl>` rows from `[term, html, id?]`. */
export const stats = (rows) => '<dl>' + rows.map(([k, v, id]) => `<div class="stat"><dt>${k}</dt><dd${id ? ` id="${id}"` : ''}>${v}</dd></div>`).join('') + '</dl>';
