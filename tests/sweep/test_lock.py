"""The study lock on SQLite (``filelock`` on ``<database>.lock``): one holder at a time across processes, a killed
holder never blocks the others, and a worker may let go early (leaving the block is then a no-op)."""

from __future__ import annotations

import subprocess
import sys
import threading

from mario_zoo.sweep.lock import StudyLock
from tests.sweep.conftest import kill, sweep_env

HOLD = (
    "import sys, time\n"
    "from mario_zoo.sweep.lock import StudyLock\n"
    "lock = StudyLock(sys.argv[1], 'mario-zoo sweep test')\n"
    "lock.acquire()\n"
    "print('held', flush=True)\n"
    "time.sleep(600)\n"
)


def test_a_killed_holder_does_not_block_the_next(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, url], env=sweep_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = StudyLock(url, "mario-zoo sweep test")
        taken = threading.Event()
        # Another thread waits, and this one looks: the hold belongs to the process, not to a thread.
        waiter = threading.Thread(target=lambda: (lock.acquire(), taken.set()), daemon=True)
        waiter.start()
        assert not taken.wait(1), "the lock was taken while another process held it"
        kill(holder.pid)
        assert taken.wait(60), "a killed holder still blocks the lock"
    finally:
        holder.kill()
        holder.communicate()
    assert lock.held
    lock.release()
    assert not lock.held


def test_release_may_come_early_and_twice(tmp_path):
    lock = StudyLock(f"sqlite:///{tmp_path / 'study.db'}", "mario-zoo sweep test")
    with lock:
        assert lock.held
        lock.release()
        assert not lock.held
    lock.release()
    with lock:
        assert lock.held
    assert (tmp_path / "study.db.lock").is_file() and not (tmp_path / "study.db").exists()
