// scripts/prepack.mjs (package.json "prepack"): `npm pack` is refused when dist/stele.wasm is
// missing or older than a source of the wasm build, and allowed when it is fresh. Run on a
// temporary staged copy (package.json, the script, a few sources, a wasm), never the worktree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, run } from './common.js';

function stage(dir) {
  for (const f of ['package.json', 'scripts/prepack.mjs']) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    cpSync(path.join(ROOT, f), path.join(dir, f));
  }
  for (const f of ['src/stele.c', 'src/stele.h', 'src/cli.c', 'src/wasm/stele_wasm.c', 'dist/stele.wasm']) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), f);
  }
}

const age = (dir, f, secondsAgo) => {
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(path.join(dir, f), t, t);
};

test('prepack refuses a missing or stale dist/stele.wasm and lets a fresh one through', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'stele-prepack-'));
  const prepack = (cwd) => run('node', [path.join(tmp, 'scripts/prepack.mjs')], { cwd });
  try {
    stage(tmp);
    for (const f of ['src/stele.c', 'src/stele.h', 'src/cli.c', 'src/wasm/stele_wasm.c']) age(tmp, f, 100);
    let r = prepack(tmpdir());   // from any directory: the script checks its own package
    assert.equal(r.status, 0, r.stderr);

    age(tmp, 'src/wasm/stele_wasm.c', 0);
    age(tmp, 'dist/stele.wasm', 50);
    r = prepack(tmp);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^prepack: dist\/stele\.wasm is older than 1 of its sources \(src\/wasm\/stele_wasm\.c\)\n/);
    assert.match(r.stderr, /run `make wasm`/);

    // src/cli.c is not part of the wasm build: newer is fine
    age(tmp, 'src/wasm/stele_wasm.c', 100);
    age(tmp, 'src/cli.c', 0);
    assert.equal(prepack(tmp).status, 0);
    age(tmp, 'src/stele.h', 0);
    assert.match(prepack(tmp).stderr, /older than 1 of its sources \(src\/stele\.h\)/);

    rmSync(path.join(tmp, 'dist/stele.wasm'));
    r = prepack(tmp);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^prepack: dist\/stele\.wasm is missing\n/);

    // and npm runs it: `npm pack` in the staged copy fails with the message
    const env = { ...process.env, npm_config_cache: path.join(tmp, 'npm-cache'), npm_config_update_notifier: 'false' };
    r = run('npm', ['pack', '--dry-run'], { cwd: tmp, env });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /prepack: dist\/stele\.wasm is missing/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
