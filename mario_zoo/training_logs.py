"""A training run's logs, which a resumed run continues: ``monitor.csv`` (SB3's ``Monitor`` format, one row per
episode), ``progress.csv`` and ``tensorboard/`` (SB3's ``Logger``).

``monitor.csv`` is written in the learning process, by :class:`EpisodeLog`, from the ``episode`` statistics that
the env's ``Monitor`` puts in each finished episode's ``info``: with actor processes (``actors=k``), each actor
steps its own env, and k Monitors writing one file would overwrite each other's rows.

A run killed after its last checkpoint logged steps that the resumed run plays again: :func:`run_logger` appends
to the earlier ``progress.csv`` (the run folder cut it back to the checkpoint's step) and tells TensorBoard to
drop the events past it; :class:`EpisodeLog` appends to ``monitor.csv`` and continues its clock.

Example:
    >>> import tempfile
    >>> run = RunFolder(Path(tempfile.mkdtemp()) / "run")
    >>> run.path.mkdir()
    >>> logger = run_logger(run, start=0, resumed=False)
    >>> logger.record("time/total_timesteps", 1)
    >>> logger.dump(1)
    >>> logger.close()
    >>> run.progress.read_text(encoding="utf-8").split()
    ['time/total_timesteps', '1']
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gymnasium as gym
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import CSVOutputFormat, Logger, TensorBoardOutputFormat
from stable_baselines3.common.monitor import Monitor, ResultsWriter

from mario_zoo.atomic import atomic_target
from mario_zoo.extras import installed
from mario_zoo.runs import RunFolder


def run_logger(run: RunFolder, start: int, resumed: bool) -> Logger:
    """SB3's logger writing the run's ``progress.csv`` and ``tensorboard/`` (with the ``tensorboard`` extra); when
    ``resumed`` from step ``start``, continuing them."""
    outputs = [_csv_log(run.progress, resumed)]
    if installed("tensorboard"):
        outputs.append(_tensorboard_log(run.tensorboard, start, resumed))
    return Logger(str(run.path), outputs)


def monitored_env(env_id: str, env_kwargs: dict[str, Any], *, info_keywords: tuple[str, ...]) -> Monitor:
    """``gym.make(env_id, **env_kwargs)`` in a ``Monitor`` that writes no file (:class:`EpisodeLog` writes the
    rows), its episode statistics also holding ``info_keywords``."""
    return Monitor(gym.make(env_id, **env_kwargs), info_keywords=info_keywords)


class EpisodeLog(BaseCallback):
    """Writes a run's ``monitor.csv`` (SB3's ``Monitor`` format, read by ``load_results``): one row for each
    episode that ends in a step of :meth:`learn`, from the ``episode`` statistics in the step's ``info``, its ``t``
    column the seconds on this callback's one clock (actor processes each start their env's own), so that the rows
    are in time order.

    Args:
        filename: the run's ``monitor.csv``.
        env_id: the header's ``env_id``.
        override_existing: start the file (a new run), or append to it (a resumed one).
        info_keywords: the ``info`` keys that the env's ``Monitor`` adds to each episode's statistics.
        seconds_before: start the clock this many seconds in (a resumed run continues the killed run's clock, so
            that its rows stay in time order: SB3's ``load_results`` and rl-zoo's plots sort by ``t``).

    Example:
        >>> import tempfile
        >>> from mario_zoo import DQN
        >>> filename = Path(tempfile.mkdtemp()) / "monitor.csv"
        >>> model = DQN("MlpPolicy", "CartPole-v1", learning_starts=10**6, device="cpu")
        >>> with EpisodeLog(filename, "CartPole-v1", override_existing=True) as log:
        ...     _ = model.learn(300, callback=log)
        >>> rows = [row.split(",") for row in filename.read_text().splitlines()[2:]]
        >>> len(rows) == model._episode_num and [float(t) for *_, t in rows] == sorted(float(t) for *_, t in rows)
        True
    """

    def __init__(
        self,
        filename: str | Path,
        env_id: str,
        *,
        override_existing: bool,
        info_keywords: tuple[str, ...] = (),
        seconds_before: float = 0.0,
    ):
        super().__init__()
        self._t_start = time.time() - seconds_before
        header = {"t_start": self._t_start, "env_id": env_id}
        self._writer = ResultsWriter(
            str(filename), header=header, extra_keys=info_keywords, override_existing=override_existing
        )

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "episode" in info:
                # A copy: the statistics also reach the agent's ep_info_buffer.
                self._writer.write_row({**info["episode"], "t": round(time.time() - self._t_start, 6)})
        return True

    def close(self) -> None:
        """Close the file (each row is flushed as it is written)."""
        self._writer.close()

    def __enter__(self) -> EpisodeLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _tensorboard_log(folder: Path, start: int, resumed: bool) -> TensorBoardOutputFormat:
    """SB3's TensorBoard writer; when resuming from step ``start``, one that drops the killed run's later events."""
    return _ResumedTensorBoard(str(folder), purge_step=start + 1) if resumed else TensorBoardOutputFormat(str(folder))


class _ResumedTensorBoard(TensorBoardOutputFormat):
    """SB3's TensorBoard writer whose first event tells TensorBoard to drop the events logged at steps >=
    ``purge_step`` by an earlier writer (``SummaryWriter(purge_step=...)``, TensorBoard's own mechanism for
    restarted runs): the steps a killed run logged after its checkpoint are replayed by the resumed run."""

    def __init__(self, folder: str, purge_step: int):  # not super().__init__(), which opens a plain writer
        from torch.utils.tensorboard import SummaryWriter

        # TensorBoard reads a run's event files in name order, and a name starts with the second its writer was
        # created: a writer created in the same second as the killed run's could sort (by pid) before it, and its
        # purge would then come first and drop nothing. Start in a later second than every existing file.
        newest = max((_event_file_second(path) for path in Path(folder).glob("events.out.tfevents.*")), default=0)
        while time.time() < newest + 1:
            time.sleep(0.05)

        self.writer = SummaryWriter(log_dir=folder, purge_step=purge_step)
        self._is_closed = False


def _event_file_second(path: Path) -> int:
    """The creation second in a TensorBoard event file's name (``events.out.tfevents.<second>.<host>...``)."""
    try:
        return int(path.name.split(".")[3])
    except (IndexError, ValueError):
        return 0


def _csv_log(path: Path, resumed: bool) -> CSVOutputFormat:
    """SB3's CSV writer for ``progress.csv``; when resuming, one that continues the existing rows."""
    if not resumed or not path.is_file():
        return CSVOutputFormat(str(path))
    previous = path.read_text(encoding="utf-8")
    # SB3's writer truncates its file on open: let it open a temporary one, put the earlier rows in it, and rename
    # it over progress.csv (the open handle follows the rename), so the old rows are never absent from disk.
    with atomic_target(path) as temporary:
        writer = CSVOutputFormat(str(temporary))
        writer.file.write(previous)
        writer.file.flush()
        header = previous.split("\n", 1)[0]
        writer.keys = header.split(",") if header else []
    return writer
