# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-ray lint typecheck pytest bench notebooks emulator clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall when pyproject.toml changes.
$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $@ $(VENV)/.installed-all

demo: $(VENV)/.installed-all
	$(BIN)/tl-integrations demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks notebooks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

test: lint typecheck pytest

# Every Ray test, the heavy ones too (marked ray_heavy, left out of make test): a two-node
# cluster on this machine (ray start), a killed and restarted run, notebook 06 executed.
# A few minutes.
test-ray: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/raydata tests/notebooks -m 'ray_heavy or not ray_heavy' -k 'not notebook_runs or 06_ray'

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.run_all

# Re-execute the notebooks and save their outputs (after editing a cell).
notebooks: $(VENV)/.installed-dev
	$(BIN)/python tests/notebooks/test_notebooks.py

emulator: $(VENV)/.installed-all
	$(BIN)/tl-integrations emulator

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
