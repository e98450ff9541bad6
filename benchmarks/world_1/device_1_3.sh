#!/usr/bin/env bash
# 1-3 on a lent 16-core GPU machine (issue 20): w13m's recipe (benchmarks/RESULTS.md, "World 1: 1-3") from what is
# kept in benchmarks/world_1/1-3 (its network and frontier archive), with ACTORS actor processes and the learner on
# CUDA, stopped by wall clock; then every snapshot is judged there by the exact 31-start sweep
# (benchmarks/mario_1_1/device_scratch.sh, which says how the .whl/ folder it needs is made).
#
#   TRAIN_SECONDS=360 EVAL_SECONDS=150 bash benchmarks/world_1/device_1_3.sh
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KEPT=${KEPT:-benchmarks/world_1/1-3}
export TRAIN_ARGS="--preset mario-world-1 --env MarioDQN-1-3-v0 --init-from $KEPT/agent
  --frontier-from $KEPT/frontier.json --env-kwargs frontier_mode=backward frontier_bucket=16 frontier_fraction=0.75
  frontier_follow=48 frontier_successes=3 repeat_action_probability=0.1 --hp exploration_initial_eps=0.05
  learning_starts=5000 exploration_repeat=2 frontier_exploration_eps=1.0 frontier_exploration_steps=8 learning_rate=5e-5
  --seed ${SEED:-13}"
export SNAPSHOT_FREQ=${SNAPSHOT_FREQ:-10000} PRECISION=${PRECISION:-fp32} KEEP=${KEEP:-4}
export RUN=${RUN:-/tmp/w13-device}
exec bash benchmarks/mario_1_1/device_scratch.sh
