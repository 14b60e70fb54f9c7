"""Rules of ``spy-v0`` played through scripted scenarios, its clue rule, its word list and its secrecy."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arena
from arena.agents.match import play
from arena.agents.random_agent import RandomAgent
from arena.agents.scripted.spy import SpyNaiveScripted, SpyScripted, facts_in, word_facts
from arena.core.errors import ArenaError
from arena.envs.spy import mentions_word
from arena.envs.spy_words import HELD_OUT_PAIRS, TRAIN_PAIRS, WORD_PAIRS

PAIR = [("coffee", "tea")]


def drive(env, policy: Callable[[str, str, object], str], *, spies: list[str], seed: int = 0) -> None:
    """Play to the end; ``policy(kind, agent, raw)`` answers for the live agent to act."""
    env.reset(seed=seed, options={"spies": spies})
    raw = env.unwrapped
    for _ in range(3000):
        if not env.agents:
            return
        _, _, term, trunc, _ = env.last()
        env.step(None if term or trunc else policy(raw.queue[0][0], env.agent_selection, raw))
    raise AssertionError("the game did not end")


def vote_for(targets: list[str], guess: str = "nothing") -> Callable[[str, str, object], str]:
    """Clue ``"clue <agent> <round>"``; everyone votes for ``targets[round-1]`` (or abstains); a caught spy guesses."""

    def policy(kind: str, agent: str, raw) -> str:
        if kind == "clue":
            return f"clue {agent} {raw.round} {len(raw.clues_given)}"
        if kind == "guess":
            return guess
        target = targets[raw.round - 1] if raw.round - 1 < len(targets) else None
        return f"[{target}]" if target and target != agent else "[abstain]"

    return policy


def test_word_list_has_enough_distinct_pairs():
    assert len(WORD_PAIRS) >= 200
    words = [w for a, b, _ in WORD_PAIRS for w in (a, b)]
    assert len(words) == len(set(words))
    assert all(a != b and a.isalpha() and b.isalpha() for a, b, _ in WORD_PAIRS)


@pytest.mark.parametrize(
    ("clue", "said"),
    [
        ("I drink coffee", True),
        ("two COFFEES please", True),
        ("c-o-f-f-e-e", True),
        ("c o f f e e!", True),
        ("a hot bitter drink", False),
        ("coffeehouse vibes", False),
        ("c o f f", False),
        ("cof fee", True),
        ("coffee-s are great", True),
    ],
)
def test_saying_or_spelling_the_word_is_detected(clue, said):
    assert mentions_word(clue, "coffee") is said


@pytest.mark.parametrize(
    ("clue", "word", "said"),
    [
        ("I love ice cream", "icecream", True),
        ("an ice-cream cone", "icecream", True),
        ("a tooth brush", "toothbrush", True),
        ("sharp knives", "knife", True),
        ("two geese", "goose", True),
        ("three mice", "mouse", True),
        ("fresh berries", "berry", True),
        ("wolves howl", "wolf", True),
        ("cold and sweet", "icecream", False),
        ("nice cream colour", "icecream", False),
        ("brushing teeth", "toothbrush", False),
        ("a knight", "knife", False),
    ],
)
def test_own_word_check_sees_split_compounds_and_plurals(clue, word, said):
    assert mentions_word(clue, word) is said


def test_word_list_is_clean_and_split():
    pairs = {frozenset(p[:2]) for p in WORD_PAIRS}
    for dropped in (("prison", "jail"), ("holiday", "vacation"), ("key", "lock"), ("sofa", "bed"), ("cup", "mug")):
        assert frozenset(dropped) not in pairs
    words = {w for p in WORD_PAIRS for w in p[:2]}
    assert not words & {"bat", "fly", "ring", "tie", "pool", "spring", "mouse", "orange", "turkey", "watch"}
    assert set(TRAIN_PAIRS) | set(HELD_OUT_PAIRS) == set(WORD_PAIRS) and not set(TRAIN_PAIRS) & set(HELD_OUT_PAIRS)
    assert 0.15 < len(HELD_OUT_PAIRS) / len(WORD_PAIRS) < 0.3
    env = arena.make("spy-v0", word_split="held-out")
    held = {w for p in HELD_OUT_PAIRS for w in p[:2]}
    for seed in range(20):
        env.reset(seed=seed)
        assert {env.unwrapped.civilian_word, env.unwrapped.spy_word} <= held


def test_clue_with_own_word_or_a_repeat_is_invalid_then_defaults_to_silence():
    env = arena.make("spy-v0", word_pairs=PAIR)
    env.reset(seed=0, options={"spies": ["player_3"]})
    raw = env.unwrapped
    first = env.agent_selection
    own = raw.civilian_word if first not in raw.spies else raw.spy_word
    env.step(f"it is {own}")
    assert env.agent_selection == first and "own word" in env.infos[first]["invalid_move"]
    assert own not in "\n".join(raw.log.lines("player_4" if first != "player_4" else "player_1"))
    env.step("hot and dark")
    second = env.agent_selection
    assert second != first
    env.step("Hot and dark")  # a repeat, case aside
    assert "already given" in env.infos[second]["invalid_move"]
    env.step("hot and dark")  # retries used up: the default move, a silent clue
    assert env.agent_selection != second
    assert "(says nothing)" in raw.log.messages[-1].text or "(says nothing)" in "\n".join(raw.log.lines(first))


def test_civilians_win_by_voting_out_the_spy():
    env = arena.make("spy-v0", word_pairs=PAIR)
    drive(env, vote_for(["player_2"]), spies=["player_2"])
    raw = env.unwrapped
    info = raw._final_info
    assert info["winning_side"] == "civilians" and info["spy_found"] is True
    assert raw.returns == {a: (-1.0 if a == "player_2" else 1.0) for a in raw.possible_agents}
    assert info["vote_accuracy"]["player_0"] == 1.0
    assert info["vote_accuracy"]["player_2"] is None  # a player never votes for itself: it abstained
    assert "player_2 is voted out. They were a spy." in "\n".join(m.text for m in raw.log.messages)


def test_spy_survives_to_the_final_two():
    env = arena.make("spy-v0", word_pairs=PAIR)
    drive(env, vote_for(["player_0", "player_1", "player_3"]), spies=["player_4"])
    raw = env.unwrapped
    assert raw._final_info["winning_side"] == "spies"
    assert raw.alive == ["player_2", "player_4"]
    assert raw.returns["player_4"] == 1.0 and raw.returns["player_0"] == -1.0
    assert raw._final_info["vote_accuracy"]["player_2"] == 0.0


@pytest.mark.parametrize(("guess", "side"), [("Tea, surely", "spies"), ("juice", "civilians")])
def test_caught_spy_may_name_the_civilians_word(guess, side):
    env = arena.make("spy-v0", word_pairs=[("tea", "coffee")], spy_guess=True)
    env.reset(seed=0, options={"spies": ["player_1"]})
    civilian_word = env.unwrapped.civilian_word
    policy = vote_for(["player_1"], guess=guess if civilian_word == "tea" else guess.replace("Tea", "Coffee"))
    drive(env, policy, spies=["player_1"])
    assert env.unwrapped._final_info["winning_side"] == side


def test_hidden_sides_and_single_vote():
    env = arena.make("spy-v0", word_pairs=PAIR, reveal_eliminated=False, single_vote=True)
    drive(env, vote_for(["player_0"]), spies=["player_4"])
    raw = env.unwrapped
    text = "\n".join(m.text for m in raw.log.messages)
    assert "player_0 is voted out." in text and "They were" not in text
    assert raw._final_info["winning_side"] == "spies"  # the one vote missed


def test_tie_leads_to_a_revote_among_the_tied():
    env = arena.make("spy-v0", word_pairs=PAIR)
    env.reset(seed=0, options={"spies": ["player_4"]})
    raw = env.unwrapped
    split = {"player_0": "[player_1]", "player_1": "[player_0]", "player_2": "[player_0]", "player_3": "[player_1]"}
    while not any(kind == "revote" for kind, _ in raw.queue):
        kind, agent = raw.queue[0]
        env.step(f"clue {agent}" if kind == "clue" else split.get(agent, "[abstain]"))
    assert set(raw.legal_actions(env.agent_selection)) <= {"[player_0]", "[player_1]", "[abstain]"}


def test_bad_configuration_is_rejected():
    with pytest.raises(ArenaError):
        arena.make("spy-v0", num_players=4, num_spies=2)
    with pytest.raises(ArenaError):
        arena.make("spy-v0", tie_rule="coin")
    with pytest.raises(ArenaError, match="spy_knows"):
        arena.make("spy-v0", spy_votes=False)  # not being asked to vote would tell the spy its side
    with pytest.raises(ArenaError, match="single_vote"):
        arena.make("spy-v0", reward="vision-zero")
    with pytest.raises(ArenaError):
        arena.make("spy-v0", word_split="test")


@pytest.mark.parametrize(
    "pair", [("apple", ""), ("apple", "  "), ("Apple", "apple"), ("ice cream", "ice-cream"), ("1", "2")]
)
def test_word_pairs_without_two_different_words_are_refused(pair):
    # Only the first word was checked: a blank spy word, or the same word twice, dealt a game with no secret.
    with pytest.raises(ArenaError, match="word_pairs"):
        arena.make("spy-v0", word_pairs=[("coffee", "tea"), pair])
    assert arena.make("spy-v0", word_pairs=[("coffee", "tea", "drink")]).unwrapped.word_pairs == (("coffee", "tea"),)


VZ = {"spy_knows": True, "spy_votes": False, "single_vote": True, "reward": "vision-zero", "tie_rule": "none"}


def test_vision_zero_vote_and_zero_sum_clue_rewards_by_hand():
    """Civilians 0-3 vote; the spy (player_4) does not. Votes: 4 on... p0 -> p4, p1 -> p4, p2 -> p0, p3 abstains."""
    env = arena.make("spy-v0", word_pairs=PAIR, **VZ)
    votes = {"player_0": "[player_4]", "player_1": "[player_4]", "player_2": "[player_0]", "player_3": "[abstain]"}
    drive(env, lambda kind, agent, raw: f"clue {agent}" if kind == "clue" else votes[agent], spies=["player_4"])
    raw = env.unwrapped
    info = raw._final_info
    assert info["votes"] == [
        {"player_0": "player_4", "player_1": "player_4", "player_2": "player_0", "player_3": "abstain"}
    ]
    assert info["winning_side"] == "civilians"
    assert info["vote_rewards"] == {"player_0": 1.0, "player_1": 1.0, "player_2": -1.0, "player_3": -0.5}
    # received: spy 2, civilians (1, 0, 0, 0), civilian mean 0.25; beta = lambda = 0.1
    gap = 2 - 0.25
    clue = info["clue_rewards"]
    assert clue["player_4"] == pytest.approx(-0.1 * gap)
    assert clue["player_0"] == pytest.approx(0.1 / 4 * gap - 0.1 * (1 - 0.25))
    assert clue["player_1"] == pytest.approx(0.1 / 4 * gap - 0.1 * (0 - 0.25))
    assert sum(clue.values()) == pytest.approx(0.0)
    assert raw.returns["player_0"] == pytest.approx(1.0 + clue["player_0"])
    assert raw.returns["player_4"] == pytest.approx(clue["player_4"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from(["[player_0]", "[player_1]", "[player_2]", "[player_3]", "[player_4]", "[abstain]"]),
        min_size=4,
        max_size=4,
    )
)
def test_vision_zero_clue_reward_is_zero_sum(ballot):
    env = arena.make("spy-v0", word_pairs=PAIR, **VZ)
    votes = dict(zip(["player_0", "player_1", "player_2", "player_3"], ballot, strict=True))
    votes = {a: (v if v != f"[{a}]" else "[abstain]") for a, v in votes.items()}
    drive(
        env,
        lambda kind, agent, raw: f"clue {agent} {len(raw.clues_given)}" if kind == "clue" else votes[agent],
        spies=["player_4"],
    )
    info = env.unwrapped._final_info
    assert sum(info["clue_rewards"].values()) == pytest.approx(0.0)
    assert set(info["vote_rewards"]) == {"player_0", "player_1", "player_2", "player_3"}


def test_vision_zero_invalid_vote_counts_as_wrong():
    env = arena.make("spy-v0", word_pairs=PAIR, **VZ)
    votes = {"player_0": "[player_4]", "player_1": "[player_4]", "player_2": "[player_4]", "player_3": "who knows"}
    drive(env, lambda kind, agent, raw: f"clue {agent}" if kind == "clue" else votes[agent], spies=["player_4"])
    assert env.unwrapped._final_info["vote_rewards"]["player_3"] == -1.0  # the default abstention is not N/A


def test_a_players_word_reaches_only_that_player_during_and_after_death():
    """Two spies, sides hidden: after one spy is voted out, nobody else's view holds its word line."""
    env = arena.make("spy-v0", num_players=7, num_spies=2, reveal_eliminated=False, word_pairs=PAIR)
    env.reset(seed=0, options={"spies": ["player_1", "player_5"]})
    raw = env.unwrapped
    secret = raw.secret_line("player_1")
    civilian_secret = raw.secret_line("player_0")
    while env.agents and "player_1" in raw.alive:
        agent = env.agent_selection
        _, _, term, trunc, _ = env.last()
        if term or trunc:
            env.step(None)
            continue
        kind = raw.queue[0][0]
        env.step(
            f"clue {agent} {raw.round}" if kind == "clue" else ("[player_1]" if agent != "player_1" else "[abstain]")
        )
        for other in raw.possible_agents:
            text = raw.observe(other)["text"]
            assert (secret in text) == (other in raw.spies)
            assert (civilian_secret in text) == (other not in raw.spies)
    assert "player_1" not in raw.alive and not raw.finished
    assert raw.spy_word not in "\n".join(raw.log.lines("player_0"))


def test_scripted_clues_state_facts_not_the_word():
    for pair in WORD_PAIRS:
        for word in pair[:2]:
            for fact in word_facts(word):
                assert not mentions_word(fact, word)
                assert facts_in(fact) == [fact]


def test_scripted_civilians_find_the_spy_more_often_than_random_ones():
    found = {"scripted": 0, "random": 0}
    for seed in range(40):
        for kind in found:
            env = arena.make("spy-v0")
            env.reset(seed=seed)
            spies = env.unwrapped.spies
            agents = [
                SpyScripted(seed=seed * 5 + i)
                if kind == "scripted" or f"player_{i}" in spies
                else RandomAgent(seed=seed * 5 + i)
                for i in range(5)
            ]
            result = play(env, agents, seed=seed)
            found[kind] += result.transcript.result["info"]["winning_side"] == "civilians"
    assert found["scripted"] > found["random"], found


def test_silence_weighs_more_than_repeating_a_fact():
    text = (
        "You are player_0.\nYour secret word is: coffee.\n"
        "[player_1] 6 characters.\n[player_2] 6 characters.\n[player_3] (says nothing)\n[player_4] yes\n"
    )
    scores = SpyScripted(0).suspicion(text, "player_0", set(word_facts("coffee")))
    assert scores["player_2"] == 1 and scores["player_1"] == 0  # an echo is a weak sign
    assert scores["player_3"] == scores["player_4"] == 3 > scores["player_2"]  # saying nothing is stronger


def test_the_naive_spy_echoes_what_others_said_where_the_list_reader_describes_the_other_word():
    """A spy (gym) that hears two clues against its word: the list-reading one states a fresh fact of the
    civilians' word (stadium, the other word of its pair); the naive one only repeats what it heard."""
    text = "You are player_2.\nYour secret word is: gym.\n[player_0] 7 characters.\n[player_1] letter 3 is 'a'.\n"
    heard = {"7 characters", "letter 3 is 'a'"}
    info = {"alive": [f"player_{i}" for i in range(5)]}
    for seed in range(5):
        reader = facts_in(SpyScripted(seed).act({"text": text}, info))
        assert reader and set(reader) <= set(word_facts("stadium")) and not set(reader) <= heard
        naive = facts_in(SpyNaiveScripted(seed).act({"text": text}, info))
        assert naive and set(naive) <= heard
    assert SpyNaiveScripted(0).act({"text": text + "Name the civilians' word.\n"}, {}) == "I do not know"


def test_civilians_find_the_naive_spy_and_not_the_list_reader():
    """Against the spy that reads the civilians' word off the public list, scripted civilians vote no better
    than random ones; against the naive spy far better: only its clues carry a signal to learn from."""
    from arena.trainers.evaluation import evaluate_side

    kwargs = {"num_players": 5, "allow_abstain": False}
    accuracy = {
        (civilians, spy): evaluate_side(
            SpyScripted(1) if civilians == "scripted" else RandomAgent(1), "spy-v0", kwargs, spy, 60, ["civilian"]
        )["vote_accuracy"]
        for civilians in ("scripted", "random")
        for spy in ("scripted", "scripted-naive")
    }
    assert accuracy["scripted", "scripted-naive"] > accuracy["random", "scripted-naive"] + 0.2, accuracy
    assert accuracy["scripted", "scripted"] < accuracy["random", "scripted"] + 0.1, accuracy


def _civilian_rate(games: int, spy_agent=None) -> float:
    wins = 0
    for seed in range(games):
        env = arena.make("spy-v0")
        env.reset(seed=seed)
        spies = env.unwrapped.spies
        agents = [
            spy_agent(seed * 5 + i) if spy_agent and f"player_{i}" in spies else SpyScripted(seed=seed * 5 + i)
            for i in range(5)
        ]
        wins += play(env, agents, seed=seed).transcript.result["info"]["winning_side"] == "civilians"
    return wins / games


def test_scripted_spy_game_is_balanced_and_a_random_spy_loses():
    """Measured with scripts/social_eval.py over 1,000 seeds: 0.47 (docs/envs/spy.md); the old agents: 0.97."""
    assert 0.35 <= _civilian_rate(100) <= 0.65
    assert _civilian_rate(40, RandomAgent) >= 0.9  # before issue 22 a random spy won every game


@pytest.mark.parametrize("env_id, kwargs", [("spy-v0", {}), ("visual-spy-v0", {"spy_knows": False})])
def test_a_player_not_told_its_side_reads_unknown_in_its_infos_until_the_end(env_id, kwargs):
    """The header says "You are not told whether you are a civilian or the spy": infos must not tell it."""
    from arena.core.conformance import run_episode

    seen: set[str] = set()

    def check(env) -> None:
        raw = env.unwrapped
        for agent in env.agents:
            role = env.infos[agent]["role"]
            seen.add(role)
            assert role == (raw.role(agent) if raw.finished else "unknown"), agent

    for seed in range(3):
        env = arena.make(env_id, **kwargs)
        run_episode(env, seed, on_step=check)
    assert seen >= {"unknown"}


def test_a_player_told_its_side_reads_it_and_results_keep_the_true_sides():
    from arena.agents.scheduler import BatchScheduler

    told = arena.make("spy-v0", spy_knows=True)
    told.reset(seed=0, options={"spies": ["player_2"]})
    assert told.infos["player_2"]["role"] == "spy" and told.infos["player_0"]["role"] == "civilian"
    hidden = arena.make("spy-v0")
    agents = {a: RandomAgent(k) for k, a in enumerate(hidden.possible_agents)}
    outcome = BatchScheduler().run([(hidden, agents, 0, {"spies": ["player_2"]})])[0]
    assert outcome.roles["player_2"] == "spy" and outcome.roles["player_0"] == "civilian"
