"""A damaged run folder is one line naming the file, exit 2, and nothing in the folder changes: run.json cut short,
of the wrong types or too large, and a checkpoint whose replay buffer was truncated."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from mario_zoo import runs
from mario_zoo.agents.checkpoint import REPLAY_TENSORS_FILE


@pytest.fixture(scope="module")
def replay_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished CartPole run whose checkpoint holds its replay buffer."""
    from tests.conftest import run_cli

    path = tmp_path_factory.mktemp("runs") / "replay"
    result = run_cli(
        "train", "--steps", 300, "--hp", "learning_starts=50", "--save-freq", 100, "--save-replay",
        "--eval-episodes", 0, "--no-progress", "--out", path,
    )  # fmt: skip
    assert result.code == 0, result.err
    return path


@pytest.fixture
def run(replay_run, tmp_path) -> Path:
    return Path(shutil.copytree(replay_run, tmp_path / "run"))


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None for path in folder.rglob("*")}


def _assert_refused(result, *needles: str) -> None:
    assert result.code == 2, result
    message = result.err.strip()
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message


def _with_hyperparameter(text: str, name: str, value: object) -> dict:
    settings = json.loads(text)
    return {**settings, "hyperparameters": {**settings["hyperparameters"], name: value}}


def _edit_run_json(run: Path, change) -> None:
    path = run / "run.json"
    path.write_text(change(path.read_text()))


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda text: text[: len(text) // 2], "run.json is not valid JSON"),
        (lambda text: json.dumps({**json.loads(text), "total_timesteps": "many"}), "has an invalid total_timesteps: "
         "expected an int >= 1, got 'many'"),
        (lambda text: json.dumps({**json.loads(text), "env_kwargs": [1, 2]}), "has an invalid env_kwargs: expected a "
         "mapping"),
        (lambda text: json.dumps({**json.loads(text), "status": "paused"}), "has an invalid status"),
        (lambda text: json.dumps(_with_hyperparameter(text, "gamma", 2)), "has invalid hyperparameters: gamma must be "
         "in [0.0, 1.0], got 2."),
        (lambda text: json.dumps(_with_hyperparameter(text, "gama", 0.9)), "has invalid hyperparameters: Unknown DQN "
         "hyperparameter 'gama' (did you mean 'gamma'?)"),
        (lambda text: json.dumps([json.loads(text)]), "run.json must hold a JSON object of run settings, found a list"),
        (lambda text: json.dumps({**json.loads(text), "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}),
         "nests 34 levels deep; the limit is 32"),
    ],
)  # fmt: skip
def test_a_damaged_run_json_is_one_line_naming_it(cli, run, change, needle):
    _edit_run_json(run, change)
    before = _snapshot(run)
    _assert_refused(cli("train", "--resume", run, "--steps", 600, "--no-progress"), str(run / "run.json"), needle)
    assert _snapshot(run) == before
    _assert_refused(cli("plot", run, "--out", run.parent / "curve.png"), str(run / "run.json"))


def test_a_run_json_over_its_size_limit_is_refused(cli, run, monkeypatch):
    size = (run / "run.json").stat().st_size
    monkeypatch.setattr(runs, "MAX_RUN_JSON_BYTES", size)
    assert runs.open_run(run).read_config().total_timesteps == 300
    monkeypatch.setattr(runs, "MAX_RUN_JSON_BYTES", size - 1)
    result = cli("train", "--resume", run, "--steps", 600, "--no-progress")
    _assert_refused(result, f"{run / 'run.json'} is larger than the")


def test_a_truncated_replay_buffer_is_one_line_and_nothing_is_overwritten(cli, run):
    checkpoint = run / "checkpoint.zip"
    with zipfile.ZipFile(checkpoint) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[REPLAY_TENSORS_FILE] = members[REPLAY_TENSORS_FILE][: len(members[REPLAY_TENSORS_FILE]) // 2]
    with zipfile.ZipFile(checkpoint, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    before = _snapshot(run)
    result = cli("train", "--resume", run, "--steps", 600, "--no-progress")
    _assert_refused(
        result,
        f"Cannot resume {run}",
        f"{checkpoint}:{REPLAY_TENSORS_FILE} is corrupt: it ends early (truncated file).",
        "Nothing was changed",
    )
    assert _snapshot(run) == before


def test_a_truncated_checkpoint_names_what_to_do_next(cli, run):
    checkpoint = run / "checkpoint.zip"
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    before = _snapshot(run)
    result = cli("train", "--resume", run, "--steps", 600, "--no-progress")
    _assert_refused(result, f"Cannot resume {run}: its checkpoint is unreadable (", "Nothing was changed")
    assert (f"--init-from {run / 'model'}" in result.err) == (run / "model").is_dir()
    assert ".)." not in result.err
    assert _snapshot(run) == before


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("200,2,nan,0.5,9.5,,,\n", "line 3 is damaged (mean_reward 'nan' is not a finite number)"),
        ("200,2,9.5,0.5,many,,,\n", "line 3 is damaged (could not convert string to float: 'many')"),
        ("-5,2,9.5,0.5,9.5,,,\n", "line 3 is damaged (timesteps '-5' is negative)"),
    ],
)
def test_a_damaged_evaluations_csv_stops_a_resume_before_anything_is_written(cli, run, row, needle):
    """The resumed run continues the evaluation history (best_model/ is ranked against it): a damaged row is one
    line naming the file and the line, before the run is touched."""
    (run / "evaluations.csv").write_text(
        "timesteps,n_eval_episodes,mean_reward,std_reward,mean_ep_length,flag_rate,x_pos_mean,x_pos_max\n"
        "100,2,9.0,0.5,9.0,,,\n" + row
    )
    before = _snapshot(run)
    result = cli("train", "--resume", run, "--steps", 600, "--no-progress")
    _assert_refused(result, f"Cannot resume {run}: {run / 'evaluations.csv'} {needle}", "Nothing was changed")
    assert _snapshot(run) == before


def test_a_run_that_lost_its_checkpoint_is_not_started_over(cli, run):
    """Without checkpoint.zip a resume would start from step 0 and replace the run's agents, logs and snapshots:
    right only for a run stopped before its first checkpoint, so a run that shows it got further is refused."""
    (run / "checkpoint.zip").unlink()
    before = _snapshot(run)
    result = cli("train", "--resume", run, "--steps", 600, "--no-progress")
    _assert_refused(result, f"Cannot resume {run}: it has no checkpoint.zip, but it trained past its first checkpoint "
                    "(status 'finished'",
                    "model/", "Nothing was changed", f"--init-from {run / 'model'}")  # fmt: skip
    assert _snapshot(run) == before
    (run / "checkpoint.zip").mkdir()
    before = _snapshot(run)
    result = cli("train", "--resume", run, "--steps", 600, "--no-progress")
    _assert_refused(result, f"{run / 'checkpoint.zip'} is not a file. Nothing was changed.")
    assert _snapshot(run) == before


def test_a_run_stopped_before_its_first_checkpoint_starts_over(cli, tmp_path):
    """The one case where a missing checkpoint is expected: run.json still says running, and what was kept (an
    evaluation, a snapshot, the best model) came before the first checkpoint's step."""
    from mario_zoo.runs import open_run

    path = tmp_path / "early"
    trained = cli(
        "train", "--steps", 400, "--save-freq", 10_000, "--eval-freq", 100, "--eval-episodes", 1, "--snapshot-freq",
        100, "--no-progress", "--out", path,
    )  # fmt: skip
    assert trained.code == 0, trained.err
    (path / "checkpoint.zip").unlink()
    shutil.rmtree(path / "model")  # as a run killed before its end has none
    settings = json.loads((path / "run.json").read_text())
    (path / "run.json").write_text(json.dumps({**settings, "status": "running"}))
    assert (path / "best_model").is_dir() and (path / "evaluations.csv").is_file()
    result = cli("train", "--resume", path, "--no-progress")
    assert result.code == 0, result.err
    assert "from the start" in result.out and open_run(path).read_config().status == "finished"


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda run: (run / "monitor.csv").write_bytes((run / "monitor.csv").read_bytes() + b"\xff\xfe\x00garbage\n"),
         "monitor.csv is damaged: byte"),
        (lambda run: _edit_run_json(run, lambda text: json.dumps({**json.loads(text), "env_kwargs": {"foo": 1}})),
         "Unknown env kwarg 'foo' for CartPole-v1"),
        (lambda run: _edit_run_json(run, lambda text: json.dumps({**json.loads(text), "env_id": "Nope-v3"})),
         "Unknown env ID 'Nope-v3'"),
    ],
)  # fmt: skip
def test_what_a_resume_reads_is_checked_before_it_writes(cli, run, damage, needle):
    damage(run)
    before = _snapshot(run)
    result = cli("train", "--resume", run, "--steps", 600, "--no-progress")
    _assert_refused(result, f"Cannot resume {run}", needle, "Nothing was changed")
    assert _snapshot(run) == before


def test_a_progress_row_whose_step_is_not_a_number_is_dropped_as_a_half_written_one(cli, run):
    progress = run / "progress.csv"
    header, *rows = progress.read_text().splitlines()
    column = header.split(",").index("time/total_timesteps")
    for bad in ("abc", "inf"):
        cells = rows[0].split(",")
        cells[column] = bad
        rows.append(",".join(cells))
    progress.write_text("\n".join([header, *rows]) + "\n")
    result = cli("train", "--resume", run, "--steps", 600, "--no-progress")
    assert result.code == 0, result.err
    assert ",abc," not in progress.read_text() and ",inf," not in progress.read_text()


def test_a_snapshot_that_is_a_link_is_unlinked_never_followed(cli, tmp_path):
    """Snapshots after the checkpoint go when a run resumes; one that is a symlink loses the link only."""
    path = tmp_path / "run"
    assert (
        cli("train", "--steps", 300, "--save-freq", 100, "--eval-episodes", 0, "--no-progress", "--out", path).code == 0
    )
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (path / "snapshots").mkdir(exist_ok=True)
    (path / "snapshots" / "step-000099999999").symlink_to(outside, target_is_directory=True)
    result = cli("train", "--resume", path, "--steps", 400, "--no-progress")
    assert result.code == 0, result.err
    assert not (path / "snapshots" / "step-000099999999").exists() and (outside / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda text: json.dumps({**json.loads(text), "notes": "mine"}), "has unknown fields ['notes']"),
        (lambda text: json.dumps({**json.loads(text), "policy": "FooPolicy"}), "has an invalid policy: expected one of"),
        (lambda text: json.dumps({**json.loads(text), "seed": 2**80}), "has an invalid seed: expected an int >= 0 and "
         "below 2**32"),
        (lambda text: text.replace('"seed": 0', '"seed": ' + "9" * 5000), "is not valid JSON (Exceeds the limit"),
    ],
)  # fmt: skip
def test_run_json_fields_no_version_writes_are_refused(cli, run, change, needle):
    _edit_run_json(run, change)
    before = _snapshot(run)
    _assert_refused(cli("train", "--resume", run, "--steps", 600, "--no-progress"), str(run / "run.json"), needle)
    assert _snapshot(run) == before
