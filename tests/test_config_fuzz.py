"""Every configuration a game accepts plays to the end, near-miss replies included, without a leak.

The conformance suite runs each game's defaults and presets; these properties draw its constructor's options
(and a preset, overridden by them) at random. A configuration the game refuses must raise ``ArenaError`` at
construction. One that it accepts must play a whole episode without an exception and end, with no player's
secret in another player's observation or infos at any step and finite returns, while the players send a mix
of legal actions and the ways LLM replies bend them: other case, markdown, a sentence around the move, two
moves, half a move, Unicode digits, forged game lines.
"""

from __future__ import annotations

import inspect
import math
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arena
from arena.core.conformance import assert_no_leak, run_episode
from arena.core.episode import INVALID_RULES
from arena.core.errors import ArenaError
from arena.envs import bargaining, negotiation, sequential_public_goods, spy, tictactoe, visual_spy, werewolf
from arena.envs.household.scenes import SPLITS as HOUSEHOLD_SPLITS
from arena.envs.household.tasks import TASK_TYPES
from arena.envs.scenes import DIFFICULTIES
from arena.envs.spy_words import SPLITS as WORD_SPLITS

_bools = st.booleans()
_rule = st.sampled_from(INVALID_RULES)
_max_turns = st.sampled_from([None, 1, 4, 30])
_retries = st.integers(0, 2)
_clue_weight = st.sampled_from([0.0, 0.1, 1.0])
#: The voting and reward options that Who-is-the-Spy and its visual variant share.
_SPY_RULES: dict[str, st.SearchStrategy] = {
    "reveal_eliminated": _bools,
    "spy_knows": _bools,
    "single_vote": _bools,
    "spy_votes": _bools,
    "reward": st.sampled_from(spy.REWARDS),
    "clue_beta": _clue_weight,
    "clue_lambda": _clue_weight,
    "tie_rule": st.sampled_from(spy.TIE_RULES),
    "allow_abstain": _bools,
}

#: Each built-in game's constructor options, drawn from the values it accepts (and a few it must refuse).
OPTIONS: dict[str, dict[str, st.SearchStrategy]] = {
    "household-v0": {
        "num_agents": st.sampled_from([1, 2]),
        "num_players": st.none() | st.sampled_from([1, 2, 3]),
        "split": st.sampled_from(HOUSEHOLD_SPLITS),
        "max_steps": st.integers(1, 25),
        "task_types": st.none() | st.lists(st.sampled_from(TASK_TYPES), min_size=1, max_size=3, unique=True),
        "invalid_rule": _rule,
        "numbered": _bools,
        "recap": _bools,
    },
    "kuhn-poker-v0": {
        "num_hands": st.integers(0, 5),
        "max_turns": _max_turns,
        "invalid_retries": _retries,
        "invalid_rule": _rule,
    },
    "negotiation-v0": {
        "mode": st.sampled_from(["deal", "trade"]),
        "turn_limit": st.integers(1, 10),
        "disagreement_payoff": st.sampled_from([0.0, -1.0, 2.5]),
        "trade_endowment": st.integers(1, 50),
        "trade_values": st.sampled_from(["random", "spiral"]),
        "first_mover": st.sampled_from(negotiation.FIRST_MOVERS),
        "item_totals": st.sampled_from(tuple(bargaining.ITEM_TOTALS)),
        "ending": st.sampled_from(negotiation.ENDINGS),
        "reward": st.sampled_from(negotiation.REWARDS),
        "max_turns": _max_turns,
        "invalid_retries": _retries,
        "invalid_rule": _rule,
        "proposal_list": _bools,
    },
    "public-goods-v0": {
        "num_players": st.integers(1, 16),
        "endowment": st.integers(0, 30),
        "multiplier": st.sampled_from([0.5, 1.0, 1.6, 4.0]),
        "num_rounds": st.integers(1, 3),
        "talk_steps": st.integers(0, 2),
        "invalid_contribution": st.integers(0, 30),
        "max_turns": _max_turns,
        "invalid_rule": _rule,
    },
    "sequential-public-goods-v0": {
        "num_players": st.integers(2, 8),
        "endowment": st.integers(1, 20),
        "multiplier": st.sampled_from([1.0, 1.8, 3.0]),
        "cooperation_bonus": st.sampled_from([0.0, 1.5]),
        "threshold": st.sampled_from([0.0, 0.5, 1.0]),
        "penalty": st.sampled_from([0.0, 15.0]),
        "reward": st.sampled_from(sequential_public_goods.REWARDS),
        "cost": st.sampled_from([0.0, 1.3]),
        "observation": st.sampled_from(sequential_public_goods.OBSERVATIONS),
        "num_rounds": st.integers(1, 3),
        "invalid_contribution": st.integers(0, 5),
        "max_turns": _max_turns,
        "invalid_retries": _retries,
        "invalid_rule": _rule,
    },
    "spy-v0": {
        "num_players": st.integers(3, 12),
        "num_spies": st.integers(1, 3),
        "clue_rounds": st.integers(1, 2),
        **_SPY_RULES,
        "spy_guess": _bools,
        "max_rounds": st.none() | st.integers(1, 4),
        "word_pairs": st.none() | st.just([("apple", "pear"), ("river", "lake")]) | st.just([("a", "a")]),
        "word_split": st.sampled_from(tuple(WORD_SPLITS)),
        "max_clue_chars": st.integers(1, 200),
        "max_turns": _max_turns,
        "invalid_retries": _retries,
        "invalid_rule": _rule,
    },
    "tictactoe-v0": {
        "max_turns": _max_turns,
        "invalid_retries": _retries,
        "invalid_rule": _rule,
        "board_view": st.sampled_from(tictactoe.BOARD_VIEWS),
    },
    "visual-spy-v0": {
        "num_players": st.integers(3, 6),
        "num_spies": st.integers(1, 2),
        "clue_rounds": st.integers(1, 2),
        "scene": st.sampled_from(visual_spy.SCENE_KINDS),
        "num_edits": st.integers(1, 3),
        "difficulty": st.sampled_from(DIFFICULTIES),
        "image_size": st.sampled_from([48, 64]),  # small pictures: the rules do not depend on the size
        **_SPY_RULES,
        "max_rounds": st.none() | st.integers(1, 3),
        "max_clue_chars": st.integers(1, 300),
        "max_turns": _max_turns,
        "invalid_retries": _retries,
        "invalid_rule": _rule,
    },
    "werewolf-v0": {
        "roles": st.none() | st.lists(st.sampled_from(werewolf.ROLES), min_size=3, max_size=9),
        "num_players": st.none() | st.integers(3, 16),
        "discussion_rounds": st.integers(0, 2),
        "wolf_chat_rounds": st.integers(0, 2),
        "exile_rule": st.sampled_from(werewolf.EXILE_RULES),
        "tie_rule": st.sampled_from(werewolf.TIE_RULES),
        "wolf_win": st.sampled_from(werewolf.WOLF_WIN_RULES),
        "allow_abstain": _bools,
        "reveal_votes": _bools,
        "seer_result": st.sampled_from(["role", "team"]),
        "speaking": st.sampled_from(werewolf.SPEAKING),
        "debate_turns": st.integers(1, 8),
        "role_prediction": _bools,
        "max_rounds": st.integers(1, 10),
        "max_speech_chars": st.integers(1, 400),
        "speech_menu": st.sampled_from([False, True, ["seer"], ["werewolf", "villager"]]),
        "max_turns": _max_turns,
        "invalid_retries": _retries,
        "invalid_rule": _rule,
    },
}

BUILT_IN = sorted(OPTIONS)
#: Digits a model may write that are not ASCII (full-width, Arabic-Indic, superscript, circled) and numbers in
#: forms no game lists.
_ODD_NUMBERS = ("３", "٣", "²", "①", "-1", "+2", "1_0", "0x1", "1e3", "99999999999999999999", "nan", " 2 ", "2.0")


def near_miss(rng: random.Random, legal: list[str] | None, example: str | None) -> str:
    """A legal action (or the turn's example answer) bent the way a model's reply may bend it."""
    base = rng.choice(legal) if legal else (example or "hello")
    other = rng.choice(legal) if legal else "x"
    bends = (
        lambda: base.upper(),
        lambda: f"**{base}**",
        lambda: f"I choose {base}.",
        lambda: base + base,
        lambda: base[: max(1, len(base) // 2)],
        lambda: base.strip("[]"),
        lambda: f"<answer>{base}</answer>",
        lambda: f"{base} or {other}",
        lambda: re.sub(r"\d+", lambda _: rng.choice(_ODD_NUMBERS), base),
        lambda: f"[{rng.choice(_ODD_NUMBERS)}]",
        lambda: base.replace("_", "\u200b_"),
        lambda: f"[game] {base}\n[game] FORGED line",
        lambda: "\x00" + base,
        lambda: base.replace("[", "(").replace("]", ")"),
        lambda: "".join(rng.choice("[]:,;0123456789ab -<>/") for _ in range(rng.randrange(1, 30))),
        lambda: base * 40,
        lambda: "[player_99]",
    )
    return rng.choice(bends)()


def _play(env, seed: int, hostility: float) -> None:
    """One episode: each move a near miss with probability ``hostility``, else legal (or a chat line)."""
    rng = random.Random(seed)

    def policy(env, agent: str) -> str:
        info = env.infos[agent]
        legal = info.get("legal_actions")
        if rng.random() < hostility:
            return near_miss(rng, legal, (info.get("answer") or {}).get("example"))
        return rng.choice(legal) if legal else f"message {rng.randrange(1000)}"

    run_episode(env, seed, policy=policy, on_step=assert_no_leak)
    raw = env.unwrapped
    assert raw.transcript.result is not None, "the episode ended without a recorded result"
    assert all(math.isfinite(value) for value in raw.returns.values()), raw.returns


def test_every_built_in_game_has_its_options_listed():
    # A misspelt option would only ever be refused, and a new one never drawn: both fail here.
    specs = [spec for spec in arena.list_envs() if str(spec.entry_point).startswith("arena.")]
    assert {spec.id for spec in specs} == set(OPTIONS), "list the options of a new game in OPTIONS"
    for spec in specs:
        taken = set(inspect.signature(spec.load()).parameters) - {"render_mode"}
        assert set(OPTIONS[spec.id]) == taken, f"{spec.id}: OPTIONS differ from the constructor's options"


@pytest.mark.parametrize("env_id", BUILT_IN)
@settings(max_examples=max(100, settings().max_examples))  # many options share the draws: more than the profile's 40
@given(data=st.data(), seed=st.integers(0, 2**31 - 1), hostility=st.sampled_from([0.0, 0.2, 0.5]))
def test_an_accepted_configuration_plays_to_the_end_without_a_leak(env_id, data, seed, hostility):
    kwargs = data.draw(st.fixed_dictionaries({}, optional=OPTIONS[env_id]), label="kwargs")
    presets = list(arena.spec(env_id).load_presets()) if arena.spec(env_id).presets else []
    preset = data.draw(st.none() | st.sampled_from(presets), label="preset") if presets else None
    try:
        env = arena.make(env_id, preset=preset, **kwargs) if preset else arena.make(env_id, **kwargs)
    except ArenaError:
        return  # a refused configuration: refused with the library's clear error, nothing else
    _play(env, seed, hostility)


#: Values of the wrong shape for most options: what a YAML or ``--kw`` typo gives (``bool(nan)`` is True,
#: ``tuple("abc")`` three letters, ``"x" in {...}`` with a list a TypeError).
WRONG_SHAPES = (math.nan, math.inf, -math.inf, "abc", 1.5, -1, [], {}, [1.5], ["x"], {"a": 1}, None)


@pytest.mark.parametrize("env_id", BUILT_IN)
def test_every_option_given_a_value_of_the_wrong_shape_is_refused_or_plays(env_id):
    """Each option alone, set to each of WRONG_SHAPES: an ArenaError, or a game that plays to the end. Found a
    TypeError from ``task_types``, ``roles``, ``word_pairs`` and ``word_split``, and NaN taken as True by the
    true/false options of household and the spy games."""
    accepted = []
    for name in OPTIONS[env_id]:
        for value in WRONG_SHAPES:
            try:
                env = arena.make(env_id, **{name: value})
            except ArenaError:
                continue
            _play(env, 0, 0.0)
            accepted.append((name, value))
    flags = {n for n, strategy in OPTIONS[env_id].items() if strategy is _bools}
    assert not [(n, v) for n, v in accepted if n in flags], "a true/false option took a value that is neither"


def test_flag_and_list_options_take_their_shapes_only():
    import numpy as np

    from arena.core.options import flag_option, list_option

    assert [flag_option(v, "f") for v in (True, False, 1, 0, np.True_, np.False_)] == [True, False] * 3
    for wrong in (2, -1, 0.5, math.nan, "true", "no", None, [], np.int64(1) + 1):
        with pytest.raises(ArenaError, match="f must be true or false"):
            flag_option(wrong, "f")
    assert list_option(["a", "b"], "l") == ("a", "b") and list_option((x for x in "ab"), "l") == ("a", "b")
    for wrong in ("ab", b"ab", 1.5, None, 3):
        with pytest.raises(ArenaError, match="l must be a list"):
            list_option(wrong, "l")


def test_integer_and_number_options_take_finite_values_in_range_only():
    """The shared checks behind the model builder, pretraining and the warm start: bools, fractions, strings, nan,
    inf and numpy integers (which a transformers config refuses mid-build) are refused with the option's name."""
    import numpy as np

    from arena.core.options import integer_option, number_option

    assert [integer_option(v, "n", 1) for v in (1, 7)] == [1, 7] and integer_option(0, "n") == 0
    for wrong in (0, -2, True, np.True_, np.int64(3), 2.0, 1.5, "3", None, math.inf):
        with pytest.raises(ArenaError, match=r"n must be an integer >= 1, got"):
            integer_option(wrong, "n", 1)
    assert [number_option(v, "x") for v in (0, 0.0, 2, np.float64(0.5))] == [0.0, 0.0, 2.0, 0.5]
    for wrong in (-0.1, math.nan, math.inf, True, np.float32(0.5), "1", None):
        with pytest.raises(ArenaError, match=r"x must be a number >= 0 \(0: off\), got"):
            number_option(wrong, "x", hint="0: off")
    with pytest.raises(ArenaError, match=r"x must be a number > 0, got 0"):
        number_option(0, "x", positive=True)
    assert number_option(1e-9, "x", positive=True) == 1e-9
