#!/bin/bash
# INT8 (oocyteseg export --int8) of every fold model of the study, checked on the fold's own held-out case;
# calibration: 32 stills of the other ten cases.
cd /work/main
CV=runs/results/shimotsu-hr/hr-crops-cpu/cv
M=runs/results/shimotsu-hr/dataset/manifest.csv
date -u
for k in 00 01 02 03 04 05 06 07 08 09 10; do
  c=$(printf "case%02d" $((10#$k + 1)))
  echo "=== fold-$k ($c)"
  .venv/bin/oocyteseg export $CV/fold-$k/model-last.pt --onnx runs/int8-folds/fold-$k-int8.onnx --int8 \
      --calibration $M --check-cases $c --max-iou-drop 1 --overwrite
done
date -u
