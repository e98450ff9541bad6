"""Fixtures for the sweep tests: `mario-zoo sweep` in a subprocess, the study it leaves, a throwaway PostgreSQL.

Budgets are tiny (a few hundred CartPole steps per trial): these tests check how trials are scheduled, stored,
retried and written out, not how well they play. Nothing waits a fixed time: tests poll the study for states.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import pytest
import sqlalchemy.exc

REPO = Path(__file__).resolve().parents[2]

TINY = ("--preset", "cartpole-fast", "--steps", "400", "--eval-freq", "200", "--eval-episodes", "2", "--no-progress")
"""A sweep trial of 400 CartPole steps, evaluated twice."""


def sweep_command(*args: object) -> list[str]:
    """The `mario-zoo sweep` command line, run with this checkout's code."""
    return [sys.executable, "-m", "mario_zoo.cli", "sweep", *map(str, args)]


def sweep_env() -> dict[str, str]:
    """This checkout first on the path (also in the spawned workers), one torch thread, Optuna quiet."""
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def run_sweep(*args: object, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `mario-zoo sweep ARGS` to its end."""
    return subprocess.run(
        sweep_command(*args), env=sweep_env(), capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def load(storage: str, study_name: str = "cartpole-fast-sweep") -> optuna.Study:
    """The study as the storage holds it now. Never creates Optuna's tables: a sweep starting at the same moment
    creates them, and two processes doing that at once collide."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.load_study(
        study_name=study_name, storage=optuna.storages.RDBStorage(storage, skip_table_creation=True)
    )


def load_when_ready(storage: str, study_name: str = "cartpole-fast-sweep") -> optuna.Study | None:
    """The study, or ``None`` while the sweep that creates it has not yet (no database, tables or study)."""
    try:
        return load(storage, study_name)
    # Optuna wraps a half-created database's "no such table" in its StorageInternalError.
    except (KeyError, sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError):
        return None


def wait_for(condition: Callable[[], object], what: str, timeout: float = 600) -> object:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds (a bound
    for a broken build, not a timing assumption)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def finished_numbers(study: optuna.Study) -> list[int]:
    """Numbers of the trials that finished (complete or pruned)."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return sorted(trial.number for trial in study.get_trials(states=states))


# -- PostgreSQL ------------------------------------------------------------------------------------------------

INSTALL_HINT = (
    "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: `sudo apt-get install postgresql` (Debian, "
    "Ubuntu) or `brew install postgresql` (macOS) to run this test; .ci/run installs them"
)


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on loopback (initdb into a temp folder, a free port), stopped afterwards.

    PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` user (``nobody`` if absent).
    """
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip(INSTALL_HINT)
    folder = Path(tempfile.mkdtemp(prefix="mario-zoo-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(folder, user)
        as_user = ["runuser", "-u", user, "--"]
    data, port = folder / "data", _free_port()

    def run(*command: object) -> None:
        subprocess.run([*as_user, *map(str, command)], check=True, capture_output=True, timeout=120)

    run(binaries / "initdb", "-D", data, "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=50"
    run(binaries / "pg_ctl", "-D", data, "-o", options, "-l", folder / "server.log", "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def kill(pid: int) -> None:
    """SIGKILL ``pid``: no handler, no cleanup, as the OOM killer or a pulled plug would."""
    os.kill(pid, signal.SIGKILL)
