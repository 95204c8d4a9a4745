// A TranslatorPool worker (src/js/pool.js): one Translator in this thread's own wasm instance.
// Runs as a worker_threads Worker in Node and as a module Web Worker in browsers.
//
// Messages in:  { type: 'load', module: WebAssembly.Module, bytes: Uint8Array, limits }
//               { type: 'translate', start, texts, options }   texts = the batch's [start, ...)
// Messages out: { type: 'ready', info, defaults }
//               { type: 'done', results }
//               { type: 'error', name, code, message, index? }   index: the batch's failed text
import { Translator } from './stele.js';

let translator = null;

const errorOf = (e, index) => ({ type: 'error', name: e?.name, code: e?.code,
  message: String(e?.message ?? e), ...(index === undefined ? {} : { index }) });

function handle(m) {
  if (m.type === 'load') {
    return Translator.load(m.bytes, { limits: m.limits, wasm: m.module })
      .then((t) => {
        translator = t;
        return { type: 'ready', info: t.info, defaults: t.defaults };
      });
  }
  if (m.type !== 'translate') throw new Error(`unknown message ${m.type}`);
  try {
    return { type: 'done', results: translator.translateBatch(m.texts, m.options) };
  } catch (e) {
    // Bad options fail without texts; else the text that failed is the first that fails alone
    // (translateBatch checks every text, or translates them one by one, so that is the one).
    translator.translateBatch([], m.options);
    const { batchSize, ...one } = m.options ?? {};
    for (let j = 0; j < m.texts.length; j++) {
      try {
        translator.translate(m.texts[j], one);
      } catch (e2) {
        return errorOf(e2, m.start + j);
      }
    }
    throw e;
  }
}

function receive(m, post) {
  let answer;
  try {
    answer = handle(m);
  } catch (e) {
    answer = errorOf(e);
  }
  Promise.resolve(answer).then(post, (e) => post(errorOf(e)));
}

if (typeof process === 'object' && process !== null && process.versions?.node) {
  // messages wait in parentPort's queue until the listener is there
  const { parentPort } = await import('node:worker_threads');
  parentPort.on('message', (m) => receive(m, (a) => parentPort.postMessage(a)));
} else {
  // set before the module finishes evaluating (no await on this path), so no message is missed
  self.onmessage = (e) => receive(e.data, (a) => self.postMessage(a));
}
