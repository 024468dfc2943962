// Number formatting for the page: real minus signs, ×10ⁿ instead of e-notation, few digits.

const SUP = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
const minus = (s) => s.replace(/-/g, '−');

/** `v` with `digits` significant digits; very small or large values as "3.12×10⁻³". */
export function num(v, digits = 3) {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '–' : v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential(digits - 1).split('e');
    const exp = String(Number(e)).split('').map((c) => SUP[c]).join('');
    return `${minus(m)}×10${exp}`;
  }
  return minus(String(+v.toPrecision(digits)));
}

/** A scale written out in full decimals with `digits` significant digits, for formulas. */
export function plain(v, digits = 4) {
  if (v === 0 || !Number.isFinite(v)) return num(v);
  const a = Math.abs(v);
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  return minus(v.toFixed(Math.min(decimals, 20)));
}

export const int = (v) => minus(String(v));

export function db(v) {
  if (v === Infinity) return '∞ dB';
  return `${minus(v.toFixed(1))} dB`;
}

export function percent(fraction) {
  const p = fraction * 100;
  if (p === 0) return '0 %';
  if (p < 0.01) return '< 0.01 %';
  return `${+p.toPrecision(p < 10 ? 2 : 3)} %`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  return `${+(n / 1024).toPrecision(3)} KiB`;
}

export const ratio = (a, b) => `${(a / b).toFixed(a / b >= 10 ? 1 : 2)}×`;
