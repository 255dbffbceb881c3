#!/usr/bin/env bash
# LeRobot interop, both ways, checked with lerobot itself in a venv of its own:
#   1. lerobot's LeRobotDataset loads our datasets: one from datagen and one converted from
#      recorded flights (two teleop-stand-in flights -> rosbag2 -> `data from-bag`); the frames
#      it returns equal the files' (scripts/lerobot_interop.py load).
#   2. a dataset lerobot writes (its camera as AV1 video) imports with `data from-lerobot`.
#
#   scripts/check_lerobot.sh                 # makes everything under runs/lerobot-check
#   scripts/check_lerobot.sh DATASET...      # step 1 on these datasets instead
#
# lerobot 0.4.4 pins torch < 2.11, whose only builds on PyPI for x86_64 are CUDA ones (several
# GB); the venv takes lerobot without its pins (--no-deps) beside TORCH/TORCHVISION (default
# 2.14.1 / 0.29.1, which pip takes from this machine's disk) and the rest of its dataset-side
# requirements at lerobot's own pins. README (Credits and interop) states the versions checked.
set -euo pipefail
cd "$(dirname "$0")/.."
make install >/dev/null
BIN=.venv/bin
WORK=${WORK:-runs/lerobot-check}
VENV=${VENV:-$WORK/venv}
LEROBOT=${LEROBOT:-0.4.4}
TORCH=${TORCH:-2.14.1}
TORCHVISION=${TORCHVISION:-0.29.1}
mkdir -p "$WORK"

if [ ! -f "$VENV/.ready" ]; then
  echo "== a venv for lerobot $LEROBOT (torch $TORCH, torchvision $TORCHVISION) in $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "torch==$TORCH" "torchvision==$TORCHVISION"
  "$VENV/bin/pip" install -q --no-deps "lerobot==$LEROBOT"
  "$VENV/bin/pip" install -q "datasets>=4,<5" "huggingface-hub>=0.34.2,<0.36" "av>=15,<16" "jsonlines>=4,<5" \
    "draccus==0.10.0" "einops>=0.8,<0.9" "packaging>=24.2,<26" "deepdiff>=7,<9" "termcolor>=2.4,<4" \
    "imageio[ffmpeg]>=2.34,<3" "gymnasium>=1.1.1,<2" "setuptools>=71,<81" "accelerate>=1.10,<2" pandas pyarrow
  touch "$VENV/.ready"
fi

if [ $# -gt 0 ]; then
  datasets=("$@")
else
  echo "== our datasets: datagen (6 episodes) and two recorded flights converted from their bags"
  [ -f "$WORK/datagen/meta/info.json" ] || "$BIN/cognitivedrone" datagen --episodes 6 --seed 31337 \
    --out "$WORK/datagen" --workers 2 --shard-episodes 3 --quiet
  if [ ! -f "$WORK/flights/meta/info.json" ]; then
    rm -rf "$WORK/bags" && mkdir -p "$WORK/bags"
    for i in 0 1; do
      ROS_DOMAIN_ID=$(( 50 + i )) ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST "$BIN/cognitivedrone" stack teleop \
        --set sim_node.index=$(( 17 + i )) --set "recorder.out=$WORK/bags/flight-$i" --timeout 150 \
        --logs "$WORK/bags/logs-$i" >/dev/null
    done
    "$BIN/cognitivedrone" data from-bag "$WORK"/bags/flight-? --out "$WORK/flights" --command-topic /teleop/cmd_vel
  fi
  datasets=("$WORK/datagen" "$WORK/flights")
fi

echo "== 1. lerobot's LeRobotDataset loads them"
"$VENV/bin/python" scripts/lerobot_interop.py load "${datasets[@]}"

if [ $# -eq 0 ]; then
  echo "== 2. a dataset lerobot writes (video camera) imports with data from-lerobot"
  rm -rf "$WORK/written-by-lerobot" "$WORK/imported"
  "$VENV/bin/python" scripts/lerobot_interop.py write "$WORK/written-by-lerobot"
  "$BIN/cognitivedrone" data from-lerobot "$WORK/written-by-lerobot" --out "$WORK/imported" \
    --image-key observation.images.front --action-index 0,1,2,5
  "$BIN/python" - "$WORK/imported" <<'PY'
import sys
import numpy as np
from cognitivedrone.data.lerobot_format import DemoDataset, decode_image
t = DemoDataset(sys.argv[1]).frames(["observation.image", "action"])
grey = np.array([decode_image(c, "check").mean() for c in t.column("observation.image").to_pylist()])
want = np.tile(20 + 9 * np.arange(20), 2)  # frame k of each episode was a grey of 20 + 9 k
action = np.array(t.column("action").to_pylist())
ok = len(grey) == 40 and np.abs(grey - want).max() <= 3 and np.allclose(action[5], [0.5, -0.2, 0.0, 0.3], atol=1e-6)
print(f"{sys.argv[1]}: {len(grey)} frames imported; each the frame lerobot wrote for it (grey within "
      f"{np.abs(grey - want).max():.1f} of 20 + 9 k): {'yes' if ok else 'NO'}")
sys.exit(0 if ok else 1)
PY
fi
echo "lerobot interop: all checks passed"
