// stele — the JS API over dist/stele.wasm (the C engine built with -msimd128, no Emscripten glue).
// One ESM module for Node >= 18 and browsers; no dependencies. Types: index.d.ts.
//
//   const t = await Translator.load();              // the embedded default model
//   const r = t.translate('Save the document');      // { text, score, alignment, ... }
//   t.dispose();
//
// Structure: Engine (one wasm instance: memory views, heap copies, the error struct) <- Model
// (stele_model*, owns the heap copy of the model bytes) <- Session (stele_session*) <- Translator,
// Captioner, Answerer (a model with one session; what they share: LoadedModel). Each of them has
// its own instance, so dispose() returns all of its memory; the compiled WebAssembly.Module is
// shared.

/** The embedded default model, relative to this file (package root = ../../). */
export const DEFAULT_MODEL = '../../models/ui-en-fr/model.safetensors';
// The models shipped with the package: models/<name>/model.safetensors. A name has no dots or
// separators, so it never leaves that folder. Found by listing the folder, not from a fixed
// list, so a model added to models/ (and to package.json "files") needs no code.
const MODELS_DIR = '../../models/';
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
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

/** Largest model accepted (the C STELE_MAX_MODEL_BYTES, models/FORMAT.md "Limits"): checked
 *  from a file's size or a Content-Length before reading, and on the running total while
 *  reading, so a huge or endless source costs no memory. */
export const MAX_MODEL_BYTES = 2 ** 30;
// The header length limit (models/FORMAT.md): a first chunk announcing more is refused at once.
const MAX_HEADER_BYTES = 2 ** 20;

function tooBig(what, n, atLeast = '') {
  return new SteleError('STELE_ERR_LIMIT', `${what} is ${atLeast}${n} bytes, over the ${MAX_MODEL_BYTES}-byte ` +
    'model size limit (STELE_MAX_MODEL_BYTES)');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// Checks the header as soon as its bytes are in (b: the bytes read so far; total: the size when
// known): the 8-byte length, then the header text as UTF-8 JSON, so that a file whose header
// cannot be valid is refused before its data is read (the engine's own check, stricter, runs on
// the whole file later). Returns true once the header has been checked.
function checkHeader(b, total, what) {
  if (b.length < 8) return false;
  const n = Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES)
    throw new SteleError('STELE_ERR_HEADER', `${what}: header length ${n} (bytes 0..8) is over the ${MAX_HEADER_BYTES}-byte header limit`);
  if (total && n > total - 8)
    throw new SteleError('STELE_ERR_HEADER', `${what}: header length ${n} (bytes 0..8) runs past the end of the ${total}-byte file`);
  if (b.length < 8 + n) return false;
  let h;
  try {
    h = JSON.parse(strictUtf8.decode(b.subarray(8, 8 + n)));
  } catch (e) {
    throw new SteleError('STELE_ERR_HEADER', `${what}: the header (bytes 8..${8 + n}) is not UTF-8 JSON: ${e.message}`);
  }
  if (h === null || typeof h !== 'object' || Array.isArray(h))
    throw new SteleError('STELE_ERR_HEADER', `${what}: header is not a JSON object`);
  return true;
}

function isFileUrl(u) {
  return u instanceof URL ? u.protocol === 'file:' : /^file:/i.test(u);
}

// Reads a Response body, reporting { loaded, total } (total 0 when the size is unknown).
// limit: the most bytes accepted (Content-Length, then the running total).
async function readResponse(res, onProgress, what, limit = MAX_MODEL_BYTES) {
  if (!res.ok) throw new SteleError('STELE_ERR_IO', `${what}: HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers?.get?.('content-length')) || 0;
  if (total > limit) {
    res.body?.cancel?.().catch(() => {});
    throw tooBig(what, total);
  }
  if (!res.body || typeof res.body.getReader !== 'function') {
    const b = new Uint8Array(await res.arrayBuffer());
    if (b.length > limit) throw tooBig(what, b.length);
    onProgress?.({ loaded: b.length, total: total || b.length });
    return b;
  }
  const reader = res.body.getReader();
  let buf = new Uint8Array(total || 1 << 16);
  let loaded = 0, headerChecked = false;
  onProgress?.({ loaded: 0, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // A body longer than its Content-Length, or an endless one: stop at the limit.
    if (loaded + value.length > limit) {
      reader.cancel().catch(() => {});
      throw tooBig(what, loaded + value.length, 'at least ');
    }
    if (loaded + value.length > buf.length) {
      const grown = new Uint8Array(Math.min(limit, Math.max(buf.length * 2, loaded + value.length)));
      grown.set(buf.subarray(0, loaded));
      buf = grown;
    }
    buf.set(value, loaded);
    loaded += value.length;
    if (!headerChecked && what === 'model') {
      try {
        headerChecked = checkHeader(buf.subarray(0, loaded), total, what);
      } catch (e) {
        reader.cancel().catch(() => {});
        throw e;
      }
    }
    onProgress?.({ loaded, total });
  }
  return buf.subarray(0, loaded);
}

// A regular file only: a folder, a device (/dev/zero never ends) or a FIFO (blocks, never ends)
// is refused from its stat, as is a file over the size limit, before anything is read.
async function readFile(path, onProgress, what) {
  const fs = await import('node:fs');
  let st;
  try {
    st = await fs.promises.stat(path);
  } catch (e) {
    throw new SteleError('STELE_ERR_IO', `cannot read ${path}: ${e.message}`);
  }
  if (!st.isFile())
    throw new SteleError('STELE_ERR_IO', `${path} is ${st.isDirectory() ? 'a folder' :
      st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isFIFO() ? 'a FIFO' : 'not a file'}, not a regular file`);
  const total = st.size;
  if (total > MAX_MODEL_BYTES) throw tooBig(path, total);
  const buf = new Uint8Array(total);
  let loaded = 0;
  onProgress?.({ loaded, total });
  let headerError = null, headerChecked = false;
  try {
    for await (const chunk of fs.createReadStream(path, { highWaterMark: 1 << 20 })) {
      if (loaded + chunk.length > total) throw new Error('file grew while being read');
      buf.set(chunk, loaded);
      loaded += chunk.length;
      if (!headerChecked && what === 'model') {
        try {
          headerChecked = checkHeader(buf.subarray(0, loaded), total, what);
        } catch (e) {
          headerError = e;
          throw e;
        }
      }
      onProgress?.({ loaded, total });
    }
  } catch (e) {
    if (headerError) throw headerError;
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
    return readFile(isFileUrl(source) ? fileURLToPath(source) : source, onProgress, what);
  }
  let res;
  try {
    res = await fetch(source);
  } catch (e) {
    throw new SteleError('STELE_ERR_IO', `${what}: cannot fetch ${source}: ${e.message}`);
  }
  return readResponse(res, onProgress, what);
}

/** The URL of the shipped model `name` (`Translator.load(name)` loads it). */
export function modelUrl(name) {
  if (typeof name !== 'string' || !MODEL_NAME.test(name))
    throw new SteleError('STELE_ERR_ARGUMENT', `not a model name: ${String(name).slice(0, 100)}`);
  return new URL(`${MODELS_DIR}${name}/model.safetensors`, import.meta.url);
}

/** Node: the models shipped with the package, [{ name, path, bytes }] sorted by name. */
export async function shippedModels() {
  const fs = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const dir = fileURLToPath(new URL(MODELS_DIR, import.meta.url));
  const out = [];
  let names = [];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return out;   // no models/ folder: none shipped
  }
  for (const name of names) {
    if (!MODEL_NAME.test(name)) continue;
    const path = fileURLToPath(modelUrl(name));
    try {
      const st = fs.statSync(path);
      if (st.isFile()) out.push({ name, path, bytes: st.size });
    } catch {
      // a folder without model.safetensors is not a model
    }
  }
  return out;
}

// A string source without a path separator that is not an existing file names a shipped model
// (in browsers, which cannot look: any valid name does). Paths and URLs pass through unchanged.
async function resolveModelName(source) {
  if (typeof source !== 'string' || /[/\\]/.test(source)) return source;
  if (!IS_NODE) return MODEL_NAME.test(source) ? modelUrl(source) : source;
  const fs = await import('node:fs');
  const isFile = (p) => {
    try {
      return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
    } catch {
      return false;   // e.g. a NUL byte in the name: not a file; readSource reports it
    }
  };
  if (isFile(source)) return source;
  if (MODEL_NAME.test(source) && isFile(modelUrl(source))) return modelUrl(source);
  const names = (await shippedModels()).map((m) => m.name).join(', ') || 'none';
  throw new SteleError('STELE_ERR_IO', `"${source.slice(0, 200)}" is neither a model file nor the ` +
    `name of a model (shipped: ${names}); \`stele models\` lists the models`);
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
  'rNTraceSteps', 'rTraceStepStart', 'rTraceNodes',
  'tParent', 'tToken', 'tStatus', 'tRank', 'tLogp', 'tScore', 'tSize',
  'hTokenLogp', 'hMeanLogp',
  'rGridHeight', 'rGridWidth',
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
    // As stele_model_load; checked here before the heap copy is made.
    if (bytes.length > MAX_MODEL_BYTES) throw tooBig('model', bytes.length);
    this.engine = engine;
    this.ptr = 0;
    this.bytesPtr = engine.copyIn(bytes);
    this.size = bytes.length;
    try {
      this.ptr = trapped(() => engine.x.stele_wasm_model_load(this.bytesPtr, bytes.length, engine.err));
      if (!this.ptr) throw engine.error();
      this.infoJson = engine.cstring(engine.x.stele_model_info_json(this.ptr));
      this.vocabSize = engine.x.stele_model_vocab_size(this.ptr);
      // The model's low-confidence threshold (search.low_confidence_logp, models/FORMAT.md);
      // -Infinity without one, so nothing is flagged (stele_low_confidence in C).
      this.lowConfidenceLogp = JSON.parse(this.infoJson).search.low_confidence_logp ?? -Infinity;
      // and per output piece (search.low_confidence_mean_logp), for outputs of any length
      this.lowConfidenceMeanLogp = JSON.parse(this.infoJson).search.low_confidence_mean_logp ?? -Infinity;
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
    checkText(text);
    const bytes = utf8enc.encode(text);
    if (bytes.length > this.limits.maxTextBytes)
      throw new SteleError('STELE_ERR_LIMIT', `input has ${bytes.length} bytes, the session's ` +
        `limit is ${this.limits.maxTextBytes} (max_text_bytes)`);
    const tp = e.copyIn(bytes, true);
    try {
      const r = trapped(() => e.x.stele_wasm_translate(this.ptr, tp, bytes.length, p.beam,
        p.nbest, p.alpha, p.beta, p.lenA, p.lenB, p.trace ? 1 : 0, p.protect ? 1 : 0, p.normalize,
        p.shortlist, e.err));
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
    // Index loops, not map/forEach: those skip the holes of a sparse array, which would leave
    // pointer slots of the heap block below uninitialised (stale memory read as text).
    const encoded = new Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      checkText(texts[i], `texts[${i}]`);
      const b = utf8enc.encode(texts[i]);
      if (b.length > this.maxTextBytes)
        throw new SteleError('STELE_ERR_LIMIT', `texts[${i}]: input has ${b.length} bytes, ` +
          `the session's limit is ${this.maxTextBytes} (max_text_bytes)`);
      encoded[i] = b;
      total += b.length;
    }
    const block = e.malloc(total + 3 + 8 * n);   // text bytes, then pointers and lengths
    const out = new Array(n);
    try {
      const ptrs = block + ((total + 3) & ~3), lens = ptrs + 4 * n;
      let at = block;
      for (let i = 0; i < n; i++) {
        const b = encoded[i];
        e.u8.set(b, at);
        e.dv.setUint32(ptrs + 4 * i, at, true);
        e.dv.setInt32(lens + 4 * i, b.length, true);
        at += b.length;
      }
      e.onResult = (i, r) => { out[i] = readResult(this.model, r); };
      const st = trapped(() => e.x.stele_wasm_translate_stream(this.ptr, ptrs, lens, n, p.alpha,
        p.beta, p.lenA, p.lenB, p.protect ? 1 : 0, p.normalize, p.shortlist, e.err));
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
    const nTok = dv.getInt32(h + L.hNTokens, true);
    const ids = e.int32s(dv.getUint32(h + L.hTokens, true), nTok);
    nbest.push({
      text: e.cstring(dv.getUint32(h + L.hText, true)),
      score: dv.getFloat64(h + L.hScore, true),
      logp: dv.getFloat64(h + L.hLogp, true),
      // confidence: each target piece's log-probability (eos included) and their mean
      tokenLogp: Array.from(e.float32s(dv.getUint32(h + L.hTokenLogp, true), nTok)),
      meanLogp: dv.getFloat64(h + L.hMeanLogp, true),
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
    // true: the best hypothesis' logp is below the model's calibrated threshold, so the output
    // is likely wrong and should not be shown as certain (stele_low_confidence).
    lowConfidence: best.logp < m.lowConfidenceLogp ||
      (best.tokens.length > 0 && best.meanLogp < m.lowConfidenceMeanLogp),
    tokenLogp: best.tokenLogp,
    meanLogp: best.meanLogp,
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
      // Each piece's word (-1 for </s>), so that a caller can see what the words leave out.
      sourceWordOfPiece: srcWordOf,
      targetWordOfPiece: tgtWordOf,
    },
    nbest,
    ...(i32(L.rNTraceSteps) > 0 ? { trace: readTrace(m, r) } : {}),
  };
}

const TRACE_STATUS = ['live', 'finished', 'pruned'];

// The search's trace (stele_trace_node in stele.h): steps[t] lists step t's ranked candidates,
// best first; parent indexes steps[t - 1] (-1 at step 0).
function readTrace(m, r) {
  const e = m.engine, L = e.L, dv = e.dv;
  const n = dv.getInt32(r + L.rNTraceSteps, true);
  const start = e.int32s(dv.getUint32(r + L.rTraceStepStart, true), n + 1);
  const base = dv.getUint32(r + L.rTraceNodes, true);
  const steps = [];
  for (let t = 0; t < n; t++) {
    const nodes = [];
    for (let i = start[t]; i < start[t + 1]; i++) {
      const p = base + i * L.tSize;
      const parent = dv.getInt32(p + L.tParent, true);
      const id = dv.getInt32(p + L.tToken, true);
      const status = TRACE_STATUS[dv.getInt32(p + L.tStatus, true)] ?? 'pruned';
      const rank = dv.getInt32(p + L.tRank, true);
      nodes.push({
        parent: t === 0 ? -1 : parent - start[t - 1],
        token: m.piece(id),
        id,
        logp: dv.getFloat64(p + L.tLogp, true),
        status,
        ...(status === 'finished' ? { score: dv.getFloat64(p + L.tScore, true) } : {}),
        rank,
      });
    }
    steps.push(nodes);
  }
  return { steps };
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

function boolOption(v, name, def) {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${typeof v}`);
  return v;
}

function numOption(v, name, def) {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeof v}`);
  return v;
}

function objOption(v, name, known) {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object') throw new TypeError(`${name} must be an object, got ${typeof v}`);
  // A misspelt key ({ nBest: 3 }) would otherwise be ignored silently and the default used.
  if (known) {
    for (const k of Object.keys(v))
      if (!known.includes(k))
        throw new SteleError('STELE_ERR_ARGUMENT', `${name}: unknown option "${k}" (known: ${known.join(', ')})`);
  }
  return v;
}

const TRANSLATE_OPTIONS = ['beam', 'nbest', 'alpha', 'beta', 'maxLength', 'trace', 'protect', 'normalize',
  'shortlist'];
const BATCH_OPTIONS = [...TRANSLATE_OPTIONS, 'batchSize'];

// The index of the first unpaired UTF-16 surrogate in s, or -1. TextEncoder would turn it into
// U+FFFD and the model would see <unk>: the text is refused instead, as invalid UTF-8 is in C.
function loneSurrogate(s) {
  if (typeof s.isWellFormed === 'function' && s.isWellFormed()) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; }
    }
    return i;
  }
  return -1;
}

// A text to translate: a string (TypeError otherwise, naming it; a hole of a sparse array is
// "missing") with no lone surrogate (STELE_ERR_TEXT with its UTF-16 position).
function checkText(t, what = 'text') {
  if (typeof t !== 'string')
    throw new TypeError(`${what} must be a string, got ${t === undefined ? 'undefined (missing)' : t === null ? 'null' : typeof t}`);
  const k = loneSurrogate(t);
  if (k >= 0)
    throw new SteleError('STELE_ERR_TEXT', `${what === 'text' ? '' : `${what}: `}lone UTF-16 surrogate ` +
      `U+${t.charCodeAt(k).toString(16).toUpperCase()} at index ${k} (not a Unicode character)`);
}

// ---------------------------------------------------------------- loading a model

// The model's task as the engine reads it (stele_model_task: "translate", "caption", "vqa").
function taskOf(model) {
  return model.engine.cstring(model.engine.x.stele_model_task(model.ptr));
}

// Translator.load and Captioner.load: the options checked, the engine and the bytes read, the
// model loaded and its task checked (a caption model is no Translator and the other way
// round), one session made. Returns { engine, model, session }.
async function openModel(source, options, task, defaultSource = new URL(DEFAULT_MODEL, import.meta.url)) {
  const o = objOption(options, 'options', ['onProgress', 'limits', 'wasm']);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw new TypeError('options.onProgress must be a function');
  const LIMITS = ['maxSourceTokens', 'maxTargetTokens', 'maxBeam', 'maxTextBytes'];
  const lim = objOption(o.limits, 'options.limits', LIMITS);
  const limits = {};
  for (const k of LIMITS) {
    const v = intOption(lim[k], `limits.${k}`, undefined);
    if (v !== undefined) {
      if (v < 1) throw new SteleError('STELE_ERR_ARGUMENT', `limits.${k} ${v} must be >= 1`);
      limits[k] = v;
    }
  }
  const src = source === undefined || source === null
    ? (typeof defaultSource === 'function' ? defaultSource() : defaultSource) : await resolveModelName(source);
  const [engine, bytes] = await Promise.all([
    Engine.create(o.wasm),
    readSource(src, o.onProgress, 'model'),
  ]);
  const model = new Model(engine, bytes);
  let session;
  try {
    const has = taskOf(model);
    if (has !== task)
      throw new SteleError('STELE_ERR_ARGUMENT', `the model's task is "${has}", not "${task}": ` +
        `load it with ${{ caption: 'Captioner', translate: 'Translator', vqa: 'Answerer' }[has] ?? 'a class for that task'}.load()`);
    session = new Session(model, limits);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { engine, model, session };
}

// The search defaults (stele_default_params()): what translate() and caption() use for options
// left out. x: the engine's exports.
function defaultParams(x) {
  return { beam: x.stele_wasm_default_param(0), nbest: x.stele_wasm_default_param(1),
    alpha: x.stele_wasm_default_param(2), beta: x.stele_wasm_default_param(3) };
}

// The search parameters of options (already checked for unknown keys), validated here in full
// with stele_translate's rules and messages, so that every path (one text, beam or greedy
// batch, batchSize 1, a caption) accepts and refuses the same options; the batched C path never
// sees nbest. x: the engine's exports; session: the Session (its limits).
function searchParams(x, session, o) {
  const d = defaultParams(x);
  const beam = intOption(o.beam, 'beam', d.beam);
  const nbest = intOption(o.nbest, 'nbest', d.nbest);
  const alpha = numOption(o.alpha, 'alpha', d.alpha);
  const beta = numOption(o.beta, 'beta', d.beta);
  const maxLength = intOption(o.maxLength, 'maxLength', undefined);
  if (beam < 1) throw new SteleError('STELE_ERR_ARGUMENT', `beam_size ${beam} must be >= 1`);
  const maxBeam = session.limits.maxBeam;
  if (beam > maxBeam)
    throw new SteleError('STELE_ERR_LIMIT', `beam_size ${beam} exceeds the session's max_beam ${maxBeam}`);
  if (nbest < 1 || nbest > beam)
    throw new SteleError('STELE_ERR_ARGUMENT', `nbest ${nbest} outside 1..beam_size (${beam})`);
  if (!Number.isFinite(alpha) || !Number.isFinite(beta))
    throw new SteleError('STELE_ERR_ARGUMENT', 'alpha, beta, len_a and len_b must be finite');
  if (maxLength !== undefined && maxLength < 1)
    throw new SteleError('STELE_ERR_ARGUMENT', `maxLength ${maxLength} must be >= 1`);
  return {
    beam,
    nbest,
    alpha,
    beta,
    lenA: maxLength === undefined ? -1 : 0,
    lenB: maxLength === undefined ? -1 : maxLength,
    trace: boolOption(o.trace, 'trace', false),
    protect: boolOption(o.protect, 'protect', true),
    normalize: boolOption(o.normalize, 'normalize', true) ? 1 : 0,
    shortlist: boolOption(o.shortlist, 'shortlist', true) ? 1 : 0,
  };
}

// ---------------------------------------------------------------- what the three classes share

// X.load()'s last step: the class made over what openModel opened, once the engine has the
// task's entry point (entry: a stele.wasm built before the task lacks it, and is refused with
// the message `missing` rather than at the first call); the model and session freed if either
// step fails.
function loaded(Class, { engine, model, session }, entry, missing) {
  try {
    if (entry && typeof engine.x[entry] !== 'function') throw new SteleError('STELE_ERR_INTERNAL', missing);
    return new Class(engine, model, session);
  } catch (e) {
    session.dispose();
    model.dispose();
    throw e;
  }
}

// A model and one session in their own wasm instance: what Translator, Captioner and Answerer
// have in common (construction, the disposed check, info, infoJson, dispose); each adds only
// what is its own. kind: the class's name, for the messages.
class LoadedModel {
  constructor(kind, engine, model, session) {
    if (!(engine instanceof Engine))
      throw new TypeError(`use ${kind}.load() to create ${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}`);
    this._kind = kind;
    this._engine = engine;
    this._model = model;
    this._session = session;
    this._info = null;
  }

  // The session; STELE_ERR_DISPOSED once disposed.
  _live() {
    if (!this._session) throw disposedError(this._kind);
    return this._session;
  }

  /** Config and sizes: the model's info (config, search defaults, tensors, parameters) plus
   *  vocabSize, modelBytes, the session's limits and the wasm memory size; a class adds its
   *  own fields (_describe). */
  get info() {
    const s = this._live();
    this._info ??= this._describe(JSON.parse(this._model.infoJson), s);
    return { ...this._info, wasmMemoryBytes: this._engine.memory.buffer.byteLength };
  }

  // info's fields, made once: j is the model's info JSON, s the session.
  _describe(j, s) {
    return {
      name: j.name,
      formatVersion: j.format_version,
      weights: j.weights,
      kernels: j.kernels,
      config: j.config,
      search: j.search,
      shortlist: j.shortlist ?? null,   // { candidates, always } when the model has one
      parameters: j.parameters,
      tensorBytes: j.tensor_bytes,
      tensors: j.tensors,
      vocabSize: this._model.vocabSize,
      modelBytes: this._model.size,
      limits: { ...s.limits },
    };
  }

  /** The model's info exactly as the C engine writes it (stele_model_info_json). */
  get infoJson() {
    this._live();
    return this._model.infoJson;
  }

  /** Frees the session, the model and the wasm instance's memory. Safe to call twice. */
  dispose() {
    if (!this._session) return;
    try {
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

// The size an image model takes (config.image): { width, height, channels }.
function imageSize(model) {
  const img = JSON.parse(model.infoJson).config?.image ?? {};
  return { width: img.width, height: img.height, channels: img.channels };
}

// The pixels of image (imagePixels), refused unless they have the model's size: checked here,
// with the message of the C function fn, before a large image is copied into wasm memory.
function sizedPixels(image, size, fn) {
  const px = imagePixels(image);
  const { width: W, height: H } = size;
  if (px.width !== W || px.height !== H)
    throw new SteleError('STELE_ERR_ARGUMENT', `${fn}: the image is ${px.width}x${px.height} pixels ` +
      `(width x height), the model reads ${W}x${H}`);
  return px;
}

// ---------------------------------------------------------------- Translator

/** A model and a session in their own wasm instance. */
export class Translator extends LoadedModel {
  /** Use Translator.load(). */
  constructor(engine, model, session) {
    super('Translator', engine, model, session);
    this._batch = null;   // a Batch, made by the first batched translateBatch()
  }

  /**
   * Loads a model: source is the name of a model shipped with the package ('dates',
   * 'ui-en-fr'; see shippedModels()), a URL, a file path (Node), an ArrayBuffer/typed array or a
   * fetch Response; undefined = the embedded default model (DEFAULT_MODEL).
   * options: { onProgress({ loaded, total }), limits: { maxSourceTokens, maxTargetTokens,
   * maxBeam, maxTextBytes }, wasm: URL | path | bytes | WebAssembly.Module }.
   */
  static async load(source, options = {}) {
    return loaded(Translator, await openModel(source, options, 'translate'));
  }

  /** The search defaults translate() uses for options left out (stele_default_params()). */
  get defaults() {
    this._live();
    return defaultParams(this._engine.x);
  }

  /**
   * Translates one text. options: beam (1 = greedy), nbest, alpha (length penalty), beta
   * (coverage penalty): left out, the engine's defaults (see defaults); maxLength (output pieces
   * incl. eos; default: the model's len_a * S + len_b); trace (true: result.trace, the search's
   * steps, see index.d.ts; off by default: recording it costs time). normalize (default true: ALL CAPS and
   * Title Case input translated in sentence case and given its case back, characters outside the
   * vocabulary such as emoji copied through; false: the text goes to the model as given).
   * shortlist (default true: a model with a lexical shortlist scores only the sentence's
   * candidate pieces at each step, faster; false: every piece; no effect without one).
   * Unknown option keys are
   * refused; a text with a lone UTF-16 surrogate is STELE_ERR_TEXT naming its index (it would become <unk>).
   */
  translate(text, options) {
    const s = this._live();
    checkText(text);
    return s.translate(text, this._params(objOption(options, 'options', TRANSLATE_OPTIONS)));
  }

  /**
   * Translates an array of texts; returns their results, in order, as translate() does. With
   * beam 1 (greedy) the texts are decoded together, batchSize sentences at a time (default 8;
   * a sentence that ends makes room for the next text): every decoder step reads the weights
   * once for all of them, so a list goes about twice as fast as one by one, with the same
   * outputs. With beam > 1 the texts are translated one by one.
   * options: translate()'s, plus batchSize (1..256); the same options are accepted and refused
   * on every path (an unknown key, or nbest outside 1..beam, is a STELE_ERR_ARGUMENT). Every
   * entry is checked before any work: a non-string or a hole of a sparse array throws a
   * TypeError naming texts[i]; a text with a lone surrogate or over the limits a SteleError
   * naming texts[i].
   */
  translateBatch(texts, options) {
    const s = this._live();
    if (!Array.isArray(texts)) throw new TypeError('texts must be an array of strings');
    const o = objOption(options, 'options', BATCH_OPTIONS);
    const batchSize = intOption(o.batchSize, 'batchSize', 8);
    if (batchSize < 1 || batchSize > 256)
      throw new SteleError('STELE_ERR_ARGUMENT', `batchSize ${batchSize} outside 1..256`);
    const p = this._params(o);
    // Every entry, holes of a sparse array included (forEach and map skip those), before any
    // work, on every path below.
    for (let i = 0; i < texts.length; i++) checkText(texts[i], `texts[${i}]`);
    if (p.beam !== 1 || batchSize === 1 || texts.length < 2 || p.trace) {
      const out = new Array(texts.length);
      for (let i = 0; i < texts.length; i++) {
        try {
          out[i] = s.translate(texts[i], p);
        } catch (e) {
          if (e instanceof SteleError && !e.message.startsWith('texts['))
            e.message = `texts[${i}]: ${e.message}`;
          throw e;
        }
      }
      return out;
    }
    if (this._batch && this._batch.capacity !== batchSize) {
      this._batch.dispose();
      this._batch = null;
    }
    if (!this._batch) this._batch = new Batch(this._model, this._session.limits, batchSize);
    return this._batch.translate(texts, p);
  }

  _params(o) {
    return searchParams(this._engine.x, this._session, o);
  }

  /** Frees the batch, the session, the model and the wasm instance's memory. Safe to call twice. */
  dispose() {
    try {
      this._batch?.dispose();   // first: it uses the model
    } finally {
      this._batch = null;
      super.dispose();
    }
  }
}

// ---------------------------------------------------------------- Captioner

/** The shipped image-captioning model (models/scenes-caption/): Captioner.load()'s default. */
export const DEFAULT_CAPTION_MODEL = 'scenes-caption';

const CAPTION_OPTIONS = ['beam', 'nbest', 'alpha', 'beta', 'maxLength'];
const badImage = (msg) => new SteleError('STELE_ERR_ARGUMENT', `image: ${msg}`);
const describe = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

// The pixels of an image argument as { bytes: Uint8Array, width, height, channels, stride }:
// - anything with getContext('2d') (HTMLCanvasElement, OffscreenCanvas): its RGBA pixels;
// - { data, width, height, channels?, stride? }: ImageData, or raw 8-bit pixels (data a
//   Uint8Array, Uint8ClampedArray or ArrayBuffer, `height` rows of `width` pixels of `channels`
//   interleaved bytes, rows `stride` bytes apart; channels left out: data.length / (width *
//   height), so ImageData is RGBA; stride left out: width * channels).
// Every mistake is a STELE_ERR_ARGUMENT naming it; nothing is read past the end of data.
function imagePixels(image) {
  if (image === null || typeof image !== 'object')
    throw badImage(`expected ImageData, a canvas or { data, width, height, channels }, got ${describe(image)}`);
  if (typeof image.getContext === 'function') {
    const { width, height } = image;
    if (!(width > 0 && height > 0)) throw badImage(`the canvas is ${width}x${height}`);
    const ctx = image.getContext('2d');
    if (!ctx || typeof ctx.getImageData !== 'function') throw badImage('the canvas has no 2d context');
    const d = ctx.getImageData(0, 0, width, height);
    return { bytes: new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength), width, height, channels: 4, stride: width * 4 };
  }
  const { data, width, height } = image;
  for (const [k, v] of [['width', width], ['height', height]])
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw badImage(`${k} must be a positive integer, got ${typeof v === 'number' ? v : describe(v)}`);
  let bytes;
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (data instanceof Uint8Array || data instanceof Uint8ClampedArray)
    bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  else throw badImage(`data must be a Uint8Array, Uint8ClampedArray or ArrayBuffer of 8-bit pixels, got ${
    ArrayBuffer.isView(data) ? data.constructor.name : describe(data)}`);
  const channels = image.channels ?? bytes.length / (width * height);
  if (![1, 3, 4].includes(channels))
    throw badImage(image.channels === undefined
      ? `${bytes.length} bytes for ${width}x${height} pixels is not 1, 3 or 4 bytes a pixel; give channels (and stride)`
      : `channels must be 1 (gray), 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  const stride = image.stride ?? width * channels;
  if (typeof stride !== 'number' || !Number.isInteger(stride) || stride < width * channels)
    throw badImage(`stride must be an integer >= width * channels (${width * channels}), got ${String(stride)}`);
  const need = stride * (height - 1) + width * channels;
  if (!Number.isSafeInteger(need) || bytes.length < need)
    throw badImage(`data has ${bytes.length} bytes, ${width}x${height} pixels of ${channels} byte${channels > 1 ? 's' : ''}` +
      `${stride !== width * channels ? ` with rows ${stride} bytes apart` : ''} need ${need}`);
  return { bytes: bytes.subarray(0, need), width, height, channels, stride };
}

// A caption's stele_result* (stele_caption) read out of wasm memory: readResult's fields under
// caption names, the attention rows split into the words' and the end of the caption's.
function readCaption(m, r) {
  const t = readResult(m, r), e = m.engine;
  const gridHeight = e.dv.getInt32(r + e.L.rGridHeight, true), gridWidth = e.dv.getInt32(r + e.L.rGridWidth, true);
  const S = gridHeight * gridWidth;
  const tokens = t.targetTokens;
  const nWords = tokens.at(-1) === '</s>' ? tokens.length - 1 : tokens.length;
  const all = t.alignment?.weights ?? new Float32Array(0);
  const hyp = (h) => ({ text: h.text, words: h.tokens.slice(0, h.tokens.at(-1) === '</s>' ? -1 : undefined),
    tokens: h.tokens, ids: h.ids, score: h.score, logp: h.logp, tokenLogp: h.tokenLogp, meanLogp: h.meanLogp });
  return {
    text: t.text,
    words: tokens.slice(0, nWords),
    tokens,
    ids: t.targetIds,
    attention: all.slice(0, nWords * S),
    eosAttention: t.alignment && nWords < tokens.length ? all.slice(nWords * S, (nWords + 1) * S) : null,
    // false for a model without attention (score "none"): attention is then empty
    hasAttention: !!t.alignment,
    gridHeight,
    gridWidth,
    score: t.score,
    logp: t.logp,
    tokenLogp: t.tokenLogp,
    meanLogp: t.meanLogp,
    nbest: t.nbest.map(hyp),
  };
}

/** An image-captioning model (config task "caption") and a session in their own wasm instance. */
export class Captioner extends LoadedModel {
  /** Use Captioner.load(). */
  constructor(engine, model, session) {
    super('Captioner', engine, model, session);
    this._size = imageSize(model);
  }

  /**
   * Loads a captioning model: source as for Translator.load (a shipped model's name, a URL, a
   * path, bytes or a Response); undefined = the shipped 'scenes-caption'. A model of another
   * task is refused (STELE_ERR_ARGUMENT). options: Translator.load's ({ onProgress, limits,
   * wasm }).
   */
  static async load(source, options = {}) {
    return loaded(Captioner, await openModel(source, options, 'caption', () => modelUrl(DEFAULT_CAPTION_MODEL)),
      'stele_wasm_caption', 'this stele.wasm cannot caption images (built before stele_caption: make wasm)');
  }

  // info: Translator's, plus image: the size the model takes ({ width, height, channels }).
  _describe(j, s) {
    return { ...super._describe(j, s), image: { ...this._size } };
  }

  /** The search defaults caption() uses for options left out (stele_default_params()). */
  get defaults() {
    this._live();
    return defaultParams(this._engine.x);
  }

  /**
   * Captions one image: ImageData, a canvas (anything with getContext('2d')), or raw pixels
   * { data, width, height, channels?, stride? } (see index.d.ts); RGB and RGBA are made gray by
   * the engine, alpha ignored. The image must have the model's size (info.image). options:
   * beam, nbest, alpha, beta, maxLength as for Translator.translate (unknown keys refused).
   * Returns { text, words, tokens, ids, attention (Float32Array, words.length rows of
   * gridHeight * gridWidth weights, row-major over the feature grid), eosAttention, gridHeight,
   * gridWidth, score, logp, tokenLogp, meanLogp, nbest }. Errors: SteleError (STELE_ERR_ARGUMENT
   * for a malformed image or a wrong size, the engine's codes otherwise).
   */
  caption(image, options) {
    const s = this._live();
    const o = objOption(options, 'options', CAPTION_OPTIONS);
    const p = searchParams(this._engine.x, s, o);
    const px = sizedPixels(image, this._size, 'stele_caption');
    const e = this._engine;
    const ptr = e.copyIn(px.bytes);
    try {
      const r = trapped(() => e.x.stele_wasm_caption(s.ptr, ptr, px.width, px.height, px.channels,
        px.stride, p.beam, p.nbest, p.alpha, p.beta, p.lenA, p.lenB, e.err));
      if (!r) throw e.error();
      return readCaption(this._model, r);
    } finally {
      e.free(ptr);
    }
  }
}

// ---------------------------------------------------------------- Answerer

/** The shipped visual question answering model (models/scenes-vqa/): Answerer.load()'s default. */
export const DEFAULT_VQA_MODEL = 'scenes-vqa';

// Field order of stele_wasm_answer_layout() in src/wasm/stele_wasm.c (stele_answer_result).
const ANSWER_FIELDS = ['answer', 'text', 'nTop', 'top', 'topProb', 'probs', 'nAnswers',
  'nGlimpses', 'gridHeight', 'gridWidth', 'glimpses', 'nQuestion', 'questionIds'];

/** A visual question answering model (config task "vqa") and a session in their own wasm
 *  instance: an image and a question -> an answer, with the model's attention glimpses. */
export class Answerer extends LoadedModel {
  /** Use Answerer.load(). */
  constructor(engine, model, session) {
    super('Answerer', engine, model, session);
    this._size = imageSize(model);
    const x = engine.x, n = x.stele_wasm_answer_layout_count(), p = x.stele_wasm_answer_layout();
    if (n !== ANSWER_FIELDS.length)
      throw new SteleError('STELE_ERR_INTERNAL', `stele.wasm answer layout has ${n} fields, stele.js expects ${ANSWER_FIELDS.length}`);
    engine.views();
    this._L = {};
    ANSWER_FIELDS.forEach((f, i) => { this._L[f] = engine.i32[(p >> 2) + i]; });
    this._answers = Array.from({ length: x.stele_wasm_model_answer_count(model.ptr) },
      (_, i) => engine.cstring(x.stele_wasm_model_answer(model.ptr, i)));
  }

  /**
   * Loads a VQA model: source as for Translator.load (a shipped model's name, a URL, a path,
   * bytes or a Response); undefined = the shipped 'scenes-vqa'. A model of another task is
   * refused (STELE_ERR_ARGUMENT). options: Translator.load's ({ onProgress, limits, wasm });
   * limits.maxSourceTokens bounds a question's words, limits.maxTextBytes its bytes.
   */
  static async load(source, options = {}) {
    return loaded(Answerer, await openModel(source, options, 'vqa', () => modelUrl(DEFAULT_VQA_MODEL)),
      'stele_wasm_answer', 'this stele.wasm cannot answer questions (built before stele_answer: make wasm)');
  }

  /** The answers the model chooses from, in its order (answer i is probs[i]). */
  get answers() {
    this._live();
    return [...this._answers];
  }

  /** The words a question may use (the model's tokenizer.words, id order, the special words
   *  "<pad>" and "<unk>" included): any other word is read as "<unk>". */
  get words() {
    this._live();
    return Array.from({ length: this._model.vocabSize }, (_, id) => this._model.piece(id));
  }

  // info: the shared fields but search (a classifier has none), plus image (the size the model
  // takes, as Captioner's), answers and glimpses (G).
  _describe(j, s) {
    const info = super._describe(j, s);
    delete info.search;
    return { ...info, image: { ...this._size }, answers: [...this._answers], glimpses: j.config.glimpses };
  }

  /**
   * Answers a question about an image. image: as Captioner.caption takes it (ImageData, a
   * canvas, or raw pixels { data, width, height, channels?, stride? }) at the model's size
   * (info.image). question: a string, read as the model was trained (ASCII letters lower-cased,
   * "?" and "," words of their own, unknown words as <unk>). Returns { answer, index, top
   * (the 5 most probable: [{ answer, index, prob }], best first), probs (Float32Array, one per
   * answers[i]), glimpses (Float32Array, glimpseCount rows of gridHeight * gridWidth weights,
   * row-major over the feature grid; each row sums to 1), glimpseCount, gridHeight, gridWidth,
   * question (the words as the model read them), questionIds (Int32Array) }. Errors: TypeError
   * for a question that is not a string; SteleError: STELE_ERR_ARGUMENT for a malformed image, a
   * wrong size or a question without words, STELE_ERR_TEXT for a lone surrogate,
   * STELE_ERR_LIMIT past the session's limits.
   */
  answer(image, question) {
    const s = this._live();
    checkText(question, 'question');
    const px = sizedPixels(image, this._size, 'stele_answer');
    const q = utf8enc.encode(question);
    if (q.length > s.limits.maxTextBytes)
      throw new SteleError('STELE_ERR_LIMIT', `stele_answer: the question has ${q.length} bytes, ` +
        `the session's limit is ${s.limits.maxTextBytes} (max_text_bytes)`);
    const e = this._engine;
    const ptr = e.malloc(px.bytes.length + q.length + 1);   // the pixels, then the question
    try {
      e.u8.set(px.bytes, ptr);
      e.u8.set(q, ptr + px.bytes.length);
      const r = trapped(() => e.x.stele_wasm_answer(s.ptr, ptr, px.width, px.height, px.channels,
        px.stride, ptr + px.bytes.length, q.length, e.err));
      if (!r) throw e.error();
      return this._read(r);
    } finally {
      e.free(ptr);
    }
  }

  // A stele_answer_result* copied out of wasm memory (the next answer() reuses it).
  _read(r) {
    const e = this._engine, L = this._L;
    e.views();
    const i32 = (o) => e.dv.getInt32(r + o, true), u32 = (o) => e.dv.getUint32(r + o, true);
    const nTop = i32(L.nTop), nAnswers = i32(L.nAnswers), G = i32(L.nGlimpses);
    const gridHeight = i32(L.gridHeight), gridWidth = i32(L.gridWidth);
    const top = e.int32s(u32(L.top), nTop), topProb = e.float32s(u32(L.topProb), nTop);
    const questionIds = e.int32s(u32(L.questionIds), i32(L.nQuestion));
    const index = i32(L.answer);
    return {
      answer: this._answers[index],
      index,
      top: Array.from(top, (k, i) => ({ answer: this._answers[k], index: k, prob: topProb[i] })),
      probs: e.float32s(u32(L.probs), nAnswers),
      glimpses: e.float32s(u32(L.glimpses), G * gridHeight * gridWidth),
      glimpseCount: G,
      gridHeight,
      gridWidth,
      question: Array.from(questionIds, (id) => this._model.piece(id)),
      questionIds,
    };
  }
}

// What src/js/pool.js (TranslatorPool) shares with this file; not part of the API.
export const _internal = { readSource, resolveModelName, compileWasm, checkText, objOption, intOption, IS_NODE };
export { TranslatorPool, defaultThreads } from './pool.js';

export default Translator;
