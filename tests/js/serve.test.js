// scripts/serve.mjs (the demo page's server): nothing outside its folders, symbolic links
// included (compared by real path), while links that stay inside still work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

test('serve.mjs refuses symbolic links out of its folders', async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'stele-serve-'));
  const models = path.join(tmp, 'models'), outside = path.join(tmp, 'outside');
  mkdirSync(path.join(models, 'dates'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(models, 'dates', 'README.md'), 'inside\n');
  writeFileSync(path.join(outside, 'secret'), 'secret\n');
  symlinkSync(outside, path.join(models, 'x'));                              // a folder link out
  symlinkSync(path.join(outside, 'secret'), path.join(models, 'secret.md'));  // a file link out
  symlinkSync('/etc', path.join(models, 'etc'));
  symlinkSync(path.join(models, 'dates'), path.join(models, 'latest'));     // a link inside
  symlinkSync(models, path.join(tmp, 'models-link'));                        // the folder itself
  process.env.STELE_MODELS_DIR = path.join(tmp, 'models-link');
  const { createStaticServer } = await import(`../../scripts/serve.mjs?${Date.now()}`);
  const server = createStaticServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const get = async (p) => {
    const r = await fetch(base + p);
    return [r.status, await r.text()];
  };
  try {
    assert.deepEqual(await get('/models/dates/README.md'), [200, 'inside\n']);
    assert.deepEqual(await get('/models/latest/README.md'), [200, 'inside\n']);
    assert.equal((await get('/models/x/secret'))[0], 404);
    assert.equal((await get('/models/secret.md'))[0], 404);
    assert.equal((await get('/models/etc/passwd'))[0], 404);
    assert.equal((await get('/models/%2e%2e/outside/secret'))[0], 404);
    assert.equal((await get('/src/js/stele.js'))[0], 200);
  } finally {
    server.close();
    delete process.env.STELE_MODELS_DIR;
    rmSync(tmp, { recursive: true, force: true });
  }
});

// The Host check (DNS rebinding) and frame-ancestors: raw requests, since fetch() sets Host
// itself.
import http from 'node:http';
import os from 'node:os';

function rawGet(port, p, host) {
  return new Promise((resolve, reject) => {
    const headers = host === undefined ? {} : { host };
    const req = http.request({ host: '127.0.0.1', port, path: p, headers, setHost: false }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (c) => { body += c; });
      r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withServer(opts, fn) {
  const { createStaticServer } = await import('../../scripts/serve.mjs');
  const server = createStaticServer(opts);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(server.address().port);
  } finally {
    server.close();
  }
}

test('serve.mjs answers only Host names of this server (default: loopback)', async () => {
  await withServer({}, async (port) => {
    for (const h of ['localhost', `localhost:${port}`, '127.0.0.1', `127.0.0.1:${port}`, '[::1]',
      `[::1]:${port}`, 'LOCALHOST', 'localhost.:8080']) {
      const r = await rawGet(port, '/index.html', h);
      assert.equal(r.status, 200, h);
      assert.match(r.headers['content-security-policy'], /frame-ancestors 'none'/, h);
      assert.equal(r.headers['x-frame-options'], 'DENY');
    }
    for (const h of ['evil.example', `evil.example:${port}`, 'localhost.evil.example', '127.0.0.2',
      '10.0.0.1', '', 'localhost:80:80', 'user@localhost', '[::2]', 'localhost/x',
      ...(['localhost', '127.0.0.1'].includes(os.hostname()) ? [] : [os.hostname()])]) {
      const r = await rawGet(port, '/index.html', h);
      assert.equal(r.status, 421, JSON.stringify(h));
      assert.match(r.body, /misdirected/);
      assert.match(r.headers['content-security-policy'], /frame-ancestors 'none'/);
    }
    // Every kind of answer carries frame-ancestors: 404, 405 and the computed manifest.
    assert.match((await rawGet(port, '/nope', 'localhost')).headers['content-security-policy'],
      /frame-ancestors 'none'/);
    // models/ has no manifest.json file: the server computes it (the page's cache key).
    const man = await rawGet(port, '/models/manifest.json', 'localhost');
    assert.equal(man.status, 200);
    assert.ok(JSON.parse(man.body).models.dates.bytes > 0);
    assert.match(man.headers['content-security-policy'], /frame-ancestors 'none'/);
  });
});

test('serve.mjs Host check follows --host and --allow-host', async () => {
  const { hostChecker, hostOf } = await import('../../scripts/serve.mjs');
  assert.equal(hostOf('[::1]:80'), '[::1]');
  assert.equal(hostOf('Example.ORG.:8080'), 'example.org');
  assert.equal(hostOf('a b'), null);
  assert.equal(hostOf(undefined), null);
  // A named address: it and loopback, nothing else (not the machine's other addresses).
  const named = hostChecker({ host: '192.0.2.7' });
  assert.ok(named('192.0.2.7:8080') && named('localhost') && !named('192.0.2.8'));
  assert.ok(!named(os.hostname()));
  // A wildcard: every interface address and the host name too; still not a foreign name.
  for (const w of ['0.0.0.0', '::']) {
    const any = hostChecker({ host: w });
    const addrs = Object.values(os.networkInterfaces()).flat().map((a) => a.address);
    assert.ok(addrs.length > 0);
    for (const a of addrs) {
      const v = a.includes(':') ? `[${a.split('%')[0]}]:8080` : `${a}:8080`;
      assert.ok(any(v), `${w}: ${v}`);
    }
    assert.ok(any(os.hostname()) && any(`${os.hostname()}.local:1`));
    assert.ok(!any('evil.example') && !any(undefined));
  }
  const allowed = hostChecker({ host: '127.0.0.1', allow: ['Stele.Example'] });
  assert.ok(allowed('stele.example:8080') && !allowed('other.example'));
  assert.ok(hostChecker({ allow: ['*'] })('anything.example'));
  // The option reaches the server.
  await withServer({ allowHosts: ['stele.example'] }, async (port) => {
    assert.equal((await rawGet(port, '/index.html', `stele.example:${port}`)).status, 200);
    assert.equal((await rawGet(port, '/index.html', 'evil.example')).status, 421);
  });
});
