// Soak test of the page (make soak; not part of make test): SOAK_PAGE_N translations (default
// 10,000) typed into web/ (dates model) in Debian's Chromium via playwright-core, as the e2e test
// does (fill, Enter, wait for the output of exactly that text), cycling through the first 500
// golden test sources; a first pass records each output text and later ones must match it.
// Every SOAK_PAGE_EVERY (default 1,000) it prints the renderer processes' RSS (from /proc: the
// page and its Web Worker, whose wasm memory lives there too), the page's JS heap (CDP
// Performance.getMetrics: the main thread's V8 heap, where the DOM updates happen) and the number
// of DOM nodes; after the last, a forced GC of the page and its worker and one more sample. Fails
// when an output differs, or when the renderer RSS or the JS heap after that GC is more than
// SOAK_PAGE_SLACK_MB (default 64) over the sample after the first pass (also taken after a GC).
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createStaticServer } from '../../scripts/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const N = Number(process.env.SOAK_PAGE_N ?? 10000);
const EVERY = Number(process.env.SOAK_PAGE_EVERY ?? 1000);
const SLACK = Number(process.env.SOAK_PAGE_SLACK_MB ?? 64) * 2 ** 20;
const srcs = readFileSync(path.join(ROOT, 'tests/golden/dates.outputs.jsonl'), 'utf8')
  .split('\n').filter(Boolean).slice(0, 500).map((l) => JSON.parse(l).src);

// RSS of every Chromium renderer process that descends from `root` (the browser's pid).
function rendererRss(root) {
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  let rss = 0;
  const walk = (pid) => {
    for (const k of kids.get(pid) ?? []) {
      try {
        if (readFileSync(`/proc/${k}/cmdline`, 'utf8').includes('--type=renderer')) {
          const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${k}/status`, 'utf8'));
          if (m) rss += Number(m[1]) * 1024;
        }
      } catch { /* gone */ }
      walk(k);
    }
  };
  walk(root);
  return rss;
}

const server = createStaticServer();
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;
const profile = mkdtempSync(path.join(tmpdir(), 'stele-soak-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.STELE_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(`${origin}/?model=dates`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
  // The browser process: the parent of the page's renderer, found through /proc.
  const browserPid = Number(execPidOf());
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const translate = async (text) => {
    await page.fill('#input', text);
    await page.press('#input', 'Enter');
    await page.waitForFunction((s) => document.getElementById('output').dataset.input === s &&
      document.body.dataset.busy === 'false', text, { timeout: 30_000 });
    return page.$eval('#output', (e) => e.textContent);
  };
  const first = [];
  for (const s of srcs) first.push(await translate(s));
  const mb = (b) => (b / 2 ** 20).toFixed(1);
  const sample = async (done, t0) => {
    const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
    return { done, rss: rendererRss(browserPid), heap: m.JSHeapUsedSize, total: m.JSHeapTotalSize,
      nodes: m.Nodes, s: (performance.now() - t0) / 1000 };
  };
  const print = (r) => console.log(`| ${String(r.done).padStart(6)} | ${mb(r.rss).padStart(7)} | ` +
    `${mb(r.heap).padStart(6)} | ${mb(r.total).padStart(6)} | ${String(r.nodes).padStart(6)} | ${r.s.toFixed(1).padStart(7)} |`);
  console.log(`soak (page): ${N} translations typed into the page (dates model, ${srcs.length} distinct ` +
    'sources) in Chromium; outputs compared with a first pass');
  console.log('| done | renderer RSS MiB | JS heap used MiB | JS heap total MiB | DOM nodes | seconds |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  await collectGarbage(cdp);   // the baseline is after a GC too (the same footing as the end)
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = performance.now();
  const rows = [await sample(0, t0)];
  print(rows[0]);
  let mismatches = 0;
  for (let i = 0; i < N; i++) {
    const out = await translate(srcs[i % srcs.length]);
    if (out !== first[i % srcs.length] && mismatches++ < 5)
      console.log(`MISMATCH at ${i}: ${srcs[i % srcs.length]} -> ${out} (first: ${first[i % srcs.length]})`);
    if ((i + 1) % EVERY === 0) {
      rows.push(await sample(i + 1, t0));
      print(rows.at(-1));
    }
  }
  // Then a full GC of the page and of its worker (CDP, the worker through the page's session):
  // the worker's and the page's JS heaps are tiny, so V8 rarely collects the ArrayBuffers that
  // each result brings (cloned by postMessage), and RSS grows with garbage; what stays after the
  // GC is what the check below counts.
  await collectGarbage(cdp);
  await new Promise((r) => setTimeout(r, 3000));
  const gc = await sample(N, t0);
  gc.label = 'after GC';
  rows.push(gc);
  console.log(`| after GC | ${mb(gc.rss)} | ${mb(gc.heap)} | ${mb(gc.total)} | ${gc.nodes} | ${gc.s.toFixed(1)} |`);
  const a = rows[0], z = rows.at(-1);
  console.log(`${N} page translations in ${z.s.toFixed(1)} s; mismatches ${mismatches}; page errors ` +
    `${problems.length}; renderer RSS ${mb(a.rss)} -> ${mb(z.rss)} MiB; JS heap ${mb(a.heap)} -> ${mb(z.heap)} MiB`);
  const fails = [];
  if (mismatches) fails.push(`${mismatches} outputs differ from the first pass`);
  if (problems.length) fails.push(`page errors: ${problems.slice(0, 3).join(' | ')}`);
  if (z.rss - a.rss > SLACK) fails.push(`renderer RSS grew by ${mb(z.rss - a.rss)} MiB`);
  if (z.heap - a.heap > SLACK) fails.push(`JS heap grew by ${mb(z.heap - a.heap)} MiB`);
  if (fails.length) {
    console.log(`soak (page) FAILED: ${fails.join('; ')}`);
    failed = true;
  }
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;

// HeapProfiler.collectGarbage on the page and on each of its dedicated workers.
async function collectGarbage(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { targetInfos } = await cdp.send('Target.getTargets');
  for (const w of targetInfos.filter((t) => t.type === 'worker')) {
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: w.targetId, flatten: false });
    await new Promise((resolve) => {
      const id = 1;
      const on = ({ sessionId: sid, message }) => {
        if (sid === sessionId && JSON.parse(message).id === id) {
          cdp.off('Target.receivedMessageFromTarget', on);
          resolve();
        }
      };
      cdp.on('Target.receivedMessageFromTarget', on);
      cdp.send('Target.sendMessageToTarget',
        { sessionId, message: JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }) });
    });
    await cdp.send('Target.detachFromTarget', { sessionId });
  }
}

// The pid of the Chromium browser process this script launched: the child of this process whose
// command line is the browser's (no --type= switch).
function execPidOf() {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes(profile) && !cmd.includes('--type=')) return d;
    } catch { /* gone */ }
  }
  throw new Error('soak: cannot find the Chromium browser process');
}
