"""The one atomic writer: all or nothing, flushed to disk, the usual permissions, and honest errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mario_zoo import atomic
from mario_zoo.agents import DQN


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = atomic.write_text(tmp_path / "results.json", "old")
    with pytest.raises(RuntimeError, match="writer failed"), atomic.atomic_target(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]


def test_a_failed_folder_write_leaves_the_old_folder(tmp_path):
    with atomic.atomic_directory(tmp_path / "ckpt") as temporary:
        (temporary / "a").write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_directory(tmp_path / "ckpt") as temporary:
        (temporary / "a").write_text("new")
        raise RuntimeError("writer failed")
    assert (tmp_path / "ckpt" / "a").read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_a_folder_is_replaced_whole(tmp_path):
    for content in ("old", "new"):
        with atomic.atomic_directory(tmp_path / "ckpt") as temporary:
            (temporary / content).write_text(content)
    assert [p.name for p in (tmp_path / "ckpt").iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root may write into a read-only folder; the next test covers the failing cleanup"
)
def test_a_read_only_folder_reports_the_real_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="Permission denied"):
            atomic.write_text(folder / "results.json", "{}")
    finally:
        folder.chmod(0o700)


def test_a_failing_cleanup_never_hides_the_real_error(tmp_path, monkeypatch):
    """On a read-only folder the cleanup's unlink fails too; the error raised must be the writer's."""

    def unlink_fails(self, missing_ok=False):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", unlink_fails)
    with pytest.raises(OSError, match="No space left"), atomic.atomic_target(tmp_path / "x.txt"):
        raise OSError(28, "No space left on device")


def test_writes_are_flushed_to_disk_before_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda descriptor: synced.append(descriptor) or real_fsync(descriptor))
    atomic.write_text(tmp_path / "results.json", "{}")
    assert len(synced) >= 1


def test_files_and_checkpoints_respect_the_umask(tmp_path, umask_027):
    model = DQN("MlpPolicy", "CartPole-v1", device="cpu")
    model.save(tmp_path / "folder")
    model.save(tmp_path / "archive.zip")
    atomic.write_text(tmp_path / "results.json", "{}")
    assert _mode(tmp_path / "folder") == 0o750
    assert _mode(tmp_path / "folder" / "config.json") == 0o640
    assert _mode(tmp_path / "archive.zip") == 0o640
    assert _mode(tmp_path / "results.json") == 0o640


def test_replay_files_respect_the_umask_though_safetensors_writes_them_0600(tmp_path, umask_027):
    model = DQN("MlpPolicy", "CartPole-v1", device="cpu", buffer_size=100, learning_starts=10).learn(20)
    model.save_replay_buffer(tmp_path / "replay")
    model.save(tmp_path / "resumable", include_replay_buffer=True)
    for folder in (tmp_path / "replay", tmp_path / "resumable"):
        assert _mode(folder / "replay.safetensors") == 0o640
        assert _mode(folder / "replay.json") == 0o640


def test_a_temporary_the_writer_made_private_gets_the_usual_permissions(tmp_path, umask_027):
    with atomic.atomic_target(tmp_path / "weights.safetensors") as temporary:
        temporary.write_bytes(b"tensors")
        temporary.chmod(0o600)  # what safetensors' and tempfile's writers do
    assert _mode(tmp_path / "weights.safetensors") == 0o640


def test_only_this_packages_temporaries_are_removed(tmp_path):
    """A killed writer's leftovers go; a user's dot-files that merely mention tmp, and a link's target, stay."""
    import tempfile

    from mario_zoo.atomic import remove_stale_temporaries

    ours = [tmp_path / ".checkpoint.0f3a9c1e.tmp.zip", tmp_path / ".model.1a2b3c4d.tmp"]
    ours[0].write_bytes(b"half")
    ours[1].mkdir()
    staging = Path(tempfile.mkdtemp(prefix=".checkpoint.zip.", suffix=".tmp", dir=tmp_path))  # the replay's
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (tmp_path / ".notes.0f3a9c1e.tmp").symlink_to(outside, target_is_directory=True)
    theirs = [tmp_path / ".tmp_my_notes", tmp_path / ".my.tmp.backup", tmp_path / ".tmp"]
    for path in theirs:
        path.mkdir()
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted([*ours, staging, tmp_path / ".notes.0f3a9c1e.tmp"])
    assert all(path.is_dir() for path in theirs) and (outside / "keep.txt").read_text() == "mine"
