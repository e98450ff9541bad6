"""`mario-zoo zoo list|show`, and zoo names as the AGENT of other verbs."""

from __future__ import annotations

import json

import pytest

from mario_zoo.sources import AgentSource, parse_source
from mario_zoo.zoo import read_registry

from .conftest import CARTPOLE


def test_list_shows_every_agent_with_its_score_training_and_source(cli):
    code, out, _ = cli("zoo", "list")
    assert code == 0
    header, row = out.splitlines()[:2]
    assert header.split() == ["NAME", "ENV", "SCORE", "TRAINED", "LOADS", "FROM"]
    assert row.split()[:2] == [CARTPOLE, "CartPole-v1"]
    assert "500.00 +/- 0.00, 100 ep" in row and "cartpole-fast, 50,048 steps" in row
    assert "bundled (float32); Hub: not published yet" in row
    assert len(out.strip().splitlines()) == len(read_registry().names) + 3 + 8  # + the World 1 table and its note


def test_list_ends_with_a_world_1_table_of_the_best_agent_per_level():
    import dataclasses

    from mario_zoo.cli.zoo import world_table

    registry = read_registry()
    lines = world_table(registry, world=1)
    chained = any(
        len(registry.lineage(entry.name)) > 1 or entry.training.warm_starts
        for entry in (registry.best_for(f"MarioDQN-1-{stage}-v0") for stage in range(1, 5))
        if entry is not None
    )
    assert lines[0] == "World 1:" and len(lines) == 6 + chained
    best = registry.best_for("MarioDQN-1-1-v0")
    exact, nature = best.results, best.other_results["nature"]
    row = lines[2].split()
    assert row[:2] == ["1-1", best.name]
    assert row[2] == f"{round(exact.flag_rate * exact.n_eval_episodes)}/{exact.n_eval_episodes}"
    # Steps and hours of the agent with its warm starts: every zoo agent along its --init-from chain.
    lineage = registry.lineage(best.name)
    assert lineage[-1] == best and row[4] == f"{nature.flag_rate:.0%}"
    assert row[5] == f"{sum(run.training.chain_timesteps for run in lineage):,}"
    assert row[6] == f"{sum(run.training.chain_seconds for run in lineage) / 3600:.1f}"
    # A level's agent appears once the registry has one that reaches the flag; without one the row says so.
    only_1_1 = dataclasses.replace(registry, entries={best.name: best})
    entry = dataclasses.replace(best, name="dqn-MarioDQN-1-3-v0", env_id="MarioDQN-1-3-v0", other_results={})
    (row,) = [line for line in world_table(only_1_1.with_entry(entry), 1) if line.startswith("  1-3")]
    assert row.split()[1] == "dqn-MarioDQN-1-3-v0" and row.split()[4] == "-"
    assert [line.split() for line in world_table(only_1_1, 1)[3:6]] == [
        [f"1-{stage}", "no", "agent", "clears", "it", "yet"] for stage in (2, 3, 4)
    ]


def test_an_agents_lineage_follows_init_from_through_the_zoo(tmp_path):
    import dataclasses

    from mario_zoo.zoo.registry import Registry

    cartpole = read_registry().get(CARTPOLE)

    def entry(name, command, seconds=10.0):
        training = dataclasses.replace(cartpole.training, command=command, total_timesteps=100,
                                       wall_time_seconds=seconds)  # fmt: skip
        return dataclasses.replace(cartpole, name=name, training=training)

    zoo = Registry(tmp_path / "registry.json", {
        "a": entry("a", "mario-zoo train --seed 0"),
        "b": entry("b", "mario-zoo train --init-from=a --seed 1  # the = form"),
        "c": entry("c", "mario-zoo train --init-from b", seconds=None),
        "loop1": entry("loop1", "mario-zoo train --init-from loop2"),
        "loop2": entry("loop2", "mario-zoo train --init-from loop1"),
        "d": entry("d", "mario-zoo train --init-from runs/x/best_model"),
    })  # fmt: skip
    assert [run.name for run in zoo.lineage("c")] == ["a", "b", "c"]
    assert [run.name for run in zoo.lineage("loop1")] == ["loop2", "loop1"]
    assert [run.name for run in zoo.lineage("d")] == ["d"] and zoo.lineage("nope") == zoo.lineage(None) == []


@pytest.mark.parametrize("name", read_registry().names)
def test_list_and_show_give_the_preset_and_seed_of_the_training_command(cli, name):
    from mario_zoo.publishing import command_settings

    training = read_registry().get(name).training
    preset, seed = command_settings(training.command, read_registry().get(name).env_id)
    assert (training.preset, training.seed) == (preset, seed)
    _, listed, _ = cli("zoo", "list")
    (row,) = [line for line in listed.splitlines() if line.startswith(name + " ")]
    assert f"{preset}, {training.total_timesteps:,} steps" in row
    _, shown, _ = cli("zoo", "show", name)
    assert f"  trained     preset {preset}, seed {seed}, " in shown


def test_show_prints_the_revision_digests_protocol_and_how_to_load(cli):
    code, out, _ = cli("zoo", "show", CARTPOLE)
    entry = read_registry().get(CARTPOLE)
    assert code == 0
    assert "  revision    none pinned: not published on the Hub yet, loads from the bundled copy" in out
    assert "  Hub repo    mario-zoo/dqn-CartPole-v1" in out
    assert all(f"{digest}  {file}" in out for file, digest in entry.files.items())
    assert "  score       500.00 +/- 0.00 over 100 episodes" in out and "deterministic (greedy) actions" in out
    assert f"  reproduce   {entry.training.command}" in out
    assert f'model = mario_zoo.load_pretrained("{CARTPOLE}")' in out


def test_show_points_at_a_model_card_that_exists_or_says_where_it_lives(cli, tmp_path, monkeypatch):
    import pathlib

    import mario_zoo

    card = read_registry().get(CARTPOLE).card
    _, out, _ = cli("zoo", "show", CARTPOLE)
    (line,) = [line for line in out.splitlines() if line.startswith("  model card")]
    assert pathlib.Path(line.split(maxsplit=2)[2]).is_file()
    # Installed from a wheel: no model_cards/ beside the package.
    monkeypatch.setattr(mario_zoo, "__file__", str(tmp_path / "site-packages" / "mario_zoo" / "__init__.py"))
    _, out, _ = cli("zoo", "show", CARTPOLE)
    assert f"  model card  {card} in mario-zoo's source repository (a pip install ships the agents" in out


def test_show_json_is_the_registry_entry(cli):
    code, out, _ = cli("zoo", "show", CARTPOLE, "--json")
    assert code == 0
    assert json.loads(out) == {"name": CARTPOLE, **read_registry().get(CARTPOLE).to_dict()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["zoo", "show", "dqn-Pong-v5"],
            f"Unknown zoo agent 'dqn-Pong-v5'; valid names: {', '.join(read_registry().names)}.",
        ),
        (["zoo"], "the following arguments are required: ACTION"),
        (["zoo", "show"], "the following arguments are required: NAME"),
        (["zoo", "publish"], "the following arguments are required: AGENT, --name"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(cli, args, message):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_zoo_names_are_agents_with_or_without_the_prefix(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_source(f"zoo:{CARTPOLE}") == parse_source(CARTPOLE) == AgentSource("zoo", CARTPOLE)
    (tmp_path / CARTPOLE).mkdir()
    (tmp_path / CARTPOLE / "config.json").write_text("{}")
    assert parse_source(CARTPOLE).kind == "checkpoint", "a local checkpoint of that name wins over the zoo"
    with pytest.raises(ValueError, match="Unknown zoo agent 'nope'"):
        parse_source("zoo:nope")


def test_evaluate_a_zoo_agent_by_name(cli):
    code, out, err = cli("evaluate", f"zoo:{CARTPOLE}", "--episodes", 2, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["agent"] == f"zoo:{CARTPOLE}" and result["episode_rewards"] == [500.0, 500.0]
