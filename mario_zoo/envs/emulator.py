"""The Super Mario Bros emulator with faster RAM reads.

gym-super-mario-bros computes rewards, termination and ``info`` from RAM on every frame, reading bytes
through NumPy scalar indexing and multi-byte counters through string joins. Both are a large share of the
per-frame Python cost once observations are skipped. :class:`MarioEmulator` reads the same bytes through a
``memoryview`` (plain ``int`` results) and folds digit counters arithmetically, returning exactly the
values the originals return, so every reward and ``info`` field is unchanged (the equivalence test in
``tests/envs/test_reference_equivalence.py`` checks this against the unmodified env).
"""

from __future__ import annotations

from gym_super_mario_bros import SuperMarioBrosEnv


class MarioEmulator(SuperMarioBrosEnv):
    """``SuperMarioBrosEnv`` with exact, faster ``_read_mem`` and ``_read_mem_range``.

    Example:
        >>> env = MarioEmulator(target=(1, 1))
        >>> _, info = env.reset(seed=0)
        >>> info["world"], info["stage"], info["time"]
        (1, 1, 400)
    """

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
