"""Frontier starts: begin some training episodes from a saved game state near the furthest point reached so far.

A DQN on World 1-1 dies at the same pit thousands of times, but each try costs the whole walk from the level
start. Restarting from saved states near the frontier (Salimans & Chen 2018; Go-Explore) spends the steps where
the agent still has something to learn. :class:`FrontierStarts` snapshots the emulator as the agent's own
episodes reach new x buckets, and starts a ``fraction`` of episodes from the snapshot furthest right at least
``back`` pixels behind the frontier (``mode="furthest"``), or from one drawn uniformly among those kept up to there
(``mode="uniform"``). Once some episode has reached the flag, "furthest" starts every frontier episode at the
level's end, and the sections between the level start and there are learnt only from episodes that get past
every earlier obstacle; "uniform" keeps starting episodes across the whole level (Go-Explore's robustification
and the backward algorithm of Salimans & Chen start from states all along a solved path). It is for training
only: :func:`mario_zoo.evaluation.evaluation_env_kwargs` switches it off, so every evaluation starts at the level
start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from mario_zoo.envs.emulator import MarioEmulator, MarioSnapshot
from mario_zoo.wrappers._validation import check_choice, check_fraction, check_int

FRACTION_MEANING = "the share of episodes started near the frontier"

FRONTIER_MODES = ("furthest", "uniform")
"""How a frontier start picks its snapshot: the furthest one behind the frontier, or one drawn uniformly."""

# Mixed with the reset seed, so the start draws do not reuse the env's own random stream (NoopStart's counts).
_STREAM = 0x46524F4E


@dataclass(frozen=True, eq=False)
class _Cell:
    """The snapshot kept for one x bucket: from the episode that got furthest after passing through it."""

    snapshot: MarioSnapshot
    reach: int
    """The furthest ``x_pos`` that episode reached."""


class FrontierStarts(gym.Wrapper):
    """Start a ``fraction`` of episodes from a saved state near the furthest ``x_pos`` reached so far, or
    (``mode="uniform"``) anywhere along the way there.

    While the agent plays, the first step of an episode into each ``bucket``-pixel stretch of x (``x_pos //
    bucket``) saves the game (:meth:`MarioEmulator.snapshot`, about 30 us). When the episode ends, each bucket
    keeps the snapshot whose episode got furthest (so a state seconds from death is replaced by a better one),
    and the frontier is the furthest ``x_pos`` of any episode. On reset, with probability ``fraction``, the
    episode starts from the kept snapshot furthest right with ``x_pos <= frontier - back`` (``mode="uniform"``:
    from one of the kept snapshots with ``x_pos <= frontier - back``, each as likely); otherwise (or before any
    snapshot qualifies) from the level start.

    A restored start is a reset of everything above the emulator: the observation is the frame stack refilled
    with the saved moment's screen (grayscaled and resized; every slot the same frame, as after a level start),
    the stall counter starts over, no-op starts are skipped (the state is already mid-level), and the rewards,
    flags and ``info`` of the following steps equal those of playing on from the saved moment. The reset
    ``info`` says which start it was: ``info["frontier_start"]``.

    ``reset(seed=...)`` forgets the kept snapshots and reseeds the start draws, so the same seed and actions give
    the same episodes (Gymnasium's determinism contract); unseeded resets keep building on them. Snapshots live in
    this process only (an env built in a worker process builds its own from its own episodes), about 250 KiB each
    (nes-py's state includes the frame buffer): a 3,200-pixel level with 64-pixel buckets keeps at most 50 (about
    13 MiB), plus those of the episode under way.

    Example:
        >>> import mario_zoo, gymnasium as gym
        >>> env = gym.make("MarioDQN-v0", actions="right_only", frontier_fraction=1.0, frontier_back=64)
        >>> _, info = env.reset(seed=0)
        >>> info["frontier_start"]  # nothing saved yet: the level start
        False
        >>> terminated = False
        >>> while not terminated:  # walk right into the first Goomba
        ...     _, _, terminated, _, info = env.step(1)
        >>> frontier = env.get_wrapper_attr("frontier")
        >>> frontier == info["x_pos"] > 250
        True
        >>> _, info = env.reset()
        >>> info["frontier_start"], frontier - 64 - 64 < info["x_pos"] <= frontier - 64
        (True, True)
    """

    def __init__(
        self, env: gym.Env, fraction: float, bucket: int = 64, back: int = 128, mode: str = "furthest"
    ) -> None:
        super().__init__(env)
        self.fraction = check_fraction("frontier_fraction", fraction, meaning=FRACTION_MEANING)
        self.mode = check_choice("frontier_mode", mode, FRONTIER_MODES)
        self.bucket = check_int("frontier_bucket", bucket, minimum=1, hint=" It is a width in x pixels.")
        self.back = check_int("frontier_back", back, minimum=0, hint=" It is a distance in x pixels.")
        if not isinstance(env.unwrapped, MarioEmulator):
            raise ValueError(
                f"FrontierStarts needs a MarioEmulator underneath (it saves and restores its states), got "
                f"{type(env.unwrapped).__name__}. Use gym.make('MarioDQN-v0', frontier_fraction=...)."
            )
        self._emulator: MarioEmulator = env.unwrapped
        self._rng = np.random.default_rng()
        self._cells: dict[int, _Cell] = {}
        self._frontier = 0
        self._episode: list[tuple[int, MarioSnapshot]] = []
        self._episode_buckets: set[int] = set()
        self._episode_best = 0

    @property
    def frontier(self) -> int:
        """The furthest ``x_pos`` of the episodes so far (each counted when it ends or is cut short by a reset)."""
        return self._frontier

    def start_snapshot(self) -> MarioSnapshot | None:
        """The snapshot a frontier start restores now: the furthest one at least ``back`` px behind the frontier
        (``mode="uniform"``: one of those at least ``back`` px behind it, drawn uniformly; each call draws anew)."""
        eligible = sorted(
            (cell.snapshot for cell in self._cells.values() if cell.snapshot.x_pos <= self._frontier - self.back),
            key=lambda snapshot: snapshot.x_pos,
        )
        if not eligible:
            return None
        return eligible[-1] if self.mode == "furthest" else eligible[self._rng.integers(len(eligible))]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is None:
            self._keep_episode()
        else:
            # A seeded reset starts a new, reproducible history: same seed and actions, same starts.
            self._forget()
            self._rng = np.random.default_rng([seed, _STREAM])
        start = self.start_snapshot() if self._rng.random() < self.fraction else None
        if start is not None:
            options = {**(options or {}), "snapshot": start}
        obs, info = self.env.reset(seed=seed, options=options)
        self._episode_best = int(info["x_pos"])
        return obs, {**info, "frontier_start": start is not None}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        x_pos = int(info["x_pos"])
        self._episode_best = max(self._episode_best, x_pos)
        if terminated or truncated:
            self._keep_episode()
        elif x_pos // self.bucket not in self._episode_buckets:
            self._episode_buckets.add(x_pos // self.bucket)
            self._episode.append((x_pos // self.bucket, self._emulator.snapshot()))
        return obs, reward, terminated, truncated, info

    def _forget(self) -> None:
        """Drop every snapshot and the frontier."""
        self._cells = {}
        self._frontier = 0
        self._episode = []
        self._episode_buckets = set()

    def _keep_episode(self) -> None:
        """Fold the episode's snapshots into the kept ones, and start a new episode's record."""
        for bucket, snapshot in self._episode:
            kept = self._cells.get(bucket)
            if kept is None or self._episode_best > kept.reach:
                self._cells[bucket] = _Cell(snapshot, self._episode_best)
        self._frontier = max(self._frontier, self._episode_best)
        self._episode = []
        self._episode_buckets = set()
