"""callbacks.ProgressBar: the numbers it shows, and the terminal line it keeps to when runs share a terminal."""

from __future__ import annotations

from mario_zoo.agents import DQN
from mario_zoo.callbacks import ProgressBar


def _learn_with(bar: ProgressBar, steps: int) -> DQN:
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, train_freq=16, gradient_steps=1, seed=0)
    model.learn(steps, callback=bar)
    return model


def test_the_bar_ends_at_the_models_step_count_with_its_episodes(capsys):
    bar = ProgressBar(300, description="CartPole-v1", refresh_seconds=0.0)
    model = _learn_with(bar, 300)
    assert bar._bar.n == model.num_timesteps and bar._bar.pos == 0 and bar.position is None
    assert bar.episodes == model._episode_num > 0
    err = capsys.readouterr().err
    assert "CartPole-v1" in err and f"episodes={bar.episodes}" in err and "epsilon=" in err


def test_position_puts_the_bar_on_its_own_line(capsys):
    bar = ProgressBar(100, description="SB3 seed 1", position=2, refresh_seconds=0.0)
    _learn_with(bar, 100)
    assert abs(bar._bar.pos) == 2  # tqdm stores a fixed position as a negative number
    # tqdm moves the cursor down two lines to draw, then two lines back up (ANSI "cursor up").
    assert capsys.readouterr().err.startswith("\n\n\rSB3 seed 1:   0%|")
