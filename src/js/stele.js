// stele — the JS API over dist/stele.wasm (the C engine built with -msimd128, no Emscripten glue).
// One ESM module for Node >= 18 and browsers; no dependencies. Types: index.d.ts.
//
//   const t = await Translator.load();              // the embedded default model
//   const r = t.translate('Save the document');      // { text, score, alignment, ... }
//   t.dispose();
//
// Structure: Engine (one wasm instance: memory views, heap copies, the error struct) <- Model
// (stele_model*, owns the heap copy of the model bytes) <- Session (stele_session*) <- Translator
// (a model with one session). Each Translator has its own instance, so dispose() returns all of
// its memory; the compiled WebAssembly.Module is shared.

/** The embedded default model, relative to this file (package root = ../../). */
export const DEFAULT_MODEL = '../../models/ui-en-fr/model.safetensors';
const WASM_FILE = '../../dist/stele.wasm';

const IS_NODE = typeof process === 'object' && process !== null && !!process.versions?.node;

/** Every failure of the engine: `code` is the C status name ("STELE_ERR_TEXT"), `message` the C
 *  message. JS-only codes: STELE_ERR_DISPOSED (use after dispose), STELE_ERR_NO_SIMD (no
 *  WebAssembly SIMD128 in this runtime). */
export class SteleError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'SteleError';
    this.code = code;
  }
}

// ---------------------------------------------------------------- loading bytes

// A module with one function returning a v128 constant: valid only where SIMD128 is supported.
const SIMD_PROBE = new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 0x0a, 0x16, 1, 0x14, 0,
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
]);

/** True when this runtime supports WebAssembly SIMD128 (which stele.wasm needs). */
export function simdSupported() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function isFileUrl(u) {
  return u instanceof URL ? u.protocol === 'file:' : /^file:/i.test(u);
}

// Reads a Response body, reporting { loaded, total } (total 0 when the size is unknown).
async function readResponse(res, onProgress, what) {
  if (!res.ok) throw new SteleError('STELE_ERR_IO', `${what}: HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers?.get?.('content-length')) || 0;
  if (!res.body || typeof res.body.getReader !== 'function') {
    const b = new Uint8Array(await res.arrayBuffer());
    onProgress?.({ loaded: b.length, total: total || b.length });
    return b;
  }
  const reader = res.body.getReader();
  let buf = new Uint8Array(total || 1 << 16);
  let loaded = 0;
  onProgress?.({ loaded: 0, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > buf.length) {
      const grown = new Uint8Array(Math.max(buf.length * 2, loaded + value.length));
      grown.set(buf.subarray(0, loaded));
      buf = grown;
    }
    buf.set(value, loaded);
    loaded += value.length;
    onProgress?.({ loaded, total });
  }
  return buf.subarray(0, loaded);
}

async function readFile(path, onProgress) {
  const fs = await import('node:fs');
  let total;
  try {
    total = (await fs.promises.stat(path)).size;
  } catch (e) {
    throw new SteleError('STELE_ERR_IO', `cannot read ${path}: ${e.message}`);
  }
  const buf = new Uint8Array(total);
  let loaded = 0;
  onProgress?.({ loaded, total });
  try {
    for await (const chunk of fs.createReadStream(path, { highWaterMark: 1 << 20 })) {
      if (loaded + chunk.length > total) throw new Error('file grew while being read');
      buf.set(chunk, loaded);
      loaded += chunk.length;
      onProgress?.({ loaded, total });
    }
  } catch (e) {
    throw new SteleError('STELE_ERR_IO', `cannot read ${path}: ${e.message}`);
  }
  return buf.subarray(0, loaded);
}

// source: URL | string (URL or Node path) | ArrayBuffer | typed array | Response.
async function readSource(source, onProgress, what) {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const b = source instanceof ArrayBuffer
      ? new Uint8Array(source)
      : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    onProgress?.({ loaded: b.length, total: b.length });
    return b;
  }
  if (typeof Response === 'function' && source instanceof Response)
    return readResponse(source, onProgress, what);
  if (typeof source !== 'string' && !(source instanceof URL))
    throw new TypeError(`${what}: expected a URL, a path, an ArrayBuffer, a Uint8Array or a Response`);
  if (IS_NODE && (isFileUrl(source) || (typeof source === 'string' && !/^[a-z][a-z0-9+.-]+:/i.test(source)))) {
    const { fileURLToPath } = await import('node:url');
    return readFile(isFileUrl(source) ? fileURLToPath(source) : source, onProgress);
  }
  let res;
  try {
    res = await fetch(source);
  } catch (e) {
    throw new SteleError('STELE_ERR_IO', `${what}: cannot fetch ${source}: ${e.message}`);
  }
  return readResponse(res, onProgress, what);
}

let modulePromise = null;

// The compiled stele.wasm, shared by every Translator (compiled once per wasm source).
function compileWasm(wasm) {
  if (!simdSupported())
    return Promise.reject(new SteleError('STELE_ERR_NO_SIMD',
      'this JavaScript runtime does not support WebAssembly SIMD128, which stele needs ' +
      '(Chrome/Edge 91+, Firefox 89+, Safari 16.4+, Node 16.4+)'));
  if (wasm instanceof WebAssembly.Module) return Promise.resolve(wasm);
  if (wasm !== undefined)
    return readSource(wasm, undefined, 'stele.wasm').then((b) => WebAssembly.compile(b));
  if (!modulePromise) {
    const url = new URL(WASM_FILE, import.meta.url);
    modulePromise = (async () => {
      if (!IS_NODE && typeof WebAssembly.compileStreaming === 'function') {
        try {
          return await WebAssembly.compileStreaming(fetch(url));
        } catch {
          // wrong MIME type or no streaming: fall back to bytes
        }
      }
      return WebAssembly.compile(await readSource(url, undefined, 'stele.wasm'));
    })();
    modulePromise.catch(() => { modulePromise = null; });
  }
  return modulePromise;
}

// ---------------------------------------------------------------- engine (one wasm instance)

// Field order of stele_wasm_layout() in src/wasm/stele_wasm.c.
const LAYOUT_FIELDS = [
  'errStatus', 'errMessage', 'errSize',
  'rNSource', 'rSourceTokens', 'rNHyps', 'rHyps', 'rAttention', 'rNSourceWords', 'rNTargetWords',
  'rSourceWordOfPiece', 'rTargetWordOfPiece', 'rWordAttention', 'rWordAlignment',
  'hText', 'hNTokens', 'hTokens', 'hLogp', 'hScore', 'hSize',
  'timeTSize', 'tsNsec',
];

const utf8 = new TextDecoder('utf-8');
const utf8enc = new TextEncoder();

class Engine {
  constructor(instance) {
    this.x = instance.exports;
    this.memory = this.x.memory;
    this.buffer = null;
    this.views();
    const p = this.x.stele_wasm_layout(), n = this.x.stele_wasm_layout_count();
    if (n !== LAYOUT_FIELDS.length)
      throw new SteleError('STELE_ERR_INTERNAL', `stele.wasm layout has ${n} fields, stele.js expects ${LAYOUT_FIELDS.length}`);
    this.L = {};
    LAYOUT_FIELDS.forEach((f, i) => { this.L[f] = this.i32[(p >> 2) + i]; });
    this.err = this.malloc(this.L.errSize);
    this.onResult = null;   // set by Batch.translate while a stream runs
  }

  static async create(wasm) {
    const module = await compileWasm(wasm);
    let engine = null;
    const env = {
      // A translation finished inside stele_wasm_translate_stream: the Batch running it reads it.
      stele_js_on_result: (index, result) => engine.onResult(index, result),
      // Memory grew: every typed-array view on the old buffer is detached; views() re-creates.
      emscripten_notify_memory_growth: () => engine?.views(),
      // Profiling clock (stele_now): struct timespec from performance.now().
      timespec_get: (ts, base) => {
        const t = (typeof performance === 'object' ? performance.now() : Date.now()) / 1000;
        const e = engine;
        e.views();
        const sec = Math.floor(t);
        if (e.L.timeTSize === 8) e.dv.setBigInt64(ts, BigInt(sec), true);
        else e.dv.setInt32(ts, sec, true);
        e.dv.setInt32(ts + e.L.tsNsec, Math.floor((t - sec) * 1e9), true);
        return base;
      },
    };
    const imports = { env };
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind === 'function' && !(imp.module in imports && imp.name in imports[imp.module])) {
        imports[imp.module] ??= {};
        imports[imp.module][imp.name] = () => {
          throw new SteleError('STELE_ERR_INTERNAL', `stele.wasm called the missing import ${imp.module}.${imp.name}`);
        };
      }
    }
    const instance = await WebAssembly.instantiate(module, imports);
    instance.exports._initialize?.();
    engine = new Engine(instance);
    return engine;
  }

  // Typed-array views over the current memory buffer (re-created after growth).
  views() {
    if (this.buffer === this.memory.buffer) return;
    this.buffer = this.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.f32 = new Float32Array(this.buffer);
    this.dv = new DataView(this.buffer);
  }

  malloc(n) {
    const p = this.x.malloc(Math.max(1, n));
    if (!p) throw new SteleError('STELE_ERR_MEMORY', `out of wasm memory allocating ${n} bytes`);
    this.views();
    return p;
  }

  free(p) {
    if (p) this.x.free(p);
  }

  // Bytes copied into a fresh heap block (the caller frees it).
  copyIn(bytes, nulTerminate = false) {
    const p = this.malloc(bytes.length + (nulTerminate ? 1 : 0));
    this.u8.set(bytes, p);
    if (nulTerminate) this.u8[p + bytes.length] = 0;
    return p;
  }

  cstring(p) {
    if (!p) return null;
    this.views();
    const end = this.u8.indexOf(0, p);
    return utf8.decode(this.u8.subarray(p, end < 0 ? this.u8.length : end));
  }

  // The SteleError for the status and message the last call left in the error struct.
  error() {
    this.views();
    const status = this.dv.getInt32(this.err + this.L.errStatus, true);
    const name = this.cstring(this.x.stele_status_name(status));
    return new SteleError(name, this.cstring(this.err + this.L.errMessage));
  }

  int32s(p, n) {
    this.views();
    return p && n > 0 ? Int32Array.from(this.i32.subarray(p >> 2, (p >> 2) + n)) : new Int32Array(0);
  }

  float32s(p, n) {
    this.views();
    return p && n > 0 ? Float32Array.from(this.f32.subarray(p >> 2, (p >> 2) + n)) : new Float32Array(0);
  }
}

// ---------------------------------------------------------------- handles

// A trap inside the engine (a bug: the C code never traps on bad input) as a SteleError.
function trapped(call) {
  try {
    return call();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError)
      throw new SteleError('STELE_ERR_INTERNAL', `the wasm engine trapped (${e.message}); please report it`);
    throw e;
  }
}

function disposedError(what) {
  return new SteleError('STELE_ERR_DISPOSED', `${what} was disposed`);
}

/** A loaded model: stele_model* plus the heap copy of its bytes (the C model borrows them). */
class Model {
  constructor(engine, bytes) {
    this.engine = engine;
    this.ptr = 0;
    this.bytesPtr = engine.copyIn(bytes);
    this.size = bytes.length;
    try {
      this.ptr = trapped(() => engine.x.stele_wasm_model_load(this.bytesPtr, bytes.length, engine.err));
      if (!this.ptr) throw engine.error();
      this.infoJson = engine.cstring(engine.x.stele_model_info_json(this.ptr));
      this.vocabSize = engine.x.stele_model_vocab_size(this.ptr);
      this.pieceCache = new Map();
    } catch (e) {
      engine.free(this.bytesPtr);
      this.bytesPtr = 0;
      throw e;
    }
  }

  piece(id) {
    let s = this.pieceCache.get(id);
    if (s === undefined) {
      s = this.engine.cstring(this.engine.x.stele_model_piece(this.ptr, id)) ?? '';
      this.pieceCache.set(id, s);
    }
    return s;
  }

  dispose() {
    if (this.ptr) this.engine.x.stele_model_free(this.ptr);
    this.engine.free(this.bytesPtr);
    this.ptr = this.bytesPtr = 0;
  }
}

/** A session (stele_session*): the scratch for translating with one model. */
class Session {
  constructor(model, limits) {
    const e = model.engine;
    this.model = model;
    this.limits = {
      maxSourceTokens: limits.maxSourceTokens ?? e.x.stele_wasm_default_limit(0),
      maxTargetTokens: limits.maxTargetTokens ?? e.x.stele_wasm_default_limit(1),
      maxBeam: limits.maxBeam ?? e.x.stele_wasm_default_limit(2),
      maxTextBytes: limits.maxTextBytes ?? e.x.stele_wasm_default_limit(3),
    };
    const l = this.limits;
    this.ptr = e.x.stele_wasm_session_create(model.ptr, l.maxSourceTokens, l.maxTargetTokens,
      l.maxBeam, l.maxTextBytes, e.err);
    if (!this.ptr) throw e.error();
  }

  // One translation; the result is copied out of wasm memory before returning.
  translate(text, p) {
    const e = this.model.engine;
    const bytes = utf8enc.encode(text);
    if (bytes.length > this.limits.maxTextBytes)
      throw new SteleError('STELE_ERR_LIMIT', `input has ${bytes.length} bytes, the session's ` +
        `limit is ${this.limits.maxTextBytes} (max_text_bytes)`);
    const tp = e.copyIn(bytes, true);
    try {
      const r = trapped(() => e.x.stele_wasm_translate(this.ptr, tp, bytes.length, p.beam,
        p.nbest, p.alpha, p.beta, p.lenA, p.lenB, e.err));
      if (!r) throw e.error();
      return readResult(this.model, r);
    } finally {
      e.free(tp);
    }
  }

  dispose() {
    if (this.ptr) this.model.engine.x.stele_session_free(this.ptr);
    this.ptr = 0;
  }
}

/** A batch (stele_batch*): greedy slots decoded together, for Translator.translateBatch(). */
class Batch {
  constructor(model, limits, capacity) {
    const e = model.engine;
    this.model = model;
    this.capacity = capacity;
    this.maxTextBytes = limits.maxTextBytes;
    this.ptr = trapped(() => e.x.stele_wasm_batch_create(model.ptr, capacity, limits.maxSourceTokens,
      limits.maxTargetTokens, limits.maxTextBytes, e.err));
    if (!this.ptr) throw e.error();
  }

  // Greedy translations of all texts (stele_wasm_translate_stream: capacity rows at a time),
  // in the order of texts.
  translate(texts, p) {
    const e = this.model.engine, n = texts.length;
    const encoded = texts.map((t, i) => {
      const b = utf8enc.encode(t);
      if (b.length > this.maxTextBytes)
        throw new SteleError('STELE_ERR_LIMIT', `texts[${i}]: input has ${b.length} bytes, ` +
          `the session's limit is ${this.maxTextBytes} (max_text_bytes)`);
      return b;
    });
    const total = encoded.reduce((s, b) => s + b.length, 0);
    const block = e.malloc(total + 3 + 8 * n);   // text bytes, then pointers and lengths
    const out = new Array(n);
    try {
      const ptrs = block + ((total + 3) & ~3), lens = ptrs + 4 * n;
      let at = block;
      encoded.forEach((b, i) => {
        e.u8.set(b, at);
        e.dv.setUint32(ptrs + 4 * i, at, true);
        e.dv.setInt32(lens + 4 * i, b.length, true);
        at += b.length;
      });
      e.onResult = (i, r) => { out[i] = readResult(this.model, r); };
      const st = trapped(() => e.x.stele_wasm_translate_stream(this.ptr, ptrs, lens, n, p.alpha,
        p.beta, p.lenA, p.lenB, e.err));
      if (st !== 0) throw e.error();
      return out;
    } finally {
      e.onResult = null;
      e.free(block);
    }
  }

  dispose() {
    if (this.ptr) this.model.engine.x.stele_batch_free(this.ptr);
    this.ptr = 0;
  }
}

// A stele_result* read out of wasm memory into a plain object (before the next call reuses it).
function readResult(m, r) {
  const e = m.engine, L = e.L;
  e.views();
  const dv = e.dv;
  const i32 = (o) => dv.getInt32(r + o, true);
  const u32 = (o) => dv.getUint32(r + o, true);
  const nSource = i32(L.rNSource);
  const sourceIds = e.int32s(u32(L.rSourceTokens), nSource);
  const nHyps = i32(L.rNHyps), hyps = u32(L.rHyps);
  const nbest = [];
  for (let k = 0; k < nHyps; k++) {
    const h = hyps + k * L.hSize;
    const ids = e.int32s(dv.getUint32(h + L.hTokens, true), dv.getInt32(h + L.hNTokens, true));
    nbest.push({
      text: e.cstring(dv.getUint32(h + L.hText, true)),
      score: dv.getFloat64(h + L.hScore, true),
      logp: dv.getFloat64(h + L.hLogp, true),
      tokens: Array.from(ids, (id) => m.piece(id)),
      ids,
    });
  }
  const best = nbest[0];
  const rows = best.ids.length, cols = nSource;
  const att = u32(L.rAttention);
  const nsw = i32(L.rNSourceWords), ntw = i32(L.rNTargetWords);
  const srcWordOf = e.int32s(u32(L.rSourceWordOfPiece), nSource);
  const tgtWordOf = e.int32s(u32(L.rTargetWordOfPiece), rows);
  const wordAtt = u32(L.rWordAttention), wordAl = u32(L.rWordAlignment);
  const pairsArr = e.int32s(wordAl, ntw);
  return {
    text: best.text,
    score: best.score,
    logp: best.logp,
    sourceTokens: Array.from(sourceIds, (id) => m.piece(id)),
    targetTokens: best.tokens,
    sourceIds,
    targetIds: best.ids,
    alignment: att ? { rows, cols, weights: e.float32s(att, rows * cols) } : null,
    wordAlignment: {
      sourceWords: joinWords(m, sourceIds, srcWordOf, nsw),
      targetWords: joinWords(m, best.ids, tgtWordOf, ntw),
      rows: ntw,
      cols: nsw,
      weights: wordAtt ? e.float32s(wordAtt, ntw * nsw) : null,
      pairs: wordAl ? Array.from(pairsArr, (s, t) => [t, s]) : [],
    },
    nbest,
  };
}

// Words as the native CLI prints them: the pieces of each word joined, each piece's leading
// U+2581 dropped.
function joinWords(model, ids, wordOf, nWords) {
  const words = new Array(nWords).fill('');
  for (let i = 0; i < ids.length; i++) {
    const w = wordOf[i];
    if (w < 0 || w >= nWords) continue;
    const p = model.piece(ids[i]);
    words[w] += p.startsWith('\u2581') ? p.slice(1) : p;
  }
  return words;
}

// ---------------------------------------------------------------- options

function intOption(v, name, def) {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new TypeError(`${name} must be an integer, got ${typeof v === 'number' ? v : typeof v}`);
  if (v < -0x80000000 || v > 0x7fffffff)
    throw new SteleError('STELE_ERR_ARGUMENT', `${name} ${v} is out of range`);
  return v;
}

function numOption(v, name, def) {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeof v}`);
  return v;
}

function objOption(v, name) {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object') throw new TypeError(`${name} must be an object, got ${typeof v}`);
  return v;
}

// ---------------------------------------------------------------- Translator

/** A model and a session in their own wasm instance. */
export class Translator {
  /** Use Translator.load(). */
  constructor(engine, model, session) {
    if (!(engine instanceof Engine)) throw new TypeError('use Translator.load() to create a Translator');
    this._engine = engine;
    this._model = model;
    this._session = session;
    this._batch = null;   // a Batch, made by the first batched translateBatch()
    this._info = null;
  }

  /**
   * Loads a model: source is a URL, a file path (Node), an ArrayBuffer/typed array or a fetch
   * Response; undefined = the embedded default model (DEFAULT_MODEL).
   * options: { onProgress({ loaded, total }), limits: { maxSourceTokens, maxTargetTokens,
   * maxBeam, maxTextBytes }, wasm: URL | path | bytes | WebAssembly.Module }.
   */
  static async load(source, options = {}) {
    const o = objOption(options, 'options');
    if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
      throw new TypeError('options.onProgress must be a function');
    const lim = objOption(o.limits, 'options.limits');
    const limits = {};
    for (const k of ['maxSourceTokens', 'maxTargetTokens', 'maxBeam', 'maxTextBytes']) {
      const v = intOption(lim[k], `limits.${k}`, undefined);
      if (v !== undefined) {
        if (v < 1) throw new SteleError('STELE_ERR_ARGUMENT', `limits.${k} ${v} must be >= 1`);
        limits[k] = v;
      }
    }
    const src = source ?? new URL(DEFAULT_MODEL, import.meta.url);
    const [engine, bytes] = await Promise.all([
      Engine.create(o.wasm),
      readSource(src, o.onProgress, 'model'),
    ]);
    const model = new Model(engine, bytes);
    let session;
    try {
      session = new Session(model, limits);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return new Translator(engine, model, session);
  }

  _live(what = 'Translator') {
    if (!this._session) throw disposedError(what);
    return this._session;
  }

  /** Config and sizes: the model's info (config, search defaults, tensors, parameters) plus
   *  vocabSize, modelBytes, the session's limits and the wasm memory size. */
  get info() {
    const s = this._live();
    if (!this._info) {
      const j = JSON.parse(this._model.infoJson);
      this._info = {
        name: j.name,
        formatVersion: j.format_version,
        kernels: j.kernels,
        config: j.config,
        search: j.search,
        parameters: j.parameters,
        tensorBytes: j.tensor_bytes,
        tensors: j.tensors,
        vocabSize: this._model.vocabSize,
        modelBytes: this._model.size,
        limits: { ...s.limits },
      };
    }
    return { ...this._info, wasmMemoryBytes: this._engine.memory.buffer.byteLength };
  }

  /** The search defaults translate() uses for options left out (stele_default_params()). */
  get defaults() {
    this._live();
    const x = this._engine.x;
    return { beam: x.stele_wasm_default_param(0), nbest: x.stele_wasm_default_param(1),
      alpha: x.stele_wasm_default_param(2), beta: x.stele_wasm_default_param(3) };
  }

  /** The model's info exactly as the C engine writes it (stele_model_info_json). */
  get infoJson() {
    this._live();
    return this._model.infoJson;
  }

  /**
   * Translates one text. options: beam (1 = greedy), nbest, alpha (length penalty), beta
   * (coverage penalty): left out, the engine's defaults (see defaults); maxLength (output pieces
   * incl. eos; default: the model's len_a * S + len_b).
   */
  translate(text, options) {
    const s = this._live();
    if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${text === null ? 'null' : typeof text}`);
    return s.translate(text, this._params(options));
  }

  /**
   * Translates an array of texts; returns their results, in order, as translate() does. With
   * beam 1 (greedy) the texts are decoded together, batchSize sentences at a time (default 8;
   * a sentence that ends makes room for the next text): every decoder step reads the weights
   * once for all of them, so a list goes about twice as fast as one by one, with the same
   * outputs. With beam > 1 the texts are translated one by one.
   * options: translate()'s, plus batchSize (1..256). Every text is checked before any work: a
   * non-string throws TypeError, a text over the limits a SteleError naming texts[i].
   */
  translateBatch(texts, options) {
    this._live();
    if (!Array.isArray(texts)) throw new TypeError('texts must be an array of strings');
    const o = objOption(options, 'options');
    const batchSize = intOption(o.batchSize, 'batchSize', 8);
    if (batchSize < 1 || batchSize > 256)
      throw new SteleError('STELE_ERR_ARGUMENT', `batchSize ${batchSize} outside 1..256`);
    const { batchSize: _omit, ...rest } = o;
    const p = this._params(rest);
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new TypeError(`texts[${i}] must be a string, got ${t === null ? 'null' : typeof t}`);
    });
    if (p.beam !== 1 || batchSize === 1 || texts.length < 2)
      return texts.map((t) => this._session.translate(t, p));
    if (this._batch && this._batch.capacity !== batchSize) {
      this._batch.dispose();
      this._batch = null;
    }
    if (!this._batch) this._batch = new Batch(this._model, this._session.limits, batchSize);
    return this._batch.translate(texts, p);
  }

  _params(options) {
    const o = objOption(options, 'options');
    const x = this._engine.x;
    const beam = intOption(o.beam, 'beam', x.stele_wasm_default_param(0));
    const maxLength = intOption(o.maxLength, 'maxLength', undefined);
    if (maxLength !== undefined && maxLength < 1)
      throw new SteleError('STELE_ERR_ARGUMENT', `maxLength ${maxLength} must be >= 1`);
    return {
      beam,
      nbest: intOption(o.nbest, 'nbest', x.stele_wasm_default_param(1)),
      alpha: numOption(o.alpha, 'alpha', x.stele_wasm_default_param(2)),
      beta: numOption(o.beta, 'beta', x.stele_wasm_default_param(3)),
      lenA: maxLength === undefined ? -1 : 0,
      lenB: maxLength === undefined ? -1 : maxLength,
    };
  }

  /** Frees the session, the model and the wasm instance's memory. Safe to call twice. */
  dispose() {
    if (!this._session) return;
    try {
      this._batch?.dispose();
      this._batch = null;
      this._session.dispose();
      this._model.dispose();
      this._engine.free(this._engine.err);
    } finally {
      this._session = this._model = this._engine = null;
      this._info = null;
    }
  }

  get disposed() {
    return this._session === null;
  }
}

export default Translator;
