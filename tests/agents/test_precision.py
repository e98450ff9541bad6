"""The ``precision`` hyperparameter: bf16 autocast updates on fp32 master weights, fp32 checkpoints, "auto"."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from mario_zoo.agents import DQN, DQNConfig, precision
from mario_zoo.agents.precision import bf16_supported, resolve_precision
from tests.agents.image_env import CueEnv

CPU = torch.device("cpu")
SMALL_CNN = {"features_extractor_kwargs": {"features_dim": 64}}


def _cue_model(precision_name: str, seed: int = 0, **hyperparameters) -> DQN:
    settings = {
        "learning_rate": 1e-3,
        "buffer_size": 5_000,
        "learning_starts": 200,
        "batch_size": 32,
        "gamma": 0.5,
        "train_freq": 1,
        "target_update_interval": 200,
        "exploration_fraction": 0.4,
        "exploration_final_eps": 0.02,
        **hyperparameters,
    }
    return DQN(
        "CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, seed=seed, device="cpu", precision=precision_name, **settings
    )


def _greedy_return(model: DQN, episodes: int = 20) -> float:
    env, total = CueEnv(), 0.0
    observation, _ = env.reset(seed=1234)
    for _ in range(episodes):
        done = False
        while not done:
            action, _ = model.predict(observation, deterministic=True)
            observation, reward, terminated, truncated, _ = env.step(int(action))
            total += reward
            done = terminated or truncated
        observation, _ = env.reset()
    return total / episodes


def test_precision_is_validated_like_every_field():
    with pytest.raises(ValueError, match=re.escape("precision must be one of ('fp32', 'bf16', 'auto'), got 'fp16'.")):
        DQNConfig(precision="fp16")
    assert DQNConfig().precision == "fp32"
    assert DQNConfig.from_dict(DQNConfig(precision="auto").to_dict()).precision == "auto"


@pytest.mark.parametrize("native", [True, False])
def test_auto_resolves_to_bf16_only_where_the_cpu_has_it(monkeypatch, native):
    monkeypatch.setattr(precision, "cpu_bf16_supported", lambda: native)
    assert resolve_precision("auto", CPU) == ("bf16" if native else "fp32")
    assert resolve_precision("bf16", CPU) == "bf16" and resolve_precision("fp32", CPU) == "fp32"
    assert _cue_model("auto").update_precision == ("bf16" if native else "fp32")


def test_auto_on_cuda_asks_torch_and_on_other_devices_is_fp32(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert resolve_precision("auto", torch.device("cuda")) == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert resolve_precision("auto", torch.device("cuda")) == "fp32"
    assert not bf16_supported(torch.device("mps"))


def test_cpu_check_falls_back_to_cpuinfo_flags(monkeypatch, tmp_path):
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported", raising=False)
    cpuinfo = tmp_path / "cpuinfo"
    monkeypatch.setattr(precision, "_cpuinfo_flags", lambda: precision.read_cpuinfo_flags(cpuinfo))
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert not precision.cpu_bf16_supported()
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16\n")
    assert precision.cpu_bf16_supported()
    cpuinfo.unlink()
    assert not precision.cpu_bf16_supported()


def test_bf16_updates_keep_fp32_master_weights_optimizer_state_and_checkpoints(tmp_path):
    model = _cue_model("bf16", learning_starts=64)
    seen: list[tuple[torch.dtype, bool]] = []
    first_conv = model.q_net.layers[0].convs[0]
    hook = first_conv.register_forward_hook(
        lambda module, inputs, output: seen.append(
            (output.dtype, inputs[0].is_contiguous(memory_format=torch.channels_last))
        )
    )
    model.learn(128)
    hook.remove()
    # The update's convolutions ran in bf16 on channels-last batches; acting stayed fp32 on NCHW observations.
    assert (torch.bfloat16, True) in seen and (torch.float32, False) in seen
    assert all(channels_last for dtype, channels_last in seen if dtype == torch.bfloat16)
    assert model._n_updates > 0
    for parameter in model.policy.parameters():
        assert parameter.dtype == torch.float32 and parameter.is_contiguous()
    state = model.optimizer.state_dict()["state"]
    assert state and all(value.dtype == torch.float32 for entry in state.values() for value in entry.values())

    model.save(tmp_path / "checkpoint")
    for name in ("model.safetensors", "optimizer.safetensors"):
        tensors = load_file(tmp_path / "checkpoint" / name)
        assert tensors and {tensor.dtype for tensor in tensors.values()} == {torch.float32}
    assert DQN.load(tmp_path / "checkpoint").config.precision == "bf16"


def test_bf16_and_fp32_learn_the_cue_env_to_the_same_return_band():
    returns = {}
    for name in ("fp32", "bf16"):
        model = _cue_model(name, train_freq=2).learn(1_200)
        returns[name] = _greedy_return(model)
    # A random policy scores 5 of 10.
    assert returns["fp32"] >= 9.0 and returns["bf16"] >= 9.0, returns
    assert abs(returns["fp32"] - returns["bf16"]) <= 1.0, returns
    assert np.isfinite(list(returns.values())).all()
