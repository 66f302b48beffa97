# The README's commands. `make run` and `make test` each create .venv and install first, from
# requirements.lock: every package at an exact version with its hashes, so each machine gets the
# same install. Plain pip reads it; uv is needed only to write it (`make lock`). docs/install.md.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= out/example
LOCK   := requirements.lock
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9

.PHONY: run test test-compat bench venv lock clean notebooks-strip

# A new lock means a new venv: installing over the old one would keep packages the lock dropped.
# `pip check` fails if pyproject.toml asks for something the lock does not hold (run `make lock`).
$(STAMP): pyproject.toml $(LOCK)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "pip>=21.3"
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip check
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/dispatch run scenarios/example --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest -q

# Not part of `make test`: throwaway venvs under .compat/, one per Python 3.10-3.13 found and
# one swapped through the Pyomo x highspy versions the bounds admit; the test suite in each and a
# table at the end. About 15 minutes (docs/install.md).
test-compat: $(STAMP)
	$(PY) tools/compat.py

bench: $(STAMP)
	$(PY) benchmarks/run.py

notebooks-strip: $(STAMP)
	$(PY) tests/test_notebooks.py --strip

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# Re-resolve uv.lock for Python 3.10+ on every platform after a change to pyproject.toml (keeping
# the pinned versions that still fit; `make lock UPGRADE=1` takes the newest of everything), then
# export it for pip.
lock: $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade)
	$(UV) export --quiet --frozen --extra dev --no-emit-project --output-file $(LOCK)

clean:
	rm -rf $(VENV) out .pytest_cache .compat
