"""Long Mario trainings (``make test-slow``): the actor process learns as the sequential loop does.

Each case trains the ``mario`` preset for 100k env steps with ``mario-zoo train`` (about 20-40 minutes on 2 cores)
and reads back the run's ``monitor.csv``: the final ``x_pos`` of each training episode. With and without the
actor the mean over the last 100 episodes must be in the same ballpark (within a factor of two of each other) and
beyond where an untrained agent stops.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

STEPS = 100_000
LAST_EPISODES = 100
#: Mario starts at x 40 and the first Goomba meets him before x 350: episodes that end on average beyond it
#: show an agent that learned to jump.
LEARNED_X = 350


def _train(folder: Path, actors: int) -> dict[str, float]:
    command = [sys.executable, "-m", "mario_zoo.cli", "train", "--preset", "mario", "--env", "MarioDQN-1-1-v0",
               "--env-kwargs", "actions=right_only", "--hp", f"actors={actors}", "--steps", str(STEPS),
               "--eval-episodes", "10", "--out", str(folder), "--no-progress"]  # fmt: skip
    subprocess.run(command, check=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=4 * 3600)
    with (folder / "monitor.csv").open(encoding="utf-8") as handle:
        next(handle)  # Monitor's JSON header line
        rows = list(csv.DictReader(handle))
    furthest = np.array([float(row["x_pos"]) for row in rows])
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return {
        "episodes": len(rows),
        "train_x_last100": float(furthest[-LAST_EPISODES:].mean()),
        "eval_x_mean": float(results["x_pos_mean"]),
        "eval_flag_rate": float(results["flag_rate"]),
    }


@pytest.mark.slow
def test_mario_100k_steps_with_and_without_the_actor_reach_the_same_ballpark(tmp_path, record_property):
    # Side by side: the sequential run uses one core, the actor run the other (and what the first leaves).
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {actors: pool.submit(_train, tmp_path / f"actors{actors}", actors) for actors in (1, 0)}
        measured = {actors: run.result() for actors, run in runs.items()}
    for actors, numbers in measured.items():
        record_property(f"actors={actors}", numbers)
        print(f"actors={actors}: {numbers}")
    with_actor, sequential = measured[1]["train_x_last100"], measured[0]["train_x_last100"]
    assert min(with_actor, sequential) > LEARNED_X, measured
    assert min(with_actor, sequential) >= 0.5 * max(with_actor, sequential), measured
