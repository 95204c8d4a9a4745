#!/usr/bin/env node
// stele command line (Node, WebAssembly): the native CLI's commands, options and output.
//   stele translate [-m MODEL] [--beam K] [--nbest N] [--alpha A] [--beta B] [--json] [--align]
//                   [--batch N] [--no-protect]
//                   [TEXT...]
//   stele info [MODEL]
//   stele info --json [MODEL];  stele models;  stele help | --help | -h;  stele --version
// MODEL is a path or a model name: $STELE_MODELS/<name>/, then the package's models/<name>/.
//   stele po translate IN.po|IN.pot -o OUT.po [--lang LL] [-m MODEL] [--beam N]   (src/js/po.js)
// Without -m the embedded default model is used. TEXT arguments are translated one by one;
// without any, lines from stdin. Output as src/cli.c: one translation per line (with --align a tab
// and "target-source" word pairs, 0-based), or with --json one object per sentence in the native
// schema. Errors: "STATUS_NAME: message" on stderr, exit 1 (other lines are still translated; a
// failed line prints an empty line / {"error": ...}); usage errors exit 2. --beam 1 is greedy.
// One difference: stdin is decoded as UTF-8 by Node, so invalid bytes become U+FFFD instead of a
// STELE_ERR_TEXT error. A low-confidence result (see lowConfidence in stele.js) ends its line with
// a tab and "(low confidence)", and has "low_confidence": true in --json, as in src/cli.c.
import { Translator, SteleError } from './stele.js';
import { DEFAULT_MODEL, shippedModels } from './stele.js';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const VERSION = '0.1.0';

// The native CLI's help (src/cli.c), but for -m, which has a default here, and where names are
// looked up; tests/js/cli.test.js compares the two.
const HELP = `stele: translate text offline with a small attention model (LSTM encoder-decoder).

usage:
  stele translate [-m MODEL] [OPTIONS] [TEXT...] translate each TEXT, or each line of stdin
  stele info [--json] [MODEL]                   describe a model (--json: the engine's JSON)
  stele models                                  list the models found (name, size, path)
  stele po translate IN.po -o OUT.po [...]      fill a gettext catalog (Node CLI: npx stele)
  stele help | --help | -h                      this help
  stele --version                               the version

MODEL is a name from \`stele models\` (dates, ui-en-fr, ...) or a .safetensors file.
Names are looked up in $STELE_MODELS, then in the package's models/ folder.

translate options [default]:
  -m, --model MODEL  the model [ui-en-fr, embedded in the package]
  --beam K           beam size, 1..64; 1 = greedy search [5]
  --nbest N          hypotheses kept (listed with --json), 1..K [1]
  --alpha A          length penalty ((5+|Y|)/6)^A [0.2]
  --beta B           coverage penalty [0]
  --json             one JSON object per input: text, pieces, scores, n-best, attention [off]
  --align            word alignment: target-source word index pairs, 0-based [off]
  --batch N          with --beam 1: decode N inputs at a time, same output, 1..256 [1]
  --                 every later argument is TEXT

Limits per input: 65,536 bytes and 256 pieces (end of sentence included); outputs stop at
512 pieces or the model's maximum length. An input over a limit, invalid UTF-8 or a NUL
byte fails alone: an empty line (--json: {"error":STATUS}) and "STATUS: message" on
stderr; the other inputs are still translated.

Output: one line per input and nothing else. Exit status: 0 all translated, 1 a model or
an input failed, 2 a usage error.

examples:
  stele translate -m dates "29th March 2042"        # 2042-03-29
  echo "Save the document" | stele translate -m ui-en-fr --align
  stele translate -m ui-en-fr --beam 1 --batch 16 < strings.txt > strings.fr
`;

function usage(msg) {
  if (msg) process.stderr.write(`stele: ${msg}\n`);
  process.stderr.write(
    'usage: stele translate [-m MODEL] [--beam K] [--nbest N] [--alpha A] [--beta B] [--batch N]\n' +
    '                       [--json] [--align] [--no-protect] [--no-normalize] [TEXT...]\n' +
    '       stele info [MODEL]\n' +
    '       stele po translate IN.po|IN.pot -o OUT.po [--lang LL] [-m MODEL] [--beam N]\n' +
    '(without -m: the embedded default model)\n' +
    'Also: stele info --json [MODEL], stele models. `stele --help` explains each option.\n');
  return 2;
}

// %.4g as the native CLI prints attention weights (same value when parsed); null for NaN and
// infinities, which JSON cannot spell (as the native CLI).
const g4 = (x) => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : 'null');
const num = (x) => (Number.isFinite(x) ? String(x) : 'null');
const str = (s) => JSON.stringify(s);
// %.9g as the native CLI prints the float token log-probabilities (same value when parsed).
const g9 = (x) => (Number.isFinite(x) ? String(Number(x.toPrecision(9))) : 'null');
// ,"token_logp":[...],"mean_logp":x — a hypothesis' confidence, as the native CLI.
const confidence = (h) => `,"token_logp":[${h.tokenLogp.map(g9).join(',')}],"mean_logp":${num(h.meanLogp)}`;

function matrix(w, rows, cols) {
  const out = [];
  for (let r = 0; r < rows; r++) {
    const row = [];
    for (let c = 0; c < cols; c++) row.push(g4(w[r * cols + c]));
    out.push(`[${row.join(',')}]`);
  }
  return `[${out.join(',')}]`;
}

function jsonLine(r, align) {
  const pieces = (a) => `[${a.map(str).join(',')}]`;
  let s = `{"text":${str(r.text)},"pieces":${pieces(r.targetTokens)},` +
    `"source_pieces":${pieces(r.sourceTokens)},"score":${num(r.score)},"logp":${num(r.logp)}` +
    `${confidence(r)},` +
    `"low_confidence":${r.lowConfidence},"nbest":[`;
  s += r.nbest.map((h) => `{"text":${str(h.text)},"pieces":${pieces(h.tokens)},` +
    `"score":${num(h.score)},"logp":${num(h.logp)}${confidence(h)}}`).join(',');
  s += '],"attention":';
  s += r.alignment ? matrix(r.alignment.weights, r.alignment.rows, r.alignment.cols) : 'null';
  if (align) {
    const w = r.wordAlignment;
    s += `,"alignment":{"source_words":${pieces(w.sourceWords)},"target_words":${pieces(w.targetWords)},` +
      `"word_attention":${w.weights ? matrix(w.weights, w.rows, w.cols) : 'null'},` +
      `"pairs":[${w.pairs.map(([t, c]) => `[${t},${c}]`).join(',')}]}`;
  }
  return s + '}';
}

function textLine(r, align) {
  const mark = r.lowConfidence ? '\t(low confidence)' : '';
  if (!align) return r.text + mark;
  return `${r.text}\t${r.wordAlignment.pairs.map(([t, c]) => `${t}-${c}`).join(' ')}${mark}`;
}

// The lines of a byte stream (the newline and a CR before it dropped), as UTF-8 strings, or as
// { tooLong: bytes } for a line of more than max bytes: such a line is read to its end but not
// kept, so a 256 MiB line costs no more memory than a short one (readline buffered it whole).
// A split multi-byte character is safe: the bytes of a line are decoded together.
async function* boundedLines(stream, max) {
  let parts = [], kept = 0, bytes = 0, lastByte = -1;
  const finish = () => {
    let n = bytes;
    if (lastByte === 0x0d) n--;
    let line;
    if (n > max) line = { tooLong: n };
    else line = Buffer.concat(parts, kept).subarray(0, n).toString('utf8');
    parts = [];
    kept = bytes = 0;
    lastByte = -1;
    return line;
  };
  let any = false;
  for await (const chunk of stream) {
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(0x0a, at);
      const end = nl < 0 ? chunk.length : nl;
      if (end > at) {
        // + 1: the CR of a line of exactly max bytes
        const room = max + 1 - kept;
        if (room > 0) {
          const piece = chunk.subarray(at, Math.min(end, at + room));
          parts.push(Buffer.from(piece));
          kept += piece.length;
        }
        bytes += end - at;
        lastByte = chunk[end - 1];
        any = true;
      }
      if (nl < 0) break;
      yield finish();
      any = false;
      at = nl + 1;
    }
  }
  if (any) yield finish();
}

function fail(e) {
  if (e instanceof SteleError) process.stderr.write(`${e.code}: ${e.message}\n`);
  else process.stderr.write(`stele: ${e?.message ?? e}\n`);
}

async function cmdTranslate(args) {
  let model, json = false, align = false, texts = [], batch = 1;
  let nbestSet = false;
  const p = {}; // unset options: the engine's defaults (stele_default_params)
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return help();
    else if (a === '--json') json = true;
    else if (a === '--align') align = true;
    else if (a === '--no-protect') p.protect = false;   // spans go to the model as they are
    else if (a === '--no-normalize') p.normalize = false;
    else if (a === '-m' || a === '--model') {
      if (++i >= args.length) return usage('-m needs a MODEL path');
      model = args[i];
    } else if (a === '--beam' || a === '--nbest' || a === '--alpha' || a === '--beta') {
      const s = args[++i];
      const v = s === undefined || s.trim() === '' ? NaN : Number(s);
      if (Number.isNaN(v)) return usage('option needs a number');
      if (a === '--beam' || a === '--nbest') {
        if (!Number.isInteger(v) || v < 1 || v > 64) return usage('--beam and --nbest take an integer in 1..64');
        if (a === '--beam') p.beam = v;
        else { p.nbest = v; nbestSet = true; }
      } else if (a === '--alpha') p.alpha = v;
      else p.beta = v;
    } else if (a === '--batch') {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 256) return usage('--batch takes an integer in 1..256');
      batch = v;
    } else if (a === '--') {
      texts = args.slice(i + 1);
      break;
    } else if (a.length > 1 && a[0] === '-') {
      return usage('unknown option');
    } else {
      texts = args.slice(i);
      break;
    }
  }
  if (p.beam !== undefined && p.nbest !== undefined && p.nbest > p.beam)
    return usage('--nbest must not exceed --beam');
  if (batch > 1 && p.beam !== 1) return usage('--batch is for greedy search: add --beam 1');
  let t;
  try {
    t = await Translator.load(resolveModel(model), { limits: { maxBeam: Math.max(16, p.beam ?? 0) } });
  } catch (e) {
    fail(e);
    return 1;
  }
  const d = t.defaults;
  if ((p.nbest ?? d.nbest) > (p.beam ?? d.beam)) {
    t.dispose();
    return usage(nbestSet ? '--nbest must not exceed --beam' : '--nbest > --beam');
  }
  let failed = false;
  const maxBytes = t.info.limits.maxTextBytes;
  const one = (text) => {
    let line;
    try {
      // a stdin line boundedLines did not keep: the error translate() gives such a text
      if (typeof text !== 'string')
        throw new SteleError('STELE_ERR_LIMIT', `input has ${text.tooLong} bytes, the session's ` +
          `limit is ${maxBytes} (max_text_bytes)`);
      const r = t.translate(text, p);
      line = json ? jsonLine(r, align) : textLine(r, align);
    } catch (e) {
      fail(e);
      failed = true;
      line = json ? `{"error":${str(e.code ?? 'STELE_ERR_INTERNAL')}}` : '';
    }
    process.stdout.write(line + '\n');
  };
  // --batch: 4,096 lines at a time through translateBatch, in input order; a chunk with a line
  // the engine refuses goes one by one, so every line gets what it would get without --batch
  let chunk = [];
  const flush = () => {
    let rs = null;
    try {
      // a line over the limit is a refused line: its chunk goes one by one, as for any other
      if (chunk.some((x) => typeof x !== 'string')) throw new Error('a line too long');
      rs = chunk.length ? t.translateBatch(chunk, { ...p, batchSize: batch }) : [];
    } catch {
      chunk.forEach(one);
    }
    if (rs) process.stdout.write(rs.map((r) => (json ? jsonLine(r, align) : textLine(r, align)) + '\n').join(''));
    chunk = [];
  };
  const take = batch > 1 ? (text) => { chunk.push(text); if (chunk.length === 4096) flush(); } : one;
  try {
    if (texts.length) {
      texts.forEach(take);
    } else {
      for await (const line of boundedLines(process.stdin, maxBytes)) take(line);
    }
    if (batch > 1) flush();
  } finally {
    t.dispose();
  }
  return failed ? 1 : 0;
}

function help() {
  process.stdout.write(HELP);
  return 0;
}

const isHelp = (a) => a === '--help' || a === '-h' || a === 'help';
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const isFile = (p) => {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
};

// The models of $STELE_MODELS, then the package's (the first folder with a name wins), sorted.
async function allModels() {
  const found = new Map();
  const env = process.env.STELE_MODELS;
  if (env) {
    let names = [];
    try {
      names = readdirSync(env);
    } catch {
      // no such folder: nothing from it
    }
    for (const name of names) {
      const p = path.join(env, name, 'model.safetensors');
      if (MODEL_NAME.test(name) && isFile(p)) found.set(name, { name, path: realpathSync(p), bytes: statSync(p).size });
    }
  }
  for (const m of await shippedModels()) if (!found.has(m.name)) found.set(m.name, m);
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// What Translator.load gets for a MODEL argument: a name found in $STELE_MODELS as its path;
// anything else as given (the API resolves the package's names and reports unknown ones).
function resolveModel(arg) {
  const env = process.env.STELE_MODELS;
  if (arg === undefined || !env || !MODEL_NAME.test(arg) || isFile(arg)) return arg;
  const p = path.join(env, arg, 'model.safetensors');
  return isFile(p) ? p : arg;
}

async function cmdModels(args) {
  if (args.length) return usage('models takes no arguments');
  const list = await allModels();
  if (!list.length) {
    process.stderr.write('STELE_ERR_IO: no models found (set STELE_MODELS to a folder of <name>/model.safetensors)\n');
    return 1;
  }
  const w = Math.max(4, ...list.map((m) => m.name.length));
  let out = `${'name'.padEnd(w)}  ${'size'.padStart(10)}  path\n`;
  for (const m of list) out += `${m.name.padEnd(w)}  ${(m.bytes / 2 ** 20).toFixed(1).padStart(6)} MiB  ${m.path}\n`;
  process.stdout.write(out);
  return 0;
}

// The model's info as the native CLI prints it (src/cli.c print_info_text).
function infoText(file, t) {
  const j = JSON.parse(t.infoJson), c = j.config, d = t.defaults;
  const n = (x) => Math.round(x).toLocaleString('en-US');
  const s = (k) => (k === 1 ? '' : 's');
  const res = (x) => (x.residual_from > 0 ? `, residual from layer ${x.residual_from}` : '');
  const att = c.attention ?? {};
  const score = att.score ?? 'none';
  const dtypes = [...new Set(Object.values(j.tensors).map((x) => x.dtype))].join('/');
  return [
    `name        ${j.name}`,
    `file        ${file} (${n(t.info.modelBytes)} bytes)`,
    `encoder     ${c.encoder.type}, ${c.encoder.layers} layer${s(c.encoder.layers)}, hidden ${c.encoder.hidden}` +
      `${c.encoder.type === 'bilstm' ? ' per direction' : ''}${res(c.encoder)}`,
    `attention   ${score}${att.dim !== undefined && !['none', 'dot', 'general'].includes(score) ? `, size ${att.dim}` : ''}`,
    `decoder     ${c.decoder.style} style, ${c.decoder.layers} layer${s(c.decoder.layers)}, hidden ${c.decoder.hidden}, ` +
      `output ${c.decoder.out}, context placement ${c.decoder.placement}${res(c.decoder)}`,
    `embeddings  ${c.emb}; vocabulary ${c.src_vocab} source, ${c.tgt_vocab} target; tied output layer: ` +
      `${c.tie_embeddings === true ? 'yes' : 'no'}; bridge ${c.bridge}`,
    `parameters  ${n(j.parameters)} in ${Object.keys(j.tensors).length} tensors (${n(j.tensor_bytes)} bytes; ${dtypes})`,
    `search      output up to ${j.search.len_a}*S + ${j.search.len_b} pieces; defaults: beam ${d.beam}, ` +
      `nbest ${d.nbest}, alpha ${d.alpha}, beta ${d.beta}` +
      // any other search metadata a newer exporter writes, as "; key value" (%g as in src/cli.c)
      Object.entries(j.search).filter(([k, v]) => k !== 'len_a' && k !== 'len_b' && typeof v === 'number')
        .map(([k, v]) => `; ${k} ${Number(v.toPrecision(6))}`).join(''),
    `format      stele ${j.format_version}`,
    `kernels     ${j.kernels}`,
  ].join('\n') + '\n';
}

async function cmdInfo(args) {
  if (args.length && isHelp(args[0])) return help();
  const json = args[0] === '--json';
  const rest = json ? args.slice(1) : args;
  if (rest.length > 1) return usage('info takes [--json] and one MODEL');
  try {
    const model = resolveModel(rest[0]);
    const t = await Translator.load(model);
    let file = model ?? fileURLToPath(new URL(DEFAULT_MODEL, import.meta.url));
    if (!isFile(file)) file = (await allModels()).find((m) => m.name === file)?.path ?? file;
    process.stdout.write(json ? t.infoJson + '\n' : infoText(file, t));
    t.dispose();
    return 0;
  } catch (e) {
    fail(e);
    return 1;
  }
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && isHelp(cmd)) return help();
  if (cmd === 'translate') return cmdTranslate(rest);
  if (cmd === 'info') return cmdInfo(rest);
  if (cmd === 'models') return cmdModels(rest);
  // gettext catalogs (src/js/po.js), loaded only here: the other commands do not need its parser
  if (cmd === 'po') return (await import('./po.js')).cmdPo(rest, { Translator, fail });
  if (cmd === '--version') {
    process.stdout.write(`stele ${VERSION}\n`);
    return 0;
  }
  if (cmd !== undefined) process.stderr.write(`stele: unknown command "${cmd.slice(0, 100)}"\n`);
  return usage();
}

process.exitCode = await main(process.argv.slice(2));
