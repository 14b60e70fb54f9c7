"""What the envs build on read instead of on every step: infos (``LazyInfos``), message events of the
transcript, and state keys through a prebuilt JSON encoder. Read late or early, the values are the same."""

from __future__ import annotations

import copy
import json
import pickle
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import arena
from arena.core.conformance import check_state_keys
from arena.core.infos import LazyInfos
from arena.core.keys import canonical_json
from arena.core.messages import Message
from arena.core.transcript import Transcript


class Counter:
    """A builder that counts its calls and returns a fresh dict naming the agent and the version."""

    def __init__(self) -> None:
        self.calls = 0
        self.version = 0

    def __call__(self, agent: str) -> dict:
        self.calls += 1
        return {"agent": agent, "version": self.version}


def test_entries_are_built_once_per_refresh_and_only_when_read():
    build = Counter()
    infos = LazyInfos(build, ["a", "b"])
    assert build.calls == 0 and len(infos) == 2 and "a" in infos and list(infos) == ["a", "b"]
    assert infos["a"] == {"agent": "a", "version": 0} and infos["a"] is infos["a"]
    assert build.calls == 1
    build.version = 1
    infos.refresh()
    assert infos.get("b") == {"agent": "b", "version": 1} and build.calls == 2
    assert infos.get("zz", 5) == 5 and build.calls == 2


def every_read(infos: LazyInfos) -> list:
    return [
        dict(infos),
        {**infos},
        infos.copy(),
        copy.copy(infos),
        copy.deepcopy(infos),
        pickle.loads(pickle.dumps(infos)),
        json.loads(json.dumps(infos)),
        dict(infos.items()),
        dict(zip(infos.keys(), infos.values(), strict=True)),
        infos | {},
        {} | infos,
    ]


def test_every_read_path_sees_built_values():
    expected = {"a": {"agent": "a", "version": 0}, "b": {"agent": "b", "version": 0}}
    for read in every_read(LazyInfos(Counter(), ["a", "b"])):
        assert read == expected and type(read) is dict
    infos = LazyInfos(Counter(), ["a", "b"])
    assert infos == expected and expected == infos
    assert (infos != expected) is False
    assert repr(LazyInfos(Counter(), ["a"])) == "{'a': {'agent': 'a', 'version': 0}}"


def test_writes_and_deletes_stick_until_the_next_refresh():
    build = Counter()
    infos = LazyInfos(build, ["a", "b", "c"])
    infos["a"] = {"mine": True}
    infos.update(b={"also": 1})
    del infos["c"]
    assert infos == {"a": {"mine": True}, "b": {"also": 1}} and build.calls == 0
    assert infos.pop("a") == {"mine": True} and infos.setdefault("b") == {"also": 1}
    infos |= {"d": {}}
    assert infos.popitem() == ("d", {})
    infos.refresh()
    assert infos["b"] == {"agent": "b", "version": 0}
    infos.clear()
    assert infos == {} and infos.get("b") is None


def _play(env_id: str, seed: int, read_everything: bool) -> tuple[list, list]:
    """Random play; the acting agent's info at each decision, and the transcript."""
    env = arena.make(env_id)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    seen = []
    for agent in env.agent_iter(max_iter=400):
        if read_everything:
            for other in env.agents:
                env.observe(other)
                dict(env.infos[other])
        _, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            env.step(None)
            continue
        seen.append((agent, dict(info)))
        legal = info.get("legal_actions")
        env.step(str(legal[int(rng.integers(len(legal)))]) if legal and rng.random() < 0.9 else "no move at all")
    return seen, env.unwrapped.transcript.events


@pytest.mark.parametrize("env_id", [spec.id for spec in arena.list_envs()])
def test_infos_read_late_equal_infos_read_at_once(env_id):
    for seed in range(3):
        assert _play(env_id, seed, read_everything=True) == _play(env_id, seed, read_everything=False)


def test_infos_held_from_last_episode_keep_their_values_after_reset():
    twin = arena.make("kuhn-poker-v0")
    twin.reset(seed=0)
    expected = dict(twin.infos)
    env = arena.make("kuhn-poker-v0")
    env.reset(seed=0)
    old = env.infos  # not read yet: its entries are still to be built
    env.reset(seed=1)
    env.step(env.infos[env.agent_selection]["legal_actions"][0])
    assert dict(old) == expected


def test_reset_builds_last_episodes_infos_only_when_a_caller_still_holds_them():
    """Unread entries are built before ``reset`` for a caller that holds ``env.infos`` (the two tests around
    this one check their values); when nothing holds them, nothing can read them, and none is built."""
    env = arena.make("kuhn-poker-v0")
    env.reset(seed=0)
    game = env.unwrapped
    built: list[str] = []
    build = game._agent_info
    game._agent_info = lambda agent, *rest: built.append(agent) or build(agent, *rest)
    env.reset(seed=1)
    expected_without_holder = [] if hasattr(sys, "getrefcount") else ["player_0", "player_1"]
    assert built == expected_without_holder
    held = env.infos  # noqa: F841 - held across the reset
    env.reset(seed=2)
    assert built[len(expected_without_holder) :] == ["player_0", "player_1"]


def test_infos_held_at_the_end_of_an_episode_keep_its_final_values_after_reset():
    """Entries nobody read before ``reset`` are built from the episode that made them (its end-of-game
    keys included), not from the new episode's half-started state."""

    def finished(env):
        env.reset(seed=3)
        while not all(env.terminations.values()):
            env.step(env.infos[env.agent_selection]["legal_actions"][0])
        return env

    expected = {agent: dict(info) for agent, info in finished(arena.make("kuhn-poker-v0")).infos.items()}
    env = finished(arena.make("kuhn-poker-v0"))
    old = env.infos  # not read since the last move
    env.reset(seed=4)
    assert {agent: dict(info) for agent, info in old.items()} == expected
    assert any("returns" in info or "winners" in info or len(info) > 2 for info in expected.values())


def test_transcript_keeps_messages_until_read_and_then_holds_their_events():
    transcript = Transcript()
    transcript.record("reset", agents=["a"])
    transcript.record_message(Message("game", "hello", frozenset({"a"}), "private", "night", 3))
    event = transcript.record("action", agent="a", text="x")
    event["invalid"] = "why"
    assert transcript.events == [
        {"event": "reset", "agents": ["a"]},
        {
            "event": "message",
            "sender": "game",
            "to": ["a"],
            "text": "hello",
            "kind": "private",
            "phase": "night",
            "turn": 3,
        },
        {"event": "action", "agent": "a", "text": "x", "invalid": "why"},
    ]
    transcript.record_first("first")
    transcript.record_message(Message("a", "hi"))
    assert [e["event"] for e in transcript.events] == ["first", "reset", "message", "action", "message"]
    assert all(isinstance(e, dict) for e in transcript.events)
    assert Transcript(transcript.events) == transcript and list(transcript.messages())[-1] == Message("a", "hi")


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(plain)
def test_canonical_json_is_json_dumps_with_sorted_keys_and_no_spaces(value):
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert canonical_json(value) == expected


def test_canonical_json_takes_sets_tuples_and_numpy_values():
    value = {"b": {3, 1}, "a": (np.int64(2), np.float32(0.5)), "img": np.zeros((2, 2), np.uint8)}
    text = canonical_json(value)
    assert text.startswith('{"a":[2,0.5],"b":[1,3],"img":"') and " " not in text
    with pytest.raises(TypeError, match="plain data"):
        canonical_json({"x": object()})


GAMES_AND_PRESETS = [(spec.id, None) for spec in arena.list_envs()] + [
    (spec.id, preset) for spec in arena.list_envs() for preset in sorted(spec.load_presets())
]


@pytest.mark.parametrize(("env_id", "preset"), GAMES_AND_PRESETS)
def test_state_keys_read_after_the_game_moved_on_equal_the_keys_of_their_turn(env_id, preset):
    check_state_keys(lambda: arena.make(env_id, preset=preset))


def test_a_closed_env_is_freed_without_the_cycle_collector_and_still_works_until_then():
    """The infos hold the env's bound method; ``close`` makes that tie weak, so dropping a closed env frees
    it (and its episode) at once, while the env keeps working if it is used again."""
    import gc
    import weakref

    gc.collect()
    gc.disable()
    try:
        env = arena.make("kuhn-poker-v0")
        env.reset(seed=0)
        env.step("[bet]")
        held = env.infos  # a caller may hold the infos across close
        env.close()
        env.step("[call]")  # still usable after close: the infos rebuild through the weak tie
        assert env.infos[env.agent_selection]["turn"] >= 0 and held is env.infos
        raw = weakref.ref(env.unwrapped)
        del env, held
        assert raw() is None
    finally:
        gc.enable()


def test_close_builds_pending_infos_only_when_a_caller_holds_them():
    """A finished loop closes its env with every info still pending: nothing is built for nobody. Infos a
    caller holds across ``close`` are built first, so they keep their values after the env is freed."""
    import gc

    def closed_env(hold: bool):
        env = arena.make("kuhn-poker-v0").unwrapped
        env.reset(seed=0)
        env.step("[bet]")
        built = []
        build = env.infos._build
        env.infos._build = lambda agent: built.append(agent) or build(agent)
        held = env.infos if hold else None
        env.close()
        return env, held, built

    env, held, built = closed_env(hold=False)
    assert built == []
    env, held, built = closed_env(hold=True)
    assert sorted(built) == ["player_0", "player_1"]
    gc.disable()
    try:
        expected = {agent: dict.__getitem__(held, agent) for agent in held}
        del env
        assert dict(held) == expected and held["player_1"]["legal_actions"] == ["[call]", "[fold]"]
        # infos taken only after close, the env then freed: a pending entry cannot be built, and says so
        env = arena.make("kuhn-poker-v0").unwrapped
        env.reset(seed=0)
        env.close()
        late = env.infos
        del env
        with pytest.raises(ReferenceError, match="closed and freed"):
            late["player_0"]
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("kuhn-poker-v0", {"num_hands": 2}),
        ("tictactoe-v0", {}),
        ("public-goods-v0", {"num_players": 3}),
        ("sequential-public-goods-v0", {"num_players": 3}),
    ],
)
def test_static_headers_are_built_once_and_equal_a_fresh_build(env_id: str, kwargs: dict) -> None:
    env = arena.make(env_id, **kwargs).unwrapped
    assert env.static_headers
    env.reset(seed=1)
    first = env._headers
    env.reset(seed=2)
    assert env._headers is first  # kept across resets
    assert first == {a: env._header(a) for a in env.possible_agents}
    assert env.transcript.header["headers"] == first and env.transcript.header["headers"] is not first


def test_a_subclass_that_overrides_the_header_gets_it_rebuilt_at_every_reset() -> None:
    from arena.envs.kuhn_poker import KuhnPokerEnv

    class SeededHeader(KuhnPokerEnv):
        def _header(self, agent: str) -> str:
            return super()._header(agent) + f" Table {self.seed_used}."

    class StillStatic(SeededHeader):
        static_headers = True

    assert KuhnPokerEnv.static_headers and not SeededHeader.static_headers and StillStatic.static_headers
    env = SeededHeader(num_hands=1)
    env.reset(seed=1)
    env.reset(seed=2)
    assert "Table 2." in env.observe("player_0")["text"] and "Table 1." not in env.observe("player_0")["text"]


def _observations_held_unread(env_id: str, seed: int) -> list[tuple[dict, str]]:
    """Random play (AEC form) where, at every step, each agent's observation is taken twice: one left unread
    until the episode is over, one read at once. Returns (unread observation, text read at the time)."""
    env = arena.make(env_id)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    held = []
    for _agent in env.agent_iter(max_iter=400):
        for other in env.agents:
            held.append((env.observe(other), env.observe(other)["text"]))
        _, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            env.step(None)
            continue
        legal = info.get("legal_actions")
        env.step(str(legal[int(rng.integers(len(legal)))]) if legal and rng.random() < 0.9 else "no move at all")
    return held


@pytest.mark.parametrize("env_id", [spec.id for spec in arena.list_envs()])
def test_observations_read_late_equal_observations_read_at_once(env_id):
    """Observation text is joined on first read; read after the game moved on (new hands clear the visible
    history in place, long games clip it), it is the text of its own moment."""
    for seed in range(2):
        held = _observations_held_unread(env_id, seed)
        assert held
        for observation, text in held:
            assert isinstance(observation, dict) and set(observation) >= {"text"}
            assert observation["text"] == text and dict(observation)["text"] == text


def test_every_read_path_of_an_observation_sees_its_text():
    env = arena.make("kuhn-poker-v0")
    env.reset(seed=3)
    text = env.observe("player_0")["text"]
    reads = [
        lambda o: dict(o),
        lambda o: {**o},
        lambda o: o.copy(),
        lambda o: copy.deepcopy(o),
        lambda o: pickle.loads(pickle.dumps(o)),
        lambda o: json.loads(json.dumps(o)),
        lambda o: dict(o.items()),
        lambda o: {"text": o.get("text")},
        lambda o: {"text": next(iter(o.values()))},
    ]
    for read in reads:
        observation = env.observe("player_0")
        assert read(observation) == {"text": text}, read
    assert env.observe("player_0") == {"text": text} and repr(env.observe("player_0")) == repr({"text": text})
    written = env.observe("player_0")
    written["text"] = "mine"
    assert written["text"] == "mine"


def test_parallel_observations_are_joined_on_read_with_their_own_text():
    env = arena.make_parallel("public-goods-v0", num_players=3)
    observations, _ = env.reset(seed=0)
    early = {a: env.observe(a)["text"] for a in env.agents}
    env.step({a: "[5]" if "contribut" in early[a].lower() else "hello" for a in env.agents})
    assert {a: o["text"] for a, o in observations.items()} == early


def test_a_game_that_overrides_the_observation_text_gets_it_at_once() -> None:
    from arena.envs.kuhn_poker import KuhnPokerEnv

    class Stamped(KuhnPokerEnv):
        def _observation_text(self, agent: str, prompt: str) -> str:
            return f"turn {self.turn}\n" + super()._observation_text(agent, prompt)

    assert KuhnPokerEnv._lazy_text and not Stamped._lazy_text
    env = Stamped(num_hands=1)
    env.reset(seed=0)
    observation = env.observe(env.agent_selection)
    env.step("[check]")
    assert observation["text"].startswith("turn 0\n") and type(observation) is dict
