#!/usr/bin/env bash
# Three runs of the study's recipe (hr-crops-cpu, 700 steps: the page's top table, the 800-step run and the
# morning run) as an ensemble on all 11 held-out cases: each run's fold model and the logits averaged over the
# three, scored on the same stills (benchmarks/fold_ensemble.py). No training.
set -euo pipefail
PYTHONPATH=src .venv/bin/python benchmarks/fold_ensemble.py --studies runs/results/shimotsu-hr-fast \
  runs/results/shimotsu-hr-800 runs/results/shimotsu-hr-morning --threads 2 --out runs/exp/fold-ensemble.csv
