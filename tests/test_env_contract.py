"""The env side of architecture.md §6 for every registered game: ``infos["answer"]``, ``infos["state_key"]``,
rewards that reach eliminated players through ``last()``, and the SPIRAL invalid-move rule."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arena
from arena.core.answers import ANSWER_KINDS
from arena.core.conformance import HOSTILE_ACTIONS
from arena.core.errors import ArenaError
from arena.core.parallel import TextParallelEnv

ENV_IDS = [spec.id for spec in arena.list_envs()]
FREE_TEXT = ("text", "structured")


def _action(info: dict, rng: np.random.Generator, wording: str = "zqx") -> str:
    """A valid reply chosen by ``rng``: a random legal action, or the example with ``wording`` in front."""
    answer = info.get("answer", {"kind": "choice"})
    legal = info.get("legal_actions")
    if answer["kind"] == "choice" and legal:
        return legal[int(rng.integers(len(legal)))]
    return f"{wording} {answer.get('example', 'hello')}"


def _play(
    env_id: str, seed: int, *, wording: str = "zqx", garbage: float = 0.0, seed_value: object = None, **kwargs
) -> tuple:
    """Play one AEC episode; returns (env, [(agent, state_key)] per acting turn, rewards summed from last()).
    ``seed_value`` (default ``seed``) is what ``reset`` gets; ``seed`` also seeds the moves."""
    env = arena.make(env_id, **kwargs)
    env.reset(seed=seed if seed_value is None else seed_value)
    rng = np.random.default_rng(seed)
    noise = np.random.default_rng(seed + 99)
    keys, received = [], dict.fromkeys(env.possible_agents, 0.0)
    for agent in env.agent_iter(max_iter=20_000):
        _, reward, term, trunc, info = env.last()
        received[agent] += reward
        if term or trunc:
            env.step(None)
            continue
        assert agent not in getattr(env.unwrapped, "eliminated", ()), "an eliminated player was asked to act"
        if "state_key" in info:  # a parallel game's AEC form shows the round's infos after the round
            keys.append((agent, info["state_key"]))
        action = _action(info, rng, wording)
        if noise.random() < garbage:
            action = HOSTILE_ACTIONS[int(noise.integers(len(HOSTILE_ACTIONS)))]
        env.step(action)
    assert not env.agents
    return env, keys, received


# -- infos["answer"] ----------------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_acting_turn_says_how_to_answer_and_its_example_is_accepted(env_id):
    """Play the example (or a random legal action) at every turn: the example is never invalid."""
    kinds = set()
    for seed in range(3):
        env = arena.make_parallel(env_id)
        _, infos = env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        while env.agents:
            actions, played_example = {}, set()
            for agent in env.agents:
                info = infos[agent]
                if info.get("eliminated") or "answer" not in info:
                    actions[agent] = ""
                    continue
                answer = info["answer"]
                kinds.add(answer["kind"])
                assert answer["kind"] in ANSWER_KINDS
                assert isinstance(answer["example"], str) and answer["example"]
                if answer["kind"] == "choice" and "labels" in answer:  # a labelled choice is answered by a label
                    assert len(answer["labels"]) == len(set(answer["labels"])) == len(info["legal_actions"])
                    assert answer["example"] in answer["labels"]
                elif answer["kind"] == "choice":
                    assert answer["example"] in info["legal_actions"]
                elif answer["kind"] == "text":
                    assert isinstance(answer["max_chars"], int) and len(answer["example"]) <= answer["max_chars"]
                else:
                    assert isinstance(answer["syntax"], str) and "\n" not in answer["syntax"]
                if rng.random() < 0.6:
                    actions[agent] = answer["example"]
                    played_example.add(agent)
                else:
                    actions[agent] = _action(info, rng)
            _, _, _, _, infos = env.step(actions)
            for agent in played_example & set(infos):
                assert "invalid_move" not in infos[agent], (env_id, agent, actions[agent], infos[agent]["invalid_move"])
    assert kinds, "no acting turn carried an answer spec"


def test_answer_kinds_per_turn():
    """Speeches are text with the game's limit, votes are choices, proposals are structured."""
    env = arena.make("werewolf-v0", max_speech_chars=50)
    env.reset(seed=0)
    seen = {}
    for _ in range(60):
        agent = env.agent_selection
        kind = env.unwrapped.queue[0][0]
        seen.setdefault(kind, env.infos[agent]["answer"])
        env.step(_action(env.infos[agent], np.random.default_rng(0)))
        if not env.agents or env.terminations[env.agent_selection]:
            break
    assert seen["speech"]["kind"] == "text" and seen["speech"]["max_chars"] == 50
    assert seen["wolf_kill"]["kind"] == "choice" and seen["vote"]["kind"] == "choice"
    neg = arena.make("negotiation-v0")
    neg.reset(seed=0)
    answer = neg.infos["player_0"]["answer"]
    assert answer["kind"] == "structured" and "[Propose:" in answer["syntax"] and "[Accept]" not in answer["syntax"]
    neg.step(answer["example"])
    assert "[Accept]" in neg.infos["player_1"]["answer"]["syntax"]
    pg = arena.make_parallel("public-goods-v0")
    _, infos = pg.reset(seed=0)
    assert infos["player_0"]["answer"]["kind"] == "text"
    _, _, _, _, infos = pg.step({a: "hi" for a in pg.agents})
    assert infos["player_0"]["answer"]["kind"] == "choice"


def test_speeches_longer_than_the_limit_are_cut_to_it():
    env = arena.make("werewolf-v0", max_speech_chars=30)
    env.reset(seed=0)
    while env.unwrapped.queue[0][0] != "speech":
        env.step(_action(env.infos[env.agent_selection], np.random.default_rng(1)))
    speaker = env.agent_selection
    env.step("word " * 100)
    spoken = [m.text for m in env.unwrapped.log.messages if m.sender == speaker][-1]
    assert len(spoken) == 30 and spoken.endswith("…")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_no_solution_hints_reach_a_player(env_id):
    env = arena.make(env_id)
    env.reset(seed=0)
    for agent in env.possible_agents:
        text = env.observe(agent)["text"].lower() + json.dumps(env.infos[agent]).lower()
        hint = re.search(r"equilibri|\bspe\b|subgame|dominant|optimal play|best response", text)
        assert hint is None, (agent, hint)
    assert "SPE" not in arena.spec(env_id).description and "optimal" not in arena.spec(env_id).description


# -- infos["state_key"] -------------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_acting_turn_has_a_hex_state_key(env_id):
    _, keys, _ = _play(env_id, 0)
    assert keys and all(len(k) == 32 and int(k, 16) >= 0 for _, k in keys)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_choices_with_different_wording_give_the_same_keys(env_id):
    """Keys describe the situation, not what was said: in a group of same-seed episodes whose choices
    agree, every turn (so the first turn of each seat) shares its key, however the texts differ."""
    for seed in (0, 1):
        _, keys_a, _ = _play(env_id, seed, wording="zqx")
        _, keys_b, _ = _play(env_id, seed, wording="vvk wjq")
        assert keys_a == keys_b
        firsts = {}
        for agent, key in keys_a:
            firsts.setdefault(agent, key)
        assert len(set(firsts.values())) == len(firsts), "two seats share a first-turn key"


def _key_after(env_id: str, moves: list[str], seed: int = 0, options: dict | None = None, **kwargs) -> str:
    env = arena.make(env_id, **kwargs)
    env.reset(seed=seed, options=options)
    for move in moves:
        env.step(move)
    return env.infos[env.agent_selection]["state_key"]


def test_different_situations_get_different_keys():
    # perfect information: the board
    assert _key_after("tictactoe-v0", ["[4]"]) != _key_after("tictactoe-v0", ["[0]"])
    # private information: the card, the values, the word, the role
    assert _key_after("kuhn-poker-v0", [], options={"deals": [("K", "J")]}) != _key_after(
        "kuhn-poker-v0", [], options={"deals": [("J", "K")]}
    )
    assert _key_after("kuhn-poker-v0", ["[check]"]) != _key_after("kuhn-poker-v0", ["[bet]"])
    values = {"counts": (1, 2, 3), "values": ((1, 3, 1), (2, 1, 2))}
    other = {"counts": (1, 2, 3), "values": ((4, 0, 2), (2, 1, 2))}
    assert _key_after("negotiation-v0", [], options=values) != _key_after("negotiation-v0", [], options=other)
    words = {_key_after("spy-v0", [], seed=s, word_pairs=[("tea", "coffee")]) for s in range(8)}
    assert len(words) == 2  # the first speaker holds one of two words
    first = ["werewolf", "villager", "werewolf", "seer", "doctor", "villager", "villager"]
    second = ["villager", "werewolf", "werewolf", "seer", "doctor", "villager", "villager"]
    env = arena.make("werewolf-v0")
    env.reset(seed=0, options={"roles": first})
    wolf_key = env.infos[env.agent_selection]["state_key"]
    env.reset(seed=0, options={"roles": second})
    assert env.infos[env.agent_selection]["state_key"] != wolf_key
    # what earlier players did
    assert _key_after("sequential-public-goods-v0", ["[3]"]) != _key_after("sequential-public-goods-v0", ["[5]"])


def test_a_key_does_not_depend_on_what_the_player_cannot_know():
    """Counterfactual secrecy of keys: the second Kuhn player's key ignores the first player's card,
    a villager's key ignores whom the seer inspected."""
    keys = {_key_after("kuhn-poker-v0", ["[check]"], options={"deals": [(mine, "Q")]}) for mine in "JK"}
    assert len(keys) == 1
    seating = ["werewolf", "werewolf", "seer", "doctor", "villager", "villager", "villager"]
    villager_keys = set()
    for inspect in ("[player_0]", "[player_4]"):
        env = arena.make("werewolf-v0")
        env.reset(seed=0, options={"roles": seating})
        while env.unwrapped.phase.startswith("night"):
            kind = env.unwrapped.queue[0][0]
            env.step({"seer": inspect, "doctor": "[player_5]", "wolf_kill": "[player_6]"}.get(kind, "hello"))
        while env.agent_selection != "player_4":
            env.step("hello")
        villager_keys.add(env.infos["player_4"]["state_key"])
    assert len(villager_keys) == 1


_KEY_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from tests.test_env_contract import _play
print(json.dumps({{e: _play(e, 3)[1] for e in {ids!r}}}))
"""


def test_keys_are_equal_in_another_process():
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    here = {e: [list(k) for k in _play(e, 3)[1]] for e in ENV_IDS}
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # a different str-hash salt than this process
    out = subprocess.run(
        [sys.executable, "-c", _KEY_SCRIPT.format(root=root, ids=ENV_IDS)],
        capture_output=True, text=True, check=True, env=env, cwd=root,
    )  # fmt: skip
    assert json.loads(out.stdout) == here


# -- rewards through the PettingZoo API --------------------------------------------------------------
@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), garbage=st.sampled_from([0.0, 0.2]))
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rewards_from_last_add_up_to_the_returns_for_every_agent(env_id, seed, garbage):
    """Issue 18 defect 5: eliminated players receive their end-of-game payout through ``last()``."""
    env, _, received = _play(env_id, seed, garbage=garbage)
    assert received == pytest.approx(env.unwrapped.returns)


def test_eliminated_players_are_paid_in_social_games():
    """The case that failed before: games with eliminations (werewolf, spy) pay the dead too."""
    checked = 0
    for env_id in ("werewolf-v0", "spy-v0"):
        for seed in range(6):
            env, _, received = _play(env_id, seed)
            raw = env.unwrapped
            for agent in {e["agent"] for e in raw.transcript.events if e["event"] == "eliminated"}:
                assert received[agent] == raw.returns[agent] != 0 or raw.transcript.result.get("truncated")
                checked += 1
    assert checked > 5


# -- SPIRAL's invalid-move rule ------------------------------------------------------------------------
def _refusable(env, info: dict) -> bool:
    """A turn where an empty reply is invalid (not a free speech)."""
    queue = getattr(env.unwrapped, "queue", None)
    return info["answer"]["kind"] in ("choice", "structured") or bool(queue and queue[0][0] == "clue")


@pytest.mark.parametrize("env_id", [e for e in ENV_IDS if not arena.spec(e).simultaneous])
def test_spiral_rule_pays_minus_one_and_a_half_and_ends_the_game(env_id):
    env = arena.make(env_id, invalid_rule="spiral")
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    raw = env.unwrapped
    received = dict.fromkeys(env.possible_agents, 0.0)
    offender, before = None, {}
    for agent in env.agent_iter(max_iter=2000):
        _, reward, term, trunc, info = env.last()
        received[agent] += reward
        if term or trunc:
            env.step(None)
        elif offender is None and _refusable(env, info):
            offender, before = agent, dict(raw.returns)
            env.step("")  # empty: invalid on every refusable turn, and no retry under this rule
            assert raw.finished and raw.invalid_counts[offender] == 1 and "invalid_move" in env.infos[offender]
        else:
            env.step(_action(info, rng))
    assert offender is not None
    for agent in raw.possible_agents:
        assert raw.returns[agent] - before[agent] == (-1.5 if agent == offender else 0.5)
    assert received == pytest.approx(raw.returns)


def test_spiral_rule_in_a_simultaneous_game():
    env = arena.make_parallel("public-goods-v0", invalid_rule="spiral", talk_steps=0, num_players=3)
    env.reset(seed=0)
    _, rewards, terms, _, infos = env.step({"player_0": "[5]", "player_1": "no idea", "player_2": "[20]"})
    assert all(terms.values()) and not env.agents
    assert "invalid_move" in infos["player_1"]
    payoffs = env.unwrapped.payoffs  # the round was paid with the default contribution for player_1
    assert rewards == {
        "player_0": payoffs["player_0"] + 0.5,
        "player_1": payoffs["player_1"] - 1.5,
        "player_2": payoffs["player_2"] + 0.5,
    }


def test_default_rule_keeps_retries_and_unknown_rules_are_refused():
    env = arena.make("tictactoe-v0")
    env.reset(seed=0)
    env.step("")
    assert not env.unwrapped.finished and env.agent_selection == "player_0"
    with pytest.raises(ArenaError, match="invalid_rule"):
        arena.make("tictactoe-v0", invalid_rule="strict")


# -- roles -------------------------------------------------------------------------------------------
def test_negotiation_seats_have_distinct_roles():
    env = arena.make("negotiation-v0")
    env.reset(seed=0)
    assert env.infos["player_0"]["role"] == "first_mover" and env.infos["player_1"]["role"] == "second_mover"
    assert env.unwrapped.transcript.header["roles"] == {"player_0": "first_mover", "player_1": "second_mover"}


# -- eliminations in a simultaneous game ---------------------------------------------------------------
class _LowestBidOut(TextParallelEnv):
    """Each round every live player bids 1-3; the lowest bid (ties: lowest seat) is out; the last one
    standing gets +1, everyone else -1, paid at the end."""

    def __init__(self) -> None:
        super().__init__(3)

    def _setup(self) -> None:
        self.say("Bid.")

    def legal_actions(self, agent: str) -> list[str]:
        return ["[1]", "[2]", "[3]"]

    def _play_round(self, actions: dict[str, str]) -> dict[str, str]:
        bids = {a: int(t.strip("[]")) if t in ("[1]", "[2]", "[3]") else 0 for a, t in actions.items()}
        out = min(bids, key=lambda a: (bids[a], a))
        self.eliminate(out, "lowest bid")
        left = [a for a in bids if a != out]
        if len(left) == 1:
            self.end_game(
                "one left", winners=left, rewards={a: 1.0 if a in left else -1.0 for a in self.possible_agents}
            )
        return {}


def test_parallel_eliminated_players_wait_for_the_payout():
    from pettingzoo.test import parallel_api_test

    parallel_api_test(_LowestBidOut(), num_cycles=20)
    env = _LowestBidOut()
    env.reset(seed=0)
    received = dict.fromkeys(env.possible_agents, 0.0)
    _, rewards, _, _, infos = env.step({"player_0": "[1]", "player_1": "[2]", "player_2": "[3]"})
    assert env.agents == env.possible_agents and infos["player_0"]["eliminated"] is True
    assert "answer" not in infos["player_0"] and "answer" in infos["player_1"]
    # the eliminated player's action is ignored, whatever it is
    _, more, terms, _, _ = env.step({"player_0": "[3]", "player_1": "[1]", "player_2": "[2]"})
    for step_rewards in (rewards, more):
        for agent, value in step_rewards.items():
            received[agent] += value
    assert all(terms.values()) and not env.agents
    assert received == env.returns == {"player_0": -1.0, "player_1": -1.0, "player_2": 1.0}


def test_parallel_eliminations_pay_through_the_aec_form():
    from pettingzoo.utils.conversions import parallel_to_aec

    env = parallel_to_aec(_LowestBidOut())
    env.reset(seed=0)
    received = dict.fromkeys(env.possible_agents, 0.0)
    for agent in env.agent_iter(max_iter=100):
        _, reward, term, trunc, _ = env.last()
        received[agent] += reward
        env.step(None if term or trunc else "[2]")
    assert received == env.unwrapped.returns


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_agent_iter_yields_what_pettingzoos_iterator_yields(env_id):
    """Our ``agent_iter`` (a generator, for speed) against PettingZoo's own iterator: the same agents in the
    same order for the same seeded play, and ``max_iter`` stops both at the same point."""
    from pettingzoo.utils.env import AECIterable

    def agents_seen(iterate, max_iter):
        env = arena.make(env_id)
        env.reset(seed=3)
        rng = np.random.default_rng(3)
        seen = []
        for agent in iterate(env, max_iter):
            seen.append(agent)
            _, _, term, trunc, info = env.last()
            legal = info.get("legal_actions")
            env.step(None if term or trunc else str(legal[int(rng.integers(len(legal)))]) if legal else "hello")
        return seen

    for max_iter in (2**63, 5):
        ours = agents_seen(lambda env, n: env.agent_iter(max_iter=n), max_iter)
        assert ours == agents_seen(lambda env, n: AECIterable(env, n), max_iter)
        assert len(ours) == 5 if max_iter == 5 else len(ours) > 5


def test_order_enforcing_agent_iter_still_asks_for_reset_and_a_step_per_agent():
    env = arena.make("public-goods-v0")  # a parallel game: its AEC form is order-enforcing
    with pytest.raises(Exception, match="reset"):
        env.agent_iter()
    env.reset(seed=0)
    agents = iter(env.agent_iter())
    next(agents)
    with pytest.raises(AssertionError, match="step"):
        next(agents)


@pytest.mark.parametrize("seed", [0, 7, 2**40])
def test_the_episode_generator_is_default_rngs_stream(seed):
    env = arena.make("tictactoe-v0")  # draws nothing in reset
    env.reset(seed=seed)
    assert env.unwrapped.np_random.integers(1 << 30, size=8).tolist() == (
        np.random.default_rng(seed).integers(1 << 30, size=8).tolist()
    )


def _seen(observation) -> tuple:
    """An observation as comparable values: its text, and the bytes of any picture (visual games)."""
    if not isinstance(observation, dict):
        return (observation,)
    return tuple((k, np.asarray(v).tobytes() if not isinstance(v, str) else v) for k, v in sorted(observation.items()))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_bad_seed_is_refused_at_reset_and_leaves_the_episode_in_play(env_id):
    """A negative, fractional or text seed is an ArenaError from every game, whether or not it draws at reset
    (numpy's own errors came from some games, others took the seed silently); the episode before it goes on."""
    env = arena.make(env_id)
    env.reset(seed=3)
    before = _seen(env.observe(env.agent_selection))
    for seed in (-1, 1.5, "3", [1.5]):
        with pytest.raises(ArenaError, match="seed must be a non-negative integer"):
            env.reset(seed=seed)
    assert _seen(env.observe(env.agent_selection)) == before
    legal = env.infos[env.agent_selection].get("legal_actions")
    env.step(legal[0] if legal else env.infos[env.agent_selection]["answer"]["example"])  # still plays
    parallel = arena.make_parallel(env_id)
    parallel.reset(seed=3)
    with pytest.raises(ArenaError, match="seed must be a non-negative integer"):
        parallel.reset(seed=-2)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_calls_before_reset_and_unknown_agents_are_clear_errors(env_id):
    env = arena.make(env_id)
    if isinstance(env.unwrapped, TextParallelEnv):
        pytest.skip("a simultaneous game's AEC form is PettingZoo's own wrapper, which answers these itself")
    for call in (env.last, lambda: env.observe("player_0"), lambda: env.step("x")):
        with pytest.raises(ArenaError, match="call reset"):
            call()
    env.reset(seed=0)
    with pytest.raises(KeyError, match="unknown agent 'nobody'; the players are player_0"):
        env.observe("nobody")
    assert env.last()[1:4] == (0.0, False, False)  # the episode is untouched


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_numpy_integer_seed_gives_the_plain_ints_episode(env_id):
    """Seeds drawn from a numpy array deal what the same Python ints deal (their Python-side draws once
    differed), and a SeedSequence seeds reproducibly."""

    def episode(seed):
        env, keys, received = _play(env_id, 0, seed_value=seed)
        events = env.unwrapped.transcript.events
        json.dumps(events)  # what Transcript.save writes: a numpy or SeedSequence seed must not break it
        return keys, received, events

    assert episode(np.int64(11)) == episode(11)
    assert episode(np.uint32(5)) == episode(5)
    sequence = episode(np.random.SeedSequence(11))
    assert sequence == episode(np.random.SeedSequence(11))
    assert sequence[2][0]["seed"].startswith("SeedSequence(")


@pytest.mark.parametrize("env_id", ["kuhn-poker-v0", "tictactoe-v0"])
def test_the_default_choice_spec_is_choice_answer_of_the_legal_list(env_id):
    from arena.core.answers import choice_answer

    env = arena.make(env_id)
    env.reset(seed=0)
    for _ in range(3):
        info = env.infos[env.agent_selection]
        assert info["answer"] == choice_answer(info["legal_actions"])
        env.step(info["legal_actions"][-1])


def _bookkeeping_trace(env_id: str, seed: int) -> list[tuple]:
    """Random play (a tenth of the moves invalid); after every step the PettingZoo bookkeeping."""
    env = arena.make(env_id)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    trace = []
    for _agent in env.agent_iter(max_iter=400):
        _, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            env.step(None)
        else:
            legal = info.get("legal_actions")
            env.step(str(legal[int(rng.integers(len(legal)))]) if legal and rng.random() < 0.9 else "no move at all")
        trace.append(
            (
                env.agent_selection,
                list(env.agents),
                dict(env.rewards),
                dict(env._cumulative_rewards),
                dict(env.terminations),
                dict(env.truncations),
                {agent: dict(info) for agent, info in env.infos.items()},
            )
        )
    return trace


@pytest.mark.parametrize("env_id", [spec.id for spec in arena.list_envs()])
def test_dead_steps_do_what_pettingzoos_do(env_id, monkeypatch):
    """``TextGameEnv._was_dead_step`` is PettingZoo's, rewritten for speed: the same agents leave in the same
    order, the same selection follows, the same rewards and infos remain."""
    from pettingzoo import AECEnv

    from arena.core.env import TextGameEnv

    ours = [_bookkeeping_trace(env_id, seed) for seed in range(3)]
    monkeypatch.setattr(TextGameEnv, "_was_dead_step", AECEnv._was_dead_step)
    assert ours == [_bookkeeping_trace(env_id, seed) for seed in range(3)]
    monkeypatch.undo()
    env = arena.make(env_id).unwrapped
    if isinstance(env, TextGameEnv):  # (a Parallel game's AEC form is PettingZoo's own wrapper)
        env.reset(seed=0)
        env.terminations[env.agent_selection] = True  # a dead agent given an action: PettingZoo's error
        with pytest.raises(ValueError, match="only valid action is None"):
            env._was_dead_step("[0]")


def test_dead_steps_of_some_agents_mid_game_match_pettingzoos():
    """The case no built-in game reaches (they end for everyone at once): a few agents dead while the
    others play on, the live selection saved, the dead ones stepped in order, the saved one restored."""
    import copy

    from pettingzoo import AECEnv

    env = arena.make("werewolf-v0").unwrapped
    env.reset(seed=0)
    env.agent_selection = "player_1"
    for dead in ("player_0", "player_2", "player_3"):
        env.terminations[dead] = True
    started = copy.deepcopy(env)  # dead steps begun on a dead selection, without _deads_step_first
    started.agent_selection = "player_2"
    env._deads_step_first()  # player_1 saved, player_0 selected
    results = []
    for state in (env, started):
        for dead_step in (type(env)._was_dead_step, AECEnv._was_dead_step):
            copied = copy.deepcopy(state)
            seen = []
            while copied.terminations.get(copied.agent_selection):
                dead_step(copied, None)
                seen.append(
                    (copied.agent_selection, copied._skip_agent_selection, list(copied.agents), dict(copied.rewards))
                )
            results.append(seen)
    assert results[0] == results[1] and len(results[0]) == 3
    assert results[2] == results[3] and len(results[2]) == 3
    assert results[0][-1][0] == "player_1" and results[0][-1][1] is None  # back to the saved live selection
