// The engine's thread: the page's only user of the package's ESM API (src/js/stele.js, served
// at /src/js/ by scripts/serve.mjs; no copy of it lives in web/). The page never blocks on a
// download, a compile or a translation.
//
// Messages in:  { type: 'load', model }                      model: a name under /models/
//               { type: 'translate', id, text, beam, nbest }
// Messages out: { type: 'progress', loaded, total }
//               { type: 'ready', model, ms, info, defaults }
//               { type: 'result', id, ms, result }
//               { type: 'error', id?, phase, code, message }  phase: 'load' | 'translate'
import { Translator, SteleError, simdSupported } from '../src/js/stele.js';

let translator = null;
let loading = null;
let generation = 0;   // a newer load supersedes one still downloading

const modelUrl = (name) => new URL(`../models/${encodeURIComponent(name)}/model.safetensors`, import.meta.url);

function fail(phase, e, id) {
  const code = e instanceof SteleError ? e.code : (e?.name || 'Error');
  postMessage({ type: 'error', phase, id, code, message: String(e?.message ?? e) });
}

async function load(model) {
  const gen = ++generation;
  translator?.dispose();
  translator = null;
  const t0 = performance.now();
  if (!simdSupported()) {
    fail('load', new SteleError('STELE_ERR_NO_SIMD', 'this browser does not support WebAssembly ' +
      'SIMD128, which stele needs (Chrome/Edge 91+, Firefox 89+, Safari 16.4+)'));
    return;
  }
  try {
    let last = 0;
    const t = await Translator.load(modelUrl(model), {
      limits: { maxTextBytes: 2000 },
      onProgress: ({ loaded, total }) => {
        const now = performance.now();
        if (now - last > 30 || loaded === total) {
          last = now;
          postMessage({ type: 'progress', loaded, total });
        }
      },
    });
    if (gen !== generation) return t.dispose();
    translator = t;
    const i = t.info;
    postMessage({
      type: 'ready', model, ms: performance.now() - t0, defaults: t.defaults,
      info: { name: i.name, parameters: i.parameters, modelBytes: i.modelBytes, kernels: i.kernels,
        vocabSize: i.vocabSize, limits: i.limits, config: i.config },
    });
  } catch (e) {
    if (gen === generation) fail('load', e);
  }
}

onmessage = async ({ data }) => {
  if (data.type === 'load') {
    const p = (loading = load(data.model));
    await p;
    if (loading === p) loading = null;
  } else if (data.type === 'translate') {
    if (loading) await loading;
    if (!translator) return fail('translate', new SteleError('STELE_ERR_ARGUMENT', 'no model is loaded'), data.id);
    try {
      const t0 = performance.now();
      const result = translator.translate(data.text, { beam: data.beam, nbest: data.nbest });
      postMessage({ type: 'result', id: data.id, ms: performance.now() - t0, result });
    } catch (e) {
      fail('translate', e, data.id);
    }
  }
};
