# One entry point for people, CI and the Dockerfile. `make run` serves, `make test` tests.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
ML_PORT ?= 3000
UWSGI_PROCESSES ?= 2
UWSGI_THREADS ?= 1
UWSGI_HARAKIRI ?= 60
UWSGI_LISTEN ?= 64
LINT_PATHS := src plugins srcext tools training tests
define LINT
$(BIN)/python -m pylama --options pylama.ini $(LINT_PATHS)
$(BIN)/python -m ruff check $(LINT_PATHS)
$(BIN)/python -m mypy
endef
export ML_PORT UWSGI_PROCESSES UWSGI_THREADS UWSGI_HARAKIRI UWSGI_LISTEN

.PHONY: run serve-dev test test-unit docker-test lint performance fuzz fuzz-atheris soak download-models install install-dev install-gpu clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools<81" wheel  # pylama needs pkg_resources

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
	@$(BIN)/python -m facecore.preflight --port
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/uwsgi --ini uwsgi.ini

## Flask's development server (one process), as the seed's `python -m facecore.app`.
serve-dev: install
	$(BIN)/python -m facecore.app

## Unit + integration tests (what CI runs).
test: install-dev
	$(BIN)/python -m pytest -m "not performance" -q
	$(LINT)

## Build the Docker image and exercise it for real (deploy/docker-test.sh; starts its own engine as root if needed).
docker-test:
	bash deploy/docker-test.sh

test-unit: install-dev
	$(BIN)/python -m pytest -m "not performance and not integration" -q

## pylama (pycodestyle + pyflakes), ruff (with import order: `ruff check --fix .` sorts them) and mypy
## (facecore, src, plugins, srcext: pyproject.toml).
lint: install-dev
	$(LINT)

performance: install-dev
	$(BIN)/python -m pytest -m performance -q

## Longer fuzzing than make test does (mutations, hypothesis, schemathesis), and atheris on the decoder.
fuzz: install-dev
	COST_SCALE=full MUTATION_CASES=20000 FUZZ_EXAMPLES=20000 SCHEMATHESIS_EXAMPLES=500 $(BIN)/python -m pytest tests/fuzz -q

fuzz-atheris: install-dev
	$(BIN)/pip install --quiet atheris && $(BIN)/python -m tests.fuzz.atheris_decode -max_total_time=600

## 2000 mixed requests on the default plugins; fails if RSS grows over 50 MB in the second half.
soak: install-dev
	$(BIN)/python -m pytest tests/reliability/test_soak.py -m performance -q -s

## Fetch the models of the configured plugins into MODELS_ROOT (Docker build time).
download-models: install
	$(BIN)/python -m tools.download_models

clean:
	rm -rf $(VENV) .pytest_cache tools/tmp
