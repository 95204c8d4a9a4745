// The Node CLI (src/js/cli.js) against the native one (build/stele): same options, same --json
// schema and values, same text output, exit codes and error lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { CLI, NATIVE, SMALL_MODEL, TOL, run } from './common.js';

const skip = !existsSync(NATIVE) && 'build/stele missing';
const INPUTS = ['29th March 2042', '3 mars 2021', '', 'Open the file', '19 января 1970'];

function compareJson(a, b, where) {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), where);
  for (const k of Object.keys(a)) {
    if (typeof a[k] === 'number') assert.ok(Math.abs(a[k] - b[k]) <= TOL, `${where}.${k}: ${a[k]} vs ${b[k]}`);
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

test('info prints the engine\'s model info', { skip }, () => {
  const js = run('node', [CLI, 'info', SMALL_MODEL]), nat = run(NATIVE, ['info', SMALL_MODEL]);
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
