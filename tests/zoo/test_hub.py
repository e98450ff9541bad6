"""Zoo agents without a bundled copy load from the (loopback) Hub at the pinned commit and digests; `zoo publish
--push` uploads exactly the files it registers."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import torch
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download

from mario_zoo.hub import ChecksumMismatchError, NotCachedError
from mario_zoo.publishing import publish
from mario_zoo.zoo import load_pretrained, read_registry
from mario_zoo.zoo.registry import AGENT_FILES, Registry

from .conftest import CARTPOLE

PACKAGE = read_registry()


def _same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.policy.parameters(), b.policy.parameters(), strict=True))


def _hub_only_registry(tmp_path, repo_id: str, revision: str, files: dict[str, str] | None = None):
    entry = dataclasses.replace(
        PACKAGE.get(CARTPOLE),
        repo_id=repo_id,
        revision=revision,
        bundled=False,
        files=files or PACKAGE.get(CARTPOLE).files,
    )
    return Registry(tmp_path / "zoo" / "registry.json", {CARTPOLE: entry}).write()


@pytest.fixture
def uploaded(hub) -> str:
    """The bundled CartPole files pushed, byte for byte, to tester/dqn-CartPole-v1; returns the commit sha."""
    folder = PACKAGE.bundled_dir(CARTPOLE)
    api = HfApi()
    api.create_repo("tester/dqn-CartPole-v1")
    operations = [CommitOperationAdd(file, str(folder / file)) for file in AGENT_FILES]
    return api.create_commit("tester/dqn-CartPole-v1", operations=operations, commit_message="zoo agent").oid


def test_loads_from_the_pinned_hub_commit_when_nothing_is_bundled(hub, uploaded, tmp_path):
    # main moves on to other weights; the registry's commit still names the published ones.
    HfApi().upload_file(path_or_fileobj=b"not these weights", path_in_repo="model.safetensors",
                        repo_id="tester/dqn-CartPole-v1")  # fmt: skip
    registry = _hub_only_registry(tmp_path, "tester/dqn-CartPole-v1", uploaded)
    before = len(hub.requests)
    model = load_pretrained(CARTPOLE, device="cpu", registry=registry)
    assert _same_weights(model, load_pretrained(CARTPOLE, device="cpu"))
    resolved = {tuple(r.path.split("/")[-2:]) for r in hub.requests[before:] if r.route == "resolve"}
    assert resolved == {(uploaded, "config.json"), (uploaded, "model.safetensors")}


def test_a_hub_file_that_differs_from_the_registry_is_refused(hub, uploaded, tmp_path):
    wrong = {**PACKAGE.get(CARTPOLE).files, "model.safetensors": "0" * 64}
    registry = _hub_only_registry(tmp_path, "tester/dqn-CartPole-v1", uploaded, wrong)
    with pytest.raises(ChecksumMismatchError, match=re.escape("model.safetensors of tester/dqn-CartPole-v1")):
        load_pretrained(CARTPOLE, registry=registry)


def test_an_uncached_hub_agent_offline_says_what_to_do(hub, uploaded, tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    registry = _hub_only_registry(tmp_path, "tester/dqn-CartPole-v1", uploaded)
    with pytest.raises(NotCachedError, match=re.escape("HF_HUB_OFFLINE=1 is set and config.json")):
        load_pretrained(CARTPOLE, registry=registry)


def test_publish_push_uploads_the_registered_bytes_and_pins_the_commit(hub, tmp_path):
    published = publish(
        PACKAGE.bundled_dir(CARTPOLE), "dqn-CartPole-v1", repo_id="tester/zoo-cartpole", episodes=2, bundle=False,
        push=True, replay=False, command="mario-zoo train --preset cartpole-fast --seed 0",
        registry=tmp_path / "zoo" / "registry.json", cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    (commit,) = hub.commits("tester/zoo-cartpole")[:1]
    assert published.entry.revision == published.commit == commit.sha
    assert {"config.json", "model.safetensors", "results.json", "README.md"} <= set(commit.files)
    assert published.entry.files == PACKAGE.get(CARTPOLE).files, "float32 publishing ships the checkpoint unchanged"
    assert published.bundled is None and not (tmp_path / "zoo" / "bundled").exists()
    card = published.card.read_text()
    assert "loads from `tester/zoo-cartpole` at the commit the zoo pins" in card and "## Replay" not in card

    model = load_pretrained(CARTPOLE, device="cpu", registry=published.registry)
    assert _same_weights(model, load_pretrained(CARTPOLE, device="cpu"))


def test_publish_push_with_replays_uploads_the_gif_the_card_shows_and_a_real_speed_mp4(hub, tmp_path):
    published = publish(
        PACKAGE.bundled_dir(CARTPOLE), "dqn-CartPole-v1", repo_id="tester/zoo-replays", episodes=1, bundle=False,
        push=True, command="mario-zoo train --preset cartpole-fast --seed 0",
        registry=tmp_path / "zoo" / "registry.json", cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    (commit,) = hub.commits("tester/zoo-replays")[:1]
    assert {"replay.gif", "replay.mp4", "README.md", "results.json"} <= set(commit.files)
    assert commit.files["replay.gif"].size == published.replay_gif.stat().st_size
    card = published.card.read_text()
    assert "(replay.gif)" in card and "`replay.mp4` shows one episode" in card and "../" not in card


def test_push_and_zoo_publish_push_are_one_flow(hub, cli, tmp_path):
    """`mario-zoo push` and `zoo publish --push` evaluate, card and upload through mario_zoo.release: the same agent
    gets the same results.json and the same commit message from both (the cards differ: the zoo adds its sections)."""
    pushed = cli("push", f"zoo:{CARTPOLE}", "tester/pushed", "--episodes", 2, "--no-video", "--no-progress")
    assert pushed.code == 0, pushed.err
    publish(
        PACKAGE.bundled_dir(CARTPOLE), CARTPOLE, repo_id="tester/published", episodes=2, bundle=False, push=True,
        replay=False, command="mario-zoo train --preset cartpole-fast --seed 0",
        registry=tmp_path / "zoo" / "registry.json", cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    (by_push,), (by_publish,) = hub.commits("tester/pushed")[:1], hub.commits("tester/published")[:1]
    assert by_push.title == by_publish.title
    assert by_push.title == "Upload DQN agent for CartPole-v1: mean reward 500.00 +/- 0.00 over 2 episodes"

    def results(repo_id: str) -> dict:
        data = json.loads(Path(hf_hub_download(repo_id, "results.json")).read_text())
        return {key: value for key, value in data.items() if key != "date"}

    assert results("tester/pushed") == results("tester/published")
    assert "mario_zoo.load_pretrained" not in Path(hf_hub_download("tester/pushed", "README.md")).read_text()
