"""Share agents on the Hugging Face Hub: publish an evaluated agent with `push_to_hub`, fetch with `load_from_hub`.

The Hub is transport only: it measures nothing (:mod:`mario_zoo.evaluation` does) and records nothing
(:mod:`mario_zoo.video` does). Unlike pickled SB3 zips, a mario-zoo repo holds safetensors weights and a JSON config, so loading it cannot run
code; loads can be pinned to a commit and to sha256 digests, and work offline once cached.

Example:
    >>> from mario_zoo.evaluation import evaluate
    >>> from mario_zoo.hub import load_from_hub, push_to_hub
    >>> # The agent's own env kwargs: the protocol (Mario's no-op sweep) sets the evaluation's no-ops itself.
    >>> results = evaluate(model, model.env_id, model.env_kwargs)  # doctest: +SKIP
    >>> info = push_to_hub(model, "your-name/dqn-MarioDQN-v0", results=results)  # doctest: +SKIP
    >>> model = load_from_hub("your-name/dqn-MarioDQN-v0", revision=info.oid)  # doctest: +SKIP
"""

from mario_zoo.hub import errors
from mario_zoo.hub._transport import check_repo_id
from mario_zoo.hub.card import build_model_card, write_model_card
from mario_zoo.hub.errors import *  # noqa: F403 (every error class, listed in errors.__all__)
from mario_zoo.hub.pull import load_from_hub
from mario_zoo.hub.push import check_push_access, commit_files, push_to_hub, save_repo

__all__ = [
    *errors.__all__,
    "build_model_card",
    "check_push_access",
    "check_repo_id",
    "commit_files",
    "load_from_hub",
    "push_to_hub",
    "save_repo",
    "write_model_card",
]
