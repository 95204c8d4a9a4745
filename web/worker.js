// The engine's thread: the page's only user of the package's ESM API (src/js/stele.js, served
// at /src/js/ by scripts/serve.mjs; no copy of it lives in web/). The page never blocks on a
// download, a compile or a translation. Slots, one model each: 'translate' (a Translator, the
// translation view), 'caption' (a Captioner, the Images view), 'ask' (an Answerer, the Images
// view's Ask mode) and 'compare'; a message without a slot is for 'translate'.
//
// Messages in:  { type: 'load', slot, model }                model: a name under /models/
//               { type: 'translate', id, text, beam, nbest, trace }
//               { type: 'caption', id, image: { data, width, height, channels }, beam }
//               { type: 'answer', id, image, question }                    slot 'ask'
//               { type: 'known', id, words }     slot 'ask': which of words the model knows
// Messages out: { type: 'progress', slot, loaded, total, cached }
//               { type: 'ready', slot, model, ms, info, defaults, cached }   cached: read from the cache
//               { type: 'result', slot, id, ms, result }
//               { type: 'known', slot, id, known }   known: one boolean per word
//               { type: 'error', slot, id?, phase, code, message }  phase: 'load' or the request's type
import { Translator, Captioner, Answerer, SteleError, simdSupported } from '../src/js/stele.js';

// Per slot: the loaded model's object, the load in progress, and a generation counter (a newer
// load supersedes one still downloading).
const SLOTS = {
  translate: { cls: Translator, model: null, loading: null, generation: 0, limits: { maxTextBytes: 2000 } },
  caption: { cls: Captioner, model: null, loading: null, generation: 0, limits: {} },
  // a question is a sentence: 2000 bytes is far more than any template question
  ask: { cls: Answerer, model: null, loading: null, generation: 0, limits: { maxTextBytes: 2000 } },
  // the translation view's "compare with no attention" switch: the baseline model, side by side
  compare: { cls: Translator, model: null, loading: null, generation: 0, limits: { maxTextBytes: 2000 } },
};

const modelUrl = (name) => new URL(`../models/${encodeURIComponent(name)}/model.safetensors`, import.meta.url);

// ---------------------------------------------------------------- the model cache
// A model is kept in Cache Storage under its URL plus "?sha256=<its hash>", the hash taken from
// ../models/manifest.json (a few hundred bytes, fetched on every load; scripts/model-manifest.mjs).
// So a later visit downloads nothing of an unchanged model, and a changed model (a new hash) is
// downloaded again and replaces the old copy. Only bytes whose SHA-256 matches the manifest are
// stored, so a model replaced between the two fetches is never kept under the wrong key.
// No manifest (a static host without one), no Cache Storage or no crypto.subtle (plain http off
// this machine is not a secure context), or any cache error: the model is just downloaded.
// Offline (the manifest cannot be fetched at all): the newest cached copy of that model, if any.
// A cached copy the engine refuses (say, from an older format) is deleted and downloaded again.
// The service worker (sw.js) leaves model files to this cache.
const MODEL_CACHE = 'stele-models-v1';

async function openCache() {
  try {
    if (typeof caches === 'undefined' || !globalThis.crypto?.subtle) return null;
    return await caches.open(MODEL_CACHE);
  } catch {
    return null;   // SecurityError in an insecure context, or storage disabled
  }
}

// The model's SHA-256 from the manifest; null when there is none; 'offline' when the manifest
// cannot be fetched at all.
async function manifestHash(name) {
  let res;
  try {
    res = await fetch(new URL('../models/manifest.json', import.meta.url), { cache: 'no-cache' });
  } catch {
    return 'offline';
  }
  try {
    const m = res.ok ? await res.json() : null;
    const h = m?.models?.[name]?.sha256;
    return typeof h === 'string' && /^[0-9a-f]{64}$/.test(h) ? h : null;
  } catch {
    return null;
  }
}

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

// Where to load the model from: { source, cached, keep(bytes), forget() }. keep() stores a
// verified download; forget() deletes the cached copy that source is.
async function modelSource(name) {
  const url = modelUrl(name);
  const network = { source: url, cached: false, keep: null, forget: null };
  const cache = await openCache();
  if (!cache) return network;
  try {
    const hash = await manifestHash(name);
    const copies = await cache.keys(url, { ignoreSearch: true });
    if (hash === 'offline') {
      const last = copies.at(-1);
      const hit = last && (await cache.match(last));
      return hit ? { source: hit, cached: true, keep: null, forget: () => cache.delete(last) } : network;
    }
    if (!hash) return network;
    const key = `${url.href}?sha256=${hash}`;
    const hit = await cache.match(key);
    if (hit) return { source: hit, cached: true, keep: null, forget: () => cache.delete(key) };
    const keep = async (bytes) => {
      if (hex(await crypto.subtle.digest('SHA-256', bytes)) !== hash) return;
      await cache.put(key, new Response(bytes, { headers: {
        'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) } }));
      for (const old of copies) if (old.url !== key) await cache.delete(old);
    };
    return { source: url, cached: false, keep, forget: null };
  } catch {
    return network;
  }
}

function fail(slot, phase, e, id) {
  const code = e instanceof SteleError ? e.code : (e?.name || 'Error');
  postMessage({ type: 'error', slot, phase, id, code, message: String(e?.message ?? e) });
}

async function load(slot, model) {
  const S = SLOTS[slot];
  const gen = ++S.generation;
  S.model?.dispose();
  S.model = null;
  const t0 = performance.now();
  if (!simdSupported()) {
    fail(slot, 'load', new SteleError('STELE_ERR_NO_SIMD', 'this browser does not support WebAssembly ' +
      'SIMD128, which stele needs (Chrome/Edge 91+, Firefox 89+, Safari 16.4+)'));
    return;
  }
  try {
    let from = await modelSource(model), t;
    try {
      t = await open(slot, from);
    } catch (e) {
      if (!from.cached || gen !== S.generation) throw e;
      await from.forget().catch(() => {});
      from = await modelSource(model);
      if (from.cached) throw e;   // it could not be deleted
      t = await open(slot, from);
    }
    if (gen !== S.generation) return t.dispose();
    S.model = t;
    const i = t.info;
    postMessage({
      type: 'ready', slot, model, ms: performance.now() - t0, defaults: t.defaults, cached: from.cached,
      info: { name: i.name, weights: i.weights, parameters: i.parameters, modelBytes: i.modelBytes, kernels: i.kernels,
        vocabSize: i.vocabSize, limits: i.limits, config: i.config, image: i.image, glimpses: i.glimpses,
        answers: i.answers },
      search: i.search,   // the model's search settings, its low-confidence thresholds among them
    });
  } catch (e) {
    if (gen === S.generation) fail(slot, 'load', e);
  }
}

// The slot's Translator or Captioner from modelSource()'s answer, reporting progress; a verified
// download is kept once the engine has accepted it (a failure to store just costs the next
// visit a download).
async function open(slot, from) {
  let last = 0;
  // A download to keep is read here (one copy for the engine, one for the cache).
  let source = from.source, copy = null;
  if (from.keep) {
    try {
      source = await fetch(from.source);
    } catch (e) {
      throw new SteleError('STELE_ERR_IO', `model: cannot fetch ${from.source}: ${e.message}`);
    }
    if (source.ok) {
      copy = source.clone().arrayBuffer();
      copy.catch(() => {});   // a failed load is reported by the caller, not as an unhandled rejection
    }
  }
  const t = await SLOTS[slot].cls.load(source, {
    limits: SLOTS[slot].limits,
    onProgress: ({ loaded, total }) => {
      const now = performance.now();
      if (now - last > 30 || loaded === total) {
        last = now;
        postMessage({ type: 'progress', slot, loaded, total, cached: from.cached });
      }
    },
  });
  if (copy) await copy.then(from.keep).catch(() => {});
  return t;
}

onmessage = async ({ data }) => {
  const slot = data.slot ?? 'translate', S = SLOTS[slot];
  if (!S) return;
  if (data.type === 'load') {
    const p = (S.loading = load(slot, data.model));
    await p;
    if (S.loading === p) S.loading = null;
  } else if (['translate', 'caption', 'answer', 'known'].includes(data.type)) {
    if (S.loading) await S.loading;
    if (!S.model) return fail(slot, data.type, new SteleError('STELE_ERR_ARGUMENT', 'no model is loaded'), data.id);
    try {
      const t0 = performance.now();
      if (data.type === 'known') return postMessage({ type: 'known', slot, id: data.id, known: known(S.model, data.words) });
      const result = data.type === 'translate'
        ? S.model.translate(data.text, { beam: data.beam, nbest: data.nbest, trace: !!data.trace })
        : data.type === 'caption' ? S.model.caption(data.image, { beam: data.beam })
          : S.model.answer(data.image, data.question);
      postMessage({ type: 'result', slot, id: data.id, ms: performance.now() - t0, result });
    } catch (e) {
      fail(slot, data.type, e, data.id);
    }
  }
};

// Which of words (each a single word as the engine splits a question: lower case, no white
// space, "?" and "," alone) an Answerer's vocabulary has ("<unk>" itself is not a word a
// question can use).
function known(answerer, words) {
  const vocab = new Set(answerer.words);
  vocab.delete('<unk>');
  vocab.delete('<pad>');
  return words.map((w) => vocab.has(w));
}
