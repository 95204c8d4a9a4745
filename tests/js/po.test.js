// `stele po translate` (src/js/po.js): placeholder multisets, filling with a stand-in
// translator (deterministic), and the CLI with the shipped model on tests/js/fixtures/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import gettextParser from 'gettext-parser';
import { placeholders, samePlaceholders, fillCatalog } from '../../src/js/po.js';
import { CLI, ROOT, WASM, modelPath, run } from './common.js';

const FIX = path.join(ROOT, 'tests/js/fixtures');
const SMALL = path.join(FIX, 'small.pot');
const COMPLETE = path.join(FIX, 'complete.po');
const UI = modelPath('ui-en-fr');
const skipCli = (!existsSync(WASM) && 'dist/stele.wasm missing') || (!existsSync(UI) && 'ui-en-fr model missing');

test('placeholders compare as multisets', () => {
  assert.deepEqual(placeholders('%s of %d, 100%% {0} {{x}}'), ['%d', '%s', '{0}']);
  assert.ok(samePlaceholders('%s and %d', '%d et %s'));           // reordered: fine
  assert.ok(samePlaceholders('%1$s %2$s', '%2$s %1$s'));
  assert.ok(samePlaceholders('%(count)d items', '%(count)d éléments'));
  assert.ok(samePlaceholders('100%% done', 'fait à 100 %%'));
  assert.ok(!samePlaceholders('%s', '%d'));
  assert.ok(!samePlaceholders('%s %s', '%s'));                      // a lost duplicate
  assert.ok(!samePlaceholders('{name}', '{nom}'));
  assert.ok(!samePlaceholders('Hello {name}', 'Bonjour'));
  assert.ok(!samePlaceholders('%.2f', '%f'));
});

// A stand-in model: "FR:" + the line, 4 pieces, logp -1 (mean -0.25); it drops "{name}".
const fake = (line) => ({ text: `FR:${line.replace('{name}', '')}`, logp: -1, pieces: 4 });

function entries(bytes) {
  const t = gettextParser.po.parse(bytes);
  return { headers: t.headers, get: (ctx, id) => t.translations[ctx ?? '']?.[id] };
}

test('fillCatalog: fills empty entries, keeps translations, marks fuzzy, skips bad placeholders', () => {
  const input = readFileSync(SMALL);
  const r = fillCatalog(input, fake, { lang: 'fr' });
  assert.equal(r.filled, 4);
  assert.equal(r.kept, 1);
  assert.equal(r.skipped, 1);
  const c = entries(r.output);
  assert.equal(c.headers.Language, 'fr');
  assert.equal(c.headers['Project-Id-Version'], 'stele-test 1.0');   // rest of the header kept
  const save = c.get('', 'Save the document');
  assert.deepEqual(save.msgstr, ['FR:Save the document']);
  assert.match(save.comments.flag, /^fuzzy$/);
  assert.equal(save.comments.translator, 'stele: machine translation, mean logp -0.2500');
  assert.equal(save.comments.reference, 'src/main.c:10');
  assert.deepEqual(c.get('', 'Open the file').msgstr, ['Ouvrir le fichier']);
  assert.equal(c.get('', 'Open the file').comments?.flag, undefined);
  for (const ctx of ['menu', 'dialog']) {
    const e = c.get(ctx, 'Close');
    assert.equal(e.msgctxt, ctx);
    assert.deepEqual(e.msgstr, ['FR:Close']);
    assert.equal(e.comments.flag, 'fuzzy');
  }
  const pl = c.get('', 'Delete %d file');
  assert.deepEqual(pl.msgstr, ['FR:Delete %d file', 'FR:Delete %d files']);
  assert.equal(pl.comments.flag, 'fuzzy, c-format');
  // two lines of 4 pieces, logp -1 each: mean -0.25
  assert.match(pl.comments.translator, /mean logp -0\.2500$/);
  assert.deepEqual(c.get('', 'Hello {name}').msgstr, ['']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /skipped msgid "Hello \{name\}".*\[\].*\[\{name\}\]/);
});

test('fillCatalog: multi-line msgids go line by line; nplurals from the header', () => {
  const po = Buffer.from('msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=3; plural=(n%10==1 ? 0 : 1);\\n"\n\n' +
    'msgid "First line\\n\\nThird %s"\nmsgstr ""\n\n' +
    'msgid "One"\nmsgid_plural "Many"\nmsgstr[0] ""\nmsgstr[1] ""\nmsgstr[2] ""\n');
  const seen = [];
  const r = fillCatalog(po, (l) => { seen.push(l); return fake(l); });
  assert.deepEqual(seen, ['First line', 'Third %s', 'One', 'Many']);
  const c = entries(r.output);
  assert.deepEqual(c.get('', 'First line\n\nThird %s').msgstr, ['FR:First line\n\nFR:Third %s']);
  assert.deepEqual(c.get('', 'One').msgstr, ['FR:One', 'FR:Many', 'FR:Many']);
});

test('fillCatalog: a POT with charset=CHARSET is UTF-8; an entry the engine refuses is skipped', () => {
  const pot = Buffer.from('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=CHARSET\\n"\n\n' +
    'msgid "Café"\nmsgstr ""\n\nmsgid "Too long"\nmsgstr ""\n');
  const r = fillCatalog(pot, (l) => {
    if (l === 'Too long') throw Object.assign(new Error('input has 9999 bytes'), { code: 'STELE_ERR_LIMIT' });
    return { text: `${l} → Éviter`, logp: -1, pieces: 2 };
  });
  assert.equal(r.filled, 1);
  assert.equal(r.skipped, 1);
  assert.match(r.warnings[0], /skipped msgid "Too long": STELE_ERR_LIMIT: input has 9999 bytes/);
  const text = r.output.toString('utf8');
  assert.match(text, /charset=utf-8/i);
  assert.match(text, /msgid "Café"\nmsgstr "Café → Éviter"/);
  assert.throws(() => fillCatalog(pot, () => { throw new TypeError('a bug'); }), TypeError);
});

test('fillCatalog: nothing to fill gives the input bytes back', () => {
  const input = readFileSync(COMPLETE);
  // gettext-parser alone would not: it regroups contexts, re-folds and lowercases the charset
  assert.notDeepEqual(gettextParser.po.compile(gettextParser.po.parse(input)), input);
  const r = fillCatalog(input, () => assert.fail('nothing should be translated'));
  assert.equal(r.filled, 0);
  assert.ok(r.output.equals(input));
  assert.ok(fillCatalog(input, fake, { lang: 'fr' }).output.equals(input));   // Language already fr
  assert.ok(!fillCatalog(input, fake, { lang: 'de' }).output.equals(input));
});

// Found by tests/fuzz/po.mjs: gettext-parser's writer throws on "charset=" (empty), turns
// characters a legacy charset lacks into "?", and drops an empty msgid_plural with its forms.
test('fillCatalog: written in UTF-8 whatever the input charset; no silent loss', () => {
  const head = (cs) => `msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=${cs}\\n"\n\n`;
  const oe = (line) => ({ text: `œuvre ${line}`, logp: -1, pieces: 2 });
  const empty = fillCatalog(Buffer.from(head('') + 'msgid "Work"\nmsgstr ""\n'), oe);
  assert.deepEqual(entries(empty.output).get('', 'Work').msgstr, ['œuvre Work']);
  assert.match(entries(empty.output).headers['Content-Type'], /charset=UTF-8/i);
  assert.deepEqual(empty.warnings, []);
  const latin = fillCatalog(Buffer.from(head('ISO-8859-1') + 'msgid "Caf\xe9"\nmsgstr ""\n', 'latin1'), oe);
  const back = entries(latin.output);
  assert.deepEqual(back.get('', 'Café').msgstr, ['œuvre Café']);   // not "?uvre"
  assert.match(back.headers['Content-Type'], /charset=UTF-8/i);
  assert.equal(latin.warnings.length, 1);
  assert.match(latin.warnings[0], /was in ISO-8859-1; it is written in UTF-8/);
  const plural = Buffer.from('msgid "%s"\nmsgid_plural ""\nmsgstr[0] "x"\nmsgstr[1] "y"\n');
  assert.throws(() => fillCatalog(plural, oe, { lang: 'fr' }),
    /cannot write msgid "%s" faithfully \(msgid_plural "" becomes undefined/);
});

test('tests/fuzz/po.mjs: 2,000 generated catalogs (the fuzz-long run does 200,000)', () => {
  const r = run(process.execPath, [path.join(ROOT, 'tests/fuzz/po.mjs'), '2000', '7']);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /fuzz po: 2000 runs .* no failure/);
});

test('stele po translate with the shipped model (CLI)', { skip: skipCli }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stele-po-'));
  try {
    const out = path.join(dir, 'out.po');
    const r = run('node', [CLI, 'po', 'translate', SMALL, '-o', out, '--lang', 'fr', '-m', UI, '--beam', '3']);
    assert.equal(r.status, 0, r.stderr);
    const c = entries(readFileSync(out));
    assert.equal(c.headers.Language, 'fr');
    const save = c.get('', 'Save the document');
    assert.ok(save.msgstr[0].length > 0);
    assert.equal(save.comments.flag, 'fuzzy');
    const m = /mean logp (-?\d+\.\d{4})$/.exec(save.comments.translator);
    assert.ok(m && Number(m[1]) <= 0, save.comments.translator);
    assert.deepEqual(c.get('', 'Open the file').msgstr, ['Ouvrir le fichier']);
    // every written entry keeps the source's placeholders; a skipped one is named on stderr
    for (const ctx of ['', 'menu', 'dialog']) {
      for (const e of Object.values(gettextParser.po.parse(readFileSync(out)).translations[ctx] ?? {})) {
        if (!e.msgid || !e.msgstr[0]) continue;
        assert.ok(samePlaceholders(e.msgid, e.msgstr[0]), e.msgid);
        if (e.msgid_plural) assert.ok(samePlaceholders(e.msgid_plural, e.msgstr[1]), e.msgid_plural);
      }
    }
    for (const e of [c.get('', 'Hello {name}'), c.get('', 'Delete %d file')]) {
      if (e.msgstr[0] === '') assert.ok(r.stderr.includes(`skipped msgid ${JSON.stringify(e.msgid)}`), r.stderr);
    }
    const same = path.join(dir, 'same.po');
    const r2 = run('node', [CLI, 'po', 'translate', COMPLETE, '-o', same, '-m', UI]);
    assert.equal(r2.status, 0, r2.stderr);
    assert.ok(readFileSync(same).equals(readFileSync(COMPLETE)), 'complete catalog changed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stele po --help and usage errors', () => {
  const h = run('node', [CLI, 'po', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^usage: stele po translate IN\.po\|IN\.pot -o OUT\.po/);
  const bad = run('node', [CLI, 'po', 'translate', SMALL]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /missing -o OUT\.po/);
  assert.equal(run('node', [CLI, 'po', 'frobnicate']).status, 2);
  assert.match(run('node', [CLI, '--help']).stdout, /stele po translate/);
});
