#!/usr/bin/env node
// The demo page's static server (make demo; the e2e test starts it too). No dependencies.
//
//   node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--allow-host NAME]... [--quiet]
//
// Serves web/ at /, and maps the package's own files instead of copying them into web/:
//   /src/js/*  -> src/js/*     (the ESM API the page's worker imports)
//   /dist/*    -> dist/*       (stele.wasm, as stele.js finds it: ../../dist/ next to src/js/)
//   /models/*  -> models/*     (model.safetensors and the model cards; STELE_MODELS_DIR overrides)
//   /models/manifest.json      (when models/ has no such file: each model's size and SHA-256,
//                               computed here, see scripts/model-manifest.mjs; the page's cache key)
// GET and HEAD only, no directory listings, nothing outside these folders (.. is refused, and
// so is a symbolic link leading out of its folder: real paths are compared).
// --port 0 picks a free port; the first line printed is always "serving <url>".
//
// Host header (DNS rebinding: a page on evil.example whose name later resolves to 127.0.0.1
// would otherwise read this server as its own origin). A request is answered only when its Host
// names this server: localhost, 127.0.0.1 or [::1] (any port); the --host address itself; with a
// wildcard --host (0.0.0.0, ::), every address of this machine's network interfaces (read at
// each request, so a new DHCP lease works) and its host name (os.hostname(), also as NAME.local);
// and each --allow-host NAME (for a DNS name of the machine; --allow-host '*' turns the check
// off). Anything else, or no Host at all, gets 421 Misdirected Request. Names compare without
// case and without one trailing dot; the port is not compared.
// Every response also says `frame-ancestors 'none'` (and X-Frame-Options: DENY for browsers
// without CSP level 2): no other site may frame the page (clickjacking).
import { createServer } from 'node:http';
import { createReadStream, promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { modelManifest } from './model-manifest.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const MOUNTS = [
  ['/src/js/', path.join(ROOT, 'src/js')],
  ['/dist/', path.join(ROOT, 'dist')],
  ['/models/', path.resolve(process.env.STELE_MODELS_DIR || path.join(ROOT, 'models'))],
  ['/', path.join(ROOT, 'web')],
];

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
  '.webmanifest': 'application/manifest+json',
};

/** Maps a URL path to a file under one of the mounts, or null (lexically: see realFile). */
export function resolvePath(urlPath) {
  return resolveMount(urlPath)?.file ?? null;
}

function resolveMount(urlPath) {
  let p;
  try {
    p = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return null;
  }
  if (p.includes('\0')) return null;
  if (p.endsWith('/')) p += 'index.html';
  for (const [prefix, dir] of MOUNTS) {
    if (!p.startsWith(prefix)) continue;
    const file = path.resolve(dir, '.' + p.slice(prefix.length - 1));
    if (file !== dir && !file.startsWith(dir + path.sep)) return null;
    return { file, dir };
  }
  return null;
}

/** The real path of the file a URL path maps to, or null when there is none or when it lies
 *  outside its mount's real folder: resolvePath only checks the path as written, and a symbolic
 *  link inside a served folder (web/x -> /etc) would otherwise serve /x/passwd. */
export async function realFile(urlPath) {
  const m = resolveMount(urlPath);
  if (!m) return null;
  try {
    const [file, dir] = await Promise.all([fsp.realpath(m.file), fsp.realpath(m.dir)]);
    return file === dir || file.startsWith(dir + path.sep) ? file : null;
  } catch {
    return null;   // missing, or a dangling link
  }
}

export function mimeType(file) {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

// On every response, errors included: frame-ancestors is only honoured as a header (not in a
// <meta> tag), so it belongs here rather than in web/index.html.
const NO_FRAMES = { 'content-security-policy': "frame-ancestors 'none'", 'x-frame-options': 'DENY' };

function send(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text), ...NO_FRAMES });
  res.end(text);
}

const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]', '::0']);
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** Lower case, without one trailing dot, IPv6 literals in brackets (as they appear in Host). */
function normHost(h) {
  h = String(h).toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
}

/** The host part of a Host header value ("name", "name:port", "[v6]", "[v6]:port"), normalised,
 *  or null when the value is not of that form. */
export function hostOf(value) {
  if (typeof value !== 'string' || value === '') return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]\s\/@]+)(?::(\d{1,5}))?$/.exec(value);
  return m ? normHost(m[1]) : null;
}

/** A predicate on Host header values: does this request name this server? See the header comment
 *  for the rule. `host` is the --host value, `allow` the --allow-host names. */
export function hostChecker({ host = '127.0.0.1', allow = [] } = {}) {
  if (allow.includes('*')) return () => true;
  const fixed = new Set([...LOOPBACK, ...allow.map(normHost)]);
  const wildcard = WILDCARDS.has(String(host).toLowerCase());
  if (!wildcard) fixed.add(normHost(host));
  return (value) => {
    const h = hostOf(value);
    if (h === null) return false;
    if (fixed.has(h)) return true;
    if (!wildcard) return false;
    const name = normHost(os.hostname());
    if (h === name || h === `${name}.local`) return true;
    for (const list of Object.values(os.networkInterfaces()))
      for (const a of list ?? []) if (normHost(a.address.split('%')[0]) === h) return true;
    return false;
  };
}

/** The server. `host`/`allowHosts`: the Host check (hostChecker); the default accepts the
 *  loopback names only, as fits a server listening on 127.0.0.1. */
export function createStaticServer({ quiet = true, host = '127.0.0.1', allowHosts = [] } = {}) {
  const hostOk = hostChecker({ host, allow: allowHosts });
  return createServer(async (req, res) => {
    const done = (status) => { if (!quiet) console.log(`${status} ${req.method} ${req.url}`); };
    if (!hostOk(req.headers.host)) {
      done(421);
      return send(res, 421, 'misdirected request: this server does not answer to that Host ' +
        '(see --allow-host in scripts/serve.mjs)\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      done(405);
      return send(res, 405, 'method not allowed\n');
    }
    const file = await realFile(req.url);
    let st = null;
    if (file) st = await fsp.stat(file).catch(() => null);
    const models = MOUNTS.find(([p]) => p === '/models/')[1];
    // realFile() is null for a file that does not exist, so the computed manifest is matched on
    // the lexical path (the merge of the real-path check with the manifest made it a 404).
    if (!st && resolvePath(req.url) === path.join(models, 'manifest.json')) {
      const body = JSON.stringify(await modelManifest(models));
      res.writeHead(200, { 'content-type': MIME['.json'], 'content-length': Buffer.byteLength(body),
        'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...NO_FRAMES });
      done(200);
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (!st || !st.isFile()) {
      done(404);
      return send(res, 404, 'not found\n');
    }
    res.writeHead(200, {
      'content-type': mimeType(file),
      'content-length': st.size,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      // The page loads nothing from anywhere else; the browser enforces it too.
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; " +
        "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; connect-src 'self'; " +
        "frame-ancestors 'none'",
    });
    done(200);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
}

async function main(argv) {
  let port = 8080, host = '127.0.0.1', quiet = false;
  const allowHosts = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') port = Number(argv[++i]);
    else if (a === '--host') host = argv[++i];
    else if (a === '--allow-host' && i + 1 < argv.length) allowHosts.push(argv[++i]);
    else if (a === '--quiet') quiet = true;
    else {
      console.error('usage: node scripts/serve.mjs [--port N] [--host H] [--allow-host NAME]... ' +
        `[--quiet] (unknown: ${a})`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('serve: --port must be 0..65535');
    process.exit(2);
  }
  const server = createStaticServer({ quiet, host, allowHosts });
  server.on('error', (e) => {
    console.error(`serve: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    console.log(`serving http://${host}:${server.address().port}/`);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main(process.argv.slice(2));
