# The `_hr` model's native-resolution head computed at half resolution (models/native_head.py) against the head as
# trained (full-resolution upsample + concat + 3x3 conv), on fold-00 of the study `make results-shimotsu` wrote:
# the same checkpoint exported by the code before (oldhead) and after (newhead: image part as pixel_unshuffle + 3x3;
# newhead2: image part as a 4x4 stride-2 conv, the code kept). Exports were made with:
#   oocyteseg export runs/results/shimotsu-hr/hr-crops-cpu/cv/fold-00/model-last.pt --onnx runs/int8-pool/f32-X.onnx
#   oocyteseg export ... --onnx runs/int8-pool/int8-X.onnx --int8 --calibration runs/results/shimotsu-hr/dataset/manifest.csv --check-cases case01
# (logs runs/int8-pool/export-*.log, copied below). Run from the repository root on an idle machine.
set -e
export PYTHONPATH=src
date -u
cat runs/int8-pool/export-oldhead.log runs/int8-pool/export-newhead2.log | grep -v Warn
for r in 1 2 3; do
  for f in f32-oldhead f32-newhead2 int8-oldhead int8-newhead int8-newhead2; do
    .venv/bin/python benchmarks/onnx_ops.py runs/int8-pool/$f.onnx --runs 3 2>&1 | grep "ms per image"
  done
done
.venv/bin/python benchmarks/onnx_ops.py runs/int8-pool/int8-newhead2.onnx --top 12 2>&1 | grep -v Warn
.venv/bin/python benchmarks/analyze_workers.py runs/int8-pool/int8-oldhead.onnx runs/int8-pool/int8-newhead2.onnx \
    --variants 1x2 --rounds 5 --seconds 10 --work runs/bench-native-head
date -u
