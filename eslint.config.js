// ESLint over every script of the page, its workers, the service worker, the benchmark, the build
// scripts and the tests (make lint-js, the first step of make test). ESLint rather than
// `tsc --checkJs`: the code has no JSDoc types to check yet, and the recommended rules catch real
// defects today (unused or undefined names, unreachable code, duplicate keys) with no annotations.
// Each file gets the globals of where it runs, so a page global used in a worker is an error.
import js from '@eslint/js';
import globals from 'globals';

/** The module workers: the lab's worker, the sweep's helper and the benchmark's workers. */
const workers = ['www/js/lab-worker.js', 'www/js/sweep-helper.js', 'www/js/lab/worker/**/*.js', 'www/bench/*worker.js'];

export default [
  { ignores: ['www/vendor/**', 'www/pkg/**', 'www/pkg-*/**', 'node_modules/**', 'target/**', 'dist/**', 'tools/**', 'e2e/screenshots/**'] },
  js.configs.recommended,
  {
    // `catch (err)` that ignores err is a choice the code makes on purpose (a feature probe, a
    // best-effort cleanup): name it `_err`, or leave the binding out.
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }] },
  },
  {
    files: ['www/js/**/*.js', 'www/bench/**/*.js'],
    ignores: workers,
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  // js/early.js is a classic script (it runs before the modules, to start the lab's worker).
  { files: ['www/js/early.js'], languageOptions: { sourceType: 'script' } },
  { files: workers, languageOptions: { sourceType: 'module', globals: globals.worker } },
  // The benchmark's tfjs worker is a classic worker: tfjs' scripts (importScripts) define `tf`.
  { files: ['www/bench/tfjs-worker.js'], languageOptions: { sourceType: 'script', globals: { ...globals.worker, tf: 'readonly' } } },
  { files: ['www/sw.js'], languageOptions: { sourceType: 'script', globals: globals.serviceworker } },
  {
    // Node scripts and tests; the e2e tests and the benchmark drivers also hold functions that
    // run in the page (page.evaluate), hence the browser's globals beside Node's.
    files: ['scripts/**/*.mjs', 'tests/node/**/*.mjs', 'e2e/**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { ...globals.node, ...globals.browser } },
  },
];
