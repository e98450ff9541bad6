"""An optimizer's per-parameter state as flat tensors, for ``optimizer.safetensors`` (hyperparameters such as the
learning rate come from the checkpoint's config, not from here)."""

from __future__ import annotations

import torch

from mario_zoo.agents.checkpoint import CheckpointError


def optimizer_to_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Flatten an optimizer's per-parameter state to ``{"state.<param index>.<name>": tensor}``.

    Hyperparameters (learning rate, betas...) are not stored: they come from the checkpoint's config.
    """
    flat: dict[str, torch.Tensor] = {}
    for index, state in optimizer.state_dict()["state"].items():
        for name, value in state.items():
            tensor = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            flat[f"state.{index}.{name}"] = tensor.detach().cpu().contiguous()
    return flat


def load_optimizer_tensors(optimizer: torch.optim.Optimizer, flat: dict[str, torch.Tensor], source: object) -> None:
    """Inverse of :func:`optimizer_to_tensors`; the optimizer's own hyperparameters are kept.

    Moment estimates must have their parameter's shape, so a damaged file fails here, not at the next step.
    """
    current = optimizer.state_dict()
    params = [param for group in optimizer.param_groups for param in group["params"]]
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in flat.items():
        prefix, index, name = key.split(".", 2) if key.count(".") >= 2 else (key, "", "")
        if prefix != "state" or not index.isdigit() or int(index) >= len(params):
            raise CheckpointError(
                f"{source}: unexpected optimizer entry {key!r} for an optimizer of {len(params)} parameters."
            )
        expected = () if name == "step" else params[int(index)].shape
        if tuple(tensor.shape) != tuple(expected):
            raise CheckpointError(
                f"{source}: optimizer entry {key!r} has shape {tuple(tensor.shape)}, expected {tuple(expected)}."
            )
        state.setdefault(int(index), {})[name] = tensor
    optimizer.load_state_dict({"state": state, "param_groups": current["param_groups"]})
