# The README's commands. `make run` and `make test` each create .venv and install first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= out/example

.PHONY: run test bench venv clean notebooks-strip browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/dispatch run scenarios/example --out $(OUT)

test: $(STAMP) browser
	$(PY) -m pytest -q

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

clean:
	rm -rf $(VENV) out .pytest_cache
