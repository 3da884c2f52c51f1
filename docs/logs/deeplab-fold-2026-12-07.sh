#!/usr/bin/env bash
# The paper's model, DeepLabV3-ResNet-50 (torchvision, random initialisation: no ImageNet ResNet-50 installs
# from the package index), trained on one fold of the Shimotsu study (held-out case01, the first fold) with the
# fold's own saved config, at the fast preset's input (whole frames at 240x320) and 450 steps; the fast preset's
# model (unet_effnet_lite0) with the same input, steps and recipe beside it; then both scored against the
# study's own fold model (hr-crops-cpu, 700 steps on native crops) on the same held-out stills.
# Run from the repository root:  bash docs/logs/deeplab-fold-2026-12-07.sh > docs/logs/deeplab-fold-2026-12-07.log 2>&1
set -euo pipefail
STUDY=runs/results/shimotsu-hr-fast
FOLD=$STUDY/hr-crops-cpu/cv/fold-00/config.yaml
OUT=runs/exp/deeplab-fold
COMMON=(--set data.size=[240,320] --set data.crop=null --set optim.max_steps=450 --set trainer.val_every_n_steps=150
        --set trainer.checkpoint_every_n_steps=50 --set trainer.cpu_threads=2)
for model in deeplabv3_resnet50 unet_effnet_lite0; do
  date -u; echo "train $model"
  if [ ! -f $OUT/$model/case01/model-last.pt ]; then
    resume=(); [ -f $OUT/$model/case01/checkpoints/last.ckpt ] && resume=(--resume)
    .venv/bin/oocyteseg train --config $FOLD --out $OUT/$model/case01 --set model.name=$model "${COMMON[@]}" "${resume[@]}" --no-progress
  fi
done
date -u; echo "score"
PYTHONPATH=src .venv/bin/python benchmarks/fold_models.py --study $STUDY --model hr-crops-cpu \
    --variant deeplabv3_resnet50=$OUT/deeplabv3_resnet50/{case}/model-last.pt \
    --variant unet_effnet_lite0=$OUT/unet_effnet_lite0/{case}/model-last.pt --cases case01 --threads 2 \
    --out $OUT/fold_models.csv
date -u
