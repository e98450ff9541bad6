"""Actor processes (``actors=k``): the sequential loop's steps, callbacks and replay ratio; faults; no orphans."""

from __future__ import annotations

import functools
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.envs.registration import EnvSpec
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from mario_zoo.agents import DQN, DQNConfig
from mario_zoo.agents.actor import ActorError

FAST = {"learning_starts": 40, "batch_size": 16, "buffer_size": 1000, "device": "cpu", "seed": 0}
ROOT = Path(__file__).resolve().parents[2]


def fake_frame_env(**kwargs: Any) -> functools.partial:
    """A picklable factory of tests/agents/conftest.py's FakeFrameEnv (an actor imports it by name)."""
    return functools.partial(gym.make, EnvSpec("FakeFrame-v0", "tests.agents.conftest:FakeFrameEnv", kwargs=kwargs))


class FailingEnv(gym.Wrapper):
    """CartPole that raises on its ``fail_at``-th step."""

    def __init__(self, fail_at: int):
        super().__init__(gym.make("CartPole-v1"))
        self.fail_at, self.steps = fail_at, 0

    def step(self, action):
        self.steps += 1
        if self.steps == self.fail_at:
            raise RuntimeError(f"the emulator broke at step {self.steps}")
        return super().step(action)


class Recorder(BaseCallback):
    """Keeps what each ``on_step`` sees, and the step count at each training round."""

    def __init__(self):
        super().__init__()
        self.steps: list[dict[str, Any]] = []

    def _on_step(self) -> bool:
        self.steps.append(
            {
                "num_timesteps": self.num_timesteps,
                "actions": self.locals["actions"].copy(),
                "new_obs": self.locals["new_obs"].copy(),
                "rewards": self.locals["rewards"].copy(),
                "dones": self.locals["dones"].copy(),
                "infos": self.locals["infos"],
            }
        )
        return True


def record_training_rounds(model: DQN) -> list[tuple[int, int]]:
    """Wrap ``model.train`` to record ``(num_timesteps, gradient_steps)`` of each call."""
    rounds: list[tuple[int, int]] = []
    train = model.train

    def recording_train(gradient_steps: int) -> None:
        train(gradient_steps)
        rounds.append((model.num_timesteps, gradient_steps))

    model.train = recording_train
    return rounds


def test_actors_take_the_sequential_loops_steps_and_replay_ratio():
    results = {}
    for actors in (0, 1):
        model = DQN("MlpPolicy", "CartPole-v1", train_freq=8, gradient_steps=3, actors=actors, **FAST)
        rounds, recorder = record_training_rounds(model), Recorder()
        model.learn(300, callback=recorder)
        results[actors] = (model, rounds, recorder)
    (sequential, sequential_rounds, sequential_steps), (actor, actor_rounds, actor_steps) = results[0], results[1]

    assert actor.num_timesteps == sequential.num_timesteps == 304  # 38 rounds of 8 steps, as SB3 finishes a round
    assert actor._buffer_steps == sequential._buffer_steps == 304
    assert actor._n_updates == sequential._n_updates == 3 * (304 - 40) // 8
    assert actor_rounds == sequential_rounds  # the same gradient steps after the same env steps
    # Callbacks see every step, with SB3's locals.
    for recorder in (sequential_steps, actor_steps):
        assert [step["num_timesteps"] for step in recorder.steps] == list(range(1, 305))
    episodes = [info["episode"] for step in actor_steps.steps for info in step["infos"] if "episode" in info]
    assert sum(int(step["dones"].sum()) for step in actor_steps.steps) == len(episodes) == actor._episode_num
    assert list(actor.ep_info_buffer) == episodes[-100:]
    assert sum(episode["l"] for episode in episodes) <= 304
    assert actor.exploration_rate == sequential.exploration_rate
    assert actor.get_env().num_envs == actor.n_envs == 1


def test_observations_rewards_and_episode_ends_match_the_env(frame_env_class):
    """The learner rebuilds each observation from one frame: the callback's steps are the env's, exactly."""
    model = DQN(
        "CnnPolicy",
        fake_frame_env(episode_length=(5, 9), truncate=True),
        frame_stack_replay=True,
        actors=1,
        policy_kwargs={"features_extractor_kwargs": {"features_dim": 16}},
        **{**FAST, "learning_starts": 20, "batch_size": 4},
    )
    recorder = Recorder()
    model.learn(60, callback=recorder)

    env = DummyVecEnv([lambda: frame_env_class(episode_length=(5, 9), truncate=True)])
    env.reset()
    for step in recorder.steps:
        new_obs, rewards, dones, infos = env.step(step["actions"])
        np.testing.assert_array_equal(step["new_obs"], new_obs)
        np.testing.assert_array_equal(step["rewards"], rewards)
        np.testing.assert_array_equal(step["dones"], dones)
        if dones[0]:
            np.testing.assert_array_equal(step["infos"][0]["terminal_observation"], infos[0]["terminal_observation"])
            assert step["infos"][0]["TimeLimit.truncated"]
    assert model.num_timesteps == len(recorder.steps) == 60
    assert model._n_updates > 0 and model.replay_buffer.frame_stack == 4


def test_rounds_of_episodes_longer_than_the_frame_ring(frame_env_class):
    """train_freq in episodes: 300-step episodes wrap the actor's 256-slot frame ring within one round."""
    model = DQN(
        "CnnPolicy",
        fake_frame_env(episode_length=300),
        frame_stack_replay=True,
        train_freq=(1, "episode"),
        actors=1,
        policy_kwargs={"features_extractor_kwargs": {"features_dim": 16}},
        **{**FAST, "learning_starts": 10_000},
    )
    recorder = Recorder()
    model.learn(700, callback=recorder)
    assert model.num_timesteps == len(recorder.steps) == 900  # the third episode's round ends at step 900
    env = DummyVecEnv([lambda: frame_env_class(episode_length=300)])
    env.reset()
    for step in recorder.steps:
        np.testing.assert_array_equal(step["new_obs"], env.step(step["actions"])[0])


def test_two_actors_are_a_two_env_vec_env():
    model = DQN("MlpPolicy", "CartPole-v1", train_freq=4, actors=2, **FAST)
    recorder = Recorder()
    model.learn(200, callback=recorder)
    assert model.n_envs == model.get_env().num_envs == model.replay_buffer.n_envs == 2
    assert model.num_timesteps == 2 * len(recorder.steps) == 200
    assert all(step["new_obs"].shape == (2, 4) and step["actions"].shape == (2,) for step in recorder.steps)


def set_greedy_action(model: DQN, action: int) -> None:
    """Make ``action`` (of CartPole's two) the greedy one, through the output layer's bias."""
    with torch.no_grad():
        model.q_net.head.bias.copy_(torch.tensor([100.0, -100.0] if action == 0 else [-100.0, 100.0]))


def flip_greedy_action_when_training_at(model: DQN, num_timesteps: int) -> None:
    """Make action 1 greedy in the training round that ends at ``num_timesteps`` (action 0 before)."""
    set_greedy_action(model, 0)
    train = model.train

    def flipping_train(gradient_steps: int) -> None:
        train(gradient_steps)
        if model.num_timesteps == num_timesteps:
            set_greedy_action(model, 1)

    model.train = flipping_train


@pytest.mark.parametrize(
    ("actors", "actor_sync_interval", "first_rounds"),
    [(0, 1, {12}), (1, 1, {12, 13}), (1, 3, {14, 15})],
    ids=["sequential", "actor", "actor_sync_every_3_updates"],
)
def test_actions_come_from_weights_at_most_one_round_older_than_the_sequential_loops(
    actors, actor_sync_interval, first_rounds
):
    """Round r covers steps 4r + 1 .. 4r + 4 and trains after it from round 2 on (learning_starts=8). Training
    after round 11 flips the greedy action. The sequential loop acts with the new weights from round 12 on; an
    actor from round 12 or 13 (one round late at most); with a copy every 3 updates, from the copy after round 13
    (the updates after rounds 4, 7, 10 and 13 complete a multiple of 3)."""
    model = DQN(
        "MlpPolicy",
        "CartPole-v1",
        train_freq=4,
        learning_rate=1e-10,  # the updates run but leave the greedy action to the bias
        exploration_initial_eps=0.0,
        exploration_final_eps=0.0,
        actors=actors,
        actor_sync_interval=actor_sync_interval,
        **{**FAST, "learning_starts": 8},
    )
    flip_greedy_action_when_training_at(model, 48)
    recorder = Recorder()
    model.learn(100, callback=recorder)
    # Step i + 1 is recorder.steps[i], in round i // 4; the first 8 steps are random.
    greedy = [int(step["actions"][0]) for step in recorder.steps[8:]]
    first_flipped = 8 + greedy.index(1)
    assert first_flipped % 4 == 0 and first_flipped // 4 in first_rounds
    assert set(greedy[: first_flipped - 8]) == {0} and set(greedy[first_flipped - 8 :]) == {1}


def test_an_actor_crash_raises_in_learn_with_its_traceback():
    env = functools.partial(FailingEnv, fail_at=30)
    model = DQN("MlpPolicy", env, actors=1, **FAST)
    with pytest.raises(
        ActorError, match=r"(?s)Actor 0 \(pid \d+\) failed:.*RuntimeError: the emulator broke at step 30"
    ):
        model.learn(200)
    assert model.num_timesteps < 30
    assert multiprocessing.active_children() == []


def test_an_env_instance_falls_back_to_the_sequential_loop_with_a_notice(capsys):
    model = DQN("MlpPolicy", gym.make("CartPole-v1"), actors=1, **FAST)
    notice = capsys.readouterr().err
    assert notice.count("\n") == 1 and "mario_zoo: actors=1 ignored, the env is an instance" in notice
    model.learn(100)
    assert model.num_timesteps == 100 and model._actor_env_factory is None

    DQN("MlpPolicy", lambda: gym.make("CartPole-v1"), actors=1, **FAST)
    assert "the env factory cannot be pickled" in capsys.readouterr().err
    DQN("MlpPolicy", "CartPole-v1", actors=1, **FAST)
    assert capsys.readouterr().err == ""


def test_actor_options_are_validated():
    with pytest.raises(ValueError, match=re.escape("actors must be >= 0, got -1.")):
        DQNConfig(actors=-1)
    with pytest.raises(TypeError, match=re.escape("actors must be an int, got 1.5 of type float.")):
        DQNConfig(actors=1.5)
    with pytest.raises(ValueError, match=re.escape("actor_sync_interval must be >= 1, got 0.")):
        DQNConfig(actor_sync_interval=0)
    with pytest.raises(ValueError, match=re.escape("counts episodes, which needs a single env; actors=2")):
        DQNConfig(actors=2, train_freq=(1, "episode"))


# -- no actor outlives the learning process ---------------------------------------------------------------

TRAINING_SCRIPT = textwrap.dedent(
    """
    import sys
    from stable_baselines3.common.callbacks import BaseCallback
    from mario_zoo.agents import DQN

    class Announce(BaseCallback):
        def _on_step(self):
            if self.num_timesteps == 100:
                print("training", flush=True)
            return True

    if __name__ == "__main__":
        model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, device="cpu", actors=1)
        try:
            model.learn(10_000_000, callback=Announce())
        except KeyboardInterrupt:
            print("interrupted", flush=True)
    """
)


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _gone(pid: int) -> bool:
    """The process exited (a zombie waiting for a reaper counts: it runs nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("kill", ["ctrl_c", "sigterm", "sigkill"])
def test_no_actor_outlives_the_training_process(tmp_path, kill):
    script = tmp_path / "train.py"
    script.write_text(TRAINING_SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        # A shell's background job (CI, `make test &`) ignores SIGINT and its children inherit that: give the
        # training process Python's usual Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout.readline() == "training\n", process.communicate()
        children = _descendants(process.pid)
        assert children, "no actor process is running"
        if kill == "ctrl_c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM if kill == "sigterm" else signal.SIGKILL)
        out, err = process.communicate(timeout=120)
        if kill == "ctrl_c":
            assert process.returncode == 0 and out == "interrupted\n", err
        deadline = time.monotonic() + 120
        while not all(_gone(pid) for pid in children):
            assert time.monotonic() < deadline, f"still running: {[pid for pid in children if not _gone(pid)]}"
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
