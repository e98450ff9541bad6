import subprocess
import sys

import imageio.v3 as iio
import pytest

import mario_zoo
from mario_zoo.cli import main
from mario_zoo.demo import record_random_agent


def test_envs_lists_every_id(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    for env_id in mario_zoo.ENV_IDS:
        assert env_id in out
    assert "frame_skip=4" in out


def test_unknown_verb_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bogus"])
    assert exc.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


def test_console_script_help_and_version():
    result = subprocess.run([sys.executable, "-m", "mario_zoo.cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("mario-zoo ")


def test_demo_writes_a_colour_gif(tmp_path):
    path, stats = record_random_agent(tmp_path, steps=20, seed=0)
    frames = iio.imread(path, index=None)
    assert path.name == "random_agent.gif"
    assert frames.shape[0] == 11 and frames.shape[1:3] == (240, 256)  # every other of 21 frames
    assert stats["best_x_pos"] >= 40
