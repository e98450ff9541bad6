"""Read a Stable-Baselines3 DQN ``.zip`` as a mario_zoo checkpoint, without unpickling anything.

An SB3 zip holds ``data`` (JSON; the objects it could not write as JSON are cloudpickled inside it, and we never
touch those), ``policy.pth`` (the policy's state dict, written by ``torch.save``), ``policy.optimizer.pth`` (the
Adam state), ``system_info.txt`` and other variable files. We read the readable JSON fields (spaces' shapes and
sizes, hyperparameters, ``policy_kwargs``), the system info as text, and load both ``.pth`` files with
``torch.load(..., weights_only=True)``, which only rebuilds tensors and plain containers and refuses any other
object. The network layout comes from the weights themselves: SB3's ``MlpPolicy`` and ``CnnPolicy`` Q-networks
map one to one onto ours, and so does the Adam state of each weight. Anything else (a custom features extractor,
a non-ReLU activation, our dueling policies trained inside SB3) is refused with the reason.

The env an SB3 zip was trained on is not recorded in it: a loaded model has ``env_id`` ``None``; pass the env to
``DQN.load(path, env=...)`` or to ``set_env``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from mario_zoo.agents import checkpoint
from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.networks import MAX_PARAMETERS, NetworkSpec, QNetwork
from mario_zoo.reading import parse_json, read_stream

SB3_FILES = frozenset({"data", "policy.pth"})
_OPTIMIZER_FILE = "policy.optimizer.pth"
_SYSTEM_INFO_FILE = "system_info.txt"
# The per-weight state of torch's Adam, SB3's DQN optimizer (our optimizers are Adam or AdamW, with the same state).
_ADAM_STATE = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})
# Hyperparameters whose SB3 value is plain JSON in `data` and means the same in DQNConfig.
_PLAIN_HYPERPARAMETERS = (
    "buffer_size",
    "learning_starts",
    "batch_size",
    "tau",
    "gamma",
    "gradient_steps",
    "target_update_interval",
    "exploration_fraction",
    "exploration_initial_eps",
    "exploration_final_eps",
    "max_grad_norm",
    "learning_rate",
    "n_steps",
)
_CNN_PREFIX = "q_net.features_extractor."
MAX_DATA_BYTES = 16 * 2**20
"""Size limit of an SB3 zip's ``data`` JSON (SB3 writes tens of KB)."""


def is_sb3_zip(names: set[str]) -> bool:
    """Whether an archive with these member names is an SB3 checkpoint (and not ours)."""
    return names >= SB3_FILES and checkpoint.CONFIG_FILE not in names


def read_sb3_zip(path: Path) -> checkpoint.Checkpoint:
    """The checkpoint in SB3's DQN zip at ``path``: weights, optimizer state, spaces, hyperparameters and the
    versions it was saved with (from its ``system_info.txt``).

    Raises :class:`~mario_zoo.agents.checkpoint.CheckpointError` naming the file and the reason when it cannot.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            data = parse_json(_member(archive, path, "data", MAX_DATA_BYTES), f"{path}:data", max_bytes=MAX_DATA_BYTES)
            policy_bytes = _member(archive, path, "policy.pth", MAX_TENSORS_BYTES)
            optimizer_bytes = (
                _member(archive, path, _OPTIMIZER_FILE, MAX_TENSORS_BYTES) if _OPTIMIZER_FILE in names else None
            )
            system_info = (
                _member(archive, path, _SYSTEM_INFO_FILE, MAX_DATA_BYTES) if _SYSTEM_INFO_FILE in names else b""
            )
    except Exception as error:  # a damaged archive or JSON: zipfile and json raise many kinds
        raise checkpoint.CheckpointError(f"{path}: cannot read this Stable-Baselines3 zip ({error}).") from None
    state = _load_tensors(path, "policy.pth", policy_bytes)
    optimizer = None if optimizer_bytes is None else _load_tensors(path, _OPTIMIZER_FILE, optimizer_bytes)
    try:
        return _convert(data, state, optimizer, _system_info(system_info.decode("utf-8", errors="replace")))
    except (KeyError, TypeError, ValueError) as error:
        raise checkpoint.CheckpointError(
            f"{path} is a Stable-Baselines3 zip that mario_zoo cannot convert: {error} Only SB3 DQN zips with "
            "MlpPolicy or CnnPolicy (ReLU, default features extractor, Adam) convert; load others with "
            "stable_baselines3.DQN.load."
        ) from None


MAX_TENSORS_BYTES = 4 * 4 * MAX_PARAMETERS + (1 << 20)
"""Size limit of an SB3 zip's ``policy.pth`` and ``policy.optimizer.pth`` (four float32 copies of the largest network
mario_zoo builds: online and target, or Adam's moments with AMSGrad's maximum): a member that would inflate past it
is refused before it is read whole."""


def _member(archive: zipfile.ZipFile, path: Path, name: str, max_bytes: int) -> bytes:
    with archive.open(name) as stream:
        return read_stream(stream, f"{path}:{name}", max_bytes=max_bytes)


def _load_tensors(path: Path, name: str, data: bytes) -> Any:
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # weights_only refuses anything but tensors and plain containers
        raise checkpoint.CheckpointError(
            f"{path}: {name} is not a plain tensor state dict, so it is not loaded (nothing is unpickled): "
            f"{' '.join(str(error).split())[:300]}"
        ) from None


def _convert(
    data: dict[str, Any], state: dict[str, torch.Tensor], optimizer: Any, versions: dict[str, str]
) -> checkpoint.Checkpoint:
    if not isinstance(data, dict) or not isinstance(state, dict):
        raise ValueError("its data or policy.pth has an unexpected layout.")
    observation_space = _box(data["observation_space"])
    action_space = spaces.Discrete(int(data["action_space"]["n"]), start=int(data["action_space"].get("start", 0)))
    policy_kwargs = data.get("policy_kwargs") or {}
    if not isinstance(policy_kwargs, dict) or set(policy_kwargs) - {"net_arch", "features_extractor_kwargs"}:
        raise ValueError(f"its policy_kwargs {sorted(policy_kwargs)} go beyond net_arch and features_dim.")
    online = {key[len("q_net.") :]: value for key, value in state.items() if key.startswith("q_net.")}
    kind = "cnn" if any(key.startswith("features_extractor.") for key in online) else "mlp"
    head = sorted(int(key.split(".")[1]) for key in online if key.startswith("q_net.") and key.endswith(".weight"))
    widths = [int(online[f"q_net.{index}.weight"].shape[0]) for index in head]
    if not widths:
        raise ValueError("policy.pth has no Q-network layers (q_net.q_net.*).")
    features_dim = int(online["features_extractor.linear.0.weight"].shape[0]) if kind == "cnn" else 512
    spec = NetworkSpec(
        kind=kind,
        observation_shape=observation_space.shape,
        n_actions=int(action_space.n),
        net_arch=tuple(widths[:-1]),
        features_dim=features_dim,
    )
    ours = translate_sb3_policy_state(state, spec)
    hyperparameters = {name: data[name] for name in _PLAIN_HYPERPARAMETERS if isinstance(data.get(name), int | float)}
    for name in ("buffer_size", "learning_starts", "batch_size", "gradient_steps", "target_update_interval"):
        if name in hyperparameters:
            hyperparameters[name] = int(hyperparameters[name])
    config = checkpoint.CheckpointConfig(
        policy="CnnPolicy" if kind == "cnn" else "MlpPolicy",
        policy_kwargs={
            "net_arch": list(spec.net_arch),
            "activation_fn": "relu",
            "normalize_images": True,
            "features_extractor_kwargs": {"features_dim": features_dim} if kind == "cnn" else {},
        },
        hyperparameters=DQNConfig.from_dict(hyperparameters),
        network=spec,
        observation_space=observation_space,
        action_space=action_space,
        num_timesteps=int(data.get("num_timesteps", 0)),
        exploration_rate=float(data.get("exploration_rate", 0.0)),
        versions={**versions, "stable-baselines3 zip": "converted by mario_zoo"},
        format_version=checkpoint.FORMAT_VERSION,
    )
    observation_ndim = len(observation_space.shape)
    flat_optimizer = None if optimizer is None else _optimizer_tensors(optimizer, state, spec, observation_ndim)
    return checkpoint.Checkpoint(config, ours, flat_optimizer)


def _optimizer_tensors(
    saved: Any, state: dict[str, torch.Tensor], spec: NetworkSpec, observation_ndim: int
) -> dict[str, torch.Tensor]:
    """SB3's Adam state dict -> our flat optimizer tensors (:func:`~mario_zoo.agents.optimizer_state.optimizer_to_tensors`'
    layout), each weight's state moved to that weight's place in our Q-network."""
    groups = saved.get("param_groups") if isinstance(saved, dict) else None
    if not isinstance(groups, list) or len(groups) != 1 or not isinstance(saved.get("state"), dict):
        raise ValueError(f"{_OPTIMIZER_FILE} is not the state of one optimizer over the Q-network.")
    # SB3's optimizer lists the online Q-network's weights in the order policy.pth holds them.
    sb3_names = [key[len("q_net.") :] for key in state if key.startswith("q_net.")]
    indices = list(groups[0]["params"])
    if len(indices) == 2 * len(sb3_names):
        # SB3 < 2.4 listed the target network's weights too (never stepped); SB3's load drops them the same way.
        indices = indices[: len(sb3_names)]
    if len(indices) != len(sb3_names):
        raise ValueError(f"{_OPTIMIZER_FILE} covers {len(indices)} weights but the Q-network has {len(sb3_names)}.")
    with torch.device("meta"):
        our_names = [name for name, _ in QNetwork(spec).named_parameters()]
    flat: dict[str, torch.Tensor] = {}
    for sb3_name, index in zip(sb3_names, indices, strict=True):
        our_name = f"layers.{_our_layer(sb3_name, spec.kind, observation_ndim)}"
        if our_name not in our_names:
            raise ValueError(f"{_OPTIMIZER_FILE} has state for {sb3_name!r}, which has no place in our network.")
        entry = saved["state"].get(index, {})
        if not isinstance(entry, dict):
            raise ValueError(f"{_OPTIMIZER_FILE} has a state of type {type(entry).__name__} for {sb3_name!r}.")
        for key, value in entry.items():
            if key not in _ADAM_STATE:
                raise ValueError(f"{_OPTIMIZER_FILE} holds {key!r}, which is not Adam's state.")
            flat[f"state.{our_names.index(our_name)}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    return flat


def _system_info(text: str) -> dict[str, str]:
    """SB3's ``system_info.txt`` (``- Name: version`` lines) as a dict.

    Example:
        >>> _system_info("- Python: 3.13.0\\n- PyTorch: 2.5.0\\n")
        {'Python': '3.13.0', 'PyTorch': '2.5.0'}
    """
    info = {}
    for line in text.splitlines():
        name, separator, value = line.removeprefix("- ").partition(": ")
        if line.startswith("- ") and separator:
            info[name] = value
    return info


def translate_sb3_policy_state(state: dict[str, Any], spec: NetworkSpec) -> dict[str, Any]:
    """SB3's DQN policy weights (``get_parameters()["policy"]``: ``q_net.q_net.0.weight``, ...) under our names
    (``q_net.layers.0.weight``, ...) for a network built from ``spec``; a state already in our names is returned as is.

    Example:
        >>> spec = NetworkSpec(kind="mlp", observation_shape=(4,), n_actions=2, net_arch=(64,))
        >>> sorted(translate_sb3_policy_state({"q_net.q_net.0.weight": 0, "q_net_target.q_net.2.bias": 0}, spec))
        ['q_net.layers.0.weight', 'q_net_target.layers.2.bias']
    """
    if not any(".q_net." in key or ".features_extractor." in key for key in state):
        return state
    ours = {}
    for key, value in state.items():
        network, _, rest = key.partition(".")  # q_net or q_net_target
        ours[f"{network}.layers.{_our_layer(rest, spec.kind, len(spec.observation_shape))}"] = value
    return ours


def _our_layer(key: str, kind: str, observation_ndim: int) -> str:
    """SB3's parameter name (after ``q_net.``/``q_net_target.``) -> ours (after ``layers.``)."""
    if key.startswith("features_extractor."):
        rest = key[len("features_extractor.") :]
        if rest.startswith("cnn."):
            return "0.convs." + rest[len("cnn.") :]
        if rest.startswith("linear."):
            return "0.linear." + rest[len("linear.") :]
        raise ValueError(f"unknown features extractor weight {key!r}.")
    if not key.startswith("q_net."):
        raise ValueError(f"unexpected weight {key!r}.")
    index, _, name = key[len("q_net.") :].partition(".")
    # Ours puts the CNN (or a Flatten for multi-dimensional vectors) before the MLP in the same Sequential.
    offset = 1 if kind == "cnn" or observation_ndim > 1 else 0
    return f"{int(index) + offset}.{name}"


def _box(data: dict[str, Any]) -> spaces.Box:
    shape = tuple(int(side) for side in data["_shape"])
    dtype = np.dtype(data["dtype"])
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        low, high = (0, 255) if dtype == np.uint8 else (info.min, info.max)
    else:
        low, high = -np.inf, np.inf  # SB3 writes bounds as numpy reprs; they do not change what the agent does
    return spaces.Box(low, high, shape, dtype)
