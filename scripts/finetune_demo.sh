#!/usr/bin/env bash
# Fine-tuning on new trajectories, end to end: a policy trained without one task family scores
# low on it; fine-tuned on a few hundred demonstrations of that family it scores high, and it
# keeps its score on the other families. Every stage resumes (run the script again).
#
#   scripts/finetune_demo.sh                                  # symbol/object, the recipe below
#   FAMILY=reasoning/arithmetic WORK=runs/ft-arith scripts/finetune_demo.sh
#
# Needs the 8,000 demonstrations of scripts/train_default.sh (DATA=...).
set -euo pipefail
cd "$(dirname "$0")/.."
make install >/dev/null
BIN=.venv/bin
FAMILY=${FAMILY:-symbol/object}
DATA=${DATA:-runs/default/data}
WORK=${WORK:-runs/finetune-demo}
BASE_STEPS=${BASE_STEPS:-3000}
TUNE_EPISODES=${TUNE_EPISODES:-300}
TUNE_STEPS=${TUNE_STEPS:-500}
TUNE_LR=${TUNE_LR:-3e-4}
REPORT=${REPORT:-bench/results/finetune-demo}
mkdir -p "$WORK" "$REPORT"

train() {  # out, then extra arguments; a finished run is not redone
  local out=$1; shift
  if [ ! -f "$out/.done" ]; then
    OMP_NUM_THREADS=1 "$BIN/torchrun" --standalone --nproc_per_node 2 -m cognitivedrone.cli train \
      --out "$out" --batch-size 64 --threads 1 --save-every 250 --eval-every -1 "$@"
    touch "$out/.done"
  fi
}

bench() {  # policy, suite, out
  [ -f "$3/results.json" ] || "$BIN/cognitivedrone" bench --suite "$2" --policy "$1" --workers 2 --out "$3" --overwrite --quiet
}

echo "== 1/5 base policy without $FAMILY: $BASE_STEPS steps on $DATA"
# chunk_l1: the head the committed demo results (bench/results/finetune-demo/) were made with.
train "$WORK/base" --data "$DATA" "--families=-$FAMILY" --steps "$BASE_STEPS" --head chunk_l1

echo "== 2/5 suites: 100 episodes of $FAMILY (seed 77); the other families from cognitivedrone-v1"
[ -f "$WORK/family-suite.json" ] || "$BIN/cognitivedrone" suite make --name finetune-family \
  --families "$FAMILY" --episodes 100 --seed 77 --out "$WORK/family-suite.json"
bench "$WORK/base" "$WORK/family-suite.json" "$WORK/bench/base-family"
bench "$WORK/base" cognitivedrone-v1 "$WORK/bench/base-v1"

echo "== 3/5 $TUNE_EPISODES new demonstrations of $FAMILY"
"$BIN/cognitivedrone" datagen --episodes "$TUNE_EPISODES" --seed 4242 --families "$FAMILY" \
  --out "$WORK/family-data" --workers 2 --shard-episodes 25

echo "== 4/5 fine-tune from the base: $TUNE_STEPS steps, lr $TUNE_LR"
start=$(date +%s)
train "$WORK/tuned" --init "$WORK/base" --data "$WORK/family-data" --steps "$TUNE_STEPS" --lr "$TUNE_LR" --warmup-steps 20
echo "fine-tuning took $(( $(date +%s) - start )) s (0 if it was already done)"

echo "== 5/5 fly the fine-tuned policy"
bench "$WORK/tuned" "$WORK/family-suite.json" "$WORK/bench/tuned-family"
bench "$WORK/tuned" cognitivedrone-v1 "$WORK/bench/tuned-v1"

"$BIN/python" - "$FAMILY" "$WORK/bench" "$REPORT" <<'PY'
import json, sys
from pathlib import Path
family, bench, report = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
def load(name):
    return json.loads((bench / name / "results.json").read_text())["episodes"]
def rate(eps):
    return sum(e["success"] for e in eps) / len(eps), len(eps)
rows = []
for stage in ("base", "tuned"):
    fam = rate(load(f"{stage}-family"))
    v1 = load(f"{stage}-v1")
    others = rate([e for e in v1 if e["family"] != family])
    rows.append((stage, fam, others))
lines = [f"# Fine-tuning demo: {family}", "",
         f"| policy | {family} (own suite) | other families (cognitivedrone-v1) |", "|---|---|---|"]
for stage, (f, nf), (o, no) in rows:
    lines.append(f"| {stage} | {f:.1%} (n={nf}) | {o:.1%} (n={no}) |")
lines += ["", "base: trained without the family; tuned: base fine-tuned on the new demonstrations only.",
          "Made by scripts/finetune_demo.sh."]
(report / "README.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PY
