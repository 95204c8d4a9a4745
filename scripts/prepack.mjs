#!/usr/bin/env node
// npm "prepack": refuses to pack when dist/stele.wasm is missing or older than a source it is
// built from, because such a package installs fine and then fails at the first
// Translator.load(). The sources are those of the wasm build (src/wasm/wasm.mk): src/*.c but the
// native-only cli.c and kernels_avx2.c, src/*.h and src/wasm/*. Paths are relative to this
// script, so a staged copy of the package is checked, not the working directory. Where no
// sources are present (a copy holding only the package's files) only the wasm's presence is
// checked. Exit 1 with a message naming the problem; `npm pack --ignore-scripts` skips it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WASM = 'dist/stele.wasm';
const NATIVE_ONLY = new Set(['cli.c', 'kernels_avx2.c']);

function list(dir, keep) {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true })
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => path.join(dir, e.name));
}

function refuse(why) {
  process.stderr.write(`prepack: ${why}\n` +
    'prepack: run `make wasm` (emscripten; `make demo` installs it) before `npm pack`: a package ' +
    'without an up-to-date dist/stele.wasm installs but cannot translate.\n');
  process.exit(1);
}

const wasm = path.join(ROOT, WASM);
if (!existsSync(wasm)) refuse(`${WASM} is missing`);
const built = statSync(wasm).mtimeMs;
const sources = [
  ...list('src', (n) => (n.endsWith('.c') && !NATIVE_ONLY.has(n)) || n.endsWith('.h')),
  ...list('src/wasm', () => true),
];
const newer = sources.filter((f) => statSync(path.join(ROOT, f)).mtimeMs > built);
if (newer.length)
  refuse(`${WASM} is older than ${newer.length} of its sources (${newer.slice(0, 5).join(', ')}` +
    `${newer.length > 5 ? ', ...' : ''})`);
process.stderr.write(`prepack: ${WASM} is newer than its ${sources.length} sources\n`);
