"""Many machines, one study: two `mario-zoo sweep` processes (as if on two machines: their own --out folders)
against one PostgreSQL study finish it together, every trial exactly once.

The server is a throwaway one (tests/sweep/conftest.py: initdb + pg_ctl into a temp folder, a free loopback port).
Without PostgreSQL's binaries the test is skipped with the command that installs them; CI installs them."""

from __future__ import annotations

import subprocess

from tests.sweep.conftest import REPO, TINY, finished_numbers, load, sweep_command, sweep_env


def test_two_processes_share_one_postgresql_study(postgres_url, tmp_path):
    commands = [
        sweep_command(*TINY, "--trials", 4, "--storage", postgres_url, "--out", tmp_path / f"machine{index}")
        for index in range(2)
    ]
    processes = [
        subprocess.Popen(command, env=sweep_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    study = load(postgres_url)
    assert [trial.number for trial in study.trials] == [0, 1, 2, 3]
    assert finished_numbers(study) == [0, 1, 2, 3]
    # Both processes wrote the whole study's outputs.
    for index in range(2):
        rows = (tmp_path / f"machine{index}" / "trials.csv").read_text().splitlines()
        assert len(rows) == 1 + 4
        assert (tmp_path / f"machine{index}" / "best.yml").is_file()
