// Registers the service worker (sw.js) so that after one visit the page, the wasm, the model and
// the test digits work with the network off (a lecture hall's Wi-Fi). The footer says when that
// is so. Never fails the page: without service workers (an insecure origin, a privacy mode) the
// page simply needs the network.

export async function registerOffline() {
  const note = document.getElementById('offline-note');
  const root = document.documentElement;
  if (!('serviceWorker' in navigator) || !isSecureContext) {
    root.dataset.offline = 'unsupported';
    return;
  }
  try {
    await navigator.serviceWorker.register(new URL('../sw.js', import.meta.url), { scope: new URL('../', import.meta.url).pathname });
    await navigator.serviceWorker.ready; // active: its install cached everything in precache.json
    root.dataset.offline = 'ready';
    if (note) note.textContent = 'works offline after this visit';
  } catch (err) {
    root.dataset.offline = 'failed';
    console.warn(`quantlab: offline copy not available (${err.message})`);
  }
}
