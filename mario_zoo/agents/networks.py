"""Q-networks: a configurable MLP, the Nature CNN for stacked ``(C, 84, 84)`` frames, and Q or dueling heads.

A :class:`NetworkSpec` is plain data (it goes into a checkpoint's ``config.json``) and ``QNetwork(spec)``
builds the module from it, so a checkpoint rebuilds its network without pickle.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from mario_zoo.agents.config import DQNConfig

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}
NETWORK_KINDS = ("mlp", "cnn")
# The Nature CNN's three convolutions shrink a side by this much before it reaches zero.
_CNN_MIN_SIDE = 36
MAX_PARAMETERS = 1 << 28
"""Most weights a network may have (1 GiB in float32; the Mario network has 1.7M): a config asking for more is
damaged, and is refused before any memory is allocated."""


@dataclass(frozen=True)
class NetworkSpec:
    """Everything needed to rebuild a Q-network.

    Example:
        >>> spec = NetworkSpec(kind="mlp", observation_shape=(4,), n_actions=2, net_arch=(64, 64))
        >>> QNetwork(spec)(torch.zeros(3, 4)).shape
        torch.Size([3, 2])
    """

    kind: Literal["mlp", "cnn"]
    """``"mlp"`` for flat vectors, ``"cnn"`` for channel-first images."""
    observation_shape: tuple[int, ...]
    """Shape of one observation."""
    n_actions: int
    """Number of discrete actions (outputs)."""
    net_arch: tuple[int, ...] = field(default=(64, 64))
    """Hidden layer widths (after the CNN's features for ``"cnn"``)."""
    dueling: bool = False
    """Dueling head: Q = V + A - mean(A)."""
    activation: str = "relu"
    """Hidden activation, one of :data:`ACTIVATIONS`."""
    features_dim: int = 512
    """Width of the CNN's last fully connected layer (``"cnn"`` only)."""
    normalize_images: bool = True
    """Divide uint8 pixels by 255 inside the network (``"cnn"`` only)."""

    def __post_init__(self) -> None:
        if self.kind not in NETWORK_KINDS:
            raise ValueError(f"Network kind must be one of {NETWORK_KINDS}, got {self.kind!r}.")
        if not isinstance(self.observation_shape, list | tuple) or not all(map(_is_size, self.observation_shape)):
            raise TypeError(f"observation_shape must be a list of whole numbers >= 1, got {self.observation_shape!r}.")
        object.__setattr__(self, "observation_shape", tuple(int(d) for d in self.observation_shape))
        if not isinstance(self.net_arch, list | tuple) or not all(map(_is_size, self.net_arch)):
            raise ValueError(f"net_arch must be a list of positive layer widths, e.g. [64, 64], got {self.net_arch!r}.")
        object.__setattr__(self, "net_arch", tuple(int(width) for width in self.net_arch))
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {self.activation!r}.")
        if not _is_size(self.n_actions) or not _is_size(self.features_dim):
            raise ValueError(
                f"n_actions and features_dim must be whole numbers >= 1, got {self.n_actions!r}, {self.features_dim!r}."
            )
        for name in ("dueling", "normalize_images"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be true or false, got {getattr(self, name)!r}.")
        if self.kind == "cnn":
            check_image_shape(self.observation_shape)
        if (count := self.parameter_count()) > MAX_PARAMETERS:
            raise ValueError(
                f"This network would have {count:,} weights, more than the {MAX_PARAMETERS:,} allowed (net_arch "
                f"{list(self.net_arch)}, observation shape {self.observation_shape}); use narrower layers."
            )

    def parameter_count(self) -> int:
        """How many weights :class:`QNetwork` builds for this spec, counted without building it.

        Example:
            >>> NetworkSpec(kind="mlp", observation_shape=(4,), n_actions=2, net_arch=(128, 128)).parameter_count()
            17410
            >>> spec = NetworkSpec(kind="cnn", observation_shape=(4, 84, 84), n_actions=5, net_arch=(), dueling=True)
            >>> spec.parameter_count() == sum(p.numel() for p in QNetwork(spec).parameters())
            True
        """
        if self.kind == "cnn":
            channels, height, width = self.observation_shape
            for kernel, stride in ((8, 4), (4, 2), (3, 1)):
                height, width = (height - kernel) // stride + 1, (width - kernel) // stride + 1
            count = channels * 32 * 64 + 32 + 32 * 64 * 16 + 64 + 64 * 64 * 9 + 64
            count += (64 * height * width + 1) * self.features_dim
            in_dim = self.features_dim
        else:
            count, in_dim = 0, math.prod(self.observation_shape)
        for width in self.net_arch:
            count += (in_dim + 1) * width
            in_dim = width
        return count + (in_dim + 1) * (self.n_actions + (1 if self.dueling else 0))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        values = asdict(self)
        values["observation_shape"] = list(self.observation_shape)
        values["net_arch"] = list(self.net_arch)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> NetworkSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**values, "observation_shape": tuple(values["observation_shape"])})


def _is_size(value: Any) -> bool:
    """A whole number >= 1 (not a bool, not a float; numpy's integers count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def check_image_shape(shape: tuple[int, ...]) -> None:
    """Raise a ``ValueError`` unless ``shape`` is a channel-first image the Nature CNN can read."""
    if len(shape) != 3 or min(shape[1:]) < _CNN_MIN_SIDE:
        raise ValueError(
            f"The CNN expects channel-first images (C, H, W) with H, W >= {_CNN_MIN_SIDE}, e.g. (4, 84, 84); "
            f"got observation shape {shape}. Use 'MlpPolicy' for vector observations."
        )


def mlp(in_dim: int, net_arch: tuple[int, ...], activation: str = "relu") -> nn.Sequential:
    """``Linear -> activation`` for each width in ``net_arch`` (an empty ``net_arch`` is the identity).

    Example:
        >>> mlp(4, (8, 8))
        Sequential(
          (0): Linear(in_features=4, out_features=8, bias=True)
          (1): ReLU()
          (2): Linear(in_features=8, out_features=8, bias=True)
          (3): ReLU()
        )
    """
    layers: list[nn.Module] = []
    for width in net_arch:
        layers += [nn.Linear(in_dim, width), ACTIVATIONS[activation]()]
        in_dim = width
    return nn.Sequential(*layers)


class NatureCNN(nn.Module):
    """The DQN Nature paper's encoder: three convolutions and a ``features_dim`` fully connected layer.

    Takes uint8 ``(B, C, H, W)`` pixels; scaling to [0, 1] happens here so that the replay buffer and the
    env pipeline keep 1-byte pixels.

    Example:
        >>> encoder = NatureCNN((4, 84, 84))
        >>> encoder(torch.zeros(2, 4, 84, 84, dtype=torch.uint8)).shape
        torch.Size([2, 512])
    """

    def __init__(self, observation_shape: tuple[int, ...], features_dim: int = 512, normalize_images: bool = True):
        super().__init__()
        check_image_shape(observation_shape)
        self.normalize_images = normalize_images
        self.convs = nn.Sequential(
            nn.Conv2d(observation_shape[0], 32, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n_flat = self.convs(torch.zeros(1, *observation_shape)).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_flat, features_dim), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        x = observations.float()
        if self.normalize_images:
            x = x / 255.0
        return self.linear(self.convs(x))


class DuelingHead(nn.Module):
    """Q = V(s) + A(s, a) - mean_a A(s, a) (Wang et al., 2016); subtracting the mean makes V identifiable.

    Example:
        >>> head = DuelingHead(8, n_actions=3)
        >>> head(torch.zeros(5, 8)).shape
        torch.Size([5, 3])
    """

    def __init__(self, in_dim: int, n_actions: int):
        super().__init__()
        self.value = nn.Linear(in_dim, 1)
        self.advantage = nn.Linear(in_dim, n_actions)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        advantage = self.advantage(features)
        return self.value(features) + advantage - advantage.mean(dim=1, keepdim=True)


class QNetwork(nn.Module):
    """Observation -> one Q-value per action: encoder (Nature CNN, or flatten), hidden MLP, Q or dueling head.

    The layers form one ``nn.Sequential``: acting calls the network once per env step, and every extra module
    call costs microseconds there.
    """

    def __init__(self, spec: NetworkSpec):
        super().__init__()
        self.spec = spec
        layers: list[nn.Module] = []
        if spec.kind == "cnn":
            layers.append(NatureCNN(spec.observation_shape, spec.features_dim, spec.normalize_images))
            in_dim = spec.features_dim
        else:
            if len(spec.observation_shape) > 1:
                layers.append(nn.Flatten())
            in_dim = math.prod(spec.observation_shape)
        layers += mlp(in_dim, spec.net_arch, spec.activation)
        last_dim = spec.net_arch[-1] if spec.net_arch else in_dim
        layers.append(DuelingHead(last_dim, spec.n_actions) if spec.dueling else nn.Linear(last_dim, spec.n_actions))
        self.layers = nn.Sequential(*layers)

    @property
    def head(self) -> nn.Module:
        """The output layer: ``nn.Linear`` or :class:`DuelingHead`."""
        return self.layers[-1]

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        if self.spec.kind == "mlp":
            # Vector observations may arrive as float64 or integers; the weights are float32.
            observations = observations.float()
        return self.layers(observations)


def make_optimizer(config: DQNConfig, params: list[torch.nn.Parameter], device: torch.device) -> torch.optim.Optimizer:
    """The optimizer the hyperparameters name (Adam or AdamW, ``amsgrad``, ``weight_decay``) over ``params``."""
    optimizer_class = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return optimizer_class(
        params,
        lr=config.learning_rate,
        eps=config.adam_eps,
        weight_decay=config.weight_decay,
        amsgrad=config.amsgrad,
        # The fused kernel does the same math in one pass; it exists for CPU and CUDA.
        fused=device.type in ("cpu", "cuda"),
    )
