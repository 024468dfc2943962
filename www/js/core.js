// The core's exports once loaded (js/wasm-build.js loadCore sets them here, in the page and in
// each worker). Modules that ask the core a question without holding a model read it here:
// lab-state.js and sweep-point.js take their result keys from the core (configKey), which alone
// decides which settings each kind of result depends on.

/** The loaded build's exports (null until loadCore resolves). */
export let core = null;

/** Records the loaded exports (loadCore does; tests that initialise www/pkg themselves too). */
export function setCore(api) {
  core = api;
}

/**
 * The core's key for a `kind` result of quantize config `cfg` (see the Rust `lab::config::key`).
 * A config the core refuses gets a key of its own, so the job runs and reports the core's error.
 */
export function resultKey(cfg, kind) {
  try {
    return core.configKey(cfg, kind);
  } catch (err) {
    return `refused:${kind}:${JSON.stringify(cfg)}:${err.message}`;
  }
}
