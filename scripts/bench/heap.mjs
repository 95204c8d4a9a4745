// The wasm heap (WebAssembly.Memory size, which never shrinks) of one Translator per shipped
// text model and per set of session limits: the engine's defaults, and limits sized for short
// strings. Each measurement is a fresh Node process (one wasm instance each), after loading the
// model, creating the session and translating one sentence with beam 5.
//
//   node scripts/bench/heap.mjs [MODEL ...]     (default: ui-en-fr ui-en-fr-int8 dates)
//
// Prints a markdown table. What fills the heap is the model file's bytes (the C model borrows
// them), the tokenizer's tables, and the session's buffers, which are sized by the limits: the
// attention history alone is maxTargetTokens x maxBeam x maxSourceTokens floats.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const LIMITS = {
  'defaults': null,
  'short strings': { maxSourceTokens: 128, maxTargetTokens: 256, maxBeam: 8, maxTextBytes: 8192 },
};

if (process.argv[2] === '--one') {   // the child: one model, one set of limits
  const { Translator } = await import('stele');
  const limits = JSON.parse(process.argv[4]);
  const t = await Translator.load(new Uint8Array(fs.readFileSync(process.argv[3])), limits ? { limits } : {});
  t.translate('Open the file', { beam: 5 });
  process.stdout.write(JSON.stringify({ heap: t.info.wasmMemoryBytes, file: fs.statSync(process.argv[3]).size,
    limits: t.info.limits }));
  t.dispose();
} else {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const names = process.argv.length > 2 ? process.argv.slice(2) : ['ui-en-fr', 'ui-en-fr-int8', 'dates'];
  const mb = (b) => (b / 1e6).toFixed(1);
  const lines = ['| model | file MB | limits (source, target, beam, text bytes) | wasm heap MB |', '|---|---:|---|---:|'];
  for (const name of names) {
    const file = `${root}models/${name}/model.safetensors`;
    if (!fs.existsSync(file)) { console.error(`heap: no ${file}, skipped`); continue; }
    for (const [label, limits] of Object.entries(LIMITS)) {
      const r = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--one', file,
        JSON.stringify(limits)], { encoding: 'utf8' }));
      const l = r.limits;
      lines.push(`| ${name} | ${mb(r.file)} | ${label}: ${l.maxSourceTokens}, ${l.maxTargetTokens}, ${l.maxBeam}, ` +
        `${l.maxTextBytes} | ${mb(r.heap)} |`);
    }
  }
  console.log(lines.join('\n'));
}
