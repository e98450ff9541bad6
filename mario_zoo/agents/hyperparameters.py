"""Hyperparameters as attributes of an agent, SB3's habit: ``model.gamma`` reads one, ``model.learning_starts = 0``
changes one.

An assignment is checked as the constructor checks the value, then replaces it in the agent's
:class:`~mario_zoo.agents.config.DQNConfig`. What the gradient updates read (learning rate, batch size, target
interval, ...) is used from the next update on, also when assigned in a callback. What the acting reads (train
frequency, learning starts, the exploration schedule and explorer; actor processes get a copy when ``learn`` starts)
changes between ``learn`` calls: assigning it during one is an ``AttributeError`` saying so. Hyperparameters built
into a part of the agent (the replay buffer's size, gamma and n-step returns, the network, the optimizer, the weight
average) cannot change at all: assigning one is an ``AttributeError`` that says how to set it (when building or
loading the agent), never a value that training would silently ignore.

``model.optimizer`` is the torch optimizer, SB3's ``model.policy.optimizer`` the same object (replace either with
another ``torch.optim.Optimizer`` over ``model.q_net.parameters()``), and ``model.exploration_schedule`` the schedule
(a name, ``"linear"`` or ``"exponential"``, rebuilds it from the config).

Example:
    >>> from mario_zoo import DQN
    >>> model = DQN("MlpPolicy", "CartPole-v1", learning_starts=1000, device="cpu")
    >>> model.learning_starts = 10
    >>> model.config.learning_starts, model.learning_starts
    (10, 10)
    >>> model.buffer_size = 10
    Traceback (most recent call last):
    ...
    AttributeError: buffer_size is built into this agent's replay buffer and cannot change on it: pass buffer_size=10 to DQN(...) or DQN.load(path, buffer_size=10).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from mario_zoo.agents.config import DQNConfig, check_train_freq_envs
from mario_zoo.agents.schedules import exploration_schedule

#: Read by the gradient updates: an assignment takes effect from the next update, even during ``learn``.
UPDATES = frozenset({
    "learning_rate", "learning_rate_final", "batch_size", "tau", "target_update_interval", "gradient_steps",
    "max_grad_norm", "max_grad_value", "double_q", "target_epsilon", "advantage_learning", "prioritized_replay_beta0",
})  # fmt: skip
#: Read by the acting (copied into actor processes when ``learn`` starts): assignable between ``learn`` calls.
ACTING = frozenset({
    "train_freq", "learning_starts", "actor_sync_interval", "exploration_fraction", "exploration_initial_eps",
    "exploration_final_eps", "exploration_decay", "exploration_schedule", "exploration_repeat",
    "frontier_exploration_eps", "frontier_exploration_steps",
})  # fmt: skip
_SCHEDULE = frozenset({"exploration_fraction", "exploration_initial_eps", "exploration_final_eps", "exploration_decay"})

_BUILT_INTO = {
    "buffer_size": "replay buffer", "gamma": "replay buffer (its n-step returns)", "n_steps": "replay buffer",
    "prioritized_replay": "replay buffer", "prioritized_replay_alpha": "replay buffer",
    "prioritized_replay_eps": "replay buffer", "frame_stack_replay": "replay buffer", "dueling": "network",
    "precision": "network updates", "loss": "loss function", "optimizer": "optimizer", "amsgrad": "optimizer",
    "weight_decay": "optimizer", "adam_eps": "optimizer", "ema_decay": "weight average",
    "stats_window_size": "episode statistics", "actors": "env setup",
}  # fmt: skip


class HyperparameterAttributes:
    """``model.<hyperparameter>`` reads and assigns the agent's config (see the module docstring)."""

    config: DQNConfig
    policy: torch.nn.Module

    def __getattr__(self, name: str) -> Any:
        config = self.__dict__.get("config")
        if config is not None and name in DQNConfig.field_names():
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if "config" not in self.__dict__ or name not in DQNConfig.field_names():
            super().__setattr__(name, value)
        elif name in ("optimizer", "exploration_schedule") and not isinstance(value, str):
            super().__setattr__(name, value)  # the torch optimizer (the property below) or a schedule object
        elif name in UPDATES or name in ACTING:
            if name in ACTING and self.__dict__.get("_in_learn"):
                raise AttributeError(
                    f"{name} shapes the acting, which learn() set up when it started (actor processes keep a copy): "
                    f"assign it before learn() or between two learn() calls, not during one."
                )
            config = self.config.replace(**{name: value})  # checked as the constructor checks it
            n_envs = self.__dict__.get("n_envs", 0)
            check_train_freq_envs(config, n_envs, f"this agent has {n_envs} envs", "set_env with one env first")
            super().__setattr__("config", config)
            if name in _SCHEDULE or name == "exploration_schedule":
                super().__setattr__("exploration_schedule", exploration_schedule(config))
            elif name in ("exploration_repeat", "frontier_exploration_eps", "frontier_exploration_steps"):
                super().__setattr__("_explorer", None)  # rebuilt from the config on the next step
            elif name == "learning_starts":
                super().__setattr__("random_steps", config.learning_starts)  # SB3's rule: random actions until then
        else:
            raise AttributeError(
                f"{name} is built into this agent's {_BUILT_INTO.get(name, 'setup')} and cannot change on it: pass "
                f"{name}={value!r} to DQN(...) or DQN.load(path, {name}={value!r})."
            )

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """The torch optimizer of the online Q-network (SB3 keeps it as ``policy.optimizer``: the same object)."""
        return self.policy.optimizer

    @optimizer.setter
    def optimizer(self, value: torch.optim.Optimizer) -> None:
        if not isinstance(value, torch.optim.Optimizer):
            raise TypeError(
                f"optimizer must be a torch.optim.Optimizer over model.q_net.parameters(), got {value!r}; to choose "
                "another kind, pass optimizer='adamw' (or adam_eps, weight_decay) to DQN(...) or DQN.load(path, ...)."
            )
        self.policy.optimizer = value

    @contextmanager
    def learning(self) -> Iterator[None]:
        """Marks a ``learn`` call: settings of the acting cannot change within it."""
        self.__dict__["_in_learn"] = True
        try:
            yield
        finally:
            self.__dict__["_in_learn"] = False
