# PhotoVerse: `make run` and `make test` are all a newcomer needs (see README).
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

SWIFT ?= swift
VENV := .venv
PYTHON := $(VENV)/bin/python
RELEASE_BIN := .build/release/photoverse

.PHONY: run test deps build build-debug venv swift-test python-test bench clean train-mini fuzz fuzz-smoke

# The UI opens on the embedded PhotoVerse-mini model; until `make train-mini` has produced it,
# on the tiny random-weight test model (its images are noise, but every control works).
run: deps build
	@if [ -f Models/mini/model_index.json ]; then $(RELEASE_BIN) ui --model Models/mini; \
	else echo "Models/mini is not trained yet (make train-mini): opening the tiny random-weight test model."; \
	$(RELEASE_BIN) ui --model Tests/Fixtures/tiny-sd; fi

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build -c release --product photoverse

# The Python side (training, fixtures, oracles) lives in a pinned venv.
venv: $(VENV)/.installed
$(VENV)/.installed: training/requirements.txt training/requirements-nodeps.txt
	@python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r training/requirements.txt
	$(PYTHON) -m pip install -q --no-deps -r training/requirements-nodeps.txt
	@touch $@

test: deps venv swift-test python-test

swift-test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

python-test: venv
	$(PYTHON) -m pytest -q training/tests

# Swift and PyTorch timed in the same run; the ratio is Swift/PyTorch.
bench: deps build venv
	$(PYTHON) training/bench/bench_torch.py gemm conv unet vae

# Rebuild the PhotoVerse-mini model from nothing (resumable: run it again to continue; one torch
# thread; log in training/work/train.log, sample grids in training/work/samples/).
train-mini: venv
	cd training && PYTHONPATH=. ../$(PYTHON) -m photoverse_train.train_mini --threads 1 --lanes 2 $(TRAIN_ARGS)

# Coverage-guided fuzzing of every input parser (libFuzzer + AddressSanitizer, Fuzz/): each target
# for FUZZ_SECONDS (default 60) in turn, then executions and findings per target; findings land in
# Fuzz/findings/<target>/. FUZZ_TARGETS="png config" picks targets. fuzz-smoke: 3 s each from the
# committed seeds, for CI (2.5 min with a cold build on 2 shared cores: 2 min build, 35 s runs).
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) nice -n 5 Fuzz/run.sh $(FUZZ_TARGETS)

fuzz-smoke: deps
	FUZZ_SMOKE=1 FUZZ_SECONDS=3 nice -n 5 Fuzz/run.sh $(FUZZ_TARGETS)

clean:
	rm -rf .build
