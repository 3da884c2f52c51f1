#!/bin/bash
# The finished fast study's fold models with flip test-time augmentation (adds hr-crops-cpu+flip; no training).
cd /work/main
{ date -u; echo '.venv/bin/oocyteseg experiment shimotsu --out runs/results/shimotsu-hr-fast --models configs/hr-crops-cpu.yaml --budget 0.028 --data-fraction 1 --video-fps 4 --threads 2 --resume --tta flip'
  .venv/bin/oocyteseg experiment shimotsu --out runs/results/shimotsu-hr-fast --models configs/hr-crops-cpu.yaml --budget 0.028 --data-fraction 1 --video-fps 4 --threads 2 --resume --tta flip; echo "rc $?"; date -u; } >> docs/logs/shimotsu-hr-fast-flip.log 2>&1
