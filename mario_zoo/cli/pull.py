"""``mario-zoo pull``: a published agent, pinned and verified, into a checkpoint folder (the work is
:mod:`mario_zoo.hub`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mario_zoo.cli.common import UsageError, bad_input, hub_errors

PULL_EPILOG = """examples:
  mario-zoo pull your-name/dqn-CartPole-v1                        -> models/dqn-CartPole-v1/
  mario-zoo pull your-name/dqn-CartPole-v1 --revision 3f2c9a1e... --out cartpole-agent
  mario-zoo pull your-name/dqn-CartPole-v1 --force                 # replace the copy pulled before

Downloads only config.json and model.safetensors (never pickles), through the Hub cache, so it works offline
once cached. The folder it writes is a checkpoint: evaluate, record or enjoy it.
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    pull = verbs.add_parser(
        "pull",
        help="download an agent from the Hugging Face Hub into a checkpoint folder",
        description="Download a published agent (safetensors only) into a local checkpoint folder.",
        epilog=PULL_EPILOG,
    )
    pull.add_argument("repo_id", metavar="REPO_ID", help="owner/name[@revision] of the Hub repo")
    pull.add_argument("--revision", help="branch, tag or commit sha (default main)")
    pull.add_argument("--out", metavar="DIR", help="checkpoint folder to write (default models/<name>)")
    pull.add_argument("--force", action="store_true", help="replace the agent already in that folder")
    pull.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mario_zoo.hub import check_repo_id, load_from_hub
    from mario_zoo.sources import HUB_PREFIX

    repo_id, _, pinned = args.repo_id.removeprefix(HUB_PREFIX).partition("@")
    with bad_input():
        check_repo_id(repo_id, "REPO_ID")
    if pinned and args.revision and pinned != args.revision:
        raise UsageError(
            f"{args.repo_id} names revision {pinned!r} and --revision names {args.revision!r}; give one of them."
        )
    revision = args.revision or pinned or None
    out = Path(args.out) if args.out else Path("models") / repo_id.split("/")[-1]
    checkpoint_files = {"config.json", "model.safetensors", "optimizer.safetensors"}
    if out.exists() and (not out.is_dir() or not {entry.name for entry in out.iterdir()} <= checkpoint_files):
        raise UsageError(f"{out} exists and is not a checkpoint folder; choose another --out.")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise UsageError(
            f"{out} already holds an agent; pass --force to replace it with {repo_id}@{revision or 'main'}, or "
            "choose another --out."
        )
    with hub_errors():
        model = load_from_hub(repo_id, revision=revision, device="cpu")
    model.save(out, include_optimizer=False)
    print(f"Saved {repo_id}@{revision or 'main'} to {out}/ (config.json, model.safetensors).")
    print(f"Try it: mario-zoo evaluate {out}")
    return 0
