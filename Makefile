# One Makefile, used the same way on a laptop and in CI (.ci/run calls `make test`).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast browser ocr lint typecheck unit bench clean

# torch first, pinned: 2.13.0 is a CPU build; anything looser pulls a multi-GB CUDA build.
# llama-cpp-python compiles llama.cpp for this CPU (8-9 minutes the first time; pip caches it).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Install, then start the web UI on its bundled defaults (http://127.0.0.1:8501).
run: install
	$(BIN)/rag ui

## Install, then run every check: lint, format, types, tests (the browser test included).
test: install browser ocr lint typecheck unit

# Debian's Chromium for the end-to-end UI test (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  ($$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium) \
	  || echo "chromium could not be installed: the browser test will be skipped"; }

# Debian's Tesseract with English and Spanish data, to OCR scanned pages (optional at run time:
# without it, ingest says which pages would need OCR).
ocr:
	@command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx spa || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  ($$SUDO apt-get update -qq && \
	   $$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-eng tesseract-ocr-spa) \
	  || echo "tesseract could not be installed: scanned pages will not be OCR'd, OCR tests skip"; }

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/python -m pytest

## The fast tier: tests/unit, pure logic only (no model loads, no servers, no browser, no `rag`).
test-fast: install
	$(BIN)/python -m pytest tests/unit -q

## Performance benchmarks against the raw libraries (docs/BENCHMARKS.md); `make bench QUICK=1`
## for a run of a few minutes each. Results: bench/results/*.json (git-ignored).
bench: install browser
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m bench.perf.ingest $(if $(QUICK),--quick)
	# The levers are sentence-transformers' (batch, calls, int8 torch weights): measured on MiniLM.
	RAG_EMBEDDING__MODEL=all-MiniLM-L6-v2 $(BIN)/python -m bench.perf.embed_levers $(if $(QUICK),--quick)
	$(BIN)/python -m bench.perf.reingest $(if $(QUICK),--quick)
	$(BIN)/python -m bench.perf.folder_sync $(if $(QUICK),--quick)
	$(BIN)/python -m bench.perf.retrieval_latency $(if $(QUICK),--quick)
	$(BIN)/python -m bench.perf.answering $(if $(QUICK),--quick)
	$(BIN)/python -m bench.perf.stream_overhead $(if $(QUICK),--quick)
	$(BIN)/python -m bench.perf.memory $(if $(QUICK),--quick)
	$(BIN)/python -m bench.perf.api_load $(if $(QUICK),--quick)
	$(BIN)/python -m bench.perf.structure $(if $(QUICK),--rounds 1 --sample 16)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
