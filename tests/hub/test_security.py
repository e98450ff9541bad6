"""load_from_hub never unpickles: pickle-only repos are refused before anything executable is downloaded."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from mario_zoo.hub import UnsafeCheckpointError, load_from_hub


class _TouchOnUnpickle:
    """Unpickling this object creates ``path``: a stand-in for the code a malicious checkpoint would run."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def _upload(repo_id: str, files: dict[str, bytes]) -> None:
    api = HfApi()
    api.create_repo(repo_id)
    operations = [CommitOperationAdd(path, data) for path, data in files.items()]
    api.create_commit(repo_id, operations=operations, commit_message="pickled agent")


def test_the_trap_is_live(tmp_path):
    """Guard for the tests below: unpickling the payload really does run code."""
    pickle.loads(pickle.dumps(_TouchOnUnpickle(tmp_path / "sprung")))
    assert (tmp_path / "sprung").exists()


def test_a_repo_with_only_a_pickled_model_is_refused_and_its_code_never_runs(hub, tmp_path):
    marker = tmp_path / "pwned"
    _upload("tester/pickled", {"model.pt": pickle.dumps(_TouchOnUnpickle(marker))})

    with pytest.raises(UnsafeCheckpointError, match=r"only has pickle-based checkpoints \(model\.pt\).*never loads"):
        load_from_hub("tester/pickled")
    assert not marker.exists()
    assert not any(record.path.endswith("/model.pt") for record in hub.requests if record.route == "resolve")


def test_an_sb3_zip_repo_is_refused_even_though_it_has_a_config_json(hub, tmp_path):
    marker = tmp_path / "pwned"
    _upload(
        "tester/sb3-agent",
        {
            "config.json": json.dumps({"policy_class": "DQNPolicy", "learning_rate": 1e-4}).encode(),
            "dqn-CartPole-v1.zip": pickle.dumps(_TouchOnUnpickle(marker)),
        },
    )
    with pytest.raises(UnsafeCheckpointError, match=r"\(dqn-CartPole-v1\.zip\).*re-save it with model\.save"):
        load_from_hub("tester/sb3-agent")
    assert not marker.exists()
