// Both CLIs (src/js/cli.js, build/stele): --help and its aliases, the readable `info`, named
// models (-m dates, $STELE_MODELS, unknown names) and `stele models`. (tests/js/cli.test.js
// compares the translations themselves.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, NATIVE, SMALL_MODEL, modelPath, run } from './common.js';

const skip = !existsSync(NATIVE) && 'build/stele missing';

// Both CLIs print the same help (but for the lines about -m, which the Node CLI defaults, and
// where names are looked up), on stdout, exit 0, for each way of asking.
test('--help, -h, help, translate --help: the same help in both CLIs, exit 0', { skip }, () => {
  const ref = run(NATIVE, ['--help']);
  assert.equal(ref.status, 0);
  for (const a of [['--help'], ['-h'], ['help'], ['translate', '--help'], ['translate', '-m', 'x', '-h'], ['info', '--help']]) {
    const js = run('node', [CLI, ...a]), nat = run(NATIVE, a);
    assert.equal(js.status, 0, `node cli ${a.join(' ')}`);
    assert.equal(nat.status, 0, `native ${a.join(' ')}`);
    assert.equal(nat.stdout, ref.stdout);
    assert.equal(js.stderr + nat.stderr, '');
    const a1 = js.stdout.split('\n'), b1 = nat.stdout.split('\n');
    assert.equal(a1.length, b1.length);
    const differ = a1.filter((l, i) => l !== b1[i]);
    assert.ok(differ.every((l) => /MODEL|looked up/.test(l)), `lines that differ: ${differ.join(' | ')}`);
    assert.ok(differ.length <= 4, differ.join('\n'));
    for (const want of ['--beam K', '[5]', '--nbest N', '[0.2]', '--batch N', '--json', '--align', '65,536 bytes', 'examples:', 'stele models'])
      assert.ok(js.stdout.includes(want), `help lacks ${want}`);
  }
});

test('info: readable lines, the same in both CLIs but for the kernels', { skip }, () => {
  const js = run('node', [CLI, 'info', 'dates']), nat = run(NATIVE, ['info', 'dates']);
  assert.equal(js.status, 0, js.stderr);
  assert.equal(nat.status, 0, nat.stderr);
  const strip = (o) => o.replace(/^kernels .*\n/m, '');
  assert.equal(strip(js.stdout), strip(nat.stdout));
  assert.match(js.stdout, /^name {8}dates\nfile {8}\S+models\/dates\/model\.safetensors \([\d,]+ bytes\)\nencoder {5}bilstm/);
  assert.match(js.stdout, /\nparameters {2}[\d,]+ in \d+ tensors/);
  assert.match(js.stdout, /\nkernels {5}wasm-simd128\n$/);
});

test('named models: -m dates, stele models, $STELE_MODELS, unknown names', { skip }, () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'stele-names-'));
  try {
    for (const cli of [['node', [CLI]], [NATIVE, []]]) {
      const go = (args, opts) => run(cli[0], [...cli[1], ...args], { cwd: tmp, ...opts });
      // from a directory with no models/: the package's (Node) / the binary's (native)
      const d = go(['translate', '-m', 'dates', '29th March 2042']);
      assert.equal(d.status, 0, d.stderr);
      assert.equal(d.stdout, '2042-03-29\n');
      const list = go(['models']);
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /^name +size  path\ndates +[\d.]+ MiB  \/\S+\/models\/dates\/model\.safetensors\n/);
      // a path still works
      assert.equal(go(['translate', '-m', modelPath('dates'), '29th March 2042']).stdout, '2042-03-29\n');
      // a bare word that is neither a file nor a model
      const bad = go(['translate', '-m', 'no-such-model', 'x']);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /^STELE_ERR_IO: "no-such-model" is neither a model file nor the name of a model.*`stele models` lists the models\n$/);
      // $STELE_MODELS comes first
      mkdirSync(path.join(tmp, 'm/dates'), { recursive: true });
      cpSync(SMALL_MODEL, path.join(tmp, 'm/dates/model.safetensors'));
      mkdirSync(path.join(tmp, 'm/empty-folder'), { recursive: true });
      const env = { ...process.env, STELE_MODELS: path.join(tmp, 'm') };
      const l2 = go(['models'], { env });
      assert.match(l2.stdout, new RegExp(`\\ndates +[\\d.]+ MiB  ${path.join(tmp, 'm/dates/model.safetensors')}\\n`));
      assert.doesNotMatch(l2.stdout, /empty-folder/);
      assert.equal(go(['info', '--json', 'dates'], { env }).status, 0);
      rmSync(path.join(tmp, 'm'), { recursive: true });
    }
    assert.equal(run('node', [CLI, 'models']).stdout, run(NATIVE, ['models']).stdout);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
