"""The reset ``info`` keys that an env and the code around it share: one name each, spelled once.

:class:`mario_zoo.envs.FrontierStarts` writes them; the no-op wrapper (:class:`mario_zoo.wrappers.episode.NoopStart`)
and the explorer (:class:`mario_zoo.agents.exploration.Explorer`) read them. This module imports nothing, so every
layer can use it.

Example:
    >>> from mario_zoo.info_keys import FOLLOW_KEY, FRONTIER_START_KEY
    >>> info = {FRONTIER_START_KEY: True, FOLLOW_KEY: (1, 1, 2)}
    >>> info
    {'frontier_start': True, 'frontier_actions': (1, 1, 2)}
"""

FRONTIER_START_KEY = "frontier_start"
"""The reset ``info`` key that says whether an episode started from a saved mid-level state."""

FOLLOW_KEY = "frontier_actions"
"""The reset ``info`` key of the actions an episode plays first: a path start's own next actions
(``frontier_mode="backward"`` with ``frontier_follow``)."""
