# The README's commands. `make run` and `make test` each create .venv and install first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= out/example

.PHONY: run test bench venv clean notebooks-strip

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/dispatch run scenarios/example --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/run.py

notebooks-strip: $(STAMP)
	$(PY) tests/test_notebooks.py --strip

clean:
	rm -rf $(VENV) out .pytest_cache
