#!/usr/bin/env bash
# Diagnostic (not a recipe): is the sERC limited by how few distinct sERCs the model sees (one per training case)?
# The two smallest-sERC folds of the study (case04, case06) trained with the fold's own config (700 steps) plus 10
# extra phantom cases (seed 7; every other row of each case in its manifest, which keeps every other 1-fps still:
# 25 per case, 250 in all, each case with an sERC; exact masks, not LabelMe),
# scored beside the study's two runs of the plain fold (benchmarks/fold_models.py).
set -euo pipefail
STUDY=runs/results/shimotsu-hr-fast
if [ ! -f runs/exp/extra-cases/manifest-extra.csv ]; then
  .venv/bin/oocyteseg phantom --out runs/exp/extra-cases --cases 10 --seed 7 --seconds 50 --label-fps 1 --formats "" \
    --inclusion-images 0
  .venv/bin/python - <<'PY'
import pandas as pd
m = pd.read_csv("runs/exp/extra-cases/manifest.csv")
m = pd.concat([g.iloc[::2] for _, g in m.groupby("case")])
m["case"] = m["case"].str.replace("case", "extra")
m.to_csv("runs/exp/extra-cases/manifest-extra.csv", index=False)
PY
fi
EXTRA="extra01,extra02,extra03,extra04,extra05,extra06,extra07,extra08,extra09,extra10"
for pair in 03:case04 05:case06; do
  fold=${pair%%:*}; case=${pair##*:}
  out=runs/exp/extra/$case
  if [ -f $out/model-last.pt ]; then echo "$case: done"; continue; fi
  train=$(.venv/bin/python -c "import yaml; print(','.join(yaml.safe_load(open('$STUDY/hr-crops-cpu/cv/fold-$fold/config.yaml'))['data']['train_cases']))")
  resume=""; [ -d $out ] && resume="--resume"
  echo "$(date -u) train $case (fold-$fold) + 10 extra cases"
  .venv/bin/oocyteseg train --config $STUDY/hr-crops-cpu/cv/fold-$fold/config.yaml --out $out $resume --no-progress \
    --set "data.manifests=[$STUDY/dataset/manifest.csv,runs/exp/extra-cases/manifest-extra.csv]" \
    --set "data.train_cases=[$train,$EXTRA]"
done
echo "$(date -u) score"
PYTHONPATH=src .venv/bin/python benchmarks/fold_models.py --study $STUDY --model hr-crops-cpu \
  --variant hr800=runs/exp/hr800/{case}/model-last.pt --variant extra=runs/exp/extra/{case}/model-last.pt \
  --cases case04 case06 --threads 2
echo "$(date -u) end"
