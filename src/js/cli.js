#!/usr/bin/env node
// stele command line (Node, WebAssembly): the native CLI's commands, options and output.
//   stele translate [-m MODEL] [--beam K] [--nbest N] [--alpha A] [--beta B] [--json] [--align]
//                   [--batch N]
//                   [TEXT...]
//   stele info [MODEL]
// Without -m the embedded default model is used. TEXT arguments are translated one by one;
// without any, lines from stdin. Output as src/cli.c: one translation per line (with --align a tab
// and "target-source" word pairs, 0-based), or with --json one object per sentence in the native
// schema. Errors: "STATUS_NAME: message" on stderr, exit 1 (other lines are still translated; a
// failed line prints an empty line / {"error": ...}); usage errors exit 2. --beam 1 is greedy.
// One difference: stdin is decoded as UTF-8 by Node, so invalid bytes become U+FFFD instead of a
// STELE_ERR_TEXT error.
import { createInterface } from 'node:readline';
import { Translator, SteleError } from './stele.js';

const VERSION = '0.1.0';

function usage(msg) {
  if (msg) process.stderr.write(`stele: ${msg}\n`);
  process.stderr.write(
    'usage: stele translate [-m MODEL] [--beam K] [--nbest N] [--alpha A] [--beta B] [--batch N]\n' +
    '                       [--json] [--align] [TEXT...]\n' +
    '       stele info [MODEL]\n' +
    '(without -m: the embedded default model)\n');
  return 2;
}

// %.4g as the native CLI prints attention weights (same value when parsed).
const g4 = (x) => String(Number(x.toPrecision(4)));
const str = (s) => JSON.stringify(s);

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
    `"source_pieces":${pieces(r.sourceTokens)},"score":${r.score},"logp":${r.logp},"nbest":[`;
  s += r.nbest.map((h) => `{"text":${str(h.text)},"pieces":${pieces(h.tokens)},` +
    `"score":${h.score},"logp":${h.logp}}`).join(',');
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
  if (!align) return r.text;
  return `${r.text}\t${r.wordAlignment.pairs.map(([t, c]) => `${t}-${c}`).join(' ')}`;
}

function fail(e) {
  if (e instanceof SteleError) process.stderr.write(`${e.code}: ${e.message}\n`);
  else process.stderr.write(`stele: ${e?.message ?? e}\n`);
}

async function cmdTranslate(args) {
  let path, json = false, align = false, texts = [], batch = 1;
  let nbestSet = false;
  const p = {}; // unset options: the engine's defaults (stele_default_params)
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--align') align = true;
    else if (a === '-m' || a === '--model') {
      if (++i >= args.length) return usage('-m needs a MODEL path');
      path = args[i];
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
    t = await Translator.load(path, { limits: { maxBeam: Math.max(16, p.beam ?? 0) } });
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
  const one = (text) => {
    let line;
    try {
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
      const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of rl) take(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (batch > 1) flush();
  } finally {
    t.dispose();
  }
  return failed ? 1 : 0;
}

async function cmdInfo(args) {
  if (args.length > 1) return usage('info takes one MODEL path');
  try {
    const t = await Translator.load(args[0]);
    process.stdout.write(t.infoJson + '\n');
    t.dispose();
    return 0;
  } catch (e) {
    fail(e);
    return 1;
  }
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === 'translate') return cmdTranslate(rest);
  if (cmd === 'info') return cmdInfo(rest);
  if (cmd === '--version') {
    process.stdout.write(`stele ${VERSION}\n`);
    return 0;
  }
  return usage(cmd === undefined ? undefined : 'unknown command');
}

process.exitCode = await main(process.argv.slice(2));
