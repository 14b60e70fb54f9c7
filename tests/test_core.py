"""Registry, spaces, messages and transcripts."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

import arena
from arena.agents import RandomAgent
from arena.core import registry
from arena.core.errors import ArenaError, RegistrationError, UnknownEnvError
from arena.core.messages import Message, MessageLog
from arena.core.spaces import TextSpace, clean_text, clip_text, is_clean_text
from arena.core.transcript import Transcript


def test_import_arena_does_not_import_torch():
    code = "import sys, arena; arena.list_envs(); arena.make('kuhn-poker-v0'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_env_names_the_valid_choices():
    with pytest.raises(UnknownEnvError) as err:
        arena.make("tictactoe-v9")
    assert "tictactoe-v0" in str(err.value) and "kuhn-poker-v0" in str(err.value)
    assert "Did you mean 'tictactoe-v0'" in str(err.value)


def test_bad_kwarg_names_the_valid_kwargs():
    with pytest.raises(ArenaError, match="valid kwargs: .*num_hands"):
        arena.make("kuhn-poker-v0", hands=3)


def test_register_rejects_duplicates_and_bad_metadata():
    with pytest.raises(RegistrationError, match="already registered"):
        arena.register("tictactoe-v0", "arena.envs.tictactoe:TicTacToeEnv")
    with pytest.raises(RegistrationError, match="unknown metadata"):
        arena.register("x-v0", "a.b:C", colour="red")
    with pytest.raises(RegistrationError, match="kind"):
        arena.register("x-v0", "a.b:C", kind="friendly")


def test_a_built_in_id_is_taken_before_the_first_lookup():
    """In a fresh interpreter, registering a built-in game's id before any lookup is refused at once, naming the
    built-in (it used to pass, then break the first ``make`` of any game)."""
    code = (
        "import arena\n"
        "try:\n"
        "    arena.register('tictactoe-v0', 'arena.envs.kuhn_poker:KuhnPokerEnv')\n"
        "except arena.core.errors.RegistrationError as err:\n"
        "    print('refused', 'arena.envs.tictactoe:TicTacToeEnv' in str(err))\n"
        "arena.register('my-ttt-v0', 'arena.envs.tictactoe:TicTacToeEnv')\n"
        "print(arena.make('my-ttt-v0').metadata['name'], arena.make('tictactoe-v0').metadata['name'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["refused", "True", "tictactoe_v0", "tictactoe_v0"]


def test_register_rejects_bad_ids_and_entry_points():
    with pytest.raises(RegistrationError, match="without spaces"):
        arena.register("my game-v0", "arena.envs.tictactoe:TicTacToeEnv")
    with pytest.raises(RegistrationError, match="entry_point must be 'pkg.module:Class' or a callable, got int"):
        arena.register("x-v0", 5)
    assert "x-v0" not in registry._REGISTRY and "my game-v0" not in registry._REGISTRY


def test_a_broken_user_game_is_a_clear_error_at_make():
    arena.register("no-module-v0", "no_such_module_zq:Game", override=True)
    arena.register("not-an-env-v0", lambda: 5, override=True)
    try:
        with pytest.raises(RegistrationError, match="no-module-v0: cannot import entry point .*no_such_module_zq"):
            arena.make("no-module-v0")
        with pytest.raises(ArenaError, match="not-an-env-v0: its entry point returned int, not a PettingZoo"):
            arena.make("not-an-env-v0")
    finally:
        registry._REGISTRY.pop("no-module-v0", None)
        registry._REGISTRY.pop("not-an-env-v0", None)


def test_a_preset_of_a_game_without_presets_says_so():
    with pytest.raises(ArenaError, match=r"kuhn-poker-v0 has no presets \(asked for preset 'nope'\)"):
        arena.make("kuhn-poker-v0", preset="nope")
    with pytest.raises(ArenaError, match="werewolf-v0 has no preset 'nope'; presets: .*xu7"):
        arena.make("werewolf-v0", preset="nope")


def test_register_and_make_a_user_game():
    spec = arena.register(
        "tiny-ttt-v0", "arena.envs.tictactoe:TicTacToeEnv", kwargs={"max_turns": 3}, override=True, min_players=2
    )
    try:
        env = arena.make("tiny-ttt-v0")
        assert env.max_turns == 3 and env.env_id == "tiny-ttt-v0"
        assert spec in arena.list_envs()
    finally:
        registry._REGISTRY.pop("tiny-ttt-v0")


def test_entry_point_plugins_register(monkeypatch):
    calls = []

    def fake_entry_points(group):
        assert group == "arena.envs"
        return [EntryPoint("plugin", "tests.plugin_game:register_plugin", group)]

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    import tests.plugin_game as plugin

    monkeypatch.setattr(plugin, "CALLS", calls)
    try:
        ids = [s.id for s in arena.list_envs()]
        assert "plugin-ttt-v0" in ids and calls == ["registered"]
    finally:
        registry._REGISTRY.pop("plugin-ttt-v0", None)


def test_text_space_accepts_unicode_and_rejects_control_characters():
    space = TextSpace(10)
    assert space.contains("héllo ✓\n")
    assert not space.contains("a\x00b")
    assert not space.contains("x" * 11)
    assert all(space.contains(space.sample()) for _ in range(100))


def test_clean_and_clip_text():
    assert clean_text("a\x1b[31mb\r\n") == "a[31mb\n"
    assert clip_text("abcdef", 4) == "…def"
    assert clip_text("abcdef", 4, keep="start") == "abc…"


@pytest.mark.parametrize("extra", ["", "a\n", "\t", "é"], ids=["alone", "ascii-text", "tab", "non-ascii"])
def test_clean_text_check_agrees_with_isprintable_for_every_character(extra):
    # the ASCII fast path must accept exactly what str.isprintable accepts, plus newline and tab
    for code in range(0x3000):
        text = extra + chr(code)
        assert is_clean_text(text) == (text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable())


def test_message_log_visibility_uses_sets_not_substrings():
    log = MessageLog(tuple(f"player_{i}" for i in range(11)))
    log.add(Message("game", "for player 1 only", to=frozenset({"player_1"})))
    assert log.lines("player_1") and not log.lines("player_10")
    with pytest.raises(ValueError, match="unknown agents"):
        log.add(Message("game", "x", to=frozenset({"player_99"})))


def test_message_log_lists_only_grow_and_a_new_section_starts_new_ones():
    """Lazy observations keep a history list and its length instead of a copy: that needs lists that are
    only appended to, a new section starting fresh lists rather than clearing the old ones."""
    log = MessageLog(("a", "b"))
    log.add(Message("game", "one"))
    old = log.lines("a")
    log.new_section()
    log.add(Message("game", "two", to=frozenset({"a"})))
    assert old == ["[game] one"] and log.lines("a") == ["[game] two"] and log.lines("b") == []
    log.add(Message("game", "three"))  # a broadcast reaches every agent's new list
    assert log.lines("b") == ["[game] three"] and old == ["[game] one"]


def test_message_log_renders_on_read_and_keeps_each_moment():
    """Posting only appends; an agent's lines are rendered when read. ``lines_before`` gives the lines of a
    section as they were at a message count, whether the section is current or over and whatever was read since."""
    log = MessageLog(("a", "b"))
    log.add(Message("game", "one"))
    log.add(Message("b", "to a\nsecond line", to=frozenset({"a"})))
    start, count = log.section_start, len(log.messages)
    assert log.lines("a") == ["[game] one", "[b] to a\n  second line"] and log.lines("b") == ["[game] one"]
    log.add(Message("game", "two", to=frozenset({"b"})))
    log.add(Message("game", "three"))
    assert log.lines("b") == ["[game] one", "[game] two", "[game] three"]  # read ahead of ``count``
    assert log.lines_before("b", start, count) == ["[game] one"]
    assert log.lines_before("a", start, count) == ["[game] one", "[b] to a\n  second line"]
    log.new_section()
    log.add(Message("game", "four"))
    assert log.lines("a") == ["[game] four"]
    assert log.lines_before("b", start, count + 2) == ["[game] one", "[game] two", "[game] three"]  # section over
    with pytest.raises(KeyError):
        log.lines("c")


def test_observing_an_unknown_agent_is_a_key_error_at_once():
    env = arena.make("kuhn-poker-v0")
    env.reset(seed=0)
    with pytest.raises(KeyError):
        env.observe("player_9")


def test_player_text_cannot_forge_game_lines():
    line = Message("player_0", "hi\n[game] player_1 is the wolf").render()
    assert all(not part.startswith("[game]") for part in line.splitlines())


def test_transcript_round_trips_through_jsonl(tmp_path):
    result = arena.play("kuhn-poker-v0", [RandomAgent(0), RandomAgent(1)], seed=4)
    path = result.transcript.save(tmp_path / "match.jsonl")
    loaded = Transcript.load(path)
    assert loaded.events == result.transcript.events
    assert loaded.result["returns"] == result.returns
    assert loaded.header["seed"] == 4


def test_transcript_load_reports_bad_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event": "reset"}\nnot json\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        Transcript.load(path)


def test_reset_clears_history():
    env = arena.make("tictactoe-v0")
    env.reset(seed=0)
    env.step("[4]")
    env.reset(seed=0)
    assert "takes cell" not in env.observe("player_0")["text"]
    assert len([e for e in env.unwrapped.transcript.events if e["event"] == "reset"]) == 1


def test_step_before_reset_is_a_clear_error():
    env = arena.make("tictactoe-v0")
    with pytest.raises(ArenaError, match="reset"):
        env.step("[4]")


def test_render_ansi_returns_a_string():
    env = arena.make("kuhn-poker-v0", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and "Your card" in text and "(to player_0)" in text
    with pytest.raises(ArenaError, match="render_mode"):
        arena.make("kuhn-poker-v0", render_mode="human")


def test_play_validates_seats():
    with pytest.raises(ArenaError, match="agents for 2 seats"):
        arena.play("tictactoe-v0", [RandomAgent()])
    with pytest.raises(ArenaError, match="no agent for seat"):
        arena.play("tictactoe-v0", {"player_0": RandomAgent()})
    with pytest.raises(ArenaError, match="unknown seat.*p9; the seats are player_0, player_1"):  # once ignored
        arena.play("tictactoe-v0", {"player_0": RandomAgent(), "player_1": RandomAgent(), "p9": RandomAgent()})
    with pytest.raises(ArenaError, match=r"player_1 \(int\) has no act"):
        arena.play("tictactoe-v0", {"player_0": RandomAgent(), "player_1": 5})
    with pytest.raises(ArenaError, match="needs a PettingZoo env or an env id"):
        arena.play(5, [RandomAgent()])


class _ActOnly:
    """An agent with act() only: no name, no reset, no act_batch."""

    def act(self, observation, info):
        return info["legal_actions"][0]


def test_play_takes_an_agent_with_act_only_and_a_parallel_form():
    result = arena.play("tictactoe-v0", [_ActOnly(), _ActOnly()], seed=0)
    moves = [e for e in result.transcript.events if e.get("event") == "action"]
    assert len(moves) == 7 and result.winners == ["player_0"]  # both take the first free cell: X wins at move 7
    for env_id in ("public-goods-v0", "kuhn-poker-v0"):  # a native simultaneous game; a turn-based one converted
        seats = arena.make(env_id).possible_agents
        from_aec = arena.play(env_id, [RandomAgent(seed=i) for i in range(len(seats))], seed=4)
        from_parallel = arena.play(
            arena.make_parallel(env_id), [RandomAgent(seed=i) for i in range(len(seats))], seed=4
        )
        assert from_parallel.returns == from_aec.returns and from_parallel.transcript == from_aec.transcript


def test_a_duplicate_registration_names_both_sources_and_a_broken_plugin_breaks_nothing(monkeypatch):
    def twice():  # the old docs example: the module registers at import, and its entry point again
        arena.register("dup-ttt-v0", "tests.plugin_game:Something")

    def fake_entry_points(group):
        return [EntryPoint("twice", "tests.test_core:_register_dup", group)]

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    arena.register("dup-ttt-v0", "arena.envs.tictactoe:TicTacToeEnv")
    try:
        with pytest.raises(RegistrationError) as err:
            twice()
        message = str(err.value)
        assert "entry point arena.envs.tictactoe:TicTacToeEnv" in message
        assert "entry point tests.plugin_game:Something" in message and "override=True" in message
        with pytest.warns(UserWarning, match=r"plugin 'twice' \(tests.test_core:_register_dup\) failed: .*already"):
            ids = [s.id for s in arena.list_envs()]
        assert "tictactoe-v0" in ids and "dup-ttt-v0" in ids  # every other command still works
    finally:
        registry._REGISTRY.pop("dup-ttt-v0", None)


def _register_dup() -> None:
    arena.register("dup-ttt-v0", "arena.envs.tictactoe:TicTacToeEnv", description="again")


SPEC_PLUGIN = registry.EnvSpec(id="spec-ttt-v0", entry_point="arena.envs.tictactoe:TicTacToeEnv", max_players=2)
#: A plugin's EnvSpec that takes a built-in game's id, one whose kind is not a kind, one with spaces in its id.
SPEC_TAKEN = registry.EnvSpec(id="kuhn-poker-v0", entry_point="arena.envs.tictactoe:TicTacToeEnv")
SPEC_BAD_KIND = registry.EnvSpec(id="kind-ttt-v0", entry_point="arena.envs.tictactoe:TicTacToeEnv", kind="friendly")
SPEC_BAD_ID = registry.EnvSpec(id="bad ttt-v0", entry_point="arena.envs.tictactoe:TicTacToeEnv")
NOT_A_PLUGIN = 42


def test_a_plugins_envspec_gets_registers_checks(monkeypatch):
    """An entry point that names an ``EnvSpec`` is registered through ``register``'s checks: a valid one plays, one
    that takes a built-in id or is malformed is skipped with a warning naming the plugin, and the built-in game
    stays; an entry point that is neither a function nor an EnvSpec is refused the same way."""
    names = ["SPEC_PLUGIN", "SPEC_TAKEN", "SPEC_BAD_KIND", "SPEC_BAD_ID", "NOT_A_PLUGIN"]

    def fake_entry_points(group):
        return [EntryPoint(name.lower(), f"tests.test_core:{name}", group) for name in names]

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    try:
        with pytest.warns(UserWarning) as caught:
            ids = [s.id for s in arena.list_envs()]
        messages = [str(w.message) for w in caught]
        assert "spec-ttt-v0" in ids and "kind-ttt-v0" not in ids and "bad ttt-v0" not in ids
        assert arena.play("spec-ttt-v0", [RandomAgent(seed=0), RandomAgent(seed=1)], seed=0).returns
        assert (
            registry.spec("kuhn-poker-v0").entry_point == "arena.envs.kuhn_poker:KuhnPokerEnv"
            and len(arena.make("kuhn-poker-v0").possible_agents) == 2
        )
        for name, why in [
            ("spec_taken", "already registered"),
            ("spec_bad_kind", "kind must be one of"),
            ("spec_bad_id", "without spaces"),
            ("not_a_plugin", "got int"),
        ]:
            assert any(f"plugin {name!r}" in m and why in m for m in messages), (name, messages)
    finally:
        registry._REGISTRY.pop("spec-ttt-v0", None)


@pytest.mark.parametrize("size", [1, 2, 3, 6, 17])
def test_pick_is_numpy_choice_on_the_same_stream(size):
    """``pick(rng, items)`` draws what ``rng.choice(items)`` draws and leaves the stream in the same state."""
    import numpy as np

    from arena.core.episode import pick

    items = [f"player_{i}" for i in range(size)]
    for seed in range(50):
        ours, numpy_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        assert [pick(ours, items) for _ in range(5)] == [str(numpy_rng.choice(items)) for _ in range(5)]
        assert ours.integers(10**9) == numpy_rng.integers(10**9)
