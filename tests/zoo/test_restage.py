"""What a zoo agent ships: the online network alone (loading starts the target as its copy), and ``restage``, which
rewrites an agent bundled before in that layout without changing what it plays."""

from __future__ import annotations

import dataclasses
import re

import gymnasium as gym
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from mario_zoo.agents import DQN
from mario_zoo.agents import checkpoint as ckpt
from mario_zoo.hub._files import sha256_of
from mario_zoo.publishing import publish
from mario_zoo.restaging import note_restaged, restage
from mario_zoo.zoo import load_pretrained, read_registry
from mario_zoo.zoo.registry import AGENT_FILES, Registry

CARTPOLE = "dqn-CartPole-v1"


@pytest.fixture
def zoo_with_a_full_agent(tmp_path):
    """A registry whose one agent, ``full``, is bundled the way agents were before: online and target networks."""
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, batch_size=16, buffer_size=500, seed=0, device="cpu")
    model.learn(300)
    registry = Registry(tmp_path / "zoo" / "registry.json")
    model.save(registry.bundled_dir("full"), include_optimizer=False)
    files = {file: sha256_of(registry.bundled_dir("full") / file) for file in AGENT_FILES}
    entry = dataclasses.replace(read_registry().get(CARTPOLE), name="full", files=files, dtype="float32")
    registry.with_entry(entry).write()
    return registry.path, model


def _names(folder):
    return set(load_file(folder / ckpt.MODEL_FILE))


def test_publishing_ships_the_online_network_alone(tmp_path):
    published = publish(
        read_registry().bundled_dir(CARTPOLE), "cartpole", episodes=1, replay=False, command="mario-zoo train",
        registry=tmp_path / "zoo" / "registry.json", cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    names = _names(published.bundled)
    assert names and all(name.startswith("q_net.") for name in names)
    model = load_pretrained("cartpole", registry=published.registry)
    for name, tensor in model.q_net.state_dict().items():
        assert torch.equal(model.q_net_target.state_dict()[name], tensor)


def test_restaging_drops_the_target_network_and_keeps_what_the_agent_plays(zoo_with_a_full_agent):
    path, model = zoo_with_a_full_agent
    folder = read_registry(path).bundled_dir("full")
    before = (folder / ckpt.MODEL_FILE).stat().st_size
    assert any(name.startswith(ckpt.TARGET_PREFIX) for name in _names(folder))
    entry = restage("full", registry=path)
    assert not any(name.startswith(ckpt.TARGET_PREFIX) for name in _names(folder))
    assert (folder / ckpt.MODEL_FILE).stat().st_size < 0.6 * before
    assert entry.files == {file: sha256_of(folder / file) for file in AGENT_FILES}
    assert read_registry(path).get("full") == entry
    loaded = load_pretrained("full", registry=path)  # checks the new digests
    observations = np.random.default_rng(1).normal(size=(128, 4)).astype(np.float32)
    greedy = [agent.predict(observations, deterministic=True)[0] for agent in (loaded, model)]
    np.testing.assert_array_equal(*greedy)
    assert restage("full", registry=path) == entry, "an agent in the current layout is left as it is"
    loaded.set_env(gym.make("CartPole-v1"))
    loaded.learn(100)


def test_restaging_refuses_an_agent_pinned_on_the_hub_or_changed_on_disk(zoo_with_a_full_agent):
    path, _ = zoo_with_a_full_agent
    registry = read_registry(path)
    folder = registry.bundled_dir("full")
    pinned = dataclasses.replace(registry.get("full"), revision="b" * 40)
    registry.with_entry(pinned).write()
    with pytest.raises(ValueError, match=re.escape("only a bundled agent not on the Hub yet can be")):
        restage("full", registry=path)
    registry.write()
    (folder / ckpt.CONFIG_FILE).write_text((folder / ckpt.CONFIG_FILE).read_text() + " ")
    with pytest.raises(ValueError, match="sha256"):
        restage("full", registry=path)
    assert any(name.startswith(ckpt.TARGET_PREFIX) for name in _names(folder)), "nothing was rewritten"
    assert read_registry(path).get("full").files == registry.get("full").files


def _with_heir(path):
    """Add ``heir``, warm-started from ``full``, with a card in ``path``'s folder; returns the cards folder."""
    registry = read_registry(path)
    full = registry.get("full")
    training = dataclasses.replace(full.training, command="mario-zoo train --init-from full --seed 1", warm_starts=())
    registry.with_entry(dataclasses.replace(full, name="heir", training=training, card="cards/heir.md")).write()
    cards = path.parent / "cards"
    cards.mkdir()
    (cards / "heir.md").write_text("# heir\n\n```bash\nmario-zoo train --init-from full --seed 1\n```\n")
    return cards


def test_restaging_an_agent_others_were_trained_from_notes_it_on_their_cards(zoo_with_a_full_agent):
    path, _ = zoo_with_a_full_agent
    cards = _with_heir(path)
    digests = read_registry(path).get("full").files
    with pytest.raises(ValueError, match=re.escape("The zoo agents heir were warm-started from 'full'")):
        restage("full", registry=path)
    assert read_registry(path).get("full").files == digests, "nothing was rewritten"
    restage("full", registry=path, cards_dir=cards)
    card = (cards / "heir.md").read_text()
    assert card.startswith("# heir\n\n```bash\nmario-zoo train --init-from full --seed 1\n```\n\nNote: zoo agents")
    assert card.endswith("began from their stored target networks:\n- `full`\n")
    note_restaged(cards / "heir.md", "full")
    note_restaged(cards / "heir.md", "other")
    assert (cards / "heir.md").read_text() == card + "- `other`\n", "one note, each agent listed once"


def test_a_failed_registry_write_leaves_the_bundled_copy_as_the_registry_names_it(zoo_with_a_full_agent, monkeypatch):
    path, _ = zoo_with_a_full_agent
    folder = read_registry(path).bundled_dir("full")
    before = {file: (folder / file).read_bytes() for file in AGENT_FILES}

    def fail(self):
        raise OSError("disk full")

    monkeypatch.setattr(Registry, "write", fail)
    with pytest.raises(OSError, match="disk full"):
        restage("full", registry=path)
    assert {file: (folder / file).read_bytes() for file in AGENT_FILES} == before
    load_pretrained("full", registry=path)  # its digests still match


def test_a_training_checkpoint_without_its_target_network_is_refused(tmp_path):
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, batch_size=16, buffer_size=500, seed=0, device="cpu")
    model.learn(100)
    model.save(tmp_path / "model")  # with the optimizer: a checkpoint to resume from
    weights = load_file(tmp_path / "model" / ckpt.MODEL_FILE)
    ckpt.write_checkpoint(
        tmp_path / "edited", ckpt.read_config(tmp_path / "model"), ckpt.online_only(weights),
        ckpt.read_checkpoint(tmp_path / "model").optimizer,
    )  # fmt: skip
    with pytest.raises(ckpt.CheckpointError, match=re.escape("lacks the target network, which a checkpoint to resume")):
        DQN.load(tmp_path / "edited")
