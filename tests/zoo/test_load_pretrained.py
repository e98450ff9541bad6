"""load_pretrained: the bundled copy loads offline and plays perfectly; tampered or missing files are refused."""

from __future__ import annotations

import json
import re

import pytest
import torch

import mario_zoo
from mario_zoo.evaluation import evaluate
from mario_zoo.hub import ChecksumMismatchError
from mario_zoo.zoo import load_pretrained, read_registry

from .conftest import CARTPOLE


def test_the_cartpole_agent_loads_from_the_package_and_balances_to_the_limit():
    model = mario_zoo.load_pretrained(CARTPOLE, device="cpu")
    evaluation = evaluate(model, "CartPole-v1", n_episodes=3)
    assert evaluation.episode_rewards == [500.0, 500.0, 500.0]


def test_an_unknown_name_is_a_value_error_listing_the_names():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Unknown zoo agent 'dqn-CartPole-v0' (did you mean 'dqn-CartPole-v1'?); valid names: dqn-CartPole-v1"
        ),
    ):
        load_pretrained("dqn-CartPole-v0")


@pytest.mark.parametrize("file", ["model.safetensors", "config.json"])
def test_a_tampered_bundled_file_is_refused(registry_copy, file):
    path = read_registry(registry_copy).bundled_dir(CARTPOLE) / file
    data = bytearray(path.read_bytes())
    data[-2] ^= 1  # one bit: still a well-formed file, but not the published one
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatchError, match=f"Refusing to load the bundled copy of '{CARTPOLE}': .*{file}"):
        load_pretrained(CARTPOLE, registry=registry_copy)


def test_the_bundled_copy_loads_as_shipped(registry_copy):
    shipped = load_pretrained(CARTPOLE, device="cpu", registry=registry_copy)
    original = load_pretrained(CARTPOLE, device="cpu")
    assert all(
        torch.equal(a, b) for a, b in zip(shipped.policy.parameters(), original.policy.parameters(), strict=True)
    )


def test_without_a_bundled_copy_or_a_hub_revision_there_is_nothing_to_load(registry_copy):
    (read_registry(registry_copy).bundled_dir(CARTPOLE) / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"no bundled copy .* and is not published on the Hub yet"):
        load_pretrained(CARTPOLE, registry=registry_copy)


def test_a_registry_without_the_name_lists_its_own_names(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"format_version": 1, "agents": {}}))
    with pytest.raises(ValueError, match=re.escape("valid names: none (the registry is empty)")):
        load_pretrained(CARTPOLE, registry=path)
