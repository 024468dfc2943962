// Which build of the core this engine runs: the SIMD128 + relaxed-SIMD build (www/pkg-relaxed/)
// where the browser validates relaxed SIMD, else the SIMD128 build (www/pkg/: Safari, older
// engines). Both have the same exports; inside the relaxed one a probe decides which exact int8
// kernel the engine's relaxed dot allows (kernelInfo()). The page, its worker and the benchmark
// all load through here, so they agree. `?build=simd128` in the page URL forces the fallback.
import { relaxedSimd } from '../vendor/wasm-feature-detect.js';
import { setCore } from './core.js';

/** 'relaxed' or 'simd128', from feature detection unless `prefer` names one. */
export async function chooseBuild(prefer) {
  if (prefer === 'simd128') return 'simd128';
  const relaxed = await relaxedSimd();
  return relaxed ? 'relaxed' : 'simd128';
}

/** Loads and initialises the chosen build; resolves to `{ api, build }`. */
export async function loadCore(prefer) {
  const build = await chooseBuild(prefer);
  const api = build === 'relaxed' ? await import('../pkg-relaxed/quantlab.js') : await import('../pkg/quantlab.js');
  await api.default();
  setCore(api);
  return { api, build };
}

/** The `build` URL parameter of a page (or a worker's own URL), if any. */
export function preferredBuild(href) {
  try { return new URL(href).searchParams.get('build') ?? undefined; } catch { return undefined; }
}
