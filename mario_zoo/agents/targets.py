"""TD targets: the Bellman operators a DQN update regresses onto, from the networks' values of one minibatch.

:meth:`mario_zoo.agents.dqn.DQN.train` runs the networks; this module turns their outputs into targets, so that each
operator (double Q, expected SARSA, advantage learning) is one documented line that can be checked by hand.
"""

from __future__ import annotations

import torch


def td_targets(
    returns: torch.Tensor,
    discounts: torch.Tensor,
    next_q_target: torch.Tensor,
    *,
    next_q_online: torch.Tensor | None = None,
    target_epsilon: float | None = None,
    q_target: torch.Tensor | None = None,
    actions: torch.Tensor | None = None,
    advantage_learning: float | None = None,
) -> torch.Tensor:
    """The TD targets ``returns + discounts * V(s')`` of a minibatch, with the operators the config asks for.

    Args:
        returns: ``(n,)`` the discounted k-step returns.
        discounts: ``(n,)`` ``gamma**k`` for a k-step return, 0 where the episode terminated within it.
        next_q_target: ``(n, actions)`` the target network's values of the next states.
        next_q_online: ``(n, actions)`` the online network's values of the next states: with them, double Q
            (the online network picks the next action, the target network values it); without, the target
            network's max.
        target_epsilon: expected SARSA: ``V(s') = (1 - eps) * Q(s', a*) + eps * mean_a Q(s', a)``, the value of the
            next state when eps of the later moves are random, so the agent keeps a margin where one random move
            is fatal (the cliff walk of Sutton & Barto, Example 6.6), as under the Nature protocol's noise.
        q_target: ``(n, actions)`` the target network's values of the states acted in (advantage learning).
        actions: ``(n, 1)`` int64, the actions taken (advantage learning).
        advantage_learning: alpha (Baird 1999; Bellemare et al. 2016): every action but the best one loses alpha
            times its gap to it, so at the fixed point each gap is ``1 / (1 - alpha)`` times the Bellman one (x2 at
            0.5, x10 at 0.9). A gap of 1% of the values (what waiting against a wall costs with gamma 0.99) then
            survives approximation errors that flipped the greedy choice. The best actions keep their values.

    Example:
        >>> next_q = torch.tensor([[1.0, 5.0], [4.0, 2.0]])
        >>> td_targets(torch.tensor([1.0, 0.5]), torch.tensor([0.9, 0.0]), next_q)  # the 2nd episode ended
        tensor([5.5000, 0.5000])
        >>> td_targets(torch.tensor([0.0, 0.5]), torch.tensor([1.0, 0.0]), next_q, target_epsilon=0.5).tolist()
        [4.0, 0.5]
        >>> td_targets(torch.tensor([1.0]), torch.tensor([0.0]), next_q[:1], q_target=torch.tensor([[3.0, 7.0]]),
        ...            actions=torch.tensor([[0]]), advantage_learning=0.5)  # action 0 is 4 below the best
        tensor([-1.])
    """
    if next_q_online is not None:
        next_values = next_q_target.gather(1, next_q_online.argmax(dim=1, keepdim=True)).squeeze(1)
    else:
        next_values = next_q_target.max(dim=1).values
    if target_epsilon is not None:
        next_values = (1.0 - target_epsilon) * next_values + target_epsilon * next_q_target.mean(dim=1)
    targets = returns + discounts * next_values
    if advantage_learning is not None:
        if q_target is None or actions is None:
            raise ValueError(
                "advantage_learning needs q_target (the target network's values of the states) and actions."
            )
        gaps = q_target.max(dim=1).values - q_target.gather(1, actions).squeeze(1)
        targets = targets - advantage_learning * gaps
    return targets
