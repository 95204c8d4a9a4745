// What the e2e tests share (not a test file itself).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createStaticServer } from '../../scripts/serve.mjs';

// ---------------------------------------------------------------- the browser

/** scripts/serve.mjs on a free port of 127.0.0.1 and Debian's Chromium ($STELE_CHROMIUM) in a
 *  fresh profile (`name` prefixes its folder; `serviceWorkers: 'block'` lets routes see every
 *  request). problems collects each request that leaves the origin, and each console or page
 *  error of a page given to watch(); modelHits each model file the server sent (no query).
 *  close() ends both and deletes the profile. */
export async function startBrowser({ name, serviceWorkers = 'allow', viewport = { width: 1100, height: 900 } }) {
  const problems = [], modelHits = [];
  const server = createStaticServer();
  server.on('request', (req) => { if (req.url.includes('.safetensors')) modelHits.push(req.url.split('?')[0]); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const profile = mkdtempSync(path.join(tmpdir(), `stele-e2e-${name}-`));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.STELE_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      serviceWorkers,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport,
    });
  } catch (e) {
    server.close();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  context.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin + '/') && !/^(data|blob):/.test(u)) problems.push(`request to another origin: ${u}`);
  });
  // Console errors and page errors of p go to problems; `expected(message)` marks those a test
  // provokes on purpose.
  const watch = (p, what = '', expected = () => false) => {
    p.on('console', (m) => {
      if (m.type() === 'error' && !expected(m)) problems.push(`console error${what}: ${m.text()} (${m.location()?.url ?? ''})`);
    });
    p.on('pageerror', (e) => problems.push(`page error${what}: ${e.message}`));
    return p;
  };
  const page = watch(context.pages()[0] ?? await context.newPage());
  const close = async () => {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { origin, context, page, problems, modelHits, watch, close };
}

// Every element that shows text (own text nodes), visible and enabled, whose colour has less than
// 4.5:1 contrast (WCAG AA) with the background it sits on; and the body's background luminance.
// Backgrounds are composed from <html> down (alpha included), from computed styles only.
export function contrastReport() {
  const rgba = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    const v = m ? m[1].split(/[\s,/]+/).filter(Boolean).map(Number) : [0, 0, 0, 0];
    return [v[0], v[1], v[2], v[3] ?? 1];
  };
  const over = (top, under) => [0, 1, 2].map((k) => top[k] * top[3] + under[k] * (1 - top[3])).concat(1);
  const lum = (c) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const bgOf = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    return chain.reduce((c, e) => over(rgba(getComputedStyle(e).backgroundColor), c), [255, 255, 255, 1]);
  };
  const bad = [];
  let checked = 0;
  for (const el of document.body.querySelectorAll('*')) {
    if (![...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.data.trim())) continue;
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) || el.closest(':disabled, select, svg, .sr-only')) continue;
    const bg = bgOf(el), fg = over(rgba(getComputedStyle(el).color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    checked++;
    if (ratio < 4.5) bad.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} "${el.textContent.trim().slice(0, 30)}": ${ratio.toFixed(2)}`);
  }
  return { bodyBg: lum(bgOf(document.body)), checked, bad };
}

// An 8-bit grayscale, non-interlaced PNG's pixels ({ width, height, gray }), decoded here with
// node:zlib, so that the test checks the page's own decoding (the browser's) against another.
// Anything else throws.
export async function decodeGrayPng(b) {
  const { inflateSync } = await import('node:zlib');
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((v, i) => b[i] === v)) throw new Error('not a PNG');
  let at = 8, width = 0, height = 0;
  const idat = [];
  while (at < b.length) {
    const n = b.readUInt32BE(at), type = b.toString('latin1', at + 4, at + 8), data = b.subarray(at + 8, at + 8 + n);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 0 || data[12] !== 0) throw new Error('only 8-bit gray non-interlaced PNGs');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at += 12 + n;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const gray = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (width + 1)], row = raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1));
    for (let x = 0; x < width; x++) {
      const a = x > 0 ? gray[y * width + x - 1] : 0, up = y > 0 ? gray[(y - 1) * width + x] : 0;
      const c = x > 0 && y > 0 ? gray[(y - 1) * width + x - 1] : 0;
      let p = 0;
      if (f === 1) p = a;
      else if (f === 2) p = up;
      else if (f === 3) p = (a + up) >> 1;
      else if (f === 4) {
        const q = a + up - c, pa = Math.abs(q - a), pb = Math.abs(q - up), pc = Math.abs(q - c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
      } else if (f !== 0) throw new Error(`PNG filter ${f}`);
      gray[y * width + x] = (row[x] + p) & 255;
    }
  }
  return { width, height, gray };
}

// The composition rule of docs/design (web/scenes): a zero size x size canvas, each item's cell
// x cell sprite (atlas row = class, column = sprite) pasted at (cell * col + dx, cell * row +
// dy), clipped, combined with max.
export function composeScene(items, atlas, { size = 84, cell = 28, grid = 3 } = {}) {
  const out = new Uint8Array(size * size);
  for (const it of items) {
    const x0 = cell * (it.cell % grid) + (it.dx ?? 0), y0 = cell * Math.floor(it.cell / grid) + (it.dy ?? 0);
    for (let y = 0; y < cell; y++) for (let x = 0; x < cell; x++) {
      const tx = x0 + x, ty = y0 + y;
      if (tx < 0 || ty < 0 || tx >= size || ty >= size) continue;
      const v = atlas.gray[(cell * it.class + y) * atlas.width + cell * it.sprite + x];
      out[ty * size + tx] = Math.max(out[ty * size + tx], v);
    }
  }
  return out;
}
