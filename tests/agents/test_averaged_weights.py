"""ema_decay: a moving average of the online weights that evaluations, best_model/ and a run's agent use."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mario_zoo.agents import DQN, DQNConfig

FAST = {"learning_starts": 50, "batch_size": 16, "buffer_size": 1000, "train_freq": 1, "device": "cpu", "seed": 0}


def _flat(params) -> torch.Tensor:
    return torch.cat([param.detach().flatten() for param in params])


def test_the_average_follows_the_online_weights_by_one_minus_the_decay_per_update():
    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.9, **FAST)
    start = _flat(model.q_net.parameters()).clone()
    assert torch.equal(_flat(model._average.tensors), start)
    model.learn(60)
    online = _flat(model.q_net.parameters())
    averaged = _flat(model._average.tensors)
    assert model._n_updates > 0
    # Between the start and the online weights, not on either.
    assert not torch.equal(averaged, online) and not torch.equal(averaged, start)
    # One more update moves the average by exactly (1 - decay) of the way to the new online weights.
    before = averaged.clone()
    model.train(1)
    after_online = _flat(model.q_net.parameters())
    torch.testing.assert_close(_flat(model._average.tensors), before + 0.1 * (after_online - before))


def test_averaged_weights_swaps_them_in_for_the_block_and_restores_the_online_ones():
    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.5, **FAST)
    model.learn(80)
    online = _flat(model.q_net.parameters()).clone()
    observations = np.stack([model.observation_space.sample() for _ in range(32)])
    with model.averaged_weights():
        torch.testing.assert_close(_flat(model.q_net.parameters()), _flat(model._average.tensors))
        inside = model.q_net(torch.as_tensor(observations)).detach()
    assert torch.equal(_flat(model.q_net.parameters()), online)
    assert not torch.allclose(inside, model.q_net(torch.as_tensor(observations)).detach())


def test_averaged_weights_restores_the_online_ones_when_the_block_raises():
    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.5, **FAST)
    model.learn(80)
    online = _flat(model.q_net.parameters()).clone()
    with pytest.raises(RuntimeError, match="boom"), model.averaged_weights():
        raise RuntimeError("boom")
    assert torch.equal(_flat(model.q_net.parameters()), online)


def test_without_ema_decay_there_is_no_average_and_the_block_changes_nothing():
    model = DQN("MlpPolicy", "CartPole-v1", **FAST)
    model.learn(60)
    online = _flat(model.q_net.parameters()).clone()
    with model.averaged_weights():
        assert torch.equal(_flat(model.q_net.parameters()), online)
    assert model._average is None


def test_a_checkpoint_with_its_optimizer_keeps_the_average_for_resuming(tmp_path):
    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.9, **FAST)
    model.learn(80)
    model.save(tmp_path / "ckpt")
    loaded = DQN.load(tmp_path / "ckpt", device="cpu")
    assert torch.equal(_flat(loaded._average.tensors), _flat(model._average.tensors))
    assert torch.equal(_flat(loaded.q_net.parameters()), _flat(model.q_net.parameters()))
    # Without the optimizer (an agent to play), the average starts again at the stored weights.
    model.save(tmp_path / "agent", include_optimizer=False)
    agent = DQN.load(tmp_path / "agent", device="cpu")
    assert torch.equal(_flat(agent._average.tensors), _flat(model.q_net.parameters()))


def test_set_parameters_restarts_the_average_at_the_new_weights():
    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.9, **FAST)
    other = DQN("MlpPolicy", "CartPole-v1", **{**FAST, "seed": 1})
    model.set_parameters({"policy": other.policy.state_dict()}, exact_match=False)
    assert torch.equal(_flat(model._average.tensors), _flat(other.q_net.parameters()))


def test_a_damaged_average_in_a_checkpoint_is_refused():
    from mario_zoo import CheckpointError
    from mario_zoo.agents.optimizer_state import load_optimizer_tensors, optimizer_to_tensors

    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.9, **FAST)
    model.learn(60)
    optimizer = model.optimizer
    flat = optimizer_to_tensors(optimizer, model._average.tensors)
    flat["ema.0"] = torch.zeros(3)
    with pytest.raises(CheckpointError, match=r"ema\.0"):
        load_optimizer_tensors(optimizer, flat, "x")
    flat = optimizer_to_tensors(optimizer, model._average.tensors[:-1])
    with pytest.raises(CheckpointError, match="averaged weights cover"):
        load_optimizer_tensors(optimizer, flat, "x")


@pytest.mark.parametrize("value", [0.0, 1.0, -0.5, 1.5])
def test_an_ema_decay_outside_zero_to_one_is_refused(value):
    with pytest.raises(ValueError, match="ema_decay"):
        DQNConfig(ema_decay=value)


def test_periodic_evaluation_judges_and_saves_the_averaged_weights(tmp_path, monkeypatch):
    import mario_zoo.callbacks as callbacks
    from mario_zoo.callbacks import PeriodicEvaluation

    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.5, **FAST)
    seen: list[torch.Tensor] = []
    real = callbacks.evaluate

    def spy(agent, *args, **kwargs):
        seen.append(_flat(agent.q_net.parameters()).clone())
        assert torch.equal(seen[-1], _flat(agent._average.tensors))
        return real(agent, *args, **kwargs)

    monkeypatch.setattr(callbacks, "evaluate", spy)
    evaluation = PeriodicEvaluation("CartPole-v1", {}, eval_freq=100, n_episodes=1, best_model_path=tmp_path / "best")
    model.learn(100, callback=evaluation)
    assert len(seen) == 1
    best = DQN.load(tmp_path / "best", device="cpu")
    assert torch.equal(_flat(best.q_net.parameters()), seen[0])
    assert not torch.equal(_flat(model.q_net.parameters()), seen[0])


def test_an_average_of_other_shapes_is_refused_by_the_model():
    from mario_zoo import CheckpointError

    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.9, **FAST)
    wrong = [torch.zeros(1) for _ in model._average.tensors]
    with pytest.raises(CheckpointError, match="averaged weights do not fit"):
        model._restore_average(wrong, "ckpt")


def test_saving_the_training_state_inside_the_block_is_refused(tmp_path):
    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.5, **FAST)
    model.learn(80)
    with model.averaged_weights():
        with pytest.raises(ValueError, match="include_optimizer=False"):
            model.save(tmp_path / "state")
        model.save(tmp_path / "agent", include_optimizer=False)
    assert not (tmp_path / "state").exists()
    assert torch.equal(_flat(DQN.load(tmp_path / "agent").q_net.parameters()), _flat(model._average.tensors))


def test_an_agent_loaded_from_a_runs_checkpoint_plays_the_averaged_weights(tmp_path):
    from mario_zoo.sources import load_agent, parse_source

    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.5, **FAST)
    model.learn(80)
    model.save(tmp_path / "checkpoint")
    agent = load_agent(parse_source(str(tmp_path / "checkpoint")), "cpu")
    assert torch.equal(_flat(agent.model.q_net.parameters()), _flat(model._average.tensors))
    assert not torch.equal(_flat(agent.model.q_net.parameters()), _flat(model.q_net.parameters()))
