"""A moving average of a network's weights for evaluation (``DQNConfig.ema_decay``; Nikishin et al. 2018).

The online weights keep learning and acting; the average trails them by ``1 - decay`` per update, and
:meth:`WeightAverage.swapped_in` lends it to the network for a block (an evaluation, a save), then puts the online
weights back.

Example:
    >>> import torch
    >>> layer = torch.nn.Linear(2, 1)
    >>> average = WeightAverage(list(layer.parameters()), decay=0.5)
    >>> with torch.no_grad():
    ...     _ = layer.weight.add_(2.0)
    >>> average.update()
    >>> with average.swapped_in():
    ...     shift = layer.weight - average.tensors[0]
    >>> torch.count_nonzero(shift).item()
    0
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from mario_zoo.agents.checkpoint import CheckpointError


class WeightAverage:
    """``average <- average + (1 - decay) * (online - average)`` after each update, starting at the online weights."""

    def __init__(self, params: list[torch.nn.Parameter], decay: float):
        self.params = params
        self.decay = decay
        self.tensors: list[torch.Tensor] = []
        self.swapped = False
        """Whether the parameters hold the average now (inside :meth:`swapped_in`)."""
        self.reset()

    def reset(self) -> None:
        """Start again at the online weights (after new weights were loaded into them)."""
        with torch.no_grad():
            self.tensors = [param.detach().clone() for param in self.params]

    def update(self) -> None:
        """Move the average towards the online weights by ``1 - decay``."""
        with torch.no_grad():
            torch._foreach_lerp_(self.tensors, self.params, 1.0 - self.decay)

    def load(self, tensors: list[torch.Tensor], source: object) -> None:
        """Restore a saved average (one tensor per parameter, in order); a mismatch is a ``CheckpointError``."""
        shapes = [tuple(tensor.shape) for tensor in tensors]
        if shapes != [tuple(param.shape) for param in self.params]:
            raise CheckpointError(f"{source}: the averaged weights do not fit the network's parameters.")
        with torch.no_grad():
            torch._foreach_copy_(self.tensors, [tensor.to(self.tensors[0].device) for tensor in tensors])

    @contextlib.contextmanager
    def swapped_in(self) -> Iterator[None]:
        """Inside the block the parameters hold the average; the online weights come back after it, even on error."""
        with torch.no_grad():
            online = [param.detach().clone() for param in self.params]
        try:
            self.adopt()
            self.swapped = True
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self.params, online)
            self.swapped = False

    def adopt(self) -> None:
        """Make the average the online weights for good: an agent loaded to play or publish plays what was judged."""
        with torch.no_grad():
            torch._foreach_copy_(self.params, self.tensors)


class AveragedWeights:
    """The DQN's methods for its weight average (``ema_decay``), kept in ``_average`` (``None`` without one)."""

    _average: WeightAverage | None

    def reset_averaged_weights(self) -> None:
        """Start the moving average (``ema_decay``) at the online weights, e.g. after loading new ones."""
        if self._average is not None:
            self._average.reset()

    def averaged_weights(self) -> contextlib.AbstractContextManager[None]:
        """Inside the block the online network holds the averaged weights (``ema_decay``), so ``predict``,
        evaluation and :meth:`save` use them; the online weights come back after it. A no-op without
        ``ema_decay``. Acting in training and the TD targets always use the online weights. Inside the block,
        :meth:`save` writes an agent to play (``include_optimizer=False``); the training state is saved outside it.

        Example:
            >>> from mario_zoo import DQN
            >>> model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.99, device="cpu")
            >>> with model.averaged_weights():
            ...     action, _ = model.predict(model.observation_space.sample(), deterministic=True)
        """
        return contextlib.nullcontext() if self._average is None else self._average.swapped_in()

    def adopt_averaged_weights(self) -> None:
        """Make the averaged weights (``ema_decay``) the network's for good, for an agent loaded to play or publish
        from a run's checkpoint (whose ``model.safetensors`` holds the online weights). A no-op without them."""
        if self._average is not None:
            self._average.adopt()
