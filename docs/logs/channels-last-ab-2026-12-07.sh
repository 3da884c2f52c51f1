#!/usr/bin/env bash
# channels-last vs contiguous in the real training loop: the study's fold-00 config (crops, augmentation, loss,
# data loading), 150 steps, no validation, alternating the two layouts twice on an idle machine; prints the
# wall and CPU seconds each run recorded in result.json.
# Run from the repository root:  bash docs/logs/channels-last-ab-2026-12-07.sh > docs/logs/channels-last-ab-2026-12-07.log 2>&1
set -euo pipefail
CFG=runs/results/shimotsu-hr-fast/hr-crops-cpu/cv/fold-00/config.yaml
for round in 1 2; do
  for cl in false true; do
    out=runs/exp/channels-last-ab/r$round-$cl
    rm -rf $out
    .venv/bin/oocyteseg train --config $CFG --out $out --no-progress --set optim.max_steps=150 \
        --set trainer.val_every_n_steps=1000 --set trainer.checkpoint_every_n_steps=1000 \
        --set trainer.channels_last=$cl > /dev/null
    python3 -c "import json; r = json.load(open('$out/result.json')); print('round $round channels_last=$cl: steps', r['steps'], 'wall s', round(r['seconds'], 1), 'CPU s', round(r['cpu_seconds'], 1))"
  done
done
