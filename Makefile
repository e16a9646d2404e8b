# One entry point for people, CI and the Dockerfile. `make run` serves, `make test` tests.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
ML_PORT ?= 3000
export ML_PORT

.PHONY: run serve-dev test test-unit lint performance download-models install install-dev install-gpu clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Swap the CPU onnxruntime for the CUDA build (GPU images; GPU_IDX >= 0).
install-gpu: install
	$(BIN)/pip uninstall --yes --quiet onnxruntime
	$(BIN)/pip install --quiet onnxruntime-gpu

## Start the service (uWSGI) on ML_PORT with the configured plugins; models load and warm before serving.
run: install
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/uwsgi --ini uwsgi.ini

## Flask's development server (one process), as the seed's `python -m src.app`.
serve-dev: install
	$(BIN)/python -m src.app

## Unit + integration tests (what CI runs).
test: install-dev
	$(BIN)/python -m pytest -m "not performance" -q
	$(BIN)/python -m pylama --options pylama.ini src plugins srcext tools tests

test-unit: install-dev
	$(BIN)/python -m pytest -m "not performance and not integration" -q

lint: install-dev
	$(BIN)/python -m pylama --options pylama.ini src plugins srcext tools tests

performance: install-dev
	$(BIN)/python -m pytest -m performance -q

## Fetch the models of the configured plugins into MODELS_ROOT (Docker build time).
download-models: install
	$(BIN)/python -m tools.download_models

clean:
	rm -rf $(VENV) .pytest_cache tools/tmp
