// Shared paths and helpers of the JS tests (node --test tests/js/).
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const NATIVE = path.join(ROOT, 'build/stele');
export const CLI = path.join(ROOT, 'src/js/cli.js');
export const WASM = path.join(ROOT, 'dist/stele.wasm');
export const TOL = 1e-4;

export const modelPath = (name) => path.join(ROOT, 'models', name, 'model.safetensors');
// STELE_GOLDEN_DIR overrides tests/golden (as STELE_SHIPPED_ROOT does for the C test).
export const goldenOutputs = (name) =>
  path.join(process.env.STELE_GOLDEN_DIR || path.join(ROOT, 'tests/golden'), `${name}.outputs.jsonl`);
export const TEST_SPLIT = {
  dates: path.join(ROOT, 'build/corpus/dates/test.src'),
  'ui-en-fr': path.join(ROOT, 'build/corpus/ui-en-fr/test.en'),
};
export const SHIPPED = ['dates', 'ui-en-fr', 'ui-en-fr-int8'].filter((m) => existsSync(modelPath(m)));
// The small model the API tests run on (any shipped one works; dates is the fastest).
export const SMALL_MODEL = existsSync(modelPath('dates')) ? modelPath('dates') : modelPath('ui-en-fr');

export function readJsonl(file) {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.error) throw r.error;
  return r;
}

/** The tensors of a safetensors file: { name: { shape, data: typed array } }, __metadata__. */
export function readTensors(file) {
  const b = readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  const h = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
  const TYPES = { U8: Uint8Array, I32: Int32Array, F32: Float32Array, F64: Float64Array };
  const out = { __metadata__: h.__metadata__ ?? {} };
  for (const [k, v] of Object.entries(h)) {
    if (k === '__metadata__') continue;
    const [s, e] = v.data_offsets;
    const bytes = b.subarray(8 + n + s, 8 + n + e);
    out[k] = { shape: v.shape, data: new TYPES[v.dtype](bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
  }
  return out;
}
