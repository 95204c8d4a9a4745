SHELL := /bin/bash
# a recipe that fails leaves no half-written target behind (emcc writes its output early)
.DELETE_ON_ERROR:
# stele — see README.md. `make test` runs every test; `make demo` builds and serves the page.
PY      ?= /usr/bin/python3
BUILD   ?= build
CORPUS  := $(BUILD)/corpus
TRAIN   := $(BUILD)/train
CC      ?= cc
CLANG   ?= clang

.PHONY: all setup-test setup-train corpus models golden test test-python test-c demo e2e clean

all: $(BUILD)/stele

# ---------------------------------------------------------------- data, training, goldens
# Installs (apt-get, npm ci) only what is missing; `make test` runs it first.
setup-test:
	bash scripts/setup-test.sh

setup-train:
	bash scripts/setup-train.sh

corpus: $(CORPUS)/dates/test.src $(CORPUS)/ui-en-fr/test.en

$(CORPUS)/dates/test.src: scripts/data/dates.py
	$(PY) scripts/data/dates.py --out $(CORPUS)/dates

$(CORPUS)/ui-en-fr/test.en: scripts/data/ui_en_fr.py
	$(PY) scripts/data/ui_en_fr.py --out $(CORPUS)/ui-en-fr --cache $(BUILD)/debcache

# Retrains both shipped models from scratch (one at a time: the machine has 2 cores), exports
# them, evaluates them and rewrites their model cards' score tables.
models: setup-train corpus
	rm -rf $(TRAIN)/dates $(TRAIN)/ui-en-fr
	$(MAKE) model-dates model-ui-en-fr

model-%:
	$(PY) scripts/train.py --config scripts/configs/$*.json --corpus $(CORPUS)/$* --out $(TRAIN)/$*
	$(PY) scripts/export.py --train $(TRAIN)/$* --config scripts/configs/$*.json \
	    --out models/$*/model.safetensors $(if $(filter ui-en-fr,$*),--corpus-info $(CORPUS)/$*/packages.json)
	$(PY) scripts/golden.py --only shipped --name $* --models models --corpus $(CORPUS) --out tests/golden
	$(PY) scripts/evaluate.py --model models/$*/model.safetensors --corpus $(CORPUS)/$* \
	    --config scripts/configs/$*.json --outputs tests/golden/$*.outputs.jsonl --out models/$*/scores.json
	$(PY) scripts/model_card.py --model models/$*/model.safetensors --scores models/$*/scores.json \
	    --corpus-info $(CORPUS)/$*/packages.json --out models/$*/README.md

golden: corpus
	$(PY) scripts/golden.py --out tests/golden --models models --corpus $(CORPUS)

# ---------------------------------------------------------------- tests
test: setup-test test-python test-c test-js e2e

test-python:
	$(PY) -m unittest discover -s tests/python -t . -v 2>&1 | tail -n 40; exit $${PIPESTATUS[0]}

# ---------------------------------------------------------------- C engine
# src/engine.mk: the library, the native CLI $(BUILD)/stele, kernels, parity tests (test-engine),
#                sanitizer builds, bench-native.
# tests/parsers.mk: JSON / safetensors / SentencePiece tests (test-parsers), bad-model files,
#                fuzz targets (fuzz, fuzz-smoke).
-include src/engine.mk
-include tests/parsers.mk
-include src/wasm/wasm.mk
-include scripts/bench/bench.mk

test-c: test-engine test-parsers

# ---------------------------------------------------------------- the page (web/)
# demo: installs what it needs (apt: emscripten, Node.js), builds dist/stele.wasm and serves web/
# with scripts/serve.mjs, which maps /src/js/, /dist/ and /models/ from the repository.
PORT ?= 8080
demo:
	bash scripts/setup-web.sh demo
	$(MAKE) wasm
	@[ -f models/ui-en-fr/model.safetensors ] || echo "note: models/ui-en-fr is missing; open http://127.0.0.1:$(PORT)/?model=dates"
	node scripts/serve.mjs --port $(PORT)

# e2e: Debian's chromium (apt) driven by playwright-core (npm ci) against the page: outputs equal
# the Node API's, heatmap, hover, errors, offline, 375 px, dates model; `make e2e UPDATE_SCREENSHOT=1`
# also rewrites web/screenshot.png (the README's picture).
e2e: $(DIST)/stele.wasm
	bash scripts/setup-web.sh e2e
	node --test tests/e2e/

clean:
	rm -rf $(BUILD)/stele $(BUILD)/obj $(BUILD)/tests
