// What the image sections of `make bench` (caption.mjs, vqa.mjs) share: safetensors reading,
// medians, the machine and its load, the ONNX re-export when stale, onnxruntime-web set up as
// /work/shared/notes/bench.md says (wasm backend, one thread, graph optimisation 'all'), and the
// flag on repetitions that vary too much to be trusted.
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';

export const now = () => performance.now();
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
export const stat = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length });

// A repetition set whose (max - min) / median exceeds this is flagged: on this shared 2-core
// machine another process's burst can slow one pass by that much, and then the median of three
// says little.
export const SPREAD_LIMIT = 0.3;
export const spread = (s) => (s.max - s.min) / s.median;

// ---------------------------------------------------------------- safetensors (any dtype)
const DTYPES = { U8: Uint8Array, I32: Int32Array, F32: Float32Array, F64: Float64Array, I64: BigInt64Array };
export function readTensors(file) {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const base = 8 + n, tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const T = DTYPES[t.dtype];
    if (!T) continue;
    const [b, e] = t.data_offsets;
    const a = new T((e - b) / T.BYTES_PER_ELEMENT);   // a copy: offsets need not be aligned
    new Uint8Array(a.buffer).set(bytes.subarray(base + b, base + e));
    tensors[name] = { shape: t.shape, data: a };
  }
  return { bytes, tensors, meta: header.__metadata__ || {} };
}

// F32 parameters of a readTensors() model (the byte tensors, tokenizer and answers, excluded)
export const parameterCount = (model) => Object.values(model.tensors)
  .filter((t) => t.data instanceof Float32Array).reduce((s, t) => s + t.data.length, 0);

// ---------------------------------------------------------------- machine and load
const training = () => {
  const r = spawnSync('pgrep', ['-f', 'scripts/train']);
  return r.status === 0 ? r.stdout.toString().trim().split('\n').length : 0;
};

/** The CPU, Node, memory, and the load average and trainings running at the start. */
export function machineInfo() {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  return {
    cpu: (cpuinfo.match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model,
    cpu_family: Number((cpuinfo.match(/^cpu family\s*:\s*(\d+)/m) || [])[1]) || null,
    cpu_model: Number((cpuinfo.match(/^model\s*:\s*(\d+)/m) || [])[1]) || null,
    cpu_mhz: Number((cpuinfo.match(/^cpu MHz\s*:\s*([\d.]+)/m) || [])[1]) || null,
    cpu_flags_avx2: /\bavx2\b/.test(cpuinfo), cores: os.cpus().length, node: process.version,
    platform: `${os.platform()} ${os.release()}`, mem_gb: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadavg_start: os.loadavg().map((v) => +v.toFixed(2)), training_processes_start: training(),
  };
}

/** machineInfo()'s object completed at the end of the measurements. */
export function machineEnd(m) {
  m.loadavg_end = os.loadavg().map((v) => +v.toFixed(2));
  m.training_processes_end = training();
  return m;
}

/** "load average a b c at the start, d e f at the end[, a training running beside it]" */
export const loadText = (m) => `load average ${m.loadavg_start.join(' ')} at the start, ` +
  `${m.loadavg_end.join(' ')} at the end${m.training_processes_start || m.training_processes_end ? ', a training running beside it' : ''}`;

// ---------------------------------------------------------------- ONNX export
/**
 * Runs `py script args` when any of outputs is missing or older than one of inputs (the model
 * file, the export script); fail(msg) on an export error. The script's stdout is shown.
 */
export function exportWhenStale({ py, script, args, inputs, outputs, log, fail }) {
  const mtime = (f) => fs.statSync(f).mtimeMs;
  const stale = outputs.some((f) => !fs.existsSync(f)) ||
    Math.min(...outputs.map(mtime)) < Math.max(...inputs.map(mtime));
  if (!stale) return false;
  log(`${script} ${args.join(' ')}`);
  const r = spawnSync(py, [script, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.status !== 0) fail(`${script} failed:\n${r.stderr}`);
  return true;
}

// ---------------------------------------------------------------- onnxruntime-web
/** onnxruntime-web's Node build, one thread (stele is single-threaded): { ort, version, options }. */
export async function loadOrt() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  return {
    ort,
    version: JSON.parse(fs.readFileSync('node_modules/onnxruntime-web/package.json', 'utf8')).version,
    options: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' },
  };
}

/**
 * u8 pixels (interleaved, H x W x C) -> the reference's normalised floats, planar [1, C, H, W],
 * through the exporter's 256-entry pixel table (the very floats PyTorch computes).
 */
export function pixelTensor(ort, pixelTable, p, H, W, C) {
  const HW = H * W, x = new Float32Array(HW * C);
  for (let k = 0; k < HW; k++) for (let ch = 0; ch < C; ch++) x[ch * HW + k] = pixelTable[p[k * C + ch]];
  return new ort.Tensor('float32', x, [1, C, H, W]);
}
