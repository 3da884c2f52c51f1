#!/usr/bin/env bash
# Issue 14 asks for the heavy models trained as long as the fast one gets. U-Net ResNet-18 and DeepLabV3+
# ResNet-50 (smp; random initialisation: no ImageNet ResNet installs from the package index) on the same fold and
# with exactly the settings of docs/logs/deeplab-fold-2026-12-07.sh (held-out case01, the fold's own saved config,
# whole frames at 240x320, 450 steps), then scored beside that script's DeepLabV3-ResNet-50 and unet_effnet_lite0
# and the study's own fold model (hr-crops-cpu, 700 steps on native crops) on the same held-out stills.
# Run from the repository root:  bash docs/logs/heavy-fold-2026-12-07.sh > docs/logs/heavy-fold-2026-12-07.log 2>&1
set -euo pipefail
STUDY=runs/results/shimotsu-hr-fast
FOLD=$STUDY/hr-crops-cpu/cv/fold-00/config.yaml
OUT=runs/exp/deeplab-fold
COMMON=(--set data.size=[240,320] --set data.crop=null --set optim.max_steps=450 --set trainer.val_every_n_steps=150
        --set trainer.checkpoint_every_n_steps=50 --set trainer.cpu_threads=2)
for model in unet_resnet18 deeplabv3plus_resnet50; do
  date -u; echo "train $model"
  if [ ! -f $OUT/$model/case01/model-last.pt ]; then
    resume=(); [ -f $OUT/$model/case01/checkpoints/last.ckpt ] && resume=(--resume)
    .venv/bin/oocyteseg train --config $FOLD --out $OUT/$model/case01 --set model.name=$model "${COMMON[@]}" "${resume[@]}" --no-progress
  fi
done
date -u; echo "score"
PYTHONPATH=src .venv/bin/python benchmarks/fold_models.py --study $STUDY --model hr-crops-cpu \
    --variant deeplabv3_resnet50=$OUT/deeplabv3_resnet50/{case}/model-last.pt \
    --variant unet_effnet_lite0=$OUT/unet_effnet_lite0/{case}/model-last.pt \
    --variant unet_resnet18=$OUT/unet_resnet18/{case}/model-last.pt \
    --variant deeplabv3plus_resnet50=$OUT/deeplabv3plus_resnet50/{case}/model-last.pt --cases case01 --threads 2 \
    --out $OUT/fold_models_heavy.csv
date -u
