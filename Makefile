# Every target bootstraps .venv with Python 3.13 (see .python-version) when it is missing.
PYTHON ?= $(shell command -v python3.13 2>/dev/null || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-slow bench lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 13), f"mario-zoo needs Python 3.13, found {sys.version.split()[0]} at {sys.executable}; install it (pyenv install 3.13) or pass PYTHON=/path/to/python3.13"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m mario_zoo.demo

test: $(STAMP)
	$(PY) -m pytest -q -n 2 -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

lint: $(STAMP)
	$(PY) -m ruff check mario_zoo tests benchmarks
	$(PY) -m ruff format --check mario_zoo tests benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info
