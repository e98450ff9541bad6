"""Frame skipping: one agent decision drives ``skip`` emulator frames, optionally with sticky actions."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from mario_zoo.wrappers._validation import check_fraction, check_int
from mario_zoo.wrappers.frames import frame_source_of

_STICKY_STREAM = 0x571C
"""Spawn key of the sticky-action generator's stream (any constant; it only has to differ from the env's own)."""


STICKY_MEANING = "the chance that each emulator frame repeats the previous frame's action"
"""What ``repeat_action_probability`` means, for its error messages."""


class MaxPoolFrameSkip(gym.Wrapper):
    """Repeat the action ``skip`` times, sum the rewards, and max-pool the last two frames.

    With ``repeat_action_probability`` > 0 the actions are *sticky* (Machado et al. 2018, Gymnasium ALE v5's
    option of the same name): at each emulator frame, the action of the previous frame is kept with that
    probability instead of the agent's, so a new decision takes effect a random number of frames late. The
    previous action carries over from one agent step to the next and is ``reset_action`` after a reset (the ALE's
    NOOP; ``None``: the first frame after a reset always takes the agent's action). The draws come from the
    wrapper's own generator, seeded by ``reset(seed=...)``.

    The pooled maximum removes the flicker of sprites the NES draws on alternate frames. The episode may end
    before ``skip`` frames have run: then the step stops there and returns the frame the episode ended on
    (Gymnasium's ``MaxAndSkipObservation`` would return stale frames from the previous step instead). ``info``
    is the last frame's.

    When the wrapped env offers a :class:`~mario_zoo.wrappers.frames.FrameSource` (``GrayscaleObservation`` on
    a nes-py emulator does), only the two pooled frames are copied out of the emulator and only the last
    frame's ``info`` is built; rewards and flags are the same as stepping every frame.

    Example:
        >>> from gym_super_mario_bros import SuperMarioBrosEnv
        >>> from mario_zoo.wrappers import GrayscaleObservation
        >>> env = MaxPoolFrameSkip(GrayscaleObservation(SuperMarioBrosEnv(target=(1, 1))), skip=4)
        >>> obs, info = env.reset(seed=0)
        >>> for _ in range(10):  # hold "right" for 10 x 4 frames
        ...     obs, reward, terminated, truncated, info = env.step(0b10000000)
        >>> obs.shape, info["x_pos"] > 40
        ((240, 256), True)
    """

    def __init__(
        self, env: gym.Env, skip: int = 4, *, repeat_action_probability: float = 0.0, reset_action: Any = None
    ) -> None:
        super().__init__(env)
        self.skip = check_int("frame_skip", skip, minimum=1)
        self.repeat_action_probability = check_fraction(
            "repeat_action_probability", repeat_action_probability, meaning=STICKY_MEANING
        )
        self.reset_action = reset_action
        self._previous_action = reset_action
        self._sticky_rng: np.random.Generator | None = None
        space = env.observation_space
        if space.shape is None or space.dtype is None:
            raise ValueError(f"MaxPoolFrameSkip needs array observations with a shape and dtype, got {space}.")
        self._frames = frame_source_of(env)
        self._pool = np.zeros((2, *space.shape), dtype=space.dtype)
        if env.metadata.get("render_fps"):
            # One step shows one frame of every `skip`: what RecordVideo, HumanRendering and SB3's
            # VecVideoRecorder read to play the steps in real time.
            self.metadata = {**env.metadata, "render_fps": env.metadata["render_fps"] / self.skip}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if seed is not None or self._sticky_rng is None:
            # A stream of its own (spawned from the seed), so sticky draws do not shift the env's other draws.
            self._sticky_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STICKY_STREAM,)))
        self._previous_action = self.reset_action
        return self.env.reset(seed=seed, options=options)

    def _frame_action(self, action: Any) -> Any:
        """The action this emulator frame plays: the agent's, or (sticky) the previous frame's."""
        if (
            self.repeat_action_probability
            and self._previous_action is not None
            and self._sticky_rng is not None
            and self._sticky_rng.random() < self.repeat_action_probability
        ):
            return self._previous_action
        self._previous_action = action
        return action

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        total_reward = 0.0
        terminated = truncated = False
        info: dict[str, Any] = {}
        last = self.skip - 1
        for i in range(self.skip):
            frame_action = self._frame_action(action)
            if self._frames is not None:
                reward, terminated, truncated, frame_info = self._frames.advance(frame_action, with_info=i == last)
                ended = terminated or truncated
                if i >= last - 1 or ended:
                    self._frames.observe(self._pool[i & 1])
                if frame_info is not None:
                    info = frame_info
            else:
                obs, reward, terminated, truncated, info = self.env.step(frame_action)
                ended = terminated or truncated
                if i >= last - 1 or ended:
                    self._pool[i & 1] = obs
            total_reward += float(reward)
            if ended:
                return self._pool[i & 1].copy(), total_reward, terminated, truncated, info
        if self.skip == 1:
            return self._pool[0].copy(), total_reward, terminated, truncated, info
        return np.maximum(self._pool[0], self._pool[1]), total_reward, terminated, truncated, info
