"""The Super Mario Bros emulator with faster RAM reads.

gym-super-mario-bros computes rewards, termination and ``info`` from RAM on every frame, reading bytes
through NumPy scalar indexing and multi-byte counters through string joins. Both are a large share of the
per-frame Python cost once observations are skipped. :class:`MarioEmulator` reads the same bytes through a
``memoryview`` (plain ``int`` results) and folds digit counters arithmetically, returning exactly the
values the originals return, so every reward and ``info`` field is unchanged (the equivalence test in
``tests/envs/test_reference_equivalence.py`` checks this against the unmodified env). :class:`NESFrames` is the
emulator's :class:`~mario_zoo.wrappers.frames.FrameSource`: it advances one frame without building what a frame
skip throws away, and copies the screen to grayscale natively.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gym_super_mario_bros import SuperMarioBrosEnv
from gymnasium.envs.registration import EnvSpec
from nes_py import NESEnv


class MarioEmulator(SuperMarioBrosEnv):
    """``SuperMarioBrosEnv`` with exact, faster ``_read_mem`` and ``_read_mem_range``.

    Example:
        >>> env = MarioEmulator(target=(1, 1))
        >>> _, info = env.reset(seed=0)
        >>> info["world"], info["stage"], info["time"]
        (1, 1, 400)
    """

    _spec: EnvSpec | None = None

    def __init__(self, *args, **kwargs) -> None:
        # SuperMarioBrosEnv.__init__ already reads RAM (skipping the start screen), so the view must exist
        # before it runs; NESEnv.__init__ creates self.ram, hence the lazy property below.
        self._ram_view: memoryview | None = None
        super().__init__(*args, **kwargs)

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
            from mario_zoo.envs.mario import check_level_of_id

            try:
                check_level_of_id(spec.id, (self._target_world, self._target_stage))
            except ValueError:
                self.close()
                raise
        self._spec = spec

    def close(self) -> None:
        """Close the emulator; closing twice is a no-op, as Gymnasium asks of every env."""
        if self._env is not None:
            super().close()

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
            raise ValueError("cannot step in a done environment! call `reset`")
        nes._frame_advance(action)
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
