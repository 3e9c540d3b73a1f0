# Two commands a newcomer needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q
# Playwright's Python package only: the tests use Debian's chromium, never a download.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.installed-run

## run: load demo data into the embedded log, project it, tell a customer's story
run: $(VENV)/.installed-run
	$(BIN)/servicetrace demo

## lint: ruff (lint + format) and mypy strict
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## test: lint, then every test (the session starts its own Kafka-protocol broker; the web
## pages' tests drive Debian's chromium, installed here when missing: we are root on CI)
test: lint
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian chromium for the browser tests"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium; } >/dev/null || echo "chromium install failed"; }
	$(BIN)/python -m pytest

## bench: throughput figures (JSON) against baselines measured in the same run
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/projections.py
	$(BIN)/python bench/alerts.py
	$(BIN)/python bench/replay.py

clean:
	rm -rf $(VENV) .servicetrace .pytest_cache .mypy_cache .ruff_cache
