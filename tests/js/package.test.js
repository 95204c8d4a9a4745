// The npm package: `npm pack` gives stele-<version>.tgz; installed offline into a fresh project,
// (a) `import { Translator } from 'stele'` translates with the embedded model and prints the
// alignment's shape, (b) `npx stele translate "Open the file"` prints the translation.
// The embedded default is models/ui-en-fr (DEFAULT_MODEL in src/js/stele.js). Until that model
// exists, the package is packed from a staged copy of the package whose default slot holds
// models/dates, and the check is only that a translation comes out (French needs ui-en-fr).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, WASM, modelPath, run } from './common.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const REAL_DEFAULT = existsSync(modelPath('ui-en-fr'));

test('npm pack, offline install into a fresh project, import and npx', { timeout: 300_000 }, () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'stele-pkg-'));
  try {
    let packDir = ROOT;
    if (!REAL_DEFAULT) {
      packDir = path.join(tmp, 'stage');
      for (const f of ['package.json', 'README.md', ...pkg.files]) {
        const from = path.join(ROOT, f);
        if (!existsSync(from)) continue;
        mkdirSync(path.dirname(path.join(packDir, f)), { recursive: true });
        cpSync(from, path.join(packDir, f));
      }
      mkdirSync(path.join(packDir, 'models/ui-en-fr'), { recursive: true });
      cpSync(modelPath('dates'), path.join(packDir, 'models/ui-en-fr/model.safetensors'));
      console.log('models/ui-en-fr not there yet: packing a staged copy with models/dates as the default');
    }
    const env = { ...process.env, npm_config_cache: path.join(tmp, 'npm-cache'), npm_config_update_notifier: 'false' };
    const pack = run('npm', ['pack', '--pack-destination', tmp, '--json'], { cwd: packDir, env });
    assert.equal(pack.status, 0, pack.stderr);
    const info = JSON.parse(pack.stdout)[0];
    const tgz = path.join(tmp, info.filename);
    assert.equal(info.filename, `stele-${pkg.version}.tgz`);
    const files = info.files.map((f) => f.path).sort();
    for (const f of ['dist/stele.wasm', 'src/js/stele.js', 'src/js/cli.js', 'src/js/index.d.ts', 'models/ui-en-fr/model.safetensors', 'package.json'])
      assert.ok(files.includes(f), `${f} in the tarball (${files.join(', ')})`);
    console.log(`dist/stele.wasm: ${statSync(WASM).size} bytes; ${info.filename}: ${statSync(tgz).size} bytes ` +
      `(unpacked ${info.unpackedSize}, ${files.length} files: ${files.join(', ')})`);

    const proj = path.join(tmp, 'project');
    mkdirSync(proj);
    writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const inst = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tgz], { cwd: proj, env });
    assert.equal(inst.status, 0, inst.stderr);

    writeFileSync(path.join(proj, 'main.js'), [
      "import { Translator } from 'stele';",
      'const t = await Translator.load();',
      "const r = t.translate('Save the document');",
      'console.log(r.text);',
      'console.log(`alignment ${r.alignment.rows}x${r.alignment.cols}`);',
      't.dispose();',
    ].join('\n'));
    const a = run('node', ['main.js'], { cwd: proj, env });
    assert.equal(a.status, 0, a.stderr);
    const [text, shape] = a.stdout.trim().split('\n');
    console.log(`import: "${text}", ${shape}`);
    assert.match(shape, /^alignment \d+x\d+$/);
    assert.ok(text.length > 0);

    const b = run('npx', ['--offline', 'stele', 'translate', 'Open the file'], { cwd: proj, env });
    assert.equal(b.status, 0, b.stderr);
    console.log(`npx stele translate "Open the file": "${b.stdout.trim()}"`);
    assert.ok(b.stdout.trim().length > 0);
    if (REAL_DEFAULT) {
      assert.match(b.stdout, /fichier/i, 'French output from the embedded ui-en-fr model');
      assert.match(text, /document/i, 'French output from the embedded ui-en-fr model');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
