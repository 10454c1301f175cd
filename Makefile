# One Makefile, used the same way on a laptop and in CI (.ci/run calls `make test`).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck unit clean

# torch first, pinned: 2.13.0 is a CPU build; anything looser pulls a multi-GB CUDA build.
# llama-cpp-python compiles llama.cpp for this CPU (8-9 minutes the first time; pip caches it).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Install, then start the app on its bundled defaults.
run: install
	$(BIN)/rag doctor
	@echo
	@echo "Ready. Next:  $(BIN)/rag ingest YOUR.pdf   then   $(BIN)/rag ask \"your question\""

## Install, then run every check: lint, format, types, tests.
test: install lint typecheck unit

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
