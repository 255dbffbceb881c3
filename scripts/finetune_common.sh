# Shared by scripts/finetune_demo.sh (new demonstrations from datagen) and
# scripts/finetune_from_bags.sh (new demonstrations from recorded flights): the base policy
# trained without one family, the suites, the benchmarks and the report. Sourced, not run.
# Every stage resumes: a finished one is not redone.
#
# Settings (environment): FAMILY, WORK, DATA (the base's demonstrations; made here when
# missing: BASE_EPISODES of datagen), BASE_STEPS, TUNE_STEPS, TUNE_LR, FAMILY_EPISODES, REPORT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
make install >/dev/null
BIN=.venv/bin
FAMILY=${FAMILY:-symbol/object}
BASE_EPISODES=${BASE_EPISODES:-2000}
BASE_STEPS=${BASE_STEPS:-3000}
TUNE_STEPS=${TUNE_STEPS:-500}
TUNE_LR=${TUNE_LR:-3e-4}
FAMILY_EPISODES=${FAMILY_EPISODES:-400}
mkdir -p "$WORK" "$REPORT"

train() {  # out, then extra arguments; a finished run is not redone
  local out=$1; shift
  if [ ! -f "$out/.done" ]; then
    OMP_NUM_THREADS=1 "$BIN/torchrun" --standalone --nproc_per_node 2 -m cognitivedrone.cli train \
      --out "$out" --batch-size 64 --threads 1 --save-every 250 --eval-every -1 "$@"
    touch "$out/.done"
  fi
}

bench() {  # policy, suite, out; done already when out holds results of this very suite
  local mark; mark=$([ -f "$2" ] && sha256sum < "$2" | cut -c1-16 || echo "$2")
  [ -f "$3/results.json" ] && [ "$(cat "$3/.suite" 2>/dev/null)" = "$mark" ] && return 0
  "$BIN/cognitivedrone" bench --suite "$2" --policy "$1" --workers 2 --out "$3" --overwrite --quiet
  echo "$mark" > "$3/.suite"
}

ensure_suite() {  # out, name, families, episodes, seed: made unless out is already that many episodes long
  # (a suite's first N episodes do not depend on its length: a longer one keeps what was flown)
  [ "$("$BIN/python" -c "import json,sys; print(len(json.load(open(sys.argv[1]))['episodes']))" "$1" 2>/dev/null)" = "$4" ] \
    || "$BIN/cognitivedrone" suite make --out "$1" --name "$2" --families "$3" --episodes "$4" --seed "$5"
}

timed() {  # label, then a command: runs it and notes its wall time in $WORK/times.txt
  local label=$1; shift
  local start; start=$(date +%s)
  "$@"
  local took=$(( $(date +%s) - start ))
  [ "$took" -lt 2 ] || echo "$label: $took s" | tee -a "$WORK/times.txt"  # not a stage found done
}

base_stage() {
  if [ ! -f "$DATA/meta/info.json" ] || [ -f "$DATA.making" ]; then
    echo "== base demonstrations: $BASE_EPISODES episodes of every family into $DATA"
    mkdir -p "$(dirname "$DATA")" && touch "$DATA.making"
    timed "datagen base ($BASE_EPISODES episodes)" "$BIN/cognitivedrone" datagen --episodes "$BASE_EPISODES" \
      --seed 1001 --out "$DATA" --workers 2 --shard-episodes 50 --quiet
    rm -f "$DATA.making"
  fi
  echo "== base policy without $FAMILY: $BASE_STEPS steps on $DATA"
  # chunk_l1: the head the committed demo results (bench/results/finetune-demo/) were made with.
  timed "train base ($BASE_STEPS steps)" train "$WORK/base" --data "$DATA" "--families=-$FAMILY" \
    --steps "$BASE_STEPS" --head chunk_l1

  # 400 episodes: the standard error of a success rate is 2.5 points there, of a difference
  # between two policies about 3.5; at 100 (the first 100 of these) it was 5 and 7, as wide as
  # the effects measured (FAMILY_EPISODES=100 repeats the earlier runs).
  echo "== suites: $FAMILY_EPISODES episodes of $FAMILY (seed 77); the other families from cognitivedrone-v1"
  ensure_suite "$WORK/family-suite.json" finetune-family "$FAMILY" "$FAMILY_EPISODES" 77
  timed "bench base" bench_both base
}

bench_both() {  # stage (base or tuned): its policy on the family's suite and on cognitivedrone-v1
  bench "$WORK/$1" "$WORK/family-suite.json" "$WORK/bench/$1-family"
  bench "$WORK/$1" cognitivedrone-v1 "$WORK/bench/$1-v1"
}

tune_stage() {  # the new demonstrations' dataset
  echo "== fine-tune from the base on $1: $TUNE_STEPS steps, lr $TUNE_LR"
  timed "fine-tune ($TUNE_STEPS steps)" train "$WORK/tuned" --init "$WORK/base" --data "$1" --steps "$TUNE_STEPS" \
    --lr "$TUNE_LR" --warmup-steps 20
  echo "== fly the fine-tuned policy"
  timed "bench tuned" bench_both tuned
}

report() {  # the title's source of the new demonstrations
  "$BIN/python" - "$FAMILY" "$WORK" "$REPORT" "$1" <<'PY'
import json, shutil, sys
from pathlib import Path
family, work, report, source = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
def load(name):
    return json.loads((work / "bench" / name / "results.json").read_text())["episodes"]
def rate(eps):
    return sum(e["success"] for e in eps) / len(eps), len(eps)
rows = []
for stage in ("base", "tuned"):
    v1 = load(f"{stage}-v1")
    rows.append((stage, rate(load(f"{stage}-family")), rate([e for e in v1 if e["family"] != family])))
lines = [f"# Fine-tuning on {source}: {family}", "",
         f"| policy | {family} (own suite) | other families (cognitivedrone-v1) |", "|---|---|---|"]
for stage, (f, nf), (o, no) in rows:
    lines.append(f"| {stage} | {f:.1%} (n={nf}) | {o:.1%} (n={no}) |")
(fb, _), (ft, _) = rows[0][1], rows[1][1]
(ob, _), (ot, _) = rows[0][2], rows[1][2]
lines += ["", f"{family}: {100 * (ft - fb):+.1f} points; other families: {100 * (ot - ob):+.1f} points.", "",
          f"base: trained without the family; tuned: base fine-tuned on {source} only.", "", "Wall times (2 cores; a stage resumed after an interruption lists each part):", ""]
times = work / "times.txt"
lines += [f"- {t}" for t in times.read_text().splitlines()] if times.exists() else ["- (not recorded)"]
(report / "README.md").write_text("\n".join(lines) + "\n")
for name in ("base-family", "base-v1", "tuned-family", "tuned-v1"):
    shutil.copytree(work / "bench" / name, report / name, dirs_exist_ok=True)
shutil.copy(work / "family-suite.json", report / "family-suite.json")
print("\n".join(lines))
PY
}
