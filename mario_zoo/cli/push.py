"""``mario-zoo push``: evaluate an agent, record it and upload it with its card in one Hub commit (the work is
:func:`mario_zoo.release.release`, the flow ``mario-zoo zoo publish`` shares)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mario_zoo.cli.common import bad_input, hub_errors, load_agent, parse_source, positive, seed
from mario_zoo.extras import require

if TYPE_CHECKING:
    from mario_zoo.sources import LoadedAgent

PUSH_EPILOG = """examples:
  mario-zoo push runs/CartPole-v1_dqn_s0_20250101-120000 your-name/dqn-CartPole-v1
  mario-zoo push runs/MarioDQN-v0_dqn_s0_20250101-120000 your-name/dqn-MarioDQN-v0 --episodes 20 --private
  mario-zoo push runs/CartPole-v1_dqn_s0_20250101-120000 your-name/dqn-CartPole-v1 --out repo/   offline: files only

Evaluates the agent as `mario-zoo evaluate --json` does (same protocols, same numbers: for Mario the exact sweep
of the 31 no-op starts, greedy, and --episodes of the Nature protocol beside it, x_pos and the flag rate), records replay.mp4 at the game's real speed as `mario-zoo record` does,
writes the model card and uploads everything in one commit. Needs a token with write access: `hf auth login` or
HF_TOKEN. With --out DIR it writes the same files into the new folder DIR instead, without the network or a token:
read the card before publishing, or upload them later from any machine with `hf upload REPO_ID DIR .`.
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    push = verbs.add_parser(
        "push",
        help="publish an agent to the Hugging Face Hub",
        description="Evaluate an agent and upload it with its model card and replay video to a Hub repo.",
        epilog=PUSH_EPILOG,
    )
    push.add_argument(
        "agent", metavar="AGENT", help="run folder, checkpoint (dir or .zip), hub:owner/name[@rev], or zoo:NAME"
    )
    push.add_argument("repo_id", metavar="REPO_ID", help="owner/name of the Hub repo (created if missing)")
    push.add_argument(
        "--episodes",
        type=positive,
        default=30,
        help="evaluation episodes for the card (default 30): Mario's Nature protocol, beside the 31-start no-op "
        "sweep; other envs' greedy episodes",
    )
    push.add_argument("--seed", type=seed, default=0, help="seed of the evaluation env's first reset (default 0)")
    push.add_argument("--video", action=argparse.BooleanOptionalAction, default=True, help="upload replay.mp4")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument(
        "--env",
        help="evaluate on this env ID instead of the training env (a Mario agent keeps its action set, frame size "
        "and stack on another level)",
    )
    push.add_argument("--message", help="commit message")
    push.add_argument(
        "--out",
        metavar="DIR",
        help="write the repo's files (weights, results.json, README.md card, replay) into this new folder instead "
        "of uploading them: no network or token needed",
    )
    push.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show a progress bar (default on)"
    )
    push.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mario_zoo.hub import check_push_access, check_repo_id
    from mario_zoo.hub.push import check_repo_folder
    from mario_zoo.release import Upload, release
    from mario_zoo.sources import HUB_PREFIX

    source = parse_source(args.agent)
    with bad_input():
        repo_id = check_repo_id(args.repo_id.removeprefix(HUB_PREFIX), "REPO_ID")
        if args.video:  # found before minutes of evaluation, not after
            require("imageio_ffmpeg", "video", "push's replay.mp4 (or pass --no-video)")
        if args.out is not None:
            check_repo_folder(args.out)
    if args.out is None:
        with hub_errors():  # a wrong HF_ENDPOINT, no network or a bad token, found before minutes of evaluation
            check_push_access(repo_id)
    agent = load_agent(source, "cpu")
    env_id, env_kwargs = _evaluation_env(agent, args.env)
    with bad_input(), hub_errors():
        if env_id != agent.env_id:
            _check_spaces_fit(agent, env_id, env_kwargs)
        released = release(
            agent.model,
            env_id,
            env_kwargs,
            episodes=args.episodes,
            seed=args.seed,
            progress=args.progress,
            upload=Upload(
                repo_id,
                video=args.video,
                private=args.private,
                message=args.message,
                out=args.out,
                training=_training_commands(agent),
            ),
            say=print,
        )
    if released.files is not None:
        print(f"Wrote the repo's files for {repo_id} to {args.out}: {', '.join(sorted(released.files))}")
        print(f"Upload them in one commit: {_upload_command(repo_id, args)}")
        return 0
    assert released.commit is not None
    print(f"Pushed {source} to {repo_id} in commit {released.commit.oid}: {released.commit.commit_url}")
    print(f"Load it pinned: mario-zoo pull {repo_id} --revision {released.commit.oid}")
    return 0


def _training_commands(agent: LoadedAgent) -> tuple[str, ...]:
    """The ``mario-zoo train`` command that trained ``agent``, from its run's ``run.json``, without the options that
    only concern the machine it ran on (``--out``, ``--no-progress``, ...): none for an agent outside a run, or from
    a run that another verb started (compare, sweep)."""
    from mario_zoo.publishing import run_training_command
    from mario_zoo.snapshots import run_of_checkpoint

    run = None if agent.path is None else run_of_checkpoint(agent.path)
    settings = None if run is None else run.read_config()
    if settings is None or settings.command[1:2] != ["train"]:
        return ()
    return (run_training_command(settings, agent.model.num_timesteps),)


def _evaluation_env(agent: LoadedAgent, env_id: str | None) -> tuple[str, dict]:
    """The env ID and kwargs ``push --env`` evaluates on: the agent's own, or ``env_id`` with the kwargs the agent
    plays with when both are Mario levels (the action set, frame size and stack do not depend on the level), none
    for another env."""
    from mario_zoo.evaluation import is_mario

    if env_id in (None, agent.env_id):
        return agent.env_id, dict(agent.env_kwargs)
    if not (is_mario(env_id) and is_mario(agent.env_id)):
        return env_id, {}
    return env_id, {key: value for key, value in agent.env_kwargs.items() if key not in ("world", "stage")}


def _check_spaces_fit(agent: LoadedAgent, env_id: str, env_kwargs: dict) -> None:
    import gymnasium as gym
    from stable_baselines3.common.utils import check_for_correct_spaces

    from mario_zoo.planning import check_env_id

    check_env_id(env_id)  # an unknown ID is a ValueError naming the valid ones, not Gymnasium's NameNotFound
    env = gym.make(env_id, **env_kwargs)
    try:
        check_for_correct_spaces(env, agent.model.observation_space, agent.model.action_space)
    except ValueError as error:
        raise ValueError(f"--env {env_id} does not fit {agent.source}, trained on {agent.env_id}: {error}.") from None
    finally:
        env.close()


def _upload_command(repo_id: str, args: argparse.Namespace) -> str:
    """The ``hf upload`` command that sends a folder written by ``--out`` with the same repo options."""
    import shlex

    # A file the folder holds is uploaded, not deleted: the patterns only drop an earlier push's replay or optimizer.
    command = [
        "hf",
        "upload",
        repo_id,
        str(args.out),
        ".",
        "--delete",
        "replay.mp4",
        "--delete",
        "optimizer.safetensors",
    ]
    if args.private:
        command.append("--private")
    if args.message:
        command += ["--commit-message", args.message]
    return shlex.join(command)
