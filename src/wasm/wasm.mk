# WebAssembly build for the JS API (included by the top Makefile): the C engine (the same sources
# as the native library, with kernels_simd128.c instead of kernels_avx2.c) plus src/wasm/
# stele_wasm.c, linked as a standalone module with no Emscripten JS glue: src/js/stele.js
# instantiates it in Node and browsers. No filesystem (models arrive as bytes), explicit exports.
EMCC ?= emcc
DIST ?= dist
WASM_SRC := $(filter-out src/cli.c src/kernels_avx2.c,$(wildcard src/*.c)) src/wasm/stele_wasm.c
WASM_EXPORTS := malloc free stele_status_name stele_model_free stele_session_free \
    stele_model_info_json stele_model_piece stele_model_vocab_size \
    stele_session_set_profiling stele_session_timings stele_batch_free stele_model_task
WASM_EMPTY :=
WASM_SPACE := $(WASM_EMPTY) $(WASM_EMPTY)
WASM_COMMA := ,
# Memory: 2 MB at start (the stack and static data), then grown to exactly what malloc asks for
# (no 20 % geometric overgrowth): a Translator's heap is its model, tokenizer tables and session
# buffers, nothing more (make bench-heap). Growth happens when a model or session is made, not in
# the decode loop (the JS tests check that the heap stays put across translations).
WASM_FLAGS := -O3 -msimd128 -std=c11 -Wall -Wextra -Wno-unused-function \
    -sSTANDALONE_WASM --no-entry -sFILESYSTEM=0 -sALLOW_MEMORY_GROWTH -sTOTAL_STACK=1048576 -sINITIAL_MEMORY=2MB \
    -sMEMORY_GROWTH_GEOMETRIC_STEP=0 \
    --js-library src/wasm/imports.js \
    -sEXPORTED_FUNCTIONS=$(subst $(WASM_SPACE),$(WASM_COMMA),$(addprefix _,$(WASM_EXPORTS)))

.PHONY: wasm test-js

wasm: $(DIST)/stele.wasm

$(DIST)/stele.wasm: $(WASM_SRC) $(ENGINE_HDR) src/wasm/wasm.mk src/wasm/imports.js
	@mkdir -p $(dir $@)
	NODE_PATH=/usr/share/nodejs $(EMCC) $(WASM_FLAGS) $(WASM_SRC) -o $@
	@echo "$@: $$(stat -c %s $@) bytes"

# JS API, CLI and npm package tests (tests/js/*.test.js, node --test): wasm-vs-native parity on
# the shipped models' test sentences, API misuse, heap stability, the CLIs, prepack, npm pack +
# an offline install into a fresh project that runs every sh and js block of README.md.
test-js: $(DIST)/stele.wasm $(BUILD)/stele
	node --test tests/js/
