"""Sequential public goods: hand-computed payoffs, the backward-induction equilibrium test, observation modes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arena
from arena.agents.match import play
from arena.agents.scripted.public_goods import ConditionalCooperator, FreeRider, TitForTat
from arena.core.errors import ArenaError
from arena.envs.sequential_public_goods import SequentialPublicGoodsEnv, sequential_payoffs

Payoff = Callable[[list[float]], list[float]]


def solve_spe(num_players: int, grid: Sequence[float], payoff: Payoff, ties: str = "low") -> tuple[list[float], bool]:
    """Backward induction over ``grid``: the SPE contribution path (ties broken towards the ``"low"`` or
    ``"high"`` contribution), and whether every best reply was strict at every node (then the SPE is unique)."""
    sign = 1 if ties == "low" else -1

    def node(prefix: tuple[float, ...]) -> tuple[list[float], bool]:
        mover = len(prefix)
        if mover == num_players:
            return list(prefix), True
        options = []
        for c in grid:
            path, strict = node((*prefix, c))
            options.append((payoff(path)[mover], sign * c, path, strict))
        options.sort(key=lambda o: (-o[0], o[1]))
        best_value, _, best_path, _ = options[0]
        strict = all(o[3] for o in options) and (len(options) == 1 or options[1][0] < best_value - 1e-9)
        return best_path, strict

    return node(())


def _payoff(reward: str, **overrides: float) -> Payoff:
    params = {"endowment": 10, "multiplier": 1.8, "cooperation_bonus": 1.5, "threshold": 1.0, "penalty": 15.0}
    params.update(overrides)
    return lambda cs: sequential_payoffs(cs, reward=reward, **params)


def _env_defaults() -> dict[str, float]:
    env = SequentialPublicGoodsEnv()
    return {
        "endowment": env.endowment,
        "multiplier": env.multiplier,
        "cooperation_bonus": env.cooperation_bonus,
        "threshold": env.threshold,
        "penalty": env.penalty,
        "num_players": env.num_players,
    }


# -- the equilibrium property ------------------------------------------------------------------------
def test_test_parameters_are_the_env_defaults():
    assert _env_defaults() == {
        "endowment": 10,
        "multiplier": 1.8,
        "cooperation_bonus": 1.5,
        "threshold": 1.0,
        "penalty": 15.0,
        "num_players": 3,
    }


def test_default_reward_makes_full_contribution_the_unique_spe():
    path, strict = solve_spe(3, range(11), _payoff("aligned"))
    assert path == [10, 10, 10]
    assert strict, "some player is indifferent somewhere: the SPE would not be unique"


def test_classic_payoff_makes_free_riding_the_spe():
    """The same solver on the classic payoff finds nobody contributing: the assertion above fails on it."""
    path, strict = solve_spe(3, range(11), _payoff("classic"))
    assert path == [0, 0, 0]
    assert strict
    assert path != [10, 10, 10]


def test_aligned_spe_for_two_players_is_unique():
    path, strict = solve_spe(2, range(11), _payoff("aligned"))
    assert path == [10, 10] and strict


@pytest.mark.parametrize("ties", ["low", "high"])
def test_aligned_spe_outcome_for_four_players(ties):
    """With N = 4 an off-path player can be indifferent (predecessors' mean 11/3 makes the bonus exactly offset
    the cost), so the SPE strategy is not unique there; the equilibrium outcome is full contribution either way."""
    path, strict = solve_spe(4, range(11), _payoff("aligned"), ties=ties)
    assert path == [10, 10, 10, 10]
    assert not strict


def test_aligned_spe_on_a_finer_grid():
    grid = [k / 2 for k in range(21)]  # half tokens: the property is not an artefact of the integer grid
    path, strict = solve_spe(3, grid, _payoff("aligned"))
    assert path == [10, 10, 10] and strict


def test_a_lower_threshold_breaks_the_property():
    """Documented limit: with B = 0.85·N·e the first mover can shave its contribution."""
    path, _ = solve_spe(3, range(11), _payoff("aligned", threshold=0.85))
    assert path == [6, 10, 10]


# -- payoffs -----------------------------------------------------------------------------------------
def test_hand_computed_payoffs():
    # full contribution: share 1.8·30/3 = 18; bonus 1.5·(10/10)·10 = 15 for the 2nd and 3rd movers
    assert sequential_payoffs([10, 10, 10], endowment=10, multiplier=1.8) == pytest.approx([18, 33, 33])
    # [10, 5, 0]: share 9, threshold 30 missed (−15); bonus of player 1 = 1.5·0.5·10 = 7.5
    assert sequential_payoffs([10, 5, 0], endowment=10, multiplier=1.8) == pytest.approx([-6, 6.5, 4])
    assert sequential_payoffs([10, 5, 0], endowment=10, multiplier=1.8, reward="classic") == pytest.approx([9, 14, 19])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=2, max_size=6), st.integers(0, 5))
def test_classic_welfare_identity_and_dominance(contributions, who):
    n = len(contributions)
    who %= n
    rho = 1.5 if n == 2 else 1.8
    pay = sequential_payoffs(contributions, endowment=10, multiplier=rho, reward="classic")
    assert sum(pay) == pytest.approx(n * 10 + (rho - 1) * sum(contributions))
    if contributions[who] < 10:  # giving one more token always costs the giver (r/N < 1)
        more = list(contributions)
        more[who] += 1
        assert sequential_payoffs(more, endowment=10, multiplier=rho, reward="classic")[who] < pay[who]


# -- the env -----------------------------------------------------------------------------------------
def _play(env, actions: list[str]) -> None:
    for action in actions:
        env.step(action)


def test_env_pays_the_formula_and_reports_metrics():
    env = arena.make("sequential-public-goods-v0")
    env.reset(seed=0)
    _play(env, ["I give [10]", "[5]", "nothing from me: [0]"])
    raw = env.unwrapped
    assert raw.returns == pytest.approx({"player_0": -6, "player_1": 6.5, "player_2": 4})
    info = env.infos["player_0"]
    assert info["contribution_rate"] == pytest.approx(0.5)
    assert info["social_optimum"] == pytest.approx(84)
    assert info["welfare"] == pytest.approx(4.5)
    assert info["threshold_met"] == 0


def test_classic_env_pays_the_classic_formula():
    env = arena.make("sequential-public-goods-v0", reward="classic", num_players=4, num_rounds=2)
    env.reset(seed=0)
    _play(env, ["[10]", "[0]", "[4]", "[6]"] * 2)
    # total 20, share 1.8·20/4 = 9 per round
    assert env.unwrapped.returns == pytest.approx({"player_0": 18, "player_1": 38, "player_2": 30, "player_3": 26})


def test_full_observation_shows_all_predecessors_last_shows_one():
    for mode, expected in (("full", {"player_0": 7, "player_1": 3}), ("last", {"player_1": 3})):
        env = arena.make("sequential-public-goods-v0", observation=mode)
        env.reset(seed=0)
        _play(env, ["[7]", "[3]"])
        assert env.agent_selection == "player_2"
        assert env.infos["player_2"]["previous_contributions"] == expected
        text = env.observe("player_2")["text"]
        assert ("[player_0] contributes 7" in text) == (mode == "full")
        assert "[player_1] contributes 3" in text
        env.step("[1]")
        assert "contributions: player_0 7, player_1 3, player_2 1" in env.observe("player_2")["text"]


def test_invalid_contribution_retries_then_defaults():
    env = arena.make("sequential-public-goods-v0", invalid_contribution=2)
    env.reset(seed=0)
    env.step("[11]")  # above the endowment
    assert env.agent_selection == "player_0" and env.infos["player_0"]["invalid_move"]
    env.step("lots")
    assert env.agent_selection == "player_1"
    _play(env, ["[10]", "[10]"])
    assert env.unwrapped.history == [[2, 10, 10]]


def test_bad_parameters_are_rejected():
    with pytest.raises(ArenaError):
        arena.make("sequential-public-goods-v0", multiplier=3.0)  # r must stay below N = 3
    with pytest.raises(ArenaError):
        arena.make("sequential-public-goods-v0", reward="win-lose")
    with pytest.raises(ArenaError):
        arena.make("sequential-public-goods-v0", observation="none")
    with pytest.raises(ArenaError, match="invalid_contribution"):  # True is an int: it was played as "contributes True"
        arena.make("sequential-public-goods-v0", invalid_contribution=True)


def test_scripted_agents():
    coop = play("sequential-public-goods-v0", [ConditionalCooperator(), TitForTat(), ConditionalCooperator()], seed=1)
    assert coop.returns == pytest.approx({"player_0": 18, "player_1": 33, "player_2": 33})
    mixed = play("sequential-public-goods-v0", [ConditionalCooperator(), FreeRider(), TitForTat()], seed=1)
    assert mixed.transcript.result["info"]["contribution_rate"] == pytest.approx(10 / 30)


# -- issue 22: what the docs claim off the path, checked by brute force; the MAC-SPGG reading -----------
def best_replies(num_players: int, grid: Sequence[float], payoff: Payoff) -> dict[tuple[float, ...], list[float]]:
    """Every node's set of best replies when the later movers play the SPE (ties towards less)."""
    replies: dict[tuple[float, ...], list[float]] = {}

    def node(prefix: tuple[float, ...]) -> list[float]:
        mover = len(prefix)
        if mover == num_players:
            return list(prefix)
        options = [(payoff(path)[mover], c, path) for c in grid for path in [node((*prefix, c))]]
        top = max(o[0] for o in options)
        replies[prefix] = [c for value, c, _ in options if value >= top - 1e-9]
        return min(options, key=lambda o: (-o[0], o[1]))[2]

    node(())
    return replies


@pytest.mark.parametrize(("rho", "gamma"), [(1.8, 1.5), (1.5, 1.0), (2.4, 2.0), (1.2, 0.5)])
def test_the_cutoff_rule_holds_for_the_last_mover_only(rho, gamma):
    """Off the path the last mover gives everything iff its predecessors' mean exceeds e(1 - rho/N)/gamma
    (a linear payoff); an earlier mover also steers its successors, so the rule fails for it."""
    replies = best_replies(3, range(11), _payoff("aligned", multiplier=rho, cooperation_bonus=gamma))
    cutoff = 10 * (1 - rho / 3) / gamma
    for prefix, best in replies.items():
        if len(prefix) == 2 and prefix != (10, 10):
            mean = sum(prefix) / 2
            assert best == ([10] if mean > cutoff + 1e-9 else [0] if mean < cutoff - 1e-9 else list(range(11))), prefix
    second = {prefix[0]: best for prefix, best in replies.items() if len(prefix) == 1 and prefix != (10,)}
    off_rule = sorted(c for c, best in second.items() if best != [10 if c > cutoff else 0])
    if (rho, gamma) == (1.8, 1.5):  # the defaults: after 0, 1 or 2, player_1 gives 6, 5, 4 to lift player_2
        assert off_rule == [0, 1, 2] and second[0] == [6]


def _mac(**overrides: float) -> Payoff:
    from arena.envs.sequential_public_goods import PRESETS

    preset = PRESETS["mac-spgg"]
    params = {k: preset[k] for k in ("endowment", "multiplier", "cooperation_bonus", "threshold", "penalty", "cost")}
    params.update(overrides)
    return lambda cs: sequential_payoffs(cs, reward="mac-spgg", **params)


def test_mac_spgg_payoffs_by_hand():
    assert _mac()([10, 10, 10]) == pytest.approx([0.5, 2.0, 2.0])  # 1.8 - 1.3 (+ 1.5 bonus after the first)
    s = 1.8 * 26 / 30
    assert _mac()([6, 10, 10]) == pytest.approx([s - 1.3 * 0.36, s - 1.3 + 1.5 * 0.6, s - 1.3 + 1.5 * 0.8])
    assert _mac()([0, 0, 0]) == pytest.approx([-1.5] * 3)  # the group missed the quality threshold


def test_mac_spgg_preset_has_a_unique_spe_with_positive_effort_reaching_the_threshold():
    """Theorem 1's conclusion (every agent contributes and the final score reaches B) at the preset."""
    path, strict = solve_spe(3, range(11), _mac())
    assert path == [6, 10, 10] and strict
    assert all(c > 0 for c in path) and sum(path) / 30 >= 0.85


def test_mac_spgg_reading_and_theorem_2():
    """Welfare at the SPE rises with gamma and rho (as Theorem 2 says) but also with B (unlike it):
    docs/envs/sequential-public-goods.md reports both."""

    def welfare(**kw: float) -> float:
        path, _ = solve_spe(3, range(11), _mac(**kw))
        return sum(_mac(**kw)(path))

    assert welfare(cooperation_bonus=1.0) < welfare(cooperation_bonus=1.5) < welfare(cooperation_bonus=2.0)
    assert welfare(multiplier=1.5) < welfare(multiplier=1.8) < welfare(multiplier=2.1)
    assert welfare(threshold=0.7) < welfare(threshold=0.85) < welfare(threshold=0.95)


def test_mac_spgg_env_pays_the_reading():
    env = arena.make("sequential-public-goods-v0", preset="mac-spgg")
    env.reset(seed=0)
    _play(env, ["[6]", "[10]", "[10]"])
    assert list(env.unwrapped.returns.values()) == pytest.approx(_mac()([6, 10, 10]))
    assert env.infos["player_0"]["threshold_met"] == 1


def test_last_observation_keeps_a_defaulted_contribution_from_later_players():
    """The notice that repeated invalid moves played the (publicly known) default contribution went to
    everyone, so player_2 learned player_0's contribution before moving."""
    env = arena.make("sequential-public-goods-v0", observation="last")
    env.reset(seed=0)
    env.step("lots")
    env.step("more")  # retries used up: player_0 contributes the default, 0
    assert "default contribution" in env.observe("player_1")["text"]  # its successor sees the amount anyway
    env.step("[10]")
    assert env.agent_selection == "player_2"
    text = env.observe("player_2")["text"]
    assert "player_0 made repeated invalid moves" not in text and "[player_0] contributes" not in text
    assert env.infos["player_2"]["previous_contributions"] == {"player_1": 10}
