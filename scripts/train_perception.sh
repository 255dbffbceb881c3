#!/usr/bin/env bash
# Reproduce checkpoints/perception (the offline reasoner's eyes): render labelled scenes, train,
# copy. Both stages resume: run it again after an interruption.
#   scripts/train_perception.sh                          # 24,000 scenes, 6,000 steps (~4 + ~36 min on 2 cores)
# The shipped model was trained in two runs: 3,000 steps, then resumed to 6,000 (a resume starts a
# fresh optimizer and follows the cosine of the new total, so the learning rate went back up to half
# its peak), so one 6,000-step run is close, not identical.
#   FRAMES=2000 STEPS=200 WORK=runs/p-tiny scripts/train_perception.sh   # a rehearsal
set -euo pipefail
cd "$(dirname "$0")/.."
make install >/dev/null
BIN=.venv/bin
FRAMES=${FRAMES:-24000}
STEPS=${STEPS:-6000}
WORK=${WORK:-runs/perception-work}
DEST=${DEST:-checkpoints/perception}

echo "== 1/2 scenes: $FRAMES frames -> $WORK/scenes"
"$BIN/cognitivedrone" perception scenes --frames "$FRAMES" --seed 1 --out "$WORK/scenes" --workers 2
echo "== 2/2 training: $STEPS steps -> $WORK/model"
"$BIN/cognitivedrone" perception train --scenes "$WORK/scenes" --out "$WORK/model" --steps "$STEPS"
mkdir -p "$DEST"
cp "$WORK/model/config.json" "$WORK/model/model.safetensors" "$WORK/model/eval.json" "$WORK/model/metrics.jsonl" "$DEST/"
echo "copied to $DEST"
