"""Share agents on the Hugging Face Hub: publish with `push_to_hub`, fetch with `load_from_hub`.

Unlike pickled SB3 zips, a mario-zoo repo holds safetensors weights and a JSON config, so loading it cannot run
code; loads can be pinned to a commit and to sha256 digests, and work offline once cached.

Example:
    >>> from mario_zoo.hub import load_from_hub, push_to_hub
    >>> info = push_to_hub(model, "your-name/dqn-MarioDQN-v0")  # doctest: +SKIP
    >>> model = load_from_hub("your-name/dqn-MarioDQN-v0", revision=info.oid)  # doctest: +SKIP
"""

from mario_zoo.hub.card import build_model_card, write_model_card
from mario_zoo.hub.errors import (
    ChecksumMismatchError,
    HubError,
    IncompatibleCheckpointError,
    MissingFileError,
    NotCachedError,
    PushError,
    RepoNotFoundError,
    RevisionNotFoundError,
    SpaceMismatchError,
    UnsafeCheckpointError,
)
from mario_zoo.hub.pull import load_from_hub
from mario_zoo.hub.push import push_to_hub

__all__ = [
    "ChecksumMismatchError",
    "HubError",
    "IncompatibleCheckpointError",
    "MissingFileError",
    "NotCachedError",
    "PushError",
    "RepoNotFoundError",
    "RevisionNotFoundError",
    "SpaceMismatchError",
    "UnsafeCheckpointError",
    "build_model_card",
    "load_from_hub",
    "push_to_hub",
    "write_model_card",
]
