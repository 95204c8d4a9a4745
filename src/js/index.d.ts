// Types for stele (src/js/stele.js): attention-based LSTM seq2seq translation in WebAssembly.

/** The embedded default model's location, relative to stele.js. */
export const DEFAULT_MODEL: string;

/** True when this runtime supports WebAssembly SIMD128, which stele.wasm needs. */
export function simdSupported(): boolean;

/** The URL of the model `name` shipped with the package (models/<name>/model.safetensors). */
export function modelUrl(name: string): URL;

/** Node: the models shipped with the package (each folder of models/ with model.safetensors). */
export function shippedModels(): Promise<{ name: string; path: string; bytes: number }[]>;

/** C status names, plus the JS-only STELE_ERR_DISPOSED, STELE_ERR_NO_SIMD and
 *  STELE_ERR_WORKER (a TranslatorPool worker died). */
export type SteleErrorCode =
  | 'STELE_ERR_ARGUMENT' | 'STELE_ERR_MEMORY' | 'STELE_ERR_IO' | 'STELE_ERR_HEADER'
  | 'STELE_ERR_DTYPE' | 'STELE_ERR_RANGE' | 'STELE_ERR_SHAPE' | 'STELE_ERR_MISSING'
  | 'STELE_ERR_CONFIG' | 'STELE_ERR_VERSION' | 'STELE_ERR_TOKENIZER' | 'STELE_ERR_TEXT'
  | 'STELE_ERR_LIMIT' | 'STELE_ERR_INTERNAL' | 'STELE_ERR_WEIGHTS' | 'STELE_ERR_DISPOSED'
  | 'STELE_ERR_NO_SIMD' | 'STELE_ERR_WORKER';

/** Every engine failure: code is the C status name, message the C message. */
export class SteleError extends Error {
  readonly name: 'SteleError';
  readonly code: SteleErrorCode;
  /** TranslatorPool.translateBatch only: the index of the text that failed (its message starts
   *  "texts[index]: "). */
  index?: number;
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

/** A string without a path separator that is not an existing file is the name of a model
 *  shipped with the package ('dates', 'ui-en-fr': models/<name>/model.safetensors). */
export type ModelSource = string | URL | ArrayBuffer | ArrayBufferView | Response;

export interface LoadOptions {
  onProgress?: (progress: Progress) => void;
  limits?: Limits;
  /** Where stele.wasm comes from (default: ../../dist/stele.wasm next to stele.js). */
  wasm?: string | URL | ArrayBuffer | ArrayBufferView | Response | WebAssembly.Module;
}

/** Unknown keys are refused (STELE_ERR_ARGUMENT). */
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
  /** true: the result carries the search's trace (Translation.trace). Default false: recording
   *  it is extra work per step. translateBatch() with trace translates one text at a time. */
  trace?: boolean;
  /** Placeholders (%s, {0}, $1), markup (<b>..</b>, &amp;) and mnemonics (_File) kept out of
   *  the model and put back, each source placeholder exactly once (default true). When on and
   *  the text has such spans, tokens and alignments are those of the masked text. */
  protect?: boolean;
  /** true (default): ALL CAPS / Title Case input is translated in sentence case and the output
   *  given the input's case pattern; characters outside the vocabulary (emoji, symbols) are
   *  copied into the output beside the words they stood next to. false: the text as given. */
  normalize?: boolean;
  /** true (default): when the model carries a lexical shortlist (models/FORMAT.md), each step
   *  scores only the sentence's candidate target pieces (its source pieces' lists and the
   *  always-set), a smaller and faster output layer whose softmax runs over that subset; the
   *  output may differ from false (every piece) where the model's choice lies outside it. No
   *  effect on a model without a shortlist. */
  shortlist?: boolean;
}

export interface Hypothesis {
  text: string;
  /** logp / length penalty + coverage penalty: the ranking score. */
  score: number;
  /** Summed log-probability. */
  logp: number;
  /** Log-probability of each output piece (eos included); they sum to logp. */
  tokenLogp: number[];
  /** logp / number of pieces (0 without any): the sentence's confidence. */
  meanLogp: number;
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
  /** The word of each source piece (sourceTokens), -1 for </s>, which no word includes. */
  sourceWordOfPiece: Int32Array;
  /** The word of each target piece (targetTokens), -1 for </s>. */
  targetWordOfPiece: Int32Array;
}

export interface Translation {
  text: string;
  score: number;
  logp: number;
  /** true when logp is below the model's calibrated threshold (search.low_confidence_logp in
   *  models/FORMAT.md): a likely-wrong output. Always false for a model without one. */
  lowConfidence: boolean;
  /** Confidence of the best hypothesis: log-probability per target piece, and their mean. */
  tokenLogp: number[];
  meanLogp: number;
  sourceTokens: string[];
  targetTokens: string[];
  sourceIds: Int32Array;
  targetIds: Int32Array;
  /** null when the model has no attention (score "none") or the input was empty. */
  alignment: Alignment | null;
  wordAlignment: WordAlignment;
  /** Best first; nbest[0] is the translation above. */
  nbest: Hypothesis[];
  /** Only with options.trace (and a non-empty input): what the search considered. */
  trace?: SearchTrace;
}

/** One candidate the search ranked at a step (stele_trace_node in src/stele.h). Beam search
 *  ranks the 2 x beam best extensions of the live hypotheses per step: an eos extension
 *  finishes, the beam best others stay live, the rest are pruned; at the last allowed step the
 *  live ones finish. Greedy search has one node per step. */
export interface TraceNode {
  /** Index of the parent in steps[t - 1]; -1 at step 0 (the parent is the start symbol). */
  parent: number;
  /** The piece ("▁le", "</s>") and its id. */
  token: string;
  id: number;
  /** Cumulative log-probability, this token included. */
  logp: number;
  /** live: extended at the next step (or the search stopped early); finished: a complete
   *  hypothesis; pruned: fell out of the beam. */
  status: 'live' | 'finished' | 'pruned';
  /** Finished nodes only: the ranking score (as Hypothesis.score). */
  score?: number;
  /** Its index in nbest when it is a returned hypothesis (0: the translation); else -1. */
  rank: number;
}

export interface SearchTrace {
  /** steps[t]: the nodes of decoder step t, best logp first. */
  steps: TraceNode[][];
}

export interface TranslatorInfo {
  name: string;
  formatVersion: number;
  /** "f32", or "int8": matrices stored as int8 with a scale per row (format version 2). */
  weights: 'f32' | 'int8';
  /** "wasm-simd128" */
  kernels: string;
  /** The model's config metadata (models/FORMAT.md). */
  config: Record<string, unknown>;
  /** low_confidence_logp: the model's low-confidence threshold, when it has one. */
  search: { len_a: number; len_b: number; low_confidence_logp?: number };
  /** The lexical shortlist's sizes (models/FORMAT.md): ids over all source pieces' lists and
   *  pieces always in; null for a model without one (the option shortlist then does nothing). */
  shortlist: { candidates: number; always: number } | null;
  parameters: number;
  tensorBytes: number;
  tensors: Record<string, { dtype: string; shape: number[]; bytes: number }>;
  vocabSize: number;
  modelBytes: number;
  limits: Required<Limits>;
  /** Current size of this translator's wasm memory. */
  wasmMemoryBytes: number;
}

/** The largest model Translator.load accepts: 2 ** 30 bytes (the C STELE_MAX_MODEL_BYTES). */
export const MAX_MODEL_BYTES: number;

export class Translator {
  /** source undefined: the embedded default model. Models over MAX_MODEL_BYTES (1 GiB), and
   *  paths that are not regular files, are refused before reading (models/FORMAT.md "Limits").
   *  A model whose task is not "translate" (an image model) is refused: STELE_ERR_ARGUMENT. */
  static load(source?: ModelSource, options?: LoadOptions): Promise<Translator>;
  readonly info: TranslatorInfo;
  /** The C engine's info JSON (what `stele info` prints). */
  readonly infoJson: string;
  /** The search options translate() uses when left out (the C stele_default_params()). */
  readonly defaults: { beam: number; nbest: number; alpha: number; beta: number };
  readonly disposed: boolean;
  /** A text with a lone UTF-16 surrogate is refused (STELE_ERR_TEXT, naming its index). */
  translate(text: string, options?: TranslateOptions): Translation;
  /**
   * The translations of texts, in order. With beam 1 the texts are decoded together,
   * batchSize (1..256, default 8) sentences at a time, refilled as sentences end: the same
   * outputs as one by one, about twice the throughput. With beam > 1, one by one.
   * Options are checked the same on every path (unknown keys refused). Every entry must be a
   * string: a hole of a sparse array or a non-string is a TypeError naming texts[i].
   */
  translateBatch(texts: string[], options?: TranslateOptions & { batchSize?: number }): Translation[];
  /** Frees everything; safe to call twice; any other use afterwards throws STELE_ERR_DISPOSED. */
  dispose(): void;
  private constructor();
}

// ---------------------------------------------------------------- all cores

export interface PoolLoadOptions extends LoadOptions {
  /** Workers, 1..256 (default: defaultThreads(), the core count). */
  threads?: number;
}

export interface PoolBatchOptions extends TranslateOptions {
  /** Each worker's greedy batch, as Translator.translateBatch's (1..256, default 8). */
  batchSize?: number;
  /** Texts a worker takes from the queue at a time (default: 4 * batchSize for batched greedy
   *  search, else 1). */
  chunkSize?: number;
}

/** os.availableParallelism() in Node, navigator.hardwareConcurrency in browsers (1 if unknown). */
export function defaultThreads(): Promise<number>;

/**
 * Translator.translateBatch on every core: `threads` workers (worker_threads in Node, module
 * Web Workers in browsers), each with its own wasm instance and copy of the model; the compiled
 * WebAssembly.Module is shared. Results equal one Translator's, in input order.
 */
export class TranslatorPool {
  /** source and options as Translator.load's, plus threads. The model is read once and copied
   *  to each worker (each holds its own: memory is about threads x one Translator's). */
  static load(source?: ModelSource, options?: PoolLoadOptions): Promise<TranslatorPool>;
  /** Translator.info (the first worker's) plus threads. */
  readonly info: TranslatorInfo & { threads: number };
  readonly defaults: { beam: number; nbest: number; alpha: number; beta: number };
  readonly threads: number;
  readonly disposed: boolean;
  /**
   * Translator.translateBatch(texts, options) on the workers: the same Translation objects, in
   * input order. Every entry is checked before any work (TypeError for a non-string; SteleError
   * naming texts[i], with index, for a lone surrogate or more than limits.maxTextBytes bytes). A
   * text the engine refuses rejects the call with its SteleError: message "texts[i]: ...", index
   * i (the first in input order). A worker that dies rejects the call with STELE_ERR_WORKER
   * naming the worker and its texts; the pool then refuses every call (dispose it). Calls on one
   * pool run one after the other.
   */
  translateBatch(texts: string[], options?: PoolBatchOptions): Promise<Translation[]>;
  /** Stops the workers; a call in flight rejects with STELE_ERR_DISPOSED. Safe to call twice;
   *  any other use afterwards throws STELE_ERR_DISPOSED. */
  dispose(): void;
  private constructor();
}

// ---------------------------------------------------------------- image captioning

/** The shipped captioning model's name ('scenes-caption'): Captioner.load()'s default. */
export const DEFAULT_CAPTION_MODEL: string;

/**
 * An image for Captioner.caption():
 * - ImageData (RGBA), or raw 8-bit pixels: `height` rows of `width` pixels of `channels`
 *   interleaved bytes (1 gray, 3 RGB, 4 RGBA; RGB is made gray as ITU-R 601 luma, alpha is
 *   ignored), rows `stride` bytes apart. channels left out: data.length / (width * height);
 *   stride left out: width * channels.
 * - a canvas: anything with getContext('2d') and width/height (HTMLCanvasElement,
 *   OffscreenCanvas): its RGBA pixels.
 * The image must have the model's size (CaptionerInfo.image).
 */
export type CaptionImage =
  | { data: Uint8Array | Uint8ClampedArray | ArrayBuffer; width: number; height: number; channels?: 1 | 3 | 4; stride?: number }
  | { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null };

/** TranslateOptions' search options; unknown keys are refused (STELE_ERR_ARGUMENT). */
export interface CaptionOptions {
  /** 1 = greedy search; 2..limits.maxBeam = beam search. Left out: captioner.defaults. */
  beam?: number;
  /** Hypotheses returned in nbest, 1..beam. */
  nbest?: number;
  /** GNMT length penalty ((5+|Y|)/6)^alpha. */
  alpha?: number;
  /** GNMT coverage penalty weight. */
  beta?: number;
  /** Most output tokens, eos included (default: the model's len_b). */
  maxLength?: number;
}

export interface CaptionHypothesis {
  text: string;
  /** The caption's words (tokens without the final "</s>"). */
  words: string[];
  /** Output tokens, "</s>" included when the caption ended with it. */
  tokens: string[];
  ids: Int32Array;
  score: number;
  logp: number;
  tokenLogp: number[];
  meanLogp: number;
}

export interface Caption {
  /** The words joined by spaces, no space before "," or "?". */
  text: string;
  words: string[];
  /** words, plus "</s>" when the search ended the caption (not when it hit the length limit). */
  tokens: string[];
  ids: Int32Array;
  /** words.length rows of gridHeight * gridWidth weights: row t is word t's attention over the
   *  CNN's feature grid, row-major (place row * gridWidth + col); each row sums to 1. */
  attention: Float32Array;
  /** false for a model without attention (score "none"): attention is then empty. */
  hasAttention: boolean;
  /** The "</s>" step's map (gridHeight * gridWidth), or null without one. */
  eosAttention: Float32Array | null;
  /** The feature grid's size (10 x 10 for scenes-caption's 84 x 84 images). */
  gridHeight: number;
  gridWidth: number;
  score: number;
  logp: number;
  tokenLogp: number[];
  meanLogp: number;
  /** Best first; nbest[0] is the caption above. */
  nbest: CaptionHypothesis[];
}

export interface CaptionerInfo extends TranslatorInfo {
  /** The image size the model takes (config.image). */
  image: { width: number; height: number; channels: number };
}

/** An image-captioning model (config task "caption", models/FORMAT.md) and a session. */
export class Captioner {
  /** source: as Translator.load; undefined = the shipped 'scenes-caption'. A model whose task
   *  is not "caption" is refused (STELE_ERR_ARGUMENT), as Translator.load refuses a caption
   *  model. */
  static load(source?: ModelSource, options?: LoadOptions): Promise<Captioner>;
  readonly info: CaptionerInfo;
  readonly infoJson: string;
  readonly defaults: { beam: number; nbest: number; alpha: number; beta: number };
  readonly disposed: boolean;
  /** A malformed image, another size than the model's, or a bad option: SteleError
   *  STELE_ERR_ARGUMENT (beam over limits.maxBeam: STELE_ERR_LIMIT; a non-integer beam or
   *  nbest: TypeError, as translate()). */
  caption(image: CaptionImage, options?: CaptionOptions): Caption;
  /** Frees everything; safe to call twice; any other use afterwards throws STELE_ERR_DISPOSED. */
  dispose(): void;
  private constructor();
}

// ---------------------------------------------------------------- visual question answering

/** The shipped VQA model's name ('scenes-vqa'): Answerer.load()'s default. */
export const DEFAULT_VQA_MODEL: string;

export interface AnswerChoice {
  /** The answer's text ("top left", "bag", "2"). */
  answer: string;
  /** Its index in Answerer.answers (and in probs). */
  index: number;
  prob: number;
}

export interface Answer {
  /** The most probable answer (the lowest index among ties). */
  answer: string;
  index: number;
  /** The 5 most probable answers (fewer when the model has fewer), best first. */
  top: AnswerChoice[];
  /** Every answer's probability, in Answerer.answers' order; they sum to 1. */
  probs: Float32Array;
  /** glimpseCount rows of gridHeight * gridWidth weights: row g is glimpse g's attention over
   *  the CNN's feature grid, row-major (place row * gridWidth + col); each row sums to 1. */
  glimpses: Float32Array;
  glimpseCount: number;
  /** The feature grid's size. */
  gridHeight: number;
  gridWidth: number;
  /** The question's words as the model read them (unknown words: "<unk>"). */
  question: string[];
  questionIds: Int32Array;
}

export interface AnswererInfo {
  name: string;
  formatVersion: number;
  weights: 'f32' | 'int8';
  kernels: string;
  config: Record<string, unknown>;
  parameters: number;
  tensorBytes: number;
  tensors: Record<string, { dtype: string; shape: number[]; bytes: number }>;
  /** Question words the model knows. */
  vocabSize: number;
  modelBytes: number;
  /** maxSourceTokens: words of a question; maxTextBytes: its bytes. */
  limits: Required<Limits>;
  /** The image size the model takes (config.image). */
  image: { width: number; height: number; channels: number };
  answers: string[];
  /** The number of attention glimpses (config.glimpses, 1..4). */
  glimpses: number;
  wasmMemoryBytes: number;
}

/** A visual question answering model (config task "vqa", models/FORMAT.md) and a session. */
export class Answerer {
  /** source: as Translator.load; undefined = the shipped 'scenes-vqa'. A model whose task is
   *  not "vqa" is refused (STELE_ERR_ARGUMENT). */
  static load(source?: ModelSource, options?: LoadOptions): Promise<Answerer>;
  readonly info: AnswererInfo;
  readonly infoJson: string;
  /** The answers the model chooses from; answer i's probability is probs[i]. */
  readonly answers: string[];
  /** The words a question may use (id order, "<pad>" and "<unk>" included); any other word is
   *  read as "<unk>". */
  readonly words: string[];
  readonly disposed: boolean;
  /** image: as Captioner.caption, at the model's size. question: ASCII letters are read in lower
   *  case, "?" and "," are words of their own, unknown words are <unk>. A question that is not
   *  a string: TypeError; a malformed image, another size or a question without words:
   *  SteleError STELE_ERR_ARGUMENT; a lone surrogate: STELE_ERR_TEXT; more words or bytes than
   *  the limits: STELE_ERR_LIMIT. */
  answer(image: CaptionImage, question: string): Answer;
  /** Frees everything; safe to call twice; any other use afterwards throws STELE_ERR_DISPOSED. */
  dispose(): void;
  private constructor();
}

export default Translator;
