// The explorer's state: one plain object, read from and written to the URL hash so any setup
// (seed included) can be shared as a link. Pure: js/url-state.js combines it with the lab's part
// and the page mode and does the writing (history).

export const DEFAULTS = Object.freeze({
  tensor: 'weights',
  seed: 42,
  bits: 8,
  scheme: 'symmetric',
  dtype: 'int8',
  granularity: 'tensor',
  method: 'minmax',
  percentile: 99.9,
  channel: 0,
});

import { TENSORS } from './tensors.js';

/** What each key may be; a value outside it leaves the default (a mistyped link still opens). */
const VALID = {
  tensor: (v) => Object.prototype.hasOwnProperty.call(TENSORS, v),
  seed: (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff,
  bits: (v) => Number.isInteger(v) && v >= 2 && v <= 8,
  scheme: (v) => v === 'symmetric' || v === 'asymmetric',
  dtype: (v) => v === 'int8' || v === 'uint8',
  granularity: (v) => v === 'tensor' || v === 'channel',
  method: (v) => ['minmax', 'percentile', 'mse', 'entropy'].includes(v),
  percentile: (v) => Number.isFinite(v) && v > 0 && v <= 100,
  channel: (v) => Number.isInteger(v) && v >= 0 && v < 4096,
};
const NUMERIC = new Set(['seed', 'bits', 'percentile', 'channel']);

/** State from a hash such as `#tensor=relu&bits=4`; unknown keys and invalid values are ignored. */
export function parseHash(hash) {
  const state = { ...DEFAULTS };
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  for (const [key, value] of params) {
    if (!(key in DEFAULTS)) continue;
    const v = NUMERIC.has(key) ? (value.trim() === '' ? NaN : Number(value)) : value;
    if (VALID[key](v)) state[key] = v;
  }
  return state;
}

/** The hash for `state`, listing only what differs from the defaults. */
export function toHash(state) {
  const params = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS)) {
    if (state[key] !== DEFAULTS[key]) params.set(key, String(state[key]));
  }
  const s = params.toString();
  return s ? `#${s}` : '';
}
