#!/usr/bin/env bash
# Reproduce cognitivedrone/checkpoints/perception (the offline reasoner's eyes) alone: stage 3 of
# scripts/train_default.sh, which says how (scenes in classic:1,randomized:3, the grid, the
# billboard reader, the gate reader; each resumes). About 1.7 h on 2 cores (scenes 8 min, grid
# 36 min, reader ~42 min in three phases, gate reader 16 min).
#   scripts/train_perception.sh
#   FRAMES=2000 PSTEPS=200 RSTEPS=100 GSTEPS=100 WORK=runs/p-tiny PDEST=runs/p-tiny/reasoner-perception scripts/train_perception.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PERCEPTION_ONLY=1 exec scripts/train_default.sh
