#!/usr/bin/env node
// The models' manifest, which the page's worker (web/worker.js) reads to key its model cache:
//
//   { "version": 1, "models": { "<name>": { "path": "<name>/model.safetensors", "bytes": N,
//                                           "sha256": "<hex>" }, ... } }
//
// scripts/serve.mjs answers /models/manifest.json with it, computed from the models folder it
// serves, so that it can never disagree with the files (nothing generated is committed). For a
// plain static host, write it next to the models once they are final:
//
//   node scripts/model-manifest.mjs [models-dir] > models-dir/manifest.json
//
// Hashing the 26 MB model takes a moment, so each file's hash is kept while its size and mtime
// stay the same.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const hashes = new Map();   // file -> { key: "size:mtime", sha256 }

async function sha256(file, st) {
  const key = `${st.size}:${st.mtimeMs}`;
  const known = hashes.get(file);
  if (known?.key === key) return known.sha256;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk);
  const hex = h.digest('hex');
  hashes.set(file, { key, sha256: hex });
  return hex;
}

/** The manifest of every <dir>/<name>/model.safetensors. */
export async function modelManifest(dir) {
  const models = {};
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!e.isDirectory()) continue;
    const file = path.join(dir, e.name, 'model.safetensors');
    const st = await fsp.stat(file).catch(() => null);
    if (!st?.isFile()) continue;
    models[e.name] = { path: `${e.name}/model.safetensors`, bytes: st.size, sha256: await sha256(file, st) };
  }
  return { version: 1, models };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../models'));
  process.stdout.write(JSON.stringify(await modelManifest(dir), null, 1) + '\n');
}
