# Benchmarks (included by the top Makefile): `make bench` = scripts/bench/run.mjs on BENCH_MODEL's
# test sentences: stele wasm (through the npm package's entry) and native against onnxruntime-web
# and TF.js (wasm backend), one thread; kernel roofline; build/bench/results.{json,md}.
#   make bench                           ui-en-fr, all test sentences, 5 repetitions
#   make bench SENTENCES=50 REPS=1       a quick run; MODEL=path.safetensors GOLDEN=... for others
# Installs its npm devDependencies (package-lock.json) when they are missing; also needs emcc
# (make wasm), and python3-torch + python3-onnx for the ONNX export (make setup-train).
BENCH_MODEL ?= ui-en-fr
BENCH_DIR := $(BUILD)/bench
BENCH_NPM := node_modules/onnxruntime-web/package.json node_modules/@tensorflow/tfjs/package.json \
    node_modules/@tensorflow/tfjs-backend-wasm/package.json

.PHONY: bench bench-deps bench-readme

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

bench: bench-deps
	MODEL=$(if $(MODEL),$(MODEL),$(BENCH_MODEL)) node scripts/bench/run.mjs

# README.md's Performance table, from the last `make bench`.
bench-readme:
	node scripts/bench/readme.mjs $(BENCH_DIR)/results.md README.md
