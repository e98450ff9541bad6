"""Frontier starts: begin some training episodes from a saved game state near the furthest point reached so far.

A DQN on World 1-1 dies at the same pit thousands of times, but each try costs the whole walk from the level
start. Restarting from saved states near the frontier (Salimans & Chen 2018; Go-Explore) spends the steps where
the agent still has something to learn. :class:`FrontierStarts` snapshots the emulator as the agent's own
episodes reach new x buckets, and starts a ``fraction`` of episodes from the snapshot furthest right at least
``back`` pixels behind the frontier (``mode="furthest"``), or from one drawn uniformly among those kept up to there
(``mode="uniform"``). Once some episode has reached the flag, "furthest" starts every frontier episode at the
level's end, and the sections between the level start and there are learnt only from episodes that get past
every earlier obstacle; "uniform" keeps starting episodes across the whole level (Go-Explore's robustification
and the backward algorithm of Salimans & Chen start from states all along a solved path); "failures" draws them with
weights that grow with the recent failures just ahead of each state (Go-Explore weighs its cells likewise), so that
starts gather before the obstacle that stops the agent now; "mixed" draws half of the starts as "failures" does and
half as "uniform" does, since failures gather the starts before the first obstacle that stops most episodes and
leave the sections past it, and the frontier, almost none (Go-Explore's cells past the frontier are what it explores
from); "backward" draws half of the starts uniformly and half along the path of the episode that got furthest,
from a point that starts at its end and moves back once episodes from there get past what lies ahead (the backward
algorithm of Salimans & Chen), so that the agent learns each section from the moments just before it, down to a
choice made long before the obstacle it decides (a jump onto the upper route). With ``follow``, a start on that path
(near the point, or a uniform start whose state lies on it) also hands the agent the path's own actions for its
first steps (``info["frontier_actions"]``, a random number of them up to ``follow``), which
:class:`~mario_zoo.agents.exploration.Explorer` plays before its own: the transitions of the episode that got
furthest enter the replay buffer as a demonstration would (Hester et al. 2018's DQfD keeps its demonstrations
there), and the agent takes over at a random moment along them. It is for training
only: :func:`mario_zoo.evaluation.evaluation_env_kwargs` switches it off, so every evaluation starts at the level
start.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from mario_zoo.envs.emulator import MarioEmulator, MarioSnapshot
from mario_zoo.envs.frontier_archive import (
    ArchivedCell,
    furthest_per_stretch,
    merge_into_archive,
    read_archive_and_point,
)
from mario_zoo.info_keys import FOLLOW_KEY, FRONTIER_START_KEY
from mario_zoo.wrappers._validation import check_choice, check_fraction, check_int

FRACTION_MEANING = "the share of episodes started near the frontier"

SAVE_EVERY = 20
"""With an archive file, the kept snapshots are merged into it every this many episodes, if they changed."""

FRONTIER_MODES = ("furthest", "uniform", "failures", "mixed", "backward")
"""How a frontier start picks its snapshot: the furthest one behind the frontier, one drawn uniformly, one drawn
with a weight that grows with the recent failures just ahead of it, half of the time each of the last two, or half
of the time uniformly and half along the furthest episode's path, from a point that moves back as the agent
learns."""

BACKWARD_TRIES = 10
"""``mode="backward"`` moves its point back once at least ``successes`` (5) of the last this many episodes from
there succeeded."""

BACKWARD_HORIZON = 1024
"""``mode="backward"``: an episode started on the path succeeds when it gets this many pixels past its start, or
as far as the path's own episode got, whichever is nearer."""

FAILURE_WINDOW = 1000
"""``mode="failures"`` weighs the saved states by where the last this many episodes that did not clear ended."""

# Mixed with the reset seed, so the start draws do not reuse the env's own random stream (NoopStart's counts).
_STREAM = 0x46524F4E


#: The options of ``mode="backward"`` only: (default, minimum, maximum, what it counts).
BACKWARD_OPTIONS: dict[str, tuple[int, int, int | None, str]] = {
    "frontier_follow": (0, 0, None, "a number of agent steps"),
    "frontier_successes": (5, 1, 10, "how many of the last 10 episodes from the point must succeed"),
}


def check_backward_option(name: str, value: Any, mode: str) -> int:
    """An option of :data:`BACKWARD_OPTIONS`, checked: an integer in its range, and other than its default only
    with ``mode="backward"`` (the path and point it acts on are that mode's).

    Example:
        >>> check_backward_option("frontier_follow", 32, "backward")
        32
        >>> check_backward_option("frontier_follow", 32, "uniform")
        Traceback (most recent call last):
        ...
        ValueError: frontier_follow=32 acts on the path and point of frontier_mode='backward'; with frontier_mode='uniform' there are none: set frontier_mode='backward' or frontier_follow=0.
    """
    default, minimum, maximum, meaning = BACKWARD_OPTIONS[name]
    checked = check_int(name, value, minimum=minimum, maximum=maximum, hint=f" It is {meaning}.")
    if checked != default and mode != "backward":
        raise ValueError(
            f"{name}={value} acts on the path and point of frontier_mode='backward'; with frontier_mode={mode!r} "
            f"there are none: set frontier_mode='backward' or {name}={default}."
        )
    return checked


@dataclass(frozen=True, eq=False)
class _Cell:
    """The snapshot kept for one x bucket: from the episode that got furthest after passing through it."""

    snapshot: MarioSnapshot
    reach: int
    """The furthest ``x_pos`` that episode reached."""


def _common_prefix(first: bytes, second: bytes) -> int:
    """How many leading bytes ``first`` and ``second`` share.

    Example:
        >>> _common_prefix(b"abcd", b"abxy"), _common_prefix(b"ab", b"abc"), _common_prefix(b"", b"a")
        (2, 2, 0)
    """
    length = min(len(first), len(second))
    if first[:length] == second[:length]:
        return length
    differs = np.frombuffer(first, np.uint8, length) != np.frombuffer(second, np.uint8, length)
    return int(np.argmax(differs))


class FrontierStarts(gym.Wrapper):
    """Start a ``fraction`` of episodes from a saved state near the furthest ``x_pos`` reached so far, or
    (``mode="uniform"``) anywhere along the way there, or (``mode="failures"``) mostly just before where recent
    episodes failed, or (``mode="mixed"``) half of them each of the last two ways.

    While the agent plays, the first step of an episode into each ``bucket``-pixel stretch of x (``x_pos //
    bucket``) saves the game (:meth:`MarioEmulator.snapshot`, about 30 us). When the episode ends, each bucket
    keeps the snapshot whose episode got furthest (so a state seconds from death is replaced by a better one),
    and the frontier is the furthest ``x_pos`` of any episode. On reset, with probability ``fraction``, the
    episode starts from the kept snapshot furthest right with ``x_pos <= frontier - back`` (``mode="uniform"``:
    from one of the kept snapshots with ``x_pos <= frontier - back``, each as likely; ``mode="failures"``: one of
    those, weighted by :meth:`failure_weights`); otherwise (or before any snapshot qualifies) from the level start.

    A restored start is a reset of everything above the emulator: the observation is the frame stack refilled
    with the saved moment's screen (grayscaled and resized; every slot the same frame, as after a level start),
    the stall counter starts over, no-op starts are skipped (the state is already mid-level), and the rewards,
    flags and ``info`` of the following steps equal those of playing on from the saved moment. The reset
    ``info`` says which start it was: ``info["frontier_start"]``.

    ``reset(seed=...)`` forgets the snapshots its episodes kept (back to the ``archive``'s, or to none) and the
    recent failures, and reseeds the start draws, so the same seed and actions give the same episodes (Gymnasium's
    determinism contract); unseeded resets keep building on them. nes-py's snapshots live in this process only,
    about 250 KiB each (the state includes the frame buffer): a 3,200-pixel level with 64-pixel buckets keeps at
    most 50 (about 13 MiB), plus those of the episode under way. With ``archive`` (a file path), they outlive it:
    each snapshot is also the inputs that reach it (:attr:`MarioSnapshot.inputs`), merged into that file every
    :data:`SAVE_EVERY` episodes and on :meth:`close` (:mod:`~mario_zoo.envs.frontier_archive`; several processes
    may share one), and rebuilt from it by replaying them at the first reset. Replaying also brings back the moments
    between: a stretch whose own cell reached less than a path through it (a chain of frontier starts, or an archive
    written with wider stretches) starts from that path's first moment there instead. ``mode="backward"`` writes
    its point there too, and a run resumed from the file starts its path starts where the point had got.

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
        self,
        env: gym.Env,
        fraction: float,
        bucket: int = 64,
        back: int = 128,
        mode: str = "furthest",
        archive: str | os.PathLike[str] | None = None,
        follow: int = 0,
        successes: int = 5,
    ) -> None:
        super().__init__(env)
        self.fraction = check_fraction("frontier_fraction", fraction, meaning=FRACTION_MEANING)
        self.mode = check_choice("frontier_mode", mode, FRONTIER_MODES)
        self.bucket = check_int("frontier_bucket", bucket, minimum=1, hint=" It is a width in x pixels.")
        self.back = check_int("frontier_back", back, minimum=0, hint=" It is a distance in x pixels.")
        self.follow = check_backward_option("frontier_follow", follow, self.mode)
        self.successes = check_backward_option("frontier_successes", successes, self.mode)
        if archive is not None and not isinstance(archive, str | os.PathLike):
            raise TypeError(f"frontier_archive must be a file path (str) or None, got {archive!r}.")
        self.archive = None if archive is None else Path(archive)
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
        # The archive's cells, rebuilt at the first reset; what a seeded reset returns to.
        self._archived: dict[int, _Cell] | None = None if self.archive is not None else {}
        self._unsaved = False
        self._kept_episodes = 0
        self._episode_active = False  # steps taken since the last episode was kept
        self._episode_end = (0, False)  # the last step's x_pos and flag
        self._failures: deque[int] = deque(maxlen=FAILURE_WINDOW)  # where recent failed episodes ended
        # mode="backward": the moments along the furthest episode's path, how far it got, the index of the point
        # that path starts begin at (or up to ``back`` px behind), whether the last episodes from there succeeded,
        # and the x that the episode under way must reach (None: it did not start on the path).
        self._path: list[MarioSnapshot] = []
        self._path_inputs = b""  # every frame of that path, to its end
        self._path_reach = 0
        self._unplayable_reach = -1  # the reach of the furthest episode whose inputs did not replay here
        self._point = 0
        self._tries: deque[bool] = deque(maxlen=BACKWARD_TRIES)
        self._target: int | None = None
        self._archived_point: int | None = None  # the archive's backward point, where a first path starts

    @property
    def frontier(self) -> int:
        """The furthest ``x_pos`` of the episodes so far (each counted when it ends or is cut short by a reset)."""
        return self._frontier

    @property
    def backward_point(self) -> int | None:
        """``mode="backward"``: the x of the path's moment that its starts begin at (or up to ``back`` px behind);
        ``None`` before there is a path."""
        return self._path[self._point].x_pos if self._path else None

    def start_snapshot(self) -> MarioSnapshot | None:
        """The snapshot a frontier start restores now: the furthest one at least ``back`` px behind the frontier
        (``mode="uniform"``: one of those at least ``back`` px behind it, drawn uniformly; ``mode="failures"``: one
        of those, drawn with weight 1 + the number of the last :data:`FAILURE_WINDOW` failed episodes that ended
        less than ``2 * max(back, bucket)`` px ahead of it; ``mode="mixed"``: each call either of the last two, as
        likely; ``mode="backward"``: each call either uniformly or one of the path's moments up to ``back`` px
        behind its point, as likely; each call draws anew)."""
        return self._draw()[0]

    def _draw(self) -> tuple[MarioSnapshot | None, int | None]:
        """A frontier start's snapshot, and the x it must reach to count as a success if it is on the path."""
        if self.mode == "backward" and self._path and self._rng.random() < 0.5:
            point = self._path[self._point].x_pos
            near = [moment for moment in self._path[: self._point + 1] if moment.x_pos >= point - self.back]
            start = near[self._rng.integers(len(near))]
            return start, min(self._path_reach, start.x_pos + BACKWARD_HORIZON)
        eligible = sorted(
            (cell.snapshot for cell in self._cells.values() if cell.snapshot.x_pos <= self._frontier - self.back),
            key=lambda snapshot: snapshot.x_pos,
        )
        if not eligible:
            return None, None
        if self.mode == "furthest":
            return eligible[-1], None
        if self.mode in ("uniform", "backward") or (self.mode == "mixed" and self._rng.random() < 0.5):
            return eligible[self._rng.integers(len(eligible))], None
        return eligible[self._rng.choice(len(eligible), p=self.failure_weights(eligible))], None

    def path_actions(self, start: MarioSnapshot, steps: int) -> tuple[int, ...]:
        """The actions (of this env's action space) that play on along the path from its moment ``start`` for up to
        ``steps`` agent steps: the path's frames after ``start``'s, a frame skip at a time, each step the action of
        its last frame (a sticky repeat delays an action's first frames, not its last). Shorter where the path ends
        or a frame's buttons are no action of the set (a path played with another action set)."""
        if not self._path_inputs.startswith(start.inputs):
            return ()
        frames = self._path_inputs[len(start.inputs) :]
        skip, index_of = self._frame_skip_and_actions
        actions: list[int] = []
        for step in range(min(steps, len(frames) // skip)):
            action = index_of.get(frames[(step + 1) * skip - 1])
            if action is None:
                break
            actions.append(action)
        return tuple(actions)

    @functools.cached_property
    def _frame_skip_and_actions(self) -> tuple[int, dict[int, int]]:
        """The env's frame skip and the action of each controller byte (the wrappers below never change)."""
        skip = int(self.env.get_wrapper_attr("skip"))
        return skip, {int(byte): action for action, byte in enumerate(self.env.get_wrapper_attr("joypad_bytes"))}

    def failure_weights(self, snapshots: list[MarioSnapshot]) -> np.ndarray:
        """``mode="failures"``'s probabilities of starting from each of ``snapshots``: 1 + the recent failed
        episodes (a death or a stall, not the flag) that ended in ``(x, x + 2 * max(back, bucket)]`` of its ``x``,
        normalised.
        Starts gather before the obstacle that kills most often now, in states of the episodes that got furthest
        from there (each stretch keeps those), so its approach and its jump are tried again from where they work."""
        ends = np.sort(np.fromiter(self._failures, dtype=np.int64, count=len(self._failures)))
        x = np.array([snapshot.x_pos for snapshot in snapshots], dtype=np.int64)
        ahead = np.searchsorted(ends, x + 2 * max(self.back, self.bucket), side="right")
        weights = 1.0 + ahead - np.searchsorted(ends, x, side="right")
        return weights / weights.sum()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if self._archived is None:
            self._archived = self._read_archive()
            self._forget()
        if seed is None:
            if self._episode_active:
                self._keep_episode()
        else:
            # A seeded reset starts a new, reproducible history: same seed and actions, same starts.
            self._forget()
            self._rng = np.random.default_rng([seed, _STREAM])
        if self.mode == "backward":
            self._follow_furthest()
        start, self._target = self._draw() if self._rng.random() < self.fraction else (None, None)
        follow: tuple[int, ...] = ()
        if start is not None:
            options = {**(options or {}), "snapshot": start}
            if self.follow:  # a start on the path (any of its moments, uniform starts' too) follows it
                follow = self.path_actions(start, int(self._rng.integers(self.follow + 1)))
        obs, info = self.env.reset(seed=seed, options=options)
        if follow:
            info = {**info, FOLLOW_KEY: follow}
        self._episode_best = int(info["x_pos"])
        return obs, {**info, FRONTIER_START_KEY: start is not None}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._episode_active = True
        x_pos = int(info["x_pos"])
        self._episode_best = max(self._episode_best, x_pos)
        self._episode_end = (x_pos, bool(info.get("flag_get")))
        if terminated or truncated:
            self._keep_episode()
        elif x_pos // self.bucket not in self._episode_buckets:
            self._episode_buckets.add(x_pos // self.bucket)
            self._episode.append((x_pos // self.bucket, self._emulator.snapshot()))
        return obs, reward, terminated, truncated, info

    def save_archive(self) -> None:
        """Merge the kept snapshots into the ``archive`` file now (also done every :data:`SAVE_EVERY` episodes that
        changed them, and on :meth:`close`)."""
        if self.archive is None:
            raise ValueError("This env has no frontier_archive file to save to; make it with frontier_archive=PATH.")
        cells = [ArchivedCell(cell.snapshot.x_pos, cell.reach, cell.snapshot.inputs) for cell in self._cells.values()]
        merge_into_archive(
            self.archive, self._emulator.level, cells, bucket=self.bucket, backward_x=self.backward_point
        )
        self._unsaved = False

    def close(self) -> None:
        try:
            if self._unsaved and self.archive is not None:
                self._save_or_warn()
        finally:
            super().close()

    def _save_or_warn(self) -> None:
        """Merge into the archive; a file that became unreadable (damaged by another writer) is a warning, not the
        end of training: the states stay kept here, and the next save tries again."""
        try:
            self.save_archive()
        except (OSError, ValueError) as error:
            warnings.warn(f"Frontier states not saved: {str(error).rstrip('.')}.", stacklevel=2)

    def _read_archive(self) -> dict[int, _Cell]:
        """The cells of the ``archive`` file, their game states rebuilt by replaying their inputs (none if there
        is no file yet). A cell whose inputs no longer lead to its x position (another emulator) is left out with
        a warning."""
        if self.archive is None or not self.archive.is_file():
            return {}
        cells: dict[int, _Cell] = {}
        lost = 0
        archived, self._archived_point = read_archive_and_point(self.archive, self._emulator.level)
        kept = furthest_per_stretch(archived, bucket=self.bucket)
        # In input order, so that each replay plays on from the previous one where they share a beginning.
        for bucket, entry in sorted(kept.items(), key=lambda item: item[1].inputs):
            try:
                snapshot = self._emulator.replay(entry.inputs)
            except ValueError:
                snapshot = None
            if snapshot is None or snapshot.x_pos != entry.x_pos:
                lost += 1
                continue
            cells[bucket] = _Cell(snapshot, entry.reach)
        if lost:
            warnings.warn(
                f"{self.archive}: the inputs of {lost} of its cells did not lead back to their x positions (saved by "
                "another emulator?); frontier starts go on without them.",
                stacklevel=2,
            )
        self._fill_along_paths(list(kept.values()), cells)
        return cells

    def _fill_along_paths(self, entries: list[ArchivedCell], cells: dict[int, _Cell]) -> None:
        """Give each stretch the moment of the archive's paths whose episode got furthest from there.

        An episode that starts from a kept state plays on from its inputs, so every moment along a cell's inputs
        is a moment of an episode that reached as far as the furthest cell whose inputs begin with them. Cells
        keep only the first moment of one stretch each, so the moments between (those of a path whose cells
        were replaced, or of an archive written with wider stretches) are lost: replaying each path that no other
        extends, the first moment in each stretch it crosses takes that stretch's place where it reached further.
        """
        entries = sorted(entries, key=lambda entry: entry.inputs)
        for index, entry in enumerate(entries):
            if index + 1 < len(entries) and entries[index + 1].inputs.startswith(entry.inputs):
                continue  # a longer path through this one is replayed instead
            try:
                moments = self._emulator.replay_moments(entry.inputs, self.bucket)
            except ValueError:
                continue  # left out above, with the warning
            if self._emulator.snapshot().x_pos != entry.x_pos:
                continue  # the same: its inputs lead elsewhere here
            # A moment's reach: the furthest of the cells that share at least its inputs with this path.
            shared = np.array([_common_prefix(other.inputs, entry.inputs) for other in entries])
            order = np.argsort(-shared, kind="stable")
            furthest = np.maximum.accumulate(np.array([entries[i].reach for i in order]))
            for moment in moments:
                reach = int(furthest[np.searchsorted(-shared[order], -len(moment.inputs), side="right") - 1])
                stretch = moment.x_pos // self.bucket
                kept = cells.get(stretch)
                if kept is None or reach > kept.reach:
                    cells[stretch] = _Cell(moment, reach)

    def _forget(self) -> None:
        """Drop every snapshot of this process's episodes: back to the archive's, and its frontier."""
        self._cells = dict(self._archived or {})
        self._frontier = max((cell.reach for cell in self._cells.values()), default=0)
        self._episode = []
        self._episode_buckets = set()
        self._episode_active = False
        self._failures.clear()
        self._path, self._path_inputs, self._path_reach, self._point, self._target = [], b"", 0, 0, None
        self._unplayable_reach = -1
        self._tries.clear()

    def _follow_furthest(self) -> None:
        """``mode="backward"``: take the path of the kept episode that got furthest when there is none yet or the
        frontier has got ``max(back, bucket)`` px or more past it (replaying its inputs, at a reset: it moves the
        emulator). The point keeps its x on a new path; on the first, it starts where the archive's had got, or
        else ``back`` px behind the path's reach, since the moments just before where that episode ended may lead
        nowhere else."""
        if self._path and self._frontier < self._path_reach + max(self.back, self.bucket):
            return
        furthest = max(self._cells.values(), key=lambda cell: (cell.reach, len(cell.snapshot.inputs)), default=None)
        if furthest is None or furthest.reach <= max(self._path_reach, self._unplayable_reach):
            return  # nothing further, or the furthest already failed to replay: not tried again at each reset
        try:
            path = self._emulator.replay_moments(furthest.snapshot.inputs, self.bucket)
        except ValueError:
            path = []  # its inputs lead elsewhere here (another emulator): no path, as before
        if not path:
            self._unplayable_reach = furthest.reach
            return
        if self._path:
            point = self._path[self._point].x_pos
        else:
            point = furthest.reach - self.back if self._archived_point is None else self._archived_point
        self._path, self._path_inputs, self._path_reach = path, furthest.snapshot.inputs, furthest.reach
        self._point = max(0, sum(moment.x_pos <= point for moment in path) - 1)
        self._tries.clear()

    def _step_back(self) -> None:
        """Move the path's point to its last moment at least ``back`` px behind (at least one moment back)."""
        point = self._path[self._point].x_pos
        behind = [index for index in range(self._point) if self._path[index].x_pos <= point - self.back]
        self._point = behind[-1] if behind else max(0, self._point - 1)
        self._tries.clear()
        self._unsaved = True

    def _keep_episode(self) -> None:
        """Fold the episode's snapshots into the kept ones, and start a new episode's record."""
        for bucket, snapshot in self._episode:
            kept = self._cells.get(bucket)
            if kept is None or self._episode_best > kept.reach:
                self._cells[bucket] = _Cell(snapshot, self._episode_best)
                self._unsaved = True
        self._frontier = max(self._frontier, self._episode_best)
        x_pos, flag = self._episode_end
        if not flag:
            self._failures.append(x_pos)
        if self._target is not None:
            self._tries.append(self._episode_best >= self._target)
            self._target = None
            if len(self._tries) == BACKWARD_TRIES and sum(self._tries) >= self.successes:
                self._step_back()
        self._episode = []
        self._episode_buckets = set()
        self._kept_episodes += 1
        self._episode_active = False
        if self._unsaved and self.archive is not None and self._kept_episodes % SAVE_EVERY == 0:
            self._save_or_warn()
