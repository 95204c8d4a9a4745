// Offline reloads: network first (so a new build is always picked up), the cached copy when the
// network is gone. Same-origin GETs only; nothing is ever fetched from anywhere else.
// v2: models are no longer kept here but in the worker's model cache (worker.js,
// 'stele-models-v1', keyed by the model's hash); activating v2 drops v1 and its model copies.
const CACHE = 'stele-v2';

// The page and the engine, kept at install (they were fetched before this worker controlled the
// page); everything else but models (models/manifest.json included) as the page fetches it.
const SHELL = ['./', './index.html', './app.js', './common.js', './heatmap.js', './translate-view.js', './images-view.js',
  './ask-view.js', './questions.js',
  './search-view.js', './worker.js', './style.css',
  '../src/js/stele.js', '../dist/stele.wasm'];

self.addEventListener('install', (e) => {
  self.skipWaiting();
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).catch(() => {}));
});
self.addEventListener('activate', (e) => e.waitUntil((async () => {
  for (const k of await caches.keys()) if (k !== CACHE && !k.startsWith('stele-models-')) await caches.delete(k);
  await self.clients.claim();
})()));

self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  // Models go straight to the network: worker.js keeps them (a second copy here would double
  // the storage and re-download the model on every visit, as network-first does).
  if (url.pathname.endsWith('.safetensors')) return;
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
