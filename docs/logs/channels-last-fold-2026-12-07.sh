#!/usr/bin/env bash
# One fold of the Shimotsu study (held-out case01, fold-00) trained again with the fold's own saved config, now with
# channels-last weights and batches (trainer.channels_last, the new default; the config saved with the study
# predates the option, so it gets the default), alone on the machine; then scored beside the study's own fold.
# Run from the repository root:  bash docs/logs/channels-last-fold-2026-12-07.sh > docs/logs/channels-last-fold-2026-12-07.log 2>&1
set -euo pipefail
STUDY=runs/results/shimotsu-hr-fast
OUT=runs/exp/channels-last/case01
date -u
.venv/bin/oocyteseg train --config $STUDY/hr-crops-cpu/cv/fold-00/config.yaml --out $OUT --no-progress
date -u
cat $OUT/result.json; echo; cat $STUDY/hr-crops-cpu/cv/fold-00/done.json; echo
PYTHONPATH=src .venv/bin/python benchmarks/fold_models.py --study $STUDY --model hr-crops-cpu \
    --variant channels-last=runs/exp/channels-last/{case}/model-last.pt --cases case01 --threads 2
date -u
