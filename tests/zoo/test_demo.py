"""`make demo` records the best zoo agent for Mario World 1-1 once the registry has one."""

from __future__ import annotations

import dataclasses

import imageio.v3 as iio

from mario_zoo.agents import DQN
from mario_zoo.demo import MARIO_ENV, record_zoo_agent
from mario_zoo.hub._files import sha256_of
from mario_zoo.zoo import read_registry
from mario_zoo.zoo.registry import AGENT_FILES, Registry


def test_a_mario_zoo_agent_plays_the_demo_replay(tmp_path):
    registry_path = tmp_path / "zoo" / "registry.json"
    stall = {"stall_steps": 8}  # an untrained agent soon stands still: end its episode 8 steps later
    model = DQN("CnnPolicy", MARIO_ENV, buffer_size=100, seed=0, device="cpu")
    model.save(Registry(registry_path).bundled_dir("dqn-mario-test"), include_optimizer=False)
    folder = Registry(registry_path).bundled_dir("dqn-mario-test")
    entry = dataclasses.replace(
        read_registry().get("dqn-CartPole-v1"), name="dqn-mario-test", env_id=MARIO_ENV, env_kwargs=stall,
        files={file: sha256_of(folder / file) for file in AGENT_FILES},
    )  # fmt: skip
    Registry(registry_path, {entry.name: entry}).write()
    assert read_registry(registry_path).best_for("MarioDQN-1-1-v0") == entry

    gif, replay, note = record_zoo_agent(entry, tmp_path, registry=registry_path)
    assert gif == tmp_path / "dqn-mario-test.gif"
    # The entry reports no flag: one episode from the level start, and the demo says it does not reach the flag.
    assert note == "one greedy episode from 0 no-ops: it does not reach the flag"
    assert len(replay.episode_lengths) == 1, "one episode, played to its end"
    assert iio.imread(gif, index=None).shape[1:3] == (240, 256)
