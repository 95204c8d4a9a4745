# Benchmarks (included by the top Makefile): `make bench` = scripts/bench/run.mjs on BENCH_MODEL's
# test sentences: stele wasm (through the npm package's entry) and native against onnxruntime-web
# (F32, and int8: scripts/bench/quantize_onnx.py) and TF.js (wasm backend), one thread; stele-wasm
# on the int8 model (INT8_MODEL=, with and without its shortlist) when that file exists; kernel
# roofline; build/bench/results.{json,md}.
#   make bench                           ui-en-fr, all test sentences, 5 repetitions
#   make bench SENTENCES=50 REPS=1       a quick run; MODEL=path.safetensors GOLDEN=... for others
#   stele-wasm-workers: a TranslatorPool of WORKERS (default 2) workers on WORKERS_MODEL (default
#   MODEL), each pass one translateBatch call; ENGINES=stele-wasm,stele-wasm-workers for just those.
#   Its 1 vs 2 workers alone, JS and native --threads: node scripts/bench/workers.mjs.
# Captioning section (scripts/bench/caption.mjs; also `make bench-caption` alone): stele-wasm's
# Captioner vs onnxruntime-web on CAPTION_MODEL's golden-trace images (greedy), conv kernels vs
# the SIMD128 peak; build/bench/caption.{json,md}. `make bench` runs it when the model exists.
#   make bench-caption                   scenes-caption, 3 repetitions of 500 timed captions
#   make bench-caption CAPTION_MODEL=tests/golden/tiny/caption-tiny.safetensors REPS=1 TIME_IMAGES=100
#   (CAPTION_TRACE=, CAPTION_GOLDEN=, IMAGES=, KROUNDS= as documented in caption.mjs)
# VQA section (scripts/bench/vqa.mjs; also `make bench-vqa` alone): stele-wasm's Answerer vs
# onnxruntime-web (the whole forward pass as one graph, scripts/bench/export_vqa_onnx.py) on
# VQA_MODEL's golden-trace questions, one at a time; build/bench/vqa.{json,md}. `make bench` runs
# it when the model exists.
#   make bench-vqa                       scenes-vqa, 3 repetitions of 1000 timed answers, the engines
#                                        interleaved in blocks of 50 (BLOCK=)
#   make bench-vqa VQA_MODEL=tests/golden/tiny/vqa-tiny.safetensors REPS=1 TIME_QUESTIONS=100
#   (VQA_TRACE=, QUESTIONS= as documented in vqa.mjs)
# Installs its npm devDependencies (package-lock.json) when they are missing; also needs emcc
# (make wasm), and python3-torch + python3-onnx for the ONNX export (make setup-train).
BENCH_MODEL ?= ui-en-fr
BENCH_DIR := $(BUILD)/bench
BENCH_NPM := node_modules/onnxruntime-web/package.json node_modules/@tensorflow/tfjs/package.json \
    node_modules/@tensorflow/tfjs-backend-wasm/package.json

CAPTION_MODEL ?= scenes-caption
CAPTION_MODEL_PATH = $(if $(filter %.safetensors,$(CAPTION_MODEL)),$(CAPTION_MODEL),models/$(CAPTION_MODEL)/model.safetensors)
VQA_MODEL ?= scenes-vqa
VQA_MODEL_PATH = $(if $(filter %.safetensors,$(VQA_MODEL)),$(VQA_MODEL),models/$(VQA_MODEL)/model.safetensors)

.PHONY: bench bench-deps bench-readme bench-caption bench-vqa bench-gemv bench-heap

$(BENCH_NPM): package-lock.json
	npm ci --no-audit --no-fund
	@touch $(BENCH_NPM)

bench-deps: $(BENCH_NPM) $(DIST)/stele.wasm $(BENCH_DIR)/stele-native $(BENCH_DIR)/kernels.wasm \
    $(BENCH_DIR)/kernels-native

$(BENCH_DIR)/stele-native: scripts/bench/native.c $(LIBSTELE) $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) $< $(LIBSTELE) -lm -o $@

$(BENCH_DIR)/kernels-native: scripts/bench/kernels.c $(LIBSTELE) $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) -O3 $(ENGINE_AVX2) $< $(LIBSTELE) -lm -o $@

$(BENCH_DIR)/kernels.wasm: scripts/bench/kernels.c src/kernels_simd128.c src/kernels_scalar.c \
    src/kernels_linear.h src/kernels.h
	@mkdir -p $(dir $@)
	NODE_PATH=/usr/share/nodejs $(EMCC) -O3 -msimd128 -std=c11 -Wall -Wextra -Wno-unused-function \
	    -sSTANDALONE_WASM --no-entry -sALLOW_MEMORY_GROWTH -sTOTAL_STACK=1048576 \
	    -sEXPORTED_FUNCTIONS=_malloc,_free $(filter %.c,$^) -o $@

# The decoder step's GEMVs alone, A/B (scripts/bench/gemv_ab.mjs): k_linear (build/bench/kernels.wasm),
# a packed-weight prototype and onnxruntime-web's Gemm on the same shapes.
$(BENCH_DIR)/gemv_packed.wasm: scripts/bench/gemv_packed.c
	@mkdir -p $(dir $@)
	NODE_PATH=/usr/share/nodejs $(EMCC) -O3 -msimd128 -std=c11 -Wall -Wextra -sSTANDALONE_WASM --no-entry \
	    -sALLOW_MEMORY_GROWTH $< -o $@

bench-gemv: $(BENCH_DIR)/kernels.wasm $(BENCH_DIR)/gemv_packed.wasm
	node scripts/bench/gemv_ab.mjs

bench: bench-deps
	MODEL=$(if $(MODEL),$(MODEL),$(BENCH_MODEL)) node scripts/bench/run.mjs
	@if [ -f $(CAPTION_MODEL_PATH) ]; then \
	    echo "CAPTION_MODEL=$(CAPTION_MODEL) node scripts/bench/caption.mjs"; \
	    CAPTION_MODEL=$(CAPTION_MODEL) node scripts/bench/caption.mjs; \
	else echo "bench: no $(CAPTION_MODEL_PATH): captioning section skipped"; fi
	@if [ -f $(VQA_MODEL_PATH) ]; then \
	    echo "VQA_MODEL=$(VQA_MODEL) node scripts/bench/vqa.mjs"; \
	    VQA_MODEL=$(VQA_MODEL) node scripts/bench/vqa.mjs; \
	else echo "bench: no $(VQA_MODEL_PATH): VQA section skipped"; fi

# (onnxruntime-web: installed when missing; present is enough, node_modules may be a shared link)
bench-caption: $(DIST)/stele.wasm $(BENCH_DIR)/kernels.wasm
	@[ -f node_modules/onnxruntime-web/package.json ] || npm ci --no-audit --no-fund
	CAPTION_MODEL=$(CAPTION_MODEL) node scripts/bench/caption.mjs

bench-vqa: $(DIST)/stele.wasm
	@[ -f node_modules/onnxruntime-web/package.json ] || npm ci --no-audit --no-fund
	VQA_MODEL=$(VQA_MODEL) node scripts/bench/vqa.mjs

# README.md's Performance table, from the last `make bench` (and its VQA table from the last
# VQA section or `make bench-vqa`, when there is one).
bench-readme:
	node scripts/bench/readme.mjs $(BENCH_DIR)/results.md README.md
	@if [ -f $(BENCH_DIR)/caption.md ]; then node scripts/bench/readme.mjs $(BENCH_DIR)/caption.md README.md bench-caption; fi
	@if [ -f $(BENCH_DIR)/vqa.md ]; then node scripts/bench/readme.mjs $(BENCH_DIR)/vqa.md README.md bench-vqa; fi

# The wasm heap of one Translator per shipped text model, with the default session limits and with
# limits sized for short strings (scripts/bench/heap.mjs; no peer, no timing).
bench-heap: $(DIST)/stele.wasm
	node scripts/bench/heap.mjs
