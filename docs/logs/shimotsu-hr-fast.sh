#!/bin/bash
# make results-shimotsu's command with the faster code, into a fresh folder (resumable: run again to continue).
cd /work/main
{ date -u; echo '.venv/bin/oocyteseg experiment shimotsu --out runs/results/shimotsu-hr-fast --models configs/hr-crops-cpu.yaml --budget 0.028 --data-fraction 1 --video-fps 4 --threads 2 --resume'
  .venv/bin/oocyteseg experiment shimotsu --out runs/results/shimotsu-hr-fast --models configs/hr-crops-cpu.yaml --budget 0.028 --data-fraction 1 --video-fps 4 --threads 2 --resume; echo "rc $?"; date -u; } >> docs/logs/shimotsu-hr-fast.log 2>&1
