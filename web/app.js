// The page's entry: the view switch (Translate / Images), the worker, offline reloads. Each view
// is a module (translate-view.js, images-view.js); what they share is in common.js (errors, the
// worker) and heatmap.js (drawing attention weights). The engine runs in worker.js.
import { $, showError, startWorker } from './common.js';
import * as translateView from './translate-view.js';
import * as imagesView from './images-view.js';

window.addEventListener('error', (e) => showError('Unexpected error:', e.message));
window.addEventListener('unhandledrejection', (e) => showError('Unexpected error:', String(e.reason?.message ?? e.reason)));

// ---------------------------------------------------------------- offline

// sw.js keeps a copy of the page, the engine and each model fetched, so that the page also
// reloads offline. The worker starts once the service worker controls the page (at most a short
// wait on the first visit), so that the model download goes through it and is kept.
async function serviceWorker() {
  if (!('serviceWorker' in navigator) || !/^https?:$/.test(location.protocol)) return;
  try {
    const sw = navigator.serviceWorker;
    await sw.register(new URL('./sw.js', import.meta.url), { scope: './' });
    if (sw.controller) return;
    await Promise.race([
      new Promise((r) => sw.addEventListener('controllerchange', r, { once: true })),
      new Promise((r) => setTimeout(r, 3000)),
    ]);
  } catch {
    // offline reloads are a bonus; translating never needs the network once loaded
  }
}

// ---------------------------------------------------------------- views

// Translate or Images: radio buttons (Tab reaches the checked one, arrow keys switch), also
// chosen by ?view=images; each view loads its model the first time it is shown.
const VIEWS = { translate: translateView, images: imagesView };
let workerUp = false;

function showView(name) {
  if (!(name in VIEWS)) name = 'translate';
  document.body.dataset.view = name;
  $(`page-${name}`).checked = true;
  $('view-translate').hidden = $('lede-translate').hidden = name !== 'translate';
  $('view-images').hidden = $('lede-images').hidden = name !== 'images';
  $('skip').href = name === 'images' ? '#scene' : '#input';
  $('skip').textContent = name === 'images' ? 'Skip to the scene' : 'Skip to the input';
  const url = new URL(location.href);
  if (name === 'translate') url.searchParams.delete('view');
  else url.searchParams.set('view', name);
  if (url.href !== location.href) history.replaceState(null, '', url);
  if (workerUp) VIEWS[name].activate();
}

for (const el of document.querySelectorAll('input[name="page"]'))
  el.addEventListener('change', () => showView(document.querySelector('input[name="page"]:checked').value));

// ---------------------------------------------------------------- start

$('load-text').textContent = 'starting…';
showView(new URLSearchParams(location.search).get('view') ?? 'translate');
serviceWorker().then(() => {
  workerUp = startWorker();
  if (workerUp) VIEWS[document.body.dataset.view].activate();
});
