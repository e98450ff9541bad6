"""MarioDQN in Gymnasium's async vector env and SB3's SubprocVecEnv (fresh worker processes)."""

import gymnasium as gym
import numpy as np
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import SubprocVecEnv


def test_gymnasium_async_vector_env_steps():
    envs = gym.make_vec("mario_zoo:MarioDQN-v0", num_envs=2, vectorization_mode="async")
    try:
        obs, infos = envs.reset(seed=[0, 1])
        assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
        x_before = infos["x_pos"].copy()
        for _ in range(10):
            obs, rewards, terminated, _, infos = envs.step(np.array([1, 1]))  # "right"
        assert obs.shape == (2, 4, 84, 84)
        assert rewards.shape == (2,) and terminated.shape == (2,)
        assert (infos["x_pos"] > x_before).all()
    finally:
        envs.close()


def test_sb3_subproc_vec_env_steps():
    venv = make_vec_env("mario_zoo:MarioDQN-v0", n_envs=2, seed=0, vec_env_cls=SubprocVecEnv)
    try:
        obs = venv.reset()
        assert obs.shape == (2, 4, 84, 84)
        for _ in range(10):
            obs, rewards, dones, infos = venv.step(np.array([1, 4]))
        assert obs.shape == (2, 4, 84, 84) and rewards.shape == (2,) and dones.shape == (2,)
        assert all(info["x_pos"] > 40 for info in infos)
    finally:
        venv.close()


def test_frontier_starts_work_in_worker_processes():
    # Only plain kwargs cross the process boundary; each worker keeps its own snapshots.
    kwargs = {"actions": "right_only", "frontier_fraction": 1.0, "frontier_back": 64}
    envs = gym.make_vec("mario_zoo:MarioDQN-v0", num_envs=2, vectorization_mode="async", **kwargs)
    try:
        envs.reset(seed=[0, 1])
        started = np.zeros(2, dtype=bool)
        for _ in range(150):  # right into the first Goomba, then autoreset from a saved state
            _, _, _, _, infos = envs.step(np.array([1, 1]))
            started |= infos.get("frontier_start", np.zeros(2, dtype=bool))
        assert started.all()
    finally:
        envs.close()
