"""Network faults on push and pull: one typed error in one line, exit code 2, nothing half-written, and the same
command succeeds once the fault is gone.

The loopback Hub injects each fault (tests/hub_server.py: `fail_next`, `break_next`); a refused connection is a
closed port. Faults are queued for more requests than the client's bounded retries make, and `retry_waits` records
its waits instead of sleeping, so no test depends on a clock or on the machine's speed.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import huggingface_hub
import pytest
import torch
from huggingface_hub import HfApi, constants

from mario_zoo.agents import DQN
from mario_zoo.evaluation import evaluate
from mario_zoo.hub import (
    ChecksumMismatchError,
    HubAuthError,
    HubUnavailableError,
    NotCachedError,
    PushError,
    check_push_access,
    load_from_hub,
    push_to_hub,
)
from mario_zoo.hub._files import git_blob_sha1_of, sha256_of

PERSISTENT = 50
"""Queued faults: more requests than the client's retries (5 per call) can make, so the fault outlasts them."""

AGENT = "zoo:dqn-CartPole-v1"
"""The agent the CLI pushes: bundled, so no training is needed."""


def _closed_port_url() -> str:
    """The URL of a port nothing listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _point_client_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def _error_line(stderr: str) -> str:
    """The one line of the error, after the progress bars of the work done before it (no traceback)."""
    assert stderr.count("mario-zoo ") == 1 and "Traceback" not in stderr, stderr
    line = stderr[stderr.index("mario-zoo ") :].strip()  # a progress bar may end without a newline before it
    assert "\n" not in line, stderr
    return line


def _blobs() -> list[Path]:
    """The files the Hub cache holds (blobs and temporary downloads; snapshot links and locks aside)."""
    cache = Path(constants.HF_HUB_CACHE)
    if not cache.exists():
        return []
    return sorted(p for p in cache.rglob("*") if p.is_file() and not p.is_symlink() and ".locks" not in p.parts)


def _untrustworthy_cache_files() -> list[Path]:
    """Partial downloads, and blobs whose bytes are not the content address they are named after."""
    bad = []
    for blob in _blobs():
        if len(blob.name) == 64:
            good = sha256_of(blob) == blob.name
        elif len(blob.name) == 40:
            good = git_blob_sha1_of(blob) == blob.name
        else:
            good = blob.name in ("CACHEDIR.TAG",) or blob.parent.name == "refs"
        if not good:
            bad.append(blob)
    return bad


def _same_weights(a: DQN, b: DQN) -> bool:
    state_a, state_b = a.policy.state_dict(), b.policy.state_dict()
    return state_a.keys() == state_b.keys() and all(torch.equal(state_a[k], state_b[k]) for k in state_a)


@pytest.fixture
def tmp_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as ``tempfile``'s: what a command leaves in it was left half-written."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# -- pull ----------------------------------------------------------------------------------------------------

PULL_FAULTS = {
    "refused": (None, NotCachedError, r"Could not download config\.json of .*could not be reached \(.*refused"),
    "500 on the metadata request": (
        lambda hub: hub.fail_next("resolve", status=500, times=PERSISTENT, method="HEAD"),
        NotCachedError,
        r"config\.json of .*: the Hub at http://127\.0\.0\.1:\d+ failed to serve it \(500: Injected fault",
    ),
    "503 on the download": (
        lambda hub: hub.fail_next("resolve", status=503, times=PERSISTENT, method="GET"),
        HubUnavailableError,
        r"Could not download config\.json of .*failed to serve it \(503: .*\); retry later\. Nothing was cached",
    ),
    "429 with Retry-After": (
        lambda hub: hub.fail_next("resolve", status=429, retry_after=7, times=PERSISTENT, method="HEAD"),
        NotCachedError,
        r"is rate-limiting requests \(429: .*\); retry in 7 s",
    ),
    "connection dropped during the download": (
        lambda hub: hub.break_next("resolve", "disconnect", times=PERSISTENT, method="GET", path="/model.safetensors"),
        HubUnavailableError,
        r"Could not download model\.safetensors of .*could not be reached \(Server disconnected",
    ),
    "weights with a wrong byte": (
        lambda hub: hub.break_next("resolve", "corrupt", method="GET", path="/model.safetensors"),
        ChecksumMismatchError,
        r"model\.safetensors of tester/dqn-CartPole-v1@[0-9a-f]{40} does not match the Hub's checksum of it",
    ),
    "config with a wrong byte": (
        lambda hub: hub.break_next("resolve", "corrupt", method="GET", path="/config.json"),
        ChecksumMismatchError,
        r"config\.json of tester/dqn-CartPole-v1@main does not match the Hub's checksum of it",
    ),
}


@pytest.mark.parametrize("fault", PULL_FAULTS)
def test_a_pull_fault_is_one_typed_line_exit_2_nothing_written_and_the_next_pull_works(
    fault, hub, published, repo_id, trained_model, cli, retry_waits, tmp_path, monkeypatch, caplog
):
    inject, error_type, message = PULL_FAULTS[fault]
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # restored after the test
    if inject is None:
        _point_client_at(monkeypatch, _closed_port_url())
    else:
        inject(hub)
    with pytest.raises(error_type, match=message):
        load_from_hub(repo_id, device="cpu")
    assert _untrustworthy_cache_files() == []
    # The client retried, quietly: its "Retrying in 1s [Retry 1/5]" lines would bury the one-line error.
    chatter = [record.getMessage() for record in caplog.records if record.name.startswith("huggingface_hub")]
    assert not [line for line in chatter if "Retry" in line or "thrown while requesting" in line], chatter

    # The same fault through the CLI: one line, exit code 2, no checkpoint folder.
    if inject is not None:
        hub.clear_faults()
        inject(hub)
    out = tmp_path / "pulled"
    result = cli("pull", repo_id, "--out", out)
    assert result.code == 2 and out.exists() is False
    assert re.match("mario-zoo pull: error: .*" + message, _one_line(result.err))
    assert _untrustworthy_cache_files() == []

    # Fixed: the same pull works, and what it loads is the published agent, not a damaged copy from the cache.
    if inject is None:
        _point_client_at(monkeypatch, hub.url)
    hub.clear_faults()
    assert cli("pull", repo_id, "--out", out).code == 0
    assert _same_weights(DQN.load(out), trained_model)


def test_a_429_retry_after_is_honoured_by_the_clients_bounded_retries(hub, published, repo_id, retry_waits):
    hub.fail_next("resolve", status=429, retry_after=7, times=PERSISTENT, method="HEAD")
    with pytest.raises(NotCachedError):
        load_from_hub(repo_id)
    assert retry_waits and set(retry_waits) == {8.0}, retry_waits  # Retry-After + 1 s, each retry


def test_a_download_cut_short_is_resumed_and_checked(hub, published, repo_id, trained_model, retry_waits):
    hub.break_next("resolve", "truncate", times=2, method="GET", path="/model.safetensors")
    assert _same_weights(load_from_hub(repo_id, device="cpu"), trained_model)
    assert _untrustworthy_cache_files() == []


def test_a_damaged_blob_in_the_cache_is_refused_and_replaced_on_the_next_load(hub, published, repo_id, trained_model):
    load_from_hub(repo_id)
    (blob,) = [path for path in _blobs() if path.stat().st_size > 10_000]
    blob.write_bytes(blob.read_bytes()[:-1] + b"\0")  # disk rot, or a tool that wrote into the cache
    with pytest.raises(ChecksumMismatchError, match=r"damaged in transit or in the cache"):
        load_from_hub(repo_id)
    assert _same_weights(load_from_hub(repo_id, device="cpu"), trained_model)


# -- push ----------------------------------------------------------------------------------------------------

PUSH_PREFLIGHT_FAULTS = {
    "refused": (
        None,
        HubUnavailableError,
        r"could not be reached \(.*refused.*\)\. Nothing was written.*retry \(or write the repo's files with --out DIR",
    ),
    "offline": (
        lambda hub: huggingface_hub.constants.__setattr__("HF_HUB_OFFLINE", True),
        HubUnavailableError,
        r"HF_HUB_OFFLINE=1 is set, so the Hub is not contacted\. Nothing was written\. Unset HF_HUB_OFFLINE to publish",
    ),
    "500 on whoami": (
        lambda hub: hub.fail_next("whoami", status=500),
        HubUnavailableError,
        r"failed to serve it \(500: Injected fault",
    ),
    "429 on whoami": (
        lambda hub: hub.fail_next("whoami", status=429, retry_after=30),
        HubUnavailableError,
        r"rate-limiting requests \(429: .*\); retry in 30 s",
    ),
    "invalid token": (
        lambda hub: os.environ.__setitem__("HF_TOKEN", "hf_not_the_right_one"),
        HubAuthError,
        r"refused the token \(401: Invalid user token\. The token from HF_TOKEN .*Set HF_TOKEN to a token with write",
    ),
    "read-only token": (
        lambda hub: setattr(hub, "token_role", "read"),
        HubAuthError,
        r"Cannot push to 'tester/agent': loopback of mario-zoo-tests at .* is read-only\. Set HF_TOKEN",
    ),
}


@pytest.mark.parametrize("fault", PUSH_PREFLIGHT_FAULTS)
def test_push_checks_the_hub_and_token_before_evaluating(fault, hub, cli, monkeypatch, tmp_tempdir, retry_waits):
    inject, error_type, message = PUSH_PREFLIGHT_FAULTS[fault]
    monkeypatch.setenv("HF_TOKEN", hub.token)  # restored after the test, whatever the fault changes
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # restored after the test
    if inject is None:
        _point_client_at(monkeypatch, _closed_port_url())
    else:
        inject(hub)
    with pytest.raises(error_type, match=message):
        check_push_access("tester/agent")

    if inject is not None:
        hub.clear_faults()
        inject(hub)
    result = cli("push", AGENT, "tester/agent", "--episodes", 1, "--no-video")
    assert result.code == 2, result.err
    assert re.match("mario-zoo push: error: .*" + message, _one_line(result.err))
    assert "evaluating" not in result.err and result.out == "", "the fault is found before the evaluation"
    assert list(tmp_tempdir.iterdir()) == []
    if inject is None:
        _point_client_at(monkeypatch, hub.url)
    huggingface_hub.constants.HF_HUB_OFFLINE = False
    assert not HfApi(token=hub.token).repo_exists("tester/agent")


PUSH_UPLOAD_FAULTS = {
    "500 on the commit": lambda hub: hub.fail_next("commit", status=500),
    "429 on the commit": lambda hub: hub.fail_next("commit", status=429, retry_after=5),
    "503 on the upload plan": lambda hub: hub.fail_next("preupload", status=503, times=PERSISTENT),
    "connection dropped during the LFS upload": (
        lambda hub: hub.break_next("lfs_upload", "disconnect", times=PERSISTENT)
    ),
    "500 creating the repo": lambda hub: hub.fail_next("create_repo", status=500),
}


@pytest.mark.parametrize("fault", PUSH_UPLOAD_FAULTS)
def test_a_push_that_fails_uploading_leaves_the_repo_as_it_was_and_the_next_push_works(
    fault, hub, cli, repo_id, published, tmp_tempdir, retry_waits
):
    before = hub.commits(repo_id)
    PUSH_UPLOAD_FAULTS[fault](hub)
    result = cli("push", AGENT, repo_id, "--episodes", 1, "--no-video")
    assert result.code == 2, result.err
    line = _error_line(result.err)
    assert line.startswith("mario-zoo push: error: Could not ") and "revisions are unchanged" in line
    assert hub.commits(repo_id) == before
    assert [path for path in tmp_tempdir.iterdir() if path.name.startswith("mario-zoo")] == []  # staged files

    hub.clear_faults()
    pushed = cli("push", AGENT, repo_id, "--episodes", 1, "--no-video")
    assert pushed.code == 0, pushed.err
    assert hub.commits(repo_id)[1:] == before


def test_an_unreachable_endpoint_fails_in_one_line_before_evaluating_in_a_fresh_process(hub, tmp_path):
    """The issue's command, in a process configured only through the environment: one line and exit 2 at once,
    where it used to evaluate and record first and then end in a long traceback."""
    environment = {**os.environ, "HF_ENDPOINT": _closed_port_url(), "HF_TOKEN": "x"}
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "mario_zoo.cli", "push", AGENT, "a/b", "--episodes", "2", "--no-video"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=work,
    )
    assert result.returncode == 2 and result.stdout == ""
    line = _one_line(result.stderr)
    assert line.startswith("mario-zoo push: error: Could not check the Hub token before pushing to 'a/b': the Hub at")
    assert "could not be reached" in line and list(work.iterdir()) == []


def test_push_to_hub_raises_the_typed_errors(hub, trained_model, repo_id, published):
    results = evaluate(trained_model, "CartPole-v1", n_episodes=1)  # not the published results: a new commit
    hub.fail_next("commit", status=503)
    with pytest.raises(HubUnavailableError, match=r"failed to serve it \(503: .*revisions are unchanged"):
        push_to_hub(trained_model, repo_id, results=results)
    hub.fail_next("commit", status=400)
    with pytest.raises(PushError, match=r"Uploading the agent to .* failed: the Hub answered 400"):
        push_to_hub(trained_model, repo_id, results=results)
    assert hub.commits(repo_id)[0].sha == published.oid


@pytest.mark.parametrize("verb", ["push", "pull"])
def test_a_bad_repo_id_gets_the_hub_clients_rule(verb, cli, hub):
    args = ("push", AGENT, "bad repo id") if verb == "push" else ("pull", "bad repo id")
    result = cli(*args)
    assert result.code == 2
    assert _one_line(result.err) == (
        f"mario-zoo {verb}: error: REPO_ID 'bad repo id' is not a Hub repo id: Repo id must use alphanumeric chars, "
        "'-', '_' or '.'. The name cannot start or end with '-' or '.' and the maximum length is 96: 'bad repo id'. "
        "Write namespace/name, e.g. your-name/dqn-CartPole-v1."
    )
    assert "hub:" not in result.err


def test_an_unreachable_hub_agent_exits_2_in_one_line_as_pull_does(cli, hub, monkeypatch, retry_waits):
    # A fault of the network is the same whichever verb meets it: fix it and run the command again (exit 2).
    _point_client_at(monkeypatch, _closed_port_url())
    result = cli("evaluate", "hub:someone/never-cached", "--episodes", 1, "--no-progress")
    assert result.code == 2
    line = _one_line(result.err)
    assert line.startswith("mario-zoo evaluate: error: cannot load hub:someone/never-cached: ")
    assert "could not be reached" in line
