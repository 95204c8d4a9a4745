#!/usr/bin/env node
// stele command line (Node, WebAssembly): the native CLI's commands, options and output.
//   stele translate [-m MODEL] [--beam K] [--nbest N] [--alpha A] [--beta B] [--json] [--align]
//                   [--batch N] [--no-protect] [--no-shortlist]
//                   [TEXT...]
//   stele info [MODEL]
//   stele info --json [MODEL];  stele models;  stele help | --help | -h;  stele --version
// MODEL is a path or a model name: $STELE_MODELS/<name>/, then the package's models/<name>/.
//   stele po translate IN.po|IN.pot -o OUT.po [--lang LL] [-m MODEL] [--beam N]   (src/js/po.js)
//   stele caption [-m MODEL] [--beam K] [--nbest N] [--alpha A] [--beta B] [--json] IMAGE...
//                   (an image model; IMAGE: a PNG (read with the bundled pngjs), or a binary PGM or PPM file; see
//                   CAPTION_HELP)
//   stele ask [-m MODEL] [--json] IMAGE QUESTION...
//                   (a vqa model; IMAGE as for caption; output as src/cli.c's ask)
// Without -m the embedded default model is used. TEXT arguments are translated one by one;
// without any, lines from stdin. Output as src/cli.c: one translation per line (with --align a tab
// and "target-source" word pairs, 0-based), or with --json one object per sentence in the native
// schema. Errors: "STATUS_NAME: message" on stderr, exit 1 (other lines are still translated; a
// failed line prints an empty line / {"error": ...}); usage errors exit 2. --beam 1 is greedy.
// One difference: stdin is decoded as UTF-8 by Node, so invalid bytes become U+FFFD instead of a
// STELE_ERR_TEXT error. A low-confidence result (see lowConfidence in stele.js) ends its line with
// a tab and "(low confidence)", and has "low_confidence": true in --json, as in src/cli.c.
import { Translator, Captioner, Answerer, SteleError, DEFAULT_CAPTION_MODEL, DEFAULT_VQA_MODEL } from './stele.js';
import { DEFAULT_MODEL, shippedModels, TranslatorPool, defaultThreads } from './stele.js';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const VERSION = '0.1.0';

// The native CLI's help (src/cli.c), but for -m, which has a default here, and where names are
// looked up; tests/js/cli.test.js compares the two.
const HELP = `stele: translate text offline with a small attention model (LSTM encoder-decoder).

usage:
  stele translate [-m MODEL] [OPTIONS] [TEXT...] translate each TEXT, or each line of stdin
  stele caption -m MODEL [OPTIONS] IMAGE...     caption images (PGM/PPM; Node CLI: PNG)
  stele ask -m MODEL [--json] IMAGE QUESTION... answer questions about an image
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
  --threads N        translate on N threads, same output; 0: one per CPU, 0..256 [1]
  --no-shortlist     score every target piece, not the model's lexical shortlist [on
                     when the model has one]
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
    '                       [--threads N] [--json] [--align] [--no-protect] [--no-normalize]\n' +
    '                       [--no-shortlist] [TEXT...]\n' +
    '       stele info [MODEL]\n' +
    '       stele po translate IN.po|IN.pot -o OUT.po [--lang LL] [-m MODEL] [--beam N]\n' +
    '       stele caption [-m MODEL] [--beam K] [--nbest N] [--alpha A] [--beta B]\n' +
    '                     [--json] IMAGE.pgm|IMAGE.ppm|IMAGE.png...   (stele caption --help)\n' +
    '       stele ask [-m MODEL] [--json] IMAGE QUESTION...   (stele ask --help)\n' +
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

// The output line of an input that failed (its error is on stderr): empty, or {"error":STATUS}.
const errorLine = (e, json) => (json ? `{"error":${str(e.code ?? 'STELE_ERR_INTERNAL')}}` : '');

// ---------------------------------------------------------------- shared options

// One parser for the three commands, so that an option means the same, and fails with the same
// message, in each: -m and --json everywhere, the search options (--beam --nbest --alpha --beta)
// where there is a search, the text options (--align --no-protect --no-normalize --no-shortlist --batch --threads) for
// translate. helpText: what --help prints. After the options: at least minArgs arguments (else
// the usage error fewArgs), and --nbest within --beam when both are given (the model's
// defaults are checked once it is loaded). Returns { model, json, align, batch, threads, p (the search
// and text options given: left out, the engine's defaults), nbestSet, rest (the arguments after
// the options) }, or the exit status after --help (0) or a usage error (2).
function parseOptions(args, { search = false, text = false, helpText, minArgs = 0, fewArgs }) {
  const o = { model: undefined, json: false, align: false, batch: 1, threads: 1, p: {}, nbestSet: false, rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(helpText);
      return 0;
    } else if (a === '--json') o.json = true;
    else if (a === '-m' || a === '--model') {
      if (++i >= args.length) return usage('-m needs a MODEL path');
      o.model = args[i];
    } else if (search && (a === '--beam' || a === '--nbest' || a === '--alpha' || a === '--beta')) {
      const s = args[++i];
      const v = s === undefined || s.trim() === '' ? NaN : Number(s);
      if (Number.isNaN(v)) return usage('option needs a number');
      if ((a === '--beam' || a === '--nbest') && (!Number.isInteger(v) || v < 1 || v > 64))
        return usage('--beam and --nbest take an integer in 1..64');
      o.p[a.slice(2)] = v;
      if (a === '--nbest') o.nbestSet = true;
    } else if (text && a === '--align') o.align = true;
    else if (text && a === '--no-protect') o.p.protect = false;   // spans go to the model as they are
    else if (text && a === '--no-normalize') o.p.normalize = false;
    else if (text && a === '--no-shortlist') o.p.shortlist = false;   // every target piece
    else if (text && a === '--batch') {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 256) return usage('--batch takes an integer in 1..256');
      o.batch = v;
    } else if (text && a === '--threads') {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < 0 || v > 256) return usage('--threads takes an integer in 0..256');
      o.threads = v;   // 0: one per CPU, resolved by cmdTranslate
    } else if (a === '--') {
      o.rest = args.slice(i + 1);
      break;
    } else if (a.length > 1 && a[0] === '-') {
      return usage('unknown option');
    } else {
      o.rest = args.slice(i);
      break;
    }
  }
  if (o.rest.length < minArgs) return usage(fewArgs);
  if (o.p.beam !== undefined && o.p.nbest !== undefined && o.p.nbest > o.p.beam)
    return usage('--nbest must not exceed --beam');
  return o;
}

// Class.load of the model -m names (resolveModel; undefined: the class's default), with room
// for the beam p asks for when p is given; null once the error is printed.
async function loadModel(Class, model, p) {
  try {
    return await Class.load(resolveModel(model), p && { limits: { maxBeam: Math.max(16, p.beam ?? 0) } });
  } catch (e) {
    fail(e);
    return null;
  }
}

async function cmdTranslate(args) {
  const o = parseOptions(args, { search: true, text: true, helpText: HELP });
  if (typeof o === 'number') return o;
  const { json, align, batch, p } = o;
  if (batch > 1 && p.beam !== 1) return usage('--batch is for greedy search: add --beam 1');
  const threads = o.threads === 0 ? Math.min(256, await defaultThreads()) : o.threads;
  // --threads N > 1: a TranslatorPool, else one Translator
  const t = threads > 1 ? await loadPool(o.model, p, threads) : await loadModel(Translator, o.model, p);
  if (!t) return 1;
  const d = t.defaults;
  if ((p.nbest ?? d.nbest) > (p.beam ?? d.beam)) {
    t.dispose();
    return usage(o.nbestSet ? '--nbest must not exceed --beam' : '--nbest > --beam');
  }
  let failed = false;
  const maxBytes = t.info.limits.maxTextBytes;
  const resultLine = (r) => (json ? jsonLine(r, align) : textLine(r, align)) + '\n';
  const errorOut = (e) => {
    fail(e);
    failed = true;
    return errorLine(e, json) + '\n';
  };
  // a stdin line boundedLines did not keep: the error translate() gives such a text
  const tooLong = (text) => new SteleError('STELE_ERR_LIMIT', `input has ${text.tooLong} bytes, ` +
    `the session's limit is ${maxBytes} (max_text_bytes)`);
  const one = (text) => {
    let line;
    try {
      if (typeof text !== 'string') throw tooLong(text);
      line = resultLine(t.translate(text, p));
    } catch (e) {
      line = errorOut(e);
    }
    process.stdout.write(line);
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
    if (rs) process.stdout.write(rs.map(resultLine).join(''));
    chunk = [];
  };
  // --threads: the same chunks through the pool. A line the engine refuses (the pool's error
  // names it: index) prints its error where one thread prints it, and the lines around it are
  // translated again without it; a worker's death ends the command.
  const poolLines = async (lines) => {
    let out = '';
    for (let lo = 0; lo < lines.length;) {
      let hi = lo;
      while (hi < lines.length && typeof lines[hi] === 'string') hi++;
      try {
        out += (await t.translateBatch(lines.slice(lo, hi), { ...p, batchSize: batch })).map(resultLine).join('');
        if (hi < lines.length) out += errorOut(tooLong(lines[hi]));
        lo = hi + 1;
      } catch (e) {
        if (!(e instanceof SteleError) || e.index === undefined) throw e;
        out += await poolLines(lines.slice(lo, lo + e.index));
        // as one thread reports it: without the pool's "texts[i]: " prefix
        e.message = e.message.slice(`texts[${e.index}]: `.length);
        out += errorOut(e);
        lo += e.index + 1;
      }
    }
    return out;
  };
  const flushPool = async () => {
    const lines = chunk;
    chunk = [];
    process.stdout.write(await poolLines(lines));
  };
  const collect = (text) => {
    chunk.push(text);
    return chunk.length === 4096 && (threads > 1 ? flushPool() : flush());
  };
  const take = threads > 1 || batch > 1 ? collect : one;
  try {
    if (o.rest.length) {
      for (const text of o.rest) await take(text);
    } else {
      for await (const line of boundedLines(process.stdin, maxBytes)) await take(line);
    }
    if (threads > 1) await flushPool();
    else if (batch > 1) flush();
  } catch (e) {
    fail(e);
    failed = true;
  } finally {
    t.dispose();
  }
  return failed ? 1 : 0;
}

// A TranslatorPool of threads workers on the model -m names, as loadModel; null once the error
// is printed.
async function loadPool(model, p, threads) {
  try {
    return await TranslatorPool.load(resolveModel(model), { threads, limits: { maxBeam: Math.max(16, p.beam ?? 0) } });
  } catch (e) {
    fail(e);
    return null;
  }
}

function help() {
  process.stdout.write(HELP);
  return 0;
}

// ---------------------------------------------------------------- caption

const CAPTION_HELP = `stele caption: describe an image with an image model (Node CLI).

usage:
  stele caption [-m MODEL] [OPTIONS] IMAGE...   caption each IMAGE, one line each

MODEL is a name from \`stele models\` or a .safetensors file whose task is caption
[scenes-caption]. Each IMAGE must have the model's size (scenes-caption: 84 x 84).

IMAGE formats:
  PGM (P5) and PPM (P6): binary Netpbm, 8-bit: the header "P5" (gray) or "P6" (RGB), the
      width, the height (1..4096) and the maxval (1..255), separated by whitespace ("#" starts
      a comment to the end of its line), one whitespace byte, then height rows of width pixels,
      one byte per sample (P6: R, G, B), no padding; bytes after the last pixel are ignored.
      Samples are scaled to 0..255 when maxval < 255; RGB is made gray as ITU-R 601 luma. From
      Python: open(f, "wb").write(b"P5 84 84 255\\n" + pixels.tobytes()) for a uint8 array
      of shape (84, 84). The native CLI (build/stele caption) reads the same files.
  PNG (gray, RGB or RGBA, any bit depth): read with pngjs, a dependency of the package; the
  native CLI reads PGM and PPM only.

options [default]:
  -m, --model MODEL  the model [scenes-caption]
  --beam K           beam size, 1..64; 1 = greedy search [5]
  --nbest N          hypotheses kept (listed with --json), 1..K [1]
  --alpha A          length penalty ((5+|Y|)/6)^A [0.2]
  --beta B           coverage penalty [0]
  --json             one JSON object per image: text, tokens, scores, n-best, grid, attention
                     (one row per token over the grid's places, row-major) [off]
  --                 every later argument is an IMAGE

Output: one line per image (a failed image: an empty line, --json {"error":STATUS}, and
"STATUS: message" on stderr). Exit status: 0 all captioned, 1 an image or the model
failed, 2 a usage error.
`;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// A binary PGM (P5) or PPM (P6) file's pixels as { data, width, height, channels }, read as
// the native CLI reads them (src/cli.c read_pnm: the same checks, in the same order, with the
// same messages), or a string saying why not.
function decodeNetpbm(b) {
  if (b.length < 2 || b[0] !== 0x50 || (b[1] !== 0x35 && b[1] !== 0x36)) return 'not a binary PGM (P5) or PPM (P6) image';
  const channels = b[1] === 0x35 ? 1 : 3;
  let i = 2;
  // white space and "#" comments (to the end of the line), then an unsigned number; -1 if none
  const number = () => {
    for (;;) {
      while (i < b.length && [0x20, 0x09, 0x0d, 0x0a, 0x0b, 0x0c].includes(b[i])) i++;
      if (i < b.length && b[i] === 0x23) {
        while (i < b.length && b[i] !== 0x0a) i++;
        continue;
      }
      break;
    }
    let v = -1;
    while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39 && v < 100000) v = (v < 0 ? 0 : 10 * v) + (b[i++] - 0x30);
    return v;
  };
  const width = number(), height = number(), maxval = number();
  if (width < 1 || height < 1 || width > 4096 || height > 4096 || maxval < 1 || maxval > 255 || i >= b.length)
    return maxval > 255 ? '16-bit PNM images are not supported (maxval over 255)'
      : 'bad PNM header (width, height 1..4096, maxval 1..255)';
  i++;   // the single white space character after maxval
  const n = width * height * channels;
  if (b.length - i < n) return 'the file ends before its last pixel';
  let data = new Uint8Array(b.buffer, b.byteOffset + i, n);
  if (maxval !== 255) data = data.map((v) => (v > maxval ? 255 : Math.floor((v * 255 + (maxval >> 1)) / maxval)));
  return { data, width, height, channels };
}

// An image file's pixels (as decodeNetpbm) or why not: PGM/PPM as the native CLI; PNG through
// the npm package pngjs when it is installed (the native CLI reads no PNG).
async function readImage(file) {
  let b;
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > 64 << 20) return 'cannot read the file';
    b = readFileSync(file);
  } catch {
    return 'cannot read the file';
  }
  if (PNG_SIGNATURE.every((v, k) => b[k] === v)) {
    let PNG;
    try {
      ({ PNG } = await import('pngjs'));
    } catch {
      return 'a PNG image, and the pngjs package is not installed (npm install pngjs), or convert it to PGM';
    }
    try {
      const png = PNG.sync.read(b);
      return { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length), width: png.width, height: png.height, channels: 4 };
    } catch (e) {
      return `not a readable PNG image (${e.message})`;
    }
  }
  return decodeNetpbm(b);
}

// A caption as the native CLI prints it (src/cli.c print_caption_json): the text, the tokens
// (eos included), the scores and confidence, the n-best texts, the grid and the attention rows
// of the tokens (row t: token t over the grid's places, row-major).
function captionJson(r) {
  const S = r.gridHeight * r.gridWidth;
  const rows = new Float32Array(r.tokens.length * S);
  rows.set(r.attention);
  if (r.eosAttention) rows.set(r.eosAttention, r.words.length * S);
  return `{"text":${str(r.text)},"tokens":[${r.tokens.map(str).join(',')}],"score":${num(r.score)},` +
    `"logp":${num(r.logp)}${confidence(r)},` +
    `"nbest":[${r.nbest.map((h) => `{"text":${str(h.text)},"score":${num(h.score)},"logp":${num(h.logp)}}`).join(',')}],` +
    // a model without attention has no rows (the native CLI prints null)
    `"grid":[${r.gridHeight},${r.gridWidth}],"attention":${r.hasAttention ? matrix(rows, r.tokens.length, S) : 'null'}}`;
}

async function cmdCaption(args) {
  const o = parseOptions(args, { search: true, helpText: CAPTION_HELP, minArgs: 1,
    fewArgs: 'caption needs one or more IMAGE files (binary PGM or PPM)' });
  if (typeof o === 'number') return o;
  const { json, p } = o;
  const c = await loadModel(Captioner, o.model ?? DEFAULT_CAPTION_MODEL, p);
  if (!c) return 1;
  let failed = false;
  try {
    if ((p.nbest ?? c.defaults.nbest) > (p.beam ?? c.defaults.beam))
      return usage(o.nbestSet ? '--nbest must not exceed --beam' : '--nbest > --beam');
    // errors as the native CLI: "STATUS: FILE: why", the file name cut to 200 characters for a
    // file it cannot read, to 100 and the engine's message to 150 for one the engine refuses
    for (const f of o.rest) {
      let line;
      try {
        const img = await readImage(f);
        if (typeof img === 'string') throw new SteleError('STELE_ERR_ARGUMENT', `${f.slice(0, 200)}: ${img}`);
        let r;
        try {
          r = c.caption(img, p);
        } catch (e) {
          if (e instanceof SteleError) e.message = `${f.slice(0, 100)}: ${e.message.slice(0, 150)}`;
          throw e;
        }
        line = json ? captionJson(r) : r.text;
      } catch (e) {
        fail(e);
        failed = true;
        line = errorLine(e, json);
      }
      process.stdout.write(line + '\n');
    }
  } finally {
    c.dispose();
  }
  return failed ? 1 : 0;
}

// ---------------------------------------------------------------- ask

const ASK_HELP = `stele ask: answer questions about an image with a VQA model (Node CLI).

usage:
  stele ask [-m MODEL] [--json] IMAGE QUESTION...   answer each QUESTION about IMAGE

MODEL is a name from \`stele models\` or a .safetensors file whose task is vqa [scenes-vqa].
IMAGE must have the model's size (scenes-vqa: 84 x 84); formats as for stele caption
(stele caption --help): PGM, PPM, and PNG when pngjs is installed.

options [default]:
  -m, --model MODEL  the model [scenes-vqa]
  --json             one JSON object per question: answer, index, top-5 with probabilities,
                     every answer's probability, the question's words, the grid and the
                     glimpses (one row per glimpse over the grid's places, row-major) [off]
  --                 every later argument is the IMAGE, then QUESTIONs

Output per question: the answer on a line, then the 3 most probable answers, one
"  PROB  ANSWER" line each (a failed question: an empty line, --json {"error":STATUS}, and
"STATUS: message" on stderr). Exit status: 0 all answered, 1 a question, the image or the
model failed, 2 a usage error.
`;

// An answer as the native CLI's --json prints it (src/cli.c print_answer_json).
function answerJson(r) {
  const S = r.gridHeight * r.gridWidth;
  return `{"answer":${str(r.answer)},"index":${r.index},"top":[` +
    r.top.map((t) => `{"answer":${str(t.answer)},"prob":${num(t.prob)}}`).join(',') +
    `],"probs":[${Array.from(r.probs, num).join(',')}],"question":[${r.question.map(str).join(',')}],` +
    `"grid":[${r.gridHeight},${r.gridWidth}],"glimpses":${matrix(r.glimpses, r.glimpseCount, S)}}`;
}

async function cmdAsk(args) {
  const o = parseOptions(args, { helpText: ASK_HELP, minArgs: 2,
    fewArgs: 'ask needs an IMAGE and one or more QUESTIONs' });
  if (typeof o === 'number') return o;
  const [file, ...questions] = o.rest;
  const q = await loadModel(Answerer, o.model ?? DEFAULT_VQA_MODEL);
  if (!q) return 1;
  let failed = false;
  try {
    const image = await readImage(file);
    if (typeof image === 'string') {   // every question fails: the image is the same for all
      fail(new SteleError('STELE_ERR_ARGUMENT', `${file.slice(0, 200)}: ${image}`));
      return 1;
    }
    questions.forEach((question, i) => {
      let out;
      try {
        const r = q.answer(image, question);
        out = o.json ? answerJson(r) + '\n'
          : `${r.answer}\n` + r.top.slice(0, 3).map((t) => `  ${t.prob.toFixed(4)}  ${t.answer}\n`).join('');
      } catch (e) {
        if (e instanceof SteleError) e.message = `question ${i + 1}: ${e.message}`;
        fail(e);
        failed = true;
        out = errorLine(e, o.json) + '\n';
      }
      process.stdout.write(out);
    });
  } finally {
    q.dispose();
  }
  return failed ? 1 : 0;
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

// %g as printf writes it, for the numbers info prints (six significant digits).
const g6 = (x) => String(Number(Number(x).toPrecision(6)));
// "; no max-pool in block 3, 4" for the CNN blocks encoder.pool leaves unpooled (as cnn.{i})
const unpooled = (enc) => {
  const bare = (Array.isArray(enc.pool) ? enc.pool : []).flatMap((p, i) => (p === false ? [i] : []));
  return bare.length ? `; no max-pool in block ${bare.join(', ')}` : '';
};

// The model's info as the native CLI prints it (src/cli.c print_info_text).
function infoText(file, t) {
  const j = JSON.parse(t.infoJson), c = j.config, d = t.defaults;
  const n = (x) => Math.round(x).toLocaleString('en-US');
  const s = (k) => (k === 1 ? '' : 's');
  const res = (x) => (x.residual_from > 0 ? `, residual from layer ${x.residual_from}` : '');
  const att = c.attention ?? {};
  const score = att.score ?? 'none';
  const dtypes = [...new Set(Object.values(j.tensors).map((x) => x.dtype))].join('/');
  if (c.task === 'vqa') {   // the native CLI's lines (src/cli.c print_info_text)
    const im = c.image ?? {};
    return [
      `name        ${j.name}`,
      `file        ${file} (${n(t.info.modelBytes)} bytes)`,
      `task        vqa; image ${im.width}x${im.height}, ${im.channels} channel${s(im.channels)}, normalised (p/255 - ${g6(im.mean)}) / ${g6(im.std)}`,
      `encoder     cnn, ${c.encoder.channels.length} block${s(c.encoder.channels.length)} (conv 3x3 + ReLU + max-pool 2x2), channels ${c.encoder.channels.join(', ')}` +
        `${unpooled(c.encoder)}${c.encoder.position === 'learned' ? '; a learned position per location' : ''}`,
      `question    embeddings ${c.question.emb}, LSTM hidden ${c.question.hidden}; vocabulary ${c.src_vocab} words`,
      `glimpses    ${c.glimpses} (1x1 convolutions, hidden ${c.attention.hidden}); features l2-normalised: ${c.l2norm === true ? 'yes' : 'no'}`,
      `classifier  hidden ${c.classifier.hidden}, ${c.answers} answers`,
      `parameters  ${n(j.parameters)} in ${Object.keys(j.tensors).length} tensors (${n(j.tensor_bytes)} bytes; ${dtypes})`,
      `format      stele ${j.format_version}, ${j.weights} weights`,
      `kernels     ${j.kernels}`,
    ].join('\n') + '\n';
  }
  return [
    `name        ${j.name}`,
    `file        ${file} (${n(t.info.modelBytes)} bytes)`,
    ...(c.encoder.type === 'cnn' ? [   // an image model
      `task        ${c.task}; image ${g6(c.image.width)}x${g6(c.image.height)}, ${g6(c.image.channels)} channel` +
        `${s(c.image.channels)}, normalised (p/255 - ${g6(c.image.mean)}) / ${g6(c.image.std)}`,
      `encoder     cnn, ${c.encoder.channels.length} block${s(c.encoder.channels.length)} (conv 3x3 + ReLU + ` +
        `max-pool 2x2), channels ${c.encoder.channels.map(g6).join(', ')}` +
        `${unpooled(c.encoder)}${c.encoder.position === 'learned' ? '; a learned position per location' : ''}`,
    ] : [
      `encoder     ${c.encoder.type}, ${c.encoder.layers} layer${s(c.encoder.layers)}, hidden ${c.encoder.hidden}` +
        `${c.encoder.type === 'bilstm' ? ' per direction' : ''}${res(c.encoder)}`,
    ]),
    `attention   ${score}${att.dim !== undefined && !['none', 'dot', 'general'].includes(score) ? `, size ${att.dim}` : ''}` +
      `${score !== 'none' && att.gate === true ? ', gated' : ''}`,
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
    ...(j.shortlist ? [`shortlist   ${n(j.shortlist.always)} target pieces always, ` +
      `${n(j.shortlist.candidates)} candidates over the source pieces`] : []),
    `format      stele ${j.format_version}, ${j.weights} weights`,
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
    // an image model is no Translator: its Captioner or Answerer has the same info
    const t = await Translator.load(model).catch((e) => {
      if (e instanceof SteleError && e.code === 'STELE_ERR_ARGUMENT' && /task is "caption"/.test(e.message)) return Captioner.load(model);
      if (e instanceof SteleError && e.code === 'STELE_ERR_ARGUMENT' && /task is "vqa"/.test(e.message)) return Answerer.load(model);
      throw e;
    });
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
  if (cmd === 'caption') return cmdCaption(rest);
  if (cmd === 'ask') return cmdAsk(rest);
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
