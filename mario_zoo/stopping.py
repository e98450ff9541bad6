"""Stopping a training run on Ctrl-C or SIGTERM without losing the steps since its last periodic checkpoint.

The first signal asks for a stop: :class:`StopAtRoundStart` then saves the checkpoint at the start of the next
training round (where every collected transition is stored and every update done, the moment periodic checkpoints
are taken) and ends ``learn``. A run resumed from it continues from that step. A second signal stops at once: it
raises ``KeyboardInterrupt`` (:class:`Terminated` for SIGTERM) and the run keeps its last periodic checkpoint, as a
kill would. A signal the process was started ignoring (a shell script's background job ignores SIGINT) stays
ignored.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from mario_zoo.agents import DQN
    >>> request = StopRequest()
    >>> stop = StopAtRoundStart(request, Path(tempfile.mkdtemp()) / "checkpoint.zip", save_replay=False)
    >>> model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, device="cpu")
    >>> request.signal = signal.SIGINT  # what the first Ctrl-C does under stop_on_signals()
    >>> _ = model.learn(1000, callback=stop)
    >>> stop.saved_at, model.num_timesteps  # saved at the first round's start, stopped in its first step
    (0, 1)
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from stable_baselines3.common.callbacks import BaseCallback, CallbackList

from mario_zoo.agents import DQN, checkpoint, training_state

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_STOPPING = (
    b"\nStopping: saving a checkpoint at the start of the next training round (Ctrl-C again to stop now, from the "
    b"last periodic checkpoint).\n"
)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by a second SIGTERM, so that training stops at once as on a second Ctrl-C."""

    def __init__(self, signal_number: int):
        super().__init__(f"received signal {signal_number}")
        self.signal_number = signal_number


@dataclass
class StopRequest:
    """The signal that asked training to stop (``None``: none did)."""

    signal: int | None = None


@contextmanager
def stop_on_signals(request: StopRequest) -> Iterator[StopRequest]:
    """Within the block, the first SIGINT or SIGTERM sets ``request.signal`` and says so on stderr; the next one
    raises ``KeyboardInterrupt`` (SIGINT) or :class:`Terminated` (SIGTERM). Signals set to be ignored stay ignored.

    Only the main thread can set signal handlers; elsewhere (training in a worker thread) the defaults stay.
    """
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handler(signal_number: int, _frame: FrameType | None) -> None:
        if request.signal is not None:
            if signal_number == signal.SIGINT:
                raise KeyboardInterrupt
            raise Terminated(signal_number)
        request.signal = signal_number
        # os.write, not print: a handler may run in the middle of another write to the same stream. A stderr that
        # is gone (a pipe whose reader the same Ctrl-C stopped) must not turn the stop into a crash.
        with contextlib.suppress(OSError):
            os.write(2, _STOPPING)

    handled = [number for number in STOP_SIGNALS if signal.getsignal(number) is not signal.SIG_IGN]
    previous = {number: signal.signal(number, handler) for number in handled}
    try:
        yield request
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


class StopAtRoundStart(CallbackList):
    """Runs ``callbacks``; once ``request`` holds a signal, saves the model (with ``save_replay``, its replay buffer
    and RNG states too) to ``path`` at the start of the next training round, after the callbacks' own round start
    (a periodic checkpoint taken there is kept), then ends ``learn`` without calling them again. ``saved_at`` is
    that checkpoint's step count (``None`` until it is saved).
    """

    def __init__(
        self,
        request: StopRequest,
        path: str | os.PathLike[str],
        save_replay: bool,
        callbacks: Iterable[BaseCallback] = (),
    ):
        super().__init__(list(callbacks))
        self.request = request
        self.path = Path(path)
        self.save_replay = save_replay
        self.saved_at: int | None = None

    def _on_rollout_start(self) -> None:
        super()._on_rollout_start()
        if self.request.signal is not None and self.saved_at is None:
            self.save(self.model)

    def _on_step(self) -> bool:
        if self.saved_at is not None:
            return False
        return super()._on_step()

    def save(self, model: DQN) -> int:
        """Save ``model`` now (a moment between training rounds) unless the checkpoint already holds this moment;
        returns its step count."""
        steps = model.num_timesteps
        if not self._holds(steps):
            model.save(self.path, include_replay_buffer=self.save_replay)
        self.saved_at = steps
        return steps

    def _holds(self, steps: int) -> bool:
        """The checkpoint on disk is the periodic one of this very round start. (Without the replay buffer,
        periodic checkpoints are taken at a step, before that round's updates: never the same moment.)"""
        if not self.save_replay or not self.path.is_file() or not training_state.has_replay(self.path):
            return False
        return checkpoint.read_config(self.path).num_timesteps == steps
