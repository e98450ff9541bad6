"""Optional dependencies: without its extra, a feature says in one line which extra to install (exit 2 from the
CLI), and training still runs, skipping the outputs that need one."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from mario_zoo.agents import DQN
from mario_zoo.extras import EXTRAS, MissingExtraError, require
from mario_zoo.plotting import save_learning_curve
from mario_zoo.runs import Episodes, RunFolder
from mario_zoo.training import build_model, plan_run, train
from mario_zoo.video import check_video_path
from tests.cli.test_plot import _fake_run


def _missing(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``import module`` fail as it does where the extra is not installed."""
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def test_require_names_the_extra_to_install(monkeypatch):
    _missing(monkeypatch, "optuna")
    message = "mario-zoo sweep needs the sweep extra: pip install 'mario-zoo[sweep]'"
    with pytest.raises(MissingExtraError, match=re.escape(message)) as caught:
        require("optuna", "sweep", "mario-zoo sweep")
    assert isinstance(caught.value, ImportError) and caught.value.name == "optuna"
    with pytest.raises(ValueError, match="Unknown extra 'sweeps'; the extras are sweep, postgres"):
        require("optuna", "sweeps", "mario-zoo sweep")


def test_every_extra_is_declared_and_dev_installs_them_all():
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(EXTRAS) <= set(extras)
    assert extras["all"] == [f"mario-zoo[{','.join(EXTRAS)}]"] and "mario-zoo[all]" in extras["dev"]
    core = " ".join(project["dependencies"])
    for name in ("optuna", "psycopg", "matplotlib", "tensorboard", "rich", "imageio-ffmpeg", "pandas"):
        assert name not in core


def test_plotting_without_matplotlib(monkeypatch, tmp_path):
    _missing(monkeypatch, "matplotlib", "matplotlib.figure")
    episodes = Episodes(np.array([1.0, 2.0]), np.array([1, 2]))
    with pytest.raises(MissingExtraError, match=re.escape("needs the plot extra: pip install 'mario-zoo[plot]'")):
        save_learning_curve(episodes, tmp_path / "curve.png", title="CartPole-v1")


def test_the_plot_verb_without_matplotlib_exits_2_in_one_line(monkeypatch, cli, tmp_path):
    run = _fake_run(tmp_path / "runs", "fast_s0", seed=0)
    _missing(monkeypatch, "matplotlib", "matplotlib.figure")
    result = cli("plot", run, "--out", tmp_path / "curves.png")
    assert result.code == 2
    assert result.err == (
        "mario-zoo plot: error: plotting learning curves needs the plot extra: pip install 'mario-zoo[plot]'\n"
    )


def test_mp4_needs_the_video_extra_and_gif_does_not(monkeypatch):
    _missing(monkeypatch, "imageio_ffmpeg")
    assert check_video_path("replay.gif").name == "replay.gif"
    with pytest.raises(MissingExtraError, match=re.escape("needs the video extra: pip install 'mario-zoo[video]'")):
        check_video_path("replay.mp4")


def test_progress_bar_and_tensorboard_log_name_their_extras(monkeypatch, tmp_path):
    _missing(monkeypatch, "rich", "tensorboard")
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=0, device="cpu")
    with pytest.raises(MissingExtraError, match=re.escape("progress_bar=True needs the progress extra")):
        model.learn(10, progress_bar=True)
    model = DQN("MlpPolicy", "CartPole-v1", tensorboard_log=str(tmp_path), device="cpu")
    with pytest.raises(MissingExtraError, match=re.escape("tensorboard_log needs the tensorboard extra")):
        model.learn(10)


def test_training_without_extras_skips_tensorboard_and_the_curve(monkeypatch, tmp_path):
    _missing(monkeypatch, "tensorboard", "matplotlib", "matplotlib.figure")
    config = plan_run(preset="cartpole-fast", steps=200, seed=0, device="cpu", eval_episodes=2)
    run = RunFolder(tmp_path / "run")
    train(run, config, build_model(config), progress=False)
    assert run.results.exists() and run.progress.exists()
    assert not run.tensorboard.exists() and not run.learning_curve.exists()


def test_the_sweep_verb_without_optuna_exits_2_in_one_line(monkeypatch, cli):
    import sys

    for name in [name for name in sys.modules if name == "mario_zoo.sweep" or name.startswith("mario_zoo.sweep.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "optuna", None)
    result = cli("sweep", "--preset", "cartpole-fast", "--trials", "1", "--steps", "100")
    assert result.code == 2, result.err
    assert result.err.strip().count("\n") == 0
    assert "pip install 'mario-zoo[sweep]'" in result.err
