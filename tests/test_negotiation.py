"""Negotiation: hand-computed deals, enumeration checks of the Pareto and Nash metrics, trade mode, secrecy."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arena
from arena.agents.match import play
from arena.agents.scripted.bargaining import FairProposer, HardBargainer, cheapest_bundle
from arena.core import conformance
from arena.core.errors import ArenaError
from arena.envs import bargaining
from arena.envs.negotiation import parse_bundle, parse_turn

# player_0 values book 1, hat 3, ball 2; player_1 book 2, hat 0, ball 2 (each sums to 10 over 3/1/2 items)
CONTEXT = {"counts": (3, 1, 2), "values": ((1, 3, 2), (2, 0, 2))}


def _deal(*actions: str, **kwargs):
    env = arena.make("negotiation-v0", **kwargs)
    env.reset(seed=0, options=CONTEXT)
    for action in actions:
        env.step(action)
    return env


# -- hand-computed outcomes ----------------------------------------------------------------------------
def test_accepted_split_pays_each_its_own_utility_and_scores_the_deal():
    env = _deal("Let us share. [Propose: me 1 book 1 hat 1 ball]", "Fine. [Accept]")
    assert env.unwrapped.returns == {"player_0": 6.0, "player_1": 6.0}  # 1+3+2 and 2·2+2
    info = env.infos["player_0"]
    assert info["agreement"] is True
    assert info["deal"] == {"player_0": {"book": 1, "hat": 1, "ball": 1}, "player_1": {"book": 2, "hat": 0, "ball": 1}}
    # (0 books, 1 hat, 2 balls) gives (7, 6): the deal is dominated; the best Nash product is 7·6 = 42
    assert info["pareto_optimal"] is False
    assert info["nash_ratio"] == pytest.approx(36 / 42)
    assert info["welfare"] == 12 and info["max_welfare"] == 13
    assert info["envy_free"] is True


def test_nash_bargaining_split_is_pareto_optimal_with_ratio_one():
    env = _deal("[Propose: me 0 book 1 hat 2 balls]", "[Accept]")
    info = env.infos["player_1"]
    assert env.unwrapped.returns == {"player_0": 7.0, "player_1": 6.0}
    assert info["pareto_optimal"] is True and info["nash_ratio"] == pytest.approx(1.0)


def test_second_mover_proposal_is_what_it_keeps():
    env = _deal("hi", "[Propose: me 3 books]", "[Accept]")
    assert env.unwrapped.returns == {"player_0": 7.0, "player_1": 6.0}


def test_no_deal_pays_the_disagreement_payoff():
    env = _deal("hello", "[Propose: me 3 book 2 ball]", disagreement_payoff=1.5, turn_limit=2)
    assert env.unwrapped.returns == {"player_0": 1.5, "player_1": 1.5}  # a last-turn proposal cannot be accepted
    assert env.infos["player_0"]["agreement"] is False and env.infos["player_0"]["deal"] is None
    walked = _deal("[Walk away]", disagreement_payoff=-1.0)
    assert walked.unwrapped.returns == {"player_0": -1.0, "player_1": -1.0}


def test_a_proposal_lapses_after_one_reply_and_own_proposals_cannot_be_accepted():
    env = _deal("[Propose: me 3 book 1 hat 2 ball]", "no way")
    assert env.agent_selection == "player_0"
    env.step("[Accept]")
    assert env.infos["player_0"]["invalid_move"]
    env = _deal("[Propose: me 1 book]")
    env.step("[Propose: me 1 book]")
    env.step("[Accept]")  # player_0 accepts player_1's counter-proposal: player_1 keeps 1 book
    assert env.unwrapped.returns == {"player_0": 2 + 3 + 4, "player_1": 2.0}


def test_invalid_moves_retry_then_pass_the_turn():
    env = _deal("[Propose: me 9 books]")
    assert env.agent_selection == "player_0" and "cannot keep more" in env.infos["player_0"]["invalid_move"]
    env.step("[Propose: me 1 unicorn]")
    assert env.agent_selection == "player_1" and not env.unwrapped.finished


def test_parsers():
    assert parse_bundle("1 book, 2 balls and 0 hats", ("book", "hat", "ball")) == (1, 0, 2)
    assert isinstance(parse_bundle("1 book 2 book", ("book", "hat", "ball")), str)
    assert isinstance(parse_turn("[Accept] [Walk away]"), str)
    assert isinstance(parse_turn("[Propose me 1 book"), str)
    parsed = parse_turn("Deal? [propose: me 1 hat]")
    assert not isinstance(parsed, str) and parsed.kind == "propose" and parsed.message == "Deal?"


# -- enumeration checks of the metrics -------------------------------------------------------------------
def _brute(counts, v0, v1, alloc, base0=0.0, base1=0.0, d0=0.0, d1=0.0):
    """Independent plain-Python Pareto and Nash-ratio computation over every allocation."""
    outcomes = []
    for a in itertools.product(*(range(c + 1) for c in counts)):
        u0 = sum(x * v for x, v in zip(a, v0, strict=True)) - base0
        u1 = sum((c - x) * v for c, x, v in zip(counts, a, v1, strict=True)) - base1
        outcomes.append((u0, u1))
    u0 = sum(x * v for x, v in zip(alloc, v0, strict=True)) - base0
    u1 = sum((c - x) * v for c, x, v in zip(counts, alloc, v1, strict=True)) - base1
    pareto = not any(p >= u0 and q >= u1 and (p > u0 or q > u1) for p, q in outcomes)
    best = max((p - d0) * (q - d1) for p, q in outcomes if p >= d0 and q >= d1)
    mine = (u0 - d0) * (u1 - d1) if u0 >= d0 and u1 >= d1 else 0.0
    return pareto, (mine / best if best > 0 else None), max(p + q for p, q in outcomes)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.data())
def test_metrics_match_brute_force_enumeration(seed, data):
    counts, v0, v1 = bargaining.sample_context(random.Random(seed))
    assert 5 <= sum(counts) <= 7 and all(1 <= c <= 4 for c in counts)
    assert bargaining.utility(counts, v0) == 10 == bargaining.utility(counts, v1)
    alloc = tuple(data.draw(st.integers(0, c)) for c in counts)
    u0, u1 = bargaining.utility(alloc, v0), bargaining.utility(bargaining.complement(alloc, counts), v1)
    metrics = bargaining.evaluate_outcome(u0, u1, counts, v0, v1)
    pareto, ratio, max_welfare = _brute(counts, v0, v1, alloc)
    assert metrics["pareto_optimal"] == pareto
    assert metrics["nash_ratio"] == pytest.approx(ratio)
    assert metrics["max_welfare"] == max_welfare


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=3),
    st.data(),
    st.integers(-3, 3),
    st.integers(-3, 3),
    st.integers(-2, 5),
    st.integers(-2, 5),
)
def test_small_tables_are_evaluated_as_numpy_evaluates_them(totals, data, base0, base1, d0, d1):
    """Tables of at most 64 allocations skip numpy: the same Pareto flag, best Nash product and max welfare."""
    values0 = data.draw(st.lists(st.integers(0, 10), min_size=len(totals), max_size=len(totals)))
    values1 = data.draw(st.lists(st.integers(0, 10), min_size=len(totals), max_size=len(totals)))
    u0, u1 = data.draw(st.integers(-5, 40)), data.draw(st.integers(-5, 40))
    small = bargaining._small_table_metrics(u0, u1, totals, values0, values1, base0, base1, d0, d1)
    _, table0, table1 = bargaining.outcome_table(totals, values0, values1, base0, base1)
    assert small == (
        bargaining.is_pareto_optimal(u0, u1, table0, table1),
        bargaining.best_nash_product(table0, table1, d0, d1),
        float((table0 + table1).max()),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(5, 15), min_size=4, max_size=4), st.integers(0, 20), st.integers(0, 20))
def test_trade_metrics_match_brute_force_with_endowment_disagreement_point(vals, wood, gold):
    v0, v1 = tuple(vals[:2]), tuple(vals[2:])
    totals = (20, 20)
    base0, base1 = bargaining.utility((10, 10), v0), bargaining.utility((10, 10), v1)
    u0 = bargaining.utility((wood, gold), v0) - base0
    u1 = bargaining.utility((20 - wood, 20 - gold), v1) - base1
    metrics = bargaining.evaluate_outcome(u0, u1, totals, v0, v1, base0=base0, base1=base1)
    pareto, ratio, _ = _brute(totals, v0, v1, (wood, gold), base0, base1)
    assert metrics["pareto_optimal"] == pareto
    assert metrics["nash_ratio"] == pytest.approx(ratio) if ratio is not None else metrics["nash_ratio"] is None


# -- trade mode ------------------------------------------------------------------------------------------
def test_trade_pays_value_gained_as_trades_execute():
    env = arena.make("negotiation-v0", mode="trade", trade_values="spiral")
    env.reset(seed=0)
    env.step("I have Wood to spare. [Offer: 3 Wood -> 2 Gold]")
    assert env.infos["player_1"]["offer"] == {"you_give": {"Wood": 0, "Gold": 2}, "you_get": {"Wood": 3, "Gold": 0}}
    env.step("[Accept]")
    # player_0 (Wood 5, Gold 15): −3·5 + 2·15 = 15; player_1 (Wood 15, Gold 5): 3·15 − 2·5 = 35
    assert env.unwrapped.returns == {"player_0": 15.0, "player_1": 35.0}
    assert env.unwrapped.inventory == {"player_0": (7, 12), "player_1": (13, 8)}
    env.step("[Offer: 20 Wood -> 1 Gold]")
    assert "only have" in env.infos["player_0"]["invalid_move"]
    env.step("[Walk away]")
    info = env.infos["player_1"]
    assert info["agreement"] is True and info["trades"] == 1
    assert info["utilities"] == {"player_0": 15.0, "player_1": 35.0}
    assert info["pareto_optimal"] is False  # player_1 could hand over all its Gold for Wood


def test_trade_rejects_deal_tokens_and_bad_options():
    env = arena.make("negotiation-v0", mode="trade")
    env.reset(seed=0)
    env.step("[Propose: me 1 book]")
    assert "[Offer" in env.infos["player_0"]["invalid_move"]
    with pytest.raises(ArenaError):
        arena.make("negotiation-v0", mode="barter")
    with pytest.raises(ArenaError):
        arena.make("negotiation-v0", mode="trade", disagreement_payoff=2.0)


# -- the legal list (proposal_list=True) ------------------------------------------------------------------
def test_proposal_list_lists_every_split_then_accept_and_walk_away():
    env = arena.make("negotiation-v0", proposal_list=True)
    env.reset(seed=0, options=CONTEXT)
    info = env.infos["player_0"]
    legal = info["legal_actions"]
    assert len(legal) == len(set(legal)) == 4 * 2 * 3 + 1  # every split of 3 books, 1 hat, 2 balls; no [Accept] yet
    assert legal[-1] == "[Walk away]" and "[Propose: me 3 book 1 hat 2 ball]" in legal
    assert info["answer"]["kind"] == "choice" and info["answer"]["example"] in legal
    env.step("Half each? [Propose: me 1 book 1 hat 1 ball]")  # a message with the token stays valid
    legal = env.infos["player_1"]["legal_actions"]
    assert legal[-2:] == ["[Accept]", "[Walk away]"] and "invalid_move" not in env.infos["player_0"]
    env.step("[Accept]")
    assert env.unwrapped.returns == {"player_0": 6.0, "player_1": 6.0}
    assert "legal_actions" not in env.infos["player_0"]


def test_default_game_has_no_legal_list_and_trade_mode_refuses_one():
    env = arena.make("negotiation-v0")
    env.reset(seed=0)
    assert "legal_actions" not in env.infos["player_0"]
    assert env.infos["player_0"]["answer"]["kind"] == "structured"
    with pytest.raises(ArenaError, match="proposal_list"):
        arena.make("negotiation-v0", mode="trade", proposal_list=True)
    with pytest.raises(ArenaError, match="proposal_list"):
        arena.make("negotiation-v0", proposal_list="yes")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), picks=st.lists(st.integers(0, 10_000), min_size=10, max_size=10))
def test_every_listed_action_is_valid_and_keeps_what_it_says(seed, picks):
    env = arena.make("negotiation-v0", proposal_list=True)
    env.reset(seed=seed)
    totals = env.unwrapped.totals
    for pick in picks:
        agent = env.agent_selection
        if env.unwrapped.finished:
            break
        legal = env.infos[agent]["legal_actions"]
        action = legal[pick % len(legal)]
        env.step(action)
        assert "invalid_move" not in env.infos[agent], action
        offer = env.unwrapped.offer
        if action.startswith("[Propose"):
            keep = parse_bundle(action.removeprefix("[Propose: me").rstrip("]"), env.unwrapped.names)
            mine = offer.alloc0 if agent == "player_0" else bargaining.complement(offer.alloc0, totals)
            assert mine == keep


def test_proposal_list_game_passes_the_conformance_checks():
    conformance.check_env("negotiation-v0", proposal_list=True)


# -- secrecy -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["deal", "trade"])
def test_private_values_never_reach_the_other_player(mode):
    def factory():
        return arena.make("negotiation-v0", mode=mode)

    assert conformance.check_secrecy(factory, seeds=range(6)) > 0


def test_other_players_view_does_not_depend_on_my_values():
    """Two contexts that differ only in player_0's values: player_1 sees exactly the same until the end."""
    views = []
    for values0 in ((1, 3, 2), (0, 10, 0)):
        env = arena.make("negotiation-v0")
        env.reset(seed=0, options={"counts": (3, 1, 2), "values": (values0, (2, 0, 2))})
        seen = []
        for action in ("hello", "[Propose: me 2 book]", "hmm", "[Propose: me 1 book 1 ball]"):
            env.step(action)
            seen.append((env.observe("player_1")["text"], repr(env.infos["player_1"])))
        views.append(seen)
    assert views[0] == views[1]


# -- scripted agents ---------------------------------------------------------------------------------------
def test_cheapest_bundle():
    assert cheapest_bundle((3, 1, 2), (1, 3, 2), 5) == (0, 1, 1)
    assert cheapest_bundle((3, 1, 2), (1, 3, 2), 10) == (3, 1, 2)
    assert cheapest_bundle((1, 1, 1), (0, 0, 0), 5) == (1, 1, 1)


def test_scripted_negotiators_reach_deals_and_never_blunder():
    for seed in range(30):
        result = play("negotiation-v0", [FairProposer(), HardBargainer()], seed=seed)
        info = result.transcript.result["info"]
        assert info["agreement"], seed
        assert sum(result.invalid_moves.values()) == 0
        assert min(result.returns.values()) >= 0
    fair = play("negotiation-v0", [FairProposer(), FairProposer()], seed=3)
    assert fair.returns["player_0"] >= 5  # never accepts or proposes less than half its own value early on


# -- issue 22: Deal or No Deal's contexts, openers and private selection; SPIRAL's reward; cut games ------
@pytest.mark.parametrize("text", ["[walkaway]", "[Walk-away]", "[walk_away] bye", "[WalkAway]"])
def test_walk_away_in_any_spelling_ends_the_game(text):
    env = _deal(text)
    assert env.unwrapped.finished and env.infos["player_0"]["agreement"] is False


def test_dond_item_totals_follow_the_human_data():
    rng = random.Random(0)
    totals = [sum(bargaining.sample_context(rng, "dond")[0]) for _ in range(4000)]
    share = {t: totals.count(t) / len(totals) for t in (5, 6, 7)}
    expected = {5: 0.40 / 0.99, 6: 0.40 / 0.99, 7: 0.19 / 0.99}
    assert all(abs(share[t] - expected[t]) < 0.03 for t in expected), share
    uniform = [sum(bargaining.sample_context(rng)[0]) for _ in range(4000)]
    assert uniform.count(7) / 4000 > 0.35  # the old default draws many more 7-item contexts


class _Branch(Exception):
    """A draw past the scripted prefix: its outcomes' probabilities."""

    def __init__(self, probabilities: list[float]) -> None:
        self.probabilities = probabilities


class _ScriptedDraws:
    """A stand-in for ``random.Random`` that returns scripted outcomes, to enumerate a sampler exactly."""

    def __init__(self, outcomes: tuple[int, ...]) -> None:
        self.outcomes, self.used = outcomes, 0

    def _draw(self, probabilities: list[float]) -> int:
        if self.used == len(self.outcomes):
            raise _Branch(probabilities)
        self.used += 1
        return self.outcomes[self.used - 1]

    def choice(self, items):
        return items[self._draw([1 / len(items)] * len(items))]

    def choices(self, population, weights):
        return [population[self._draw([w / sum(weights) for w in weights])]]


def _sampler_distribution(item_totals: str) -> dict:
    """``sample_context``'s exact distribution, by enumerating every outcome of every draw it makes."""
    distribution: dict = {}
    pending = [((), 1.0)]
    while pending:
        outcomes, probability = pending.pop()
        try:
            context = bargaining.sample_context(_ScriptedDraws(outcomes), item_totals)
        except _Branch as branch:
            pending.extend(((*outcomes, k), probability * p) for k, p in enumerate(branch.probabilities))
            continue
        distribution[context] = distribution.get(context, 0.0) + probability
    return distribution


def _rule_distribution(item_totals: str) -> dict:
    """The documented rule's distribution, from first principles: counts of 1-4 per type drawn until 5-7 items
    (uniform over the valid counts) or the total by the human-data weights, then copies uniformly among its
    splits; then two value vectors (each summing to 10) drawn until every type is worth something to someone
    and one type to both."""
    valid_counts = [c for c in itertools.product(range(1, 5), repeat=3) if 5 <= sum(c) <= 7]
    weights = {5: 0.40, 6: 0.40, 7: 0.19}
    distribution = {}
    for counts in valid_counts:
        if item_totals == "uniform":
            p_counts = 1 / len(valid_counts)
        else:
            splits = sum(1 for c in valid_counts if sum(c) == sum(counts))
            p_counts = weights[sum(counts)] / sum(weights.values()) / splits
        vectors = [
            v
            for v in itertools.product(range(11), repeat=3)
            if sum(c * x for c, x in zip(counts, v, strict=True)) == 10
        ]
        pairs = [
            (a, b)
            for a in vectors
            for b in vectors
            if all(x or y for x, y in zip(a, b, strict=True)) and any(x and y for x, y in zip(a, b, strict=True))
        ]
        for a, b in pairs:
            distribution[(counts, a, b)] = p_counts / len(pairs)
    return distribution


@pytest.mark.parametrize("item_totals", ["uniform", "dond"])
def test_contexts_are_drawn_exactly_as_the_rule_says(item_totals):
    """The table sampler (one draw per choice) deals every context with the probability of the documented
    rejection rule, checked exhaustively over all 5,295 valid contexts."""
    drawn, rule = _sampler_distribution(item_totals), _rule_distribution(item_totals)
    assert set(drawn) == set(rule) and len(rule) == 5295
    assert all(drawn[context] == pytest.approx(rule[context], rel=1e-9) for context in rule)


@pytest.mark.parametrize(
    ("rule", "expected"), [("player_1", ["player_1"] * 4), ("alternate", ["player_0", "player_1"] * 2)]
)
def test_first_mover_rules(rule, expected):
    env = arena.make("negotiation-v0", first_mover=rule)
    openers = []
    for seed in range(4):
        env.reset(seed=seed, options=CONTEXT)
        openers.append(env.agent_selection)
        assert f"{env.agent_selection} moves first" in env.observe("player_0")["text"]
    assert openers == expected
    env = arena.make("negotiation-v0", first_mover="random")
    seen = set()
    for seed in range(20):
        env.reset(seed=seed, options=CONTEXT)
        seen.add(env.agent_selection)
        assert env.infos[env.agent_selection].get("legal_actions") is None  # open move set, a live turn
    assert seen == {"player_0", "player_1"}


def test_second_opener_plays_the_same_rules():
    env = _deal("[Propose: me 3 books]", "[Accept]", first_mover="player_1")
    assert env.unwrapped.returns == {"player_0": 7.0, "player_1": 6.0}
    assert env.infos["player_0"]["first_mover"] == "player_1" and env.infos["player_0"]["turns_to_agreement"] == 2


def test_private_selection_with_matching_choices_is_a_deal():
    env = _deal("[Propose: me 0 book 1 hat 2 ball]", "ok [Selection]", "[Take: 0 book 1 hat 2 ball]",
                "[Take: me 3 books]", ending="selection")  # fmt: skip
    info = env.infos["player_0"]
    assert env.unwrapped.returns == {"player_0": 7.0, "player_1": 6.0}
    assert info["agreement"] is True and info["turns_to_agreement"] == 2 and info["turns"] == 2
    assert info["selections"]["player_1"] == {"book": 3, "hat": 0, "ball": 0}


def test_private_selection_that_does_not_match_is_no_deal():
    env = _deal("[Selection]", "[Take: 3 book 1 hat 2 ball]", "[Take: 3 books]", ending="selection")
    assert env.unwrapped.returns == {"player_0": 0.0, "player_1": 0.0}
    assert env.infos["player_1"]["agreement"] is False and env.infos["player_1"]["turns_to_agreement"] is None


def test_selection_rules_accept_is_refused_and_the_turn_limit_opens_the_choice():
    env = _deal("[Propose: me 3 books]", "[Accept]", ending="selection", turn_limit=2)
    assert "[Selection]" in env.infos["player_1"]["invalid_move"]
    env.step("fine")  # the second and last turn: the choice opens
    raw = env.unwrapped
    assert raw.phase == "selection" and not raw.finished
    assert "last_proposal" not in env.infos[env.agent_selection]  # the unanswered proposal lapsed
    env.step("[Take: 0 books 1 hat 2 balls]")
    env.step("[Take: 9 books]")  # more than there is: invalid, retried
    assert "more than there is" in env.infos["player_1"]["invalid_move"]
    env.step("no idea")  # retries used up: player_1 chooses nothing, so no deal
    assert raw.finished and env.infos["player_0"]["agreement"] is False


def test_the_standing_proposal_is_offered_for_the_choice_and_choices_stay_private():
    env = _deal("[Propose: me 0 book 1 hat 2 ball]", "[Selection]", "[Take: 0 book 1 hat 2 ball]", ending="selection")
    assert env.infos["player_1"]["last_proposal"]["you_get"] == {"book": 3, "hat": 0, "ball": 0}
    assert "Take: 0 book 1 hat 2 ball" not in env.observe("player_1")["text"] and not env.unwrapped.finished


def test_metrics_also_when_max_turns_cuts_the_game():
    env = _deal("hi", "[Propose: me 3 books]", max_turns=2)
    info = env.infos["player_0"]
    assert all(env.truncations.values())
    assert info["agreement"] is False and info["turns"] == 2 and info["welfare"] == 0.0
    assert info["max_welfare"] == 13 and info["values"]["player_1"] == {"book": 2, "hat": 0, "ball": 2}


def test_spiral_reward_is_plus_minus_one_by_the_larger_gain():
    env = arena.make("negotiation-v0", mode="trade", trade_values="spiral", reward="spiral", turn_limit=2)
    env.reset(seed=0)
    env.step("[Offer: 4 Wood -> 3 Gold]")  # player_0 (Wood 5, Gold 15) gains 45 - 20; player_1 60 - 15
    env.step("[Accept]")
    raw = env.unwrapped
    gains = env.infos["player_0"]["utilities"]
    assert gains == {"player_0": -20.0 + 45.0, "player_1": 60.0 - 15.0}
    assert raw.returns == {"player_0": -1.0, "player_1": 1.0}
    draw = arena.make("negotiation-v0", mode="trade", trade_values="spiral", reward="spiral", turn_limit=2)
    draw.reset(seed=0)
    draw.step("hello")
    draw.step("bye")
    assert draw.unwrapped.returns == {"player_0": 0.0, "player_1": 0.0}


def test_scripted_negotiators_agree_under_the_dond_preset():
    deals = 0
    for seed in range(30):
        env = arena.make("negotiation-v0", preset="dond")
        result = play(env, [FairProposer(seed), FairProposer(seed + 1)], seed=seed)
        deals += result.transcript.result["info"]["agreement"]
    assert deals >= 20


def test_spiral_preset_ends_on_an_invalid_move_and_pays_plus_minus_one_otherwise():
    env = arena.make("negotiation-v0", preset="spiral")
    env.reset(seed=0)
    env.step("[Offer: 99 Wood -> 1 Gold]")  # more Wood than player_0 owns: no retry under SPIRAL's rule
    assert env.unwrapped.finished and env.unwrapped.returns == {"player_0": -1.5, "player_1": 0.5}
    env.reset(seed=1)
    for action in ["[Offer: 4 Wood -> 3 Gold]", "[Accept]"] + ["hi"] * 8:
        env.step(action)
    assert env.unwrapped.returns == {"player_0": -1.0, "player_1": 1.0}  # gains 25 vs 45


def test_the_private_choice_asks_for_a_take_and_its_example_is_accepted():
    env = _deal("[Selection]", ending="selection", first_mover="player_1")
    agent = env.agent_selection
    answer = env.infos[agent]["answer"]
    assert answer["kind"] == "structured" and "[Take:" in answer["syntax"]
    assert env.infos[agent]["role"] == ("first_mover" if agent == "player_1" else "second_mover")
    env.step(answer["example"])
    assert "invalid_move" not in env.infos[agent]


@pytest.mark.parametrize("first_mover", ["player_0", "player_1", "alternate"])
def test_a_fixed_context_draws_nothing_from_the_episode_rng(first_mover):
    """Only ``first_mover="random"`` draws the opener; the others used to draw a number they threw away."""
    env = arena.make("negotiation-v0", first_mover=first_mover)
    env.reset(seed=7, options=CONTEXT)
    assert env.unwrapped.py_random.random() == random.Random(7).random()  # the stream the game draws from
    assert env.unwrapped.np_random.integers(10**9) == np.random.default_rng(7).integers(10**9)


def _reference_information_state(game, agent):
    """The negotiation's information state built directly from the game (what it was before turns took cheap
    snapshots): the reference the snapshot's expansion must equal."""
    offer = game.offer
    return {
        "agent": agent,
        "mode": game.mode,
        "values": game.values[agent],
        "totals": game.totals,
        "inventories": [game.inventory[a] for a in game.possible_agents],
        "turn": game.turns_taken,
        "turn_limit": game.turn_limit,
        "disagreement_payoff": game.disagreement_payoff,
        "offer": None if offer is None else (offer.proposer, offer.alloc0, offer.give, offer.get),
        "moves": game._move_keys,
        "opener": game.opener,
        "ending": game.ending,
        "reward": game.reward_kind,
        "my_choice": None if game.selection is None else game.selection.moves.get(agent, "to choose"),
    }


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"mode": "trade"}, {"ending": "selection"}, {"proposal_list": True, "first_mover": "alternate"}],
)
def test_turn_snapshots_expand_to_the_information_state_read_from_the_game(kwargs):
    """Each turn's ``state_key`` comes from a snapshot expanded when the key is read: the expansion must equal
    the information state built from the game at that turn, and its digest the key read after later moves."""
    from arena.core.keys import state_digest

    env = arena.make("negotiation-v0", **kwargs)
    game = env.unwrapped
    rng = np.random.default_rng(0)
    moves = ["[Accept]", "hello", "[Walk away]", "[Selection]", "[Take: 1 book 1 hat 1 ball]"]
    moves += ["[Propose: me 1 book 0 hat 1 ball]", "[Offer: 1 Wood -> 1 Gold]", "[Propose: me 0 book 1 hat 0 ball]"]
    held, turns = [], 0
    for seed in range(20):
        env.reset(seed=seed)
        for agent in env.agent_iter(500):
            if env.terminations[agent] or env.truncations[agent]:
                env.step(None)
                continue
            reference = _reference_information_state(game, agent)
            assert game.information_state(agent) == reference
            held.append((env.infos[agent], state_digest(reference)))  # the key read only after the episode
            legal = env.infos[agent].get("legal_actions")
            pool = legal if legal and rng.random() < 0.7 else moves
            env.step(pool[int(rng.integers(len(pool)))])
            turns += 1
    assert turns > 40
    assert [info["state_key"] for info, _ in held] == [key for _, key in held]
