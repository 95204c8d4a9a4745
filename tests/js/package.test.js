// The npm package, as the README tells a new user to use it: `npm pack` (its prepack checks
// dist/stele.wasm) gives stele-<version>.tgz; in a fresh temporary folder, every fenced `sh` and
// `js` block of README.md runs in order: the sh blocks line by line with bash (`npm init -y`,
// `npm install ./stele-<version>.tgz`, `npx stele ...`), each js block saved under the file name
// on its first line (`// index.mjs`, `// index.cjs`) and run with node. Every command must exit
// 0, and every output the README shows (`# → text` after a command, `// → text` after a
// console.log; `…` stands for anything) must be printed: exactly that line for a command, the
// next such line of the script's output for a js block.
// A block right after an HTML comment containing `readme-test: skip` is not run: it holds the
// repository's own commands (make demo, make test, make wasm && npm pack, build/stele ...),
// which the other tests cover. npm runs offline with a private cache (its one dependency,
// gettext-parser, is bundled in the tarball).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, WASM, modelPath, run } from './common.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const skip = !existsSync(modelPath('ui-en-fr')) && 'models/ui-en-fr (the default model) missing';

// The fenced blocks of a Markdown text: { lang, line (1-based), body: [lines], skip }.
function fencedBlocks(md) {
  const lines = md.split('\n'), blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(\w*)\s*$/.exec(lines[i]);
    if (!m) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    blocks.push({ lang: m[1], line: i + 1, body: lines.slice(i + 1, end),
      skip: before >= 0 && /<!--.*readme-test: skip/.test(lines[before]) });
    i = end;
  }
  return blocks;
}

// `… → expected` at the end of a line (after `#` or `//`): the expected output as a RegExp.
function expected(line, comment) {
  const at = line.indexOf(`${comment} → `);
  if (at < 0) return null;
  const text = line.slice(at + comment.length + 3).trim();
  const re = text.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return { text, re: new RegExp(`^${re}$`), code: line.slice(0, at) };
}

test('fencedBlocks and the skip marker', () => {
  const md = '<!-- readme-test: skip (why) -->\n```sh\nmake x\n```\n\n```js\n// a.mjs\nf(); // → 1\n```\n```text\nt\n```';
  const b = fencedBlocks(md);
  assert.deepEqual(b.map((x) => [x.lang, x.skip, x.body.length]), [['sh', true, 1], ['js', false, 2], ['text', false, 1]]);
  assert.ok(expected('f(); // → 2042-…', '//').re.test('2042-03-29'));
  assert.ok(!expected('f(); // → 2042-03-29', '//').re.test('2042-03-30'));
});

test('README: npm pack, a fresh npm init -y project, every sh and js block with its outputs', { skip, timeout: 600_000 }, () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'stele-pkg-'));
  try {
    const env = { ...process.env, npm_config_cache: path.join(tmp, 'npm-cache'), npm_config_offline: 'true',
      npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    delete env.STELE_MODELS;
    const pack = run('npm', ['pack', '--pack-destination', tmp, '--json'], { cwd: ROOT, env });
    assert.equal(pack.status, 0, pack.stderr);
    const info = JSON.parse(pack.stdout)[0];
    assert.equal(info.filename, `stele-${pkg.version}.tgz`);
    const files = info.files.map((f) => f.path).sort();
    for (const f of ['dist/stele.wasm', 'src/js/stele.js', 'src/js/cli.js', 'src/js/pool.js', 'src/js/pool_worker.js',
      'src/js/index.d.ts', 'package.json', 'README.md', 'LICENSE', 'LICENSES/GPL-3.0.txt',
      'models/ui-en-fr/model.safetensors', 'models/ui-en-fr-int8/model.safetensors', 'models/dates/model.safetensors'])
      assert.ok(files.includes(f), `${f} in the tarball (${files.join(', ')})`);
    console.log(`dist/stele.wasm: ${statSync(WASM).size} bytes; ${info.filename}: ${statSync(path.join(tmp, info.filename)).size} ` +
      `bytes (unpacked ${info.unpackedSize}, ${files.length} files)`);

    const proj = path.join(tmp, 'project');
    mkdirSync(proj);
    copyFileSync(path.join(tmp, info.filename), path.join(proj, info.filename));
    const blocks = fencedBlocks(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const ran = { sh: 0, js: 0 };
    for (const b of blocks) {
      if (b.skip || (b.lang !== 'sh' && b.lang !== 'js')) continue;
      ran[b.lang]++;
      if (b.lang === 'sh') {
        for (const [k, line] of b.body.entries()) {
          if (!line.trim() || line.trim().startsWith('#')) continue;
          const r = run('bash', ['-c', line], { cwd: proj, env });
          const where = `README.md:${b.line + 1 + k}: ${line}`;
          assert.equal(r.status, 0, `${where}\n${r.stderr}`);
          const want = expected(line, '#');
          if (want) assert.match(r.stdout.replace(/\n$/, ''), want.re, `${where}: prints ${want.text}`);
          console.log(`ok ${where.split(': ')[0]} ${line.split('#')[0].trim()}`);
        }
      } else {
        const name = /^\/\/ (\S+\.(?:mjs|cjs|js))\s*$/.exec(b.body[0])?.[1];
        assert.ok(name, `README.md:${b.line}: a js block starts with its file name (// index.mjs)`);
        writeFileSync(path.join(proj, name), b.body.join('\n') + '\n');
        const r = run('node', [name], { cwd: proj, env });
        assert.equal(r.status, 0, `README.md:${b.line} (${name})\n${r.stderr}`);
        const out = r.stdout.split('\n');
        let at = 0;
        for (const [k, line] of b.body.entries()) {
          const want = expected(line, '//');
          if (!want) continue;
          while (at < out.length && !want.re.test(out[at])) at++;
          assert.ok(at < out.length, `README.md:${b.line + 1 + k}: ${name} prints "${want.text}" (output:\n${r.stdout})`);
          at++;
        }
        console.log(`ok README.md:${b.line} node ${name}`);
      }
    }
    assert.ok(ran.sh >= 1 && ran.js >= 2, `README blocks run: ${JSON.stringify(ran)}`);
    const installed = JSON.parse(readFileSync(path.join(proj, 'node_modules/stele/package.json'), 'utf8'));
    assert.equal(installed.license, 'MIT AND GPL-3.0-only');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
