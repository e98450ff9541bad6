"""``MarioDQN-*`` environments: Super Mario Bros levels preprocessed for DQN, registered with Gymnasium.

``MarioDQN-v0`` is World 1-1; ``MarioDQN-<world>-<stage>-v0`` covers all 32 levels. Every preprocessing
choice is a keyword of :func:`make_mario_env`, hence a ``gym.make`` kwarg that shows in ``env.spec.kwargs``
(a checkpoint stores them to rebuild the same env). An ID that names a level plays that level only:
``gym.make("MarioDQN-1-1-v0", world=8)`` is an error, not World 8-1.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.wrappers import HumanRendering

from mario_zoo.envs.emulator import MarioEmulator, NESFrames
from mario_zoo.envs.frontier import FRACTION_MEANING, FRONTIER_MODES, FrontierStarts, check_backward_option
from mario_zoo.envs.levels import ENV_IDS, check_level, parse_env_id
from mario_zoo.envs.spec import mario_env_spec
from mario_zoo.wrappers import (
    ACTION_SETS,
    FrameStack,
    GrayscaleObservation,
    JoypadActions,
    MaxPoolFrameSkip,
    NoopStart,
    RandomActions,
    ResizeObservation,
    RewardTransform,
    StallTruncation,
)
from mario_zoo.wrappers._validation import (
    check_choice,
    check_fraction,
    check_int,
    check_number,
    check_optional_int,
    check_penalty,
)
from mario_zoo.wrappers.actions import RANDOM_ACTION_MEANING
from mario_zoo.wrappers.frame_skip import STICKY_MEANING

#: The preprocessing defaults; ``gym.make(id, **overrides)`` changes any of them.
DEFAULT_OPTIONS: dict[str, Any] = {
    "actions": "simple",
    "frame_skip": 4,
    "size": 84,
    "stack": 4,
    "noop_max": 0,
    "repeat_action_probability": 0.0,
    "random_action_probability": 0.0,
    "stall_steps": None,
    "stall_penalty": None,
    "reward_clip": None,
    "reward_scale": 1.0,
    "frontier_fraction": 0.0,
    "frontier_bucket": 64,
    "frontier_back": 128,
    "frontier_mode": "furthest",
    "frontier_follow": 0,
    "frontier_successes": 5,
}

_ENTRY_POINT = "mario_zoo.envs.mario:make_mario_env"


def make_mario_env(
    world: int = 1,
    stage: int = 1,
    *,
    actions: str = "simple",
    frame_skip: int = 4,
    size: int = 84,
    stack: int = 4,
    noop_max: int = 0,
    repeat_action_probability: float = 0.0,
    random_action_probability: float = 0.0,
    stall_steps: int | None = None,
    stall_penalty: float | None = None,
    reward_clip: float | None = None,
    reward_scale: float = 1.0,
    frontier_fraction: float = 0.0,
    frontier_bucket: int = 64,
    frontier_back: int = 128,
    frontier_mode: str = "furthest",
    frontier_follow: int = 0,
    frontier_successes: int = 5,
    frontier_archive: str | None = None,
    render_mode: str | None = None,
) -> gym.Env:
    """Build one preprocessed Super Mario Bros level; the same env ``gym.make("MarioDQN-<w>-<s>-v0")`` gives.

    Args:
        world: 1-8.
        stage: 1-4.
        actions: joypad action set, ``"right_only"`` (5), ``"simple"`` (7) or ``"complex"`` (12 actions).
        frame_skip: emulator frames per agent step (>= 1); the last two are max-pooled.
        size: observations are ``size x size`` grayscale frames (8-256), resized with ``INTER_AREA``.
        stack: frames per observation (>= 1); observations are ``(stack, size, size)`` uint8.
        noop_max: on reset, take ``0..noop_max`` random no-ops (0 = off; evaluation protocols set their own).
        repeat_action_probability: sticky actions (Gymnasium ALE v5's name and meaning): at each emulator frame
            inside the frame skip, the previous frame's action repeats with this probability (0-1; 0 = off;
            Machado et al. 2018 use 0.25), drawn from a generator seeded by ``reset(seed=...)``.
        random_action_probability: training only: each step plays a uniformly random action instead of the
            agent's with this probability (0-1; 0 = off): the Nature protocol's epsilon as part of the game, so that
            the values the agent learns count on it (:class:`~mario_zoo.wrappers.RandomActions`).
        stall_steps: truncate after this many agent steps without new x progress (``None`` = off).
        stall_penalty: training only: make that cut a failure, terminated with this reward (<= 0, in the game's
            units, before ``reward_scale``; a death is -15) added, instead of a truncation (``None``). Needs
            ``stall_steps``.
        reward_clip: clip rewards to ``[-reward_clip, reward_clip]`` after scaling (``None`` = off).
        reward_scale: multiply rewards by this (> 0).
        frontier_fraction: training only: start this share of episodes (0-1) from a saved state near the furthest
            x reached so far (:class:`~mario_zoo.envs.frontier.FrontierStarts`; 0 = off, evaluation forces 0).
        frontier_bucket: save a state each time an episode first enters a new stretch of this many x pixels (>= 1).
        frontier_back: start that many x pixels (>= 0) or more behind the frontier.
        frontier_mode: ``"furthest"`` (the saved state furthest right behind the frontier), ``"uniform"`` (one of
            the saved states up to there, each as likely: starts all along the level once it has been cleared),
            ``"failures"`` (one of those, weighted by 1 + the recent failed episodes that ended just ahead of it) or
            ``"mixed"`` (half of the starts as ``"failures"``, half as ``"uniform"``) or ``"backward"`` (half as
            ``"uniform"``, half along the furthest episode's path from a point that moves back ``frontier_back`` px
            once ``frontier_successes`` (5) of the last 10 episodes from there got 1,024 px further or as far as that episode).
        frontier_follow: ``frontier_mode="backward"`` only: a start on the path (near the point, or a uniform start
            whose state lies on it) hands the agent the path's own
            actions for its first 0..``frontier_follow`` steps (drawn uniformly; reset ``info["frontier_actions"]``,
            played by the DQN's explorer before its own), a demonstration from there (0 = off).
        frontier_successes: ``frontier_mode="backward"`` only: the point moves back once this many (1-10) of the
            last 10 episodes from there succeeded (default 5).
        frontier_archive: training only: a JSON file that keeps the frontier starts' game states across processes
            and restarts (:mod:`~mario_zoo.envs.frontier_archive`): read at the first reset, merged into as
            episodes go and on ``close()``. ``mario-zoo train`` gives each run its own (``RUN/frontier.json``), so
            a resumed run starts where the stopped one had got. ``None``: kept in memory only.
        render_mode: ``None``, ``"rgb_array"`` (``render()`` returns the full-colour 240x256 screen) or ``"human"``
            (``reset`` and ``step`` draw it in a window, at ``metadata["render_fps"]``: 60 / ``frame_skip``).

    Example:
        >>> env = make_mario_env(1, 1, actions="right_only")
        >>> env.observation_space.shape, env.action_space
        ((4, 84, 84), Discrete(5))
        >>> make_mario_env(world=0)
        Traceback (most recent call last):
        ...
        ValueError: world must be one of 1-8, got 0 (valid levels: World 1-8, stage 1-4, e.g. MarioDQN-1-1-v0).
    """
    settings = _checked_settings(locals())
    # "human": Gymnasium's HumanRendering shows the rgb_array frames, one per step at render_fps, in a pygame
    # window drawn on reset and step (nes-py's own viewer would need render() calls, and the frame skip steps the
    # emulator without them).
    emulator = MarioEmulator(target=(world, stage), render_mode="rgb_array" if render_mode == "human" else render_mode)
    # Called directly, the env has the spec gym.make would give it (gym.make replaces it with its own), so an agent
    # trained on it records its ID and kwargs.
    emulator.spec = mario_env_spec(make_mario_env, settings)
    env = _preprocessed(emulator, **settings)
    return HumanRendering(env) if render_mode == "human" else env


def _checked_settings(values: dict[str, Any]) -> dict[str, Any]:
    """:func:`make_mario_env`'s arguments, validated (a ``ValueError``/``TypeError`` naming the bad one) and
    normalised (ints as ints, fractions as floats)."""
    check_level(values["world"], values["stage"])
    check_choice("actions", values["actions"], ACTION_SETS)
    checked = dict(values)
    checked["frame_skip"] = check_int("frame_skip", values["frame_skip"], minimum=1)
    checked["size"] = check_int(
        "size",
        values["size"],
        minimum=8,
        maximum=256,
        hint=" Below 8x8 pixels a frame cannot show the game; above 256 it only repeats the NES screen's pixels.",
    )
    checked["stack"] = check_int("stack", values["stack"], minimum=1)
    checked["noop_max"] = check_int("noop_max", values["noop_max"], minimum=0)
    checked["repeat_action_probability"] = check_fraction(
        "repeat_action_probability", values["repeat_action_probability"], meaning=STICKY_MEANING
    )
    checked["random_action_probability"] = check_fraction(
        "random_action_probability", values["random_action_probability"], meaning=RANDOM_ACTION_MEANING
    )
    checked["stall_steps"] = check_optional_int("stall_steps", values["stall_steps"], minimum=1)
    if values["stall_penalty"] is not None:
        checked["stall_penalty"] = check_penalty("stall_penalty", values["stall_penalty"])
        if checked["stall_steps"] is None:
            raise ValueError(
                f"stall_penalty={values['stall_penalty']!r} needs stall_steps, the cut it penalises: set stall_steps "
                "(e.g. stall_steps=100) or leave stall_penalty=None."
            )
    if values["reward_clip"] is not None:
        check_number("reward_clip", values["reward_clip"], positive=True)
    check_number("reward_scale", values["reward_scale"], positive=True)
    checked["frontier_fraction"] = check_fraction(
        "frontier_fraction", values["frontier_fraction"], meaning=FRACTION_MEANING
    )
    checked["frontier_bucket"] = check_int(
        "frontier_bucket", values["frontier_bucket"], minimum=1, hint=" It is a width in x pixels."
    )
    checked["frontier_back"] = check_int(
        "frontier_back", values["frontier_back"], minimum=0, hint=" It is a distance in x pixels."
    )
    check_choice("frontier_mode", values["frontier_mode"], FRONTIER_MODES)
    for name in ("frontier_follow", "frontier_successes"):
        checked[name] = check_backward_option(name, values[name], values["frontier_mode"])
    if values["frontier_archive"] is not None:
        if not isinstance(values["frontier_archive"], str) or not values["frontier_archive"]:
            raise TypeError(f"frontier_archive must be a file path (str) or None, got {values['frontier_archive']!r}.")
        if not checked["frontier_fraction"]:
            raise ValueError(
                f"frontier_archive={values['frontier_archive']!r} keeps the states of frontier starts, which are off: "
                "set frontier_fraction (e.g. 0.5) or leave frontier_archive=None."
            )
    valid_render_modes = (None, *MarioEmulator.metadata["render_modes"])
    if values["render_mode"] not in valid_render_modes:
        raise ValueError(f"Unknown render_mode {values['render_mode']!r}; valid choices are: {valid_render_modes}.")
    return checked


def _preprocessed(emulator: MarioEmulator, **settings: Any) -> gym.Env:
    """The wrapper stack of :func:`make_mario_env` around ``emulator``, from its checked ``settings``."""
    env: gym.Env = GrayscaleObservation(emulator, frames=NESFrames(emulator))
    # reset_action 0 is the joypad's NOOP byte: after a reset the "previous" action is nothing, as in the ALE.
    env = MaxPoolFrameSkip(
        env,
        skip=settings["frame_skip"],
        repeat_action_probability=settings["repeat_action_probability"],
        reset_action=0,
    )
    env = ResizeObservation(env, size=settings["size"])
    env = FrameStack(env, stack=settings["stack"])
    env = JoypadActions(env, actions=settings["actions"])
    if settings["frontier_fraction"]:
        # Below NoopStart and StallTruncation: a restored start resets them as a level start does (NoopStart sees
        # info["frontier_start"] and skips its no-ops).
        env = FrontierStarts(
            env,
            fraction=settings["frontier_fraction"],
            bucket=settings["frontier_bucket"],
            back=settings["frontier_back"],
            mode=settings["frontier_mode"],
            archive=settings["frontier_archive"],
            follow=settings["frontier_follow"],
            successes=settings["frontier_successes"],
        )
    # Always there, so that reset(options={"noops": n}) plays n no-ops whatever noop_max is (0: no random ones).
    env = NoopStart(env, noop_max=settings["noop_max"])
    if settings["random_action_probability"]:
        # Above NoopStart: the no-op starts stay no-ops.
        env = RandomActions(env, probability=settings["random_action_probability"])
    if settings["stall_steps"] is not None:
        # Below RewardTransform: a stall penalty is in the game's units and is scaled and clipped as a death is.
        env = StallTruncation(env, max_stall_steps=settings["stall_steps"], penalty=settings["stall_penalty"])
    clip, scale = settings["reward_clip"], settings["reward_scale"]
    if clip is not None or scale != 1.0:
        env = RewardTransform(env, clip=clip, scale=scale)
    return env


def register_envs() -> None:
    """Register every ``MarioDQN`` ID with Gymnasium (idempotent; ``import mario_zoo`` calls it)."""
    for env_id in ENV_IDS:
        if env_id in gym.registry:
            continue
        world, stage = parse_env_id(env_id)
        gym.register(
            id=env_id,
            entry_point=_ENTRY_POINT,
            kwargs={"world": world, "stage": stage, **DEFAULT_OPTIONS},
            # The game's own clock ends every episode; no step limit is needed.
            max_episode_steps=None,
        )
