"""Optional dependencies: which extra of ``mario-zoo`` brings each, and the one-line error when it is missing.

The core install makes envs, trains, evaluates and loads agents. Sweeps, PostgreSQL studies, mp4 videos, plots,
TensorBoard logs and SB3's progress bar each come with an extra (``EXTRAS``); ``pip install 'mario-zoo[dev]'``
brings them all. Code that needs one imports it through :func:`require`, so a missing extra is one line naming
what to install, not a traceback ending in ``ModuleNotFoundError``.

Example:
    >>> require("json", "sweep", "reading JSON").__name__
    'json'
    >>> require("no_such_module_xyz", "plot", "mario-zoo plot")
    Traceback (most recent call last):
    ...
    mario_zoo.extras.MissingExtraError: mario-zoo plot needs the plot extra: pip install 'mario-zoo[plot]'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

EXTRAS = {
    "sweep": ("optuna", "sqlalchemy"),
    "postgres": ("psycopg",),
    "video": ("imageio_ffmpeg",),
    "plot": ("matplotlib",),
    "tensorboard": ("tensorboard",),
    "progress": ("rich",),
}
"""Each extra and the modules it brings (pyproject.toml's ``[project.optional-dependencies]``)."""


class MissingExtraError(ImportError, ValueError):
    """An optional dependency is not installed; the message names the extra that brings it.

    An ``ImportError`` (what it is) that is also a ``ValueError``, the type the CLI already reports as one line with
    exit code 2 (a setup to fix, then run again)."""


def require(module: str, extra: str, needed_for: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` saying that ``needed_for`` needs ``extra``."""
    if extra not in EXTRAS:
        raise ValueError(f"Unknown extra {extra!r}; the extras are {', '.join(EXTRAS)}.")
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"{needed_for} needs the {extra} extra: pip install 'mario-zoo[{extra}]'", name=module
        ) from error


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (for outputs that are skipped, not refused, without their extra)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def lazy_attributes(package: str, table: dict[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` (PEP 562) that imports ``table[name]`` on the first access of ``name``, so a
    package can name classes whose modules import torch without importing it itself.

    Example:
        >>> __getattr__ = lazy_attributes("mine", {"dumps": "json"})
        >>> __getattr__("dumps")([1])
        '[1]'
        >>> __getattr__("loads")
        Traceback (most recent call last):
        ...
        AttributeError: module 'mine' has no attribute 'loads'
    """

    def __getattr__(name: str) -> Any:
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
