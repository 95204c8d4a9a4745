// The wasm heap of one Translator (issue 14: one int8 translator within 15 MB): the module starts
// small and grows to what the model and the session need (src/wasm/wasm.mk), and the session's
// buffers follow the limits. Each Translator has its own wasm instance, so info.wasmMemoryBytes
// is that translator's whole heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Translator } from '../../src/js/stele.js';
import { modelPath } from './common.js';

const INT8 = modelPath('ui-en-fr-int8');
const SHORT = { maxSourceTokens: 128, maxTargetTokens: 256, maxBeam: 8, maxTextBytes: 8192 };

async function heapOf(file, limits) {
  const t = await Translator.load(new Uint8Array(readFileSync(file)), limits ? { limits } : {});
  try {
    t.translate('Open the file', { beam: 5 });
    return t.info.wasmMemoryBytes;
  } finally {
    t.dispose();
  }
}

test('one int8 translator with short-string limits fits in 15 MB of wasm heap', { skip: !existsSync(INT8) && 'no ui-en-fr-int8' }, async () => {
  const file = statSync(INT8).size;
  const short = await heapOf(INT8, SHORT);
  const defaults = await heapOf(INT8);
  assert.ok(short <= 15e6, `heap ${short} bytes with limits ${JSON.stringify(SHORT)}`);
  // the heap holds the model's bytes (the engine reads the weights in place) and no more than a
  // few MB besides: a start size or growth policy that reserves far beyond need would show here
  assert.ok(short > file && short - file < 8e6, `heap ${short} bytes for a ${file}-byte model`);
  // the session follows its limits: the attention history alone shrinks 8x (target 2x, beam 2x,
  // source 2x), 8.4 MB -> 1 MB
  assert.ok(defaults - short > 7e6, `defaults ${defaults} bytes, short-string limits ${short}`);
});

test('a small model does not pay for a large initial memory', async () => {
  const file = modelPath('dates');
  if (!existsSync(file)) return;
  const heap = await heapOf(file, SHORT);
  assert.ok(heap < 8e6, `dates with short-string limits: ${heap} bytes of wasm heap`);
});
