"""Hyperparameters as attributes of an agent, SB3's habit: ``model.gamma`` reads one, ``model.learning_starts = 0``
changes one.

An assignment is checked as the constructor checks the value, then replaces it in the agent's
:class:`~mario_zoo.agents.config.DQNConfig`, and from the next step or update on training uses it. Hyperparameters
built into a part of the agent (the replay buffer's size, gamma and n-step returns, the network, the optimizer, the
weight average) cannot change that way: assigning one is an ``AttributeError`` that says how to set it (when building
or loading the agent), never a value that training would silently ignore.

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

from typing import Any

from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.schedules import exploration_schedule

#: Read from the config at each step or update: an assignment takes effect from the next one.
LIVE = frozenset({
    "learning_rate", "learning_rate_final", "learning_starts", "batch_size", "tau", "target_update_interval",
    "train_freq", "gradient_steps", "max_grad_norm", "max_grad_value", "double_q",
    "target_epsilon", "advantage_learning", "prioritized_replay_beta0", "actor_sync_interval",
})  # fmt: skip
#: The exploration schedule's: an assignment rebuilds the schedule.
SCHEDULE = frozenset({"exploration_fraction", "exploration_initial_eps", "exploration_final_eps", "exploration_decay"})
#: The explorer's (held random actions, frontier episodes): an assignment rebuilds it.
EXPLORER = frozenset({"exploration_repeat", "frontier_exploration_eps"})
#: Config fields whose names are also the agent's own attributes (the torch optimizer, the schedule function, as in
#: SB3): those names keep their SB3 meaning.
OWN_ATTRIBUTES = frozenset({"optimizer", "exploration_schedule"})

_BUILT_INTO = {
    "buffer_size": "replay buffer", "gamma": "replay buffer (its n-step returns)", "n_steps": "replay buffer",
    "prioritized_replay": "replay buffer", "prioritized_replay_alpha": "replay buffer",
    "prioritized_replay_eps": "replay buffer", "frame_stack_replay": "replay buffer", "dueling": "network",
    "precision": "network updates", "loss": "loss function", "amsgrad": "optimizer", "weight_decay": "optimizer",
    "adam_eps": "optimizer", "ema_decay": "weight average", "stats_window_size": "episode statistics",
    "actors": "env setup",
}  # fmt: skip


class HyperparameterAttributes:
    """``model.<hyperparameter>`` reads and assigns the agent's config (see the module docstring)."""

    config: DQNConfig

    def __getattr__(self, name: str) -> Any:
        config = self.__dict__.get("config")
        if config is not None and name in DQNConfig.field_names():
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if "config" not in self.__dict__ or name in OWN_ATTRIBUTES or name not in DQNConfig.field_names():
            super().__setattr__(name, value)
            return
        if name not in LIVE | SCHEDULE | EXPLORER:
            raise AttributeError(
                f"{name} is built into this agent's {_BUILT_INTO.get(name, 'setup')} and cannot change on it: pass "
                f"{name}={value!r} to DQN(...) or DQN.load(path, {name}={value!r})."
            )
        config = self.config.replace(**{name: value})  # checked as the constructor checks it
        super().__setattr__("config", config)
        if name in SCHEDULE:
            super().__setattr__("exploration_schedule", exploration_schedule(config))
        elif name in EXPLORER:
            super().__setattr__("_explorer", None)  # rebuilt from the config on the next step
        elif name == "learning_starts":
            super().__setattr__("random_steps", config.learning_starts)  # SB3's rule: random actions until then
