// Sentences/s on a test split with 1 and 2 (THREADS) workers: the JS TranslatorPool and the native
// CLI's --threads, greedy one by one, greedy batched and beam 5; the pool's chunk sizes compared
// (the queue's default, and contiguous shares: one chunk per worker). Every pass's outputs are
// checked equal to the 1-worker pass's. Runs are interleaved (1, 2, 1, 2, ...) so that the
// drift of a shared machine hits both; medians and min-max of REPS; the load average before
// and after is printed with the results, since other processes take cores from the workers, and
// so is the speedup of an ideal job under the same conditions ("cpu": a fixed amount of
// arithmetic split over 1 and THREADS worker threads, nothing shared), measured in every
// repetition: what the machine gave a second thread while the passes ran. And the CPU time of
// each pass (all threads of the Node process for the pool, the child's user + system time for
// the native CLI): with as much CPU time for 2 workers as for 1, the work itself scales and only
// the cores the machine gives are missing; more CPU time means the workers slow each other down
// (two copies of the weights competing for the caches and memory bandwidth, for instance).
//   node scripts/bench/workers.mjs                 MODEL=ui-en-fr, build/corpus/ui-en-fr/test.en
// Environment: MODEL (name or .safetensors path), TEXTS (one sentence a line), SENTENCES (first
// N; default all), REPS (default 3), THREADS (default 2), BATCH (greedy batch; default 16),
// PASSES (comma list of greedy,batch,beam5; default all), ENGINES (js,native; default both),
// STELE (the native CLI; default build/stele), OUT (JSON results; default build/bench/workers.json).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Worker } from 'node:worker_threads';
import { TranslatorPool } from '../../src/js/stele.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const env = process.env;
const MODEL = env.MODEL || 'ui-en-fr';
const MODEL_PATH = /\.safetensors$/.test(MODEL) ? MODEL : path.join(ROOT, 'models', MODEL, 'model.safetensors');
const TEXTS = env.TEXTS || path.join(ROOT, 'build/corpus/ui-en-fr/test.en');
const REPS = Math.max(1, Number(env.REPS || 3));
const THREADS = Math.max(2, Number(env.THREADS || 2));
const BATCH = Math.max(1, Number(env.BATCH || 16));
const PASSES = (env.PASSES || 'greedy,batch,beam5').split(',');
const ENGINES = (env.ENGINES || 'js,native').split(',');
const STELE = env.STELE || path.join(ROOT, 'build/stele');
const OUT = env.OUT || path.join(ROOT, 'build/bench/workers.json');

let texts = fs.readFileSync(TEXTS, 'utf8').split('\n');
if (texts.at(-1) === '') texts.pop();
if (env.SENTENCES) texts = texts.slice(0, Number(env.SENTENCES));
const N = texts.length;
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
const log = (...a) => console.log(...a);

// raw text, as make bench runs the engines
const RAW = { alpha: 0.2, beta: 0, protect: false, normalize: false };
const PASS = {
  greedy: { js: { ...RAW, beam: 1, batchSize: 1 }, native: ['--beam', '1'] },
  batch: { js: { ...RAW, beam: 1, batchSize: BATCH }, native: ['--beam', '1', '--batch', String(BATCH)] },
  beam5: { js: { ...RAW, beam: 5 }, native: ['--beam', '5'] },
};

const results = { date: new Date().toISOString(), cpu: os.cpus()[0]?.model, cores: os.cpus().length,
  model: MODEL_PATH, texts: TEXTS, sentences: N, reps: REPS, threads: THREADS, batch: BATCH,
  load_before: load(), runs: {}, cpu_seconds: {} };
log(`${N} sentences of ${TEXTS}, ${MODEL_PATH}; ${os.cpus().length} x ${os.cpus()[0]?.model}; load average ${results.load_before}`);

function record(key, seconds, cpuSeconds) {
  (results.runs[key] ??= []).push(seconds);
  if (cpuSeconds !== undefined) (results.cpu_seconds[key] ??= []).push(cpuSeconds);
}

// The ideal job: SPIN iterations of arithmetic split over n worker threads; seconds.
const SPIN = 3e8;
async function cpuJob(n) {
  const code = `const { parentPort, workerData } = require('node:worker_threads');
    let x = 0; for (let i = 0; i < workerData; i++) x += (i & 7) * 1e-9; parentPort.postMessage(x);`;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: SPIN / n });
    w.on('message', resolve);
    w.on('error', reject);
  })));
  return (performance.now() - t0) / 1000;
}
async function calibrate() {
  for (const n of [1, THREADS]) record(`cpu ideal ${n}`, await cpuJob(n));
}

if (ENGINES.includes('js')) {
  const pools = {};
  for (const n of [1, THREADS]) pools[n] = await TranslatorPool.load(MODEL_PATH, { threads: n });
  for (const pass of PASSES) {
    const o = PASS[pass].js;
    // variants: [label, threads, chunkSize]: the queue's default chunks, and contiguous shares
    const variants = [[`js ${pass} 1`, 1, undefined], [`js ${pass} ${THREADS}`, THREADS, undefined],
      [`js ${pass} ${THREADS} contiguous`, THREADS, Math.ceil(N / THREADS)]];
    const ref = await pools[1].translateBatch(texts, o);   // warm-up, and the outputs to match
    for (const [, n, chunkSize] of variants.slice(1)) {
      const got = await pools[n].translateBatch(texts, { ...o, chunkSize });
      if (!isDeepStrictEqual(got, ref)) throw new Error(`js ${pass}: ${n} workers (chunkSize ${chunkSize}) differ from 1`);
    }
    for (let rep = 0; rep < REPS; rep++) {
      for (const [label, n, chunkSize] of variants) {
        const t0 = performance.now(), c0 = process.cpuUsage();
        await pools[n].translateBatch(texts, { ...o, chunkSize });
        const c = process.cpuUsage(c0);
        record(label, (performance.now() - t0) / 1000, (c.user + c.system) / 1e6);
      }
      await calibrate();
      log(`${pass} rep ${rep + 1}: ` + variants.map(([l]) => `${l} ${results.runs[l].at(-1).toFixed(2)} s`).join(', ') + `; load ${load()}`);
    }
  }
  for (const p of Object.values(pools)) p.dispose();
}

if (ENGINES.includes('native')) {
  const input = texts.join('\n') + '\n';
  // through /usr/bin/time for the child's CPU time (its last stderr line)
  const native = (args) => {
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', STELE, 'translate', '-m', MODEL_PATH, '--no-protect',
      '--no-normalize', '--json', ...args], { input, maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`${STELE} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    const [u, sys] = r.stderr.toString().trim().split('\n').at(-1).split(' ').map(Number);
    return { s: (performance.now() - t0) / 1000, cpu: u + sys, out: r.stdout.toString() };
  };
  for (const pass of PASSES) {
    const a = PASS[pass].native;
    const ref = native(a).out;
    // --json: every score, so equal means bit for bit (for the batch pass, on the AVX2 kernels a
    // sentence's scores depend on its batch neighbours: compared as texts there)
    const text = (s) => s.split('\n').map((l) => (l ? JSON.parse(l).text : l)).join('\n');
    const got = native([...a, '--threads', String(THREADS)]).out;
    if (pass === 'batch' ? text(got) !== text(ref) : got !== ref)
      throw new Error(`native ${pass}: --threads ${THREADS} output differs from one thread`);
    for (let rep = 0; rep < REPS; rep++) {
      for (const n of [1, THREADS]) {
        const r = native([...a, '--threads', String(n)]);
        record(`native ${pass} ${n}`, r.s, r.cpu);
      }
      await calibrate();
      log(`${pass} rep ${rep + 1}: native 1 ${results.runs[`native ${pass} 1`].at(-1).toFixed(2)} s, ` +
        `native ${THREADS} ${results.runs[`native ${pass} ${THREADS}`].at(-1).toFixed(2)} s; load ${load()}`);
    }
  }
}

results.load_after = load();
results.summary = {};
log(`\n| pass | workers | sentences/s (median) | min-max | × 1 worker (medians) | CPU s (median) | CPU s ÷ 1 worker's |\n|---|---|---|---|---|---|---|`);
for (const [key, runs] of Object.entries(results.runs)) {
  const m = median(runs);
  const [engine, pass] = key.split(' ');
  const base = median(results.runs[`${engine} ${pass} 1`]);
  const cpu = results.cpu_seconds[key], cpuBase = results.cpu_seconds[`${engine} ${pass} 1`];
  results.summary[key] = { seconds: runs, sentences_per_s: N / m, speedup: base / m,
    ...(cpu ? { cpu_seconds: cpu, cpu_ratio: median(cpu) / median(cpuBase) } : {}) };
  const rate = (s) => (engine === 'cpu' ? `${(1 / s).toFixed(2)} jobs/s` : (N / s).toFixed(1));
  log(`| ${engine} ${pass} | ${key.split(' ').slice(2).join(' ')} | ${rate(m)} | ` +
    `${rate(Math.max(...runs))}-${rate(Math.min(...runs))} | ×${(base / m).toFixed(2)} | ` +
    `${cpu ? median(cpu).toFixed(2) : '–'} | ${cpu ? `×${(median(cpu) / median(cpuBase)).toFixed(2)}` : '–'} |`);
}
log(`load average before ${results.load_before}, after ${results.load_after}`);
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
log(`wrote ${OUT}`);
