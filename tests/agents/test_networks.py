"""Networks: shapes, in-network pixel scaling, the dueling identity, spec validation."""

from __future__ import annotations

import re

import pytest
import torch

from mario_zoo.agents.networks import DuelingHead, NatureCNN, NetworkSpec, QNetwork


def test_mlp_and_cnn_output_one_value_per_action():
    mlp = QNetwork(NetworkSpec(kind="mlp", observation_shape=(4,), n_actions=2, net_arch=(8,)))
    assert mlp(torch.zeros(3, 4, dtype=torch.float64)).shape == (3, 2)
    cnn = QNetwork(NetworkSpec(kind="cnn", observation_shape=(4, 84, 84), n_actions=7, net_arch=(16,), dueling=True))
    assert cnn(torch.zeros(2, 4, 84, 84, dtype=torch.uint8)).shape == (2, 7)


def test_cnn_scales_uint8_pixels_inside_the_network():
    torch.manual_seed(0)
    encoder = NatureCNN((4, 84, 84), features_dim=16)
    pixels = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    torch.testing.assert_close(encoder(pixels), encoder.linear(encoder.convs(pixels.float() / 255)))


def test_dueling_head_separates_value_and_mean_zero_advantage():
    head = DuelingHead(5, n_actions=4)
    features = torch.randn(3, 5)
    q = head(features)
    torch.testing.assert_close(q.mean(dim=1, keepdim=True), head.value(features))
    advantage = head.advantage(features)
    torch.testing.assert_close(q - q.mean(dim=1, keepdim=True), advantage - advantage.mean(dim=1, keepdim=True))


def test_spec_round_trips_and_validates():
    spec = NetworkSpec(kind="cnn", observation_shape=(4, 84, 84), n_actions=7, net_arch=(), dueling=True)
    assert NetworkSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match=re.escape("net_arch must be a list of positive layer widths")):
        NetworkSpec(kind="mlp", observation_shape=(4,), n_actions=2, net_arch=(0,))
    with pytest.raises(ValueError, match=re.escape("activation must be one of")):
        NetworkSpec(kind="mlp", observation_shape=(4,), n_actions=2, activation="sigmoid")
    with pytest.raises(ValueError, match=re.escape("got observation shape (4, 20, 20)")):
        NetworkSpec(kind="cnn", observation_shape=(4, 20, 20), n_actions=2)
