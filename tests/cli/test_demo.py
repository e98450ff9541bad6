"""`make demo` (python -m mario_zoo.demo) on a tiny budget: every file it announces exists."""

from __future__ import annotations

import re
from pathlib import Path

import imageio.v3 as iio

from mario_zoo.demo import main
from mario_zoo.zoo import read_registry


def test_demo_trains_evaluates_plots_and_records(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--steps", "300", "--mario-steps", "10"]) == 0
    out = capsys.readouterr().out
    assert "[2/3] Evaluation: CartPole-v1: mean return" in out
    mario_agent = read_registry().best_for("MarioDQN-v0")
    if mario_agent is None:
        assert "a random agent plays" in out
    else:
        assert f"[3/3] Replay on {mario_agent.env_id}: zoo agent {mario_agent.name} (evaluation: " in out
        assert "one greedy episode from " in out  # which start it shows, and whether it reaches the flag
    files = dict(re.findall(r"^  ([A-Za-z][a-zA-Z ()]+?)\s{2,}(\S+)", out, flags=re.MULTILINE))
    assert set(files) == {"learning curve", "evaluation", "CartPole agent", "training logs", "Mario replay (GIF)"}
    for path in files.values():
        assert Path(path.rstrip("/")).exists(), path
    assert iio.imread(files["Mario replay (GIF)"], index=None).shape[1:3] == (240, 256)
