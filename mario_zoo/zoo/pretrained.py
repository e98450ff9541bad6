"""`load_pretrained`: a zoo agent by name, from the copy inside the package or from its pinned Hub revision.

A bundled copy is checked against the registry's sha256 digests before it is read, and so is a Hub download
(through :func:`mario_zoo.hub.load_from_hub`'s ``sha256=`` pins, at the registry's commit): what loads is exactly
what was evaluated and published, offline or not.

Example:
    >>> import gymnasium as gym
    >>> model = load_pretrained("dqn-CartPole-v1", device="cpu")
    >>> env = gym.make("CartPole-v1")
    >>> observation, info = env.reset(seed=0)
    >>> action, _ = model.predict(observation, deterministic=True)
    >>> int(action) in (0, 1)
    True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from mario_zoo.zoo.registry import AGENT_FILES, REGISTRY_FILE, Registry, ZooEntry, read_registry

if TYPE_CHECKING:
    import torch

    from mario_zoo.agents import DQN


def load_pretrained(
    name: str,
    *,
    device: torch.device | str = "auto",
    registry: str | os.PathLike[str] = REGISTRY_FILE,
) -> DQN:
    """Load the zoo agent ``name`` (``mario-zoo zoo list`` shows the names), ready for ``predict``.

    Args:
        name: zoo name, e.g. ``"dqn-CartPole-v1"``.
        device: torch device for the networks (``"auto"`` picks CUDA when available).
        registry: the ``registry.json`` to look the name up in; the package's own by default (maintainers and
            tests point it at another one).

    Raises:
        ValueError: ``name`` is not in the registry (the message lists the valid names).
        mario_zoo.hub.ChecksumMismatchError: a bundled or downloaded file differs from its registered digest.
        FileNotFoundError: the bundled copy is missing and the agent is not published on the Hub.
        mario_zoo.hub.HubError: the Hub copy cannot be loaded (offline and not cached, ...).
    """
    # Imported here: reading the registry (`mario-zoo zoo list`, agent arguments) must not pay for torch.
    from mario_zoo.agents import DQN
    from mario_zoo.hub import load_from_hub

    zoo = read_registry(registry)
    entry = zoo.get(name)
    folder = zoo.bundled_dir(name)
    if entry.bundled and all((folder / file).is_file() for file in AGENT_FILES):
        verify_bundled(zoo, entry)
        return DQN.load(folder, device=device)
    if entry.revision is None:
        raise FileNotFoundError(
            f"Zoo agent {name!r} has no bundled copy in {folder} and is not published on the Hub yet (its revision "
            f"in {zoo.path} is null), so there is nothing to load. Reinstall mario-zoo (pip install "
            "--force-reinstall mario-zoo) to restore the bundled files."
        )
    return load_from_hub(entry.repo_id, revision=entry.revision, sha256=entry.files, device=device)


def verify_bundled(zoo: Registry, entry: ZooEntry) -> Path:
    """Check every bundled file of ``entry`` against its registered sha256; returns the bundled folder.

    Raises:
        mario_zoo.hub.ChecksumMismatchError: a file's digest differs.
        FileNotFoundError: a file is missing.
    """
    from mario_zoo.hub import ChecksumMismatchError
    from mario_zoo.hub._files import sha256_of

    folder = zoo.bundled_dir(entry.name)
    for file, expected in entry.files.items():
        path = folder / file
        if not path.is_file():
            raise FileNotFoundError(
                f"The bundled copy of {entry.name!r} lacks {path}; reinstall mario-zoo (pip install "
                "--force-reinstall mario-zoo)."
            )
        actual = sha256_of(path)
        if actual != expected:
            raise ChecksumMismatchError(
                f"Refusing to load the bundled copy of {entry.name!r}: {path} has sha256 {actual}, but {zoo.path} "
                f"records {expected}. The installed file was modified or corrupted; reinstall mario-zoo (pip install "
                "--force-reinstall mario-zoo)."
            )
    return folder
