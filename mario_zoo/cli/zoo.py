"""``mario-zoo zoo list|show|publish``: the pretrained agents (the work is :mod:`mario_zoo.zoo` and, for a
maintainer's ``publish``, :mod:`mario_zoo.publishing`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from mario_zoo.cli.common import CommandError, bad_input, positive

if TYPE_CHECKING:
    from mario_zoo.zoo.registry import Registry, ZooEntry

ZOO_EPILOG = """examples:
  mario-zoo zoo list                          name, env, score, how it was trained, where it loads from
  mario-zoo zoo show dqn-CartPole-v1          everything the registry knows: Hub repo, revision, sha256, protocol
  mario-zoo zoo show dqn-CartPole-v1 --json
  mario-zoo zoo publish runs/<run> --name NAME   maintainers: bundle, evaluate, card, register (--push: Hub)

Zoo agents ship inside the package (checked against their sha256 before every load, so they work offline) or load
from the Hub at a pinned commit. In Python: mario_zoo.load_pretrained("dqn-CartPole-v1"). Every verb that takes an
AGENT takes zoo:NAME: mario-zoo evaluate zoo:dqn-CartPole-v1 --episodes 100
"""


ZOO_PUBLISH_EPILOG = """examples (from the root of a source checkout):
  mario-zoo zoo publish runs/CartPole-v1_dqn_s0_20250101-120000 --name dqn-CartPole-v1
  mario-zoo zoo publish runs/MarioDQN-v0_dqn_s0_20250101-120000 --name dqn-MarioDQN-1-1-v0 --dtype float16
  mario-zoo zoo publish models/agent --name dqn-CartPole-v1 --command "mario-zoo train --seed 0" --push
  mario-zoo zoo publish runs/<warm start from dqn-MarioDQN-1-1-v0>/best_model --name dqn-MarioDQN-1-1-v0 \\
      --dtype float16 --keep-previous-as dqn-MarioDQN-1-1-v0-robust

Writes the registry entry, the bundled copy (config.json, model.safetensors), model_cards/NAME.md and
docs/NAME.gif. A checkpoint needs --command, the mario-zoo train command that trained it: the card's and the
registry's preset and seed are read from it. --keep-previous-as keeps the agent being replaced under another name
(needed when the new one, or another zoo agent, was trained from it, unless the files are the same: every chain of
commands through it then names the kept one). --push also uploads to the Hub (one commit: the shipped files,
results.json, the card, replay.mp4 and replay.gif) and pins that commit.
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    zoo = verbs.add_parser(
        "zoo",
        help="list the pretrained agents that ship with mario-zoo, or show one",
        description="The zoo: pretrained agents, loaded by name (bundled in the package, or from a pinned Hub commit).",
        epilog=ZOO_EPILOG,
    )
    zoo_verbs = zoo.add_subparsers(dest="zoo_verb", metavar="ACTION", required=True)
    zoo_verbs.add_parser(
        "list", help="name, env, score, training and source of every zoo agent", epilog="example:\n  mario-zoo zoo list"
    )
    show = zoo_verbs.add_parser(
        "show",
        help="everything the registry records about one agent",
        epilog="examples:\n  mario-zoo zoo show dqn-CartPole-v1\n  mario-zoo zoo show dqn-CartPole-v1 --json",
    )
    show.add_argument("name", metavar="NAME", help="zoo name (mario-zoo zoo list shows them)")
    show.add_argument("--json", action="store_true", help="print the registry entry as JSON")
    _add_publish_parser(zoo_verbs)
    zoo.set_defaults(run=run)


def _add_publish_parser(zoo_verbs: argparse._SubParsersAction) -> None:
    from mario_zoo.zoo.registry import DTYPES, REGISTRY_FILE

    publish = zoo_verbs.add_parser(
        "publish",
        help="maintainers: add an agent to the zoo (bundle, hash, evaluate as shipped, card, register, push)",
        description="Add an agent to the mario-zoo zoo: bundle, hash, evaluate as shipped, card, register.",
        epilog=ZOO_PUBLISH_EPILOG,
    )
    publish.add_argument("agent", metavar="AGENT", help="run folder or checkpoint (dir or .zip)")
    publish.add_argument("--name", required=True, help="zoo name, e.g. dqn-MarioDQN-1-1-v0")
    publish.add_argument("--repo-id", help="Hub repo (default mario-zoo/NAME)")
    publish.add_argument("--episodes", type=positive, default=100, help="evaluation episodes (default 100)")
    publish.add_argument("--dtype", choices=DTYPES, default="float32", help="precision of the shipped weights")
    publish.add_argument("--no-bundle", dest="bundle", action="store_false", help="do not ship a copy in the package")
    publish.add_argument("--push", action="store_true", help="upload to the Hub and pin the commit")
    publish.add_argument("--no-replay", dest="replay", action="store_false", help="record no GIF or mp4")
    publish.add_argument("--command", help="how it was trained (default: the run's mario-zoo train command)")
    publish.add_argument("--train-seconds", type=float, help="training wall time (default: from monitor.csv)")
    publish.add_argument("--hardware", help="where it trained (default: this machine)")
    publish.add_argument("--registry", type=Path, default=REGISTRY_FILE, help="registry file (default: the package's)")
    publish.add_argument("--cards-dir", type=Path, default=Path("model_cards"), help="default ./model_cards")
    publish.add_argument("--docs-dir", type=Path, default=Path("docs"), help="where the GIF goes (default ./docs)")
    publish.add_argument(
        "--keep-previous-as",
        metavar="NAME",
        help="keep the agent this one replaces under NAME (required when this one, or another zoo agent, was trained from it)",
    )


def run(args: argparse.Namespace) -> int:
    from mario_zoo.zoo.registry import read_registry

    try:
        registry = read_registry()
    except ValueError as error:
        raise CommandError(" ".join(str(error).split())) from error
    if args.zoo_verb == "list":
        return _list(registry)
    if args.zoo_verb == "publish":
        return _publish(args)
    return _show(registry, args.name, as_json=args.json)


def _publish(args: argparse.Namespace) -> int:
    import torch

    from mario_zoo.hub import HubError
    from mario_zoo.publishing import publish
    from mario_zoo.zoo.registry import AGENT_FILES

    torch.set_num_threads(1)  # tiny evaluation batches run fastest on one thread; more only contend for cores
    try:
        with bad_input():
            published = publish(
                args.agent,
                args.name,
                repo_id=args.repo_id,
                episodes=args.episodes,
                dtype=args.dtype,
                bundle=args.bundle,
                push=args.push,
                replay=args.replay,
                command=args.command,
                train_seconds=args.train_seconds,
                hardware=args.hardware,
                registry=args.registry,
                cards_dir=args.cards_dir,
                docs_dir=args.docs_dir,
                keep_previous_as=args.keep_previous_as,
            )
    except HubError as error:
        raise CommandError(" ".join(str(error).split())) from error
    entry = published.entry
    for evaluation in (published.evaluation, *published.also):
        print(f"{entry.name}: {evaluation.summary()}")
    print(f"  registry   {published.registry}")
    if published.bundled is not None:
        size = sum((published.bundled / file).stat().st_size for file in AGENT_FILES)
        print(f"  bundled    {published.bundled}/ ({size / 1e6:.2f} MB, {entry.dtype})")
    print(f"  card       {published.card}")
    if published.replay_gif is not None:
        print(f"  replay     {published.replay_gif}")
    pin = f"commit {entry.revision}" if entry.revision else "none: not on the Hub yet (run again with --push)"
    print(f"  Hub        {entry.repo_id}, pinned revision {pin}")
    if published.kept is not None:
        print(f"  previous   kept as {published.kept.name} (card {published.kept.card})")
    return 0


def _show(registry: Registry, name: str, *, as_json: bool) -> int:
    with bad_input():
        entry = registry.get(name)
    if as_json:
        print(json.dumps({"name": entry.name, **entry.to_dict()}, indent=2, sort_keys=True))
        return 0
    bundled = registry.bundled_dir(entry.name)
    results, training = entry.results, entry.training
    wall = "" if training.wall_time_seconds is None else f", {training.wall_time_seconds:,.0f} s"
    rows = [
        ("env", f"{entry.env_id}" + (f" with {entry.env_kwargs}" if entry.env_kwargs else "")),
        ("score", f"{results.score_text} over {results.n_eval_episodes} episodes"),
    ]
    if results.x_pos_mean is not None:
        rows.append(("x_pos", f"mean {results.x_pos_mean:.1f}, max {results.x_pos_max}"))
    rows += [
        ("protocol", results.protocol_description),
        ("evaluated", results.date),
        (
            "trained",
            f"preset {training.preset or 'none'}, seed {training.seed}, {training.total_timesteps:,} env steps{wall} "
            f"on {training.hardware}",
        ),
        *(("warm start", stage.reproduce_line) for stage in training.warm_starts),
        ("reproduce", training.command),
        ("Hub repo", entry.repo_id),
        (
            "revision",
            entry.revision
            or "none pinned: not published on the Hub yet" + (", loads from the bundled copy" if entry.bundled else ""),
        ),
        ("bundled", f"yes, {entry.dtype}, {bundled}/" if entry.bundled else "no: loads from the Hub at the revision"),
    ]
    rows += [
        ("sha256" if index == 0 else "", f"{digest}  {file}")
        for index, (file, digest) in enumerate(sorted(entry.files.items()))
    ]
    rows.append(("model card", _card_location(entry.card)))
    print(entry.name)
    for label, value in rows:
        print(f"  {label:<12}{value}")
    print(f'Load it:\n  import mario_zoo\n  model = mario_zoo.load_pretrained("{entry.name}")')
    print("  action, _ = model.predict(observation, deterministic=True)")
    return 0


def _list(registry: Registry) -> int:
    if not registry.entries:
        print(f"No agents in the zoo registry ({registry.path}).")
        return 0
    lines = [("NAME", "ENV", "SCORE", "TRAINED", "LOADS FROM")]
    for entry in registry.entries.values():
        training = entry.training
        wall = "" if training.wall_time_seconds is None else f", {training.wall_time_seconds:,.0f} s"
        hub = f"Hub @ {entry.revision[:10]}" if entry.revision else "Hub: not published yet"
        where = f"bundled ({entry.dtype}); {hub}" if entry.bundled else hub
        score = f"{entry.results.score_text}, {entry.results.n_eval_episodes} ep"
        lines.append(
            (
                entry.name,
                entry.env_id,
                score,
                f"{training.preset or 'no preset'}, {training.total_timesteps:,} steps{wall}",
                where,
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]) - 1)]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + "  " + line[-1])
    print()
    for line in world_table(registry, world=1):
        print(line)
    print("\nDetails: mario-zoo zoo show NAME. Load: mario_zoo.load_pretrained(NAME), or zoo:NAME as a verb's AGENT.")
    return 0


def _with_runs(entry: ZooEntry) -> str:
    """An agent's name, and how many run folders its training went through before its own command."""
    runs = len(entry.training.warm_starts)
    return entry.name + (f" (through {runs} run{'s' if runs > 1 else ''})" if runs else "")


def world_table(registry: Registry, world: int = 1) -> list[str]:
    """The zoo's best agent for each level of ``world``: its exact flag rate (the 31-start no-op sweep), its rate
    under the Nature protocol, and the env steps and wall hours it took to train, its warm starts included (the
    zoo agents along its ``--init-from`` chain and the runs each went through); a level without one says so.

    The greedy flags are each agent's published headline evaluation (for the zoo's Mario agents the exact sweep:
    one episode from each no-op count 0-30); ``x/n`` says how many episodes it played."""
    lines = [f"World {world}:", "  LEVEL  AGENT                         FLAGS (GREEDY)     NATURE     STEPS      HOURS"]
    chains: list[str] = []
    for stage in range(1, 5):
        entry = registry.best_for(f"MarioDQN-{world}-{stage}-v0")
        if entry is None or not entry.results.flag_rate:
            lines.append(f"  {world}-{stage}    no agent clears it yet")
            continue
        exact, nature = entry.results, entry.other_results.get("nature")
        exact_text = f"{round(exact.flag_rate * exact.n_eval_episodes)}/{exact.n_eval_episodes} ({exact.flag_rate:.0%})"
        nature_text = "-" if nature is None or nature.flag_rate is None else f"{nature.flag_rate:.0%}"
        lineage = registry.lineage(entry.name)
        steps = sum(run.training.chain_timesteps for run in lineage)
        seconds = [run.training.chain_seconds for run in lineage]
        hours = "-" if None in seconds else f"{sum(s for s in seconds if s is not None) / 3600:.1f}"
        lines.append(f"  {world}-{stage}    {entry.name:<29} {exact_text:<18} {nature_text:<10} {steps:<10,} {hours}")
        if len(lineage) > 1 or entry.training.warm_starts:
            chains.append(f"{entry.name}: {' -> '.join(_with_runs(agent) for agent in lineage)}")
    if chains:
        lines.append(f"  Steps and hours add up each agent's warm starts: {'; '.join(chains)}.")
    return lines


def _card_location(card: str) -> str:
    """Where the model card can be read: the file in this source checkout, or, installed from a wheel (which ships
    no cards), its place in mario-zoo's source repository."""
    import mario_zoo

    checkout = Path(mario_zoo.__file__).resolve().parent.parent / card
    if checkout.is_file():
        return str(checkout)
    return f"{card} in mario-zoo's source repository (a pip install ships the agents, not their cards)"
