"""An optimizer's per-parameter state as flat tensors, for ``optimizer.safetensors`` (hyperparameters such as the
learning rate come from the checkpoint's config, not from here)."""

from __future__ import annotations

import torch

from mario_zoo.agents.checkpoint import CheckpointError, check_finite

AVERAGED_PREFIX = "ema"
"""Entries ``ema.<param index>`` hold the moving average of the weights (``ema_decay``), a part of the training state."""


def optimizer_to_tensors(
    optimizer: torch.optim.Optimizer, averaged: list[torch.Tensor] | None = None
) -> dict[str, torch.Tensor]:
    """Flatten an optimizer's per-parameter state to ``{"state.<param index>.<name>": tensor}``, and the averaged
    weights (if any) to ``{"ema.<param index>": tensor}``.

    Hyperparameters (learning rate, betas...) are not stored: they come from the checkpoint's config.
    """
    flat: dict[str, torch.Tensor] = {}
    for index, state in optimizer.state_dict()["state"].items():
        for name, value in state.items():
            tensor = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            flat[f"state.{index}.{name}"] = tensor.detach().cpu().contiguous()
    for index, tensor in enumerate(averaged or ()):
        flat[f"{AVERAGED_PREFIX}.{index}"] = tensor.detach().cpu().contiguous()
    return flat


def load_optimizer_tensors(
    optimizer: torch.optim.Optimizer, flat: dict[str, torch.Tensor], source: object
) -> list[torch.Tensor] | None:
    """Inverse of :func:`optimizer_to_tensors`; the optimizer's own hyperparameters are kept. Returns the averaged
    weights, one per parameter (``None`` if the file holds none).

    Moment estimates must have their parameter's shape, and every value must be finite, so a damaged file fails
    here, not at the next step.
    """
    check_finite(flat, source)
    current = optimizer.state_dict()
    params = [param for group in optimizer.param_groups for param in group["params"]]
    state: dict[int, dict[str, torch.Tensor]] = {}
    averaged: dict[int, torch.Tensor] = {}
    for key, tensor in flat.items():
        if key.startswith(f"{AVERAGED_PREFIX}."):
            index, name = key.removeprefix(f"{AVERAGED_PREFIX}."), ""
        else:
            prefix, index, name = key.split(".", 2) if key.count(".") >= 2 else (key, "", "")
            if prefix != "state":
                index = ""
        if not index.isdigit() or int(index) >= len(params):
            raise CheckpointError(
                f"{source}: unexpected optimizer entry {key!r} for an optimizer of {len(params)} parameters."
            )
        expected = () if name == "step" else params[int(index)].shape
        if tuple(tensor.shape) != tuple(expected):
            raise CheckpointError(
                f"{source}: optimizer entry {key!r} has shape {tuple(tensor.shape)}, expected {tuple(expected)}."
            )
        if name:
            state.setdefault(int(index), {})[name] = tensor
        else:
            averaged[int(index)] = tensor
    if averaged and sorted(averaged) != list(range(len(params))):
        raise CheckpointError(
            f"{source}: the averaged weights cover {len(averaged)} of the optimizer's {len(params)} parameters."
        )
    optimizer.load_state_dict({"state": state, "param_groups": current["param_groups"]})
    return [averaged[index] for index in range(len(params))] if averaged else None
