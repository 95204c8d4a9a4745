// The Images view: a scene of Fashion-MNIST items on a 3 x 3 grid (84 x 84 gray pixels), picked
// from the shipped test scenes or composed cell by cell, captioned by the model in the worker
// (slot 'caption', a Captioner); each word of the caption shows its attention map over the image.
//
// Two modes (the Caption / Ask switch, ?mode=ask): captioning, here, and asking a question about
// the scene (ask-view.js, its own model in the worker's slot 'ask'); each mode's model is loaded
// the first time the mode is shown, and the overlay canvas shows the mode's attention (a word's
// map, or the answer's glimpses).
//
// Scenes (web/scenes/, made by scripts/data/scenes.py): sprites.png, an atlas of 28 x 28 test
// images (row = class in label order, column = sample); scenes.json, the classes and the test
// scenes as items { cell, class, sprite, dx, dy }. Composition, as the generator does it: an
// all-zero 84 x 84 canvas; each item's sprite pasted at (28 * col + dx, 28 * row + dy), clipped
// to the canvas, combined with pixel-wise max (so overlapping items are order-independent).
import { $, showError, clearError, explain, fmtScore, fmtBytes, onWorker, post } from './common.js';
import { drawOverlay, overlayGradient } from './heatmap.js';
import * as ask from './ask-view.js';

const MODEL = 'scenes-caption';
const SCENES_URL = new URL('./scenes/scenes.json', import.meta.url);
const SPRITES_URL = new URL('./scenes/sprites.png', import.meta.url);
// The cells' names; scenes.json's places ("in the top left") replace them once loaded.
let CELL_NAMES = ['top left', 'top', 'top right', 'left', 'centre', 'right', 'bottom left', 'bottom', 'bottom right'];
const PLAY_MS = 900;

const state = {
  mode: 'caption',       // 'caption' or 'ask'
  captionStarted: false, // the caption model's load was asked for
  captionStale: false,   // the scene changed while the Ask mode was shown
  ready: false,          // the model is loaded
  assets: null,          // { classes, grid, cell, size, scenes, atlas: { gray, width, height, samples } }
  items: new Array(9).fill(null),   // per cell: null or { class, sprite, dx, dy }
  sceneId: '',           // the shipped scene on screen ('' once edited)
  pixels: null,          // Uint8Array size * size: the composed scene
  selected: 0,           // the selected cell
  busy: false,
  pending: null,
  inflight: null,
  seq: 0,
  shown: 0,
  result: null,          // the caption on screen
  word: -1,              // the word whose map is drawn (-1: none)
  pinned: -1,            // a word clicked (its map stays when the pointer leaves)
  play: 0,               // the play timer (0: stopped)
};

// ---------------------------------------------------------------- assets

// The atlas as gray bytes (its red channel: the PNG is gray). createImageBitmap with colour
// space conversion off, so the bytes are the file's (no colour management).
async function loadAtlas() {
  const res = await fetch(SPRITES_URL);
  if (!res.ok) throw new Error(`${SPRITES_URL.pathname}: HTTP ${res.status}`);
  const bmp = await createImageBitmap(await res.blob(), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const c = document.createElement('canvas');
  c.width = bmp.width;
  c.height = bmp.height;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bmp, 0, 0);
  const rgba = ctx.getImageData(0, 0, c.width, c.height).data;
  const gray = new Uint8Array(c.width * c.height);
  for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i];
  return { gray, width: c.width, height: c.height };
}

async function loadAssets() {
  const [doc, atlas] = await Promise.all([
    fetch(SCENES_URL).then((r) => {
      if (!r.ok) throw new Error(`${SCENES_URL.pathname}: HTTP ${r.status}`);
      return r.json();
    }),
    loadAtlas(),
  ]);
  const { classes, grid = 3, cell = 28, size = 84, scenes = [], places, phrases } = doc;
  if (Array.isArray(places) && places.length === 9) CELL_NAMES = places.map((p) => String(p).replace(/^(in|at|on) the /, ''));
  if (!Array.isArray(classes) || grid !== 3 || cell * grid !== size || atlas.height < classes.length * cell)
    throw new Error('scenes.json and sprites.png do not describe a 3 x 3 grid of 28-pixel cells');
  atlas.samples = Math.floor(atlas.width / cell);
  // what the Ask mode's example questions are written with (questions.js)
  const names = Array.isArray(places) && places.length === 9 && Array.isArray(phrases) && phrases.length === classes.length
    ? { classes, phrases, places } : null;
  return { classes, grid, cell, size, scenes, atlas, names };
}

/** The scene's pixels (size * size gray bytes) from items, by the composition rule above. */
export function compose(items, a) {
  const { size, cell, grid } = a, { gray, width } = a.atlas;
  const out = new Uint8Array(size * size);
  items.forEach((it, k) => {
    if (!it) return;
    const x0 = cell * (k % grid) + it.dx, y0 = cell * Math.floor(k / grid) + it.dy;
    const sx = cell * it.sprite, sy = cell * it.class;
    for (let y = 0; y < cell; y++) {
      const ty = y0 + y;
      if (ty < 0 || ty >= size) continue;
      for (let x = 0; x < cell; x++) {
        const tx = x0 + x;
        if (tx < 0 || tx >= size) continue;
        const v = gray[(sy + y) * width + sx + x], o = ty * size + tx;
        if (v > out[o]) out[o] = v;
      }
    }
  });
  return out;
}

// ---------------------------------------------------------------- the scene

function drawScene() {
  const a = state.assets;
  state.pixels = compose(state.items, a);
  const c = $('scene-canvas'), ctx = c.getContext('2d');
  const img = ctx.createImageData(a.size, a.size);
  state.pixels.forEach((v, i) => {
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  });
  ctx.putImageData(img, 0, 0);
  c.setAttribute('aria-label', `The scene: ${describeItems() || 'empty'}`);
  renderCells();
}

function describeItems() {
  const a = state.assets;
  return state.items.map((it, k) => it && `${a.classes[it.class]} (${CELL_NAMES[k]})`).filter(Boolean).join(', ');
}

function renderCells() {
  const a = state.assets, box = $('cells');
  if (!box.children.length) {
    for (let k = 0; k < 9; k++) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.cell = k;
      b.addEventListener('click', () => selectCell(k, false));
      box.append(b);
    }
  }
  [...box.children].forEach((b, k) => {
    const it = state.items[k];
    b.tabIndex = k === state.selected ? 0 : -1;
    b.setAttribute('aria-pressed', String(k === state.selected));
    b.setAttribute('aria-label', `${CELL_NAMES[k]}: ${it ? `${a.classes[it.class]}, sample ${it.sprite + 1}` : 'empty'}`);
    b.title = b.getAttribute('aria-label');
  });
  const it = state.items[state.selected];
  $('cell-name').textContent = CELL_NAMES[state.selected];
  $('cell-class').value = it ? String(it.class) : '';
  if (it) $('cell-sprite').value = it.sprite + 1;
}

function selectCell(k, focus = true) {
  state.selected = k;
  renderCells();
  if (focus) $('cells').children[k].focus();
}

// Places class c (null: nothing) in cell k, with the sample of the Sample field; the item
// keeps its jitter when only its class or sample changes.
function setCell(k, c) {
  const a = state.assets;
  const sprite = Math.min(a.atlas.samples, Math.max(1, Math.round(Number($('cell-sprite').value)) || 1)) - 1;
  const old = state.items[k];
  state.items[k] = c === null ? null : { class: c, sprite, dx: old?.dx ?? 0, dy: old?.dy ?? 0 };
  state.sceneId = '';
  $('scene').value = '';
  $('reference').textContent = '';
  drawScene();
  sceneChanged();
}

function pickScene(id) {
  const s = state.assets.scenes.find((x) => x.id === id);
  if (!s) return;
  state.items = new Array(9).fill(null);
  for (const it of s.items) state.items[it.cell] = { class: it.class, sprite: it.sprite, dx: it.dx ?? 0, dy: it.dy ?? 0 };
  state.sceneId = id;
  $('scene').value = id;
  $('reference').textContent = s.caption ? `The generator's caption: ${s.caption}` : '';
  drawScene();
  sceneChanged();
}

// The scene on screen changed: caption it (in the Caption mode; later otherwise) and tell the
// Ask mode.
function sceneChanged() {
  captionNow();
  ask.sceneChanged();
}

// ---------------------------------------------------------------- captioning

function beam() {
  const el = $('img-beam');
  const v = Math.round(Number(el.value));
  const b = Number.isFinite(v) ? Math.min(Number(el.max) || 16, Math.max(1, v)) : 1;
  el.value = b;
  return b;
}

function captionNow() {
  if (state.mode !== 'caption') {
    state.captionStale = true;
    return;
  }
  state.captionStale = false;
  if (!state.ready || !state.pixels) return;
  const a = state.assets;
  state.pending = { id: ++state.seq, beam: beam(), sceneId: state.sceneId,
    image: { data: state.pixels.slice(), width: a.size, height: a.size, channels: 1 } };
  pump();
}

// One caption in flight at a time; while it runs, only the newest request waits.
function pump() {
  if (state.busy || !state.pending) return;
  const req = state.pending;
  state.pending = null;
  state.busy = true;
  state.inflight = req;
  document.body.dataset.imgBusy = 'true';
  post({ type: 'caption', slot: 'caption', id: req.id, image: req.image, beam: req.beam });
}

function onResult({ id, ms, result }) {
  state.busy = false;
  if (!state.pending) document.body.dataset.imgBusy = 'false';
  if (id > state.shown) {
    state.shown = id;
    clearError();
    state.result = result;
    state.request = state.inflight;
    renderCaption(result, ms);
  }
  pump();
}

function renderCaption(r, ms) {
  stop();
  state.word = state.pinned = -1;
  const box = $('caption');
  box.replaceChildren();
  $('play').disabled = !r?.words.length;
  if (!r) {
    $('img-stats').textContent = '';
    box.dataset.caption = '';
    showWord(-1);
    return;
  }
  r.words.forEach((w, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = /^[,.?!;:]$/.test(w) ? 'word punct' : 'word';
    b.textContent = w;
    b.dataset.i = i;
    b.setAttribute('aria-describedby', 'word-info');
    box.append(b);
  });
  box.dataset.caption = r.text;
  // the pixels and the request this caption is for (the e2e test reads them)
  box.dataset.scene = state.request.sceneId;
  $('img-stats').textContent = `captioned in ${ms.toFixed(1)} ms · ${r.words.length} words · beam ${state.request.beam} · ` +
    `log p ${fmtScore(r.logp)} · attention over a ${r.gridHeight} × ${r.gridWidth} grid`;
  showWord(-1);
}

// Draws word i's map over the image (-1: none) and says where it looked most.
function showWord(i) {
  const r = state.result, ov = $('overlay');
  state.word = i;
  for (const b of $('caption').querySelectorAll('.word')) b.classList.toggle('on', Number(b.dataset.i) === i);
  // the Ask mode draws its glimpses on the overlay: a caption arriving then leaves it alone
  const draw = state.mode === 'caption' ? drawOverlay : () => 0;
  if (state.mode === 'caption') ov.dataset.word = i;
  if (!r || i < 0 || i >= r.words.length) {
    draw(ov, null);
    $('word-info').textContent = r?.words.length ? 'Hover or focus a word to see where it looked.' : '';
    return;
  }
  if (!r.hasAttention) {
    draw(ov, null);
    $('word-info').textContent = 'This model has no attention to show.';
    return;
  }
  const S = r.gridHeight * r.gridWidth, row = r.attention.subarray(i * S, (i + 1) * S);
  const max = draw(ov, row, r.gridHeight, r.gridWidth);
  let best = 0;
  for (let k = 1; k < S; k++) if (row[k] > row[best]) best = k;
  const y = ((Math.floor(best / r.gridWidth) + 0.5) / r.gridHeight) * 3, x = (((best % r.gridWidth) + 0.5) / r.gridWidth) * 3;
  $('word-info').textContent = `“${r.words[i]}” looked most at the ${CELL_NAMES[Math.floor(y) * 3 + Math.floor(x)]} ` +
    `(peak weight ${max.toFixed(3)} of the ${S} places)`;
}

// ---------------------------------------------------------------- play

function stop() {
  if (!state.play) return;
  clearInterval(state.play);
  state.play = 0;
  $('play').setAttribute('aria-pressed', 'false');
  $('play').textContent = '▶ Play';
}

function play() {
  const r = state.result;
  if (state.play) {
    stop();
    showWord(state.pinned);
    return;
  }
  if (!r?.words.length) return;
  $('play').setAttribute('aria-pressed', 'true');
  $('play').textContent = '■ Stop';
  let i = 0;
  showWord(i);
  state.play = setInterval(() => {
    if (++i >= r.words.length) {
      stop();
      showWord(state.pinned);
    } else showWord(i);
  }, PLAY_MS);
}

// ---------------------------------------------------------------- model and worker

function onProgress({ loaded, total, cached }) {
  const p = $('img-progress');
  const from = cached ? 'from cache: ' : '';
  if (total) {
    p.max = total;
    p.value = loaded;
    $('img-load-text').textContent = `${from}${fmtBytes(loaded)} / ${fmtBytes(total)} (${Math.floor((100 * loaded) / total)} %)`;
  } else {
    p.removeAttribute('value');
    $('img-load-text').textContent = `${from}${fmtBytes(loaded)}`;
  }
}

function onReady({ ms, info, cached }) {
  state.ready = true;
  const p = $('img-progress');
  p.max = 1;
  p.value = 1;
  p.dataset.done = '';
  $('img-load-text').textContent = `${fmtBytes(info.modelBytes)} ${cached ? 'from cache' : 'downloaded'} · ready in ${Math.round(ms)} ms`;
  const c = info.config ?? {};
  const arch = [c.encoder?.type && `${c.encoder.type} encoder`, c.attention?.score && `${c.attention.score} attention`,
    c.decoder?.style && `${c.decoder.style} decoder`].filter(Boolean).join(' · ');
  $('img-model-info').textContent = `${info.name}: ${(info.parameters / 1e6).toFixed(2)} M parameters · ${arch} · ` +
    `vocabulary ${info.vocabSize} · ${info.kernels}`;
  $('img-beam').max = info.limits.maxBeam;
  document.body.dataset.imgReady = 'true';
  captionNow();
}

function onWorkerError({ phase, id, code, message }) {
  if (phase === 'load') {
    $('img-load-text').textContent = 'failed';
    document.body.dataset.imgReady = 'error';
    const [t, d] = explain(code === 'STELE_ERR_NO_SIMD' ? code : 'STELE_ERR_IO', `${code}: ${message}`);
    showError(t, code === 'STELE_ERR_NO_SIMD' ? message : d);
    return;
  }
  state.busy = false;
  if (id >= state.shown) {
    state.shown = id;
    const [t, d] = explain(code, message);
    showError(t, d);
    state.result = null;
    renderCaption(null);
  }
  if (!state.pending) document.body.dataset.imgBusy = 'false';
  pump();
}

onWorker('caption', (data) => {
  if (data.type === 'progress') onProgress(data);
  else if (data.type === 'ready') onReady(data);
  else if (data.type === 'result') onResult(data);
  else if (data.type === 'error') onWorkerError(data);
});

// ---------------------------------------------------------------- controls

$('scene').addEventListener('change', () => {
  if ($('scene').value) pickScene($('scene').value);
});
$('cell-class').addEventListener('change', () => {
  const v = $('cell-class').value;
  setCell(state.selected, v === '' ? null : Number(v));
});
$('cell-sprite').addEventListener('change', () => {
  const it = state.items[state.selected];
  if (it) setCell(state.selected, it.class);
});
$('clear-scene').addEventListener('click', () => {
  state.items = new Array(9).fill(null);
  state.sceneId = '';
  $('scene').value = '';
  $('reference').textContent = '';
  drawScene();
  sceneChanged();
});
$('img-beam').addEventListener('change', captionNow);
$('play').addEventListener('click', play);

// The cells: one in the tab order (the selected one); arrow keys move, 0-9 place that class,
// Delete or Backspace empties the cell.
$('cells').addEventListener('keydown', (e) => {
  if (!state.assets) return;
  const k = state.selected;
  const moves = { ArrowUp: -3, ArrowDown: 3, ArrowLeft: -1, ArrowRight: 1 };
  if (e.key in moves) {
    e.preventDefault();
    const d = moves[e.key], col = k % 3;
    if ((d === -1 && col === 0) || (d === 1 && col === 2) || k + d < 0 || k + d > 8) return;
    selectCell(k + d);
  } else if (/^[0-9]$/.test(e.key) && Number(e.key) < state.assets.classes.length) {
    e.preventDefault();
    setCell(k, Number(e.key));
  } else if (e.key === 'Delete' || e.key === 'Backspace') {
    e.preventDefault();
    setCell(k, null);
  }
});

// The words: hover or focus shows a word's map; click pins it (for touch screens).
const wordOf = (e) => e.target.closest?.('.word');
$('caption').addEventListener('pointerover', (e) => {
  const w = wordOf(e);
  if (w && !state.play) showWord(Number(w.dataset.i));
});
$('caption').addEventListener('pointerleave', () => { if (!state.play) showWord(state.pinned); });
$('caption').addEventListener('focusin', (e) => {
  const w = wordOf(e);
  if (w) {
    stop();
    showWord(Number(w.dataset.i));
  }
});
$('caption').addEventListener('focusout', () => { if (!state.play) showWord(state.pinned); });
$('caption').addEventListener('click', (e) => {
  const w = wordOf(e);
  if (!w) return;
  const i = Number(w.dataset.i);
  state.pinned = state.pinned === i ? -1 : i;
  showWord(state.pinned === -1 ? i : state.pinned);
});

// ---------------------------------------------------------------- modes

function loadCaptionModel() {
  if (state.captionStarted) return;
  state.captionStarted = true;
  document.body.dataset.imgReady = 'false';
  $('img-load-text').textContent = `loading ${MODEL}…`;
  post({ type: 'load', slot: 'caption', model: MODEL });
}

// Caption or Ask: shows the mode's panel, keeps it in the URL (?mode=ask), loads its model the
// first time, and gives the overlay to it.
function setMode(mode) {
  state.mode = mode = mode === 'ask' ? 'ask' : 'caption';
  document.body.dataset.imgMode = mode;
  $(`mode-${mode}`).checked = true;
  $('caption-mode').hidden = mode !== 'caption';
  $('ask-mode').hidden = mode !== 'ask';
  // the caption model's progress and description (in the Scene card) only with its mode
  $('img-load').hidden = $('img-model-info').hidden = mode !== 'caption';
  const url = new URL(location.href);
  if (mode === 'ask') url.searchParams.set('mode', 'ask');
  else url.searchParams.delete('mode');
  if (url.href !== location.href) history.replaceState(null, '', url);
  if (!started) return;
  if (mode === 'caption') {
    ask.setShown(false);
    loadCaptionModel();
    if (state.captionStale) captionNow();
    showWord(state.pinned);
  } else {
    stop();
    ask.setShown(true);
  }
}

for (const el of document.querySelectorAll('input[name="img-mode"]'))
  el.addEventListener('change', () => setMode(document.querySelector('input[name="img-mode"]:checked').value));

ask.init(() => {
  const a = state.assets;
  return { pixels: state.pixels, layout: state.items.map((it) => (it ? it.class : null)), names: a?.names ?? null,
    sceneId: state.sceneId, cellNames: CELL_NAMES, size: a?.size ?? 84 };
});

// ---------------------------------------------------------------- start

let started = false;

/** Called when the view is shown: the first time, loads the scenes and the model of the mode. */
export function activate() {
  if (started) return;
  started = true;
  $('overlay-legend').style.background = overlayGradient();
  setMode(new URLSearchParams(location.search).get('mode') ?? state.mode);
  loadAssets().then((a) => {
    state.assets = a;
    const sel = $('cell-class');
    sel.replaceChildren(new Option('empty', ''), ...a.classes.map((c, i) => new Option(`${i} · ${c}`, String(i))));
    $('cell-sprite').max = a.atlas.samples;
    $('scene').replaceChildren(new Option('composed', ''), ...a.scenes.map((s) => new Option(s.id, s.id)));
    $('scene').disabled = false;
    document.body.dataset.scenes = 'true';
    if (a.scenes.length) pickScene(a.scenes[0].id);
    else drawScene();
  }).catch((e) => {
    document.body.dataset.scenes = 'error';
    showError('The scenes failed to load:', e.message);
  });
}
