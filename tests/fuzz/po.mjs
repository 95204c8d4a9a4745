// Fuzzing `stele po translate`'s catalog path (src/js/po.js fillCatalog over gettext-parser) with
// fast-check: catalogs built from PO's own pieces (keywords, quoted strings with escapes, plural
// indexes, comments and flags, headers with charsets and Plural-Forms) mixed with raw bytes.
//
//   node tests/fuzz/po.mjs [RUNS] [SEED]     (make fuzz-long: 10 M runs is not the point here;
//                                            FUZZ_PO_RUNS, default 200,000)
//
// For every input, fillCatalog must either return or throw an Error with a message (a catalog
// gettext-parser cannot read); anything else (a non-Error throw, a TypeError from our code, a
// hang) fails. When it returns:
//   - the output parses again, as a catalog with the same entries (by msgctxt and msgid);
//   - a msgstr a human wrote (any non-empty form) is in the output unchanged;
//   - every filled entry's forms carry the source's placeholders (the stand-in translator below
//     drops some of them on purpose, so this checks that such entries are skipped) and the flag
//     fuzzy;
//   - filled + kept + skipped counts agree with the entries.
// fillCatalog may also refuse a catalog it can read with "cannot write ...": gettext-parser's
// writer would change one of its entries (checkWritten in po.js), so nothing is written.
// Exits 1 with the counterexample (fast-check's shrunk input and seed) on a failure.
import fc from 'fast-check';
import gettextParser from 'gettext-parser';
import { fillCatalog, samePlaceholders } from '../../src/js/po.js';

const RUNS = Number(process.argv[2] ?? process.env.FUZZ_PO_RUNS ?? 200000);
const SEED = process.argv[3] !== undefined ? Number(process.argv[3]) : Date.now() % 2147483647;

// A deterministic stand-in model: upper-cases the line and drops "{name}" and one "%d" (so the
// placeholder rule has something to refuse), "pieces" = words + 1.
function fakeTranslate(line) {
  const text = line.toUpperCase().replace('{NAME}', '').replace('%D', '');
  return { text, logp: -0.5 * (text.length + 1), pieces: text.split(/\s+/).length + 1 };
}

const chars = fc.oneof(
  { arbitrary: fc.constantFrom('a', 'b', 'Z', ' ', 'é', '中', '\u2581', '🙂'), weight: 6 },
  { arbitrary: fc.constantFrom('%s', '%d', '%1$s', '%(n)d', '{0}', '{name}', '%%', '{{', '<b>', '&amp;', '_'), weight: 3 },
  { arbitrary: fc.constantFrom('\\n', '\\t', '\\"', '\\\\', '\\x41', '\\', '"', '\n', '\r', '\t', '\0'), weight: 2 },
  fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c)),
);
const text = fc.array(chars, { maxLength: 12 }).map((a) => a.join(''));
const quoted = fc.oneof({ arbitrary: text.map((t) => `"${t}"`), weight: 8 }, text);
const keyword = fc.constantFrom('msgid', 'msgstr', 'msgctxt', 'msgid_plural', 'msgstr[0]', 'msgstr[1]',
  'msgstr[2]', 'msgstr[99]', 'msgstr[-1]', 'msgstr[', '#,', '#.', '#:', '#|', '#~', '#', '');
const header = fc.record({
  charset: fc.constantFrom('UTF-8', 'utf-8', 'CHARSET', 'ISO-8859-1', 'latin1', 'bogus', ''),
  plural: fc.constantFrom('nplurals=2; plural=(n > 1);', 'nplurals=1; plural=0;', 'nplurals=3;', 'nplurals=0;', 'nplurals=99;', 'garbage', ''),
}).map(({ charset, plural }) =>
  `msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=${charset}\\n"\n"Plural-Forms: ${plural}\\n"\n\n`);
// a well-formed entry, so that fillCatalog's own logic (not only the parser) is reached often
const entry = fc.record({
  ctx: fc.option(text, { nil: undefined }),
  id: text,
  plural: fc.option(text, { nil: undefined }),
  str: fc.constantFrom('', '', 'HUMAN %s', 'done'),
  flag: fc.constantFrom('', '#, fuzzy\n', '#, c-format\n', '#, fuzzy, c-format\n'),
}).map(({ ctx, id, plural, str, flag }) => {
  const q = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
  let s = flag + (ctx !== undefined ? `msgctxt ${q(ctx)}\n` : '') + `msgid ${q(id)}\n`;
  if (plural !== undefined) s += `msgid_plural ${q(plural)}\nmsgstr[0] ${q(str)}\nmsgstr[1] ${q('')}\n`;
  else s += `msgstr ${q(str)}\n`;
  return s + '\n';
});
const loose = fc.tuple(keyword, quoted).map(([k, v]) => `${k} ${v}\n`);
const rawBytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1'));
const catalog = fc.tuple(fc.option(header, { nil: '' }),
  fc.array(fc.oneof({ arbitrary: entry, weight: 6 }, { arbitrary: loose, weight: 3 }, rawBytes), { maxLength: 8 }),
  fc.boolean())
  .map(([h, parts, latin1]) => Buffer.from(h + parts.join(''), latin1 ? 'latin1' : 'utf8'));

function entriesOf(table) {
  const out = new Map();
  for (const ctx of Object.keys(table.translations))
    for (const id of Object.keys(table.translations[ctx])) out.set(`${ctx}\u0004${id}`, table.translations[ctx][id]);
  return out;
}

let parsed = 0, refused = 0, unwritable = 0, filledTotal = 0;
const property = fc.property(catalog, (bytes) => {
  let before;
  try {
    before = entriesOf(gettextParser.po.parse(bytes, { defaultCharset: 'utf-8' }));
  } catch {
    before = null;
  }
  let res;
  try {
    res = fillCatalog(bytes, fakeTranslate, { lang: 'fr' });
  } catch (e) {
    // only a catalog the parser refused may throw, and only as an Error with a message
    if (!(e instanceof Error) || !e.message) throw new Error(`non-Error or empty throw: ${String(e)}`);
    if (before !== null && e.message.startsWith('cannot write ')) {
      unwritable++;   // the writer would have changed an entry: refused, nothing written
      return true;
    }
    if (before !== null) throw new Error(`fillCatalog threw on a catalog gettext-parser reads: ${e.stack}`);
    refused++;
    return true;
  }
  if (before === null) throw new Error('fillCatalog accepted a catalog gettext-parser refuses');
  parsed++;
  filledTotal += res.filled;
  const after = entriesOf(gettextParser.po.parse(res.output, { defaultCharset: 'utf-8' }));
  let counted = 0;
  for (const [key, e] of before) {
    const o = after.get(key);
    if (!o) throw new Error(`entry ${JSON.stringify(key)} lost`);
    if (e.msgid === '' || !e.msgid.trim()) continue;
    counted++;
    if ((e.msgstr ?? []).some((s) => s !== '')) {
      if (JSON.stringify(o.msgstr) !== JSON.stringify(e.msgstr))
        throw new Error(`human msgstr of ${JSON.stringify(key)} changed: ${JSON.stringify(e.msgstr)} -> ${JSON.stringify(o.msgstr)}`);
    } else if ((o.msgstr ?? []).some((s) => s !== '')) {
      if (!/\bfuzzy\b/.test(o.comments?.flag ?? '')) throw new Error(`filled ${JSON.stringify(key)} is not fuzzy`);
      o.msgstr.forEach((s, i) => {
        const src = i === 0 || e.msgid_plural === undefined ? e.msgid : e.msgid_plural;
        // nothing lost on the way out (a legacy charset would turn characters into "?")
        const want = src.split('\n').map((l) => (l.trim() === '' ? l : fakeTranslate(l).text)).join('\n');
        if (s !== want) throw new Error(`filled ${JSON.stringify(key)} form ${i} is ${JSON.stringify(s)}, not ${JSON.stringify(want)}`);
        if (!samePlaceholders(src, s)) throw new Error(`filled ${JSON.stringify(key)} form ${i} lost placeholders: ${JSON.stringify(s)}`);
      });
    }
  }
  if (res.filled + res.kept + res.skipped !== counted)
    throw new Error(`counts ${res.filled}+${res.kept}+${res.skipped} != ${counted} entries`);
  return true;
});

// iconv-lite (under gettext-parser) logs every unknown charset it meets on console.error
const quiet = console.error;
console.error = () => {};
const t0 = Date.now();
const out = fc.check(property, { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: undefined });
const secs = ((Date.now() - t0) / 1000).toFixed(1);
console.error = quiet;
if (out.failed) {
  console.error(String(out.errorInstance?.stack ?? out.error));
  console.error(fc.defaultReportMessage(out));
  console.error(`fuzz po: FAILED after ${out.numRuns} runs (seed ${SEED})`);
  process.exit(1);
}
console.log(`fuzz po: ${out.numRuns} runs in ${secs} s, seed ${SEED}: ${parsed} catalogs read ` +
  `(${filledTotal} entries filled), ${refused} refused by the parser with an Error, ${unwritable} ` +
  'refused because the writer would change an entry; no failure');
