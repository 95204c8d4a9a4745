// `stele po translate`: machine-fills a gettext catalog (PO or POT) with a stele model.
//
//   stele po translate IN.po|IN.pot -o OUT.po [--lang LL] [-m MODEL] [--beam N]
//
// Reading and writing is gettext-parser's (the format's corner cases: escapes, folding,
// obsolete entries, charsets, are its business, not ours). What this module decides:
//   - Only entries whose msgstr forms are all empty are filled; a translation a human wrote is
//     never touched. The header entry (msgid "") and obsolete (#~) entries are left alone.
//   - A filled entry gets the `fuzzy` flag (so gettext tools do not use it until a translator
//     has reviewed it) and a translator comment "stele: machine translation, mean logp X" giving
//     the hypothesis' log-probability per output piece, which ranks entries for review better
//     than the summed logp (that one just grows with length).
//   - Multi-line msgids are translated line by line (the models translate one line at a time)
//     and joined with the same newlines; empty lines stay empty.
//   - msgctxt: entries are keyed by (msgctxt, msgid) as gettext-parser groups them; the context
//     is not sent to the model (it would be translated as text), so two contexts of one msgid
//     get the same machine text, each marked fuzzy for a human to tell apart.
//   - Plurals: msgid is translated into msgstr[0] and msgid_plural into every other form
//     (nplurals from the header's Plural-Forms, else 2). Right for languages whose form 0 is
//     the singular (French, German, Spanish, ...); for languages with several plural forms it is
//     a first draft, which the fuzzy flag says.
//   - Placeholders: printf conversions (%s, %d, %1$s, %(name)s, ...; %% is a literal) and brace
//     fields ({0}, {name}) of the translation must be the source's as a multiset (order may
//     change, as languages reorder words). An entry whose translation differs is not written:
//     it stays empty and a warning naming it goes to stderr, since a wrong placeholder crashes
//     or corrupts the program that formats the string.
//   - The header is kept; --lang sets its Language field. A catalog without a charset, or with
//     xgettext's "charset=CHARSET", is read and written as UTF-8 (and says so).
//   - An entry the engine refuses (STELE_ERR_LIMIT for a too long text, ...) is skipped with a
//     warning naming it, like a placeholder mismatch.
//   - Round trip: gettext-parser does not reproduce every file byte for byte (it regroups
//     entries by msgctxt and re-folds long lines at 79 columns), so when nothing was filled and
//     the Language field is unchanged the input bytes are written back unchanged.
import { readFileSync, writeFileSync } from 'node:fs';
import gettextParser from 'gettext-parser';

const HELP =
  'usage: stele po translate IN.po|IN.pot -o OUT.po [--lang LL] [-m MODEL] [--beam N]\n' +
  '\n' +
  'Fills the empty msgstr entries of a gettext catalog with machine translations.\n' +
  '  -o OUT.po     where to write the catalog ("-": stdout)\n' +
  '  --lang LL     set the header\'s Language field (e.g. fr)\n' +
  '  -m MODEL      model file (default: the embedded English-to-French model)\n' +
  '  --beam N      beam size, 1..64 (default: the engine\'s)\n' +
  'Existing translations are kept. Machine output is marked fuzzy, with a translator comment\n' +
  'giving its mean log-probability per piece. msgid_plural fills every plural form but the\n' +
  'first. An entry whose printf/brace placeholders differ from the source\'s is skipped with a\n' +
  'warning on stderr. A catalog with nothing to fill is written back byte for byte.\n';

// printf conversions (with positional %1$s and Python's %(name)s) and brace fields; %% is a
// literal percent sign, matched so that it is not read as the start of a conversion, then
// dropped.
const PLACEHOLDER = /%%|%(?:\([A-Za-z_][\w.]*\)|\d+\$)?[-+ 0#']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t|I64|I32)?[diouxXeEfFgGaAcspn]|\{\{|\}\}|\{[^{}\s]*\}/g;

/** The placeholders of s, sorted (a multiset), without literal %% / {{ / }}. */
export function placeholders(s) {
  return (s.match(PLACEHOLDER) ?? []).filter((p) => p !== '%%' && p !== '{{' && p !== '}}').sort();
}

/** True when a and b have the same placeholders, counted with multiplicity. */
export function samePlaceholders(a, b) {
  const x = placeholders(a), y = placeholders(b);
  return x.length === y.length && x.every((p, i) => p === y[i]);
}

function nplurals(headers) {
  const m = /nplurals\s*=\s*(\d+)/.exec(headers?.['Plural-Forms'] ?? '');
  const n = m ? Number(m[1]) : 2;
  return n >= 1 && n <= 16 ? n : 2;
}

function describe(e) {
  return (e.msgctxt !== undefined ? `msgctxt ${JSON.stringify(e.msgctxt)} ` : '') +
    `msgid ${JSON.stringify(e.msgid)}`;
}

/**
 * Fills the catalog in `input` (bytes). translate(text) returns { text, logp, pieces } for one
 * line (pieces: output pieces, eos included). Returns { output (bytes), filled, skipped, kept,
 * warnings }: warnings are lines for stderr.
 */
export function fillCatalog(input, translate, { lang } = {}) {
  // A POT straight from xgettext says "charset=CHARSET": read it (and any catalog without a
  // charset) as UTF-8, which is what xgettext writes and what the model outputs.
  const table = gettextParser.po.parse(input, { defaultCharset: 'utf-8' });
  const n = nplurals(table.headers);
  const stats = { filled: 0, skipped: 0, kept: 0, warnings: [] };
  // One line: every non-empty line translated, the pieces and logp summed for the mean.
  const machine = (text) => {
    let logp = 0, pieces = 0;
    const out = text.split('\n').map((line) => {
      if (line.trim() === '') return line;
      const r = translate(line);
      logp += r.logp;
      pieces += r.pieces;
      return r.text;
    });
    return { text: out.join('\n'), logp, pieces };
  };
  for (const ctx of Object.keys(table.translations)) {
    for (const id of Object.keys(table.translations[ctx])) {
      const e = table.translations[ctx][id];
      if (e.msgid === '' || !e.msgid.trim()) continue;   // the header, or nothing to translate
      if ((e.msgstr ?? []).some((s) => s !== '')) {
        stats.kept++;
        continue;
      }
      const sources = e.msgid_plural !== undefined
        ? Array.from({ length: n }, (_, i) => (i === 0 ? e.msgid : e.msgid_plural))
        : [e.msgid];
      const done = new Map();   // msgid and msgid_plural are translated once each
      try {
        for (const s of sources) if (!done.has(s)) done.set(s, machine(s));
      } catch (err) {
        // one entry the engine refuses (too long, ...) must not cost the rest of the catalog
        if (!String(err?.code ?? '').startsWith('STELE_')) throw err;
        stats.skipped++;
        stats.warnings.push(`stele po: skipped ${describe(e)}: ${err.code}: ${err.message}`);
        continue;
      }
      const bad = sources.find((s) => !samePlaceholders(s, done.get(s).text));
      if (bad !== undefined) {
        stats.skipped++;
        stats.warnings.push(`stele po: skipped ${describe(e)}: the translation's placeholders ` +
          `[${placeholders(done.get(bad).text).join(' ')}] differ from the source's ` +
          `[${placeholders(bad).join(' ')}]`);
        continue;
      }
      e.msgstr = sources.map((s) => done.get(s).text);
      let logp = 0, pieces = 0;
      for (const r of done.values()) { logp += r.logp; pieces += r.pieces; }
      const mean = pieces ? logp / pieces : 0;
      e.comments ??= {};
      const note = `stele: machine translation, mean logp ${mean.toFixed(4)}`;
      e.comments.translator = e.comments.translator ? `${e.comments.translator}\n${note}` : note;
      const flags = (e.comments.flag ?? '').split(',').map((f) => f.trim()).filter(Boolean);
      if (!flags.includes('fuzzy')) e.comments.flag = ['fuzzy', ...flags].join(', ');
      stats.filled++;
    }
  }
  let langChanged = false;
  if (lang !== undefined && (table.headers?.Language ?? '') !== lang) {
    table.headers ??= {};
    table.headers.Language = lang;
    langChanged = true;
  }
  const changed = stats.filled > 0 || langChanged;
  if (changed) {
    // A changed catalog is written in UTF-8, whatever it was read in: the machine text may hold
    // characters a legacy charset lacks (ISO-8859-1 has no "œ"), which the writer would turn
    // into "?" without a word; and an empty or placeholder charset ("charset=", xgettext's
    // "charset=CHARSET") makes gettext-parser's writer throw. UTF-8 catalogs are what gettext
    // tools prefer anyway; a real change of charset is reported.
    table.headers ??= {};
    const ct = table.headers['Content-Type'] ?? '';
    const cs = /charset\s*=\s*([^\s;]*)/i.exec(ct)?.[1] ?? '';
    if (!/^utf-?8$/i.test(cs)) {
      if (cs !== '' && cs !== 'CHARSET')
        stats.warnings.push(`stele po: the catalog was in ${cs}; it is written in UTF-8 ` +
          '(machine translations may hold characters that charset lacks)');
      table.headers['Content-Type'] = 'text/plain; charset=UTF-8';
    }
    table.charset = 'utf-8';   // the writer encodes with this, not with the header
  }
  const output = changed ? gettextParser.po.compile(table) : Buffer.from(input);
  if (changed) checkWritten(table, output);
  return { output, ...stats };
}

const sameStrings = (a, b) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/**
 * Throws unless `output` reads back as `table`'s entries (msgid_plural and every msgstr form).
 * gettext-parser's writer is not faithful on every catalog its reader accepts (an empty
 * msgid_plural is dropped with its plural forms, for one), and a catalog written with a human
 * translation missing is worse than one not written: the caller then writes nothing.
 */
function checkWritten(table, output) {
  const back = gettextParser.po.parse(output, { defaultCharset: 'utf-8' }).translations;
  for (const ctx of Object.keys(table.translations)) {
    for (const id of Object.keys(table.translations[ctx])) {
      const e = table.translations[ctx][id], o = back[ctx]?.[id];
      if (ctx === '' && id === '') continue;   // the header: rewritten on purpose
      const lost = !o ? 'the entry is missing'
        : (o.msgid_plural ?? null) !== (e.msgid_plural ?? null) ? `msgid_plural ${JSON.stringify(e.msgid_plural)} becomes ${JSON.stringify(o.msgid_plural)}`
          : !sameStrings(o.msgstr, e.msgstr) ? `msgstr ${JSON.stringify(e.msgstr)} becomes ${JSON.stringify(o.msgstr)}` : null;
      if (lost)
        throw new Error(`cannot write ${describe(e)} faithfully (${lost} in gettext-parser's ` +
          'writer); nothing was written');
    }
  }
}

/** `stele po ...`: returns the exit code. deps: { Translator, fail, usage }. */
export async function cmdPo(args, { Translator, fail }) {
  const usage = (msg) => {
    if (msg) process.stderr.write(`stele po: ${msg}\n`);
    process.stderr.write(HELP);
    return 2;
  };
  if (args[0] === '--help' || args[0] === '-h' || (args[0] === 'translate' && args.includes('--help'))) {
    process.stdout.write(HELP);
    return 0;
  }
  if (args[0] !== 'translate') return usage(args[0] === undefined ? 'missing command' : `unknown command ${args[0]}`);
  let input, out, lang, model, beam;
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    const value = () => (i + 1 < args.length ? args[++i] : undefined);
    if (a === '-o' || a === '--output') {
      if ((out = value()) === undefined) return usage(`${a} needs a file`);
    } else if (a === '--lang') {
      lang = value();
      if (!lang || !/^[A-Za-z]{2,3}([_-][A-Za-z0-9]+)*(@\w+)?$/.test(lang)) return usage('--lang needs a language code such as fr or pt_BR');
    } else if (a === '-m' || a === '--model') {
      if ((model = value()) === undefined) return usage(`${a} needs a MODEL path`);
    } else if (a === '--beam') {
      beam = Number(value());
      if (!Number.isInteger(beam) || beam < 1 || beam > 64) return usage('--beam takes an integer in 1..64');
    } else if (a.length > 1 && a[0] === '-') {
      return usage(`unknown option ${a}`);
    } else if (input === undefined) {
      input = a;
    } else {
      return usage('one input catalog only');
    }
  }
  if (input === undefined) return usage('missing the input catalog');
  if (out === undefined) return usage('missing -o OUT.po');
  let bytes;
  try {
    bytes = readFileSync(input);
  } catch (e) {
    process.stderr.write(`stele po: ${input}: ${e.message}\n`);
    return 1;
  }
  let t;
  try {
    t = await Translator.load(model, { limits: { maxBeam: Math.max(16, beam ?? 0) } });
  } catch (e) {
    fail(e);
    return 1;
  }
  let res;
  try {
    const opts = beam === undefined ? {} : { beam, nbest: 1 };
    res = fillCatalog(bytes, (line) => {
      const r = t.translate(line, opts);
      return { text: r.text, logp: r.logp, pieces: r.targetIds.length };
    }, { lang });
  } catch (e) {
    if (e?.code && String(e.code).startsWith('STELE_')) fail(e);
    else process.stderr.write(`stele po: ${input}: ${e?.message ?? e}\n`);
    return 1;
  } finally {
    t.dispose();
  }
  for (const w of res.warnings) process.stderr.write(w + '\n');
  try {
    if (out === '-') process.stdout.write(res.output);
    else writeFileSync(out, res.output);
  } catch (e) {
    process.stderr.write(`stele po: ${out}: ${e.message}\n`);
    return 1;
  }
  process.stderr.write(`stele po: ${res.filled} filled (fuzzy), ${res.kept} kept, ${res.skipped} skipped\n`);
  return 0;
}
