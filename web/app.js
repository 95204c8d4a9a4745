// The page: controls, output, and the attention views. The engine runs in worker.js.
import { buildSearchTree } from './search-view.js';

const $ = (id) => document.getElementById(id);

const EXAMPLES = {
  'ui-en-fr': ['Save the document', 'Open a new window', 'Delete the selected files?', 'Show hidden files'],
  dates: ['29th March 2042', '3 juillet 1999', '7 января 2001', 'the fifth of March, 2021'],
};
// The written forms the dates model was trained on (scripts/data/dates.py, its docstring), each
// also in lower and upper case; others may work, and a likely-wrong output is flagged.
const FORMS = {
  dates: ['5 March 2021 · March 5, 2021 · March 5th, 2021 · Mar 5 \'21 · Mar. 5, 2021 · 5-Mar-2021',
    'Friday, 5 March 2021 · Fri 5 Mar 2021 · the 5th of March, 2021 · the fifth of March, 2021 · March fifth, 2021',
    '5 mars 2021 · le 1er mars 2021 · le premier mars 2021 · vendredi cinq mars 2021 · 5 févr. 2021 · 5 mars 21',
    '5 марта 2021 г. · 5 марта 2021 года · пятница, 5 марта 2021 г. · 5-е марта 2021 г. · пятое марта 2021 года · пятого марта 2021 года',
    '05.03.2021 · 5.3.2021 · 2021-03-05 · 2021/3/5 · 2021.03.05 (day.month.year with dots, year first otherwise)'],
};
const DEBOUNCE_MS = 250;

const state = {
  model: null,          // name of the loaded model
  ready: false,
  busy: false,          // a translation is in the worker
  pending: null,        // the latest request waiting for the worker
  seq: 0,
  shown: 0,             // id of the result on screen
  result: null,         // last Translation
  request: null,        // { text, beam, nbest } of that result
  inflight: null,       // the request in the worker
  unit: 'piece',
  view: 'grid',
  focus: [0, 0],        // focused heatmap cell (row, col)
};

// ---------------------------------------------------------------- errors

function showError(title, detail) {
  const el = $('error');
  el.replaceChildren();
  const b = document.createElement('strong');
  b.textContent = title;
  el.append(b);
  if (detail) el.append(document.createTextNode(' ' + detail));
  el.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').replaceChildren();
}

window.addEventListener('error', (e) => showError('Unexpected error:', e.message));
window.addEventListener('unhandledrejection', (e) => showError('Unexpected error:', String(e.reason?.message ?? e.reason)));

function explain(code, message) {
  switch (code) {
    case 'STELE_ERR_NO_SIMD': return ['This browser cannot run stele:', message];
    case 'STELE_ERR_LIMIT': return ['Input too long:', message];
    case 'STELE_ERR_TEXT': return ['The input cannot be translated:', message];
    case 'STELE_ERR_IO': return ['The model failed to load:', message];
    default: return [`${code}:`, message];
  }
}

// ---------------------------------------------------------------- worker

let worker = null;

function startWorker() {
  try {
    worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  } catch (e) {
    showError('The engine worker failed to start:', e.message);
    return false;
  }
  worker.onerror = (e) => {
    e.preventDefault();
    showError('The engine worker failed to start:', e.message || 'module workers may be unsupported here');
  };
  worker.addEventListener('message', ({ data }) => {
    if (data.type === 'progress') onProgress(data);
    else if (data.type === 'ready') onReady(data);
    else if (data.type === 'result') onResult(data);
    else if (data.type === 'error') onWorkerError(data);
  });
  return true;
}

const fmtScore = (x) => (Math.abs(x) < 0.001 && x !== 0 ? x.toExponential(1) : x.toFixed(3));
const fmtBytes = (n) => n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} KB`;

function loadModel(name) {
  state.ready = false;
  state.model = name;
  state.result = null;
  setInputEnabled(false);
  clearError();
  $('progress').value = 0;
  $('progress').removeAttribute('data-done');
  $('load-text').textContent = `loading ${name}…`;
  showModelDesc();
  $('model-info').textContent = '';
  document.body.dataset.ready = 'false';
  renderExamples(name);
  renderResult(null);
  $('output').lang = name === 'ui-en-fr' ? 'fr' : 'en';
  worker.postMessage({ type: 'load', model: name });
}

function onProgress({ loaded, total, cached }) {
  const p = $('progress');
  const from = cached ? 'from cache: ' : '';
  if (total) {
    p.max = total;
    p.value = loaded;
    $('load-text').textContent = `${from}${fmtBytes(loaded)} / ${fmtBytes(total)} (${Math.floor((100 * loaded) / total)} %)`;
  } else {
    p.removeAttribute('value');
    $('load-text').textContent = `${from}${fmtBytes(loaded)}`;
  }
}

function onReady({ model, ms, info, cached }) {
  if (model !== state.model) return;
  state.ready = true;
  const p = $('progress');
  p.max = 1;
  p.value = 1;
  p.dataset.done = '';
  $('load-text').textContent = `${fmtBytes(info.modelBytes)} ${cached ? 'from cache' : 'downloaded'} · ready in ${Math.round(ms)} ms`;
  const c = info.config ?? {};
  const arch = [c.encoder?.type, c.attention?.score && `${c.attention.score} attention`, c.decoder?.style && `${c.decoder.style} decoder`]
    .filter(Boolean).join(' · ');
  $('model-info').textContent = `${info.name}: ${(info.parameters / 1e6).toFixed(2)} M parameters · ${arch} · ` +
    `vocabulary ${info.vocabSize} · ${info.kernels}`;
  const beam = $('beam');
  beam.max = info.limits.maxBeam;
  $('nbest').max = info.limits.maxBeam;
  $('input-help').textContent = `Up to ${info.limits.maxTextBytes} bytes and ${info.limits.maxSourceTokens} pieces.`;
  document.body.dataset.ready = 'true';
  document.body.dataset.model = model;
  setInputEnabled(true);
  const input = $('input');
  if (!input.value) input.value = EXAMPLES[model]?.[0] ?? '';
  translateNow();
}

function onWorkerError({ phase, id, code, message }) {
  if (phase === 'load') {
    $('load-text').textContent = 'failed';
    document.body.dataset.ready = 'error';
    const [t, d] = explain(code === 'STELE_ERR_IO' || code === 'STELE_ERR_NO_SIMD' ? code : 'STELE_ERR_IO', `${code}: ${message}`);
    showError(t, code === 'STELE_ERR_NO_SIMD' ? message : d);
    return;
  }
  state.busy = false;
  if (id >= state.shown) {
    state.shown = id;
    const [t, d] = explain(code, message);
    showError(t, d);
    // The previous sentence's output and heatmap must not stay on screen as if they were this
    // input's: the attention views read state.result.
    state.result = null;
    state.request = null;
    renderResult(null);
    $('output').dataset.input = state.inflight?.text ?? '';
  }
  if (!state.pending) document.body.dataset.busy = 'false';
  pump();
}

function setInputEnabled(on) {
  for (const id of ['input', 'go']) $(id).disabled = !on;
}

// ---------------------------------------------------------------- translating

function params() {
  const clampInt = (el, lo, hi, def) => {
    const v = Math.round(Number(el.value));
    return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : def;
  };
  const beam = clampInt($('beam'), 1, Number($('beam').max) || 16, 5);
  const nbest = clampInt($('nbest'), 1, beam, 1);
  return { beam, nbest, trace: true };   // the trace feeds the Search view
}

function translateNow() {
  if (!state.ready) return;
  const text = $('input').value;
  state.pending = { id: ++state.seq, text, ...params() };
  pump();
}

// One translation in flight at a time; while it runs, only the newest request waits.
function pump() {
  if (state.busy || !state.pending) return;
  const req = state.pending;
  state.pending = null;
  state.busy = true;
  state.inflight = req;
  document.body.dataset.busy = 'true';
  worker.postMessage({ type: 'translate', ...req });
}

function onResult({ id, ms, result }) {
  state.busy = false;
  if (!state.pending) document.body.dataset.busy = 'false';
  if (id > state.shown) {
    state.shown = id;
    clearError();
    state.result = result;
    state.request = state.inflight;
    state.ms = ms;
    renderResult(result);
    $('output').dataset.input = state.request.text;
  }
  pump();
}

let debounce = 0;
$('input').addEventListener('input', () => {
  if (!$('live').checked) return;
  clearTimeout(debounce);
  debounce = setTimeout(translateNow, DEBOUNCE_MS);
});
$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  clearTimeout(debounce);
  translateNow();
});
for (const id of ['beam', 'nbest']) $(id).addEventListener('change', () => {
  const p = params();
  $('beam').value = p.beam;
  $('nbest').value = p.nbest;
  translateNow();
});
// The picker's options are short names that fit a phone's width; the option's data-desc, the
// full description, wraps below it.
function showModelDesc() {
  const o = $('model').selectedOptions[0];
  $('model-desc').textContent = o ? o.dataset.desc ?? o.textContent : '';
}

$('model').addEventListener('change', () => {
  $('input').value = '';
  loadModel($('model').value);
});

function renderExamples(model) {
  const box = $('examples');
  box.replaceChildren();
  const forms = $('forms');
  forms.hidden = !FORMS[model];
  forms.querySelector('ul').replaceChildren(...(FORMS[model] ?? []).map((f) => {
    const li = document.createElement('li');
    li.textContent = f;
    return li;
  }));
  for (const ex of EXAMPLES[model] ?? []) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip';
    b.textContent = ex;
    b.addEventListener('click', () => {
      $('input').value = ex;
      translateNow();
    });
    box.append(b);
  }
}

// ---------------------------------------------------------------- results

function renderResult(r) {
  const out = $('output'), list = $('nbest-list');
  list.replaceChildren();
  $('export-png').disabled = $('export-json').disabled = !r?.alignment;
  // the model's calibrated flag (search.low_confidence_logp): a likely-wrong output is not shown
  // as certain
  $('low-confidence').hidden = !r?.lowConfidence;
  out.classList.toggle('uncertain', !!r?.lowConfidence);
  if (!r) {
    out.textContent = '';
    $('stats').textContent = '';
    renderAttention();
    return;
  }
  out.textContent = r.text;
  const n = r.targetTokens.length;
  const ms = state.ms;
  $('stats').textContent = `decoded in ${ms.toFixed(1)} ms · ${n} tokens · ` +
    `${ms > 0 ? Math.round((n * 1000) / ms) : '∞'} tokens/s · beam ${state.request.beam} · score ${fmtScore(r.score)}`;
  if (r.nbest.length > 1) {
    r.nbest.forEach((h, k) => {
      const li = document.createElement('li');
      const t = document.createElement('span');
      t.className = 'hyp';
      t.textContent = h.text;
      const s = document.createElement('span');
      s.className = 'score';
      s.textContent = `score ${fmtScore(h.score)} · log p ${fmtScore(h.logp)}`;
      li.append(t, s);
      if (k === 0) li.className = 'best';
      list.append(li);
    });
  }
  renderAttention();
}

// ---------------------------------------------------------------- attention data

const showPiece = (p) => (p === '</s>' ? '</s>' : p.replace(/\u2581/g, '▁'));

/** The matrix on screen: { rows, cols, src: [], tgt: [], w: Float32Array } or null. */
function matrix() {
  const r = state.result;
  if (!r?.alignment) return null;
  if (state.unit === 'word') return wordMatrix(r);
  const a = r.alignment;
  return { rows: a.rows, cols: a.cols, src: r.sourceTokens.map(showPiece), tgt: r.targetTokens.map(showPiece), w: a.weights, unit: 'piece' };
}

// The engine's word weights sum each target word's attention over source words, which leave out
// the source </s>, so its rows sum to less than 1. The page adds the </s> as a last column,
// computed the engine's way (summed over the </s> pieces, averaged over the target word's
// pieces), so that each row sums to 1 as the page says. The target </s> is no word: no row.
function wordMatrix(r) {
  const w = r.wordAlignment, a = r.alignment;
  if (!w.weights || !w.rows || !w.cols) return null;
  const cols = w.cols + 1, out = new Float32Array(w.rows * cols);
  const eos = new Float64Array(w.rows), pieces = new Int32Array(w.rows);
  for (let t = 0; t < a.rows; t++) {
    const tw = w.targetWordOfPiece[t];
    if (tw < 0) continue;
    pieces[tw]++;
    for (let j = 0; j < a.cols; j++) if (w.sourceWordOfPiece[j] < 0) eos[tw] += a.weights[t * a.cols + j];
  }
  for (let i = 0; i < w.rows; i++) {
    out.set(w.weights.subarray(i * w.cols, (i + 1) * w.cols), i * cols);
    out[i * cols + w.cols] = eos[i] / (pieces[i] || 1);
  }
  return { rows: w.rows, cols, src: [...w.sourceWords, '</s>'], tgt: w.targetWords, w: out, unit: 'word' };
}

// Sequential colour scale: near-white to deep indigo (monotonic lightness). In dark mode the
// scale runs the other way, from the card's dark to near-white, so that a strong weight stands
// out from the dark page instead of melting into it. Exported PNGs (white) keep the light one.
const STOPS = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107], [20, 12, 60]];
const STOPS_DARK = [[30, 36, 46], [8, 48, 107], [33, 113, 181], [107, 174, 214], [198, 219, 239], [250, 252, 255]];
const darkMode = window.matchMedia('(prefers-color-scheme: dark)');
function colour(v, stops = darkMode.matches ? STOPS_DARK : STOPS) {
  const x = Math.min(1, Math.max(0, v)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
function paintLegend() {
  const n = STOPS.length - 1;
  $('legend-bar').style.background = `linear-gradient(to right, ${STOPS.map((_, i) => colour(i / n)).join(', ')})`;
}
paintLegend();
darkMode.addEventListener('change', () => {
  paintLegend();
  renderAttention();
});

const argmax = (m, i) => {
  let best = 0;
  for (let j = 1; j < m.cols; j++) if (m.w[i * m.cols + j] > m.w[i * m.cols + best]) best = j;
  return best;
};

// ---------------------------------------------------------------- attention views

function renderAttention() {
  const m = matrix();
  const grid = $('grid-wrap'), links = $('links-wrap'), search = $('search-wrap');
  grid.replaceChildren();
  links.replaceChildren();
  search.replaceChildren();
  renderTokens(m);
  grid.hidden = state.view !== 'grid';
  links.hidden = state.view !== 'links';
  search.hidden = state.view !== 'search';
  if (state.view === 'search') {   // the search tree (search-view.js) needs no attention
    if (state.result?.trace) search.append(buildSearchTree(state.result.trace));
    else {
      const p = document.createElement('p');
      p.className = 'muted small';
      p.textContent = state.result ? 'No search to show for this input.' : 'Translate something to see its search.';
      search.append(p);
    }
    return;
  }
  if (!m) {
    const p = document.createElement('p');
    p.className = 'muted small';
    p.textContent = state.result ? 'No attention to show for this input.' : 'Translate something to see its attention.';
    (state.view === 'grid' ? grid : links).append(p);
    return;
  }
  state.focus = [Math.min(state.focus[0], m.rows - 1), Math.min(state.focus[1], m.cols - 1)];
  if (state.view === 'grid') grid.append(buildGrid(m));
  else links.append(buildLinks(m));
}

function renderTokens(m) {
  const mk = (box, toks, side) => {
    box.replaceChildren();
    (toks ?? []).forEach((t, i) => {
      const s = document.createElement('span');
      s.className = 'tok';
      s.textContent = t;
      s.dataset.side = side;
      s.dataset.i = i;
      box.append(s);
    });
  };
  mk($('src-tokens'), m?.src, 'src');
  mk($('tgt-tokens'), m?.tgt, 'tgt');
}

function buildGrid(m) {
  const table = document.createElement('table');
  table.className = 'heatmap';
  table.id = 'heatmap';
  table.dataset.rows = m.rows;
  table.dataset.cols = m.cols;
  // Short sentences get bigger cells; long ones scroll sideways.
  const room = Math.min(640, ($('grid-wrap').clientWidth || 640) - 110);
  table.style.setProperty('--cell', `${Math.max(22, Math.min(44, Math.floor(room / m.cols)))}px`);
  table.setAttribute('aria-label', `Attention weights: ${m.rows} target ${m.unit}s (rows) by ${m.cols} source ${m.unit}s (columns)`);
  const cap = document.createElement('caption');
  cap.className = 'sr-only';
  cap.textContent = 'Rows: output (target); columns: input (source). Darker = more attention.';
  table.append(cap);
  const thead = table.createTHead().insertRow();
  const corner = document.createElement('th');
  corner.className = 'corner';
  corner.innerHTML = '<span>target ↓</span><span>source →</span>';
  thead.append(corner);
  m.src.forEach((t, j) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.className = 'col-h';
    th.dataset.col = j;
    const s = document.createElement('span');
    s.textContent = t;
    th.append(s);
    thead.append(th);
  });
  const body = table.createTBody();
  for (let i = 0; i < m.rows; i++) {
    const tr = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.className = 'row-h';
    th.dataset.row = i;
    th.textContent = m.tgt[i];
    tr.append(th);
    for (let j = 0; j < m.cols; j++) {
      const v = m.w[i * m.cols + j];
      const td = document.createElement('td');
      td.className = 'cell';
      td.dataset.row = i;
      td.dataset.col = j;
      td.style.background = colour(v);
      td.tabIndex = i === state.focus[0] && j === state.focus[1] ? 0 : -1;
      td.setAttribute('aria-label', `${m.tgt[i]} ← ${m.src[j]}: ${v.toFixed(3)}`);
      td.title = `${m.tgt[i]} ← ${m.src[j]}: ${v.toFixed(3)}`;
      tr.append(td);
    }
  }
  table.addEventListener('pointerover', (e) => {
    const el = e.target.closest('[data-row], [data-col]');
    if (el) highlight(el.dataset.row, el.dataset.col);
  });
  table.addEventListener('pointerleave', () => highlight());
  table.addEventListener('focusin', (e) => {
    const el = e.target.closest('td.cell');
    if (el) highlight(el.dataset.row, el.dataset.col);
  });
  table.addEventListener('focusout', () => highlight());
  table.addEventListener('keydown', (e) => {
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], Home: [0, -1e9], End: [0, 1e9] };
    const d = moves[e.key];
    if (!d) return;
    e.preventDefault();
    const [r0, c0] = state.focus;
    const r = Math.min(m.rows - 1, Math.max(0, r0 + d[0])), c = Math.min(m.cols - 1, Math.max(0, c0 + d[1]));
    const old = table.querySelector(`td[data-row="${r0}"][data-col="${c0}"]`);
    const next = table.querySelector(`td[data-row="${r}"][data-col="${c}"]`);
    if (old) old.tabIndex = -1;
    next.tabIndex = 0;
    state.focus = [r, c];
    next.focus();
  });
  return table;
}

// Highlights target row i and/or source column j everywhere: heatmap headers and cells, the two
// token strips, and the links view. A row alone also marks the source it attends to most; a
// column alone marks the targets that attend to it most.
function highlight(row, col) {
  const m = matrix();
  document.querySelectorAll('.hl, .hl-row, .hl-col, .hl-cell').forEach((el) => el.classList.remove('hl', 'hl-row', 'hl-col', 'hl-cell'));
  document.body.classList.remove('hovering');
  if (!m || (row === undefined && col === undefined)) return;
  document.body.classList.add('hovering');
  const i = row === undefined ? null : Number(row), j = col === undefined ? null : Number(col);
  const srcs = new Set(), tgts = new Set();
  if (i !== null) tgts.add(i);
  if (j !== null) srcs.add(j);
  if (i !== null && j === null) srcs.add(argmax(m, i));
  if (j !== null && i === null) for (let r = 0; r < m.rows; r++) if (argmax(m, r) === j) tgts.add(r);
  const q = (s) => document.querySelectorAll(s);
  for (const t of tgts) {
    q(`.tok[data-side="tgt"][data-i="${t}"], .row-h[data-row="${t}"], .ln-tok[data-side="tgt"][data-i="${t}"]`).forEach((el) => el.classList.add('hl'));
  }
  for (const s of srcs) {
    q(`.tok[data-side="src"][data-i="${s}"], .col-h[data-col="${s}"], .ln-tok[data-side="src"][data-i="${s}"]`).forEach((el) => el.classList.add('hl'));
  }
  if (i !== null) q(`td.cell[data-row="${i}"]`).forEach((el) => el.classList.add('hl-row'));
  if (j !== null) q(`td.cell[data-col="${j}"]`).forEach((el) => el.classList.add('hl-col'));
  if (i !== null && j !== null) q(`td.cell[data-row="${i}"][data-col="${j}"]`).forEach((el) => el.classList.add('hl-cell'));
  q('.link').forEach((el) => {
    const on = (i === null || Number(el.dataset.row) === i) && (j === null || Number(el.dataset.col) === j);
    if (on) el.classList.add('hl');
  });
}

// Token strips are hover targets too.
for (const id of ['src-tokens', 'tgt-tokens']) {
  $(id).addEventListener('pointerover', (e) => {
    const t = e.target.closest('.tok');
    if (!t) return;
    if (t.dataset.side === 'src') highlight(undefined, t.dataset.i);
    else highlight(t.dataset.i, undefined);
  });
  $(id).addEventListener('pointerleave', () => highlight());
}

const SVG = 'http://www.w3.org/2000/svg';
function svgEl(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

// Two sentences, one above the other, with a line from each target token to each source token
// it attends to (width and opacity = weight; weights under 0.05 are left out).
function buildLinks(m) {
  const charW = 9, pad = 14, H = 190;
  const place = (toks) => {
    const xs = [];
    let x = 8;
    for (const t of toks) {
      const w = Math.max(2, [...t].length) * charW + pad;
      xs.push({ x, w, c: x + w / 2 });
      x += w;
    }
    return { xs, width: x + 8 };
  };
  const S = place(m.src), T = place(m.tgt);
  const width = Math.max(S.width, T.width);
  const offS = (width - S.width) / 2, offT = (width - T.width) / 2;
  const svg = svgEl('svg', { width, height: H, viewBox: `0 0 ${width} ${H}`, role: 'img', id: 'links',
    'aria-label': `Alignment links between ${m.cols} source and ${m.rows} target ${m.unit}s` });
  const lines = svgEl('g', {});
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) {
      const v = m.w[i * m.cols + j];
      if (v < 0.05) continue;
      const l = svgEl('line', { x1: offS + S.xs[j].c, y1: 34, x2: offT + T.xs[i].c, y2: H - 34,
        'stroke-width': (0.5 + 4 * v).toFixed(2), 'stroke-opacity': (0.15 + 0.85 * v).toFixed(2), class: 'link',
        'data-row': i, 'data-col': j });
      const title = svgEl('title', {});
      title.textContent = `${m.tgt[i]} ← ${m.src[j]}: ${v.toFixed(3)}`;
      l.append(title);
      lines.append(l);
    }
  }
  svg.append(lines);
  const row = (toks, P, off, y, side) => toks.forEach((t, k) => {
    const g = svgEl('g', { class: 'ln-tok', 'data-side': side, 'data-i': k });
    g.append(svgEl('rect', { x: off + P.xs[k].x + 2, y: y - 14, width: P.xs[k].w - 4, height: 24, rx: 5 }));
    const tx = svgEl('text', { x: off + P.xs[k].c, y: y + 3, 'text-anchor': 'middle' });
    tx.textContent = t;
    g.append(tx);
    svg.append(g);
  });
  row(m.src, S, offS, 20, 'src');
  row(m.tgt, T, offT, H - 20, 'tgt');
  svg.addEventListener('pointerover', (e) => {
    const g = e.target.closest('.ln-tok, .link');
    if (!g) return;
    if (g.classList.contains('link')) highlight(g.dataset.row, g.dataset.col);
    else if (g.dataset.side === 'src') highlight(undefined, g.dataset.i);
    else highlight(g.dataset.i, undefined);
  });
  svg.addEventListener('pointerleave', () => highlight());
  return svg;
}

for (const el of document.querySelectorAll('input[name="view"], input[name="unit"]')) {
  el.addEventListener('change', () => {
    state.view = document.querySelector('input[name="view"]:checked').value;
    state.unit = document.querySelector('input[name="unit"]:checked').value;
    state.focus = [0, 0];
    renderAttention();
  });
}

let resizeTimer = 0;
let lastWidth = window.innerWidth;
window.addEventListener('resize', () => {
  if (window.innerWidth === lastWidth) return;
  lastWidth = window.innerWidth;
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(renderAttention, 150);
});

// ---------------------------------------------------------------- export

function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

const fileStem = () => `stele-${state.model}-attention-${state.unit === 'word' ? 'words' : 'subwords'}`;

$('export-json').addEventListener('click', () => {
  const m = matrix(), r = state.result;
  if (!m) return;
  const weights = [];
  for (let i = 0; i < m.rows; i++) weights.push(Array.from(m.w.subarray(i * m.cols, (i + 1) * m.cols)));
  const doc = {
    model: state.model, input: state.request.text, output: r.text, beam: state.request.beam,
    nbest: r.nbest.map((h) => ({ text: h.text, score: h.score, logp: h.logp })),
    unit: m.unit, rows: m.rows, cols: m.cols, source: m.src, target: m.tgt, weights,
  };
  download(new Blob([JSON.stringify(doc, null, 1)], { type: 'application/json' }), `${fileStem()}.json`);
});

$('export-png').addEventListener('click', () => {
  const m = matrix();
  if (!m) return;
  const cell = 26, font = '13px system-ui, sans-serif';
  const c = document.createElement('canvas');
  const ctx = c.getContext('2d');
  ctx.font = font;
  const rowW = Math.ceil(Math.max(...m.tgt.map((t) => ctx.measureText(t).width))) + 16;
  const colH = Math.ceil(Math.max(...m.src.map((t) => ctx.measureText(t).width))) + 16;
  const caption = `${state.model}: ${state.request.text} → ${state.result.text}`;
  const lw = Math.min(200, Math.max(120, m.cols * cell));
  const scale = 2, H = colH + m.rows * cell + 70;
  const W = Math.ceil(Math.max(rowW + m.cols * cell + 20, 16 + ctx.measureText(caption).width,
    rowW + lw + 20 + ctx.measureText('1  attention weight').width));
  c.width = W * scale;
  c.height = H * scale;
  ctx.scale(scale, scale);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = font;
  ctx.fillStyle = '#1b1f24';
  ctx.textBaseline = 'middle';
  m.src.forEach((t, j) => {
    ctx.save();
    ctx.translate(rowW + j * cell + cell / 2, colH - 8);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'left';
    ctx.fillText(t, 0, 0);
    ctx.restore();
  });
  ctx.textAlign = 'right';
  m.tgt.forEach((t, i) => ctx.fillText(t, rowW - 8, colH + i * cell + cell / 2));
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) {
      ctx.fillStyle = colour(m.w[i * m.cols + j], STOPS);
      ctx.fillRect(rowW + j * cell, colH + i * cell, cell - 1, cell - 1);
    }
  }
  const ly = colH + m.rows * cell + 24;
  const g = ctx.createLinearGradient(rowW, 0, rowW + lw, 0);
  STOPS.forEach((_, k) => g.addColorStop(k / (STOPS.length - 1), colour(k / (STOPS.length - 1), STOPS)));
  ctx.fillStyle = g;
  ctx.fillRect(rowW, ly, lw, 12);
  ctx.fillStyle = '#1b1f24';
  ctx.textAlign = 'right';
  ctx.fillText('0', rowW - 6, ly + 6);
  ctx.textAlign = 'left';
  ctx.fillText('1  attention weight', rowW + lw + 6, ly + 6);
  ctx.fillText(caption, 8, ly + 32);
  c.toBlob((b) => download(b, `${fileStem()}.png`), 'image/png');
});

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

// ---------------------------------------------------------------- start

const wanted = new URLSearchParams(location.search).get('model');
if (wanted && [...$('model').options].some((o) => o.value === wanted)) $('model').value = wanted;
$('load-text').textContent = 'starting…';
serviceWorker().then(() => {
  if (startWorker()) loadModel($('model').value);
});
