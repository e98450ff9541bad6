"""registry.json: it parses, every bundled copy matches its digests, and malformed entries are refused by name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mario_zoo.hub._files import sha256_of
from mario_zoo.zoo.registry import AGENT_FILES, REGISTRY_FILE, read_registry

from .conftest import CARTPOLE

REGISTRY = read_registry()


def test_the_registry_parses_and_holds_the_cartpole_agent():
    entry = REGISTRY.get(CARTPOLE)
    assert (entry.repo_id, entry.env_id, entry.bundled) == ("mario-zoo/dqn-CartPole-v1", "CartPole-v1", True)
    assert (entry.results.mean_reward, entry.results.std_reward, entry.results.n_eval_episodes) == (500.0, 0.0, 100)
    assert entry.results.deterministic and entry.training.preset == "cartpole-fast"
    assert entry.training.command.startswith("mario-zoo train --preset cartpole-fast --seed 0")


def test_agent_files_are_the_checkpoint_files():
    from mario_zoo.agents import checkpoint

    assert AGENT_FILES == (checkpoint.CONFIG_FILE, checkpoint.MODEL_FILE)


@pytest.mark.parametrize("name", REGISTRY.names)
def test_every_bundled_copy_matches_its_digests_and_its_card_exists(name):
    entry = REGISTRY.get(name)
    if entry.bundled:
        folder = REGISTRY.bundled_dir(name)
        assert sorted(path.name for path in folder.iterdir()) == sorted(AGENT_FILES)
        assert {file: sha256_of(folder / file) for file in AGENT_FILES} == entry.files
    else:
        assert entry.revision is not None, f"{name} is neither bundled nor published: nothing could load it"
    assert (REGISTRY_FILE.parents[2] / entry.card).is_file()


def test_a_written_registry_reads_back_the_same(tmp_path):
    copy = REGISTRY.with_entry(REGISTRY.get(CARTPOLE))
    written = type(copy)(tmp_path / "registry.json", copy.entries).write()
    assert read_registry(written).entries == REGISTRY.entries


def test_an_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=re.escape("Unknown zoo agent 'dqn-Pong-v5'; valid names: dqn-CartPole-v1")):
        REGISTRY.get("dqn-Pong-v5")


def _registry_with(tmp_path, **changes):
    data = json.loads(REGISTRY_FILE.read_text())
    data["agents"][CARTPOLE] |= changes
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"revision": "main"}, "revision must be a 40-hex-digit commit sha (a branch or tag can move)"),
        ({"files": {"config.json": "0" * 64}}, "files must map exactly config.json, model.safetensors"),
        ({"dtype": "int8"}, "dtype must be one of float32, float16, got 'int8'"),
        ({"repo_id": "no-namespace"}, "the Hub repo id must be namespace/name"),
        ({"bundle": True}, "unknown keys ['bundle']"),
    ],
)
def test_malformed_entries_are_refused_naming_the_field(tmp_path, changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        read_registry(_registry_with(tmp_path, **changes))


def test_a_newer_registry_format_asks_for_an_upgrade(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"format_version": 99, "agents": {}}))
    with pytest.raises(
        ValueError, match=re.escape("format_version 99; this mario-zoo reads versions 1-3. Upgrade mario-zoo")
    ):
        read_registry(path)


def test_a_version_1_registry_migrates_to_the_current_format():
    """registry_v1.json is the registry as mario-zoo 0.1 shipped it: `protocol` held the sentence, no
    `protocol_description` or `mean_ep_length`. It reads with the protocol's name inferred from the sentence, the
    sentence kept as the description and no episode length; an agent still shipped with the same files and results
    reads as the bundled entry (the zoo moves on, so which agents those are is not fixed here)."""
    old = Path(__file__).with_name("registry_v1.json")
    raw = json.loads(old.read_text())
    assert raw["format_version"] == 1
    migrated = read_registry(old)
    assert sorted(migrated.names) == sorted(raw["agents"])
    for name, stored in raw["agents"].items():
        entry = migrated.get(name)
        pairs = [(stored["results"], entry.results)]
        pairs += [(stored["other_results"][key], entry.other_results[key]) for key in stored["other_results"]]
        for old_results, results in pairs:
            sentence = old_results["protocol"]
            named = sentence.split(" protocol:")[0]
            assert results.protocol == (named if named in ("noop-sweep", "nature") else "episodes"), sentence
            assert (results.protocol_description, results.mean_ep_length) == (sentence, None)
            assert (results.mean_reward, results.flag_rate) == (
                old_results["mean_reward"],
                old_results.get("flag_rate"),
            )
    assert migrated.get("dqn-MarioDQN-1-1-v0").other_results["nature"].protocol == "nature"
    assert migrated.get(CARTPOLE).results.protocol == "episodes"  # published before protocols had names
    for name in set(migrated.names) & set(REGISTRY.names):
        old_entry, entry = migrated.get(name), REGISTRY.get(name)
        if (old_entry.files, old_entry.results.date) == (entry.files, entry.results.date):
            assert old_entry == entry, name


def test_the_bundled_registry_names_its_protocols():
    results = REGISTRY.get("dqn-MarioDQN-1-1-v0").results
    assert (results.protocol, results.protocol_description[:34]) == ("noop-sweep", "noop-sweep protocol: 31 episodes o")
    assert REGISTRY.get("dqn-MarioDQN-1-1-v0").other_results["nature"].protocol == "nature"
    assert REGISTRY.get(CARTPOLE).results.protocol == "episodes"


@pytest.mark.parametrize("name", REGISTRY.names)
def test_the_registry_and_the_model_card_publish_the_same_numbers_under_the_same_names(name):
    from huggingface_hub import ModelCard

    entry = REGISTRY.get(name)
    card = ModelCard.load(REGISTRY_FILE.parents[2] / entry.card)
    metrics = [(metric.metric_type, metric.metric_name, metric.metric_value) for metric in card.data.eval_results]
    assert metrics[0] == ("mean_reward", "mean_reward", entry.results.mean_reward_text)
    flags = [
        ("flag_rate", f"flag rate ({results.protocol} protocol)", round(results.flag_rate, 4))
        for results in (entry.results, *entry.other_results.values())
        if results.flag_rate is not None
    ]
    assert metrics[1:] == flags


def test_best_for_matches_mario_levels_across_their_ids():
    assert REGISTRY.best_for("CartPole-v1").name == CARTPOLE
    assert REGISTRY.best_for("Acrobot-v1") is None


@pytest.mark.parametrize("name", REGISTRY.names)
def test_every_card_has_the_license_links_only_repo_files_and_the_registrys_provenance(name):
    from huggingface_hub import ModelCard

    from mario_zoo.publishing import command_settings

    entry = REGISTRY.get(name)
    card = ModelCard.load(REGISTRY_FILE.parents[2] / entry.card)
    assert card.data.license == "mit"
    links = re.findall(r"\]\(([^)]+)\)", card.text)
    assert all(link.startswith("https://") or "/" not in link for link in links), links
    preset, seed = command_settings(entry.training.command, entry.env_id)
    assert (entry.training.preset, entry.training.seed) == (preset, seed)
    assert f"| preset | `{preset}` |\n| seed | {seed} |" in card.text
    # The reproduce block ends with the agent's own command (after the commands of its warm starts, if any).
    block = card.text.split("```bash\n")[-1].split("```")[0]
    assert f"{entry.training.command}\nmario-zoo zoo publish" in block


def test_a_zoo_name_with_the_wrong_case_or_a_missing_suffix_is_named():
    from mario_zoo.sources import parse_source

    with pytest.raises(
        ValueError, match=re.escape("Unknown zoo agent 'dqn-cartpole-v1' (did you mean 'dqn-CartPole-v1'?)")
    ):
        read_registry().get("dqn-cartpole-v1")
    with pytest.raises(ValueError, match=re.escape("Did you mean the zoo agent 'dqn-MarioDQN-1-1-v0'?")):
        parse_source("dqn-MarioDQN-1-1")
