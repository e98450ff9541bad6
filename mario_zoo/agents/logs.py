"""The training statistics an agent writes through SB3's ``Logger`` (``time/``, ``rollout/``, ``train/`` keys).

:class:`TrainingLogs` is the logging surface of :class:`~mario_zoo.agents.dqn.DQN` (``logger``, ``set_logger``,
``dump_logs``), the one SB3's algorithms have, so that SB3's callbacks and ``configure`` work unchanged.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque

from stable_baselines3.common.logger import HumanOutputFormat, Logger
from stable_baselines3.common.utils import configure_logger, safe_mean


def quiet_logger(verbose: int) -> Logger:
    """A logger that writes no file and makes no folder: stdout with ``verbose >= 1``, else nothing. An agent's
    logger until :meth:`~mario_zoo.agents.dqn.DQN.learn` sets up the one it trains with (SB3 has none before).

    Example:
        >>> quiet_logger(0).get_dir() is None and quiet_logger(0).output_formats == []
        True
    """
    return Logger(folder=None, output_formats=[HumanOutputFormat(sys.stdout)] if verbose >= 1 else [])


def default_logger(
    verbose: int, tensorboard_log: str | None = None, tb_log_name: str = "", reset_num_timesteps: bool = True
) -> Logger:
    """The logger :meth:`~mario_zoo.agents.dqn.DQN.learn` sets up: SB3's (``configure_logger``: stdout with
    ``verbose >= 1``, TensorBoard with ``tensorboard_log``, the folder ``$SB3_LOGDIR`` when set), without the empty
    ``SB3-<date>`` folder that SB3 makes in the temporary directory when it writes no file: each of many trainings,
    e.g. a sweep's trials, would leave one behind.
    """
    if tensorboard_log is not None or os.getenv("SB3_LOGDIR"):
        return configure_logger(verbose, tensorboard_log, tb_log_name, reset_num_timesteps)
    return quiet_logger(verbose)


class TrainingLogs:
    """SB3's logger surface, for a class that sets the counters below (the agent's ``_setup``).

    Example:
        >>> import pathlib, tempfile
        >>> from mario_zoo import DQN
        >>> from stable_baselines3.common.logger import configure
        >>> model = DQN("MlpPolicy", "CartPole-v1", device="cpu")
        >>> folder = tempfile.mkdtemp()
        >>> model.set_logger(configure(folder, ["csv"]))
        >>> model.dump_logs()
        >>> sorted(pathlib.Path(folder, "progress.csv").read_text().splitlines()[0].split(","))
        ['time/episodes', 'time/fps', 'time/time_elapsed', 'time/total_timesteps']
    """

    _logger: Logger
    _custom_logger: bool
    start_time: int
    num_timesteps: int
    _num_timesteps_at_start: int
    _episode_num: int
    _last_dump_timesteps: int
    ep_info_buffer: deque[dict[str, float]]

    @property
    def logger(self) -> Logger:
        """SB3's ``Logger``: stdout with ``verbose=1``, TensorBoard with ``tensorboard_log``."""
        return self._logger

    def set_logger(self, logger: Logger) -> None:
        """Log to ``logger`` (e.g. ``stable_baselines3.common.logger.configure(folder, ["csv"])``)."""
        self._logger = logger
        self._custom_logger = True

    def dump_logs(self) -> None:
        """Write the training statistics (SB3's ``time/``, ``rollout/`` and ``train/`` keys)."""
        time_elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        fps = int((self.num_timesteps - self._num_timesteps_at_start) / time_elapsed)
        self.logger.record("time/episodes", self._episode_num, exclude="tensorboard")
        if self.ep_info_buffer:
            self.logger.record("rollout/ep_rew_mean", safe_mean([info["r"] for info in self.ep_info_buffer]))
            self.logger.record("rollout/ep_len_mean", safe_mean([info["l"] for info in self.ep_info_buffer]))
        self.logger.record("time/fps", fps)
        self.logger.record("time/time_elapsed", int(time_elapsed), exclude="tensorboard")
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(step=self.num_timesteps)
        self._last_dump_timesteps = self.num_timesteps
