// What the page's views share: element lookup, the error banner, number formats, and the engine's
// worker (worker.js), whose messages go to the view that owns their slot ('translate' or
// 'caption': each view has its own model in the worker).

export const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- errors

export function showError(title, detail) {
  const el = $('error');
  el.replaceChildren();
  const b = document.createElement('strong');
  b.textContent = title;
  el.append(b);
  if (detail) el.append(document.createTextNode(' ' + detail));
  el.hidden = false;
}

export function clearError() {
  $('error').hidden = true;
  $('error').replaceChildren();
}

export function explain(code, message) {
  switch (code) {
    case 'STELE_ERR_NO_SIMD': return ['This browser cannot run stele:', message];
    case 'STELE_ERR_LIMIT': return ['Input too long:', message];
    case 'STELE_ERR_TEXT': return ['The input cannot be translated:', message];
    case 'STELE_ERR_IO': return ['The model failed to load:', message];
    default: return [`${code}:`, message];
  }
}

export const fmtScore = (x) => (Math.abs(x) < 0.001 && x !== 0 ? x.toExponential(1) : x.toFixed(3));
// Decimal units (1 MB = 10^6 bytes), as the README gives model and package sizes, so that the
// page's "27.52 MB" is the README's 27.5 MB.
export const fmtBytes = (n) => n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`;

// ---------------------------------------------------------------- worker

let worker = null;
const handlers = new Map();   // slot -> function (message data)

/** Registers the handler of a slot's messages from the worker. */
export function onWorker(slot, handler) {
  handlers.set(slot, handler);
}

/** Sends a message to the worker (false when it is not running). */
export function post(msg) {
  if (!worker) return false;
  worker.postMessage(msg);
  return true;
}

export function startWorker() {
  try {
    worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  } catch (e) {
    showError('The engine worker failed to start:', e.message);
    return false;
  }
  worker.onerror = (e) => {
    e.preventDefault();
    showError('The engine worker failed to start:', e.message || 'module workers may be unsupported here');
  };
  worker.addEventListener('message', ({ data }) => handlers.get(data.slot ?? 'translate')?.(data));
  return true;
}
