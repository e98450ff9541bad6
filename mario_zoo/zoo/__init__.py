"""The zoo: trained agents that ship with mario-zoo, loaded by name, offline, verified by sha256.

:mod:`mario_zoo.zoo.registry` reads ``registry.json`` (name -> Hub repo, pinned revision, file digests, measured
results, how it was trained); :func:`load_pretrained` loads an agent from its bundled copy, or from the Hub at
its pinned commit. ``zoo/`` is data and loading only: ``mario-zoo zoo publish`` (:mod:`mario_zoo.publishing`)
adds an agent, and ``mario-zoo zoo list|show`` prints them.

Example:
    >>> from mario_zoo.zoo import load_pretrained, read_registry
    >>> "dqn-CartPole-v1" in read_registry().names
    True
    >>> model = load_pretrained("dqn-CartPole-v1", device="cpu")
"""

from mario_zoo.zoo.pretrained import load_pretrained, verify_bundled
from mario_zoo.zoo.registry import Registry, Results, Training, ZooEntry, read_registry

__all__ = ["Registry", "Results", "Training", "ZooEntry", "load_pretrained", "read_registry", "verify_bundled"]
