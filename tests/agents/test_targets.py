import pytest
import torch

from mario_zoo.agents.targets import td_targets

RETURNS = torch.tensor([1.0, 0.5])
DISCOUNTS = torch.tensor([0.9, 0.0])  # the second transition ended its episode
NEXT_Q = torch.tensor([[1.0, 5.0], [4.0, 2.0]])


def test_double_q_values_the_online_networks_pick():
    online = torch.tensor([[9.0, 0.0], [0.0, 9.0]])  # prefers action 0, then action 1
    targets = td_targets(RETURNS, DISCOUNTS, NEXT_Q, next_q_online=online)
    assert torch.allclose(targets, RETURNS + DISCOUNTS * torch.tensor([1.0, 2.0]))
    assert torch.allclose(td_targets(RETURNS, DISCOUNTS, NEXT_Q), RETURNS + DISCOUNTS * torch.tensor([5.0, 4.0]))


def test_expected_sarsa_mixes_in_the_mean_value():
    targets = td_targets(RETURNS, DISCOUNTS, NEXT_Q, target_epsilon=1.0)
    assert torch.allclose(targets, RETURNS + DISCOUNTS * NEXT_Q.mean(dim=1))


def test_advantage_learning_leaves_the_best_actions_alone():
    q_now = torch.tensor([[3.0, 7.0], [6.0, 2.0]])
    actions = torch.tensor([[1], [1]])  # the best action, then one 4 below it
    targets = td_targets(RETURNS, DISCOUNTS, NEXT_Q, q_target=q_now, actions=actions, advantage_learning=0.9)
    bellman = td_targets(RETURNS, DISCOUNTS, NEXT_Q)
    assert torch.allclose(targets, bellman - torch.tensor([0.0, 0.9 * 4.0]))


def test_advantage_learning_needs_the_values_of_the_states_acted_in():
    with pytest.raises(ValueError, match="advantage_learning needs q_target"):
        td_targets(RETURNS, DISCOUNTS, NEXT_Q, advantage_learning=0.5)
