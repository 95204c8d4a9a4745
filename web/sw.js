// Offline reloads: network first (so a new build is always picked up), the cached copy when the
// network is gone. Same-origin GETs only; nothing is ever fetched from anywhere else.
const CACHE = 'stele-v1';

// The page and the engine, kept at install (they were fetched before this worker controlled the
// page); models are kept as the page fetches them through this worker.
const SHELL = ['./', './index.html', './app.js', './worker.js', './style.css',
  '../src/js/stele.js', '../dist/stele.wasm'];

self.addEventListener('install', (e) => {
  self.skipWaiting();
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).catch(() => {}));
});
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  e.respondWith((async () => {
    try {
      const res = await fetch(req);
      if (res.ok) {
        const copy = res.clone();
        e.waitUntil(caches.open(CACHE).then((c) => c.put(req, copy)));
      }
      return res;
    } catch (err) {
      const hit = await caches.match(req, { ignoreSearch: true });
      if (hit) return hit;
      throw err;
    }
  })());
});
