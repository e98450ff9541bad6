"""Every Python snippet in the README runs, in order, as a reader would paste them (training budgets shrunk).

Blocks share one namespace, since later ones use what earlier ones built (the Hub snippet pushes the model the DQN
snippet trained). The Hub is the loopback one; nothing reaches the network.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import stable_baselines3.common.evaluation

from mario_zoo.agents import DQN

README = Path(__file__).parents[1] / "README.md"
MAX_TRAINING_STEPS = 1_000
MAX_EVALUATION_EPISODES = 3


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced ``python`` block."""
    return [
        (text[: match.start()].count("\n") + 2, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    ]


def test_the_readme_has_python_snippets():
    assert len(python_blocks(README.read_text())) >= 4


def test_every_readme_snippet_runs(hub, tmp_path, monkeypatch, capsys):
    learn, evaluate_policy = DQN.learn, stable_baselines3.common.evaluation.evaluate_policy

    def short_learn(self, total_timesteps, *args, **kwargs):
        return learn(self, min(int(total_timesteps), MAX_TRAINING_STEPS), *args, **kwargs)

    def short_evaluation(model, env, n_eval_episodes=10, *args, **kwargs):
        return evaluate_policy(model, env, min(n_eval_episodes, MAX_EVALUATION_EPISODES), *args, **kwargs)

    monkeypatch.setattr(DQN, "learn", short_learn)
    monkeypatch.setattr(stable_baselines3.common.evaluation, "evaluate_policy", short_evaluation)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for line, code in python_blocks(README.read_text()):
        try:
            exec(compile(code, f"README.md, block at line {line}", "exec"), namespace)
        except Exception as error:
            pytest.fail(f"README.md's snippet at line {line} fails: {type(error).__name__}: {error}")
    assert "Traceback" not in capsys.readouterr().err
