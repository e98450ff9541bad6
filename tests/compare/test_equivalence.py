"""The evidence that the two DQNs are the same algorithm at matched settings, kept as tests.

A line-by-line audit of both training loops found no semantic difference; these tests pin its two central facts,
so a change to either side that breaks them fails here rather than as a shifted comparison: with the same seed
both libraries start from the same weights, and one update on the same minibatch with the same optimizer gives the
same new weights (up to float rounding).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.type_aliases import ReplayBufferSamples

import mario_zoo  # noqa: F401  (registers MarioDQN-v0)
from mario_zoo.agents.replay import ReplaySample
from mario_zoo.compare import make_agent, matched_settings

ENVS = ("CartPole-v1", "MarioDQN-v0")
BATCH = 32


@pytest.fixture(scope="module", params=ENVS)
def agents(request):
    """Ours and SB3's DQN at the settings `compare` matches for the env, both seeded with 0."""
    torch.set_num_threads(1)
    settings = matched_settings(request.param, steps=10_000)
    env = gym.make(request.param)
    ours, theirs = (make_agent(algorithm, settings, env, seed=0) for algorithm in ("mario_zoo", "sb3"))
    yield settings, ours, theirs
    env.close()


def _weights(model) -> list[torch.Tensor]:
    """The online and target networks' tensors, in definition order (the two libraries name them differently)."""
    return [tensor.detach().clone() for tensor in model.policy.state_dict().values()]


def test_the_same_seed_gives_the_same_initial_weights(agents):
    _, ours, theirs = agents
    ours_weights, their_weights = _weights(ours), _weights(theirs)
    assert [tuple(t.shape) for t in ours_weights] == [tuple(t.shape) for t in their_weights]
    for mine, their in zip(ours_weights, their_weights, strict=True):
        assert torch.equal(mine, their)


def test_one_update_on_the_same_batch_gives_the_same_new_weights(agents):
    settings, ours, theirs = agents
    space = ours.observation_space
    rng = np.random.default_rng(0)
    if space.dtype == np.uint8:
        observations, next_observations = (
            torch.from_numpy(rng.integers(0, 256, (BATCH, *space.shape), dtype=np.uint8)) for _ in range(2)
        )
    else:
        observations, next_observations = (
            torch.from_numpy(rng.normal(size=(BATCH, *space.shape)).astype(np.float32)) for _ in range(2)
        )
    actions = torch.from_numpy(rng.integers(0, ours.action_space.n, (BATCH, 1)))
    rewards = torch.from_numpy(rng.normal(size=BATCH).astype(np.float32))
    dones = torch.from_numpy((rng.random(BATCH) < 0.2).astype(np.float32))
    discount = settings.hyperparameters.gamma**settings.hyperparameters.n_steps
    before = _weights(ours)

    # Ours: one minibatch, as its replay buffer hands them out (TD target = returns + discounts * max Q_target).
    sample = ReplaySample(
        observations=observations,
        actions=actions,
        returns=rewards,
        next_observations=next_observations,
        discounts=(1.0 - dones) * discount,
        weights=None,
        indices=np.arange(BATCH),
    )
    ours._minibatches = lambda gradient_steps: iter([sample])
    ours.train(1)

    # SB3: the same transitions, as its buffer hands them out (TD target = rewards + (1 - dones) * discounts * ...).
    column = lambda tensor: tensor.reshape(-1, 1)  # noqa: E731
    samples = ReplayBufferSamples(
        observations, actions, next_observations, column(dones), column(rewards), column(torch.full((BATCH,), discount))
    )
    theirs.replay_buffer.sample = lambda batch_size, env=None: samples
    theirs.set_logger(Logger(folder=None, output_formats=[]))
    theirs.train(gradient_steps=1, batch_size=BATCH)

    changed = 0
    for old, mine, their in zip(before, _weights(ours), _weights(theirs), strict=True):
        torch.testing.assert_close(mine, their)
        changed += not torch.equal(old, mine)
    assert changed >= len(before) // 2, "the update changed the online network's weights"
