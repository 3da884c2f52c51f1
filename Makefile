# oocyteseg: `make demo` and `make test` are the only set-up steps; both are idempotent.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# torch/torchvision pinned to the releases this project is tested with (see README).
TORCH  := torch==2.14.1 torchvision==0.29.1

.PHONY: demo test install bench results clean chromium

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --upgrade pip >/dev/null
	$(PY) -m pip install $(TORCH)
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/oocyteseg demo --out runs/demo --overwrite

# Headless Chromium for the HTML report's browser test (Debian package); if it cannot be installed
# the test is skipped and says so.
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium) \
	  || echo "chromium could not be installed: tests/reports/test_report_browser.py will be skipped"

test: $(STAMP) chromium
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/run_all.py --out docs/performance.md

clean:
	rm -rf runs .pytest_cache
