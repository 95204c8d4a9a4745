// Soak test of the JS API (make soak; not part of make test): SOAK_N translations (default
// 100,000) with the dates model through one Translator, cycling through the 2,000 golden test
// sources (tests/golden/dates.outputs.jsonl), beam 1 and 5 alternating. A first pass over the
// sources records each output; every later one must give the same text. The process RSS, the
// V8 heap and the wasm memory are printed every SOAK_EVERY translations (default 10,000) as a
// table, and the run fails when the wasm memory grows after the first pass (wasm memory never
// shrinks, so any growth after the warm-up is kept for good) or the RSS grows by more than
// SOAK_RSS_SLACK_MB (default 32: V8 and the allocator settle for a while).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Translator } from '../../src/js/stele.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const N = Number(process.env.SOAK_N ?? 100000);
const EVERY = Number(process.env.SOAK_EVERY ?? 10000);
const SLACK = Number(process.env.SOAK_RSS_SLACK_MB ?? 32) * 2 ** 20;
const srcs = readFileSync(path.join(ROOT, 'tests/golden/dates.outputs.jsonl'), 'utf8')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l).src);
const opts = (i) => ({ beam: i % 2 ? 5 : 1 });

const t = await Translator.load(path.join(ROOT, 'models/dates/model.safetensors'));
const first = [];
for (let i = 0; i < 2 * srcs.length; i++) first[i] = t.translate(srcs[i % srcs.length], opts(i)).text;

const mb = (b) => (b / 2 ** 20).toFixed(1);
const sample = (done, t0) => {
  const m = process.memoryUsage();
  return { done, rss: m.rss, heap: m.heapUsed, wasm: t.info.wasmMemoryBytes, s: (performance.now() - t0) / 1000 };
};
const rows = [];
const print = (r) => console.log(`| ${String(r.done).padStart(7)} | ${mb(r.rss).padStart(7)} | ` +
  `${mb(r.heap).padStart(7)} | ${mb(r.wasm).padStart(7)} | ${r.s.toFixed(1).padStart(7)} |`);
console.log(`soak (JS API): ${N} translations of the dates model, ${srcs.length} distinct sources, ` +
  'beam 1 and 5 alternating; outputs compared with a first pass');
console.log('| done | RSS MiB | V8 heap used MiB | wasm memory MiB | seconds |');
console.log('|---:|---:|---:|---:|---:|');
const t0 = performance.now();
rows.push(sample(0, t0));
print(rows[0]);
let mismatches = 0;
const k = 2 * srcs.length;
for (let i = 0; i < N; i++) {
  const out = t.translate(srcs[i % srcs.length], opts(i)).text;
  if (out !== first[i % k] && mismatches++ < 5)
    console.log(`MISMATCH at ${i}: ${JSON.stringify(srcs[i % srcs.length])} -> ${out} (first pass: ${first[i % k]})`);
  if ((i + 1) % EVERY === 0) {
    rows.push(sample(i + 1, t0));
    print(rows.at(-1));
  }
}
t.dispose();
const a = rows[0], z = rows.at(-1);
console.log(`${N} translations in ${z.s.toFixed(1)} s (${(N / z.s).toFixed(0)}/s); mismatches: ${mismatches}; ` +
  `RSS ${mb(a.rss)} -> ${mb(z.rss)} MiB (max ${mb(Math.max(...rows.map((r) => r.rss)))}), ` +
  `wasm ${mb(a.wasm)} -> ${mb(z.wasm)} MiB`);
const fails = [];
if (mismatches) fails.push(`${mismatches} outputs differ from the first pass`);
if (z.wasm !== a.wasm) fails.push('the wasm memory grew after the first pass');
if (Math.max(...rows.map((r) => r.rss)) - a.rss > SLACK) fails.push(`the RSS grew by more than ${mb(SLACK)} MiB`);
if (fails.length) {
  console.log(`soak (JS API) FAILED: ${fails.join('; ')}`);
  process.exitCode = 1;
}
