// TranslatorPool: Translator.translateBatch on every core. A pool of workers (worker_threads in
// Node, module Web Workers in browsers: src/js/pool_worker.js), each with a Translator in its
// own wasm instance. The WebAssembly.Module is compiled once here and posted to the workers
// (compiling is the slow part of starting an instance); the model bytes are read once here and
// each worker copies them into its own heap (a wasm instance cannot read another's memory).
//
// A batch is cut into chunks that idle workers take from a queue, in input order: a worker that
// drew short sentences takes more chunks, where contiguous shares would leave one worker idle
// while another finishes the long ones. Every sentence is decoded by the same wasm code whatever
// worker and batch neighbours it gets, so the results are those of one Translator, in input order.
import { SteleError, DEFAULT_MODEL, _internal } from './stele.js';

const WORKER_FILE = './pool_worker.js';
const LOAD_OPTIONS = ['onProgress', 'limits', 'wasm', 'threads'];
const BATCH_OPTIONS = ['beam', 'nbest', 'alpha', 'beta', 'maxLength', 'trace', 'protect', 'normalize',
  'batchSize', 'chunkSize'];
const MAX_THREADS = 256;
const TOKEN = Symbol('TranslatorPool');
const utf8enc = new TextEncoder();

/** The number of workers a pool gets by default: os.availableParallelism() in Node (os.cpus()
 *  before Node 18.14), navigator.hardwareConcurrency in browsers (1 where unknown). */
export async function defaultThreads() {
  if (_internal.IS_NODE) {
    const os = await import('node:os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  return Math.max(1, globalThis.navigator?.hardwareConcurrency || 1);
}

// A worker as the pool sees it, the same in Node and in browsers: post(message), listen(onMessage,
// onDeath(why)), ref()/unref() (Node: whether it keeps the process alive), terminate().
async function spawn() {
  const url = new URL(WORKER_FILE, import.meta.url);
  if (_internal.IS_NODE) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(url);
    return {
      post: (m) => w.postMessage(m),
      listen(onMessage, onDeath) {
        w.on('message', onMessage);
        w.on('error', (e) => onDeath(`threw ${e?.name ?? 'Error'}: ${e?.message ?? e}`));
        w.on('messageerror', (e) => onDeath(`sent a message that cannot be read (${e?.message ?? e})`));
        w.on('exit', (code) => onDeath(`exited (code ${code})`));
      },
      ref: () => w.ref(),
      unref: () => w.unref(),
      terminate: () => { w.terminate().catch(() => {}); },
    };
  }
  const w = new Worker(url, { type: 'module' });
  return {
    post: (m) => w.postMessage(m),
    listen(onMessage, onDeath) {
      w.onmessage = (e) => onMessage(e.data);
      w.onerror = (e) => {
        e.preventDefault?.();
        onDeath(`failed (${e?.message || 'the worker script could not run'})`);
      };
      w.onmessageerror = () => onDeath('sent a message that cannot be read');
    },
    ref() {},
    unref() {},
    terminate: () => w.terminate(),
  };
}

// An error as a worker sent it ({ name, code, message, index }) made an Error again: a
// TypeError stays one; a text's error names it (texts[i]) and carries its index.
function rebuild(m) {
  if (m.name === 'TypeError') return new TypeError(m.message);
  if (m.index === undefined) return new SteleError(m.code ?? 'STELE_ERR_INTERNAL', m.message);
  return textError(m.code ?? 'STELE_ERR_INTERNAL', m.index, m.message);
}

// The error of texts[i]: its message prefixed with "texts[i]: " (as Translator.translateBatch
// names a text), `index` = i.
function textError(code, i, message) {
  const e = new SteleError(code, `texts[${i}]: ${message}`);
  e.index = i;
  return e;
}

// One worker: one request at a time (the pool awaits each), a death reported once.
class PoolWorker {
  constructor(handle, number, threads, onDeath) {
    this.handle = handle;
    this.name = `worker ${number + 1} of ${threads}`;
    this.pending = null;   // { resolve, reject, what }
    this.dead = null;      // the SteleError of its death
    handle.listen((m) => {
      const p = this.pending;
      this.pending = null;
      if (!p) return;
      if (m.type === 'error') p.reject(rebuild(m));
      else p.resolve(m);
    }, (why) => {
      if (this.dead) return;
      const p = this.pending;
      this.dead = new SteleError('STELE_ERR_WORKER', `${this.name} ${why}${p ? ` while ${p.what}` : ''}`);
      this.pending = null;
      p?.reject(this.dead);
      onDeath(this);
    });
  }

  // Posts m and resolves with the worker's answer; what: for the message if the worker dies.
  request(m, what) {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, what };
      this.handle.post(m);
    });
  }

  // Ends the worker; a request in flight rejects with err.
  stop(err) {
    if (!this.dead) {
      this.dead = err;
      const p = this.pending;
      this.pending = null;
      p?.reject(err);
    }
    this.handle.terminate();
  }
}

/** Translator.translateBatch on `threads` workers, each with its own wasm instance and copy of
 *  the model. Load with TranslatorPool.load(); see index.d.ts. */
export class TranslatorPool {
  /** Use TranslatorPool.load(). */
  constructor(token, workers, ready) {
    if (token !== TOKEN) throw new TypeError('use TranslatorPool.load() to create a TranslatorPool');
    this._workers = workers;
    this._info = ready.info;
    this._defaults = ready.defaults;
    this._broken = null;                 // the SteleError of a worker's death
    this._tail = Promise.resolve();      // calls run one after the other
    this._disposed = false;
  }

  /**
   * Loads a model into `threads` workers: source and options as for Translator.load ({
   * onProgress, limits, wasm }), plus threads (1..256; default: the core count,
   * defaultThreads()). The model is read once; each worker gets a copy.
   */
  static async load(source, options = {}) {
    const o = _internal.objOption(options, 'options', LOAD_OPTIONS);
    if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
      throw new TypeError('options.onProgress must be a function');
    const threads = _internal.intOption(o.threads, 'threads', await defaultThreads());
    if (threads < 1 || threads > MAX_THREADS)
      throw new SteleError('STELE_ERR_ARGUMENT', `threads ${threads} outside 1..${MAX_THREADS}`);
    const src = source === undefined || source === null
      ? new URL(DEFAULT_MODEL, import.meta.url) : await _internal.resolveModelName(source);
    const [module, read] = await Promise.all([
      _internal.compileWasm(o.wasm),
      _internal.readSource(src, o.onProgress, 'model'),
    ]);
    // A view into a larger buffer would be cloned whole to every worker: the model's bytes only.
    const bytes = read.byteLength === read.buffer.byteLength ? read : read.slice();
    const workers = [];
    let pool = null, died = null;
    const onDeath = (w) => {
      died ??= w.dead;
      pool?._lost(w);
    };
    try {
      for (let i = 0; i < threads; i++) workers.push(new PoolWorker(await spawn(), i, threads, onDeath));
      const ready = await Promise.all(workers.map((w) =>
        w.request({ type: 'load', module, bytes, limits: o.limits }, 'loading the model')));
      if (died) throw died;
      pool = new TranslatorPool(TOKEN, workers, ready[0]);
      pool._idle();
      return pool;
    } catch (e) {
      for (const w of workers) w.stop(disposedError());
      throw e;
    }
  }

  /** The model's info as Translator.info gives it (worker 1's wasm memory), plus threads. */
  get info() {
    this._live();
    return { ...structuredClone(this._info), threads: this._workers.length };
  }

  /** The search defaults translateBatch() uses for options left out (stele_default_params()). */
  get defaults() {
    this._live();
    return { ...this._defaults };
  }

  /** The number of workers. */
  get threads() {
    this._live();
    return this._workers.length;
  }

  get disposed() {
    return this._disposed;
  }

  /**
   * Translator.translateBatch(texts, options) on the pool: the same results (scores,
   * attention, alignment, nbest, trace), in input order. options: translateBatch's (batchSize:
   * each worker's greedy batch) plus chunkSize, the texts a worker takes from the queue at a time
   * (default: 4 * batchSize for batched greedy search, else 1). Every entry is checked before any
   * work (TypeError for a non-string, SteleError naming texts[i] for a lone surrogate or a text
   * over limits.maxTextBytes); a text the engine refuses later rejects the call with its
   * SteleError, message starting "texts[i]: " and `index` = i (the first such text in input
   * order). A worker that dies rejects the call with STELE_ERR_WORKER naming the texts it had,
   * and the pool refuses later calls with that error: dispose it and load another.
   * Calls on one pool run one after the other.
   */
  async translateBatch(texts, options) {
    this._live();
    if (!Array.isArray(texts)) throw new TypeError('texts must be an array of strings');
    const { chunkSize, ...o } = _internal.objOption(options, 'options', BATCH_OPTIONS);
    const maxBytes = this._info.limits.maxTextBytes;
    for (let i = 0; i < texts.length; i++) {
      try {
        _internal.checkText(texts[i], `texts[${i}]`);
      } catch (e) {
        if (e instanceof SteleError) e.index = i;
        throw e;
      }
      // (a UTF-16 code unit is at most 3 UTF-8 bytes: only a long text needs encoding)
      const n = texts[i].length > maxBytes / 3 ? utf8enc.encode(texts[i]).length : 0;
      if (n > maxBytes)
        throw textError('STELE_ERR_LIMIT', i, `input has ${n} bytes, the session's limit is ${maxBytes} (max_text_bytes)`);
    }
    const batchSize = typeof o.batchSize === 'number' ? o.batchSize : 8;
    const batched = (o.beam ?? this._defaults.beam) === 1 && batchSize > 1 && !o.trace;
    const size = _internal.intOption(chunkSize, 'chunkSize', batched ? 4 * batchSize : 1);
    if (size < 1) throw new SteleError('STELE_ERR_ARGUMENT', `chunkSize ${size} must be >= 1`);
    const run = this._tail.then(() => this._run(texts, o, size));
    this._tail = run.catch(() => {});
    return run;
  }

  // The queue: chunks of `size` texts in input order, each taken by the next idle worker.
  async _run(texts, options, size) {
    this._live();
    if (this._broken) throw this._broken;
    const n = texts.length, out = new Array(n);
    // no texts: one empty chunk all the same, so that bad options are refused as translateBatch
    // refuses them
    const starts = [];
    for (let s = 0; s < Math.max(n, 1); s += size) starts.push(s);
    let next = 0, failure = null;
    const drain = async (w) => {
      while (next < starts.length && !failure) {
        const start = starts[next++], end = Math.min(start + size, n);
        const chunk = texts.slice(start, end);
        try {
          const m = await w.request({ type: 'translate', start, texts: chunk, options },
            `translating texts[${start}..${end - 1}]`);
          for (let j = 0; j < m.results.length; j++) out[start + j] = m.results[j];
        } catch (e) {
          // Report what one thread would: a worker's death first, else the first text in input
          // order that fails (chunks are taken in order and those in flight finish, so every
          // text before a failed one has been tried).
          const rank = (x) => (x.code === 'STELE_ERR_WORKER' ? -1 : x.index ?? Infinity);
          if (!failure || rank(e) < rank(failure)) failure = e;
        }
      }
    };
    for (const w of this._workers) w.handle.ref();
    try {
      await Promise.all(this._workers.map(drain));
    } finally {
      this._idle();
    }
    if (failure) throw failure;
    return out;
  }

  // Node: idle workers do not keep the process alive (a pool left undisposed does not hang it).
  _idle() {
    for (const w of this._workers) w.handle.unref();
  }

  // A worker died: the pool is broken (its in-flight call has already failed with the death).
  _lost(w) {
    this._broken ??= new SteleError('STELE_ERR_WORKER', `${w.dead.message}; this pool cannot ` +
      'translate any more: dispose() it and load another');
  }

  _live() {
    if (this._disposed) throw disposedError();
  }

  /** Stops the workers (their memory is freed); a call in flight rejects with
   *  STELE_ERR_DISPOSED. Safe to call twice. */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    for (const w of this._workers) w.stop(disposedError());
  }
}

function disposedError() {
  return new SteleError('STELE_ERR_DISPOSED', 'TranslatorPool was disposed');
}
