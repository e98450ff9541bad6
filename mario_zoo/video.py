"""Replays: play an agent in a ``render_mode="rgb_array"`` env, then write the frames as mp4/gif or show them live.

Frames are the env's full-colour renders (Mario: 240x256 NES screens, CartPole: 400x600), one after the reset
and one after every step, so an episode of ``L`` steps gives ``L + 1`` frames. Playback is real time by default:
the env's ``render_fps``, which counts steps (a Mario step is 4 of the NES's 60 frames/s, so 15).
Recording needs no display: SDL, which draws CartPole's frames through pygame, runs off-screen while `record`
plays (see `offscreen_rendering`).

Example:
    >>> import tempfile
    >>> class Left:  # anything with SB3's predict() signature
    ...     exploration_rate = 0.0
    ...     def predict(self, observation, state=None, episode_start=None, deterministic=False):
    ...         return 0, None
    >>> replay = record(Left(), "CartPole-v1", {}, Path(tempfile.mkdtemp()) / "left.gif")
    >>> replay.frames == replay.episode_lengths[0] + 1, replay.fps
    (True, 50.0)
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from mario_zoo.acting import acting_with
from mario_zoo.atomic import atomic_target
from mario_zoo.extras import require
from mario_zoo.results import Evaluation
from mario_zoo.wrappers.episode import NOOPS_OPTION

VIDEO_SUFFIXES = (".mp4", ".gif")
"""Formats ``record`` writes, chosen by the output's extension."""

MAX_FRAMES = 5_000
"""Default cap on a replay's frames: an agent stuck in a corner must not fill the disk (or memory, for GIFs)."""


@dataclass
class Replay:
    """What a recording or live playback showed."""

    path: Path | None
    """The video written (``None`` for live playback)."""
    fps: float
    """Playback speed, frames per second."""
    frames: int = 0
    """Frames written or shown."""
    episode_returns: list[float] = field(default_factory=list)
    """Return of each episode played to its end."""
    episode_lengths: list[int] = field(default_factory=list)
    """Length of each episode played to its end, in env steps."""
    episode_flags: list[bool] = field(default_factory=list)
    """Whether each episode played to its end reached the flag (Mario's ``info["flag_get"]``; else ``False``)."""

    def summary(self) -> str:
        """One line: frames, and the episodes played to their end with their returns."""
        text = f"{self.frames} frames at {self.fps:g} fps; {len(self.episode_returns)} episode(s) played to the end"
        if self.episode_returns:
            text += ", returns: " + ", ".join(f"{value:g}" for value in self.episode_returns)
        if any(self.episode_flags):
            text += f"; {sum(self.episode_flags)} reached the flag"
        return text


def check_video_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if its extension is a format ``record`` writes, else a ``ValueError`` naming them.

    Example:
        >>> check_video_path("replay.avi")
        Traceback (most recent call last):
        ...
        ValueError: Cannot write 'replay.avi': the video format is chosen by the extension, one of .mp4, .gif.
    """
    video = Path(path)
    if video.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(
            f"Cannot write {str(video)!r}: the video format is chosen by the extension, one of "
            f"{', '.join(VIDEO_SUFFIXES)}."
        )
    if video.suffix.lower() == ".mp4":  # said before the episodes are played, not after
        require("imageio_ffmpeg", "video", "writing an .mp4 video (a .gif needs no extra)")
    return video


def playback_fps(env: gym.Env) -> float:
    """Frames per second that play ``env`` in real time: its ``render_fps``, one frame per step (30 if unset).

    Example:
        >>> playback_fps(gym.make("CartPole-v1")), playback_fps(gym.make("MarioDQN-v0", frame_skip=3))
        (50.0, 20.0)
    """
    return float(env.metadata.get("render_fps") or 30)


def record(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any],
    path: str | os.PathLike[str],
    *,
    episodes: int = 1,
    seed: int = 0,
    epsilon: float | None = None,
    fps: float | None = None,
    stride: int = 1,
    max_frames: int = MAX_FRAMES,
    progress: bool = False,
    reset_options: dict[str, Any] | None = None,
) -> Replay:
    """Play ``episodes`` episodes and write them, one after the other, to ``path`` (``.mp4`` or ``.gif``).

    Args:
        model: anything with SB3's ``predict`` and an ``exploration_rate``.
        env_id: Gymnasium ID; it must support ``render_mode="rgb_array"``.
        env_kwargs: ``gym.make`` kwargs (e.g. the agent's training env's).
        path: output file; written atomically.
        episodes: episodes to play (>= 1).
        seed: seed of the first reset.
        epsilon: probability of a random action (``None``: greedy).
        fps: playback speed (default: real time, see :func:`playback_fps`).
        stride: keep every ``stride``-th frame (smaller files; the default fps keeps real-time speed).
        max_frames: stop after writing this many frames.
        progress: show a progress bar on stderr (episodes played, mean return so far).
        reset_options: ``options`` of the first reset, e.g. ``{"noops": 7}``: the no-op sweep's episode from 7
            no-ops (:mod:`mario_zoo.evaluation`).
    """
    video = check_video_path(path)
    _check_positive("episodes", episodes)
    _check_positive("stride", stride)
    _check_positive("max_frames", max_frames)
    check_fps(fps)
    with offscreen_rendering():
        env = gym.make(env_id, render_mode="rgb_array", **env_kwargs)
        replay = Replay(video, fps if fps is not None else playback_fps(env) / stride)
        try:
            played = _play(model, env, replay, episodes=episodes, seed=seed, epsilon=epsilon, options=reset_options)
            with closing(_with_progress(played, replay, episodes) if progress else played) as frames:
                kept = (frame for index, frame in enumerate(frames) if index % stride == 0)
                replay.frames = write_video(video, _take(kept, max_frames), replay.fps)
        finally:
            env.close()
    return replay


@contextmanager
def offscreen_rendering() -> Iterator[None]:
    """Within the block, SDL renders off-screen (``SDL_VIDEODRIVER=dummy``), unless the user chose a driver.

    Gymnasium's classic-control envs draw their ``rgb_array`` frames with pygame, whose ``pygame.init()`` starts
    SDL's video: on a machine without a desktop session SDL probes Wayland, which prints ``error: XDG_RUNTIME_DIR
    is invalid or not set in the environment`` to stderr. An ``rgb_array`` frame needs no display, so SDL's dummy
    driver serves it silently; the variable is removed again when the block ends (the env closes pygame inside
    it), so a window opened later (`show`) gets the real driver.

    Example:
        >>> chosen = os.environ.get("SDL_VIDEODRIVER")  # None unless the user chose a driver
        >>> with offscreen_rendering():
        ...     os.environ["SDL_VIDEODRIVER"] == (chosen or "dummy")
        True
        >>> os.environ.get("SDL_VIDEODRIVER") == chosen
        True
    """
    if "SDL_VIDEODRIVER" in os.environ:
        yield
        return
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    try:
        yield
    finally:
        os.environ.pop("SDL_VIDEODRIVER", None)


def record_sweep_replay(
    model: Any, path: str | os.PathLike[str], sweep: Evaluation, **options: Any
) -> tuple[Replay, str]:
    """Record one episode of a Mario no-op sweep into ``path`` and say which (``options`` go to :func:`record`).

    The episode is the sweep's first start (lowest no-op count) that reached the flag, or the 0-no-op start where
    none did; the sentence says so, with how many of the sweep's starts reached the flag, so a reader never takes a
    chosen episode for a typical one. It plays on the env the sweep played (its ``env_id`` and ``env_kwargs``); the
    sweep is greedy and the emulator deterministic, so the recording is the very episode the sweep played (the
    sentence says if it is not).
    """
    if sweep.noops is None or sweep.flags is None:
        raise ValueError(f"record_sweep_replay needs a noop-sweep evaluation of a Mario env, got {sweep.protocol!r}.")
    reached = [noops for noops, flag in zip(sweep.noops, sweep.flags, strict=True) if flag]
    noops = reached[0] if reached else sweep.noops[0]
    replay = record(model, sweep.env_id, sweep.env_kwargs, path, reset_options={NOOPS_OPTION: noops}, **options)
    flag = bool(replay.episode_flags[:1] == [True])
    outcome = "reaches the flag" if flag else "does not reach the flag"
    starts = len(sweep.noops)
    if reached:
        choice = f"the first of the {len(reached)} of {starts} no-op starts whose episode reaches the flag"
    else:
        choice = f"none of the {starts} no-op starts reaches the flag"
    note = f"One greedy episode from {noops} no-ops at the level start ({choice}); it {outcome}."
    if flag != (noops in reached):
        note += " (The recording differs from the sweep's episode of that start.)"
    return replay, note


def write_video(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: float) -> int:
    """Write RGB ``frames`` (``(height, width, 3)`` uint8) to ``path`` atomically, as mp4 or gif by its extension;
    returns the number of frames written.

    Example:
        >>> import tempfile
        >>> frames = [np.full((32, 48, 3), value, np.uint8) for value in (0, 128, 255)]
        >>> write_video(Path(tempfile.mkdtemp()) / "fade.gif", frames, fps=10)
        3
    """
    video = check_video_path(path)
    check_fps(fps)
    with atomic_target(video) as temporary:
        writer = _write_gif if video.suffix.lower() == ".gif" else _write_mp4
        return writer(temporary, frames, fps)


def has_display() -> bool:
    """Whether a window can open: always on macOS and Windows, on Linux when ``DISPLAY``/``WAYLAND_DISPLAY`` is set."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any],
    *,
    episodes: int = 1,
    seed: int = 0,
    epsilon: float | None = None,
    fps: float | None = None,
    scale: int = 2,
) -> Replay:
    """Play ``episodes`` episodes in a window (pygame), in real time; closing the window stops early."""
    _check_positive("episodes", episodes)
    _check_positive("scale", scale)
    check_fps(fps)
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    env = gym.make(env_id, render_mode="rgb_array", **env_kwargs)
    replay = Replay(None, fps if fps is not None else playback_fps(env))
    pygame.display.init()  # not pygame.init(): no audio, which has no device on many machines
    try:
        screen = None
        clock = pygame.time.Clock()
        with closing(_play(model, env, replay, episodes=episodes, seed=seed, epsilon=epsilon)) as frames:
            for frame in frames:
                if any(event.type == pygame.QUIT for event in pygame.event.get()):
                    break
                surface = pygame.surfarray.make_surface(np.swapaxes(frame, 0, 1))
                if screen is None:
                    screen = pygame.display.set_mode((frame.shape[1] * scale, frame.shape[0] * scale))
                    pygame.display.set_caption(f"mario-zoo: {env_id}")
                screen.blit(pygame.transform.scale(surface, screen.get_size()), (0, 0))
                pygame.display.flip()
                replay.frames += 1
                clock.tick(replay.fps)
    finally:
        pygame.quit()
        env.close()
    return replay


def _play(
    model: Any,
    env: gym.Env,
    replay: Replay,
    *,
    episodes: int,
    seed: int,
    epsilon: float | None,
    options: dict[str, Any] | None = None,
) -> Iterator[np.ndarray]:
    """Yield the rendered frames of ``episodes`` episodes; finished episodes are added to ``replay``. ``options``
    go to the first reset only."""
    with acting_with(model, epsilon) as deterministic:
        observation, _ = env.reset(seed=seed, options=options)
        for _ in range(episodes):
            yield env.render()
            episode_return, length, done = 0.0, 0, False
            while not done:
                action, _ = model.predict(observation, deterministic=deterministic)
                observation, reward, terminated, truncated, info = env.step(int(np.asarray(action).item()))
                episode_return += float(reward)
                length += 1
                done = terminated or truncated
                yield env.render()
            replay.episode_returns.append(episode_return)
            replay.episode_lengths.append(length)
            replay.episode_flags.append(bool(info.get("flag_get", False)))
            observation, _ = env.reset()


def _with_progress(frames: Iterator[np.ndarray], replay: Replay, episodes: int) -> Iterator[np.ndarray]:
    """Pass ``frames`` through, advancing a tqdm bar (on stderr) as episodes finish."""
    from tqdm import tqdm

    with tqdm(total=episodes, unit="episode", file=sys.stderr, dynamic_ncols=True, desc="recording") as bar:

        def advance() -> None:
            if len(replay.episode_returns) > bar.n:
                bar.set_postfix_str(f"mean return {np.mean(replay.episode_returns):.1f}", refresh=False)
                bar.update(len(replay.episode_returns) - bar.n)

        try:
            for frame in frames:
                yield frame
                advance()
            advance()  # the last episode is counted once its final frame has been taken
        finally:
            frames.close()


def _take(frames: Iterable[np.ndarray], count: int) -> Iterator[np.ndarray]:
    for index, frame in enumerate(frames):
        if index >= count:
            return
        yield frame


def _write_mp4(path: Path, frames: Iterable[np.ndarray], fps: float) -> int:
    import imageio.v2 as imageio

    require("imageio_ffmpeg", "video", "writing an .mp4 video (a .gif needs no extra)")

    count = 0
    # libx264 needs even frame sizes; imageio's default block of 16 would rescale CartPole's 600x400.
    with imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264", macro_block_size=2) as writer:
        for frame in frames:
            writer.append_data(frame)
            count += 1
    return count


def _write_gif(path: Path, frames: Iterable[np.ndarray], fps: float) -> int:
    from PIL import Image

    # GIFs cannot be streamed by Pillow: keep each frame as a 1-byte-per-pixel palette image, not RGB.
    images = [Image.fromarray(frame).convert("P", palette=Image.Palette.ADAPTIVE) for frame in frames]
    if not images:
        raise ValueError("No frames to write.")
    images[0].save(path, save_all=True, append_images=images[1:], duration=gif_frame_duration(fps), loop=0)
    return len(images)


def gif_frame_duration(fps: float) -> int:
    """Milliseconds per GIF frame for ``fps``: GIFs count in hundredths of a second, and browsers play anything
    shorter than 20 ms at 100 ms, so the duration is rounded to 10 ms and at least 20 ms.

    Example:
        >>> gif_frame_duration(50), gif_frame_duration(15), gif_frame_duration(60)
        (20, 70, 20)
    """
    return max(20, 10 * round(100 / fps))


def check_fps(fps: Any) -> None:
    """Raise a ``ValueError`` unless ``fps`` is ``None`` (real time) or a finite number > 0.

    Example:
        >>> check_fps(-3)
        Traceback (most recent call last):
        ...
        ValueError: fps must be a number > 0 (frames per second), got -3; leave it out to play in real time.
    """
    if fps is None:
        return
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not math.isfinite(fps) or fps <= 0:
        raise ValueError(
            f"fps must be a number > 0 (frames per second), got {fps!r}; leave it out to play in real time."
        )


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
