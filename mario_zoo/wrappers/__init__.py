"""Gymnasium wrappers, one concern each, that turn the NES emulator into a DQN-ready environment.

Order used by :func:`mario_zoo.make_mario_env` (inside out): ``GrayscaleObservation`` -> ``MaxPoolFrameSkip``
-> ``ResizeObservation`` -> ``FrameStack`` -> ``JoypadActions`` -> (``FrontierStarts``, from ``mario_zoo.envs``)
-> ``NoopStart`` -> ``RandomActions`` (training only) -> ``StallTruncation`` -> ``RewardTransform``. Each works on any env with the right spaces and imports no emulator; the emulator-specific
fast path is the :class:`~mario_zoo.wrappers.frames.FrameSource` protocol, implemented in ``mario_zoo.envs``.
"""

from mario_zoo.wrappers.actions import ACTION_SETS, JoypadActions, RandomActions
from mario_zoo.wrappers.episode import NoopStart, StallTruncation
from mario_zoo.wrappers.frame_skip import MaxPoolFrameSkip
from mario_zoo.wrappers.frame_stack import FrameStack
from mario_zoo.wrappers.frames import FrameSource, frame_source_of
from mario_zoo.wrappers.observation import GrayscaleObservation, ResizeObservation
from mario_zoo.wrappers.rewards import RewardTransform

__all__ = [
    "ACTION_SETS",
    "FrameSource",
    "FrameStack",
    "GrayscaleObservation",
    "JoypadActions",
    "MaxPoolFrameSkip",
    "NoopStart",
    "RandomActions",
    "ResizeObservation",
    "RewardTransform",
    "StallTruncation",
    "frame_source_of",
]
