"""The Super Mario Bros emulator with faster RAM reads.

gym-super-mario-bros computes rewards, termination and ``info`` from RAM on every frame, reading bytes
through NumPy scalar indexing and multi-byte counters through string joins. Both are a large share of the
per-frame Python cost once observations are skipped. :class:`MarioEmulator` reads the same bytes through a
``memoryview`` (plain ``int`` results) and folds digit counters arithmetically, returning exactly the
values the originals return, so every reward and ``info`` field is unchanged (the equivalence test in
``tests/envs/test_reference_equivalence.py`` checks this against the unmodified env). :class:`NESFrames` is the
emulator's :class:`~mario_zoo.wrappers.frames.FrameSource`: it advances one frame without building what a frame
skip throws away, and copies the screen to grayscale natively.

It also saves and restores whole game states (:meth:`MarioEmulator.snapshot`, ``reset(options={"snapshot": ...})``):
nes-py's native ``dump_state``/``load_state`` plus the Python-side reward trackers of ``SuperMarioBrosEnv``, so
an episode started from a snapshot earns exactly the rewards of playing on from the saved moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from gym_super_mario_bros import SuperMarioBrosEnv
from gymnasium.envs.registration import EnvSpec
from gymnasium.error import ClosedEnvironmentError
from nes_py import NESEnv

from mario_zoo.envs.levels import check_level_of_id

#: ``SuperMarioBrosEnv`` attributes that turn RAM changes into rewards: the last clock, score, coins and power-up
#: level, the furthest x so far and whether the flag was rewarded. They live in Python, outside the emulator
#: state, so a snapshot carries them.
REWARD_TRACKERS: tuple[str, ...] = (
    "_time_last",
    "_x_position_max",
    "_score_last",
    "_coins_last",
    "_status_last",
    "_completion_rewarded",
)


#: What ``reset(options=...)`` of a MarioDQN env takes (NoopStart, above the emulator, reads ``noops``).
RESET_OPTIONS: dict[str, str] = {
    "noops": "exactly this many no-op steps after the reset",
    "snapshot": "a MarioSnapshot to start from",
}


@dataclass(frozen=True, eq=False)
class MarioSnapshot:
    """A saved moment of a game: the emulator's native state and the reward trackers. Only valid in the process
    (and for the level) that made it; nes-py's native state cannot be pickled."""

    level: tuple[int, int]
    """(world, stage) of the env that made it."""
    x_pos: int
    """Mario's x position at the saved moment."""
    native: Any
    """nes-py's opaque ``NativeStateSnapshot``."""
    trackers: tuple[Any, ...]
    """Values of :data:`REWARD_TRACKERS`, in that order."""
    inputs: bytes = b""
    """The joypad byte of every frame played since the level start to this moment (no-ops and repeated sticky
    actions included): :meth:`MarioEmulator.replay` of them reaches this moment again, in any process."""


class MarioEmulator(SuperMarioBrosEnv):
    """``SuperMarioBrosEnv`` with exact, faster ``_read_mem`` and ``_read_mem_range``.

    ``reset(options={"snapshot": snapshot})`` starts the episode from a :meth:`snapshot` instead of the level start.
    A warp pipe that leaves the level (World 1-2's warp zone) ends the episode there without the flag
    (``info["left_stage"]``), and only a flag of the level itself counts as ``flag_get``.

    Example:
        >>> env = MarioEmulator(target=(1, 1))
        >>> _, info = env.reset(seed=0)
        >>> info["world"], info["stage"], info["time"]
        (1, 1, 400)
        >>> for _ in range(100):
        ...     _ = env.step(0b10000000)  # hold right
        >>> saved = env.snapshot()
        >>> _, info = env.reset(options={"snapshot": saved})
        >>> info["x_pos"] == saved.x_pos > 40
        True
    """

    _spec: EnvSpec | None = None

    def __init__(self, *args, **kwargs) -> None:
        # SuperMarioBrosEnv.__init__ already reads RAM (skipping the start screen), so the view must exist
        # before it runs; NESEnv.__init__ creates self.ram, hence the lazy property below.
        self._ram_view: memoryview | None = None
        # The joypad byte of each frame played since the level start; the frames the env's own hooks advance
        # (start screen, death and area-change skips) are not inputs: replaying the inputs replays them.
        self._inputs = bytearray()
        self._recording = False
        super().__init__(*args, **kwargs)  # skips the start screen and resets: none of that is an input
        self._inputs = bytearray()
        self._recording = True

    @contextmanager
    def _not_recording(self) -> Iterator[None]:
        """The frames advanced within are the game's own (reset, hooks), not inputs; nests."""
        recording, self._recording = self._recording, False
        try:
            yield
        finally:
            self._recording = recording

    def _frame_advance(self, action: int) -> None:
        if self._recording:
            self._inputs.append(action)
        super()._frame_advance(action)

    def check_open(self) -> None:
        """Raise ``ClosedEnvironmentError`` if :meth:`close` was called (nes-py would fail on its freed emulator)."""
        if self._env is None:
            spec = self.spec
            name = spec.id if spec is not None else f"World {self._target_world}-{self._target_stage}"
            raise ClosedEnvironmentError(f"This {name} env is closed: reset and step need a new one (gym.make again).")

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.done:
            self.check_open()  # a closed env says so before nes-py says done
        # NESEnv.step advances the emulator itself, not through _frame_advance.
        if self._recording:
            self._inputs.append(action)
        with self._not_recording():
            try:
                return super().step(action)
            except AttributeError:  # checked here, not before every frame: nes-py's freed emulator is None
                self.check_open()
                raise

    def _did_step(self, done: bool) -> None:
        with self._not_recording():
            super()._did_step(done)

    @property
    def level(self) -> tuple[int, int]:
        """(world, stage) this env plays."""
        return (self._target_world, self._target_stage)

    @property
    def inputs(self) -> bytes:
        """The joypad byte of every frame played since the level start (see :attr:`MarioSnapshot.inputs`)."""
        return bytes(self._inputs)

    def replay(self, inputs: bytes) -> MarioSnapshot:
        """Play ``inputs`` (a :attr:`MarioSnapshot.inputs`) from the level start and return the snapshot of where they
        lead: the same moment of the game as the snapshot they were recorded for, rebuilt in this process.

        The game is deterministic, so the same inputs reach the same state. When the game already stands at a
        prefix of ``inputs`` (the previous replay's, replaying snapshots in sorted order), it plays on from there.

        Raises:
            ValueError: the episode ends before the inputs do (they are not this level's, or not a moment of play).
        """
        if self.done or not inputs.startswith(self._inputs) or not self._inputs:
            self.reset()
        self._play(inputs)
        return self.snapshot()

    def replay_moments(self, inputs: bytes, bucket: int) -> list[MarioSnapshot]:
        """Replay ``inputs`` from the level start, as :meth:`replay` does, and return the moments along the way that
        frontier starts keep of an episode: the first frame in each new ``bucket``-pixel stretch of x, in order.

        Example:
            >>> emulator = MarioEmulator(target=(1, 1))
            >>> moments = emulator.replay_moments(b"\\x80" * 120, bucket=16)  # walk right for 120 frames
            >>> [moment.x_pos // 16 for moment in moments] == sorted({moment.x_pos // 16 for moment in moments})
            True
            >>> moments[-1].x_pos > 100, emulator.replay(moments[-1].inputs).x_pos == moments[-1].x_pos
            (True, True)

        Raises:
            ValueError: as :meth:`replay`.
        """
        if isinstance(bucket, bool) or not isinstance(bucket, int) or bucket < 1:
            raise ValueError(f"bucket must be a width in x pixels (an int >= 1), got {bucket!r}.")
        self.reset()
        moments: list[MarioSnapshot] = []
        entered: set[int] = set()

        def keep_new_stretch() -> None:
            stretch = self._x_position // bucket
            if stretch not in entered:
                entered.add(stretch)
                moments.append(self.snapshot())

        self._play(inputs, after_frame=keep_new_stretch)
        return moments

    def _play(self, inputs: bytes, after_frame: Callable[[], None] | None = None) -> None:
        """Play the frames of ``inputs`` after those already played (:attr:`inputs`, a prefix of them)."""
        frames = NESFrames(self)
        for index in range(len(self._inputs), len(inputs)):
            _, terminated, truncated, _ = frames.advance(inputs[index], with_info=False)
            if terminated or truncated:
                raise ValueError(
                    f"The episode ended at frame {index + 1} of {len(inputs)} replayed inputs: they do not lead to a "
                    f"moment of play in World {self._target_world}-{self._target_stage}."
                )
            if after_frame is not None:
                after_frame()

    @property
    def _ram(self) -> memoryview:
        if self._ram_view is None:
            self._ram_view = memoryview(self.ram)
        return self._ram_view

    @property
    def spec(self) -> EnvSpec | None:
        """The Gymnasium spec ``gym.make`` built this env from (``None`` when built directly)."""
        return self._spec

    @spec.setter
    def spec(self, spec: EnvSpec | None) -> None:
        # gym.make sets the spec right after building the env: the first moment both the ID and the level are
        # known. An ID that names a level must not quietly play another one (gym.make("MarioDQN-1-1-v0", world=8)).
        if spec is not None:
            try:
                check_level_of_id(spec.id, (self._target_world, self._target_stage))
            except ValueError:
                self.close()
                raise
        self._spec = spec

    def snapshot(self) -> MarioSnapshot:
        """Save the current moment of the game; :meth:`reset` with ``options={"snapshot": ...}`` restores it.

        Tens of microseconds and about 250 KiB each (nes-py's state includes the frame buffer).
        """
        return MarioSnapshot(
            level=(self._target_world, self._target_stage),
            x_pos=self._x_position,
            native=self.dump_state(),
            trackers=tuple(getattr(self, name) for name in REWARD_TRACKERS),
            inputs=bytes(self._inputs),
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset to the level start, or to ``options["snapshot"]`` (a :class:`MarioSnapshot` of this level).

        A restored episode shows the saved moment's screen, and its ``info`` and later rewards are those of the
        saved game; like any reset, its per-step reward diagnostics (``reward_components``) start at zero.
        """
        self.check_open()
        unknown = sorted(set(options or {}) - set(RESET_OPTIONS), key=str)
        if unknown:
            valid = ", ".join(f"{name!r} ({meaning})" for name, meaning in RESET_OPTIONS.items())
            raise ValueError(f"Unknown reset option(s) {unknown}; valid options are {valid}.")
        snapshot = (options or {}).get("snapshot")
        if snapshot is not None:
            self._check_snapshot(snapshot)
        with self._not_recording():
            observation, info = super().reset(seed=seed, options=options)
        self._inputs = bytearray()
        if snapshot is None:
            return observation, info
        self._inputs = bytearray(snapshot.inputs)
        self.load_state(snapshot.native)
        for name, value in zip(REWARD_TRACKERS, snapshot.trackers, strict=True):
            setattr(self, name, value)
        self._reset_reward_components()
        return self.screen, self._get_info()

    def _check_snapshot(self, snapshot: Any) -> None:
        if not isinstance(snapshot, MarioSnapshot):
            raise TypeError(
                f"options['snapshot'] must be a MarioSnapshot from MarioEmulator.snapshot(), got "
                f"{type(snapshot).__name__}."
            )
        level = (self._target_world, self._target_stage)
        if snapshot.level != level:
            raise ValueError(
                f"This snapshot was saved in World {snapshot.level[0]}-{snapshot.level[1]}; this env plays World "
                f"{level[0]}-{level[1]}. Restore it in an env of its own level."
            )

    def close(self) -> None:
        """Close the emulator; closing twice is a no-op, as Gymnasium asks of every env."""
        if self._env is not None:
            super().close()

    @property
    def _left_stage(self) -> bool:
        """Whether a warp pipe (World 1-2's warp zone, 4-2's) took Mario out of the level this env plays."""
        return self.is_single_stage_env and (self._world, self._stage) != (self._target_world, self._target_stage)

    @property
    def _flag_get(self) -> bool:
        # Clearing counts in the env's own stage only: a flag reached after a warp is another level's.
        return super()._flag_get and not self._left_stage

    def _get_info(self) -> dict[str, Any]:
        # left_stage: the episode ended in a warp pipe (evaluations count them; the flag is not this level's).
        return {**super()._get_info(), "left_stage": self._left_stage}

    def _get_terminated(self) -> bool:
        # A warp ends the episode where it leaves the stage, without the flag (gym-super-mario-bros would play on
        # in the world it warped to).
        return super()._get_terminated() or self._left_stage

    def _read_mem(self, address: int) -> int:
        return self._ram[address]

    def _read_mem_range(self, address: int, length: int) -> int:
        # The original is int("".join(map(str, bytes))): each byte appends its decimal digits.
        value = 0
        for byte in self._ram[address : address + length]:
            value = value * (10 if byte < 10 else 100 if byte < 100 else 1000) + byte
        return value


class NESFrames:
    """:class:`~mario_zoo.wrappers.frames.FrameSource` over a raw nes-py emulator.

    ``advance`` is ``NESEnv.step`` (same hooks, same order, same reward clamp) minus the observation, and minus
    the ``info`` dict unless asked for, so a frame-skipping caller gets exactly the rewards, flags and final
    ``info`` that stepping every frame would give.

    Example:
        >>> emulator = MarioEmulator(target=(1, 1))
        >>> _ = emulator.reset(seed=0)
        >>> NESFrames(emulator).observe().shape
        (240, 256)
    """

    def __init__(self, nes: NESEnv) -> None:
        self._nes = nes
        self._reward_low, self._reward_high = nes.reward_range

    def advance(self, action: Any, with_info: bool) -> tuple[float, bool, bool, dict[str, Any] | None]:
        nes = self._nes
        if nes.done:
            _check_open(nes)  # a closed env says so before it says done
            raise ValueError("cannot step in a done environment! call `reset`")
        try:
            nes._frame_advance(action)
        except AttributeError:  # checked here, not before every frame: nes-py's freed emulator is None
            _check_open(nes)
            raise
        reward = float(nes._get_reward())
        terminated = bool(nes._get_terminated())
        truncated = bool(nes._get_truncated())
        done = terminated or truncated
        nes.done = done
        # NESEnv.step reads info before _did_step's RAM hacks (death skip, area change), so do we.
        info = nes._get_info() if with_info or done else None
        nes._did_step(done)
        reward = min(max(reward, self._reward_low), self._reward_high)
        return reward, terminated, truncated, info

    def observe(self, out: np.ndarray | None = None) -> np.ndarray:
        return self._nes.observation("grayscale", out)


def _check_open(nes: NESEnv) -> None:
    """Raise ``ClosedEnvironmentError`` if ``nes`` was closed (a :class:`MarioEmulator` names itself)."""
    if isinstance(nes, MarioEmulator):
        nes.check_open()
    elif nes._env is None:
        raise ClosedEnvironmentError("This env is closed: reset and step need a new one.")
