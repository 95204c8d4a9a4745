// Types for stele (src/js/stele.js): attention-based LSTM seq2seq translation in WebAssembly.

/** The embedded default model's location, relative to stele.js. */
export const DEFAULT_MODEL: string;

/** True when this runtime supports WebAssembly SIMD128, which stele.wasm needs. */
export function simdSupported(): boolean;

/** C status names, plus the JS-only STELE_ERR_DISPOSED and STELE_ERR_NO_SIMD. */
export type SteleErrorCode =
  | 'STELE_ERR_ARGUMENT' | 'STELE_ERR_MEMORY' | 'STELE_ERR_IO' | 'STELE_ERR_HEADER'
  | 'STELE_ERR_DTYPE' | 'STELE_ERR_RANGE' | 'STELE_ERR_SHAPE' | 'STELE_ERR_MISSING'
  | 'STELE_ERR_CONFIG' | 'STELE_ERR_VERSION' | 'STELE_ERR_TOKENIZER' | 'STELE_ERR_TEXT'
  | 'STELE_ERR_LIMIT' | 'STELE_ERR_INTERNAL' | 'STELE_ERR_DISPOSED' | 'STELE_ERR_NO_SIMD';

/** Every engine failure: code is the C status name, message the C message. */
export class SteleError extends Error {
  readonly name: 'SteleError';
  readonly code: SteleErrorCode;
  constructor(code: SteleErrorCode, message: string);
}

export interface Progress {
  /** Bytes received so far. */
  loaded: number;
  /** Total bytes, or 0 when unknown (a response without Content-Length). */
  total: number;
}

export interface Limits {
  /** Pieces of one input, eos included (default 256, max 4096). */
  maxSourceTokens?: number;
  /** Output pieces, eos included (default 512, max 4096). */
  maxTargetTokens?: number;
  /** Largest beam translate() accepts (default 16, max 64). */
  maxBeam?: number;
  /** UTF-8 bytes of one input (default 65536, max 16777216). */
  maxTextBytes?: number;
}

export type ModelSource = string | URL | ArrayBuffer | ArrayBufferView | Response;

export interface LoadOptions {
  onProgress?: (progress: Progress) => void;
  limits?: Limits;
  /** Where stele.wasm comes from (default: ../../dist/stele.wasm next to stele.js). */
  wasm?: string | URL | ArrayBuffer | ArrayBufferView | Response | WebAssembly.Module;
}

export interface TranslateOptions {
  /** 1 = greedy search; 2..limits.maxBeam = beam search. Left out: translator.defaults. */
  beam?: number;
  /** Hypotheses returned in nbest, 1..beam. */
  nbest?: number;
  /** GNMT length penalty ((5+|Y|)/6)^alpha. */
  alpha?: number;
  /** GNMT coverage penalty weight. */
  beta?: number;
  /** Most output pieces, eos included (default: the model's len_a * sourceLength + len_b). */
  maxLength?: number;
}

export interface Hypothesis {
  text: string;
  /** logp / length penalty + coverage penalty: the ranking score. */
  score: number;
  /** Summed log-probability. */
  logp: number;
  /** Output pieces ("▁Enregistrer", "</s>"). */
  tokens: string[];
  ids: Int32Array;
}

export interface Alignment {
  /** Target pieces of the best hypothesis (eos included). */
  rows: number;
  /** Source pieces (eos included). */
  cols: number;
  /** rows x cols attention weights, row-major. */
  weights: Float32Array;
}

export interface WordAlignment {
  sourceWords: string[];
  targetWords: string[];
  /** targetWords.length */
  rows: number;
  /** sourceWords.length */
  cols: number;
  /** rows x cols: attention summed over source pieces, averaged over target pieces; null when
   *  the model has no attention. */
  weights: Float32Array | null;
  /** [targetWord, sourceWord] with the largest weight, one per target word. */
  pairs: Array<[number, number]>;
}

export interface Translation {
  text: string;
  score: number;
  logp: number;
  sourceTokens: string[];
  targetTokens: string[];
  sourceIds: Int32Array;
  targetIds: Int32Array;
  /** null when the model has no attention (score "none") or the input was empty. */
  alignment: Alignment | null;
  wordAlignment: WordAlignment;
  /** Best first; nbest[0] is the translation above. */
  nbest: Hypothesis[];
}

export interface TranslatorInfo {
  name: string;
  formatVersion: number;
  /** "wasm-simd128" */
  kernels: string;
  /** The model's config metadata (models/FORMAT.md). */
  config: Record<string, unknown>;
  search: { len_a: number; len_b: number };
  parameters: number;
  tensorBytes: number;
  tensors: Record<string, { dtype: string; shape: number[]; bytes: number }>;
  vocabSize: number;
  modelBytes: number;
  limits: Required<Limits>;
  /** Current size of this translator's wasm memory. */
  wasmMemoryBytes: number;
}

export class Translator {
  /** source undefined: the embedded default model. */
  static load(source?: ModelSource, options?: LoadOptions): Promise<Translator>;
  readonly info: TranslatorInfo;
  /** The C engine's info JSON (what `stele info` prints). */
  readonly infoJson: string;
  /** The search options translate() uses when left out (the C stele_default_params()). */
  readonly defaults: { beam: number; nbest: number; alpha: number; beta: number };
  readonly disposed: boolean;
  translate(text: string, options?: TranslateOptions): Translation;
  /**
   * The translations of texts, in order. With beam 1 the texts are decoded together,
   * batchSize (1..256, default 8) sentences at a time, refilled as sentences end: the same
   * outputs as one by one, about twice the throughput. With beam > 1, one by one.
   */
  translateBatch(texts: string[], options?: TranslateOptions & { batchSize?: number }): Translation[];
  /** Frees everything; safe to call twice; any other use afterwards throws STELE_ERR_DISPOSED. */
  dispose(): void;
  private constructor();
}

export default Translator;
