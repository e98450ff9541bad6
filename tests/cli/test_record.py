"""`mario-zoo record`: mp4 and gif replays with the expected number of frames."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import imageio.v2 as imageio
from PIL import Image, ImageSequence

from mario_zoo.video import gif_frame_duration


def _returns(out: str) -> list[float]:
    return [float(value) for value in re.search(r"returns: ([\d., ]+)", out).group(1).split(", ")]


def test_record_mp4_has_one_frame_per_step_plus_the_first(cli, trained_run, tmp_path):
    out = tmp_path / "replay.mp4"
    result = cli("record", trained_run.path, "--episodes", 2, "--out", out)
    assert result.code == 0, result.err
    returns = _returns(result.out)
    expected = int(sum(returns)) + len(returns)  # CartPole: return == episode length
    assert len(returns) == 2 and f"{expected} frames at 50 fps" in result.out
    with imageio.get_reader(out, format="FFMPEG") as reader:
        frames = [frame for frame in reader]
    assert len(frames) == expected and frames[0].shape == (400, 600, 3)


def test_record_gif_with_stride_keeps_every_other_frame(cli, trained_run, tmp_path):
    out = tmp_path / "replay.gif"
    result = cli("record", trained_run.path, "--out", out, "--stride", 2)
    assert result.code == 0, result.err
    (episode_return,) = _returns(result.out)
    expected = (int(episode_return) + 1 + 1) // 2
    assert f"{expected} frames at 25 fps" in result.out
    with Image.open(out) as gif:
        assert gif.size == (600, 400)
        # Pillow merges identical consecutive frames into one longer frame, so count frames by duration.
        total_ms = sum(frame.info["duration"] for frame in ImageSequence.Iterator(gif))
    assert total_ms == expected * gif_frame_duration(25)


def test_record_defaults_to_replay_mp4_in_the_run_folder(cli, trained_run):
    result = cli("record", trained_run.path, "--max-frames", 5)
    assert result.code == 0, result.err
    with imageio.get_reader(trained_run.path / "replay.mp4", format="FFMPEG") as reader:
        assert sum(1 for _ in reader) == 5
    (trained_run.path / "replay.mp4").unlink()


def test_record_shows_episodes_and_the_mean_return_on_a_progress_bar(cli, trained_run, tmp_path):
    result = cli("record", trained_run.path, "--episodes", 2, "--out", tmp_path / "replay.gif")
    assert result.code == 0, result.err
    assert "recording: 100%" in result.err and "2/2" in result.err and "mean return" in result.err
    quiet = cli("record", trained_run.path, "--out", tmp_path / "quiet.gif", "--no-progress")
    assert quiet.code == 0 and "recording" not in quiet.err


def test_record_prints_no_sdl_display_noise_without_a_desktop_session(tmp_path):
    """CartPole renders through pygame, whose SDL video probed Wayland and printed `error: XDG_RUNTIME_DIR is
    invalid or not set` on a machine without a desktop session; a fresh process shows what a user sees."""
    environment = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "SDL_VIDEODRIVER")}
    out = tmp_path / "cartpole.gif"
    result = subprocess.run(
        [sys.executable, "-m", "mario_zoo.cli", "record", "zoo:dqn-CartPole-v1", "--out", str(out),
         "--max-frames", "3", "--no-progress"],
        env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0 and out.is_file()
    assert result.stderr == ""
