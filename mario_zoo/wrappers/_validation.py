"""Argument checks shared by the wrappers and the env factory, so every message has the same shape."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any


def check_int(name: str, value: Any, *, minimum: int, maximum: int | None = None, hint: str = "") -> int:
    """Return ``value`` as an ``int`` after checking it is an integer ``>= minimum`` (and ``<= maximum``).

    Example:
        >>> check_int("skip", 4, minimum=1)
        4
        >>> check_int("skip", 0, minimum=1)
        Traceback (most recent call last):
        ...
        ValueError: skip must be an integer >= 1, got 0.
    """
    valid = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {valid}, got {value!r} of type {type(value).__name__}.")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {valid}, got {value!r}.{hint}")
    return int(value)


def check_optional_int(name: str, value: Any, *, minimum: int) -> int | None:
    """Like :func:`check_int`, but ``None`` (meaning "off") is allowed."""
    return None if value is None else check_int(name, value, minimum=minimum)


def check_number(name: str, value: Any, *, positive: bool = False) -> float:
    """Return ``value`` as a finite ``float``; with ``positive=True`` it must also be ``> 0``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}.")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if positive and value <= 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}.")
    return value


def check_penalty(name: str, value: Any) -> float:
    """Return ``value`` as a finite ``float`` after checking it is ``<= 0`` (a penalty added to a reward).

    Example:
        >>> check_penalty("stall_penalty", 15)
        Traceback (most recent call last):
        ...
        ValueError: stall_penalty must be a number <= 0 (a penalty added to the reward, e.g. -15), got 15.
    """
    number = check_number(name, value)
    if number > 0:
        raise ValueError(f"{name} must be a number <= 0 (a penalty added to the reward, e.g. -15), got {value!r}.")
    return number


def check_fraction(name: str, value: Any, *, meaning: str) -> float:
    """Return ``value`` as a ``float`` after checking it is a number in ``[0, 1]``; ``meaning`` says what it is.

    Example:
        >>> check_fraction("frontier_fraction", 1.5, meaning="the share of episodes started near the frontier")
        Traceback (most recent call last):
        ...
        ValueError: frontier_fraction must be in [0, 1] (the share of episodes started near the frontier), got 1.5.
    """
    number = check_number(name, value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be in [0, 1] ({meaning}), got {value!r}.")
    return number


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise name the valid ones.

    Example:
        >>> check_choice("actions", "fast", ["simple", "right_only"])
        Traceback (most recent call last):
        ...
        ValueError: Unknown actions 'fast'; valid choices are: 'simple', 'right_only'.
    """
    choices = list(choices)
    listing = ", ".join(repr(choice) for choice in choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {listing}; got {value!r} of type {type(value).__name__}.")
    if value not in choices:
        raise ValueError(f"Unknown {name} {value!r}; valid choices are: {listing}.")
    return value
