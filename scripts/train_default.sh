#!/usr/bin/env bash
# Reproduce checkpoints/default end to end: demonstrations -> training -> benchmark.
# Every stage resumes: run the script again after an interruption and it carries on
# (datagen skips finished shards, training restarts from its newest checkpoint, and a
# finished stage is not redone).
#
#   scripts/train_default.sh                 # the full recipe (8,000 demonstrations)
#   EPISODES=400 STEPS=300 WORK=runs/tiny scripts/train_default.sh   # a quick rehearsal
set -euo pipefail
cd "$(dirname "$0")/.."
make install >/dev/null
BIN=.venv/bin
EPISODES=${EPISODES:-8000}
STEPS=${STEPS:-6000}
BATCH=${BATCH:-128}
HEAD=${HEAD:-tokens256}
WORK=${WORK:-runs/default}
DEST=${DEST:-checkpoints/default}
SEED=${SEED:-1}

echo "== 1/3 demonstrations: $EPISODES episodes -> $WORK/data"
"$BIN/cognitivedrone" datagen --episodes "$EPISODES" --seed "$SEED" --out "$WORK/data" --workers 2

echo "== 2/3 training: $STEPS steps x $BATCH ($HEAD) -> $WORK/train"
if [ ! -f "$WORK/train/model.safetensors" ] || [ ! -f "$WORK/train/.done" ]; then
  OMP_NUM_THREADS=1 "$BIN/torchrun" --standalone --nproc_per_node 2 -m cognitivedrone.cli train \
    --data "$WORK/data" --out "$WORK/train" --steps "$STEPS" --batch-size $((BATCH / 2)) --head "$HEAD" \
    --threads 1 --save-every 500 --eval-every 2000 --eval-suite smoke
  touch "$WORK/train/.done"
fi
mkdir -p "$DEST"
cp "$WORK/train/config.json" "$WORK/train/model.safetensors" "$WORK/train/normalization.json" \
   "$WORK/train/train_config.json" "$WORK/train/metrics.jsonl" "$DEST/"  # the last two: how it was made
# The "is a gate in view?" head the Pilot searches on (docs/design.md, Doubt): ~2 min.
"$BIN/python" -m cognitivedrone.training.view_head "$DEST"

echo "== 3/3 benchmark: cognitivedrone-v1 with $DEST"
for prompt in simple original; do
  "$BIN/cognitivedrone" bench --suite cognitivedrone-v1 --policy "$DEST" --prompt "$prompt" \
    --workers 2 --out "bench/results/default-$prompt" --overwrite --video 3
done
