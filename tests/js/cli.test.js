// The Node CLI (src/js/cli.js) against the native one (build/stele): same options, same --json
// schema and values, same text output, exit codes and error lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, NATIVE, SMALL_MODEL, TOL, run } from './common.js';

const skip = !existsSync(NATIVE) && 'build/stele missing';
const INPUTS = ['29th March 2042', '3 mars 2021', '', 'Open the file', '19 января 1970'];

function compareJson(a, b, where) {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), where);
  for (const k of Object.keys(a)) {
    if (typeof a[k] === 'number') assert.ok(Math.abs(a[k] - b[k]) <= TOL, `${where}.${k}: ${a[k]} vs ${b[k]}`);
    else if (k === 'token_logp') {   // float32 sums in another order (SIMD128 vs AVX2)
      assert.equal(a[k].length, b[k].length, `${where}.${k}`);
      a[k].forEach((v, i) => assert.ok(Math.abs(v - b[k][i]) <= TOL, `${where}.${k}[${i}]: ${v} vs ${b[k][i]}`));
    }
    else if (Array.isArray(a[k]) && a[k].length && typeof a[k][0] === 'object' && !Array.isArray(a[k][0]))
      a[k].forEach((x, i) => compareJson(x, b[k][i], `${where}.${k}[${i}]`));
    else if (k === 'attention' || k === 'word_attention') {
      if (a[k] === null) assert.equal(b[k], null);
      else a[k].forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - b[k][i][j]) <= 2e-3, `${where}.${k}[${i}][${j}]`)));
    } else if (a[k] && typeof a[k] === 'object' && !Array.isArray(a[k])) compareJson(a[k], b[k], `${where}.${k}`);
    else assert.deepEqual(a[k], b[k], `${where}.${k}`);
  }
}

test('translate --json --align (args and stdin) matches the native CLI', { skip }, () => {
  for (const opts of [['--json', '--align'], ['--json', '--beam', '1'], ['--json', '--beam', '4', '--nbest', '3', '--alpha', '0.6', '--beta', '0']]) {
    const args = ['translate', '-m', SMALL_MODEL, ...opts];
    const js = run('node', [CLI, ...args, '--', ...INPUTS]);
    const nat = run(NATIVE, [...args, '--', ...INPUTS]);
    assert.equal(js.status, 0, js.stderr);
    assert.equal(nat.status, 0, nat.stderr);
    const a = js.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const b = nat.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(a.length, INPUTS.length);
    a.forEach((x, i) => compareJson(x, b[i], `${opts.join(' ')} line ${i}`));
    const stdin = run('node', [CLI, ...args], { input: INPUTS.join('\r\n') + '\n' });
    assert.equal(stdin.stdout, js.stdout);
  }
});

test('text output, --align pairs, errors and exit codes match the native CLI', { skip }, () => {
  const args = ['translate', '-m', SMALL_MODEL, '--align', ...INPUTS];
  assert.equal(run('node', [CLI, ...args]).stdout, run(NATIVE, args).stdout);
  // a failing line: error on stderr, empty line / {"error"} on stdout, exit 1, others translated
  for (const json of [[], ['--json']]) {
    const a = ['translate', '-m', SMALL_MODEL, ...json, 'x'.repeat(70000), '1 May 2000'];
    const js = run('node', [CLI, ...a]), nat = run(NATIVE, a);
    assert.equal(js.status, 1);
    assert.equal(nat.status, 1);
    assert.equal(js.stderr.split(':')[0], 'STELE_ERR_LIMIT');
    assert.equal(js.stderr, nat.stderr);
    assert.equal(js.stdout.split('\n')[0], nat.stdout.split('\n')[0]);
    assert.equal(js.stdout.split('\n').length, 3);
  }
  // usage errors: exit 2
  for (const a of [['translate', '--beam', '0', 'x'], ['translate', '--bogus'], ['translate', '--beam', '2', '--nbest', '3', 'x'], ['nope'], []]) {
    assert.equal(run('node', [CLI, ...a]).status, 2, a.join(' '));
  }
  const bad = run('node', [CLI, 'translate', '-m', '/nonexistent.safetensors', 'x']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^STELE_ERR_IO: /);
});

test('info --json prints the engine\'s model info', { skip }, () => {
  const js = run('node', [CLI, 'info', '--json', SMALL_MODEL]), nat = run(NATIVE, ['info', '--json', SMALL_MODEL]);
  assert.equal(js.status, 0);
  const a = JSON.parse(js.stdout), b = JSON.parse(nat.stdout);
  assert.equal(a.kernels, 'wasm-simd128');
  delete a.kernels;
  delete b.kernels;
  assert.deepEqual(a, b);
  assert.match(run('node', [CLI, '--version']).stdout, /^stele \d+\.\d+\.\d+\n$/);
});

test('translate --batch N: the one-by-one lines, in order, in both CLIs', { skip }, () => {
  const lines = [...INPUTS, '12 December 1999', 'a\u0000b', '1 May 2000'];
  for (const cli of [['node', [CLI]], [NATIVE, []]]) {
    const base = ['translate', '-m', SMALL_MODEL, '--beam', '1', '--align'];
    const one = run(cli[0], [...cli[1], ...base], { input: lines.join('\n') + '\n' });
    const bat = run(cli[0], [...cli[1], ...base, '--batch', '3'], { input: lines.join('\n') + '\n' });
    assert.equal(bat.stdout, one.stdout, `${cli[0]} --batch 3`);
    assert.equal(bat.status, one.status);
    assert.equal(run(cli[0], [...cli[1], 'translate', '-m', SMALL_MODEL, '--batch', '3', 'x']).status, 2);
  }
});

test('translate --threads N: the one-thread lines and errors, in order, in both CLIs', { skip }, () => {
  // dates outputs of unequal lengths, a NUL byte (refused by the engine in a worker), a line over
  // max_text_bytes (refused before), a blank line; one by one, greedy batched, and beam 5 --json
  const lines = [];
  for (let i = 0; i < 60; i++) lines.push(i % 3 ? `${(i % 28) + 1} March ${1900 + i}` : `Tuesday, ${(i % 28) + 1} May ${2000 + i}`);
  lines.splice(17, 0, 'a\u0000b');
  lines.splice(40, 0, 'é'.repeat(40000), '');
  const input = lines.join('\n') + '\n';
  for (const cli of [['node', [CLI]], [NATIVE, []]]) {
    for (const extra of [['--beam', '1', '--align'], ['--beam', '1', '--batch', '3'], ['--json']]) {
      const base = [...cli[1], 'translate', '-m', SMALL_MODEL, ...extra];
      const one = run(cli[0], base, { input });
      assert.equal(one.status, 1);
      assert.equal(one.stdout.split('\n').length, lines.length + 1);
      const n = extra.includes('--batch') ? '2' : '3';
      const many = run(cli[0], [...base, '--threads', n], { input });
      assert.equal(many.stdout, one.stdout, `${cli[0]} ${extra.join(' ')} --threads ${n}`);
      assert.equal(many.stderr, one.stderr, `${cli[0]} ${extra.join(' ')} --threads ${n}: stderr`);
      assert.equal(many.status, 1);
    }
    const args = run(cli[0], [...cli[1], 'translate', '-m', SMALL_MODEL, '--threads', '0', ...INPUTS]);
    assert.equal(args.stdout, run(cli[0], [...cli[1], 'translate', '-m', SMALL_MODEL, ...INPUTS]).stdout);
  }
});

test('stdin lines over max_text_bytes: refused as before, in both CLIs, without buffering them', { skip }, () => {
  // lines of 70,000 bytes (CRLF), exactly 65,536 (+ CR), 65,537, a multi-byte character split
  // across the limit, and short ones around them: the same stdout, stderr and exit code
  const input = `3 mars 2021\n${'x'.repeat(70000)}\r\n1 May 2000\n${'7'.repeat(65536)}\r\n` +
    `${'8'.repeat(65537)}\n${'é'.repeat(32768)}\n${'é'.repeat(32769)}\nlast`;
  for (const extra of [[], ['--json'], ['--beam', '1', '--batch', '3']]) {
    const a = ['translate', '-m', SMALL_MODEL, ...extra];
    const js = run('node', [CLI, ...a], { input }), nat = run(NATIVE, a, { input });
    assert.equal(js.status, 1, extra.join(' '));
    assert.equal(nat.status, 1);
    assert.equal(js.stderr, nat.stderr, extra.join(' '));
    assert.match(js.stderr, /^STELE_ERR_LIMIT: input has 70000 bytes, the session's limit is 65536 \(max_text_bytes\)$/m);
    assert.equal(js.stdout.split('\n').length, 9);
    if (!extra.includes('--json')) assert.equal(js.stdout, nat.stdout, extra.join(' '));
  }
  // a 128 MiB line: the Node CLI's peak RSS stays far below it (readline buffered it whole:
  // about 3.5 bytes of RSS per byte)
  if (existsSync('/usr/bin/time')) {
    const r = spawnSync('bash', ['-c', `{ head -c ${128 << 20} /dev/zero | tr '\\0' a; printf '\\n1 May 2000\\n'; } | ` +
      `/usr/bin/time -f 'maxrss %M' node ${CLI} translate -m ${SMALL_MODEL}`], { encoding: 'utf8' });
    const kb = Number(/maxrss (\d+)/.exec(r.stderr)?.[1]);
    assert.equal(r.stdout.split('\n').length, 3);
    assert.match(r.stderr, /input has 134217728 bytes/);
    assert.ok(kb > 0 && kb < 256 * 1024, `peak RSS ${kb} KB for a 128 MiB line`);
  }
});

test('--json prints null for a non-finite score in both CLIs', { skip }, () => {
  // every token but eos gets a logit of -3e38: the other n-best hypotheses score -Infinity
  const dir = mkdtempSync(path.join(tmpdir(), 'stele-cli-'));
  try {
    const b = Buffer.from(readFileSync(SMALL_MODEL));
    const n = Number(b.readBigUInt64LE(0));
    const h = JSON.parse(b.subarray(8, 8 + n).toString());
    const eos = JSON.parse(h.__metadata__.config).eos_id;
    const [s, e] = h['generator.bias'].data_offsets;
    for (let i = 0; i < (e - s) / 4; i++) b.writeFloatLE(i === eos ? 3e38 : -3e38, 8 + n + s + 4 * i);
    const m = path.join(dir, 'inf.safetensors');
    writeFileSync(m, b);
    const a = ['translate', '-m', m, '--json', '--beam', '4', '--nbest', '4', '1 May 2000'];
    for (const [cmd, pre] of [['node', [CLI]], [NATIVE, []]]) {
      const r = run(cmd, [...pre, ...a]);
      assert.equal(r.status, 0, r.stderr);
      const o = JSON.parse(r.stdout);
      assert.ok(o.nbest.some((x) => x.score === null), `${cmd}: ${r.stdout.slice(0, 300)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
