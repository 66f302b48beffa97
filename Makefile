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

.PHONY: run test test-compat bench venv lock clean notebooks-strip browser

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

test: $(STAMP) browser
	$(PY) -m pytest -q

# Not part of `make test`: throwaway venvs under .compat/, one per Python 3.10-3.13 found and
# one swapped through the Pyomo x highspy versions the bounds admit; the test suite in each and a
# table at the end. About 15 minutes (docs/install.md).
test-compat: $(STAMP)
	$(PY) tools/compat.py

# The report's browser test (tests/test_report.py) opens report.html in headless Chromium, the
# Debian package `chromium`. Installed here once if missing, where apt-get can (as root, as CI
# runs); where it cannot, the test says it was skipped and why. Nothing else is installed.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    echo "installing chromium (Debian package) for the report's browser test" && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium is not installed and cannot be here: the report's browser test will be skipped"

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
