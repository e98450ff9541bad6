"""The loopback Hub answers the unmodified huggingface_hub client the way the real Hub does."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

REPO = "someone/demo"


def _upload(api: HfApi, files: dict[str, bytes], message: str = "upload") -> str:
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=data) for path, data in files.items()]
    return api.create_commit(REPO, operations=operations, commit_message=message).oid


@pytest.fixture
def api(hub) -> HfApi:
    api = HfApi()
    api.create_repo(REPO)
    return api


def test_create_repo_makes_an_initial_commit_and_exist_ok_tolerates_a_second_call(hub, api):
    assert api.create_repo(REPO, exist_ok=True).repo_id == REPO
    with pytest.raises(HfHubHTTPError, match="already created"):
        api.create_repo(REPO)
    assert [commit.title for commit in api.list_repo_commits(REPO)] == ["initial commit"]
    assert api.list_repo_files(REPO) == [".gitattributes"]


def test_one_commit_carries_regular_and_lfs_files_and_downloads_return_the_same_bytes(hub, api):
    weights, config = bytes(range(256)) * 40, b'{"format_version": 1}'
    sha = _upload(api, {"model.safetensors": weights, "config.json": config})

    routes = [record.route for record in hub.requests]
    assert routes.count("commit") == 1
    assert "lfs_upload" in routes  # .safetensors went through LFS, config.json inside the commit
    files = {entry.path: entry for entry in api.list_repo_tree(REPO, revision=sha)}
    assert files["model.safetensors"].lfs.sha256 == hashlib.sha256(weights).hexdigest()
    assert files["config.json"].lfs is None
    assert Path(hf_hub_download(REPO, "model.safetensors")).read_bytes() == weights
    assert Path(hf_hub_download(REPO, "config.json", revision=sha)).read_bytes() == config


def test_model_info_reports_sha_siblings_and_card_metadata(hub, api):
    readme = b"---\nlibrary_name: mario-zoo\ntags:\n- dqn\n---\n# Card\n"
    sha = _upload(api, {"README.md": readme, "model.safetensors": b"\0" * 64})

    info = api.model_info(REPO, files_metadata=True)
    assert info.sha == sha
    assert info.library_name == "mario-zoo" and info.tags == ["dqn"]
    sizes = {sibling.rfilename: sibling.size for sibling in info.siblings}
    assert sizes == {".gitattributes": sizes[".gitattributes"], "README.md": len(readme), "model.safetensors": 64}


def test_each_commit_is_a_snapshot_reachable_by_sha_or_prefix(hub, api):
    first = _upload(api, {"a.txt": b"one"})
    second = _upload(api, {"a.txt": b"two", "b.txt": b"new"})

    assert api.model_info(REPO).sha == second
    assert api.model_info(REPO, revision=first[:7]).sha == first
    assert api.list_repo_files(REPO, revision=first) == [".gitattributes", "a.txt"]
    assert Path(hf_hub_download(REPO, "a.txt", revision=first)).read_bytes() == b"one"
    assert Path(hf_hub_download(REPO, "a.txt")).read_bytes() == b"two"
    assert hub.commits(REPO)[0].parent == first


def test_unchanged_files_are_skipped_and_deletions_apply(hub, api):
    _upload(api, {"a.txt": b"same", "dir/b.txt": b"b"})
    api.create_commit(
        REPO,
        operations=[CommitOperationAdd("a.txt", b"same"), CommitOperationDelete("dir/")],
        commit_message="delete dir",
    )
    assert api.list_repo_files(REPO) == [".gitattributes", "a.txt"]


def test_tree_lists_one_level_unless_recursive(hub, api):
    _upload(api, {"top.txt": b"t", "dir/inner/deep.txt": b"d"})
    flat = {entry.path for entry in api.list_repo_tree(REPO)}
    deep = {entry.path for entry in api.list_repo_tree(REPO, recursive=True)}
    assert flat == {".gitattributes", "top.txt", "dir"}
    assert deep == flat | {"dir/inner", "dir/inner/deep.txt"}


def test_missing_repo_revision_and_file_raise_the_clients_typed_errors(hub, api):
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("someone/absent", "config.json")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("someone/absent")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, ".gitattributes", revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="0123456789")
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(REPO, "config.json")


def test_writes_need_the_token_and_private_repos_are_hidden_without_it(hub, api):
    with pytest.raises(HfHubHTTPError, match="401"):
        HfApi(token="hf_wrong").create_repo("someone/other")
    api.create_repo("someone/secret", private=True)
    assert api.list_repo_files("someone/secret") == [".gitattributes"]
    with pytest.raises(RepositoryNotFoundError):
        HfApi(token=False).list_repo_files("someone/secret")


def test_fail_next_fails_exactly_one_commit_and_leaves_history_alone(hub, api):
    hub.fail_next("commit", status=500)
    with pytest.raises(HfHubHTTPError, match="Injected fault"):
        _upload(api, {"a.txt": b"lost"})
    assert len(hub.commits(REPO)) == 1
    _upload(api, {"a.txt": b"kept"})
    assert len(hub.commits(REPO)) == 2


def test_fail_next_rejects_unknown_routes(hub):
    with pytest.raises(ValueError, match="Unknown route 'comit'; choose one of: create_repo"):
        hub.fail_next("comit")


def test_corrupt_changes_served_bytes_but_not_size_or_etag(hub, api):
    _upload(api, {"model.safetensors": b"\1" * 100})
    hub.corrupt(REPO, "model.safetensors")
    served = Path(hf_hub_download(REPO, "model.safetensors")).read_bytes()
    assert len(served) == 100 and served != b"\1" * 100


def test_xet_requests_get_an_explicit_not_implemented(hub, api):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{hub.url}/api/models/{REPO}/xet-write-token/main")
    assert caught.value.code == 501
    assert "HF_HUB_DISABLE_XET=1" in json.loads(caught.value.read())["error"]


def test_a_commit_based_on_a_stale_parent_is_rejected(hub, api):
    first = _upload(api, {"a.txt": b"one"})
    _upload(api, {"a.txt": b"two"})
    with pytest.raises(HfHubHTTPError, match="412"):
        api.create_commit(
            REPO, operations=[CommitOperationAdd("a.txt", b"three")], commit_message="late", parent_commit=first
        )


def test_a_readme_with_broken_metadata_is_rejected_before_upload(hub, api):
    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md"):
        _upload(api, {"README.md": b"---\ntags: [unclosed\n---\n# Card\n"})
    assert len(hub.commits(REPO)) == 1
