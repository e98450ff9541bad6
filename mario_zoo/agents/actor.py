"""Actor processes: env stepping and action selection beside the learner, transitions through shared memory.

With ``actors=k`` (a :class:`~mario_zoo.agents.DQNConfig` field), :meth:`DQN.learn <mario_zoo.agents.DQN.learn>`
starts ``k`` actor processes. Each builds its own env from the env ID or factory the model was given, keeps a
CPU copy of the Q-network and picks epsilon-greedy actions with the same exploration schedule as the learner.
The learning process consumes their steps exactly as the sequential loop consumes ``VecEnv.step`` (``k`` actors
are a ``k``-env ``VecEnv``): callbacks, logger, ``num_timesteps``, episode statistics, target updates and the
replay buffer see the same steps in the same order, and it runs the gradient updates.

Protocol, per actor:

- **Rounds.** The learner's loop is: collect one ``train_freq`` round, then ``gradient_steps`` updates. An
  actor collects round ``r + 1`` while the learner trains on round ``r``, and before starting round ``r + 2``
  waits until the learner has finished round ``r`` (a semaphore holding two round permits). So the replay ratio
  is exactly the hyperparameters' (``gradient_steps`` per ``train_freq`` env steps) and the algorithm is the
  sequential one, except that a round's actions come from weights one round older.
- **Weights.** After a round whose updates bring the count since the last copy to ``actor_sync_interval``, the
  learner copies the online network into shared memory; an actor loads the newest copy when it starts a round.
  With ``actor_sync_interval=1`` the actions are those of weights at most one round old.
- **Transitions.** An actor writes each step's newest frame (the whole observation unless
  ``frame_stack_replay``) into a ring of slots in shared memory and sends the rest through a pipe, one message
  per round (or per half ring, for rounds of episodes): action, reward, done, ``info`` (with Monitor's
  ``episode`` statistics), and the full first observation of a new episode. The learner rebuilds the observation from the previous one and the slot's frame, so one frame per
  transition crosses between the processes, as one frame per transition is stored.
- **Faults.** An exception in an actor reaches :meth:`learn` as an :class:`ActorError` carrying the actor's
  traceback. Actors ignore SIGINT (Ctrl-C stops the learner, which stops them), get SIGKILL when the learning
  process dies (Linux's ``PR_SET_PDEATHSIG``), and exit when they see their parent gone while waiting.

Actors start with ``spawn`` (a fresh interpreter, never a fork of a process that holds torch threads), so a script
that trains with actors must guard its entry point with ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import multiprocessing
import os
import signal
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from multiprocessing.synchronize import Event, Lock, Semaphore
from typing import Any, NamedTuple

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from mario_zoo.agents.exploration import Explorer, reset_infos
from mario_zoo.agents.networks import NetworkSpec, QNetwork
from mario_zoo.agents.schedules import ExponentialSchedule, LinearSchedule
from mario_zoo.agents.vec_env import EnvFactory, wrap_env

# How long a wait lasts before an actor checks whether it was stopped or orphaned.
_POLL_SECONDS = 0.2
# How long close() lets an actor finish its step before killing it.
_JOIN_SECONDS = 10.0
# Slots of the frame ring per actor when rounds count episodes (their length is unknown in advance).
_EPISODE_ROUND_SLOTS = 256
# Weights start after a 64-byte header holding the copy's version.
_WEIGHTS_OFFSET = 64
_PR_SET_PDEATHSIG = 1


def die_with_parent(signal_number: int, parent_pid: int | None = None) -> bool:
    """Ask Linux to send this process ``signal_number`` when its parent process dies (``PR_SET_PDEATHSIG``;
    elsewhere a no-op); ``False`` if the parent is no longer ``parent_pid`` (it died before the request took
    effect)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal_number)
    return parent_pid is None or os.getppid() == parent_pid


class ActorError(RuntimeError):
    """An actor process failed; the message holds its traceback."""


@dataclass(frozen=True)
class _ActorSettings:
    """What one actor process needs, all picklable."""

    index: int
    n_actors: int
    parent_pid: int
    env_factory: EnvFactory
    env_seed: int | None
    rng_seed: int
    network: dict[str, Any]
    weight_shapes: tuple[tuple[int, ...], ...]
    weights_name: str
    frames_name: str
    slots: int
    frame_shape: tuple[int, ...]
    frame_dtype: str
    frame_stack_replay: bool
    train_freq: tuple[int, str]
    learning_starts: int
    schedule: ExponentialSchedule | LinearSchedule
    exploration_rate: float
    exploration_repeat: float | None
    frontier_exploration_eps: float | None
    frontier_exploration_steps: int | None
    num_timesteps: int
    total_timesteps: int


class ActorPool:
    """The actor processes of one ``learn()`` call, seen from the learner as a ``k``-env ``VecEnv``.

    Args:
        env_factory: builds one env (picklable: it travels to each actor).
        n_actors: actor processes, one env each.
        q_net: the learner's online network; its weights go to the actors.
        spec: how to build that network.
        observation_space: the env's observation space.
        frame_stack_replay: observations are frame stacks that shift by one frame per step.
        train_freq: ``(frequency, unit)`` of a collection round.
        learning_starts: steps of uniformly random actions at the start (handed-over actions excepted).
        schedule: the exploration schedule, called as ``schedule(num_timesteps, total_timesteps)``.
        exploration_rate: epsilon before the first step.
        exploration_repeat, frontier_exploration_eps, frontier_exploration_steps: the DQN's extensions of
            epsilon-greedy (:mod:`mario_zoo.agents.exploration`).
        num_timesteps: the step counter when the actors start.
        total_timesteps: the step counter at which the actors stop.
        actor_sync_interval: gradient updates between weight copies.
        seeds: ``(env seed or None, exploration seed)`` per actor.

    ``start()`` launches the processes and returns their first observations; ``step()`` returns the next
    ``VecEnv``-style step; ``end_round(n_updates)`` tells the actors that the learner finished a round;
    ``close()`` stops the processes and frees the shared memory. Use it as a context manager.
    """

    def __init__(
        self,
        env_factory: EnvFactory,
        n_actors: int,
        *,
        q_net: nn.Module,
        spec: NetworkSpec,
        observation_space: spaces.Box,
        frame_stack_replay: bool,
        train_freq: tuple[int, str],
        learning_starts: int,
        schedule: ExponentialSchedule | LinearSchedule,
        exploration_rate: float,
        exploration_repeat: float | None = None,
        frontier_exploration_eps: float | None = None,
        frontier_exploration_steps: int | None = None,
        num_timesteps: int,
        total_timesteps: int,
        actor_sync_interval: int,
        seeds: list[tuple[int | None, int]],
    ):
        if n_actors < 1:
            raise ValueError(f"n_actors must be >= 1, got {n_actors}.")
        if len(seeds) != n_actors:
            raise ValueError(f"Need one (env seed, exploration seed) pair per actor, got {len(seeds)} for {n_actors}.")
        self._weights_shm: SharedMemory | None = None
        self._frames_shm: SharedMemory | None = None
        self.n_actors = n_actors
        self.q_net = q_net
        self.frame_stack_replay = frame_stack_replay
        self.actor_sync_interval = actor_sync_interval
        self.observation_shape = observation_space.shape
        frequency, unit = train_freq
        self.slots = 2 * frequency if unit == "step" else _EPISODE_ROUND_SLOTS
        frame_shape = self.observation_shape[1:] if frame_stack_replay else self.observation_shape
        dtype = np.dtype(observation_space.dtype)

        context = multiprocessing.get_context("spawn")
        state = [tensor.detach() for tensor in q_net.state_dict().values()]
        n_weights = sum(tensor.numel() for tensor in state)
        self._weights_shm = SharedMemory(create=True, size=_WEIGHTS_OFFSET + 4 * n_weights)
        frame_bytes = dtype.itemsize * math.prod(frame_shape)
        self._frames_shm = SharedMemory(create=True, size=max(1, n_actors * self.slots * frame_bytes))
        self._version, self._shared_weights = _weight_views(self._weights_shm, [tuple(t.shape) for t in state])
        self._frames = np.ndarray((n_actors, self.slots, *frame_shape), dtype, buffer=self._frames_shm.buf)
        self._weights_lock: Lock = context.Lock()
        self._stop: Event = context.Event()
        self._round_permits: list[Semaphore] = [context.Semaphore(2) for _ in range(n_actors)]
        self._free_slots: list[Semaphore] = [context.Semaphore(self.slots) for _ in range(n_actors)]
        self._synced_updates = 0
        self._steps = 0
        self._last_obs: np.ndarray | None = None
        # Steps received from each actor and not yet handed out, oldest last (a batch reversed, for pop()).
        self._pending: list[list[tuple[Any, ...]]] = [[] for _ in range(n_actors)]
        self._connections: list[Connection] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._context = context
        self._settings = [
            _ActorSettings(
                index=index,
                n_actors=n_actors,
                parent_pid=os.getpid(),
                env_factory=env_factory,
                env_seed=env_seed,
                rng_seed=rng_seed,
                network=spec.to_dict(),
                weight_shapes=tuple(tuple(t.shape) for t in state),
                weights_name=self._weights_shm.name,
                frames_name=self._frames_shm.name,
                slots=self.slots,
                frame_shape=tuple(frame_shape),
                frame_dtype=dtype.str,
                frame_stack_replay=frame_stack_replay,
                train_freq=(frequency, unit),
                learning_starts=learning_starts,
                schedule=schedule,
                exploration_rate=exploration_rate,
                exploration_repeat=exploration_repeat,
                frontier_exploration_eps=frontier_exploration_eps,
                frontier_exploration_steps=frontier_exploration_steps,
                num_timesteps=num_timesteps,
                total_timesteps=total_timesteps,
            )
            for index, (env_seed, rng_seed) in enumerate(seeds)
        ]

    def __enter__(self) -> ActorPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pids(self) -> list[int]:
        """Process ids of the actors (for monitoring)."""
        return [process.pid for process in self._processes if process.pid is not None]

    def start(self, n_updates: int) -> np.ndarray:
        """Publish the current weights (``n_updates`` done so far), launch the actors and return their first
        observations ``(k, *obs_shape)``."""
        self._publish(n_updates)
        for settings in self._settings:
            receiver, sender = self._context.Pipe(duplex=False)
            process = self._context.Process(
                target=_actor_main,
                args=(
                    settings,
                    _Links(
                        sender,
                        self._round_permits[settings.index],
                        self._free_slots[settings.index],
                        self._weights_lock,
                        self._stop,
                    ),
                ),
                name=f"mario_zoo-actor-{settings.index}",
                daemon=True,
            )
            process.start()
            # Only the actor may hold the sending end: its exit must show up here as end-of-file.
            sender.close()
            self._connections.append(receiver)
            self._processes.append(process)
        first = [self._receive(index, "ready")[1] for index in range(self.n_actors)]
        self._last_obs = np.stack(first)
        return self._last_obs.copy()

    def step(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """The next step of every actor: ``(actions, new_obs, rewards, dones, infos)``, as ``VecEnv.step`` returns."""
        if self._last_obs is None:
            raise RuntimeError("Call start() before step().")
        k, slot = self.n_actors, self._steps % self.slots
        actions = np.empty(k, dtype=np.int64)
        rewards = np.empty(k, dtype=np.float32)
        dones = np.empty(k, dtype=bool)
        infos: list[dict[str, Any]] = []
        new_obs = np.empty_like(self._last_obs)
        for index in range(k):
            if not self._pending[index]:
                self._pending[index] = self._receive(index, "steps")[1][::-1]
            action, reward, done, info, first_obs = self._pending[index].pop()
            if first_obs is not None:
                new_obs[index] = first_obs
            elif self.frame_stack_replay:
                new_obs[index, :-1] = self._last_obs[index, 1:]
                new_obs[index, -1] = self._frames[index, slot]
            else:
                new_obs[index] = self._frames[index, slot]
            self._free_slots[index].release()
            actions[index], rewards[index], dones[index] = action, reward, done
            infos.append(info)
        self._steps += 1
        self._last_obs = new_obs
        return actions, new_obs, rewards, dones, infos

    def end_round(self, n_updates: int) -> None:
        """The learner finished a round and has done ``n_updates`` updates in all: copy the weights if due, and
        let each actor start the round after the one it is collecting."""
        if n_updates - self._synced_updates >= self.actor_sync_interval:
            self._publish(n_updates)
        for permits in self._round_permits:
            permits.release()

    def close(self) -> None:
        """Stop the actors (killing any that do not stop) and free the shared memory. Safe to call twice."""
        self._stop.set()
        for connection in self._connections:
            connection.close()
        for process in self._processes:
            process.join(_JOIN_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        self._connections, self._processes = [], []
        self._version = self._shared_weights = self._frames = None
        for shm in (self._weights_shm, self._frames_shm):
            if shm is None:
                continue
            # A view still held elsewhere keeps the mapping; unlinking frees the memory once it is dropped.
            with contextlib.suppress(BufferError):
                shm.close()
            shm.unlink()
        self._weights_shm = self._frames_shm = None

    def _publish(self, n_updates: int) -> None:
        state = [tensor.detach() for tensor in self.q_net.state_dict().values()]
        while not self._weights_lock.acquire(timeout=_POLL_SECONDS):
            self._check_alive()
        try:
            with torch.no_grad():
                for shared, tensor in zip(self._shared_weights, state, strict=True):
                    shared.copy_(tensor)
            self._version[0] += 1
        finally:
            self._weights_lock.release()
        self._synced_updates = n_updates

    def _receive(self, index: int, expected: str) -> tuple[Any, ...]:
        try:
            message = self._connections[index].recv()
        except EOFError:
            process = self._processes[index]
            process.join(_JOIN_SECONDS)
            raise ActorError(
                f"Actor {index} (pid {process.pid}) exited with code {process.exitcode} without reporting an error."
            ) from None
        if message[0] == "error":
            raise ActorError(f"Actor {index} (pid {self._processes[index].pid}) failed:\n{message[1]}")
        if message[0] != expected:
            raise RuntimeError(f"Actor {index} sent {message[0]!r} where {expected!r} was expected.")
        return message

    def _check_alive(self) -> None:
        for index, process in enumerate(self._processes):
            if not process.is_alive():
                raise ActorError(f"Actor {index} (pid {process.pid}) exited with code {process.exitcode}.")


def _weight_views(shm: SharedMemory, shapes: list[tuple[int, ...]]) -> tuple[np.ndarray, list[torch.Tensor]]:
    """The version counter and one float32 tensor per weight, all inside ``shm``."""
    version = np.ndarray((1,), dtype=np.int64, buffer=shm.buf)
    flat = torch.frombuffer(shm.buf, dtype=torch.float32, offset=_WEIGHTS_OFFSET, count=sum(map(math.prod, shapes)))
    views, start = [], 0
    for shape in shapes:
        views.append(flat[start : start + math.prod(shape)].view(shape))
        start += math.prod(shape)
    return version, views


# -- the actor process ------------------------------------------------------------------------------


class _Links(NamedTuple):
    """What an actor shares with its learner: the pipe of its steps and the synchronisation primitives."""

    connection: Connection
    round_permits: Semaphore
    free_slots: Semaphore
    weights_lock: Lock
    stop: Event


def _actor_main(settings: _ActorSettings, links: _Links) -> None:
    """Entry point of an actor process: report any exception with its traceback, then exit."""
    # Ctrl-C, and a SIGTERM sent to the whole process group (systemd, Slurm, `kill -- -PGID`), reach the actors too:
    # the learner handles them (it may play on to its next round start) and stops the actors.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if not die_with_parent(signal.SIGKILL, settings.parent_pid):
        return
    torch.set_num_threads(1)
    try:
        _Actor(settings, links).run()
    except BaseException:
        if not links.stop.is_set():
            with contextlib.suppress(OSError):  # a learner that is gone needs no report
                links.connection.send(("error", traceback.format_exc()))
        raise SystemExit(1) from None
    finally:
        links.connection.close()


class _Actor:
    """One actor: steps its env with epsilon-greedy actions and hands the steps to the learner."""

    def __init__(self, settings: _ActorSettings, links: _Links):
        self.settings = settings
        self.connection, self.round_permits, self.free_slots, self.weights_lock, self.stop = links
        self.rng = np.random.default_rng(settings.rng_seed)
        self.network = QNetwork(NetworkSpec.from_dict(settings.network)).eval()
        self.n_actions = self.network.spec.n_actions
        self.explorer = Explorer(
            1,
            self.n_actions,
            repeat=settings.exploration_repeat,
            frontier_eps=settings.frontier_exploration_eps,
            frontier_steps=settings.frontier_exploration_steps,
        )
        self.loaded_version = -1

    def run(self) -> None:
        settings = self.settings
        weights_shm = SharedMemory(name=settings.weights_name, track=False)
        frames_shm = SharedMemory(name=settings.frames_name, track=False)
        env = wrap_env(settings.env_factory)
        try:
            dtype = np.dtype(settings.frame_dtype)
            frame_bytes = dtype.itemsize * math.prod(settings.frame_shape)
            frames = np.ndarray(
                (settings.slots, *settings.frame_shape),
                dtype,
                buffer=frames_shm.buf,
                offset=settings.index * settings.slots * frame_bytes,
            )
            version, shared_weights = _weight_views(weights_shm, list(settings.weight_shapes))
            if settings.env_seed is not None:
                env.seed(settings.env_seed)
            observations = env.reset()
            self.explorer.episodes_started(np.ones(1, bool), reset_infos(env))
            self.connection.send(("ready", observations[0]))
            self._collect(env, observations, frames, version, shared_weights)
        finally:
            env.close()
            frames = version = shared_weights = None
            for shm in (weights_shm, frames_shm):
                with contextlib.suppress(BufferError):  # a view still referenced: the mapping goes with the process
                    shm.close()

    def _collect(
        self,
        env: Any,
        observations: np.ndarray,
        frames: np.ndarray,
        version: np.ndarray,
        shared_weights: list[torch.Tensor],
    ) -> None:
        settings = self.settings
        frequency, unit = settings.train_freq
        num_timesteps, epsilon, step = settings.num_timesteps, settings.exploration_rate, 0
        weights = list(self.network.state_dict().values())
        # Unsent steps hold slots: sending at half the ring leaves the learner slots to free, so no deadlock.
        batch: list[tuple[Any, ...]] = []
        batch_limit = max(1, settings.slots // 2)
        while num_timesteps < settings.total_timesteps:
            if not self._wait(self.round_permits) or not self._load_weights(version, shared_weights, weights):
                return
            n_steps = n_episodes = 0
            while (n_steps < frequency) if unit == "step" else (n_episodes < frequency):
                action = self._act(observations, num_timesteps, epsilon)
                new_observations, rewards, dones, infos = env.step(np.array([action]))
                num_timesteps += settings.n_actors
                n_steps += 1
                done = bool(dones[0])
                if not self._wait(self.free_slots):
                    return
                slot, first_obs = step % settings.slots, None
                if done:
                    first_obs = new_observations[0]
                elif settings.frame_stack_replay:
                    if not np.array_equal(new_observations[0, :-1], observations[0, 1:]):
                        raise ValueError(
                            "frame_stack_replay=True expects each observation to be the previous one shifted by "
                            "one frame (frames stacked oldest first on axis 0, like FrameStack or gymnasium's "
                            "FrameStackObservation), but this env's observations are not. Set "
                            "frame_stack_replay=False."
                        )
                    frames[slot] = new_observations[0, -1]
                else:
                    frames[slot] = new_observations[0]
                batch.append((action, float(rewards[0]), done, infos[0], first_obs))
                if len(batch) >= batch_limit:
                    self.connection.send(("steps", batch))
                    batch = []
                step += 1
                n_episodes += done
                if done:
                    self.explorer.episodes_started(dones, reset_infos(env))
                epsilon = settings.schedule(num_timesteps, settings.total_timesteps)
                observations = new_observations
            if batch:
                self.connection.send(("steps", batch))
                batch = []

    def _act(self, observations: np.ndarray, num_timesteps: int, epsilon: float) -> int:
        """The learner's rule: uniformly random until ``learning_starts``, then its epsilon-greedy
        (:class:`~mario_zoo.agents.exploration.Explorer`); handed-over actions first either way."""
        if num_timesteps < self.settings.learning_starts:
            return int(self.explorer.uniform(self.rng)[0])

        def greedy() -> np.ndarray:
            with torch.inference_mode():
                return self.network(torch.from_numpy(observations)).argmax(dim=1).numpy()

        return int(self.explorer.act(self.rng, epsilon, greedy)[0])

    def _load_weights(self, version: np.ndarray, shared: list[torch.Tensor], weights: list[torch.Tensor]) -> bool:
        """Copy the newest published weights into the network if they changed; ``False`` if stopped meanwhile."""
        if int(version[0]) == self.loaded_version:
            return True
        if not self._wait(self.weights_lock):
            return False
        try:
            with torch.no_grad():
                torch._foreach_copy_(weights, shared)
            self.loaded_version = int(version[0])
        finally:
            self.weights_lock.release()
        return True

    def _wait(self, primitive: Semaphore | Lock) -> bool:
        """Acquire ``primitive``; ``False`` if the learner stopped the actors or died meanwhile."""
        while not primitive.acquire(timeout=_POLL_SECONDS):
            if self.stop.is_set() or os.getppid() != self.settings.parent_pid:
                return False
        return True
