// The options translate, caption and ask share (one parser in each CLI: src/cli.c parse_options,
// src/js/cli.js parseOptions): each command takes its own option sets and refuses the others,
// and every usage error has its exact message, exit 2, in both CLIs. The other CLI tests check
// the exit status of a few of these; this one pins the messages, so that a change to the shared
// parser cannot change one command's errors unseen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, NATIVE, ROOT, SMALL_MODEL, WASM, run } from './common.js';

const CAPTION = path.join(ROOT, 'tests/golden/tiny/caption-tiny.safetensors');
const VQA = path.join(ROOT, 'tests/golden/tiny/vqa-tiny.safetensors');
const skip = (!existsSync(NATIVE) && 'build/stele missing') || (!existsSync(WASM) && 'dist/stele.wasm missing') ||
  (!(existsSync(CAPTION) && existsSync(VQA)) && 'tiny image models missing');

// [arguments, the native CLI's message, the Node CLI's] (one string: the same in both; null:
// that CLI has no such error, e.g. -m has a default in the Node CLI). IMAGE stands for a PGM file.
const CASES = [
  // -m and the arguments after the options
  [['translate', '-m'], '-m needs a MODEL path'],
  [['caption', '-m'], '-m needs a MODEL path'],
  [['ask', '-m'], '-m needs a MODEL path'],
  [['translate', 'x'], ['translate needs -m MODEL', null]],
  [['caption', 'IMAGE'], ['caption needs -m MODEL', null]],
  [['ask', 'IMAGE', 'q'], ['ask needs -m MODEL', null]],
  [['caption', '-m', CAPTION], 'caption needs one or more IMAGE files (binary PGM or PPM)'],
  [['caption', '-m', CAPTION, '--json', '--'], 'caption needs one or more IMAGE files (binary PGM or PPM)'],
  [['ask', '-m', VQA, 'IMAGE'], ['ask needs an IMAGE (binary PGM or PPM) and one or more QUESTIONs',
    'ask needs an IMAGE and one or more QUESTIONs']],
  // the search options: translate and caption
  ...['translate', 'caption'].flatMap((cmd) => {
    const m = cmd === 'translate' ? SMALL_MODEL : CAPTION, arg = cmd === 'translate' ? 'x' : 'IMAGE';
    return [
      [[cmd, '-m', m, '--beam'], 'option needs a number'],
      [[cmd, '-m', m, '--alpha', 'x', arg], 'option needs a number'],
      [[cmd, '-m', m, '--beta', '', arg], 'option needs a number'],
      [[cmd, '-m', m, '--beam', '0', arg], '--beam and --nbest take an integer in 1..64'],
      [[cmd, '-m', m, '--nbest', '65', arg], '--beam and --nbest take an integer in 1..64'],
      [[cmd, '-m', m, '--beam', '1.5', arg], '--beam and --nbest take an integer in 1..64'],
      [[cmd, '-m', m, '--beam', '2', '--nbest', '3', arg], '--nbest must not exceed --beam'],
      [[cmd, '-m', m, '--frob', arg], 'unknown option'],
    ];
  }),
  // an --nbest over the default beam: translate knows it once the model is loaded
  [['translate', '-m', SMALL_MODEL, '--nbest', '6', 'x'], '--nbest must not exceed --beam'],
  [['caption', '-m', CAPTION, '--nbest', '6', 'IMAGE'], '--nbest must not exceed --beam'],
  // the text options: translate only
  [['translate', '-m', SMALL_MODEL, '--batch', '0', 'x'], '--batch takes an integer in 1..256'],
  [['translate', '-m', SMALL_MODEL, '--batch', '4', 'x'], '--batch is for greedy search: add --beam 1'],
  ...['257', '-1', '1.5', 'x'].map((v) => [['translate', '-m', SMALL_MODEL, '--threads', v, 'x'], '--threads takes an integer in 0..256']),
  ...['--align', '--no-protect', '--no-normalize', '--no-shortlist', '--batch', '--threads'].map((o) => [['caption', '-m', CAPTION, o, 'IMAGE'], 'unknown option']),
  // ask: neither
  ...['--beam', '--nbest', '--alpha', '--beta', '--align', '--batch', '--threads'].map((o) => [['ask', '-m', VQA, o, '2', 'IMAGE', 'q'], 'unknown option']),
];

test('translate, caption, ask: each usage error with its message, exit 2, in both CLIs', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stele-options-'));
  try {
    const image = path.join(dir, 'a.pgm');
    writeFileSync(image, Buffer.concat([Buffer.from('P5 84 84 255\n'), Buffer.alloc(84 * 84, 128)]));
    for (const [args0, msg] of CASES) {
      const args = args0.map((a) => (a === 'IMAGE' ? image : a));
      const [native, node] = Array.isArray(msg) ? msg : [msg, msg];
      for (const [name, cmd, pre, want] of [['native', NATIVE, [], native], ['node', 'node', [CLI], node]]) {
        if (want === null) continue;
        const r = run(cmd, [...pre, ...args]);
        const what = `${name} ${args0.join(' ')}`;
        assert.equal(r.status, 2, `${what}: ${r.stderr}`);
        assert.equal(r.stdout, '', what);
        assert.equal(r.stderr.split('\n')[0], `stele: ${want}`, what);
        assert.match(r.stderr, /\nusage: stele translate /, what);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --help anywhere among the options: the command's help on stdout, exit 0 (the Node CLI has its
// own for caption and ask).
test('translate, caption, ask: --help and -h among the options', { skip }, () => {
  for (const cmd of ['translate', 'caption', 'ask']) {
    for (const args of [[cmd, '--help'], [cmd, '-m', 'x', '--json', '-h']]) {
      for (const [name, bin, pre] of [['native', NATIVE, []], ['node', 'node', [CLI]]]) {
        const r = run(bin, [...pre, ...args]);
        assert.equal(r.status, 0, `${name} ${args.join(' ')}`);
        assert.equal(r.stderr, '');
        const first = r.stdout.split('\n')[0];
        assert.equal(first, name === 'node' && cmd !== 'translate'
          ? { caption: 'stele caption: describe an image with an image model (Node CLI).',
            ask: 'stele ask: answer questions about an image with a VQA model (Node CLI).' }[cmd]
          : 'stele: translate text offline with a small attention model (LSTM encoder-decoder).', `${name} ${args.join(' ')}`);
      }
    }
  }
});
