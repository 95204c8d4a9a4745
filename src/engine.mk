# stele C engine (included by the top Makefile): the library, the native CLI, the engine tests
# (kernels, golden parity, shipped-model outputs, bad inputs; plain and with ASan+UBSan) and the
# native benchmark.
ENGINE_CFLAGS ?= -std=c11 -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-function
# One native build for every x86-64 CPU: everything is compiled for the baseline ISA except
# src/kernels_avx2.c, built with AVX2+FMA when the compiler accepts the flags; the kernel set is
# chosen at run time (src/kernels.h: the CPU, or STELE_KERNELS=scalar|avx2).
ENGINE_AVX2 ?= $(shell $(CC) -mavx2 -mfma -x c -c /dev/null -o /dev/null 2>/dev/null \
    && echo -mavx2 -mfma)
$(BUILD)/obj/native/kernels_avx2.o $(BUILD)/obj/san/kernels_avx2.o: \
    ENGINE_FILE_FLAGS = $(ENGINE_AVX2)
ENGINE_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

ENGINE_LIB_SRC := $(filter-out src/cli.c src/kernels_simd128.c,$(wildcard src/*.c))
ENGINE_HDR := $(wildcard src/*.h)
ENGINE_OBJ := $(patsubst src/%.c,$(BUILD)/obj/native/%.o,$(ENGINE_LIB_SRC))
ENGINE_SAN_OBJ := $(patsubst src/%.c,$(BUILD)/obj/san/%.o,$(ENGINE_LIB_SRC))
LIBSTELE := $(BUILD)/libstele.a
LIBSTELE_SAN := $(BUILD)/libstele-san.a
ENGINE_TESTS := test_kernels test_parity test_shipped test_inputs test_batch test_trace \
    test_protect test_normalize test_caption test_vqa test_shortlist

.PHONY: test-engine test-engine-native test-engine-baseline test-engine-san test-engine-wasm \
    bench-native bench-conv

$(BUILD)/obj/native/%.o: src/%.c $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) $(ENGINE_FILE_FLAGS) -c $< -o $@

$(BUILD)/obj/san/%.o: src/%.c $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) $(ENGINE_FILE_FLAGS) $(ENGINE_SAN) -c $< -o $@

$(LIBSTELE): $(ENGINE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(LIBSTELE_SAN): $(ENGINE_SAN_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/stele: src/cli.c $(LIBSTELE) $(ENGINE_HDR)
	$(CC) $(ENGINE_CFLAGS) -pthread src/cli.c $(LIBSTELE) -lm -o $@

$(BUILD)/tests/engine/%: tests/engine/%.c tests/engine/golden.h $(LIBSTELE) $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) $< $(LIBSTELE) -lm -o $@

$(BUILD)/tests/engine-san/%: tests/engine/%.c tests/engine/golden.h $(LIBSTELE_SAN) $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) $(ENGINE_SAN) $< $(LIBSTELE_SAN) -lm -o $@

# The kernel sets this machine runs: scalar, and avx2 where the library finds AVX2+FMA.
ENGINE_KERNEL_SETS = scalar $$(STELE_KERNELS=avx2 $(BUILD)/stele --version >/dev/null 2>&1 \
    && echo avx2 || echo >&2 "(no AVX2+FMA on this CPU: the avx2 kernel set is not tested)")

# No AVX instruction outside kernels_avx2.o (a VEX-encoded v... mnemonic or a ymm/zmm register):
# the library must run on any x86-64 CPU. Skipped where objdump or x86 is absent.
ENGINE_BASELINE_OBJ = $(filter-out %/kernels_avx2.o,$(ENGINE_OBJ))
test-engine-baseline: $(LIBSTELE)
	@if command -v objdump >/dev/null && [ -n "$(ENGINE_AVX2)" ]; then \
	  bad=$$(objdump -d --no-show-raw-insn $(ENGINE_BASELINE_OBJ) | grep -E \
	    '^[[:space:]]*[0-9a-f]+:[[:space:]]+v[a-z]|%[yz]mm' | head -n 3); \
	  if [ -n "$$bad" ]; then echo "FAIL: AVX instructions outside kernels_avx2.o:"; \
	    echo "$$bad"; exit 1; fi; \
	  echo "baseline x86-64: no AVX instruction outside kernels_avx2.o"; fi

# Every parity test once per kernel set; each prints its numbers; test_shipped covers whatever
# shipped models and goldens exist.
# test_shortlist checks ui-en-fr with its shortlist when the corpus is there to build it from
# (the top Makefile's `shortlist`); without it, that part is skipped with a note.
ENGINE_SHORTLIST = $(if $(wildcard $(CORPUS)/ui-en-fr/train.en),$(BUILD)/shortlist/ui-en-fr.safetensors)
# The full test splits run natively once, on the best kernel set of this CPU (the last of
# ENGINE_KERNEL_SETS, the one the library picks by itself); the other set (scalar, where AVX2 is
# there) checks the first ENGINE_PREFIX sentences, scenes and questions of each split (`--limit`):
# test_kernels compares its kernels with the best set's on random shapes and edge sizes, and the
# scalar set alone (a CPU without AVX2) gets the full splits. The JS API tests check the full
# splits in wasm.
ENGINE_PREFIX ?= 50
test-engine-native: $(addprefix $(BUILD)/tests/engine/,$(ENGINE_TESTS)) $(BUILD)/stele \
    test-engine-baseline $(ENGINE_SHORTLIST)
	@sets="$(ENGINE_KERNEL_SETS)"; for k in $$sets; do best=$$k; done; for k in $$sets; do \
	  lim=; [ $$k = $$best ] || lim="--limit $(ENGINE_PREFIX)"; \
	  for t in $(ENGINE_TESTS); do echo "== $$t (STELE_KERNELS=$$k$${lim:+, $$lim})"; \
	    STELE_KERNELS=$$k $(BUILD)/tests/engine/$$t $$lim || exit 1; done; done; \
	echo "== test_cli.sh (STELE_KERNELS=$$best)"; \
	STELE_KERNELS=$$best bash tests/engine/test_cli.sh $(BUILD)/stele

# Under the sanitizers the full test splits would be slow: a prefix of each (--limit 40). Every
# test runs on the best kernel set; the other set (scalar where AVX2 is there) runs the tests
# that drive its kernels over every shape class (ENGINE_SAN_OTHER: test_kernels feeds both sets
# random and edge sizes) plus a prefix of the shipped models, ENGINE_SAN_PREFIX sentences.
ENGINE_SAN_OTHER ?= test_kernels test_parity test_inputs test_shipped
ENGINE_SAN_PREFIX ?= 10
test-engine-san: $(addprefix $(BUILD)/tests/engine-san/,$(ENGINE_TESTS)) $(BUILD)/stele
	@sets="$(ENGINE_KERNEL_SETS)"; for k in $$sets; do best=$$k; done; for k in $$sets; do \
	  lim=40; tests="$(ENGINE_TESTS)"; \
	  [ $$k = $$best ] || { lim=$(ENGINE_SAN_PREFIX); tests="$(ENGINE_SAN_OTHER)"; }; \
	  for t in $$tests; do echo "== $$t (asan+ubsan, STELE_KERNELS=$$k, --limit $$lim)"; \
	  STELE_KERNELS=$$k $(BUILD)/tests/engine-san/$$t --limit $$lim || exit 1; done; done

test-engine: test-engine-native test-engine-san test-engine-wasm

# WebAssembly SIMD128: the same C tests built with Emscripten (-msimd128, kernels_simd128.c) and
# run in Node (needs emcc and node; skipped with a note when absent).
EMCC ?= emcc
ENGINE_WASM_SRC := $(filter-out src/cli.c src/kernels_avx2.c,$(wildcard src/*.c))
ENGINE_WASM_FLAGS := -O2 -msimd128 -std=c11 -Wall -Wextra -Wno-unused-function -sSINGLE_FILE -sNODERAWFS=1 \
    -sALLOW_MEMORY_GROWTH -sTOTAL_STACK=1048576

$(BUILD)/tests/engine-wasm/%.js: tests/engine/%.c tests/engine/golden.h $(ENGINE_WASM_SRC) $(ENGINE_HDR)
	@mkdir -p $(dir $@)
	@# Emscripten's glue is CommonJS; the repository's package.json says "type": "module".
	echo '{"type": "commonjs"}' > $(dir $@)package.json
	NODE_PATH=/usr/share/nodejs $(EMCC) $(ENGINE_WASM_FLAGS) $< $(ENGINE_WASM_SRC) -lm -o $@

# The 11 test programs are independent emcc builds of the whole library: built in parallel.
WASM_TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test-engine-wasm:
	@if command -v $(EMCC) >/dev/null && command -v node >/dev/null; then \
	  $(MAKE) --no-print-directory -j$(WASM_TEST_JOBS) $(addprefix $(BUILD)/tests/engine-wasm/,$(addsuffix .js,$(ENGINE_TESTS))) \
	    >/dev/null || exit 1; \
	  for t in $(ENGINE_TESTS); do echo "== $$t (wasm simd128, node)"; \
	    node $(BUILD)/tests/engine-wasm/$$t.js --limit 200 || exit 1; done; \
	else echo "test-engine-wasm: emcc or node not found, skipped"; fi

bench-native: $(BUILD)/tests/engine/bench
	$(BUILD)/tests/engine/bench

# The conv kernels in GFLOP/s against the measured multiply-add peak (tests/engine/bench_conv.c):
# natively with the kernel set this CPU gets, then WebAssembly SIMD128 in Node when emcc exists
# (--no-liftoff: V8's optimising compiler from the first call, so that no timed loop runs in its
# baseline code; V8 cannot switch a running WebAssembly call to optimised code).
bench-conv: $(BUILD)/tests/engine/bench_conv
	$(BUILD)/tests/engine/bench_conv
	@if command -v $(EMCC) >/dev/null && command -v node >/dev/null; then \
	  $(MAKE) --no-print-directory $(BUILD)/tests/engine-wasm/bench_conv.js >/dev/null && \
	  node --no-liftoff $(BUILD)/tests/engine-wasm/bench_conv.js; \
	else echo "bench-conv: emcc or node not found, the wasm part skipped"; fi
