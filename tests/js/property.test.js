// Property test of the public JS API (fast-check): whatever is passed to translate(),
// translateBatch() and Translator.load() (strings with lone surrogates, NUL and huge lengths;
// options with known and unknown keys and values of every type; sparse arrays and non-strings;
// random bytes and truncated or corrupted real models), the call returns a result or throws a
// SteleError (with a STELE_ERR_* code and a message) or a TypeError, never anything else (a
// RangeError, a wasm trap, a plain Error), and the translator still translates as before.
// The wasm heap: each property runs twice with the same seed, so the second pass feeds exactly
// the inputs of the first; memory that grows in the second pass is a leak (or an unbounded
// cache), since the first pass already reached the high-water mark of those inputs.
//
// FC_RUNS=N scales the case counts (default: a few seconds in all); FC_SEED=S replays a seed.
// Each property prints its case count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Translator, SteleError } from '../../src/js/stele.js';
import { SMALL_MODEL } from './common.js';

const RUNS = Number(process.env.FC_RUNS ?? 0);
const runs = (def) => (RUNS > 0 ? RUNS : def);
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() | 0;
const MODEL_BYTES = new Uint8Array(readFileSync(SMALL_MODEL));

// A thrown value is acceptable when it is a TypeError or a well-formed SteleError.
function checkThrown(e) {
  if (e instanceof TypeError && e.constructor === TypeError) return;
  if (e instanceof SteleError) {
    assert.match(e.code, /^STELE_ERR_[A-Z_]+$/, `code ${e.code}`);
    assert.ok(typeof e.message === 'string' && e.message.length > 0, 'a SteleError without a message');
    return;
  }
  assert.fail(`threw ${e?.constructor?.name}: ${e?.message ?? e}`);
}

// (String.prototype.isWellFormed needs Node 20; the package supports 18.)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkResult(r) {
  assert.equal(typeof r, 'object');
  assert.equal(typeof r.text, 'string');
  assert.ok(Array.isArray(r.nbest) && r.nbest.length >= 1);
}

// ---------------------------------------------------------------- generators

// UTF-16 code units of every kind: ASCII, NUL and controls, surrogates (so lone ones), U+2581,
// CJK, and whole astral characters.
const wellFormedUnit = fc.oneof(
  { arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), weight: 12 },
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\u2581', ' ', '\u00a0', '\u3000', '\ufeff', '\ufffd', '\u00e9', '\u4e2d'),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
);
const unit = fc.oneof({ arbitrary: wellFormedUnit, weight: 30 },
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)));
const smallText = fc.oneof({ arbitrary: fc.string({ unit: wellFormedUnit, maxLength: 40 }), weight: 3 },
  fc.string({ unit, maxLength: 40 }));
const text = fc.oneof(
  { arbitrary: smallText, weight: 8 },
  fc.string({ unit: 'binary', maxLength: 60 }),
  // Huge: around and far over the default 65,536-byte limit (refused before any work).
  fc.tuple(fc.constantFrom('x', '1 ', '\u00e9', '\ud83d\ude00', '\u0000'),
    fc.constantFrom(16384, 65535, 65536, 70000, 1 << 20)).map(([s, n]) => s.repeat(Math.ceil(n / s.length))),
);

const anyValue = fc.oneof(
  fc.integer({ min: -3, max: 20 }),
  fc.integer(),
  fc.constantFrom(0, -0, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, -(2 ** 31) - 1, 1e308),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 4 }),
  fc.constantFrom(null, undefined, {}, [], () => 1, Symbol('s'), 10n),
);
const optionKey = fc.oneof(
  { arbitrary: fc.constantFrom('beam', 'nbest', 'alpha', 'beta', 'maxLength', 'batchSize'), weight: 6 },
  fc.constantFrom('nBest', 'limits', '__proto__', 'constructor', 'toString', ''),
  fc.string({ maxLength: 6 }),
);
// Mostly valid search options (so that real translations run), then anything.
const searchOptions = {
  beam: fc.integer({ min: 1, max: 16 }),
  nbest: fc.integer({ min: 1, max: 4 }),
  alpha: fc.double({ min: 0, max: 2, noNaN: true }),
  beta: fc.double({ min: 0, max: 1, noNaN: true }),
  maxLength: fc.integer({ min: 1, max: 80 }),
};
const optionsOf = (valid) => fc.oneof(
  { arbitrary: fc.record(valid, { requiredKeys: [] }), weight: 4 },
  { arbitrary: fc.dictionary(optionKey, anyValue, { maxKeys: 4 }), weight: 3 },
  fc.constantFrom(undefined, null, 0, 'beam', [], [1], true),
);
const options = optionsOf(searchOptions);
const batchOptions = optionsOf({ ...searchOptions, batchSize: fc.integer({ min: 1, max: 12 }) });

// Arrays of texts and non-strings; some made sparse (holes) or longer than their contents.
const entry = fc.oneof({ arbitrary: smallText, weight: 8 }, text, anyValue);
const texts = fc.tuple(fc.array(entry, { maxLength: 12 }), fc.integer({ min: 0, max: 3 }),
  fc.nat(20)).map(([a, how, k]) => {
  if (how === 1 && a.length) delete a[k % a.length];   // a hole
  if (how === 2) a.length += 1 + (k % 3);                // trailing holes
  return a;
});

// ---------------------------------------------------------------- properties

// Outcomes per property (printed: a property whose cases all throw tests little).
const tally = { ok: 0, SteleError: 0, TypeError: 0 };
function call(fn) {
  try {
    const value = fn();
    tally.ok++;
    return { ok: true, value };
  } catch (e) {
    checkThrown(e);
    tally[e.constructor.name]++;
    return { ok: false, error: e };
  }
}

// Runs `property` twice with one seed; the wasm memory must not grow in the second pass, and a
// canary translation must give its first output after every case.
async function twice(name, t, arb, body, numRuns) {
  const canary = t.translate('1 janvier 2000').text;
  Object.keys(tally).forEach((k) => { tally[k] = 0; });
  const pass = () => fc.assert(fc.property(arb, (v) => {
    body(v);
    assert.equal(t.translate('1 janvier 2000').text, canary, 'the translator changed');
  }), { numRuns, seed: SEED });
  pass();
  const afterFirst = t.info.wasmMemoryBytes;
  pass();
  const afterSecond = t.info.wasmMemoryBytes;
  console.log(`${name}: ${numRuns} cases x 2 passes (seed ${SEED}); wasm memory ${afterFirst} bytes ` +
    `after the first pass, ${afterSecond} after the second; calls: ${tally.ok} returned, ` +
    `${tally.SteleError} SteleError, ${tally.TypeError} TypeError`);
  assert.equal(afterSecond, afterFirst, 'the wasm memory grew in the second, identical pass');
}

test('translate(): a result, a SteleError or a TypeError; no heap growth', async () => {
  const t = await Translator.load(SMALL_MODEL);
  try {
    await twice('translate', t, fc.tuple(fc.oneof({ arbitrary: text, weight: 9 }, anyValue), options),
      ([s, o]) => {
        const r = call(() => t.translate(s, o));
        if (r.ok) checkResult(r.value);
        // A text that the engine accepted is a string without lone surrogates.
        if (r.ok) assert.ok(typeof s === 'string' && !LONE_SURROGATE.test(s));
      }, runs(300));
  } finally {
    t.dispose();
  }
});

test('translateBatch(): results in order, a SteleError or a TypeError; no heap growth', async () => {
  const t = await Translator.load(SMALL_MODEL);
  try {
    await twice('translateBatch', t, fc.tuple(fc.oneof({ arbitrary: texts, weight: 9 }, anyValue),
      batchOptions), ([a, o]) => {
      const r = call(() => t.translateBatch(a, o));
      if (!r.ok) return;
      assert.ok(Array.isArray(r.value) && r.value.length === a.length);
      r.value.forEach(checkResult);
      // Same outputs as one by one (the batched greedy path must not mix sentences up).
      const { batchSize: _, ...rest } = o ?? {};
      const one = call(() => a.map((s) => t.translate(s, rest)));
      if (one.ok) assert.deepEqual(r.value.map((x) => x.text), one.value.map((x) => x.text));
    }, runs(100));
  } finally {
    t.dispose();
  }
});

test('Translator.load(): random, truncated and corrupted models load or throw a SteleError', async () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    // A real header length in front of random bytes: the JSON parser sees them.
    fc.uint8Array({ maxLength: 200 }).map((b) => {
      const out = new Uint8Array(8 + b.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(b.length), true);
      out.set(b, 8);
      return out;
    }),
    fc.nat(MODEL_BYTES.length).map((n) => MODEL_BYTES.slice(0, n)),
    fc.tuple(fc.nat(MODEL_BYTES.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(3))
      .map(([at, x, k]) => {
        const b = MODEL_BYTES.slice();
        for (let i = 0; i <= k; i++) b[(at + i * 977) % b.length] ^= x;
        return b;
      }),
  );
  const source = fc.oneof({ arbitrary: bytes, weight: 9 }, anyValue,
    fc.constantFrom('no-such-model', '/nonexistent/model.safetensors', 'dates/../x'));
  const limits = fc.oneof(fc.constant(undefined),
    fc.record({ limits: fc.dictionary(fc.constantFrom('maxSourceTokens', 'maxTargetTokens',
      'maxBeam', 'maxTextBytes', 'other'), anyValue, { maxKeys: 2 }) }));
  const n = runs(60);
  let loaded = 0, refused = 0;
  await fc.assert(fc.asyncProperty(source, limits, async (src, o) => {
    let t;
    try {
      t = await Translator.load(src, o);
    } catch (e) {
      checkThrown(e);
      refused++;
      return;
    }
    loaded++;
    try {
      // A corrupted model may still load (a flipped weight bit): it must then translate or
      // refuse, like any other.
      const r = call(() => t.translate('1 janvier 2000'));
      if (r.ok) checkResult(r.value);
    } finally {
      t.dispose();
    }
  }), { numRuns: n, seed: SEED });
  console.log(`Translator.load: ${n} cases (seed ${SEED}): ${loaded} loaded, ${refused} refused`);
});
