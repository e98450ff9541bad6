"""Bad input fails in plan_compare, with the bad value and the valid choices, before anything is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mario_zoo.compare import parse_seeds, plan_compare


@pytest.mark.parametrize(
    ("env_id", "message"),
    [
        ("Pendulum-v1", "compare has matched settings for CartPole-v1 and the MarioDQN levels (MarioDQN-v0, "
         "MarioDQN-<world>-<stage>-v0; `mario-zoo envs`); got 'Pendulum-v1'. Pass --env CartPole-v1 or --env "
         "MarioDQN-v0."),
        ("MarioDQN-9-1-v0", "Unknown Mario env ID 'MarioDQN-9-1-v0': world must be one of 1-8, got 9"),
    ],
)  # fmt: skip
def test_unknown_env(env_id: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_compare(env_id, steps=100, seeds="0")


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ("-1", "Seeds must be in [0, 2147483647], got -1."),
        ("0-2147483648", "Seeds must be in [0, 2147483647], got 2147483648."),
        ([0, 2**31], "Seeds must be in [0, 2147483647], got 2147483648."),
        ("0-x", "Malformed seeds '0-x': use a range such as 0-9, a list such as 0,3,5, or both (0-4,7)."),
        ("", "Malformed seeds '': use a range such as 0-9"),
        ("5-3", "Seed range '5-3' runs backwards; write it as 3-5."),
        ("0-3,2", "Seed 2 is given more than once; each seed runs once per algorithm."),
        ([], "No seeds given; pass at least one, e.g. seeds='0-9'."),
        ([1.5], "Seeds must be ints, got 1.5 of type float."),
    ],
)
def test_bad_seeds(seeds: str | list, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_compare("CartPole-v1", steps=100, seeds=seeds)


def test_seed_forms() -> None:
    assert parse_seeds("0-9") == tuple(range(10))
    assert parse_seeds("0,3,5") == (0, 3, 5)
    assert parse_seeds(" 0 - 2 , 7 ") == (0, 1, 2, 7)
    assert parse_seeds([2**31 - 1]) == (2**31 - 1,)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "workers must be an int >= 1, got 0."),
        ({"workers": -2}, "workers must be an int >= 1, got -2."),
        ({"steps": 0}, "steps must be an int >= 1, got 0."),
        ({"eval_freq": 0}, "eval_freq must be an int >= 1, got 0."),
        ({"overrides": {"dueling": True}}, "dueling cannot be matched: SB3's DQN has no dueling head."),
        ({"overrides": {"max_grad_norm": None}}, "max_grad_norm=None cannot be matched: SB3 always clips"),
        ({"overrides": {"learning_rat": 1e-3}}, "Unknown or unmatched setting 'learning_rat'; compare accepts: "),
        ({"overrides": {"policy_kwargs": {"activation_fn": "tanh"}}}, "policy_kwargs may only set net_arch"),
    ],
)
def test_bad_options(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_compare("CartPole-v1", **{"steps": 100, "seeds": "0", **options})


def test_out_must_be_new_or_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path} already exists and is not an empty folder")):
        plan_compare("CartPole-v1", steps=100, seeds="0", out=tmp_path)


def test_defaults_per_env() -> None:
    cartpole = plan_compare("CartPole-v1", out="unused")
    assert (cartpole.steps, cartpole.seeds, cartpole.final_episodes) == (50_000, tuple(range(10)), 100)
    mario = plan_compare("MarioDQN-v0", out="unused")
    assert (mario.steps, mario.seeds, mario.eval_episodes) == (20_000, (0, 1), 3)
    assert not Path("unused").exists()
