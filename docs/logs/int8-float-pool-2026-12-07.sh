# INT8 export with the `_hr` model's input pooling in float32 (a rewiring of the quantised graph tried on
# 2026-12-07 night and NOT kept: see the note on docs/results.md; the script needs that code) against the export without it (runs/int8-pool/int8-newhead2.onnx,
# docs/logs/native-head-2026-12-07.sh), both with the head at half resolution, fold-00 of the 800-step study.
# Run from the repository root on an idle machine.
set -e
export PYTHONPATH=src
M=runs/results/shimotsu-hr-800/dataset/manifest.csv
CK=runs/results/shimotsu-hr-800/hr-crops-cpu/cv/fold-00/model-last.pt
date -u
.venv/bin/oocyteseg export $CK --onnx runs/int8-pool/int8-floatpool.onnx --int8 --calibration $M --check-cases case01 --overwrite
for r in 1 2 3; do
  for f in int8-newhead2 int8-floatpool; do
    .venv/bin/python benchmarks/onnx_ops.py runs/int8-pool/$f.onnx --runs 3 2>&1 | grep "ms per image"
  done
done
.venv/bin/python benchmarks/analyze_workers.py runs/int8-pool/int8-newhead2.onnx runs/int8-pool/int8-floatpool.onnx \
    --variants 1x2 --rounds 5 --seconds 10 --work runs/bench-float-pool
date -u
