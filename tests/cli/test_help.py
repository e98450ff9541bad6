"""`--help` of mario-zoo and of every verb: exit code 0, the options, and examples."""

from __future__ import annotations

import subprocess
import sys

import pytest

VERBS = ("envs", "train", "evaluate", "enjoy", "record", "plot", "push", "pull", "sweep")


def test_top_level_help_lists_every_verb_with_examples(cli):
    result = cli("--help")
    assert result.code == 0
    for verb in VERBS:
        assert f"    {verb} " in result.out
    assert "examples:" in result.out and "Exit codes" in result.out


@pytest.mark.parametrize("verb", VERBS)
def test_each_verb_help_exits_0_with_examples(cli, verb):
    result = cli(verb, "--help")
    assert result.code == 0
    assert "example" in result.out and f"mario-zoo {verb}" in result.out


def test_train_help_lists_the_presets(cli):
    out = cli("train", "--help").out
    for option in ("--preset", "--hp", "--env", "--seed", "--steps", "--device", "--out", "--resume"):
        assert option in out
    for preset in ("cartpole-tutorial", "cartpole-fast", "mario"):
        assert f"  {preset} " in out


def test_console_entry_point_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "mario_zoo.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "mario-zoo" in result.stdout


def test_help_loads_neither_torch_nor_sb3_nor_huggingface_hub():
    code = (
        "import sys\nfrom mario_zoo.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'torch', 'stable_baselines3', 'huggingface_hub'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
