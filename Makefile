SHELL := /bin/bash
# a recipe that fails leaves no half-written target behind (emcc writes its output early)
.DELETE_ON_ERROR:
# stele — see README.md. `make test` runs every test; `make demo` builds and serves the page.
PY      ?= /usr/bin/python3
BUILD   ?= build
CORPUS  := $(BUILD)/corpus
TRAIN   := $(BUILD)/train
# the scene CNNs pretrained alone, which the image models start from (cnn-pretrain): the
# captioner's [32, 64, 128], and the VQA model's, two blocks deeper (cnn-pretrain-vqa)
SCENES_CNN := $(TRAIN)/scenes-cnn
VQA_CNN    := $(TRAIN)/scenes-cnn-vqa
CC      ?= cc
CLANG   ?= clang

.PHONY: all setup-test setup-train corpus models study golden test test-python test-c demo e2e clean

all: $(BUILD)/stele

# ---------------------------------------------------------------- data, training, goldens
# Installs (apt-get, npm ci) only what is missing; `make test` runs it first.
setup-test:
	bash scripts/setup-test.sh

setup-train:
	bash scripts/setup-train.sh

corpus: $(CORPUS)/dates/test.src $(CORPUS)/ui-en-fr/test.en

$(CORPUS)/dates/test.src: scripts/data/dates.py scripts/data/dates_unseen.py
	$(PY) scripts/data/dates.py --out $(CORPUS)/dates
	$(PY) scripts/data/dates_unseen.py --out $(CORPUS)/dates

$(CORPUS)/ui-en-fr/test.en: scripts/data/ui_en_fr.py
	$(PY) scripts/data/ui_en_fr.py --out $(CORPUS)/ui-en-fr --cache $(BUILD)/debcache

# Retrains every shipped model from scratch (one at a time: the machine has 2 cores): dates,
# ui-en-fr, the pretrained scene CNN, scenes-caption and scenes-vqa (both start from it);
# exports them, evaluates them and rewrites their model cards' score tables.
models: setup-train corpus
	rm -rf $(TRAIN)/dates $(TRAIN)/ui-en-fr $(TRAIN)/scenes-caption $(SCENES_CNN) $(VQA_CNN) $(VQA_CNN_FIRST)
	rm -rf $(TRAIN)/scenes-vqa $(TRAIN)/scenes-vqa-baseline $(TRAIN)/scenes-vqa-tune $(TRAIN)/scenes-vqa-wide
	$(MAKE) model-dates model-ui-en-fr model-scenes-caption
	$(MAKE) models-vqa

# DEVICE=cuda (or cpu) picks where train.py runs; left empty, train.py uses a GPU when PyTorch sees one.
# TRAIN_ARGS: more train.py options, e.g. TRAIN_ARGS="--max-epochs 15 --max-minutes 10".
DEVICE ?=
TRAIN_ARGS ?=
model-%:
	$(PY) scripts/train.py --config scripts/configs/$*.json --corpus $(CORPUS)/$(call corpus_of,$*) \
	    --out $(TRAIN)/$* $(if $(DEVICE),--device $(DEVICE)) $(TRAIN_ARGS)
	$(MAKE) export-$* TRAIN_DIR=$(TRAIN)/$*

# A model's corpus is its config's "corpus" (ui-en-fr-none uses ui-en-fr's).
corpus_of = $(shell $(PY) -c 'import json,sys; print(json.load(open(sys.argv[1]))["corpus"])' scripts/configs/$(1).json)

# Ships a model from any training folder (best.pt, spm.model, train.json), e.g. one trained on a
# GPU elsewhere: `make export-ui-en-fr TRAIN_DIR=/path/to/folder`. Exports models/<name>/
# model.safetensors, keeps a copy of train.json (the card's dev-loss curve), regenerates the
# model's goldens (tests/golden/<name>.*), scores it and rewrites its card.
# dates also gets its low-confidence threshold (calibrated on dev with the native engine, written
# into the model file before the goldens) and the unseen split's scores in its card; ui-en-fr a
# mean-logp threshold (scripts/confidence.py --rule usable); ui-en-fr and ui-en-fr-none the
# truecasing table of their training source (scripts/truecase.py), which ALL CAPS input uses.
export-dates export-ui-en-fr: $(BUILD)/stele
export-%: corpus
	@[ -n "$(TRAIN_DIR)" ] || { echo "usage: make export-$* TRAIN_DIR=<training folder>" >&2; exit 2; }
	$(PY) scripts/export.py --train $(TRAIN_DIR) --config scripts/configs/$*.json --out models/$*/model.safetensors \
	    $(addprefix --corpus-info ,$(wildcard $(CORPUS)/$(call corpus_of,$*)/packages.json))
	@# install, not cp: a read-only source (a shared folder) would make the copy read-only too
	install -m 644 $(TRAIN_DIR)/train.json models/$*/train.json
	$(if $(filter ui-en-fr%,$*),$(PY) scripts/truecase.py --model models/$*/model.safetensors \
	    --source $(CORPUS)/ui-en-fr/train.en)
	$(if $(filter dates,$*),$(PY) scripts/confidence.py \
	    --model models/$*/model.safetensors --corpus $(CORPUS)/$* --splits dev test unseen \
	    --out models/$*/confidence.json)
	$(if $(filter ui-en-fr,$*),$(PY) scripts/confidence.py --rule usable --src-ext en --tgt-ext fr \
	    --model models/$*/model.safetensors --corpus $(CORPUS)/$* --splits dev test \
	    --out models/$*/confidence.json)
	$(PY) scripts/golden.py --only shipped --name $* --models models --corpus $(CORPUS) --out tests/golden
	$(PY) scripts/evaluate.py --model models/$*/model.safetensors --corpus $(CORPUS)/$(call corpus_of,$*) \
	    --config scripts/configs/$*.json --outputs tests/golden/$*.outputs.jsonl --out models/$*/scores.json
	$(MAKE) card-$*
	$(if $(filter ui-en-fr,$*),$(MAKE) int8-ui-en-fr)

# The int8 ui-en-fr (models/FORMAT.md "Int8 weights"): the float model's matrices as int8 rows
# with a float scale each (scripts/quantize.py) and a lexical shortlist (scripts/shortlist.py, on
# by default), its goldens from the float model the integers stand for (over the whole
# vocabulary), and its card. Re-made whenever ui-en-fr is exported.
int8-ui-en-fr: corpus $(BUILD)/stele
	$(PY) scripts/quantize.py models/ui-en-fr/model.safetensors $(BUILD)/ui-en-fr-int8.safetensors
	$(PY) scripts/shortlist.py $(BUILD)/ui-en-fr-int8.safetensors models/ui-en-fr-int8/model.safetensors \
	    --corpus $(CORPUS)/ui-en-fr --k $(SHORTLIST_K) --frequent $(SHORTLIST_N)
	$(PY) scripts/golden.py --only shipped --name ui-en-fr-int8 --models models --corpus $(CORPUS) \
	    --out tests/golden
	$(PY) scripts/int8_card.py --model models/ui-en-fr-int8/model.safetensors \
	    --float-model models/ui-en-fr/model.safetensors --golden tests/golden \
	    --refs $(CORPUS)/ui-en-fr/test.fr --src $(CORPUS)/ui-en-fr/test.en --engine $(BUILD)/stele \
	    --out models/ui-en-fr-int8/README.md

card-%:
	$(PY) scripts/model_card.py --model models/$*/model.safetensors --scores models/$*/scores.json \
	    --corpus-info $(CORPUS)/$(call corpus_of,$*)/packages.json \
	    $(addprefix --confidence ,$(wildcard models/$*/confidence.json)) --out models/$*/README.md

# Attention vs the single-vector baseline (ui-en-fr vs ui-en-fr-none) by source length, from the
# beam-5 reference outputs in tests/golden/ (no decoding): models/ui-en-fr-none/study.{json,md,svg};
# then both cards are rewritten, as they include the study's table.
study: corpus
	$(PY) scripts/study.py --corpus $(CORPUS)/ui-en-fr --golden tests/golden \
	    --models ui-en-fr ui-en-fr-none --out models/ui-en-fr-none/study
	$(MAKE) card-ui-en-fr card-ui-en-fr-none

golden: corpus
	$(PY) scripts/golden.py --out tests/golden --models models --corpus $(CORPUS)

# ---------------------------------------------------------------- tests
test: setup-test test-python test-c test-js e2e

# PyTorch's float32 results change in the last bits with the CPU's kernel path, so the Python suite
# runs once per ATen capability this CPU has (default, avx2, avx512): the goldens' tolerances must
# hold on any machine, not only on the one that made them.
ATEN_CAPS := default $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo avx2) \
    $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && grep -qw avx512bw /proc/cpuinfo && echo avx512)
test-python:
	@for cap in $(ATEN_CAPS); do echo "== test-python, ATEN_CPU_CAPABILITY=$$cap"; \
	  ATEN_CPU_CAPABILITY=$$cap $(PY) -m unittest discover -s tests/python -t . -v 2>&1 | tail -n 40; \
	  [ $${PIPESTATUS[0]} = 0 ] || exit 1; done

# ---------------------------------------------------------------- lexical shortlist (issue 14)
# build/shortlist/<model>.safetensors: models/<model>/model.safetensors (ui-en-fr, ui-en-fr-none)
# with a lexical shortlist added from the training corpus (scripts/shortlist.py; only tensors are
# added). K candidates per source piece, the N most frequent target pieces always; chosen by
# measurement in models/ui-en-fr/shortlist.md. shortlist-bench: the numbers of that note
# (outputs identical with and without, shortlist size, decoder step time).
SHORTLIST_K ?= 100
SHORTLIST_N ?= 3000
.PHONY: shortlist shortlist-bench
shortlist: $(BUILD)/shortlist/ui-en-fr.safetensors $(BUILD)/shortlist/ui-en-fr-none.safetensors
$(BUILD)/shortlist/%.safetensors: models/%/model.safetensors scripts/shortlist.py \
    | $(CORPUS)/ui-en-fr/test.en
	@mkdir -p $(dir $@)
	$(PY) scripts/shortlist.py $< $@ --corpus $(CORPUS)/ui-en-fr --k $(SHORTLIST_K) \
	    --frequent $(SHORTLIST_N)
shortlist-bench: $(BUILD)/shortlist/ui-en-fr.safetensors $(BUILD)/tests/engine/test_shortlist
	STELE_SHORTLIST_TIMING=1 STELE_SHIPPED_LIMIT=0 $(BUILD)/tests/engine/test_shortlist

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
# HOST=0.0.0.0 serves other machines too (the default stays on this machine only); the server
# answers only Host names of this machine, ALLOW_HOST="name ..." adds DNS names (scripts/serve.mjs).
PORT ?= 8080
HOST ?= 127.0.0.1
ALLOW_HOST ?=
demo:
	bash scripts/setup-web.sh demo
	$(MAKE) wasm
	@[ -f models/ui-en-fr/model.safetensors ] || echo "note: models/ui-en-fr is missing; open http://$(HOST):$(PORT)/?model=dates"
	node scripts/serve.mjs --host $(HOST) --port $(PORT) $(foreach h,$(ALLOW_HOST),--allow-host $(h))

# e2e: Debian's chromium (apt) driven by playwright-core (npm ci) against the page: outputs equal
# the Node API's, heatmap, hover, errors, offline, 375 px, dates model; `make e2e UPDATE_SCREENSHOT=1`
# also rewrites web/screenshot.png (the README's picture).
# tests/e2e/images.test.mjs: the Images view; UPDATE_SCREENSHOT=1 also rewrites web/screenshot-images.png.
# tests/e2e/ask.test.mjs: its Ask mode (VQA); UPDATE_SCREENSHOT=1 also rewrites web/screenshot-ask.png.
# tests/e2e/pool.test.mjs: TranslatorPool on Web Workers in Chromium, equal to the Node API.
e2e: $(DIST)/stele.wasm
	bash scripts/setup-web.sh e2e
	node --test tests/e2e/

# soak (not part of test): 100,000 translations through the JS API and 10,000 through the page
# in Chromium, memory sampled (tables in the output) and outputs checked against a first pass.
# SOAK_N / SOAK_PAGE_N change the counts (tests/soak/*.mjs).
.PHONY: soak
soak: $(DIST)/stele.wasm
	node tests/soak/api.mjs
	node tests/soak/page.mjs

clean:
	rm -rf $(BUILD)/stele $(BUILD)/obj $(BUILD)/tests

# ---------------------------------------------------------------- images (issue 12)
# The scenes corpus (Fashion-MNIST scenes + captions, scripts/data/scenes.py) and the page's
# sprite atlas + test scenes (web/scenes/). Fashion-MNIST: `make setup-train` installs it.
corpus: $(CORPUS)/scenes/test.npz

$(CORPUS)/scenes/test.npz: scripts/data/scenes.py
	$(PY) scripts/data/scenes.py --out $(CORPUS)/scenes --web web/scenes

# The captioning model: train (scripts/train_caption.py, resumable; DEVICE and TRAIN_ARGS as for
# model-%), then export-scenes-caption: export, the single-image classifier ceiling, the test
# split's reference outputs and scores together with the engine's goldens
# (tests/golden/scenes-caption.{outputs.jsonl,trace.safetensors}), and the model card.
.PHONY: model-scenes-caption export-scenes-caption card-scenes-caption golden-caption
model-scenes-caption: $(CORPUS)/scenes/test.npz $(SCENES_CNN)/cnn.pt
	$(PY) scripts/train_caption.py --config scripts/configs/scenes-caption.json --corpus $(CORPUS)/scenes \
	    --out $(TRAIN)/scenes-caption $(if $(DEVICE),--device $(DEVICE)) $(TRAIN_ARGS)
	$(MAKE) export-scenes-caption TRAIN_DIR=$(TRAIN)/scenes-caption

export-scenes-caption: $(CORPUS)/scenes/test.npz
	@[ -n "$(TRAIN_DIR)" ] || { echo "usage: make export-scenes-caption TRAIN_DIR=<training folder>" >&2; exit 2; }
	$(PY) scripts/export.py --train $(TRAIN_DIR) --config scripts/configs/scenes-caption.json \
	    --out models/scenes-caption/model.safetensors --corpus-info $(CORPUS)/scenes/packages.json
	install -m 644 $(TRAIN_DIR)/train.json models/scenes-caption/train.json
	$(PY) scripts/classifier_ceiling.py --config scripts/configs/scenes-caption.json --corpus $(CORPUS)/scenes \
	    --out models/scenes-caption/ceiling.json
	$(PY) scripts/evaluate_caption.py --model models/scenes-caption/model.safetensors --corpus $(CORPUS)/scenes \
	    --out models/scenes-caption/scores.json --golden tests/golden/scenes-caption
	$(MAKE) card-scenes-caption

card-scenes-caption:
	$(PY) scripts/model_card_caption.py --model models/scenes-caption/model.safetensors \
	    --scores models/scenes-caption/scores.json --ceiling models/scenes-caption/ceiling.json \
	    --out models/scenes-caption/README.md

# `make golden` also rewrites the tiny caption model + trace and the shipped caption goldens.
golden: golden-caption
golden-caption: $(CORPUS)/scenes/test.npz
	$(PY) scripts/golden_caption.py --out tests/golden --models models --corpus $(CORPUS)

# ---------------------------------------------------------------- VQA (issue 13)
# Questions + answers over the scenes corpus' scenes (scripts/data/scenes_vqa.py).
corpus: $(CORPUS)/scenes-vqa/test.jsonl

$(CORPUS)/scenes-vqa/test.jsonl: scripts/data/scenes_vqa.py $(CORPUS)/scenes/test.npz
	$(PY) scripts/data/scenes_vqa.py --scenes $(CORPUS)/scenes --out $(CORPUS)/scenes-vqa

# The scene CNN [32, 64, 128] pretrained as a per-location item classifier on fresh scenes of
# Fashion-MNIST training images [0, 55000) (scripts/pretrain_cnn.py; its dev/test item accuracy
# in pretrain.json). The malloc settings keep glibc from returning and re-faulting the conv
# buffers every batch (2x faster on 1 thread here).
PRETRAIN_ENV := MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4000000000 \
    MALLOC_TOP_PAD_=536870912
.PHONY: cnn-pretrain
cnn-pretrain: $(SCENES_CNN)/cnn.pt
$(SCENES_CNN)/cnn.pt: scripts/pretrain_cnn.py $(CORPUS)/scenes/test.npz
	$(PRETRAIN_ENV) $(PY) scripts/pretrain_cnn.py --channels 32,64,128 --scenes $(CORPUS)/scenes \
	    --out $(SCENES_CNN) --steps 6000 --eval-every 1500

# The VQA model's CNN: [32, 64, 128] and then two more 3x3 convolutions of 128 channels on the
# 10x10 grid, without the max-pool (encoder.pool): each final location then sees 54x54 pixels
# (22x22 with three blocks), a whole 28x28 item and its border, for +44 % of the conv work.
# Two runs on 2 threads (~34 min each): 20,000 batches; then 20,000 more from that CNN, with a
# new seed (new scenes), half the learning rate, and garments and bags mirrored at random.
VQA_CNN_FIRST := $(TRAIN)/scenes-cnn-vqa-20k
.PHONY: cnn-pretrain-vqa
cnn-pretrain-vqa: $(VQA_CNN)/cnn.pt
$(VQA_CNN_FIRST)/cnn.pt: scripts/pretrain_cnn.py $(CORPUS)/scenes/test.npz
	$(PRETRAIN_ENV) $(PY) scripts/pretrain_cnn.py --channels 32,64,128,128,128 --pool 1,1,1,0,0 \
	    --scenes $(CORPUS)/scenes --out $(VQA_CNN_FIRST) --steps 20000 --eval-every 4000 --threads 2
$(VQA_CNN)/cnn.pt: $(VQA_CNN_FIRST)/cnn.pt
	$(PRETRAIN_ENV) $(PY) scripts/pretrain_cnn.py --channels 32,64,128,128,128 --pool 1,1,1,0,0 \
	    --scenes $(CORPUS)/scenes --out $(VQA_CNN) --steps 20000 --eval-every 4000 --threads 2 \
	    --init $(VQA_CNN_FIRST)/cnn.pt --head-steps 300 --mirror --lr 1e-3 --seed 2

# The VQA model (attention, with a learned position table) and its no-attention baseline: trained
# one after the other, both on the pretrained scene CNN ($(VQA_CNN)/cnn.pt), frozen (its
# features computed once into the feature cache, which the baseline reuses); then two more stages
# of the attention model, each from the previous stage's best:
#   2. scenes-vqa-tune.json: the CNN's last two blocks fine-tuned with the rest (the first three
#      frozen, their output cached);
#   3. scenes-vqa-wide.json: two more unpooled 128-channel blocks that start as the identity
#      (train.extend_cnn), trained with the rest, the first five blocks frozen and cached. Each
#      place then sees 86x86 pixels, enough to reach the neighbouring cells relations ask about.
#      The glimpse and classifier hidden layers widen from 64 and 128 to 256 units, the new ones
#      starting silent (train.widen_hidden), and each train scene gets 3 questions of each type
#      (train.questions_per_type) instead of 1: 32 minutes on 2 threads (with PRETRAIN_ENV: the
#      time budget decides how many epochs run, so the same speed matters).
# Then exported, evaluated (scores.json + card, with the hand-written NOTES.md), and its goldens.
# vqa-train-tune and vqa-train-wide rerun one stage alone.
.PHONY: models-vqa vqa-train vqa-train-tune vqa-train-wide vqa-export vqa-eval vqa-golden
# The shipped model's stages ran on 2 threads; their time budgets decide how many epochs run, so
# fewer threads would train less.
VQA_FLAGS ?= --threads 2
VQA_DIR   := models/scenes-vqa
VQA_FEATS := $(TRAIN)/scenes-vqa-features

models-vqa: vqa-train vqa-export vqa-eval vqa-golden

vqa-train: corpus $(VQA_CNN)/cnn.pt
	$(PY) scripts/train_vqa.py --config scripts/configs/scenes-vqa.json --corpus $(CORPUS)/scenes-vqa \
	    --scenes $(CORPUS)/scenes --out $(TRAIN)/scenes-vqa --feature-cache $(VQA_FEATS) $(VQA_FLAGS)
	$(PY) scripts/train_vqa.py --config scripts/configs/scenes-vqa-baseline.json \
	    --corpus $(CORPUS)/scenes-vqa --scenes $(CORPUS)/scenes --out $(TRAIN)/scenes-vqa-baseline \
	    --feature-cache $(VQA_FEATS) $(VQA_FLAGS)
	$(MAKE) vqa-train-tune vqa-train-wide VQA_FLAGS="$(VQA_FLAGS)"

vqa-train-tune:
	$(PY) scripts/train_vqa.py --config scripts/configs/scenes-vqa-tune.json --corpus $(CORPUS)/scenes-vqa \
	    --scenes $(CORPUS)/scenes --out $(TRAIN)/scenes-vqa-tune --feature-cache $(VQA_FEATS) \
	    --init-model $(TRAIN)/scenes-vqa/best.pt $(VQA_FLAGS)

vqa-train-wide:
	$(PRETRAIN_ENV) $(PY) scripts/train_vqa.py --config scripts/configs/scenes-vqa-wide.json --corpus $(CORPUS)/scenes-vqa \
	    --scenes $(CORPUS)/scenes --out $(TRAIN)/scenes-vqa-wide --feature-cache $(VQA_FEATS) \
	    --init-model $(TRAIN)/scenes-vqa-tune/best.pt $(VQA_FLAGS)

vqa-export:
	$(PY) scripts/export_vqa.py --train $(TRAIN)/scenes-vqa-wide --stage $(TRAIN)/scenes-vqa \
	    --stage $(TRAIN)/scenes-vqa-tune \
	    --baseline-train $(TRAIN)/scenes-vqa-baseline \
	    --corpus $(CORPUS)/scenes-vqa --scenes-info $(CORPUS)/scenes/packages.json --out $(VQA_DIR)
	$(PY) -c 'import json, sys; a = json.load(open(sys.argv[1])); \
	    a["first_stage"] = json.load(open(sys.argv[2])); \
	    json.dump(a, open(sys.argv[3], "w"), indent=1)' \
	    $(VQA_CNN)/pretrain.json $(VQA_CNN_FIRST)/pretrain.json $(VQA_DIR)/cnn-pretrain.json

vqa-eval:
	$(PY) scripts/evaluate_vqa.py --model $(VQA_DIR)/model.safetensors \
	    --baseline $(TRAIN)/scenes-vqa-baseline/best.pt --corpus $(CORPUS)/scenes-vqa \
	    --scenes $(CORPUS)/scenes --splits dev test --out $(VQA_DIR)/scores.json \
	    --card $(VQA_DIR)/README.md --train-json $(VQA_DIR)/train.json \
	    $(if $(wildcard $(VQA_DIR)/NOTES.md),--notes $(VQA_DIR)/NOTES.md) \
	    $(if $(wildcard $(VQA_DIR)/cnn-pretrain.json),--cnn-pretrain $(VQA_DIR)/cnn-pretrain.json)

# `make golden` also rewrites the tiny VQA models (with and without the position table) + traces
# and the shipped VQA goldens.
golden: vqa-golden
vqa-golden:
	$(PY) scripts/golden_vqa.py --out tests/golden --models models --corpus $(CORPUS)
