// Runs before the body is drawn (a classic script in <head>): applies the theme from the URL and,
// when the URL asks for presenter mode or an embed, hides the page until js/page-mode.js has laid
// out that view, so the full page never flashes by; and starts the CNN lab's worker, so it loads
// its module, the digits and the model and calibrates while the page loads its own (about a
// third of a second of module graph). In an embed the worker waits (`hold`) until the page says
// whether the lab is shown. No module, no imports: keep it tiny.
(function early() {
  var hash = location.hash.slice(1);
  var parts = hash.split('&');
  var root = document.documentElement;
  for (var i = 0; i < parts.length; i++) {
    var kv = parts[i].split('=');
    if (kv[0] === 'theme' && (kv[1] === 'dark' || kv[1] === 'light')) root.setAttribute('data-theme', kv[1]);
    if (kv[0] === 'embed' || kv[0] === 'view' || kv[0] === 'present') root.classList.add('booting');
  }
  var embed = /(^|&)embed(=|&|$)/.test(hash);
  try {
    var worker = new Worker(new URL('lab-worker.js' + location.search, document.currentScript.src), { type: 'module' });
    var queued = [];
    worker.onmessage = function (e) { queued.push(e.data); };
    worker.postMessage({ type: 'init', hold: embed });
    window.__quantlabEarlyWorker = { worker: worker, queued: queued, startedMs: performance.now(), held: embed };
  } catch (_err) {
    // No module workers here: the lab says so (js/main.js); the explorer works without it.
  }
  // Never hidden for long: if the page fails to start, show what there is.
  if (root.classList.contains('booting')) setTimeout(function () { root.classList.remove('booting'); }, 4000);
}());
