// Drawing attention weights, shared by the views: the colour scale of the translation heatmap
// (cells, legend, exported PNG) and the overlay of an attention map on an image (Images view).

// Sequential colour scale: near-white to deep indigo (monotonic lightness). In dark mode the
// scale runs the other way, from the card's dark to near-white, so that a strong weight stands
// out from the dark page instead of melting into it. Exported PNGs (white) keep the light one.
export const STOPS = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107], [20, 12, 60]];
export const STOPS_DARK = [[30, 36, 46], [8, 48, 107], [33, 113, 181], [107, 174, 214], [198, 219, 239], [250, 252, 255]];
export const darkMode = window.matchMedia('(prefers-color-scheme: dark)');

function mix(stops, v) {
  const x = Math.min(1, Math.max(0, v)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  return stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * f));
}

/** The heatmap's CSS colour for a weight in 0..1 (the page's scheme unless stops are given). */
export function colour(v, stops = darkMode.matches ? STOPS_DARK : STOPS) {
  const c = mix(stops, v);
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** A CSS gradient of a scale, for a legend bar. */
export function gradient(stops = darkMode.matches ? STOPS_DARK : STOPS) {
  const n = stops.length - 1;
  return `linear-gradient(to right, ${stops.map((_, i) => colour(i / n, stops)).join(', ')})`;
}

// ---------------------------------------------------------------- image overlays

// The overlay's scale (over a white-on-black scene, in either colour scheme): dark violet to
// pale yellow, with an opacity that grows with the weight, so that an unattended place shows the
// image unchanged.
export const OVERLAY_STOPS = [[60, 15, 110], [170, 45, 120], [240, 100, 70], [253, 190, 60], [252, 250, 170]];
export const OVERLAY_ALPHA = 0.8;
export const OVERLAY_FLOOR = 4;

/** The legend's gradient for the overlay. */
export const overlayGradient = () => gradient(OVERLAY_STOPS);

/**
 * Draws one attention map (weights [gh * gw], row-major over the feature grid) over the whole
 * of canvas: each canvas pixel takes the bilinear interpolation of the grid at its centre (the
 * grid cell (r, c) is centred on ((c + 0.5) / gw, (r + 0.5) / gh) of the image; beyond the
 * outer centres the edge values hold), divided by the map's largest weight or OVERLAY_FLOOR
 * times the uniform weight 1 / (gh * gw), whichever is larger (so a peaked map reaches full
 * colour at its peak, while a nearly uniform one stays faint instead of covering the image),
 * then coloured with OVERLAY_STOPS and opacity OVERLAY_ALPHA * v. weights null clears the
 * canvas. Returns the largest weight (0 when cleared).
 */
export function drawOverlay(canvas, weights, gh, gw) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  if (!weights || !gh || !gw) return 0;
  let max = 0;
  for (let k = 0; k < gh * gw; k++) if (weights[k] > max) max = weights[k];
  if (!(max > 0)) return 0;
  const scale = Math.max(max, OVERLAY_FLOOR / (gh * gw));
  const img = ctx.createImageData(W, H), px = img.data;
  // Each column's (and row's) two grid neighbours and weight, computed once.
  const axis = (n, g) => {
    const lo = new Int32Array(n), hi = new Int32Array(n), f = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const t = Math.min(g - 1, Math.max(0, ((i + 0.5) / n) * g - 0.5));
      lo[i] = Math.floor(t);
      hi[i] = Math.min(g - 1, lo[i] + 1);
      f[i] = t - lo[i];
    }
    return { lo, hi, f };
  };
  const X = axis(W, gw), Y = axis(H, gh);
  const lut = [];
  for (let k = 0; k <= 255; k++) lut.push(mix(OVERLAY_STOPS, k / 255));
  for (let y = 0; y < H; y++) {
    const r0 = Y.lo[y] * gw, r1 = Y.hi[y] * gw, fy = Y.f[y];
    for (let x = 0; x < W; x++) {
      const c0 = X.lo[x], c1 = X.hi[x], fx = X.f[x];
      const top = weights[r0 + c0] + (weights[r0 + c1] - weights[r0 + c0]) * fx;
      const bot = weights[r1 + c0] + (weights[r1 + c1] - weights[r1 + c0]) * fx;
      const v = Math.min(1, Math.max(0, (top + (bot - top) * fy) / scale));
      const c = lut[Math.round(v * 255)], o = (y * W + x) * 4;
      px[o] = c[0];
      px[o + 1] = c[1];
      px[o + 2] = c[2];
      px[o + 3] = Math.round(255 * OVERLAY_ALPHA * v);
    }
  }
  ctx.putImageData(img, 0, 0);
  return max;
}

// ---------------------------------------------------------------- glimpses (the Ask mode)

// One colour per glimpse (a VQA model has 1 to 4): orange and sky blue first, a pair that stays
// distinct with the common colour-vision deficiencies (Okabe & Ito's palette, brightened to
// stand out on the dark scene), then bluish green and reddish purple.
export const GLIMPSE_COLOURS = [[255, 150, 0], [60, 180, 255], [0, 200, 140], [230, 110, 190]];
export const GLIMPSE_NAMES = ['orange', 'blue', 'green', 'purple'];

/**
 * Draws G glimpse maps (weights: G rows of gh * gw, row-major) over the whole of canvas, glimpse g
 * in GLIMPSE_COLOURS[g], only those with show[g]. Each map is upsampled and scaled as drawOverlay
 * does (bilinear, divided by its peak or OVERLAY_FLOOR / (gh * gw), whichever is larger), giving
 * an opacity a_g = OVERLAY_ALPHA * v_g; the layers combine regardless of their order: opacity
 * 1 - prod(1 - a_g) (as stacked translucent films), colour the mean of the glimpses' colours
 * weighted by a_g^3: where one glimpse is clearly the stronger its colour stays pure (a plain
 * a_g-weighted mean greys out every place both look at), and only where they are about as
 * strong do the colours mix. Returns each glimpse's largest weight.
 */
export function drawGlimpses(canvas, weights, G, gh, gw, show = []) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height, S = gh * gw;
  ctx.clearRect(0, 0, W, H);
  const peaks = [];
  const on = [];
  for (let g = 0; g < G; g++) {
    let max = 0;
    for (let k = 0; k < S; k++) if (weights[g * S + k] > max) max = weights[g * S + k];
    peaks.push(max);
    if (show[g] && max > 0) on.push({ g, scale: Math.max(max, OVERLAY_FLOOR / S), c: GLIMPSE_COLOURS[g % GLIMPSE_COLOURS.length] });
  }
  if (!on.length) return peaks;
  const img = ctx.createImageData(W, H), px = img.data;
  const axis = (n, g) => {
    const lo = new Int32Array(n), hi = new Int32Array(n), f = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const t = Math.min(g - 1, Math.max(0, ((i + 0.5) / n) * g - 0.5));
      lo[i] = Math.floor(t);
      hi[i] = Math.min(g - 1, lo[i] + 1);
      f[i] = t - lo[i];
    }
    return { lo, hi, f };
  };
  const X = axis(W, gw), Y = axis(H, gh);
  for (let y = 0; y < H; y++) {
    const r0 = Y.lo[y] * gw, r1 = Y.hi[y] * gw, fy = Y.f[y];
    for (let x = 0; x < W; x++) {
      const c0 = X.lo[x], c1 = X.hi[x], fx = X.f[x];
      let clear = 1, sa = 0, r = 0, gr = 0, b = 0;
      for (const { g, scale, c } of on) {
        const m = weights, o0 = g * S;   // an array or a typed array
        const top = m[o0 + r0 + c0] + (m[o0 + r0 + c1] - m[o0 + r0 + c0]) * fx;
        const bot = m[o0 + r1 + c0] + (m[o0 + r1 + c1] - m[o0 + r1 + c0]) * fx;
        const a = OVERLAY_ALPHA * Math.min(1, Math.max(0, (top + (bot - top) * fy) / scale));
        const w = a * a * a;
        clear *= 1 - a;
        sa += w;
        r += w * c[0];
        gr += w * c[1];
        b += w * c[2];
      }
      const o = (y * W + x) * 4;
      if (sa > 0) {
        px[o] = Math.round(r / sa);
        px[o + 1] = Math.round(gr / sa);
        px[o + 2] = Math.round(b / sa);
      }
      px[o + 3] = Math.round(255 * (1 - clear));
    }
  }
  ctx.putImageData(img, 0, 0);
  return peaks;
}
