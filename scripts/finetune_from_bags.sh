#!/usr/bin/env bash
# Fine-tuning on recorded flights, end to end, as a drone builder would do it with a real pilot:
# a policy trained without one task family; FLIGHTS flights of that family flown by the teleop
# stand-in (sim_node's expert plays the pilot: `cognitivedrone stack teleop`), each recorded to
# a rosbag2 by the recorder node; `data from-bag` makes one dataset of the bags; the base is
# fine-tuned on it (`train --init`), with REPLAY simulated demonstrations of the other families
# beside it against forgetting, and both are benchmarked. Every stage resumes.
#
#   scripts/finetune_from_bags.sh                             # symbol/object, 400 flights
#   FAMILY=symbol/letter FLIGHTS=200 WORK=runs/bags-letter scripts/finetune_from_bags.sh
#
# Flights in real time: PARALLEL stacks at once, each on its own ROS_DOMAIN_ID.
WORK=${WORK:-runs/finetune-bags}
DATA=${DATA:-runs/finetune-base/data}
REPORT=${REPORT:-bench/results/finetune-bags}
FLIGHTS=${FLIGHTS:-400}
PARALLEL=${PARALLEL:-3}
source "$(dirname "$0")/finetune_common.sh"

base_stage

echo "== $FLIGHTS recorded flights of $FAMILY (suite seed 4242, not the benchmark's 77)"
ensure_suite "$WORK/flights-suite.json" finetune-flights "$FAMILY" "$FLIGHTS" 4242  # more flights later keep the bags flown
fly() {  # index: one flight into $WORK/bags/flight-NNN; kept only if the pilot reached the gate
  local bag; bag=$(printf "%s/bags/flight-%03d" "$WORK" "$1")
  [ -f "$bag.done" ] || [ -f "$bag.failed" ] && return 0
  rm -rf "$bag"
  local slot fd  # a ROS domain of its own: the flights beside it must not be recorded in its bag
  for slot in $(seq 0 $(( PARALLEL - 1 ))); do
    exec {fd}>"$WORK/bags/.slot-$slot"
    flock -n "$fd" && break
    exec {fd}>&-
  done
  if ROS_DOMAIN_ID=$(( 40 + slot )) ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST \
      "$BIN/cognitivedrone" stack teleop --set "sim_node.suite=$WORK/flights-suite.json" \
      --set "sim_node.index=$1" --set "recorder.out=$bag" --timeout 150 --logs "$bag.logs" >/dev/null 2>&1; then
    touch "$bag.done"
  else
    rm -rf "$bag"; touch "$bag.failed"
  fi
}
export -f fly; export WORK BIN PARALLEL FLIGHTS
mkdir -p "$WORK/bags"
timed "fly $FLIGHTS flights" bash -c 'seq 0 $(( FLIGHTS - 1 )) | xargs -P "$PARALLEL" -I{} bash -c "fly {}"'
bags=$(for i in $(seq 0 $(( FLIGHTS - 1 ))); do b=$(printf "%s/bags/flight-%03d" "$WORK" "$i"); [ -f "$b.done" ] && echo "$b"; done)
flown=$(echo "$bags" | grep -c . || true)
echo "flights kept: $flown of $FLIGHTS ($(ls "$WORK"/bags/*.failed 2>/dev/null | wc -l) failed, their bags deleted)"

echo "== the bags -> one dataset"
if [ ! -f "$WORK/flights-data/meta/info.json" ] || [ "$(cat "$WORK/flights-data.bags" 2>/dev/null)" != "$flown" ]; then
  rm -rf "$WORK/flights-data"
  # shellcheck disable=SC2086  # one path per bag, none with spaces (made above)
  timed "from-bag ($flown bags)" "$BIN/cognitivedrone" data from-bag $bags \
    --out "$WORK/flights-data" --command-topic /teleop/cmd_vel
  echo "$flown" > "$WORK/flights-data.bags"
fi

# Replay against forgetting: the flights carry one family only and no scene (their pointer learns
# in hindsight, from where each flight ended; no perception or counterfactual targets); tuned on
# them alone, the base lost 8 points on the other families, every loss a wrong gate
# (bench/results/finetune-bags). A few simulated demonstrations of the other families, made here
# by datagen with a seed of their own, train beside them (train --data flights,replay).
REPLAY=${REPLAY:-50}
tune_data="$WORK/flights-data"
if [ "$REPLAY" -gt 0 ]; then
  echo "== replay: $REPLAY simulated demonstrations of the other families"
  others=$("$BIN/python" -c "from cognitivedrone.tasks.families import FAMILIES; \
print(','.join(f.name for f in FAMILIES if f.name != '$FAMILY'))")
  timed "datagen replay ($REPLAY episodes)" "$BIN/cognitivedrone" datagen --episodes "$REPLAY" --seed 5151 \
    --families "$others" --out "$WORK/replay-data" --workers 2 --shard-episodes 25 --quiet
  tune_data="$tune_data,$WORK/replay-data"
fi

tune_stage "$tune_data"
report "$flown recorded flights (rosbag2, teleop stand-in)$([ "$REPLAY" -gt 0 ] && echo " + $REPLAY replayed simulated demonstrations of the other families")"
