// One engine in a fresh Node process (spawned by run.mjs): cold load (runtime initialisation +
// model bytes in memory -> ready), then N_GREEDY greedy and N_BEAM beam-5 translations; prints
// { load_cold_ms, peak_rss_mb, wasm_heap_mb }. The wasm heap is the size of every
// WebAssembly.Memory the process created or instantiated (memories never shrink: final = peak).
//
//   node scripts/bench/mem.mjs ENGINE|none MODEL WORK N_GREEDY N_BEAM
import fs from 'node:fs';
import path from 'node:path';

const memories = new Set();
const track = (inst) => {
  const x = inst?.exports ?? inst?.instance?.exports;
  if (x) for (const v of Object.values(x)) if (v instanceof WebAssembly.Memory) memories.add(v);
  return inst;
};
const origInstantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (...a) => track(await origInstantiate.apply(WebAssembly, a));
const OrigMemory = WebAssembly.Memory;
WebAssembly.Memory = function Memory(d) {
  const m = new OrigMemory(d);
  memories.add(m);
  return m;
};
WebAssembly.Memory.prototype = OrigMemory.prototype;
const OrigInstance = WebAssembly.Instance;
WebAssembly.Instance = function Instance(m, i) {
  return track(new OrigInstance(m, i));
};
WebAssembly.Instance.prototype = OrigInstance.prototype;

const [engine, modelPath, work, ng, nb] = process.argv.slice(2);
const texts = fs.readFileSync(path.join(work, 'sentences.txt'), 'utf8').split('\n');
const ids = JSON.parse(fs.readFileSync(path.join(work, 'src_ids.json'), 'utf8')).map((a) => Int32Array.from(a));
const modelBytes = new Uint8Array(fs.readFileSync(modelPath));
const out = {};
if (engine !== 'none') {
  const { greedy, beam } = await import('./search.mjs');
  const peers = await import('./peers.mjs');
  let translate;
  if (engine.endsWith('-workers')) {   // stele-wasm-workers, stele-wasm-int8-workers
    // a TranslatorPool of MEM_WORKERS workers: threads of this process, so VmHWM counts them
    const { TranslatorPool } = await import('stele');
    const t0 = performance.now();
    const pool = await TranslatorPool.load(modelBytes, { threads: Number(process.env.MEM_WORKERS || 2) });
    out.load_cold_ms = performance.now() - t0;
    // the workers' memories are in their threads, out of reach of the hooks above: each
    // worker's heap once loaded (info), times the workers
    out.workers_heap_bytes = pool.info.wasmMemoryBytes * pool.threads;
    translate = async (i, b) => (await pool.translateBatch([texts[i]],
      { beam: b, nbest: 1, alpha: 0.2, beta: 0, protect: false, normalize: false }))[0];
  } else if (engine.startsWith('stele-wasm')) {
    // MODEL is this engine's model file; MEM_STELE_OPTS its extra translate options (run.mjs)
    const opts = JSON.parse(process.env.MEM_STELE_OPTS || '{}');
    const { Translator } = await import('stele');
    const t0 = performance.now();
    const t = await Translator.load(modelBytes);
    out.load_cold_ms = performance.now() - t0;
    translate = (i, b) => t.translate(texts[i], { beam: b, nbest: 1, alpha: 0.2, beta: 0, protect: false, normalize: false, ...opts });
  } else {
    const st = peers.readSafetensors(modelBytes);
    const cfg = st.config;
    const p = { V: cfg.tgt_vocab, eos: cfg.eos_id, bos: cfg.bos_id, alpha: 0.2, beta: 0, nbest: 1,
      lenA: Number(process.env.MEM_LEN_A), lenB: Number(process.env.MEM_LEN_B) };
    let e;
    if (engine.startsWith('onnxruntime-web')) {
      const ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = 1;
      const sfx = engine === 'onnxruntime-web-int8' ? '_int8' : '';   // scripts/bench/quantize_onnx.py
      const enc = new Uint8Array(fs.readFileSync(path.join(work, `encoder${sfx}.onnx`)));
      const dec = new Uint8Array(fs.readFileSync(path.join(work, `decoder_step${sfx}.onnx`)));
      const t1 = performance.now();
      e = await peers.ortEngine(ort, enc, dec, cfg);
      out.load_cold_ms = performance.now() - t1;
    } else {
      const tf = await import('@tensorflow/tfjs');
      await import('@tensorflow/tfjs-backend-wasm');
      const t1 = performance.now();
      await tf.setBackend('wasm');
      await tf.ready();
      e = peers.tfjsEngine(tf, peers.readSafetensors(modelBytes));
      out.load_cold_ms = performance.now() - t1;
    }
    translate = async (i, b) => (b === 1 ? greedy(e, ids[i], p) : beam(e, ids[i], { ...p, beam: b }));
  }
  for (let i = 0; i < Number(ng); i++) await translate(i, 1);
  for (let i = 0; i < Number(nb); i++) await translate(i, 5);
}
// VmHWM, not getrusage's maxRSS: Linux carries ru_maxrss over exec from the parent (the bench's
// own Node process), while VmHWM belongs to this process's address space.
const hwm = /VmHWM:\s*(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
out.peak_rss_mb = (hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS) / 1024;
out.wasm_heap_mb = ([...memories].reduce((s, m) => s + m.buffer.byteLength, 0) + (out.workers_heap_bytes ?? 0)) / 2 ** 20;
delete out.workers_heap_bytes;
process.stdout.write(JSON.stringify(out) + '\n');
