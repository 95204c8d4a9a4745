// `stele caption` (src/js/cli.js) on the tiny caption model: the captions and --json equal the
// API's for the same pixels, and the native CLI's (build/stele caption: same text, same --json
// schema and values, same error lines and exit codes) for PGM (P5) and PPM (P6) files, good and
// bad; usage errors exit 2; `stele info` on a caption model prints the native lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Captioner } from '../../src/js/stele.js';
import { CLI, NATIVE, ROOT, SMALL_MODEL, TOL, WASM, readTensors, run } from './common.js';

const TINY = path.join(ROOT, 'tests/golden/tiny/caption-tiny.safetensors');
const TINY_TRACE = path.join(ROOT, 'tests/golden/tiny/caption-tiny.trace.safetensors');
const skip = (!existsSync(WASM) && 'dist/stele.wasm missing') || (!existsSync(TINY_TRACE) && 'tiny caption golden missing');
const noNative = !existsSync(NATIVE) && 'build/stele missing';
let havePngjs = true;
try {
  createRequire(import.meta.url).resolve('pngjs');
} catch {
  havePngjs = false;
}

const pgm = (px, header = 'P5\n84 84\n255\n') => Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(px)]);
// the tiny model's golden image 2 (a gradient), whose greedy caption is not empty
const GRADIENT = new Uint8Array(7056).map((_, i) => ((i % 84) * 3 + Math.floor(i / 84)) % 256);

// The tiny golden images as PGM files (with comments and odd white space in every other
// header), a PPM and a 1-bit-maxval PGM of the checkerboard: [files, pixels of each].
function writeImages(dir, g) {
  const files = [], pixels = [];
  for (let k = 0; k < g.images.shape[0]; k++) {
    const px = g.images.data.subarray(k * 7056, (k + 1) * 7056);
    const f = path.join(dir, `img${k}.pgm`);
    writeFileSync(f, pgm(px, k % 2 ? 'P5 # gray\n84\t84 # size\r\n255\n' : 'P5\n84 84\n255\n'));
    files.push(f);
    pixels.push(px);
  }
  const board = pixels[5];   // 0 and 255 only
  const rgb = Buffer.alloc(3 * 7056);
  board.forEach((v, i) => rgb.fill(v, 3 * i, 3 * i + 3));
  writeFileSync(path.join(dir, 'c.ppm'), Buffer.concat([Buffer.from('P6\n84 84\n255\n'), rgb]));
  writeFileSync(path.join(dir, 'c1.pgm'), pgm(board.map((v) => (v ? 1 : 0)), 'P5\n84 84\n1\n'));
  // maxval 200: a sample over it reads as 255, the others scaled with rounding
  writeFileSync(path.join(dir, 'm200.pgm'), pgm(GRADIENT, 'P5\n84 84\n200\n'));
  files.push(path.join(dir, 'c.ppm'), path.join(dir, 'c1.pgm'), path.join(dir, 'm200.pgm'));
  pixels.push(board, board, GRADIENT.map((v) => (v > 200 ? 255 : Math.floor((v * 255 + 100) / 200))));
  return [files, pixels];
}

test('stele caption: text and --json equal the API for the same pixels', { skip }, async () => {
  const g = readTensors(TINY_TRACE);
  const dir = mkdtempSync(path.join(tmpdir(), 'stele-caption-'));
  const c = await Captioner.load(TINY);
  try {
    const [files, pixels] = writeImages(dir, g);
    const text = run('node', [CLI, 'caption', '-m', TINY, '--beam', '1', ...files]);
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout, pixels.map((px) => c.caption({ data: px, width: 84, height: 84 }, { beam: 1 }).text + '\n').join(''));

    const js = run('node', [CLI, 'caption', '-m', TINY, '--json', '--beam', '3', '--nbest', '2', '--', ...files]);
    assert.equal(js.status, 0, js.stderr);
    js.stdout.trim().split('\n').map((l) => JSON.parse(l)).forEach((o, k) => {
      const r = c.caption({ data: pixels[k], width: 84, height: 84 }, { beam: 3, nbest: 2 });
      assert.deepEqual(Object.keys(o), ['text', 'tokens', 'score', 'logp', 'token_logp', 'mean_logp', 'nbest', 'grid', 'attention']);
      assert.equal(o.text, r.text);
      assert.deepEqual(o.tokens, r.tokens);
      assert.deepEqual(o.grid, [r.gridHeight, r.gridWidth]);
      assert.deepEqual(o.nbest.map((h) => h.text), r.nbest.map((h) => h.text));
      assert.ok(Math.abs(o.score - r.score) <= 1e-12 && Math.abs(o.logp - r.logp) <= 1e-12);
      const S = r.gridHeight * r.gridWidth;
      assert.equal(o.attention.length, r.tokens.length, 'one attention row per token');
      o.attention.forEach((row, t) => {
        const want = t < r.words.length ? r.attention.subarray(t * S, (t + 1) * S) : r.eosAttention;
        row.forEach((v, l) => assert.ok(Math.abs(v - want[l]) <= 5e-4 * Math.max(1, v), `image ${k} [${t}][${l}]`));
      });
    });
  } finally {
    c.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Parsed JSON lines of both CLIs: equal but for float sums in another order (SIMD128 vs AVX2).
function sameJson(a, b, where) {
  if (typeof a === 'number') return assert.ok(Math.abs(a - b) <= Math.max(TOL, 2e-3 * Math.abs(b)), `${where}: ${a} vs ${b}`);
  if (Array.isArray(a)) {
    assert.ok(Array.isArray(b) && a.length === b.length, `${where}: length`);
    return a.forEach((x, i) => sameJson(x, b[i], `${where}[${i}]`));
  }
  if (a && typeof a === 'object') {
    assert.deepEqual(Object.keys(a), Object.keys(b), `${where}: keys`);
    return Object.keys(a).forEach((k) => sameJson(a[k], b[k], `${where}.${k}`));
  }
  assert.equal(a, b, where);
}

test('stele caption: the same output, errors and exit codes as the native CLI', { skip: skip || noNative }, () => {
  const g = readTensors(TINY_TRACE);
  const dir = mkdtempSync(path.join(tmpdir(), 'stele-caption-'));
  try {
    const [files] = writeImages(dir, g);
    const good = path.join(dir, 'good.pgm');
    writeFileSync(good, pgm(GRADIENT));
    const bad = {
      'text.pgm': Buffer.from('hello world'),
      'ascii.pgm': Buffer.from('P2\n84 84\n255\n0 0 0'),
      'short.pgm': pgm(GRADIENT.subarray(1)),
      'long.pgm': pgm([...GRADIENT, 0, 1, 2]),
      '16bit.pgm': pgm(GRADIENT, 'P5\n84 84\n65535\n'),
      'noheight.pgm': Buffer.from('P5\n84 x\n255\n'),
      'huge.pgm': Buffer.from('P5\n5000 84\n255\n'),
      'headeronly.pgm': Buffer.from('P5\n84 84\n255'),
      'small.pgm': pgm(new Uint8Array(83 * 84), 'P5\n83 84\n255\n'),
      'rgb-small.ppm': Buffer.concat([Buffer.from('P6 84 83 255\n'), Buffer.alloc(3 * 84 * 83)]),
    };
    const badFiles = Object.entries(bad).map(([name, bytes]) => {
      const f = path.join(dir, name);
      writeFileSync(f, bytes);
      return f;
    });
    const inputs = [...files, ...badFiles, path.join(dir, 'missing.pgm'), dir, good];
    for (const opts of [['--beam', '1'], ['--json', '--beam', '1'], ['--json', '--beam', '4', '--nbest', '3', '--alpha', '0.6'], []]) {
      const args = ['caption', '-m', TINY, ...opts, '--', ...inputs];
      const js = run('node', [CLI, ...args]), nat = run(NATIVE, args);
      assert.equal(js.status, 1, opts.join(' '));
      assert.equal(nat.status, 1);
      assert.equal(js.stderr, nat.stderr, `${opts.join(' ')}: the same error lines`);
      const a = js.stdout.split('\n'), b = nat.stdout.split('\n');
      assert.equal(a.length, inputs.length + 1, 'one line per image');
      assert.equal(a.length, b.length);
      a.forEach((line, i) => {
        if (opts.includes('--json')) sameJson(JSON.parse(line || 'null'), JSON.parse(b[i] || 'null'), `${opts.join(' ')} line ${i}`);
        else assert.equal(line, b[i], `${opts.join(' ')} line ${i}`);
      });
    }
    assert.match(run('node', [CLI, 'caption', '-m', TINY, path.join(dir, 'short.pgm')]).stderr,
      /^STELE_ERR_ARGUMENT: \S+short\.pgm: the file ends before its last pixel\n$/);
    // info: the native lines but for the kernels
    const strip = (o) => o.replace(/^kernels .*\n/m, '');
    const ji = run('node', [CLI, 'info', TINY]), ni = run(NATIVE, ['info', TINY]);
    assert.equal(ji.status, 0, ji.stderr);
    assert.equal(strip(ji.stdout), strip(ni.stdout));
    assert.match(ji.stdout, /\ntask {8}caption; image 84x84, 1 channel, normalised/);
    // a translation model
    const tr = [run('node', [CLI, 'caption', '-m', SMALL_MODEL, good]), run(NATIVE, ['caption', '-m', SMALL_MODEL, good])];
    assert.deepEqual(tr.map((r) => r.status), [1, 1]);
    assert.match(tr[0].stderr, /^STELE_ERR_ARGUMENT: the model's task is "translate", not "caption"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stele caption: usage errors exit 2; PNG; --help; info --json', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stele-caption-'));
  try {
    const good = path.join(dir, 'good.pgm');
    writeFileSync(good, pgm(GRADIENT));
    for (const args of [['-m', TINY], ['-m'], ['-m', TINY, '--beam', '0', good], ['-m', TINY, '--beam', '2', '--nbest', '3', good],
      ['-m', TINY, '--frob', good], ['-m', TINY, '--alpha', 'x', good]]) {
      const r = run('node', [CLI, 'caption', ...args]);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /^stele: .*\nusage: /);
    }
    const png = path.join(dir, 'a.png');
    writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
    const r = run('node', [CLI, 'caption', '-m', TINY, '--beam', '1', png, good]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, havePngjs ? /^STELE_ERR_ARGUMENT: \S+a\.png: not a readable PNG image/
      : /^STELE_ERR_ARGUMENT: \S+a\.png: a PNG image, and the pngjs package is not installed/);
    assert.ok(r.stdout.split('\n')[1].length > 0, 'the next image is still captioned');
    const h = run('node', [CLI, 'caption', '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /PGM \(P5\) and PPM \(P6\)/);
    assert.equal(JSON.parse(run('node', [CLI, 'info', '--json', TINY]).stdout).config.task, 'caption');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// pngjs is a dependency of the package (bundled): a PNG file of the same pixels, gray or RGBA,
// gives the PGM file's caption, and the pixels the CLI read are those written.
test('stele caption reads PNG (gray and RGBA) as the same pixels as PGM', { skip: skip || (!havePngjs && 'pngjs missing') }, async () => {
  const { PNG } = await import('pngjs');
  const dir = mkdtempSync(path.join(tmpdir(), 'stele-caption-png-'));
  try {
    const pgmFile = path.join(dir, 'g.pgm');
    writeFileSync(pgmFile, pgm(GRADIENT));
    const rgba = new PNG({ width: 84, height: 84 });
    for (let i = 0; i < 7056; i++) rgba.data.set([GRADIENT[i], GRADIENT[i], GRADIENT[i], 255], 4 * i);
    const rgbaFile = path.join(dir, 'rgba.png');
    writeFileSync(rgbaFile, PNG.sync.write(rgba));
    const grayFile = path.join(dir, 'gray.png');
    writeFileSync(grayFile, PNG.sync.write(rgba, { colorType: 0 }));
    const want = run('node', [CLI, 'caption', '-m', TINY, '--json', pgmFile]);
    assert.equal(want.status, 0, want.stderr);
    for (const f of [rgbaFile, grayFile]) {
      const got = run('node', [CLI, 'caption', '-m', TINY, '--json', f]);
      assert.equal(got.status, 0, got.stderr);
      assert.deepEqual(JSON.parse(got.stdout), JSON.parse(want.stdout), f);
    }
    // a PNG of another size is refused with the engine's message, naming both sizes
    const small = new PNG({ width: 83, height: 84 });
    small.data.fill(255);
    const smallFile = path.join(dir, 'small.png');
    writeFileSync(smallFile, PNG.sync.write(small));
    const r = run('node', [CLI, 'caption', '-m', TINY, smallFile]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /83x84 pixels .*84x84/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
