// quantlab's service worker: after the first visit the page works with the network off.
//
// Install: caches every file listed in precache.json (written at build time by
// scripts/precache.mjs: the page, scripts, styles, wasm, model and digits; its `version` changes
// with any file's contents). Fetch: network first, so online the page is always current; the
// response also refreshes the cache. Offline, or when the network takes longer than NET_TIMEOUT_MS
// and a cached copy exists, the cached copy answers. Only same-origin GET requests are touched.
const PREFIX = 'quantlab-';
const NET_TIMEOUT_MS = 4000;
const scope = new URL('./', self.location.href);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const res = await fetch(new URL('precache.json', scope), { cache: 'no-store' });
    if (!res.ok) throw new Error(`precache.json: HTTP ${res.status}`);
    const { version, files } = await res.json();
    const cache = await caches.open(PREFIX + version);
    await cache.addAll(files.map((f) => new Request(new URL(f, scope), { cache: 'no-store' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    const keep = await currentCache();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== keep).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

/** The newest quantlab cache (the one the last install filled). */
async function currentCache() {
  const names = (await caches.keys()).filter((n) => n.startsWith(PREFIX));
  return names[names.length - 1];
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  event.respondWith(networkFirst(req, url));
});

async function cached(req, url) {
  const opts = { ignoreSearch: true };
  const hit = await caches.match(req, opts);
  if (hit) return hit;
  // A page opened at the folder or with a query string: the cached index.html.
  if (req.mode === 'navigate' || url.pathname.endsWith('/')) return caches.match(new URL('index.html', scope), opts);
  return undefined;
}

async function networkFirst(req, url) {
  const network = fetch(req).then(async (res) => {
    if (res.ok && res.type === 'basic') {
      const name = await currentCache();
      if (name) await (await caches.open(name)).put(req, res.clone());
    }
    return res;
  });
  network.catch(() => {}); // answered from the cache instead: not an error
  const slow = new Promise((resolve) => setTimeout(resolve, NET_TIMEOUT_MS)).then(() => cached(req, url));
  try {
    // Whichever answers first: the network, or (when the network is slow) a cached copy.
    const first = await Promise.race([network, slow.then((r) => r ?? network)]);
    return first;
  } catch (err) {
    const hit = await cached(req, url);
    if (hit) return hit;
    throw err;
  }
}
