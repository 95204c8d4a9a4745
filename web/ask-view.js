// The Images view's Ask mode: a question about the scene on screen, answered by the VQA model
// (models/scenes-vqa) in the worker (slot 'ask', an Answerer), with its top 3 answers and its
// glimpses (where it looked: one map per glimpse over the CNN's grid) drawn over the scene in
// one colour each, each glimpse toggled by its own checkbox. images-view.js owns the scene and
// the overlay canvas: it tells this module when the scene changes and when the mode switches.
//
// Example questions come from the scene's layout (questions.js: the training templates); the
// words they use are checked against the loaded model once it is ready (worker 'known'), and an
// example with a word the model does not know is left out. A question typed with such a word is
// answered by the engine with "<unk>" in its place: the page shows no answer then, but says
// which words (questions.js: questionWords splits the text as the engine does, so the "<unk>"s
// line up with the typed words).
import { $, showError, clearError, explain, fmtBytes, onWorker, post } from './common.js';
import { drawGlimpses, GLIMPSE_COLOURS, GLIMPSE_NAMES } from './heatmap.js';
import { allQuestions, exampleQuestions, questionWords, templateWords } from './questions.js';

const MODEL = 'scenes-vqa';

const state = {
  scene: null,          // () => { pixels, layout, names, sceneId, cellNames, size } from images-view.js
  on: false,            // the Ask mode is shown
  started: false,       // the model load was asked for
  loaded: false,        // the model is loaded
  wordsAsked: false,    // its words are being checked
  ready: false,         // ... and checked: questions can be asked
  known: null,          // Set of the template words the model knows (null: not checked yet)
  templateWords: [],
  busy: false,
  pending: null,
  inflight: null,
  seq: 0,
  shown: 0,
  result: null,         // the answer on screen ({ ..., request })
  show: [true, true, true, true],   // each glimpse's toggle
  asked: false,         // a question was asked (a scene change asks it again)
  stale: false,         // the scene changed while the mode was hidden
};

/** ask-view.js reads the scene through getter (see state.scene). */
export function init(getter) {
  state.scene = getter;
}

// ---------------------------------------------------------------- mode

/** The mode is shown (on) or hidden; the first showing loads the model. */
export function setShown(on) {
  state.on = on;
  if (!on) return;
  if (!state.started) {
    state.started = true;
    document.body.dataset.askReady = 'false';
    $('ask-load-text').textContent = `loading ${MODEL}…`;
    post({ type: 'load', slot: 'ask', model: MODEL });
  }
  renderExamples();
  if (state.stale && state.asked) askNow($('question').value);
  state.stale = false;
  drawNow();
}

/** The scene changed (a shipped scene picked, a cell edited): new examples, and the question
 *  on screen asked again about the new scene. */
export function sceneChanged() {
  checkWords();
  if (!state.on) {
    state.stale = true;
    return;
  }
  renderExamples();
  if (state.asked) askNow($('question').value);
}

// ---------------------------------------------------------------- examples

function examples() {
  const sc = state.scene?.();
  if (!sc?.names) return [];
  const qs = exampleQuestions(sc.layout, sc.names);
  return state.known ? qs.filter((q) => questionWords(q.text).every((w) => state.known.has(w))) : qs;
}

function renderExamples() {
  const box = $('ask-examples');
  const qs = examples();
  box.replaceChildren(...qs.map((q) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip';
    b.textContent = q.text;
    b.dataset.type = q.type;
    b.title = `${q.type} question`;
    b.disabled = !state.ready;
    b.addEventListener('click', () => {
      $('question').value = q.text;
      askNow(q.text);
    });
    return b;
  }));
  box.dataset.scene = state.scene?.().sceneId ?? '';
}

// The scene's own answer to a template question (from its layout), or null.
function truth(question) {
  const sc = state.scene?.();
  if (!sc?.names) return null;
  const key = questionWords(question).join(' ');
  return allQuestions(sc.layout, sc.names).find((q) => questionWords(q.text).join(' ') === key) ?? null;
}

// ---------------------------------------------------------------- asking

function askError(message) {
  const el = $('ask-error');
  el.textContent = message;
  el.hidden = !message;
  $('question').setAttribute('aria-invalid', String(!!message));
}

function askNow(question) {
  if (!state.ready) return;
  const sc = state.scene?.();
  if (!sc?.pixels) return;
  if (!questionWords(question).length) {
    askError('Type a question first (or pick one of the examples).');
    return;
  }
  state.asked = true;
  state.pending = { id: ++state.seq, question, sceneId: sc.sceneId,
    image: { data: sc.pixels.slice(), width: sc.size, height: sc.size, channels: 1 } };
  pump();
}

// One question in flight at a time; while it runs, only the newest request waits.
function pump() {
  if (state.busy || !state.pending) return;
  const req = state.pending;
  state.pending = null;
  state.busy = true;
  state.inflight = req;
  document.body.dataset.askBusy = 'true';
  post({ type: 'answer', slot: 'ask', id: req.id, image: req.image, question: req.question });
}

function onResult({ id, ms, result }) {
  state.busy = false;
  if (!state.pending) document.body.dataset.askBusy = 'false';
  if (id > state.shown) {
    state.shown = id;
    render(result, state.inflight, ms);
  }
  pump();
}

const fmtProb = (p) => (p >= 0.0005 ? `${(100 * p).toFixed(1)} %` : '< 0.1 %');

// The answer (null: none) for request req; a question with words the model does not know gets
// no answer but an error naming them.
function render(r, req, ms) {
  const out = $('answer');
  out.dataset.question = req?.question ?? '';
  out.dataset.scene = req?.sceneId ?? '';
  const unknown = r ? unknownWords(req.question, r.question) : null;
  if (!r || unknown) {
    state.result = null;
    out.textContent = '';
    out.dataset.answer = '';
    delete out.dataset.glimpses;
    $('answer-top').replaceChildren();
    $('ask-truth').textContent = '';
    $('ask-stats').textContent = '';
    if (unknown) {
      const what = typeof unknown === 'number' ? `${unknown} of the question's words`
        : `the word${unknown.length === 1 ? '' : 's'} ${unknown.map((w) => `“${w}”`).join(', ')}`;
      askError(`The model does not know ${what}. It knows only the words of its training questions: see the ` +
        'examples, or the words it knows below.');
      $('ask-words').open = true;
    }
    renderGlimpses();
    return;
  }
  askError('');
  state.result = { ...r, request: req };
  out.textContent = r.answer;
  out.dataset.answer = r.answer;
  // the glimpse weights as numbers (the e2e test compares them with the Node API's)
  out.dataset.glimpses = JSON.stringify(Array.from(r.glimpses));
  $('answer-top').replaceChildren(...r.top.slice(0, 3).map((t) => {
    const li = document.createElement('li');
    li.dataset.answer = t.answer;
    li.dataset.prob = String(t.prob);
    const a = document.createElement('span');
    a.className = 'ans';
    a.textContent = t.answer;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    fill.style.width = `${(100 * t.prob).toFixed(1)}%`;
    bar.append(fill);
    const p = document.createElement('span');
    p.className = 'prob';
    p.textContent = fmtProb(t.prob);
    li.append(a, bar, p);
    return li;
  }));
  const t = truth(req.question);
  $('ask-truth').textContent = t ? `The scene's answer (from its layout): ${t.answer}` : '';
  $('ask-stats').textContent = `answered in ${ms.toFixed(1)} ms · ${r.glimpseCount} glimpse${r.glimpseCount === 1 ? '' : 's'} ` +
    `over a ${r.gridHeight} × ${r.gridWidth} grid · ${r.probs.length} possible answers`;
  renderGlimpses();
}

// The typed words the model read as "<unk>" (null: none). Both sides split the text the same way
// (questionWords is FORMAT.md's rule); should they ever disagree, how many is still reported.
function unknownWords(question, read) {
  if (!read.includes('<unk>')) return null;
  const typed = questionWords(question);
  if (typed.length !== read.length) return read.filter((w) => w === '<unk>').length;
  return [...new Set(typed.filter((_, i) => read[i] === '<unk>'))];
}

// ---------------------------------------------------------------- glimpses

// One toggle per glimpse of the answer on screen (kept while the count stays), and its info.
function renderGlimpses() {
  const r = state.result, box = $('glimpse-toggles');
  const G = r ? r.glimpseCount : Number(box.dataset.count || 0);
  if (Number(box.dataset.count) !== G || !box.children.length) {
    box.dataset.count = G;
    box.replaceChildren();
    for (let g = 0; g < G; g++) {
      const row = document.createElement('div');
      row.className = 'glimpse-row';
      const label = document.createElement('label');
      label.className = 'check';
      const cb = document.createElement('input');
      cb.type = 'checkbox';
      cb.id = `glimpse-${g}`;
      cb.checked = state.show[g];
      cb.setAttribute('aria-describedby', `glimpse-info-${g}`);
      cb.addEventListener('change', () => {
        state.show[g] = cb.checked;
        drawNow();
      });
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = `rgb(${GLIMPSE_COLOURS[g % GLIMPSE_COLOURS.length].join(', ')})`;
      sw.setAttribute('aria-hidden', 'true');
      label.append(cb, sw, ` Glimpse ${g + 1} (${GLIMPSE_NAMES[g % GLIMPSE_NAMES.length]})`);
      const info = document.createElement('span');
      info.id = `glimpse-info-${g}`;
      info.className = 'muted small glimpse-info';
      row.append(label, info);
      box.append(row);
    }
  }
  const sc = state.scene?.();
  for (let g = 0; g < G; g++) {
    const info = $(`glimpse-info-${g}`);
    $(`glimpse-${g}`).disabled = !r;
    if (!r) {
      info.textContent = '';
      continue;
    }
    const S = r.gridHeight * r.gridWidth;
    let best = 0;
    for (let k = 1; k < S; k++) if (r.glimpses[g * S + k] > r.glimpses[g * S + best]) best = k;
    const y = ((Math.floor(best / r.gridWidth) + 0.5) / r.gridHeight) * 3, x = (((best % r.gridWidth) + 0.5) / r.gridWidth) * 3;
    info.textContent = `looked most at the ${sc.cellNames[Math.floor(y) * 3 + Math.floor(x)]} ` +
      `(peak weight ${r.glimpses[g * S + best].toFixed(3)} of the ${S} places)`;
  }
  drawNow();
}

/** Draws the shown glimpses over the scene (only while the Ask mode is shown). */
export function drawNow() {
  if (!state.on) return;
  const ov = $('overlay'), r = state.result;
  ov.dataset.word = -1;
  ov.dataset.glimpses = r ? state.show.slice(0, r.glimpseCount).map((s, g) => (s ? g : '')).filter((g) => g !== '').join(' ') : '';
  if (!r) drawGlimpses(ov, [], 0, 1, 1);
  else drawGlimpses(ov, r.glimpses, r.glimpseCount, r.gridHeight, r.gridWidth, state.show);
}

// ---------------------------------------------------------------- model and worker

function onProgress({ loaded, total, cached }) {
  const p = $('ask-progress');
  const from = cached ? 'from cache: ' : '';
  if (total) {
    p.max = total;
    p.value = loaded;
    $('ask-load-text').textContent = `${from}${fmtBytes(loaded)} / ${fmtBytes(total)} (${Math.floor((100 * loaded) / total)} %)`;
  } else {
    p.removeAttribute('value');
    $('ask-load-text').textContent = `${from}${fmtBytes(loaded)}`;
  }
}

function onReady({ ms, info, cached }) {
  const p = $('ask-progress');
  p.max = 1;
  p.value = 1;
  p.dataset.done = '';
  $('ask-load-text').textContent = `${fmtBytes(info.modelBytes)} ${cached ? 'from cache' : 'downloaded'} · ready in ${Math.round(ms)} ms`;
  const c = info.config ?? {};
  $('ask-model-info').textContent = `${info.name}: ${(info.parameters / 1e6).toFixed(2)} M parameters · ${c.encoder?.type ?? ''} ` +
    `encoder · question LSTM ${c.question?.hidden ?? '?'} · ${info.glimpses} glimpses · ${info.answers?.length ?? '?'} answers · ` +
    `vocabulary ${info.vocabSize} · ${info.kernels}`;
  state.loaded = true;
  checkWords();
}

// Asks the worker which template words the model knows (its vocabulary: the API has no word
// list), once the model and the scenes' names (scenes.json) are both loaded.
function checkWords() {
  const sc = state.scene?.();
  if (!state.loaded || state.wordsAsked || !sc?.names) return;
  state.wordsAsked = true;
  state.templateWords = templateWords(sc.names);
  post({ type: 'known', slot: 'ask', id: 0, words: state.templateWords });
}

// The model is ready once its words are known: then the examples are shown and, if nothing
// was asked yet, the first one is.
function onKnown({ known }) {
  state.known = new Set(state.templateWords.filter((_, i) => known[i]));
  const words = $('ask-words');
  words.querySelector('p').textContent = [...state.known].join(' · ');
  words.hidden = !state.known.size;
  state.ready = true;
  $('question').disabled = $('ask').disabled = false;
  document.body.dataset.askReady = 'true';
  document.body.dataset.askBusy = 'false';
  renderExamples();
  if (state.on) {
    const first = examples()[0];
    if (!state.asked && !$('question').value && first) $('question').value = first.text;
    if ($('question').value) askNow($('question').value);
  }
}

function onWorkerError({ phase, id, code, message }) {
  if (phase === 'load' || phase === 'known') {
    $('ask-load-text').textContent = 'failed';
    document.body.dataset.askReady = 'error';
    const c = phase === 'load' ? (code === 'STELE_ERR_NO_SIMD' ? code : 'STELE_ERR_IO') : code;
    const [t, d] = explain(c, `${code}: ${message}`);
    showError(t, code === 'STELE_ERR_NO_SIMD' ? message : d);
    return;
  }
  state.busy = false;
  if (id >= state.shown) {
    state.shown = id;
    const [t, d] = explain(code, message);
    askError(`${t} ${d}`);
    render(null, state.inflight, 0);
  }
  if (!state.pending) document.body.dataset.askBusy = 'false';
  pump();
}

onWorker('ask', (data) => {
  if (data.type === 'progress') onProgress(data);
  else if (data.type === 'ready') onReady(data);
  else if (data.type === 'known') onKnown(data);
  else if (data.type === 'result') onResult(data);
  else if (data.type === 'error') onWorkerError(data);
});

// ---------------------------------------------------------------- controls

$('ask-form').addEventListener('submit', (e) => {
  e.preventDefault();
  clearError();
  askNow($('question').value);
});
