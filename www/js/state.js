// The explorer's state: one plain object, read from and written to the URL hash so any setup
// (seed included) can be shared as a link. No DOM beyond `location`/`history`.

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

const NUMERIC = new Set(['seed', 'bits', 'percentile', 'channel']);

/** State from a hash such as `#tensor=relu&bits=4`; unknown keys are ignored. */
export function parseHash(hash) {
  const state = { ...DEFAULTS };
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  for (const [key, value] of params) {
    if (!(key in DEFAULTS)) continue;
    if (NUMERIC.has(key)) {
      const n = Number(value);
      if (Number.isFinite(n)) state[key] = n;
    } else {
      state[key] = value;
    }
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

let pending = 0;
/** Writes the hash at most every 300 ms (browsers throttle frequent history updates). */
export function saveToHash(state) {
  clearTimeout(pending);
  pending = setTimeout(() => {
    const hash = toHash(state);
    if (hash !== location.hash) history.replaceState(null, '', hash || location.pathname + location.search);
  }, 300);
}
