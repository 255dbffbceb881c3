#!/usr/bin/env bash
# Fine-tuning on new trajectories, end to end: a policy trained without one task family scores
# low on it; fine-tuned on a few hundred demonstrations of that family it scores high, and it
# keeps its score on the other families. Every stage resumes (run the script again).
# scripts/finetune_from_bags.sh does the same with recorded flights instead of datagen.
#
#   scripts/finetune_demo.sh                                  # symbol/object, the recipe below
#   FAMILY=reasoning/arithmetic WORK=runs/ft-arith scripts/finetune_demo.sh
#
# DATA: the base's demonstrations (default runs/default/data; made here when missing).
WORK=${WORK:-runs/finetune-demo}
DATA=${DATA:-runs/default/data}
REPORT=${REPORT:-bench/results/finetune-demo}
TUNE_EPISODES=${TUNE_EPISODES:-300}
source "$(dirname "$0")/finetune_common.sh"

base_stage

echo "== $TUNE_EPISODES new demonstrations of $FAMILY"
timed "datagen ($TUNE_EPISODES episodes)" "$BIN/cognitivedrone" datagen --episodes "$TUNE_EPISODES" --seed 4242 \
  --families "$FAMILY" --out "$WORK/family-data" --workers 2 --shard-episodes 25 --quiet

tune_stage "$WORK/family-data"
report "$TUNE_EPISODES new datagen demonstrations"
