// Models by name: Translator.load('dates') loads the package's models/dates/model.safetensors;
// shippedModels() lists each folder of models/ holding a model.safetensors; a bare word that is
// an existing file is that file; a name that is neither is a SteleError naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Translator, SteleError, modelUrl, shippedModels } from '../../src/js/stele.js';
import { ROOT, modelPath } from './common.js';

const skip = !existsSync(modelPath('dates')) && 'models/dates missing';

test('shippedModels() lists the folders of models/ that hold model.safetensors', async () => {
  const want = readdirSync(path.join(ROOT, 'models')).filter((n) => existsSync(modelPath(n))).sort();
  const got = await shippedModels();
  assert.deepEqual(got.map((m) => m.name), want);
  for (const m of got) {
    assert.equal(m.path, modelPath(m.name));
    assert.ok(m.bytes > 0);
    assert.equal(modelUrl(m.name).pathname, modelPath(m.name));
  }
  assert.throws(() => modelUrl('../dates'), (e) => e instanceof SteleError && e.code === 'STELE_ERR_ARGUMENT');
});

test("Translator.load('dates'), a bare file name, an unknown name", { skip }, async () => {
  const t = await Translator.load('dates');
  assert.equal(t.translate('29th March 2042').text, '2042-03-29');
  assert.equal(t.info.name, 'dates');
  t.dispose();
  const tmp = mkdtempSync(path.join(tmpdir(), 'stele-names-'));
  const cwd = process.cwd();
  try {
    process.chdir(tmp);
    cpSync(modelPath('dates'), 'mine');
    const m = await Translator.load('mine');
    assert.equal(m.translate('5 mars 2019').text, '2019-03-05');
    m.dispose();
    writeFileSync('dates', 'not a model');   // a file of that name wins over the shipped model
    await assert.rejects(Translator.load('dates'), (e) => e instanceof SteleError && e.code !== 'STELE_ERR_IO');
    await assert.rejects(Translator.load('no-such-model'), (e) => e instanceof SteleError &&
      e.code === 'STELE_ERR_IO' && /"no-such-model" is neither a model file nor the name of a model \(shipped: .*dates.*\); `stele models`/.test(e.message));
  } finally {
    process.chdir(cwd);
    rmSync(tmp, { recursive: true, force: true });
  }
});
