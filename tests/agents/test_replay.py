"""Replay buffer: sum-tree, n-step targets, prioritized weights and frame-stack rebuilding against an oracle."""

from __future__ import annotations

import re

import numpy as np
import pytest
from gymnasium import spaces

from mario_zoo.agents.replay import ReplayBuffer, SumTree

GAMMA = 0.9


# -- sum-tree --------------------------------------------------------------------------------------


def test_sum_tree_finds_the_leaf_holding_each_prefix_sum():
    tree = SumTree(5)  # not a power of two: padded leaves must never be returned
    tree.update(np.arange(5), np.array([1.0, 0.0, 2.0, 0.5, 1.5]))
    assert tree.total == 5.0
    # cumulative: [0,1) -> 0, [1,3) -> 2 (leaf 1 is empty), [3,3.5) -> 3, [3.5,5) -> 4
    assert tree.find(np.array([0.0, 0.99, 1.0, 2.99, 3.0, 3.49, 3.5, 4.99])).tolist() == [0, 0, 2, 2, 3, 3, 4, 4]
    # Rounding at or past the total still lands on a non-empty leaf.
    assert tree.find(np.array([5.0, 5.0 + 1e-9])).tolist() == [4, 4]
    tree.update(np.array([4, 4]), np.array([0.0, 0.0]))
    assert tree.total == 3.5
    assert tree.find(np.array([3.49, 3.6])).tolist() == [3, 3]


def test_sum_tree_rejects_an_empty_size():
    with pytest.raises(ValueError, match=re.escape("SumTree size must be >= 1, got 0.")):
        SumTree(0)


# -- helpers ---------------------------------------------------------------------------------------


def vector_buffer(n_steps=1, prioritized=False, buffer_size=100, n_envs=1, **kwargs) -> ReplayBuffer:
    space = spaces.Box(-np.inf, np.inf, (2,), np.float32)
    return ReplayBuffer(
        buffer_size,
        space,
        n_actions=2,
        n_envs=n_envs,
        n_steps=n_steps,
        gamma=GAMMA,
        prioritized=prioritized,
        seed=0,
        **kwargs,
    )


def obs(value: float) -> np.ndarray:
    return np.array([[value, 0.0]], dtype=np.float32)


def add(buffer, reward, next_value, terminated=False, truncated=False, final_value=None):
    finals = {0: obs(final_value)[0]} if truncated else {}
    buffer.add(
        np.array([1]),
        np.array([reward], np.float32),
        np.array([terminated]),
        np.array([truncated]),
        obs(next_value),
        finals,
    )


def targets_by_first_obs(buffer, n_samples=2000):
    sample = buffer.sample(n_samples)
    result = {}
    for o, r, d, nxt in zip(
        sample.observations[:, 0].tolist(),
        sample.returns.tolist(),
        sample.discounts.tolist(),
        sample.next_observations[:, 0].tolist(),
        strict=True,
    ):
        result[o] = (pytest.approx(r), pytest.approx(d), nxt)
    return result


# -- n-step returns --------------------------------------------------------------------------------


def test_one_step_targets_bootstrap_from_the_next_observation_and_stop_at_termination():
    buffer = vector_buffer()
    buffer.start_episodes(obs(0))
    add(buffer, 1.0, 1)
    add(buffer, 2.0, 100, terminated=True)  # next episode starts at obs 100
    add(buffer, 3.0, 101)
    got = targets_by_first_obs(buffer)
    assert got == {0.0: (1.0, GAMMA, 1.0), 1.0: (2.0, 0.0, 100.0), 100.0: (3.0, GAMMA, 101.0)}


def test_three_step_targets_match_hand_computed_values():
    buffer = vector_buffer(n_steps=3)
    buffer.start_episodes(obs(0))
    # Episode A: rewards 1, 2, 3, 4 then terminated. Episode B: rewards 10, 20, truncated at obs 202
    # (final observation 202 is bootstrapped from), episode C: one reward 5 so far.
    for reward, next_value in ((1, 1), (2, 2), (3, 3)):
        add(buffer, reward, next_value)
    add(buffer, 4, 200, terminated=True)
    add(buffer, 10, 201)
    add(buffer, 20, 300, truncated=True, final_value=202)
    add(buffer, 5, 301)
    g = GAMMA
    assert targets_by_first_obs(buffer) == {
        0.0: (1 + g * 2 + g**2 * 3, g**3, 3.0),
        1.0: (2 + g * 3 + g**2 * 4, 0.0, 200.0),  # terminated inside the window: no bootstrap
        2.0: (3 + g * 4, 0.0, 200.0),
        3.0: (4, 0.0, 200.0),
        200.0: (10 + g * 20, g**2, 202.0),  # truncated: bootstrap from the final observation
        201.0: (20, g, 202.0),
        300.0: (5, g, 301.0),  # newest transition: the return stops at the data's end
    }


# -- prioritized replay ----------------------------------------------------------------------------


def test_prioritized_sampling_and_weights_match_hand_computed_values():
    buffer = vector_buffer(prioritized=True, alpha=0.5, eps=0.0)
    buffer.start_episodes(obs(0))
    for value in range(1, 5):
        add(buffer, 0.0, value)
    # Four transitions (rows 0-3) start at max priority 1; set |TD| = 1, 4, 9, 16 -> priority sqrt = 1, 2, 3, 4.
    buffer.update_priorities(np.arange(4), np.array([1.0, -4.0, 9.0, 16.0]))
    assert buffer.tree.priorities(np.arange(4)).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert buffer.max_priority == 4.0

    sample = buffer.sample(20_000, beta=0.5)
    frequencies = np.bincount(sample.indices, minlength=4) / 20_000
    np.testing.assert_allclose(frequencies, [0.1, 0.2, 0.3, 0.4], atol=0.01)
    # w_i = (N P(i))^-beta / max_j w_j: with priorities 1..4 and beta 0.5 that is sqrt(1 / p_i).
    expected = {0: 1.0, 1: 0.5**0.5, 2: (1 / 3) ** 0.5, 3: 0.5}
    for index, weight in zip(sample.indices.tolist(), sample.weights.tolist(), strict=True):
        assert weight == pytest.approx(expected[index], rel=1e-6)
    # New transitions enter at the largest priority seen.
    add(buffer, 0.0, 5)
    assert buffer.tree.priorities(np.array([4]))[0] == 4.0


def test_prioritized_weights_follow_beta():
    buffer = vector_buffer(prioritized=True, alpha=1.0, eps=0.0)
    buffer.start_episodes(obs(0))
    for value in range(1, 3):
        add(buffer, 0.0, value)
    buffer.update_priorities(np.arange(2), np.array([1.0, 4.0]))
    sample = buffer.sample(2000, beta=1.0)
    weights = dict(zip(sample.indices.tolist(), sample.weights.tolist(), strict=True))
    assert weights == {0: 1.0, 1: pytest.approx(0.25)}


def test_update_priorities_needs_a_prioritized_buffer():
    buffer = vector_buffer()
    with pytest.raises(RuntimeError, match=re.escape("update_priorities needs a prioritized buffer")):
        buffer.update_priorities(np.arange(1), np.ones(1))


# -- frame stacks: an oracle checks every sampled transition ----------------------------------------


def drive(buffer: ReplayBuffer, envs: list, n_env_steps: int, rng: np.random.Generator, n_steps: int):
    """Step ``envs`` in lockstep into ``buffer``; return {flat index: (obs, action, return, discount, next_obs)}."""
    observations = np.stack([env.reset()[0] for env in envs])
    buffer.start_episodes(observations)
    history: list[list[tuple]] = [[] for _ in envs]  # per env: (episode, obs, action, reward, term, next_obs)
    row_of: dict[int, tuple[int, int]] = {}
    for _ in range(n_env_steps):
        actions = rng.integers(3, size=len(envs))
        results = [env.step(int(a)) for env, a in zip(envs, actions, strict=True)]
        rewards = np.array([r[1] for r in results], np.float32)
        terminated = np.array([r[2] for r in results])
        truncated = np.array([r[3] for r in results])
        next_observations, finals = [], {}
        for index, (env, result) in enumerate(zip(envs, results, strict=True)):
            flat = int(buffer.heads[index]) * len(envs) + index
            row_of[flat] = (index, len(history[index]))
            history[index].append(
                (env.episode, observations[index], actions[index], rewards[index], terminated[index], result[0])
            )
            if terminated[index] or truncated[index]:
                finals[index] = result[0]
                next_observations.append(env.reset()[0])
            else:
                next_observations.append(result[0])
        next_observations = np.stack(next_observations)
        buffer.add(actions, rewards, terminated, truncated, next_observations, finals)
        observations = next_observations

    def oracle(flat: int):
        env_index, position = row_of[flat]
        transitions = history[env_index]
        episode, first_obs, action = transitions[position][:3]
        total, discount, next_obs = 0.0, 1.0, None
        for k in range(n_steps):
            if position + k >= len(transitions) or transitions[position + k][0] != episode:
                break
            _, _, _, reward, term, next_obs = transitions[position + k]
            total += GAMMA**k * reward
            discount = 0.0 if term else GAMMA ** (k + 1)
            if term:
                break
        return first_obs, action, total, discount, next_obs

    return oracle


@pytest.mark.parametrize("padding", ["reset", "zero", "history"])
@pytest.mark.parametrize("truncate", [False, True])
@pytest.mark.parametrize(("n_envs", "n_steps", "prioritized"), [(1, 1, False), (3, 3, False), (2, 3, True)])
def test_rebuilt_stacks_and_targets_match_the_env(frame_env_class, padding, truncate, n_envs, n_steps, prioritized):
    # Episode lengths vary (incl. episodes shorter than the stack) and the buffer wraps several times.
    envs = [
        frame_env_class(episode_length=(3 + i, 1, 9, 2), truncate=truncate, padding=padding, env_id=i)
        for i in range(n_envs)
    ]
    buffer = ReplayBuffer(
        40 * n_envs,
        envs[0].observation_space,
        n_actions=3,
        n_envs=n_envs,
        frame_stack=4,
        n_steps=n_steps,
        gamma=GAMMA,
        prioritized=prioritized,
        seed=1,
    )
    oracle = drive(buffer, envs, n_env_steps=150, rng=np.random.default_rng(0), n_steps=n_steps)
    sample = buffer.sample(256, beta=0.4)
    assert len(set(sample.indices.tolist())) >= 0.8 * len(buffer)  # the check covers most stored transitions
    for i, flat in enumerate(sample.indices.tolist()):
        first_obs, action, total, discount, next_obs = oracle(flat)
        np.testing.assert_array_equal(sample.observations[i].numpy(), first_obs)
        assert sample.actions[i, 0] == action
        assert sample.returns[i].item() == pytest.approx(total)
        assert sample.discounts[i].item() == pytest.approx(discount)
        if discount > 0:  # a terminated transition's next observation is never used
            np.testing.assert_array_equal(sample.next_observations[i].numpy(), next_obs)


def test_vector_observations_match_the_env_with_several_envs(frame_env_class):
    # frame_stack=1 stores whole observations; the same oracle applies.
    envs = [frame_env_class(episode_length=(4, 2), truncate=bool(i), env_id=i) for i in range(2)]
    buffer = ReplayBuffer(60, envs[0].observation_space, n_actions=3, n_envs=2, n_steps=2, gamma=GAMMA, seed=2)
    oracle = drive(buffer, envs, n_env_steps=100, rng=np.random.default_rng(1), n_steps=2)
    sample = buffer.sample(128)
    for i, flat in enumerate(sample.indices.tolist()):
        first_obs, _, total, discount, next_obs = oracle(flat)
        np.testing.assert_array_equal(sample.observations[i].numpy(), first_obs)
        assert sample.returns[i].item() == pytest.approx(total)
        if discount > 0:
            np.testing.assert_array_equal(sample.next_observations[i].numpy(), next_obs)


def test_frame_storage_fits_in_7200_bytes_per_transition():
    space = spaces.Box(0, 255, (4, 84, 84), np.uint8)
    for prioritized in (False, True):
        buffer = ReplayBuffer(100_000, space, n_actions=7, n_envs=4, frame_stack=4, prioritized=prioritized)
        assert buffer.nbytes / buffer.capacity <= 7200


def test_frame_stack_replay_rejects_observations_that_are_not_stacks(frame_env_class):
    env = frame_env_class()
    buffer = ReplayBuffer(50, env.observation_space, n_actions=3, frame_stack=4)
    first, _ = env.reset()
    buffer.start_episodes(first[None])
    unrelated = np.full((1, 4, 84, 84), 7, dtype=np.uint8)
    with pytest.raises(ValueError, match=re.escape("Set frame_stack_replay=False")):
        buffer.add(np.array([0]), np.zeros(1), np.array([False]), np.array([False]), unrelated, {})
    with pytest.raises(ValueError, match=re.escape("frame_stack_replay needs observations of shape (3, ...)")):
        ReplayBuffer(50, env.observation_space, n_actions=3, frame_stack=3)


def test_buffer_too_small_for_the_window_is_refused():
    space = spaces.Box(0, 255, (4, 84, 84), np.uint8)
    with pytest.raises(ValueError, match=re.escape("Use buffer_size >= 16.")):
        ReplayBuffer(10, space, n_actions=3, n_envs=2, frame_stack=4, n_steps=3)


def test_sampling_an_empty_buffer_says_what_to_do():
    buffer = vector_buffer()
    with pytest.raises(RuntimeError, match="holds no complete transition yet"):
        buffer.sample(4)
    with pytest.raises(RuntimeError, match=re.escape("Call start_episodes(first_observations) before add().")):
        add(buffer, 0.0, 1)


def test_a_buffer_that_cannot_fit_in_memory_is_named_when_built_and_refused_by_learn(monkeypatch, frame_env_class):
    from mario_zoo.agents import DQN, replay_memory

    monkeypatch.setattr(replay_memory, "_physical_memory", lambda: 2**30)  # a 1 GiB machine, whatever this one has
    env = frame_env_class()  # (4, 84, 84) uint8 frames: 28 KB an observation
    message = (
        r"buffer_size=1,000,000 observations of shape \(4, 84, 84\) uint8 needs 26\.3 GiB, more than this machine's "
        r"1\.0 GiB of memory\. Lower buffer_size \(buffer_size=10,000 needs 0\.3 GiB\)\."
    )
    with pytest.warns(UserWarning, match=message):
        model = DQN("CnnPolicy", env, learning_starts=10, device="cpu")  # built to play: fine
    # 100,000 steps would store 2.6 GiB of it: refused before anything is allocated. (frame_stack_replay's 6.6 GiB
    # would not fit either, so it is not offered.)
    with pytest.raises(ValueError, match=message + r" This run stores 100,000 of them, which cannot fit either\."):
        model.learn(100_000)
    with pytest.warns(UserWarning, match=r"needs 6\.6 GiB"):
        DQN("CnnPolicy", env, frame_stack_replay=True, device="cpu")
    model = DQN("CnnPolicy", env, buffer_size=10_000, learning_starts=10, device="cpu").learn(20)
    assert model.replay_buffer.frames.nbytes <= 2**30


def test_the_memory_message_offers_what_fits():
    from mario_zoo.agents.replay_memory import check_replay_memory

    mario = spaces.Box(0, 255, (4, 84, 84), np.uint8)
    roomy = check_replay_memory(1_000_000, mario, memory=16 * 2**30)
    assert "buffer_size=300,000 needs 7.9 GiB" in roomy and "frame_stack_replay=True" in roomy
    assert "frame_stack_replay" not in check_replay_memory(1_000_000, mario, memory=2**30)
