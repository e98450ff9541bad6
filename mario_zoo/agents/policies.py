"""Policies: our DQN's :class:`QPolicy`, and dueling Q-networks as Stable-Baselines3 policy classes.

* :class:`QPolicy` is ``mario_zoo.DQN(...).policy``: the online and target :class:`~.networks.QNetwork` and
  greedy action selection with SB3's ``predict`` signature and input checks.
* :class:`DuelingMlpPolicy` and :class:`DuelingCnnPolicy` subclass SB3's ``DQNPolicy`` so that SB3's own DQN
  trains a dueling network: ``stable_baselines3.DQN(DuelingMlpPolicy, "CartPole-v1")``. Our ``DQN`` accepts
  them too (they switch its ``dueling`` option on).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space, maybe_transpose
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.torch_layers import NatureCNN as SB3NatureCNN
from stable_baselines3.common.type_aliases import Schedule
from stable_baselines3.dqn.policies import DQNPolicy
from stable_baselines3.dqn.policies import QNetwork as SB3QNetwork
from torch import nn

from mario_zoo.agents.networks import DuelingHead, NetworkSpec, QNetwork

_MIXED_API_HINT = (
    "You are probably mixing the Gymnasium API with the SB3 VecEnv API: `obs, info = env.reset()` (Gymnasium) "
    "vs `obs = vec_env.reset()` (VecEnv). Pass only the observation: `model.predict(obs)`."
)


class QPolicy(nn.Module):
    """The online and target Q-networks of our DQN, with greedy ``predict``.

    Example:
        >>> obs_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
        >>> spec = NetworkSpec(kind="mlp", observation_shape=(4,), n_actions=2)
        >>> policy = QPolicy(obs_space, spaces.Discrete(2), spec)
        >>> actions, state = policy.predict(np.zeros((3, 4), dtype=np.float32))
        >>> actions.shape, state
        ((3,), None)
        >>> policy.predict((np.zeros(4), {}))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: You passed a tuple to predict() instead of an observation array. You are probably mixing ...
    """

    def __init__(self, observation_space: spaces.Box, action_space: spaces.Discrete, spec: NetworkSpec):
        super().__init__()
        self.observation_space = observation_space
        self.action_space = action_space
        self.spec = spec
        self.q_net = QNetwork(spec)
        self.q_net_target = QNetwork(spec)
        self.q_net_target.load_state_dict(self.q_net.state_dict())
        # The target only moves by explicit copies/Polyak updates, never by the optimizer.
        self.q_net_target.requires_grad_(False)
        self.q_net_target.train(False)

    @property
    def device(self) -> torch.device:
        """Where the networks live."""
        return next(self.q_net.parameters()).device

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """Greedy actions for a batch of observations."""
        return self.q_net(observations).argmax(dim=1)

    def set_training_mode(self, mode: bool) -> None:
        """Put the online network in training (``True``) or evaluation mode (SB3's name)."""
        self.q_net.train(mode)

    def obs_to_tensor(self, observation: Any) -> tuple[torch.Tensor, bool]:
        """Check an observation (or a batch) against the observation space and make it a batched tensor.

        Returns the tensor and whether the input was a batch.
        """
        if isinstance(observation, tuple) and len(observation) == 2 and isinstance(observation[1], dict):
            raise ValueError(f"You passed a tuple to predict() instead of an observation array. {_MIXED_API_HINT}")
        if isinstance(observation, dict):
            raise ValueError(
                "You passed a dict to predict(), but this model's observation space is "
                f"{self.observation_space}: Dict observations are not supported. Pass one observation array "
                "(or flatten the dict with gymnasium.wrappers.FlattenObservation before training)."
            )
        if isinstance(observation, tuple):
            raise ValueError(
                f"You passed a tuple of {len(observation)} items to predict(); pass one observation array "
                f"of shape {self.observation_space.shape} or a batch of shape (n_envs, "
                f"{', '.join(map(str, self.observation_space.shape))})."
            )
        array = np.asarray(observation)
        expected = self.observation_space.shape
        if array.ndim in (3, 4) and array.shape != expected and is_image_space(self.observation_space):
            # SB3's rule: a channel-last image (the env's own, before VecTransposeImage) is transposed.
            array = maybe_transpose(array, self.observation_space)
        if array.shape == expected:
            batched = False
        elif array.shape[1:] == expected:
            batched = True
        else:
            hint = ""
            if len(expected) == 3 and array.shape[-3:] == (*expected[1:], expected[0]):
                hint = " The channels look last: transpose the image to channel-first (C, H, W)."
            raise ValueError(
                f"Unexpected observation shape {array.shape} for observation space {self.observation_space}: "
                f"pass one observation of shape {expected} or a batch of shape "
                f"(n_envs, {', '.join(map(str, expected))}).{hint}"
            )
        if array.dtype == object:
            raise TypeError(f"Observations must be numeric arrays, got an array of Python objects: {observation!r}.")
        tensor = torch.as_tensor(array.reshape(-1, *expected), device=self.device)
        return tensor, batched

    def predict(
        self,
        observation: Any,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Greedy actions with SB3's signature (the Q-policy is deterministic; DQN adds epsilon-greedy).

        ``state`` and ``episode_start`` exist for recurrent policies and are passed through unchanged.
        """
        tensor, batched = self.obs_to_tensor(observation)
        self.set_training_mode(False)
        with torch.inference_mode():
            actions = self(tensor).cpu().numpy()
        # A single observation gets a 0-d array, as SB3's BasePolicy.predict returns for a Discrete action.
        return (actions if batched else actions.squeeze(axis=0)), state


class DuelingSB3QNetwork(SB3QNetwork):
    """SB3's ``QNetwork`` with our dueling head after its hidden layers (the features extractor is SB3's)."""

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
    ) -> None:
        super().__init__(
            observation_space, action_space, features_extractor, features_dim, net_arch, activation_fn, normalize_images
        )
        layers: list[nn.Module] = []
        in_dim = features_dim
        for width in self.net_arch:
            layers += [nn.Linear(in_dim, width), activation_fn()]
            in_dim = width
        self.q_net = nn.Sequential(*layers, DuelingHead(in_dim, int(action_space.n)))


class DuelingMlpPolicy(DQNPolicy):
    """SB3 ``MlpPolicy`` with a dueling head: ``stable_baselines3.DQN(DuelingMlpPolicy, env)``.

    Example:
        >>> import stable_baselines3
        >>> model = stable_baselines3.DQN(DuelingMlpPolicy, "CartPole-v1", learning_starts=0, device="cpu")
        >>> type(model.q_net.q_net[-1]).__name__
        'DuelingHead'
    """

    def make_q_net(self) -> SB3QNetwork:
        # Same as DQNPolicy.make_q_net, with the dueling network class.
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return DuelingSB3QNetwork(**net_args).to(self.device)


class DuelingCnnPolicy(DuelingMlpPolicy):
    """SB3 ``CnnPolicy`` (Nature CNN features) with a dueling head."""

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = SB3NatureCNN,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch,
            activation_fn,
            features_extractor_class,
            features_extractor_kwargs,
            normalize_images,
            optimizer_class,
            optimizer_kwargs,
        )
