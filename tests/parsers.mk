# Parser tests (included by the top Makefile): JSON, safetensors and SentencePiece unit/golden
# tests (plain and with ASan+UBSan), the bad-model test, libFuzzer targets.
#
#   make test-parsers     all of the below except the long fuzz runs
#   make fuzz             each fuzz target for FUZZ_SECONDS (default 600), one after the other
#   make fuzz-smoke       each fuzz target for FUZZ_SMOKE_SECONDS (default 5; part of test-parsers)
#   make fuzz-long        each fuzz target until FUZZ_RUNS executions (default 10 M), one after
#                         the other, with its dictionary; not part of any test target
#   make golden-tokenizer tokenizer goldens (also run by `make golden`)

PARSER_CFLAGS ?= -std=c11 -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-function
PARSER_SAN    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
PARSER_SRC    := src/json.c src/safetensors.c src/sentencepiece.c src/error.c
PARSER_HDR    := src/json.h src/safetensors.h src/sentencepiece.h src/stele.h src/error.h \
                 src/utf8.h src/isort.h tests/c/testutil.h
PARSER_TESTS  := test_json test_safetensors test_sentencepiece
PT            := $(BUILD)/tests/parsers
TOKENIZER_GOLDEN := $(sort $(wildcard tests/golden/tokenizer/*.jsonl))
TINY_MODELS   := $(sort $(wildcard tests/golden/tiny/*.safetensors))
BAD_BASE      := tests/golden/tiny/bilstm-general-luong.safetensors

FUZZ_SECONDS  ?= 600
FUZZ_TARGETS  := safetensors spm tokenizer protect words pnm truecase
FUZZ_FLAGS    := -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
                 -fno-sanitize-recover=all
FUZZ_MAXLEN_safetensors := 32768
FUZZ_MAXLEN_spm         := 8192
FUZZ_MAXLEN_tokenizer   := 2048
FUZZ_MAXLEN_protect     := 2048
FUZZ_MAXLEN_words       := 4096
FUZZ_MAXLEN_truecase    := 4096
FUZZ_MAXLEN_pnm         := 65536
FUZZ_SRC_safetensors    := src/json.c src/safetensors.c src/error.c
FUZZ_SRC_spm            := src/sentencepiece.c src/error.c
FUZZ_SRC_tokenizer      := src/sentencepiece.c src/error.c
FUZZ_SRC_protect        := src/protect.c
FUZZ_SRC_words          := src/words.c src/error.c
FUZZ_SRC_pnm            := src/pnm.c
FUZZ_SRC_truecase       := src/casing.c src/error.c

.PHONY: test-parsers test-parsers-native test-parsers-san test-bad-models fuzz fuzz-smoke \
        fuzz-build fuzz-long golden-tokenizer

# The unit/golden tests link only the parser sources: they do not depend on the engine.
$(PT)/native/%: tests/c/%.c $(PARSER_SRC) $(PARSER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(PARSER_CFLAGS) $< $(PARSER_SRC) -lm -o $@

$(PT)/san/%: tests/c/%.c $(PARSER_SRC) $(PARSER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(PARSER_CFLAGS) $(PARSER_SAN) $< $(PARSER_SRC) -lm -o $@

# Arguments per test.
PARSER_ARGS_test_json :=
PARSER_ARGS_test_safetensors := $(TINY_MODELS)
PARSER_ARGS_test_sentencepiece := $(TOKENIZER_GOLDEN)

# $(1): native or san; $(2): label.
define parser_tests_run
	@set -o pipefail; for t in $(PARSER_TESTS); do echo "== $$t$(2)"; \
	  case $$t in test_json) a="$(PARSER_ARGS_test_json)";; \
	    test_safetensors) a="$(PARSER_ARGS_test_safetensors)";; \
	    test_sentencepiece) a="$(PARSER_ARGS_test_sentencepiece)";; esac; \
	  $(PT)/$(1)/$$t $$a | grep -v '^  ' || exit 1; done
endef

test-parsers-native: $(addprefix $(PT)/native/,$(PARSER_TESTS))
	$(call parser_tests_run,native,)

test-parsers-san: $(addprefix $(PT)/san/,$(PARSER_TESTS))
	$(call parser_tests_run,san, (asan+ubsan))

# The bad-model test needs the whole library (stele_model_load): the engine's sanitizer build
# when src/engine.mk provides it, else every library source compiled here.
ifneq ($(LIBSTELE_SAN),)
BAD_LIB := $(LIBSTELE_SAN)
else
BAD_LIB := $(filter-out src/cli.c src/kernels_simd128.c,$(wildcard src/*.c))
endif

$(PT)/san/test_bad_models: tests/c/test_bad_models.c $(BAD_LIB) $(wildcard src/*.h) tests/c/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(PARSER_CFLAGS) $(PARSER_SAN) $< $(BAD_LIB) -lm -o $@

test-bad-models: $(PT)/san/test_bad_models
	@echo "== test_bad_models (asan+ubsan)"
	@rm -rf $(PT)/bad-models && mkdir -p $(PT)/bad-models
	@$(PT)/san/test_bad_models $(BAD_BASE) --out $(PT)/bad-models > $(PT)/bad-models.log; \
	  rc=$$?; tail -n 2 $(PT)/bad-models.log; grep FAIL $(PT)/bad-models.log; \
	  echo "(per-case statuses and messages: $(PT)/bad-models.log)"; exit $$rc

test-parsers: test-parsers-native test-parsers-san test-bad-models fuzz-smoke

# ---------------------------------------------------------------- fuzzing (clang libFuzzer)
$(PT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(PARSER_SRC) $(PARSER_HDR) src/protect.c src/protect.h \
                     src/words.c src/words.h src/pnm.c src/pnm.h src/casing.c src/casing.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) $< $(FUZZ_SRC_$*) -lm -o $@

fuzz-build: $(addprefix $(PT)/fuzz/fuzz_,$(FUZZ_TARGETS))

# Runs each target for $(1) seconds on a working copy of its committed seeds (new corpus
# entries stay in the build folder; crashes land in $(PT)/fuzz/artifacts/). Prints exec counts.
define fuzz_run
	@mkdir -p $(PT)/fuzz/artifacts
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(PT)/fuzz/corpus/$$t; cp -n tests/fuzz/corpus/$$t/* $(PT)/fuzz/corpus/$$t/ 2>/dev/null || true; \
	  case $$t in safetensors) ml=$(FUZZ_MAXLEN_safetensors);; spm) ml=$(FUZZ_MAXLEN_spm);; \
	    tokenizer) ml=$(FUZZ_MAXLEN_tokenizer);; protect) ml=$(FUZZ_MAXLEN_protect);; \
	    words) ml=$(FUZZ_MAXLEN_words);; pnm) ml=$(FUZZ_MAXLEN_pnm);; \
	    truecase) ml=$(FUZZ_MAXLEN_truecase);; esac; \
	  echo "== fuzz_$$t for $(1) s"; \
	  if ! $(PT)/fuzz/fuzz_$$t -max_total_time=$(1) -max_len=$$ml -print_final_stats=1 \
	      -artifact_prefix=$(PT)/fuzz/artifacts/$$t- $(PT)/fuzz/corpus/$$t \
	      > $(PT)/fuzz/$$t.log 2>&1; then \
	    tail -n 40 $(PT)/fuzz/$$t.log; echo "fuzz_$$t FAILED (log: $(PT)/fuzz/$$t.log)"; exit 1; fi; \
	  grep -aE '^stat::number_of_executed_units|^Done' $(PT)/fuzz/$$t.log | tail -n 2; \
	done
endef

# In make test each target replays its committed seeds, then mutates for a few seconds: a smoke
# test of the harness and a regression check of the seeds; the long runs (fuzz-long) are the search.
FUZZ_SMOKE_SECONDS ?= 5
fuzz-smoke: fuzz-build
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS))

# fuzz-long: a fixed number of executions rather than a time, so that a run on a busy machine
# still covers as many inputs as one on a quiet machine. Each target gets its dictionary
# (tests/fuzz/<target>.dict) and a working copy of its seeds; every target runs even when an
# earlier one found something (the make fails at the end), and the combined log is
# $(FUZZ_LOG) (one target's full output at a time also in $(PT)/fuzz/<target>-long.log).
FUZZ_RUNS ?= 10000000
FUZZ_LOG  ?= $(BUILD)/fuzz-long.log
# the PO catalog path (JavaScript: src/js/po.js over gettext-parser) is fuzzed with fast-check;
# FUZZ_NO_JS=1 leaves it out
FUZZ_PO_RUNS ?= 200000
fuzz-long: fuzz-build
	@mkdir -p $(PT)/fuzz/artifacts $(dir $(FUZZ_LOG)); : > $(FUZZ_LOG)
	@failed=; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(PT)/fuzz/corpus/$$t; cp -n tests/fuzz/corpus/$$t/* $(PT)/fuzz/corpus/$$t/ 2>/dev/null || true; \
	  case $$t in safetensors) ml=$(FUZZ_MAXLEN_safetensors);; spm) ml=$(FUZZ_MAXLEN_spm);; \
	    tokenizer) ml=$(FUZZ_MAXLEN_tokenizer);; protect) ml=$(FUZZ_MAXLEN_protect);; \
	    words) ml=$(FUZZ_MAXLEN_words);; pnm) ml=$(FUZZ_MAXLEN_pnm);; \
	    truecase) ml=$(FUZZ_MAXLEN_truecase);; esac; \
	  echo "== fuzz_$$t until $(FUZZ_RUNS) executions, started $$(date -u +%FT%TZ)" | tee -a $(FUZZ_LOG); \
	  start=$$(date +%s); \
	  $(PT)/fuzz/fuzz_$$t -runs=$(FUZZ_RUNS) -max_len=$$ml -dict=tests/fuzz/$$t.dict \
	      -print_final_stats=1 -artifact_prefix=$(PT)/fuzz/artifacts/$$t- \
	      $(PT)/fuzz/corpus/$$t > $(PT)/fuzz/$$t-long.log 2>&1; rc=$$?; \
	  grep -aE '^#[0-9]+ +(pulse|REDUCE|NEW|DONE)' $(PT)/fuzz/$$t-long.log | tail -n 3 >> $(FUZZ_LOG); \
	  grep -aE '^stat::|^Done|ERROR|SUMMARY|artifact' $(PT)/fuzz/$$t-long.log | tee -a $(FUZZ_LOG); \
	  echo "fuzz_$$t: exit $$rc after $$(( $$(date +%s) - start )) s" | tee -a $(FUZZ_LOG); \
	  [ $$rc = 0 ] || failed="$$failed $$t"; \
	done; \
	if [ -z "$(FUZZ_NO_JS)" ]; then \
	  echo "== po (tests/fuzz/po.mjs, fast-check) for $(FUZZ_PO_RUNS) catalogs, started $$(date -u +%FT%TZ)" | tee -a $(FUZZ_LOG); \
	  start=$$(date +%s); node tests/fuzz/po.mjs $(FUZZ_PO_RUNS) 2>&1 | tail -n 30 | tee -a $(FUZZ_LOG); rc=$${PIPESTATUS[0]}; \
	  echo "po: exit $$rc after $$(( $$(date +%s) - start )) s" | tee -a $(FUZZ_LOG); \
	  [ $$rc = 0 ] || failed="$$failed po"; \
	fi; \
	if [ -n "$$failed" ]; then echo "fuzz-long FAILED:$$failed (artifacts: $(PT)/fuzz/artifacts/)" | tee -a $(FUZZ_LOG); exit 1; fi

# ---------------------------------------------------------------- goldens
golden-tokenizer: corpus
	$(PY) scripts/golden_tokenizer.py --out tests/golden/tokenizer --models models \
	    --corpus $(CORPUS) --train $(TRAIN)

golden: golden-tokenizer
