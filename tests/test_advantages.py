"""Advantage estimators: hand-computed examples and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arena.trainers.advantages import RoleBaseline, discounted_returns, gigpo, grpo, mars, rebn, reinforce


def test_discounted_returns_by_hand():
    rewards = np.array([0.0, 1.0, 0.0, 0.0, -1.0])
    traj = np.array([0, 0, 0, 1, 1])
    assert discounted_returns(rewards, traj, 1.0).tolist() == [1.0, 1.0, 0.0, -1.0, -1.0]
    assert discounted_returns(rewards, traj, 0.5).tolist() == [0.5, 1.0, 0.0, -0.5, -1.0]


def test_discounted_returns_rejects_interleaved_trajectories():
    with pytest.raises(ValueError, match="contiguous"):
        discounted_returns(np.zeros(3), np.array([0, 1, 0]))


def test_reinforce_is_the_return():
    assert reinforce(np.array([1.0, -2.0])).tolist() == [1.0, -2.0]


def test_grpo_by_hand():
    returns = np.array([1.0, -1.0, 0.0, 2.0])
    groups = np.array([0, 0, 1, 1])
    assert grpo(returns, groups).tolist() == [1.0, -1.0, -1.0, 1.0]
    scaled = grpo(returns, groups, scale_std=True)
    assert scaled == pytest.approx([1.0, -1.0, -1.0, 1.0], abs=1e-5)


def test_mars_paper_by_hand():
    # Two X trajectories and one O trajectory; gamma 1.
    rewards = np.array([0.0, 1.0, 0.0, -1.0, 0.5])
    traj = np.array([0, 0, 1, 1, 2])
    roles = np.array(["X", "X", "X", "X", "O"])
    rtg = np.array([1.0, 1.0, -1.0, -1.0, 0.5])  # returns-to-go
    expected_x = (rtg[:4] - rtg[:4].mean()) / (rtg[:4].std() + 1e-6)
    adv = mars(rewards, traj, roles)
    assert adv[:4] == pytest.approx(expected_x)
    assert adv[4] == pytest.approx(0.0)  # a role alone in the batch is centred on itself


def test_mars_turn_level_credit_differs_from_episode_level():
    """An early good move followed by a late blunder: turn-level returns tell them apart."""
    rewards = np.array([1.0, -1.0, 0.0, 0.0])
    traj = np.array([0, 0, 1, 1])
    adv = mars(rewards, traj, ["p"] * 4)
    rtg = discounted_returns(rewards, traj)
    assert rtg.tolist() == [0.0, -1.0, 0.0, 0.0]
    assert adv[1] < adv[0]


def test_mars_code_variant_is_whitened():
    rng = np.random.default_rng(0)
    rewards = rng.normal(size=40)
    traj = np.repeat(np.arange(10), 4)
    adv = mars(rewards, traj, np.repeat(["a", "b"], 20), variant="code")
    assert adv.mean() == pytest.approx(0.0, abs=1e-9) and adv.std() == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ValueError, match="variant"):
        mars(rewards, traj, ["a"] * 40, variant="nope")


def test_rae_reads_the_baseline_before_updating():
    rae = RoleBaseline(decay=0.5)
    adv = rae.advantages(np.array([1.0, 1.0, -1.0]), ["g/p0", "g/p0", "g/p1"])
    # p0: b=0 -> A=1, b=0.5 -> A=0.5, b=0.75 ; p1: b=0 -> A=-1, b=-0.5
    assert adv.tolist() == [1.0, 0.5, -1.0]
    assert rae.baselines == {"g/p0": 0.75, "g/p1": -0.5}
    clone = RoleBaseline()
    clone.load_state_dict(rae.state_dict())
    assert clone.advantages(np.array([1.0]), ["g/p0"]).tolist() == [0.25]


def test_gigpo_by_hand():
    # Group of two single-agent trajectories sharing the start state "s0".
    rewards = np.array([0.0, 1.0, 0.0, 0.0])
    traj = np.array([0, 0, 1, 1])
    groups = np.array([7, 7, 7, 7])
    states = np.array(["s0", "s1", "s0", "s2"])
    adv = gigpo(rewards, traj, groups, states, omega=1.0, gamma=0.5)
    # episode returns 1 and 0 -> A_E = +0.5 / -0.5
    # step returns: [0.5, 1, 0, 0]; anchor s0 holds 0.5 and 0 -> +0.25/-0.25; s1, s2 alone -> 0
    assert adv.tolist() == pytest.approx([0.75, 0.5, -0.75, -0.5])


def test_gigpo_without_repeated_states_is_grpo():
    rewards = np.array([1.0, 0.0, 2.0])
    traj = np.arange(3)
    adv = gigpo(rewards, traj, np.zeros(3), ["a", "b", "c"])
    assert adv == pytest.approx(grpo(rewards, np.zeros(3)))


@given(
    returns=st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=30),
    n_groups=st.integers(1, 4),
)
def test_grpo_centres_every_group(returns, n_groups):
    returns = np.array(returns)
    groups = np.arange(len(returns)) % n_groups
    adv = grpo(returns, groups)
    for g in range(n_groups):
        assert adv[groups == g].sum() == pytest.approx(0.0, abs=1e-6)


@given(
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=8),
    gamma=st.sampled_from([1.0, 0.95, 0.5]),
    data=st.data(),
)
def test_returns_to_go_match_a_loop(lengths, gamma, data):
    total = sum(lengths)
    rewards = np.array(data.draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=total, max_size=total)))
    traj = np.repeat(np.arange(len(lengths)), lengths)
    expected, start = [], 0
    for length in lengths:
        seg = rewards[start : start + length]
        expected += [sum(gamma**j * seg[k + j] for j in range(length - k)) for k in range(length)]
        start += length
    assert discounted_returns(rewards, traj, gamma) == pytest.approx(expected, abs=1e-9)


@given(st.lists(st.floats(-3, 3, allow_nan=False), min_size=2, max_size=40))
def test_mars_paper_is_normalized_per_role(rewards):
    rewards = np.array(rewards)
    traj = np.arange(len(rewards)) // 2
    roles = np.where(traj % 2 == 0, "even", "odd")
    adv = mars(rewards, traj, roles)
    for role in ("even", "odd"):
        part = adv[roles == role]
        if part.size:
            assert abs(part.mean()) < 1e-6
            assert part.std() < 1.0 + 1e-6


def _shuffled_trajectories(traj: np.ndarray, seed: int) -> np.ndarray:
    """Turn indices that list the trajectories in another order, each one's turns still contiguous."""
    order = np.random.default_rng(seed).permutation(int(traj.max()) + 1)
    return np.concatenate([np.flatnonzero(traj == t) for t in order])


@pytest.mark.parametrize("seed", range(5))
def test_mars_code_variant_does_not_depend_on_the_order_of_the_batch(seed):
    # Equal returns summed in another order differ in their last bits; the distinct-value mean must not
    # count them as different values (the old np.unique did, moving advantages by up to 0.08).
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 5, 40)
    rewards = rng.choice([0.1, 0.2, 0.3, -0.7, 1.1], lengths.sum())
    traj = np.repeat(np.arange(40), lengths)
    roles = np.where(traj % 2 == 0, "a", "b")
    expected = mars(rewards, traj, roles, variant="code")
    idx = _shuffled_trajectories(traj, seed)
    got = np.empty_like(expected)
    got[idx] = mars(rewards[idx], traj[idx], roles[idx], variant="code")
    assert got == pytest.approx(expected, abs=1e-9)


def test_gigpo_discount_weight_and_std_scaling_are_options():
    # One group of two trajectories (three turns each) that share every anchor state.
    rewards = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    traj = np.array([0, 0, 0, 1, 1, 1])
    groups, states = np.zeros(6), np.array(["a", "b", "c", "a", "b", "c"])
    a_episode = np.array([0.5, 0.5, 0.5, -0.5, -0.5, -0.5])
    for gamma in (1.0, 0.5):
        step_returns = discounted_returns(rewards, traj, gamma)
        a_step = step_returns - np.tile((step_returns[:3] + step_returns[3:]) / 2, 2)
        for omega in (0.0, 1.0, 0.3):
            got = gigpo(rewards, traj, groups, states, gamma=gamma, omega=omega)
            assert got == pytest.approx(a_episode + omega * a_step)
    scaled = gigpo(rewards, traj, groups, states, gamma=0.5, scale_std=True)
    assert scaled == pytest.approx([2.0, 2.0, 2.0, -2.0, -2.0, -2.0], abs=1e-4)  # each part divided by its std


def test_rebn_standardises_returns_to_go_per_key():
    rewards = np.array([0.0, 1.0, -1.0, 100.0, 300.0])
    traj = np.array([0, 0, 1, 2, 3])
    keys = np.array(["g1", "g1", "g1", "g2", "g2"])
    adv = rebn(rewards, traj, keys)
    rtg = np.array([1.0, 1.0, -1.0])
    assert adv[:3] == pytest.approx((rtg - rtg.mean()) / rtg.std())
    assert adv[3:] == pytest.approx([-1.0, 1.0])  # a game paying 100s is normalised on its own


def test_string_keys_tuples_and_ints_group_alike():
    from arena.trainers.advantages import _codes

    codes, n = _codes(np.array(["x|1", "y|2", "x|1"], dtype=object))
    assert codes.tolist() == [0, 1, 0] and n == 2
    codes, n = _codes(np.array([[1, 2], [1, 2], [2, 1]]))
    assert codes.tolist() == [0, 0, 1] and n == 2
    codes, n = _codes(np.array([7, 3, 7]))
    assert (codes[0] == codes[2] != codes[1]) and n == 2
