// A runtime without WebAssembly SIMD128 gets a SteleError that says so (simulated by making
// WebAssembly.validate reject everything before stele.js is imported; this file runs in its own
// process under node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMALL_MODEL } from './common.js';

test('no SIMD128: STELE_ERR_NO_SIMD with a clear message', async () => {
  const validate = WebAssembly.validate;
  WebAssembly.validate = () => false;
  try {
    const { Translator, SteleError, simdSupported } = await import('../../src/js/stele.js');
    assert.equal(simdSupported(), false);
    await assert.rejects(Translator.load(SMALL_MODEL), (e) =>
      e instanceof SteleError && e.code === 'STELE_ERR_NO_SIMD' && /SIMD128/.test(e.message));
  } finally {
    WebAssembly.validate = validate;
  }
});
