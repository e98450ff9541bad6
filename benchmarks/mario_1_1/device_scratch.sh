#!/usr/bin/env bash
# The `mario-1-1` preset from scratch on a lent 16-core GPU machine, within a wall-clock budget (issue 22).
#
# The preset unchanged except how the steps are collected: ACTORS actor processes (each one env, epsilon-greedy
# with the preset's schedule) and the learner on CUDA, with gradient_steps = ACTORS so that the replay ratio stays
# the preset's (one update per 4 env steps: train_freq 4 counts vector steps of ACTORS envs). Training stops at
# TRAIN_SECONDS (SIGTERM: the run saves its state and exits), then the newest snapshots (one every 50k steps) are
# judged in parallel by the exact 31-start sweep, and the results and the best snapshots are written under $OUT.
#
# That machine's python3 is 3.12 with torch; nes-py, gym-super-mario-bros and the other missing packages travel as
# wheels in .whl/ (nes-py built here for 3.12 from its sdist, whose code needs nothing newer), and a sitecustomize
# maps 3.13's SharedMemory(track=...) onto 3.12. The package itself needs 3.13; this script is for that machine only.
# The wheels, made here (the .whl/ folder is git-ignored via .git/info/exclude; carry it to the machine):
#   pip download --no-deps --no-binary :all: --ignore-requires-python nes-py==9.0.1   (or the sdist from PyPI);
#   set requires-python to ">=3.12" in its pyproject.toml and `python3.12 -m pip wheel . --no-deps -w .whl`;
#   python3 -m pip download -d .whl --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 gym-super-mario-bros==9.1.0 gymnasium==1.4.0 farama-notifications \
#     stable-baselines3==2.9.2 pyglet==1.5.21 huggingface-hub==2.4.0 httpx2==2.16.2 httpcore2==2.16.2 truststore
#
#   TRAIN_SECONDS=360 EVAL_SECONDS=110 bash benchmarks/mario_1_1/device_scratch.sh
#
# TRAIN_ARGS replaces what is trained (default: the mario-1-1 preset from scratch); the actors, gradient_steps and
# precision above are added to it (`--hp` adds up). A warm start of another level, e.g. 1-3 from what is kept in
# benchmarks/world_1/1-3 (benchmarks/world_1/device_1_3.sh):
#   TRAIN_ARGS="--preset mario-world-1 --env MarioDQN-1-3-v0 --init-from benchmarks/world_1/1-3/agent ..." \
#     bash benchmarks/mario_1_1/device_scratch.sh
set -uo pipefail
TRAIN_SECONDS=${TRAIN_SECONDS:-360}
EVAL_SECONDS=${EVAL_SECONDS:-110}
ACTORS=${ACTORS:-12}
SEED=${SEED:-0}
DEVICE=${DEVICE:-cuda}
TRAIN_ARGS=${TRAIN_ARGS:-"--preset mario-1-1 --seed $SEED"}
# The preset's precision ("auto": bf16 autocast on a GPU). On the H200 the update was launch-bound (178 kernel
# launches, 66 autocast copies; RESULTS.md): PRECISION=fp32 is the first thing to measure there.
PRECISION=${PRECISION:-auto}
SNAPSHOT_FREQ=${SNAPSHOT_FREQ:-50000}
KEEP=${KEEP:-6}
OUT=${OUT:-/tmp/device_out}
RUN=${RUN:-/tmp/scratch-device}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
start=$(date +%s)
stamp() { echo "[$(($(date +%s) - start)) s] $*"; }

if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --ignore-requires-python --upgrade --target /tmp/site .whl/*.whl || exit 1
    cat > /tmp/site/sitecustomize.py <<'EOF'
import sys

if sys.version_info < (3, 13):
    from multiprocessing import shared_memory

    _init = shared_memory.SharedMemory.__init__

    def _init_with_track(self, name=None, create=False, size=0, *, track=True):
        _init(self, name, create, size)

    shared_memory.SharedMemory.__init__ = _init_with_track

    import os

    if not hasattr(os, "process_cpu_count"):  # 3.13
        os.process_cpu_count = os.cpu_count
EOF
    export PYTHONPATH="/tmp/site:$PWD"
fi
stamp "installed"
nproc --all; nvidia-smi --query-gpu=name,memory.used --format=csv,noheader 2>/dev/null
# Preflight (seconds): the package, the emulator and CUDA, so that a broken setup fails before the budget is spent.
DEVICE="$DEVICE" python3 - <<'EOF' || exit 1
import os, sys, torch, gymnasium as gym
import mario_zoo  # registers the MarioDQN IDs
env = gym.make("MarioDQN-1-1-v0")
obs, _ = env.reset(seed=0)
for _ in range(50):
    obs, *_ = env.step(env.action_space.sample())
print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), "obs", obs.shape)
assert os.environ["DEVICE"] != "cuda" or torch.cuda.is_available()
EOF
stamp "preflight passed"

# shellcheck disable=SC2086  # TRAIN_ARGS is a list of words
timeout -k 60 -s TERM "$TRAIN_SECONDS" python3 -m mario_zoo.cli train $TRAIN_ARGS --device "$DEVICE" \
    --hp actors="$ACTORS" gradient_steps="$ACTORS" precision="$PRECISION" --snapshot-freq "$SNAPSHOT_FREQ" \
    --save-freq 100000 --no-save-replay \
    --eval-episodes 0 --threads 2 --no-progress --out "$RUN" > "$OUT/train.log" 2>&1
stamp "training stopped (rc $?)"
tail -5 "$OUT/train.log"
tail -1 "$RUN/progress.csv" | cut -c1-200

# The exact 31-start sweep of the newest snapshots, one process per snapshot, all at once.
mkdir -p /tmp/evals
ls -d "$RUN"/snapshots/step-* | sort -r | head -15 | xargs -P 15 -I{} sh -c \
    'timeout '"$EVAL_SECONDS"' python3 -m mario_zoo.cli evaluate {} --json --no-progress --no-record --threads 1 \
     --device cpu > /tmp/evals/$(basename {}).json 2> /tmp/evals/$(basename {}).err'
stamp "evaluated"
python3 - "$RUN" "$KEEP" <<'EOF' > /tmp/keep.txt
import json, pathlib, sys
run, keep = pathlib.Path(sys.argv[1]), int(sys.argv[2])
rows = []
for path in sorted(pathlib.Path("/tmp/evals").glob("*.json")):
    try:
        data = json.loads(path.read_text())
    except ValueError:
        print(f"{path.stem}: no result", file=sys.stderr)
        continue
    rows.append((data["flags"] if isinstance(data["flags"], int) else sum(data["flags"]), data["x_pos_mean"], path.stem))
    print(f"{path.stem}: flags {rows[-1][0]}/31, mean x {data['x_pos_mean']:.0f}, max x {data['x_pos_max']}", file=sys.stderr)
snaps = sorted(p.name for p in (run / "snapshots").glob("step-*"))
# The best by the sweep, the newest, then the newest others until KEEP.
chosen = [name for *_, name in sorted(rows, reverse=True)[: keep - 1]]
for name in reversed(snaps):
    if len(chosen) < keep and name not in chosen:
        chosen.append(name)
print("\n".join(chosen))
EOF
cat /tmp/keep.txt
tar czf "$OUT/results.tgz" -C / tmp/evals "${RUN#/}/run.json" "${RUN#/}/progress.csv" "${RUN#/}/monitor.csv" \
    "${RUN#/}/frontier.json" 2>/dev/null
cp "$OUT/train.log" /tmp/train.log && gzip -f /tmp/train.log && mv /tmp/train.log.gz "$OUT/"; rm -f "$OUT/train.log"
while read -r name; do
    [ -n "$name" ] && tar cf "$OUT/$name.tar" -C "$RUN/snapshots" "$name"
done < /tmp/keep.txt
ls -la "$OUT"
stamp "done"
