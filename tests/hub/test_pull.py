"""load_from_hub: pinned revisions and digests, offline loads, and errors that say what to do."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest
import torch
from huggingface_hub import CommitOperationAdd, HfApi, constants

from mario_zoo.agents import DQN, checkpoint
from mario_zoo.evaluation import evaluate
from mario_zoo.hub import (
    ChecksumMismatchError,
    IncompatibleCheckpointError,
    MissingFileError,
    RepoNotFoundError,
    RevisionNotFoundError,
    SpaceMismatchError,
    load_from_hub,
    push_to_hub,
)


def _same_weights(a: DQN, b: DQN) -> bool:
    state_a, state_b = a.policy.state_dict(), b.policy.state_dict()
    return state_a.keys() == state_b.keys() and all(torch.equal(state_a[k], state_b[k]) for k in state_a)


def _upload(repo_id: str, files: dict[str, bytes]) -> str:
    api = HfApi()
    api.create_repo(repo_id, exist_ok=True)
    operations = [CommitOperationAdd(path, data) for path, data in files.items()]
    return api.create_commit(repo_id, operations=operations, commit_message="hand-made repo").oid


def _checkpoint_files(model: DQN, folder: Path) -> dict[str, bytes]:
    model.save(folder / "ckpt", include_optimizer=False)
    return {name: (folder / "ckpt" / name).read_bytes() for name in (checkpoint.CONFIG_FILE, checkpoint.MODEL_FILE)}


def test_loads_only_what_it_needs_and_the_weights_are_the_published_ones(hub, trained_model, repo_id, published):
    before = len(hub.requests)
    model = load_from_hub(repo_id)

    assert _same_weights(model, trained_model)
    downloaded = {r.path.rsplit("/", 1)[-1] for r in hub.requests[before:] if r.route == "resolve"}
    assert downloaded == {"config.json", "model.safetensors"}


def test_an_older_commit_loads_by_sha_with_its_own_weights(hub, trained_model, repo_id, published):
    other = DQN("MlpPolicy", "CartPole-v1", seed=1, buffer_size=1_000)
    second = push_to_hub(other, repo_id, results=evaluate(other, "CartPole-v1", n_episodes=1))

    assert _same_weights(load_from_hub(repo_id, revision=published.oid), trained_model)
    assert _same_weights(load_from_hub(repo_id, revision=second.oid), other)
    assert _same_weights(load_from_hub(repo_id), other)


def test_an_env_with_matching_spaces_is_attached(hub, repo_id, published):
    model = load_from_hub(repo_id, env="CartPole-v1")
    assert model.get_env().observation_space.shape == (4,)


def test_an_env_with_other_spaces_is_refused(hub, repo_id, published):
    with pytest.raises(SpaceMismatchError, match=rf"does not fit {repo_id}@{published.oid}.*Discrete\(3\)"):
        load_from_hub(repo_id, env=gym.make("Acrobot-v1"))


def test_missing_repo_revision_and_file_are_named(hub, trained_model, repo_id, published, tmp_path):
    with pytest.raises(RepoNotFoundError, match=r"No model repo 'tester/absent' on the Hub at http://127\.0\.0\.1"):
        load_from_hub("tester/absent")
    with pytest.raises(RevisionNotFoundError, match=rf"{repo_id} has no revision 'v9'.*list_repo_commits"):
        load_from_hub(repo_id, revision="v9")

    files = _checkpoint_files(trained_model, tmp_path)
    _upload("tester/config-only", {"config.json": files["config.json"]})
    with pytest.raises(MissingFileError, match=r"tester/config-only@[0-9a-f]{40} has no model\.safetensors"):
        load_from_hub("tester/config-only")


def test_a_config_from_a_newer_format_is_refused(hub, trained_model, tmp_path):
    files = _checkpoint_files(trained_model, tmp_path)
    config = json.loads(files["config.json"])
    config["format_version"] = checkpoint.FORMAT_VERSION + 1
    _upload("tester/future", {**files, "config.json": json.dumps(config).encode()})
    with pytest.raises(
        IncompatibleCheckpointError,
        match=(
            rf"format_version {checkpoint.FORMAT_VERSION + 1}, but this mario_zoo reads versions "
            rf"<= {checkpoint.FORMAT_VERSION}.*pip install -U mario-zoo"
        ),
    ):
        load_from_hub("tester/future")


def test_pinned_digests_load_and_bad_pins_are_rejected_up_front(hub, repo_id, published):
    served = hub.store.resolve(repo_id, published.oid).files
    pins = {name: served[name].sha256 for name in ("config.json", "model.safetensors")}
    assert load_from_hub(repo_id, revision=published.oid, sha256=pins) is not None

    with pytest.raises(ValueError, match=r"sha256 pins files that load_from_hub downloads .*got 'replay\.mp4'"):
        load_from_hub(repo_id, sha256={"replay.mp4": "0" * 64})
    with pytest.raises(ValueError, match=r"sha256\['config\.json'\] must be 64 hex digits, got 'abc'"):
        load_from_hub(repo_id, sha256={"config.json": "abc"})


def test_a_wrong_pin_of_an_intact_file_is_refused_and_the_file_stays_cached(hub, repo_id, published, monkeypatch):
    load_from_hub(repo_id, revision=published.oid)  # cached
    with pytest.raises(ChecksumMismatchError, match=r"matches the Hub's own checksum, so it is intact and stays"):
        load_from_hub(repo_id, revision=published.oid, sha256={"model.safetensors": "1" * 64})
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert load_from_hub(repo_id, revision=published.oid) is not None  # from the cache


def test_a_config_nested_too_deep_is_refused_before_it_is_parsed(hub, trained_model, tmp_path):
    files = _checkpoint_files(trained_model, tmp_path)
    _upload("tester/deep", {**files, "config.json": b"[" * 100_000 + b"]" * 100_000})
    with pytest.raises(IncompatibleCheckpointError, match=r"nests 100000 levels deep; the limit is 32"):
        load_from_hub("tester/deep")


def test_a_corrupted_download_is_detected_refused_and_evicted_from_the_cache(hub, repo_id, published):
    good = hub.store.resolve(repo_id, published.oid).files["model.safetensors"].sha256
    hub.corrupt(repo_id, "model.safetensors")

    with pytest.raises(ChecksumMismatchError, match=rf"model\.safetensors of {repo_id}@{published.oid} has sha256"):
        load_from_hub(repo_id, sha256={"model.safetensors": good})
    cache = Path(constants.HF_HUB_CACHE)
    assert not any(cache.rglob("model.safetensors")) and not any(cache.rglob(good)), "the bad copy must be evicted"


def test_offline_loads_from_the_cache_in_a_fresh_process(hub, run_fresh, repo_id, published):
    load_from_hub(repo_id)  # fills the cache
    hub.stop()  # and no Hub at all from here on

    result = run_fresh(
        f"""
        from mario_zoo.hub import load_from_hub
        model = load_from_hub({repo_id!r})
        print(model.predict([0.0, 0.0, 0.0, 0.0], deterministic=True)[0])
        """,
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert result.stdout.strip() in {"0", "1"}


def test_offline_with_an_empty_cache_says_how_to_fix_it(hub, run_fresh, repo_id, published, tmp_path):
    result = run_fresh(
        f"""
        from mario_zoo.hub import load_from_hub
        load_from_hub({repo_id!r})
        """,
        env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "empty-cache")},
        check=False,
    )
    assert result.returncode != 0
    assert (
        f"mario_zoo.hub.errors.NotCachedError: HF_HUB_OFFLINE=1 is set and config.json of {repo_id}@main is not "
        f"in the Hub cache ({tmp_path / 'empty-cache'})"
    ) in result.stderr


def test_a_repo_whose_weights_do_not_match_its_config_is_refused_as_a_hub_error(hub, trained_model, tmp_path):
    """The Hub's files are intact, but they do not make one checkpoint: refused as the repo's fault (a HubError the
    CLI reports in one line), never as a raw checkpoint error."""
    files = _checkpoint_files(trained_model, tmp_path)
    other = DQN("MlpPolicy", "CartPole-v1", seed=5, device="cpu")
    files[checkpoint.MODEL_FILE] = _checkpoint_files(other, tmp_path / "other")[checkpoint.MODEL_FILE]
    _upload("tester/mixed", files)
    with pytest.raises(IncompatibleCheckpointError, match=r"tester/mixed@[0-9a-f]{40} does not hold a loadable"):
        load_from_hub("tester/mixed")
