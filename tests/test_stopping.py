"""The first Ctrl-C or SIGTERM asks training to stop at a round start; the second stops at once."""

from __future__ import annotations

import os
import signal

import pytest
from stable_baselines3.common.callbacks import BaseCallback

from mario_zoo.agents import DQN, checkpoint
from mario_zoo.stopping import StopAtRoundStart, StopRequest, Terminated, stop_on_signals


@pytest.mark.parametrize(
    ("sent", "raised"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Terminated)], ids=["int", "term"]
)
def test_the_first_signal_asks_and_the_second_stops_at_once(sent, raised, capfd):
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    request = StopRequest()
    with pytest.raises(raised), stop_on_signals(request):
        os.kill(os.getpid(), sent)
        assert request.signal == sent
        assert "Ctrl-C again to stop now" in capfd.readouterr().err
        os.kill(os.getpid(), sent)
        pytest.fail("the second signal did not stop")
    assert {number: signal.getsignal(number) for number in before} == before


def test_an_ignored_signal_stays_ignored_and_a_gone_stderr_does_not_stop_the_stop(monkeypatch):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        request = StopRequest()

        def broken_pipe(*_args):
            raise BrokenPipeError(32, "Broken pipe")

        monkeypatch.setattr(os, "write", broken_pipe)
        with stop_on_signals(request):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)  # ignored
            assert request.signal is None
            os.kill(os.getpid(), signal.SIGTERM)  # handled, though stderr cannot be written
            assert request.signal == signal.SIGTERM
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("save_replay", [False, True])
def test_a_requested_stop_saves_at_the_next_round_start_and_ends_learn(tmp_path, save_replay):
    path = tmp_path / "checkpoint.zip"
    request = StopRequest()
    stop = StopAtRoundStart(request, path, save_replay=save_replay)

    class AskAt(StopAtRoundStart):  # the signal arrives in the middle of a round, after step 103
        def _on_step(self) -> bool:
            if self.model.num_timesteps == 103:
                request.signal = signal.SIGTERM
            return True

    class Steps(BaseCallback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def _on_step(self) -> bool:
            self.seen.append(self.model.num_timesteps)
            return True

    steps = Steps()
    stop.callbacks = [AskAt(StopRequest(), tmp_path / "unused.zip", False), steps]
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, train_freq=4, seed=0, device="cpu")
    model.learn(1000, callback=stop)
    assert stop.saved_at == 104 == checkpoint.read_config(path).num_timesteps  # the next round starts at 104
    assert model.num_timesteps == 105  # ended in the round's first step
    assert steps.seen[-1] == 104  # the wrapped callbacks saw no step past the checkpoint
    if save_replay:
        saved = DQN.load(path)
        saved.load_replay_buffer(path)
        assert len(saved.replay_buffer) == 104
    assert not (tmp_path / "unused.zip").exists()


def test_a_stop_at_the_round_start_of_a_periodic_checkpoint_keeps_that_file(tmp_path):
    path = tmp_path / "checkpoint.zip"
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, train_freq=4, seed=0, device="cpu")
    model.learn(100)
    model.save(path, include_replay_buffer=True)
    written = path.stat().st_mtime_ns
    stop = StopAtRoundStart(StopRequest(signal.SIGINT), path, save_replay=True)
    model.learn(100, callback=stop, reset_num_timesteps=False)
    assert stop.saved_at == 100 and path.stat().st_mtime_ns == written
