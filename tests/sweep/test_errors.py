"""Bad input to `mario-zoo sweep`: one line naming the valid choices, exit code 2, and nothing written."""

from __future__ import annotations

import socket

import pytest
import yaml

from tests.conftest import run_cli

BAD_PARAMETER = {"cartpole": {"envs": ["CartPole-v1"], "parameters": {"learning_rat": {"distribution": "uniform"}}}}
BAD_DISTRIBUTION = {"cartpole": {"envs": ["CartPole-v1"], "parameters": {"gamma": {"distribution": "normal"}}}}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--preset", "pong", "--trials", "2"], "Unknown DQN preset 'pong'; valid presets are: cartpole-tutorial, "),
        (["--trials", "2", "--space", "{space}"], "Unknown parameter 'learning_rat' in {space} (family cartpole) (did "
         "you mean 'learning_rate'?); valid parameters: learning_rate, "),
        (["--trials", "2", "--space", "{bad_distribution}"], "Bad distribution 'normal' for gamma in "
         "{bad_distribution} (family cartpole); valid distributions: uniform, log_uniform, int, categorical"),
        (["--trials", "2", "--storage", "not a url"], "Malformed --storage URL 'not a url'; expected an Optuna RDB URL "
         "such as sqlite:///path/study.db"),
        (["--trials", "2", "--storage", "redis://localhost/0"], "Unsupported --storage URL scheme 'redis' in "
         "'redis://localhost/0'; valid schemes: sqlite, postgresql, mysql"),
        (["--trials", "2", "--storage", "sqlite:///{tmp}/missing/study.db"], "Cannot reach --storage "
         "'sqlite:///{tmp}/missing/study.db': the folder {tmp}/missing does not exist"),
        (["--trials", "2", "--storage", "postgresql://user:secret@127.0.0.1:{port}/db"], "Cannot reach --storage "
         "'postgresql://user:***@127.0.0.1:{port}/db': "),
        (["--seeds", "0-", "--steps", "100"], "Malformed seeds '0-': use a range such as 0-9"),
        (["--steps", "100"], "Pass --trials N (a search) or --seeds 0-9"),
        (["--seeds", "0-1", "--trials", "2"], "--seeds runs the preset as it is: drop --trials and --space"),
        (["--trials", "2", "--objective", "flag_rate"], "Objective 'flag_rate' needs an env that reports flags and x "
         "positions (MarioDQN-*); CartPole-v1 reports mean_reward only."),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, options, message):
    (tmp_path / "space.yml").write_text(yaml.safe_dump(BAD_PARAMETER))
    (tmp_path / "distribution.yml").write_text(yaml.safe_dump(BAD_DISTRIBUTION))
    fill = {
        "space": tmp_path / "space.yml",
        "bad_distribution": tmp_path / "distribution.yml",
        "tmp": tmp_path,
        "port": _closed_port(),
    }
    options = [option.format(**fill) for option in options]
    if "--preset" not in options:
        options = ["--preset", "cartpole-fast", *options]
    before = sorted(tmp_path.iterdir())
    result = run_cli("sweep", *options, "--out", tmp_path / "out", "--no-progress")
    assert result.code == 2, result.err
    assert result.err.startswith("mario-zoo sweep: error: ") and result.err.count("\n") == 1, result.err
    assert message.format(**fill) in result.err
    assert "secret" not in result.err
    assert sorted(tmp_path.iterdir()) == before
    assert result.out == ""
