#!/usr/bin/env node
// The demo page's static server (make demo; the e2e test starts it too). No dependencies.
//
//   node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--quiet]
//
// Serves web/ at /, and maps the package's own files instead of copying them into web/:
//   /src/js/*  -> src/js/*     (the ESM API the page's worker imports)
//   /dist/*    -> dist/*       (stele.wasm, as stele.js finds it: ../../dist/ next to src/js/)
//   /models/*  -> models/*     (model.safetensors and the model cards; STELE_MODELS_DIR overrides)
// GET and HEAD only, no directory listings, nothing outside these folders (.. is refused).
// --port 0 picks a free port; the first line printed is always "serving <url>".
import { createServer } from 'node:http';
import { createReadStream, promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

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

/** Maps a URL path to a file under one of the mounts, or null. */
export function resolvePath(urlPath) {
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
    return file;
  }
  return null;
}

export function mimeType(file) {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function send(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function createStaticServer({ quiet = true } = {}) {
  return createServer(async (req, res) => {
    const done = (status) => { if (!quiet) console.log(`${status} ${req.method} ${req.url}`); };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      done(405);
      return send(res, 405, 'method not allowed\n');
    }
    const file = resolvePath(req.url);
    let st = null;
    if (file) st = await fsp.stat(file).catch(() => null);
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
      'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; " +
        "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; connect-src 'self'",
    });
    done(200);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
}

async function main(argv) {
  let port = 8080, host = '127.0.0.1', quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') port = Number(argv[++i]);
    else if (a === '--host') host = argv[++i];
    else if (a === '--quiet') quiet = true;
    else {
      console.error(`usage: node scripts/serve.mjs [--port N] [--host H] [--quiet] (unknown: ${a})`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('serve: --port must be 0..65535');
    process.exit(2);
  }
  const server = createStaticServer({ quiet });
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
