"""What a lossless resume captures from a training DQN and puts back: its replay buffer and every RNG state.

:mod:`~mario_zoo.agents.training_state` is the file format; this module is what goes into it and what comes out.
Captured: torch's (and each CUDA device's) RNG state, numpy's and Python's global states, the agent's
exploration generator, the action space's and each env's generator, the observations the agent acts on next and
the buffer's step counter. :class:`~mario_zoo.agents.DQN`'s ``save_replay_buffer``, ``save(...,
include_replay_buffer=True)`` and ``load_replay_buffer`` delegate here.

Example:
    >>> import tempfile, gymnasium as gym
    >>> buffer = ReplayBuffer(10, gym.spaces.Box(0, 1, (2,)), n_actions=2, seed=0)
    >>> buffer.start_episodes(np.zeros((1, 2), np.float32))
    >>> target = Path(tempfile.mkdtemp()) / "replay"
    >>> rng = rng_states(np.random.default_rng(1), gym.spaces.Discrete(2), None, torch.device("cpu"))
    >>> with replay_files(target, buffer, rng=rng, last_observations=None, training={"buffer_steps": 0}) as files:
    ...     sorted(files)
    ['replay.json', 'replay.safetensors']
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from mario_zoo.agents.checkpoint import REPLAY_CONFIG_FILE, REPLAY_TENSORS_FILE
from mario_zoo.agents.checkpoint_config import one_line
from mario_zoo.agents.replay import ReplayBuffer
from mario_zoo.agents.training_state import (
    check_global_rng_states,
    generator_from_state,
    generator_state,
    global_rng_states,
    read_replay,
    read_replay_config,
    set_global_rng_states,
    write_replay_files,
)


@dataclass(frozen=True)
class RngStates:
    """Every RNG state a training run draws from, as plain data and arrays (see :func:`rng_states`)."""

    states: dict[str, Any]
    """The generators' states (``model``, ``action_space``, ``env``) and the global ones, as plain data."""
    tensors: dict[str, np.ndarray]
    """torch's RNG state (``rng.torch``) and each CUDA device's (``rng.cuda.<index>``)."""


def rng_states(
    agent_rng: np.random.Generator,
    action_space: spaces.Space,
    env_generators: Sequence[Any] | None,
    device: torch.device,
) -> RngStates:
    """The RNG states of a run: the agent's generator, the action space's, each env's (``None`` without an env;
    an item that is no ``Generator`` stays ``None``), torch's (CUDA's when ``device`` is CUDA) and the global ones."""
    tensors = {"rng.torch": torch.get_rng_state().numpy()}
    if device.type == "cuda":
        tensors |= {f"rng.cuda.{i}": state.numpy() for i, state in enumerate(torch.cuda.get_rng_state_all())}
    action_space_rng = getattr(action_space, "_np_random", None)
    envs = None
    if env_generators is not None:
        envs = [generator_state(item) if isinstance(item, np.random.Generator) else None for item in env_generators]
    states = {
        "model": generator_state(agent_rng),
        "action_space": None if action_space_rng is None else generator_state(action_space_rng),
        "env": envs,
        **global_rng_states(),
    }
    return RngStates(states, tensors)


@contextmanager
def replay_files(
    path: str | os.PathLike[str],
    buffer: ReplayBuffer,
    *,
    rng: RngStates,
    last_observations: np.ndarray | None,
    training: dict[str, Any],
) -> Iterator[dict[str, bytes | Path]]:
    """The replay files of ``buffer`` and ``rng``, written into a temporary folder next to ``path`` (removed
    afterwards), as the ``files`` that :func:`~mario_zoo.agents.checkpoint.write_files` moves into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tensors = dict(rng.tensors)
    if last_observations is not None:
        tensors["last_observations"] = np.asarray(last_observations)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent) as folder:
        write_replay_files(Path(folder), buffer, training=training, rng=rng.states, tensors=tensors)
        yield {name: Path(folder) / name for name in (REPLAY_TENSORS_FILE, REPLAY_CONFIG_FILE)}


def is_replay_archive(path: str | os.PathLike[str]) -> bool:
    """Whether ``save_replay_buffer(path)`` writes one zip archive (``path`` has a suffix) or a directory.

    A directory already at an archive's path is refused: older versions wrote those."""
    target = Path(path)
    archive = target.suffix != ""
    if archive and target.is_dir():
        raise FileExistsError(
            f"Cannot write the replay buffer file {target}: a directory is there (older mario_zoo versions saved "
            "replay buffers at paths with a suffix, such as SB3's *.pkl, as directories). Remove it or choose "
            "another path."
        )
    return archive


def saved_n_envs(path: str | os.PathLike[str]) -> int:
    """How many envs the replay buffer at ``path`` was saved from (checked: a corrupt count is a ``ValueError``)."""
    n_envs = read_replay_config(path).get("buffer", {}).get("n_envs")
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ValueError(f"{path}: {REPLAY_CONFIG_FILE} is corrupt: bad buffer n_envs {n_envs!r}.")
    return n_envs


@dataclass(frozen=True)
class Resumption:
    """What :func:`read_resumption` read: the filled buffer and the states to put back."""

    buffer: ReplayBuffer
    """The replay buffer, filled."""
    buffer_steps: int
    """Env steps the buffer has seen (``learn`` waits for ``learning_starts`` of them)."""
    agent_rng: np.random.Generator
    """The agent's exploration generator."""
    action_space_rng: np.random.Generator | None
    """The action space's generator, if it had one."""
    env_rngs: list[np.random.Generator | None] | None
    """Each env's generator (``None`` where an env had none); ``None`` when saved without an env."""
    last_observations: np.ndarray | None
    """The observations to continue the episodes from (``None``: they end, ``learn`` resets the env)."""
    explorer_state: Any
    """The held random actions and frontier flags of the episodes continued (``None``: none saved, or they end)."""
    global_states: dict[str, Any]
    """numpy's and Python's global RNG states."""
    torch_states: dict[str, np.ndarray]
    """torch's RNG state and each CUDA device's."""

    def restore_global_rngs(self) -> None:
        """Set torch's (and each present CUDA device's), numpy's and Python's global RNG states."""
        set_global_rng_states(self.global_states)
        torch.set_rng_state(torch.from_numpy(self.torch_states["rng.torch"]))
        if torch.cuda.is_available():
            for index in range(torch.cuda.device_count()):
                if f"rng.cuda.{index}" in self.torch_states:
                    torch.cuda.set_rng_state(torch.from_numpy(self.torch_states[f"rng.cuda.{index}"]), index)


def _checked_torch_state(array: np.ndarray, path: str | os.PathLike[str]) -> np.ndarray:
    try:
        torch.Generator().set_state(torch.from_numpy(np.ascontiguousarray(array)))
    except (RuntimeError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: the saved torch RNG state is damaged ({one_line(error)}).") from None
    return array


def read_resumption(path: str | os.PathLike[str], buffer: ReplayBuffer, truncate_last_traj: bool) -> Resumption:
    """Fill the new ``buffer`` from the replay files at ``path`` and read the states saved with it.

    A corrupt file, or one saved from another layout, is a ``ValueError`` naming it; nothing global changes
    until :meth:`Resumption.restore_global_rngs`.
    """
    try:
        state = read_replay(path, buffer)
        training, rng = state.config["training"], state.config["rng"]
        global_states = {key: rng[key] for key in ("python", "numpy_global")}
        check_global_rng_states(global_states, path)
        last_observations = None if truncate_last_traj else state.tensors.get("last_observations")
        if not truncate_last_traj and last_observations is None:
            raise ValueError(f"{path}: the replay files hold no last observations to continue episodes from.")
        return Resumption(
            buffer=buffer,
            buffer_steps=int(training["buffer_steps"]),
            agent_rng=generator_from_state(rng["model"]),
            action_space_rng=None if rng["action_space"] is None else generator_from_state(rng["action_space"]),
            env_rngs=None
            if rng["env"] is None
            else [None if item is None else generator_from_state(item) for item in rng["env"]],
            last_observations=last_observations,
            explorer_state=None if truncate_last_traj else training.get("explorer"),
            global_states=global_states,
            torch_states={
                "rng.torch": _checked_torch_state(state.tensors["rng.torch"], path),
                **{name: array for name, array in state.tensors.items() if name.startswith("rng.cuda.")},
            },
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{path}: {REPLAY_CONFIG_FILE} is corrupt: missing or bad {error}.") from None
