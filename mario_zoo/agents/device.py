"""Which torch device to use: ``"auto"`` or a name, checked against what this machine has.

Example:
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("gpu")
    Traceback (most recent call last):
    ...
    ValueError: Unknown device 'gpu'; valid devices: auto, cpu, cuda, cuda:<index>, mps.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from stable_baselines3.common.utils import get_device

VALID_DEVICES = "auto, cpu, cuda, cuda:<index>, mps"


def check_device(device: str | torch.device) -> None:
    """Raise a ``ValueError`` naming the usable devices if torch cannot use ``device`` here (the CLI's check: a
    command that asks for a GPU on a machine without one stops before it starts)."""
    if (unusable := _unusable(device)) is not None:
        raise ValueError(unusable)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The ``torch.device`` for ``device`` (``"auto"``: CUDA when available, else the CPU). An unknown name is a
    ``ValueError``; a known device this machine lacks falls back to the CPU with a warning, as SB3's agents fall
    back (an agent trained on a GPU, loaded with ``device="cuda"`` on a laptop, plays on its CPU).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     resolve_device("cuda") if not torch.cuda.is_available() else torch.device("cpu")
        device(type='cpu')
    """
    if (unusable := _unusable(device)) is not None:
        warnings.warn(f"{unusable} Using the CPU instead, as SB3 does.", UserWarning, stacklevel=3)
        return torch.device("cpu")
    return get_device(device)


def _unusable(device: str | torch.device) -> str | None:
    """Why torch cannot use ``device`` on this machine (``None``: it can); an unknown name raises ``ValueError``."""
    if device == "auto":
        return None
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        raise ValueError(f"Unknown device {device!r}; valid devices: {VALID_DEVICES}.") from None
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if available.get(kind, False):
        return None
    usable = ", ".join(["auto", *(name for name, ok in available.items() if ok)])
    return f"Device {device!r} is not available on this machine; usable devices: {usable}."


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (``None``: torch's own setting) and restore the count after.

    ``DQN.learn`` uses one thread for MLP policies on the CPU, as ``mario-zoo train`` does: a small MLP's matrix
    products are too small to split, and a second thread spinning against the env makes a 2-core machine several
    times slower (``model.learn_threads`` changes it).

    Example:
        >>> before = torch.get_num_threads()
        >>> with torch_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    before = torch.get_num_threads()
    if threads is not None and threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
