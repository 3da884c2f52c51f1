# oocyteseg: `make demo` and `make test` are the only set-up steps; both are idempotent.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# torch/torchvision pinned to the releases this project is tested with (see README).
TORCH  := torch==2.14.1 torchvision==0.29.1

.PHONY: demo test install bench results results-shimotsu results-andreini results-andreini-smanet clean chromium

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

# Both seed studies on the phantom with the budget that fits a 2-core CPU, then docs/results.md. The Shimotsu
# study trains configs/hr-crops-cpu.yaml (native-resolution crops, 700 steps per fold) and also scores its fold models
# with flip test-time augmentation (--tta flip, no training). Timed on 2026-12-07 (2-core Xeon, data rendered from
# scratch; docs/logs/shimotsu-hr-fast*.log): 95.8 min over two runs for the study (one stop by hand during a fold,
# resumed) + 1.9 min for --tta flip; the Andreini study 7.6 min (same day): about 105 min in all, measured before
# training moved to channels-last memory order (trainer.channels_last, ~12 % shorter training steps). With it, the
# whole of `make results` at 800 steps per fold (--budget 0.032, no better than 700) took 106.4 min from scratch
# (2026-12-07 night, docs/logs/make-results-800-2026-12-07.log); at 700 steps about 10 min less (not timed).
# Each command is logged with its start date (date -u) under docs/logs/; --resume continues an interrupted run.
OOCYTESEG    := $(VENV)/bin/oocyteseg
SHIMOTSU_CMD := $(OOCYTESEG) experiment shimotsu --out runs/results/shimotsu-hr --models configs/hr-crops-cpu.yaml \
                --budget 0.028 --data-fraction 1 --video-fps 4 --threads 2 --resume --tta flip
ANDREINI_CMD := $(OOCYTESEG) experiment andreini --out runs/results/andreini --model unet_small --budget 0.06 --spots anywhere \
                --batch-size 4 --set optim.name=adamw --set optim.lr=0.003 --set optim.scheduler=onecycle --threads 2 --resume
ANDREINI_SMANET_CMD := $(OOCYTESEG) experiment andreini --out runs/results/andreini-smanet --model smanet --budget 0.024 \
                --gan-steps 600 --n-synthetic 600 --spots anywhere --batch-size 4 --set optim.name=adamw \
                --set optim.lr=0.001 --set optim.scheduler=onecycle --threads 2 --resume

results: results-shimotsu results-andreini
	$(PY) scripts/results_page.py --shimotsu runs/results/shimotsu-hr --shimotsu-log docs/logs/shimotsu-hr.log \
	    --andreini runs/results/andreini --andreini-log docs/logs/andreini.log \
	    --andreini runs/results/andreini-smanet --andreini-log docs/logs/andreini-smanet.log --out docs/results.md

results-shimotsu: $(STAMP)
	mkdir -p docs/logs
	{ date -u; echo '$(SHIMOTSU_CMD)'; $(SHIMOTSU_CMD); date -u; } > docs/logs/shimotsu-hr.log 2>&1

results-andreini: $(STAMP)
	mkdir -p docs/logs
	{ date -u; echo '$(ANDREINI_CMD)'; $(ANDREINI_CMD); date -u; } > docs/logs/andreini.log 2>&1

# Not part of `make results` (it would take it past 2 hours here); run it before `make results` to put it on the page.
# The Andreini study with the paper's own model, SMANet (dilated ResNet-50, random initialisation):
results-andreini-smanet: $(STAMP)
	mkdir -p docs/logs
	{ date -u; echo '$(ANDREINI_SMANET_CMD)'; $(ANDREINI_SMANET_CMD); date -u; } > docs/logs/andreini-smanet.log 2>&1

clean:
	rm -rf runs .pytest_cache
