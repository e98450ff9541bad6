"""Replay memory: preallocated arrays, uniform or prioritized sampling, n-step returns, several envs at once.

Layout. Each env owns a column of ``rows_per_env = buffer_size // n_envs`` rows, written as a ring. A row holds
one *frame* and, once the env has stepped from it, the transition taken from it (action, reward, terminated).
An episode's rows follow each other, so the next observation of the transition in row ``p`` is the frame in
row ``p + 1``, and an n-step return just reads rows ``p .. p + n``. Only a truncated episode (time limit)
writes one extra row, its final observation, which the TD target bootstraps from; a terminated episode does
not need it.

Frames. With ``frame_stack > 1`` observations are stacks of frames, oldest first on axis 0, as
:class:`~mario_zoo.wrappers.FrameStack` (and Gymnasium's ``FrameStackObservation``) produce them. Consecutive
stacks share all but one frame, so a row stores only the newest frame (7,056 bytes at 84x84) and a stack is
rebuilt from the last ``frame_stack`` rows of the same episode. At an episode's start the env pads the stack
with copies of its first frame (or zeros); the buffer recognises either padding and rebuilds it. A start
stack holding real history (e.g. after no-op starts) is stored as extra frame-only rows, so rebuilding is
always exact.

Priorities. With ``prioritized=True`` each row's priority lives in a :class:`SumTree` (proportional
prioritization, Schaul et al. 2016); rows that cannot be sampled have priority 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from gymnasium import spaces

from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.replay_memory import memory_message

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env import VecNormalize

MAX_BYTES_PER_DRAW = 64 * 2**20
"""One uniform draw serves many gradient steps; its observations are capped at this many bytes."""


@dataclass(frozen=True)
class ReplaySample:
    """A minibatch; the TD target is ``returns + discounts * max_a Q_target(next_observations, a)``."""

    observations: torch.Tensor
    """``(B, *obs_shape)`` observations the actions were taken from."""
    actions: torch.Tensor
    """``(B, 1)`` int64 actions."""
    returns: torch.Tensor
    """``(B,)`` float32 discounted sum of the (up to n) rewards that followed."""
    next_observations: torch.Tensor
    """``(B, *obs_shape)`` observations to bootstrap from."""
    discounts: torch.Tensor
    """``(B,)`` float32 ``gamma ** k`` for a k-step return, 0 when the episode terminated within it."""
    weights: torch.Tensor | None
    """``(B,)`` float32 importance-sampling weights (prioritized replay), else ``None``."""
    indices: np.ndarray
    """``(B,)`` buffer positions, for :meth:`ReplayBuffer.update_priorities`."""

    def to(self, device: torch.device) -> ReplaySample:
        """The same minibatch on ``device`` (itself on the CPU, where the buffer samples)."""
        if device.type == "cpu":
            return self
        move = lambda tensor: None if tensor is None else tensor.to(device, non_blocking=True)  # noqa: E731
        return ReplaySample(
            observations=move(self.observations),
            actions=move(self.actions),
            returns=move(self.returns),
            next_observations=move(self.next_observations),
            discounts=move(self.discounts),
            weights=move(self.weights),
            indices=self.indices,
        )

    def split(self, batch_size: int) -> list[ReplaySample]:
        """Consecutive minibatches of ``batch_size`` (views, no copy)."""
        return [
            ReplaySample(
                observations=self.observations[start : start + batch_size],
                actions=self.actions[start : start + batch_size],
                returns=self.returns[start : start + batch_size],
                next_observations=self.next_observations[start : start + batch_size],
                discounts=self.discounts[start : start + batch_size],
                weights=None if self.weights is None else self.weights[start : start + batch_size],
                indices=self.indices[start : start + batch_size],
            )
            for start in range(0, len(self.indices), batch_size)
        ]


class SumTree:
    """Binary tree whose internal nodes hold the sum of their leaves: O(log n) updates and proportional draws.

    Example:
        >>> tree = SumTree(4)
        >>> tree.update(np.array([0, 1, 2, 3]), np.array([1.0, 0.0, 2.0, 1.0]))
        >>> tree.total
        4.0
        >>> tree.find(np.array([0.5, 1.0, 2.9, 3.5])).tolist()
        [0, 2, 2, 3]
    """

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"SumTree size must be >= 1, got {size}.")
        self.size = size
        # A power-of-two leaf count puts every leaf at the same depth, so updates and draws are level loops.
        self.depth = max(1, int(np.ceil(np.log2(size))))
        self.n_leaves = 1 << self.depth
        self.nodes = np.zeros(2 * self.n_leaves, dtype=np.float64)

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self.nodes[1])

    def priorities(self, indices: np.ndarray) -> np.ndarray:
        """The leaves' current priorities."""
        return self.nodes[indices + self.n_leaves]

    def update(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Set the priorities of ``indices`` and refresh the sums above them."""
        nodes = indices + self.n_leaves
        self.nodes[nodes] = priorities
        for _ in range(self.depth):
            # Duplicate parents recompute the same sum, so no de-duplication is needed.
            nodes = nodes // 2
            self.nodes[nodes] = self.nodes[2 * nodes] + self.nodes[2 * nodes + 1]

    def find(self, prefix_sums: np.ndarray) -> np.ndarray:
        """For each value u in ``[0, total)``, the leaf i with ``sum(p[:i]) <= u < sum(p[:i + 1])``.

        Never returns a zero-priority leaf, even when rounding puts ``u`` at or past the total.
        """
        u = prefix_sums.astype(np.float64, copy=True)
        nodes = np.ones(len(u), dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * nodes
            left_sum = self.nodes[left]
            go_right = (u >= left_sum) & (self.nodes[left + 1] > 0)
            u = np.where(go_right, u - left_sum, u)
            nodes = np.where(go_right, left + 1, left)
        return nodes - self.n_leaves


class ReplayBuffer:
    """Fixed-size replay memory for ``n_envs`` envs stepping together (an SB3 ``VecEnv``).

    Args:
        buffer_size: capacity in transitions, split evenly between the envs.
        observation_space: the env's ``Box`` observation space.
        n_actions: size of the ``Discrete`` action space.
        n_envs: envs stepping together.
        frame_stack: store one frame per row and rebuild stacks of this many frames (1 = store observations).
        n_steps: length of the n-step return.
        gamma: discount factor of the n-step return.
        prioritized: sample proportionally to priority (else uniformly).
        alpha: priority exponent; a TD error ``d`` gives priority ``(|d| + eps) ** alpha``.
        eps: keeps every priority positive.
        seed: seed of the sampling generator.

    Example:
        >>> import gymnasium as gym
        >>> space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
        >>> buffer = ReplayBuffer(100_000, space, n_actions=7, frame_stack=4)
        >>> round(buffer.nbytes / buffer.capacity)
        7065
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Box,
        n_actions: int,
        n_envs: int = 1,
        *,
        frame_stack: int = 1,
        n_steps: int = 1,
        gamma: float = 0.99,
        prioritized: bool = False,
        alpha: float = 0.6,
        eps: float = 1e-6,
        seed: int | None = None,
    ):
        obs_shape = observation_space.shape
        if frame_stack > 1 and (len(obs_shape) < 2 or obs_shape[0] != frame_stack):
            raise ValueError(
                f"frame_stack_replay needs observations of shape ({frame_stack}, ...) with the frames stacked "
                f"on axis 0, got observation shape {obs_shape}. Set frame_stack_replay=False for other "
                "observations."
            )
        self.rows_per_env = buffer_size // n_envs
        # The newest row, the n-step window and a stack's history must fit in one env's column.
        min_rows = n_steps + frame_stack + 1
        if self.rows_per_env < min_rows:
            raise ValueError(
                f"buffer_size={buffer_size} gives {self.rows_per_env} rows per env for {n_envs} envs; "
                f"n_steps={n_steps} and a stack of {frame_stack} need >= {min_rows} rows per env. "
                f"Use buffer_size >= {min_rows * n_envs}."
            )
        self.observation_shape = obs_shape
        self.n_envs = n_envs
        self.frame_stack = frame_stack
        self.n_steps = n_steps
        self.gamma = gamma
        self.prioritized = prioritized
        self.alpha = alpha
        self.eps = eps
        self.rng = np.random.default_rng(seed)

        rows, frame_shape = self.rows_per_env, obs_shape[1:] if frame_stack > 1 else obs_shape
        # np.zeros maps untouched pages lazily, so a large buffer costs memory only as it fills.
        try:
            self.frames = np.zeros((rows, n_envs, *frame_shape), dtype=observation_space.dtype)
        except MemoryError:
            raise ValueError(memory_message(buffer_size, observation_space, frame_stack, None)) from None
        self.actions = np.zeros((rows, n_envs), dtype=np.uint8 if n_actions <= 256 else np.int64)
        self.rewards = np.zeros((rows, n_envs), dtype=np.float32)
        self.terminated = np.zeros((rows, n_envs), dtype=bool)
        # valid: the row holds a transition whose observation (and its n-step window) can be rebuilt.
        self.valid = np.zeros((rows, n_envs), dtype=bool)
        if frame_stack > 1:
            # depth: how many of this episode's frames end at this row (capped at the stack size).
            self.depth = np.zeros((rows, n_envs), dtype=np.uint8)
            self.zero_padded = np.zeros((rows, n_envs), dtype=bool)
        # Per-env counters are Python lists: add() reads them once per env step, and list indexing is cheaper.
        self.heads = [-1] * n_envs
        self.rows_written = [0] * n_envs
        self.n_valid = 0
        self.tree = SumTree(rows * n_envs) if prioritized else None
        self.max_priority = 1.0
        self._gammas = gamma ** np.arange(n_steps + 1, dtype=np.float64)

    @property
    def capacity(self) -> int:
        """Transitions the buffer holds when full."""
        return self.rows_per_env * self.n_envs

    @property
    def nbytes(self) -> int:
        """Bytes of all preallocated arrays."""
        arrays = [self.frames, self.actions, self.rewards, self.terminated, self.valid]
        if self.frame_stack > 1:
            arrays += [self.depth, self.zero_padded]
        if self.tree is not None:
            arrays.append(self.tree.nodes)
        return sum(array.nbytes for array in arrays)

    def __len__(self) -> int:
        """Transitions that can be sampled now."""
        return self.n_valid

    # -- Stable-Baselines3's ReplayBuffer attributes --------------------------------------------------

    @property
    def buffer_size(self) -> int:
        """Rows of each env's ring (SB3's ``buffer_size``, which is per env too)."""
        return self.rows_per_env

    @property
    def pos(self) -> int:
        """The row of env 0's ring that the next step's transition goes to (SB3's ``pos``; the envs' rings move
        together, unless a time limit writes a final observation in one of them)."""
        return max(self.heads[0], 0)

    @property
    def full(self) -> bool:
        """Every row of every env's ring has been written (SB3's ``full``)."""
        return min(self.rows_written) >= self.rows_per_env

    def size(self) -> int:
        """Transitions stored per env (SB3's ``size()``): ``len(buffer) / n_envs``, rounded up.

        A full buffer holds at most ``buffer_size - 1`` transitions per env, not SB3's ``buffer_size``: one row
        holds the observation the next transition starts from (and with ``frame_stack_replay``, the oldest rows
        of the ring serve as history only).

        Example:
            >>> import gymnasium as gym
            >>> buffer = ReplayBuffer(10, gym.spaces.Box(0, 1, (2,)), n_actions=2)
            >>> buffer.start_episodes(np.zeros((1, 2)))
            >>> for _ in range(3):
            ...     buffer.add(np.array([0]), np.array([1.0]), np.array([False]), np.array([False]), np.ones((1, 2)), {})
            >>> buffer.size(), buffer.pos, buffer.full, buffer.buffer_size
            (3, 3, False, 10)
        """
        return -(-self.n_valid // self.n_envs)

    # -- writing ------------------------------------------------------------------------------------

    def start_episodes(self, observations: np.ndarray) -> None:
        """Begin a new episode in every env from its first observations (after ``VecEnv.reset()``)."""
        for env in range(self.n_envs):
            self._start_episode(env, observations[env])

    def add(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        next_observations: np.ndarray,
        final_observations: dict[int, np.ndarray],
    ) -> None:
        """Record one ``VecEnv.step``.

        Args:
            actions: ``(n_envs,)`` actions taken.
            rewards: ``(n_envs,)`` rewards received.
            terminated: ``(n_envs,)`` the episode reached a terminal state.
            truncated: ``(n_envs,)`` the episode was cut short (time limit) in a non-terminal state.
            next_observations: ``(n_envs, *obs_shape)`` what the VecEnv returned: the next observation, or
                the first observation of the next episode where the episode ended.
            final_observations: env index -> last observation of the episode, for truncated envs.
        """
        if self.heads[0] < 0:
            raise RuntimeError("Call start_episodes(first_observations) before add().")
        changed: list[int] = []
        for env in range(self.n_envs):
            row = self.heads[env]
            self.actions[row, env] = actions[env]
            self.rewards[row, env] = rewards[env]
            self.terminated[row, env] = terminated[env]
            if terminated[env]:
                self._set_valid(row, env, True, changed)
                self._start_episode(env, next_observations[env], changed)
            elif truncated[env]:
                self._continue_episode(env, final_observations[env], changed)
                self._set_valid(row, env, True, changed)
                self._start_episode(env, next_observations[env], changed)
            else:
                self._continue_episode(env, next_observations[env], changed)
                self._set_valid(row, env, True, changed)
        if self.tree is not None and changed:
            flat = np.asarray(changed, dtype=np.int64)
            rows, envs = np.divmod(flat, self.n_envs)
            self.tree.update(flat, np.where(self.valid[rows, envs], self.max_priority, 0.0))

    def _start_episode(self, env: int, observation: np.ndarray, changed: list[int] | None = None) -> None:
        if self.frame_stack == 1:
            self._write_row(env, observation, depth=1, zero_padded=False, changed=changed)
            return
        history, newest = observation[:-1], observation[-1]
        if (history == newest).all():
            self._write_row(env, newest, depth=1, zero_padded=False, changed=changed)
        elif not history.any():
            self._write_row(env, newest, depth=1, zero_padded=True, changed=changed)
        else:
            # Real frames before the first step (e.g. no-op starts): keep them as frame-only rows.
            for depth, frame in enumerate(observation, start=1):
                self._write_row(env, frame, depth=depth, zero_padded=False, changed=changed)

    def _continue_episode(self, env: int, observation: np.ndarray, changed: list[int]) -> None:
        if self.frame_stack == 1:
            self._write_row(env, observation, depth=1, zero_padded=False, changed=changed)
            return
        row = self.heads[env]
        if not np.array_equal(observation[-2], self.frames[row, env]):
            raise ValueError(
                "frame_stack_replay=True expects each observation to be the previous one shifted by one frame "
                "(frames stacked oldest first on axis 0, like FrameStack or gymnasium's FrameStackObservation), "
                "but this env's observations are not. Set frame_stack_replay=False."
            )
        depth = min(int(self.depth[row, env]) + 1, self.frame_stack)
        self._write_row(env, observation[-1], depth, bool(self.zero_padded[row, env]), changed)

    def _write_row(self, env: int, frame: np.ndarray, depth: int, zero_padded: bool, changed: list[int] | None) -> None:
        row = (self.heads[env] + 1) % self.rows_per_env
        self.frames[row, env] = frame
        self._set_valid(row, env, False, changed)
        if self.frame_stack > 1:
            self.depth[row, env] = depth
            self.zero_padded[row, env] = zero_padded
            # The oldest rows lose the history their stacks are rebuilt from.
            self._set_valid((row + self.frame_stack - 1) % self.rows_per_env, env, False, changed)
        self.heads[env] = row
        self.rows_written[env] += 1

    def _set_valid(self, row: int, env: int, valid: bool, changed: list[int] | None) -> None:
        if self.valid[row, env] == valid:
            return
        self.valid[row, env] = valid
        self.n_valid += 1 if valid else -1
        if self.tree is not None:
            flat = row * self.n_envs + env
            if changed is None:
                self.tree.update(np.array([flat]), np.array([self.max_priority if valid else 0.0]))
            else:
                changed.append(flat)

    # -- sampling -----------------------------------------------------------------------------------

    def minibatches(
        self, batch_size: int, gradient_steps: int, beta: float, device: torch.device, env: VecNormalize | None = None
    ) -> Iterator[ReplaySample]:
        """The ``gradient_steps`` minibatches of one training round, on ``device``.

        Prioritized sampling draws each minibatch after the previous update (priorities change after every step);
        uniform sampling does not depend on the updates, so many minibatches come from one draw, capped at
        ``MAX_BYTES_PER_DRAW`` of observations so that image batches stay small.
        """
        if self.prioritized:
            for _ in range(gradient_steps):
                yield self.sample(batch_size, beta, env).to(device)
            return
        bytes_per_sample = 2 * self.frames.dtype.itemsize * int(np.prod(self.observation_shape))
        steps_per_draw = max(1, min(gradient_steps, MAX_BYTES_PER_DRAW // (bytes_per_sample * batch_size)))
        remaining = gradient_steps
        while remaining > 0:
            steps = min(steps_per_draw, remaining)
            yield from self.sample(batch_size * steps, env=env).to(device).split(batch_size)
            remaining -= steps

    def sample(self, batch_size: int, beta: float = 1.0, env: VecNormalize | None = None) -> ReplaySample:
        """Draw ``batch_size`` transitions (uniformly, or by priority with IS weights of exponent ``beta``).

        ``env``: SB3's argument, the training env's ``VecNormalize``. The buffer keeps what the env itself gave, and
        the observations and each reward (before the n-step sum) are normalized with its statistics of now.
        """
        if self.n_valid == 0:
            raise RuntimeError("The replay buffer holds no complete transition yet; add steps before sampling.")
        weights = None
        if self.tree is None:
            flat = self._draw_uniform(batch_size)
        else:
            # Stratified: one draw from each of batch_size equal slices of the total priority.
            total = self.tree.total
            u = (np.arange(batch_size) + self.rng.random(batch_size)) * (total / batch_size)
            flat = self.tree.find(u)
            priorities = self.tree.priorities(flat)
            # w_i = (N * P(i)) ** -beta, normalised by the batch's largest weight: only ever scales down.
            weights = torch.from_numpy((priorities / priorities.min()) ** -beta).float()
        rows, envs = np.divmod(flat, self.n_envs)
        returns, discounts, next_rows = self._n_step_targets(rows, envs, env)
        observations, next_observations = self._observations(rows, envs), self._observations(next_rows, envs)
        if env is not None and env.norm_obs:
            observations, next_observations = (
                env.normalize_obs(o).astype(np.float32) for o in (observations, next_observations)
            )
        return ReplaySample(
            observations=torch.from_numpy(observations),
            actions=torch.from_numpy(self.actions[rows, envs].astype(np.int64)).unsqueeze(1),
            returns=torch.from_numpy(returns),
            next_observations=torch.from_numpy(next_observations),
            discounts=torch.from_numpy(discounts),
            weights=weights,
            indices=flat,
        )

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Set the priorities of sampled transitions from their new TD errors."""
        if self.tree is None:
            raise RuntimeError("update_priorities needs a prioritized buffer (prioritized=True).")
        priorities = (np.abs(td_errors).astype(np.float64) + self.eps) ** self.alpha
        self.max_priority = max(self.max_priority, float(priorities.max()))
        rows, envs = np.divmod(indices, self.n_envs)
        # A transition overwritten since it was sampled must keep priority 0.
        self.tree.update(indices, np.where(self.valid[rows, envs], priorities, 0.0))

    def _draw_uniform(self, batch_size: int) -> np.ndarray:
        # Rejection sampling over the written rows: the few invalid rows (newest per env, episode-final
        # frames) are redrawn, which keeps the draw uniform over valid transitions without an index list.
        high = min(self.rows_per_env, max(self.rows_written)) * self.n_envs
        drawn: list[np.ndarray] = []
        missing = batch_size
        while missing > 0:
            candidates = self.rng.integers(0, high, size=missing + missing // 8 + 8)
            rows, envs = np.divmod(candidates, self.n_envs)
            accepted = candidates[self.valid[rows, envs]][:missing]
            drawn.append(accepted)
            missing -= len(accepted)
        return drawn[0] if len(drawn) == 1 else np.concatenate(drawn)

    def _n_step_targets(
        self, rows: np.ndarray, envs: np.ndarray, env: VecNormalize | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Discounted reward sums, bootstrap discounts and bootstrap rows of the transitions in ``rows``."""

        def reward(at: np.ndarray) -> np.ndarray:
            return self.rewards[at, envs] if env is None else env.normalize_reward(self.rewards[at, envs])

        returns = reward(rows).astype(np.float64)
        done = self.terminated[rows, envs].copy()
        next_rows = (rows + 1) % self.rows_per_env
        steps = np.ones(len(rows), dtype=np.int64)
        # Extend the return row by row while the episode goes on and the next row holds a transition; the
        # newest row and a truncated episode's final frame hold none, so the return bootstraps there.
        active = ~done
        for k in range(1, self.n_steps):
            extend = active & self.valid[next_rows, envs]
            returns += np.where(extend, self._gammas[k] * reward(next_rows), 0.0)
            terminated_now = extend & self.terminated[next_rows, envs]
            done |= terminated_now
            steps += extend
            next_rows = np.where(extend, (next_rows + 1) % self.rows_per_env, next_rows)
            active = extend & ~terminated_now
        discounts = np.where(done, 0.0, self._gammas[steps])
        return returns.astype(np.float32), discounts.astype(np.float32), next_rows

    def _observations(self, rows: np.ndarray, envs: np.ndarray) -> np.ndarray:
        """The observations ending at ``rows``: stored as is, or rebuilt from the last frames of the episode."""
        if self.frame_stack == 1:
            return self.frames[rows, envs]
        stack = self.frame_stack
        depth = self.depth[rows, envs].astype(np.int64)
        first_rows = rows - depth + 1
        stacks = np.empty((len(rows), stack, *self.frames.shape[2:]), dtype=self.frames.dtype)
        for slot in range(stack):
            back = stack - 1 - slot
            # Slots before the episode's first frame repeat it (or are zeroed below).
            source = np.where(back < depth, rows - back, first_rows) % self.rows_per_env
            stacks[:, slot] = self.frames[source, envs]
        pad = self.zero_padded[rows, envs][:, None] & (np.arange(stack)[None, :] < (stack - depth)[:, None])
        stacks[pad] = 0
        return stacks


def check_stacked(observation_space: spaces.Box) -> None:
    """Refuse ``frame_stack_replay`` for observations that are not frame stacks ``(stack >= 2, ...)``."""
    if len(observation_space.shape) < 2 or observation_space.shape[0] < 2:
        raise ValueError(
            f"frame_stack_replay=True needs stacked observations of shape (stack >= 2, ...), got "
            f"{observation_space.shape}. Set frame_stack_replay=False."
        )


def replay_buffer_for(
    config: DQNConfig, observation_space: spaces.Box, n_actions: int, n_envs: int, seed: int
) -> ReplayBuffer:
    """An empty buffer as the hyperparameters describe it (capacity, frame stacking, n-step, priorities)."""
    return ReplayBuffer(
        config.buffer_size,
        observation_space,
        n_actions=n_actions,
        n_envs=n_envs,
        frame_stack=observation_space.shape[0] if config.frame_stack_replay else 1,
        n_steps=config.n_steps,
        gamma=config.gamma,
        prioritized=config.prioritized_replay,
        alpha=config.prioritized_replay_alpha,
        eps=config.prioritized_replay_eps,
        seed=seed,
    )
