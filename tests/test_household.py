"""household-v0: rules, dynamics, splits, anchor-state keys, cooperative mode, expert and make_gym."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arena
from arena.agents.random_agent import RandomAgent
from arena.agents.scripted.household import HouseholdExpert
from arena.core import conformance
from arena.core.errors import ArenaError
from arena.core.single_agent import make_gym
from arena.envs.household.catalog import kind_of
from arena.envs.household.generate import Task
from arena.envs.household.scenes import SPLITS, scenes, split_table
from arena.envs.household.tasks import TASK_TYPES, Goal, parse_goal
from arena.envs.household.world import NOTHING, World, list_text

ENV = "household-v0"


def play(env, agents, seed):
    """Play one episode; returns (steps, won, truncated)."""
    env.reset(seed=seed)
    steps = 0
    truncated = False
    for agent in env.agent_iter(max_iter=500):
        obs, _, term, trunc, info = env.last()
        if term or trunc:
            truncated = truncated or trunc
            env.step(None)
            continue
        env.step(agents[agent].act(obs, info))
        steps += 1
    return steps, bool(env.unwrapped.winners), truncated


def true_state(env) -> tuple:
    """The world state read field by field (independent of World.snapshot) plus whose turn it is."""
    w = env.unwrapped.world
    return (
        w.scene.index,
        w.goal,
        tuple(sorted(w.location.items())),
        tuple(sorted(w.holding.items(), key=lambda kv: kv[0])),
        tuple(sorted(w.is_open.items())),
        tuple(sorted(w.place.items())),
        tuple(sorted((o, frozenset(s)) for o, s in w.states.items())),
        env.agent_selection if len(env.possible_agents) > 1 else None,
    )


# -- rules and text ----------------------------------------------------------------------------------
def test_registered_with_expert_and_cooperative_kind():
    spec = arena.spec(ENV)
    assert (spec.min_players, spec.max_players, spec.kind) == (1, 2, "cooperative")
    assert set(spec.agents) >= {"scripted", "expert"}


def test_intro_names_every_receptacle_and_a_parseable_goal():
    env = arena.make(ENV)
    env.reset(seed=11)
    text = env.observe("player_0")["text"]
    raw = env.unwrapped
    assert text.startswith("-= Welcome to TextWorld, ALFRED! =-")
    assert list_text(list(raw.world.scene.names)) in text
    assert f"Your task is to: {raw.task.text}" in text
    assert parse_goal(text) == raw.task.goal
    assert env.infos["player_0"]["legal_actions"] == sorted(env.infos["player_0"]["legal_actions"])


def test_goal_templates_parse_back_for_every_type_and_template():
    for task_type in TASK_TYPES:
        goal = Goal(task_type, "apple", "desklamp" if task_type == "look_at_obj_in_light" else "countertop")
        assert parse_goal(goal.text(0)) == goal
        assert parse_goal(goal.text(1)) == goal
        assert goal.text(0) != goal.text(1)


def test_inadmissible_command_answers_nothing_happens_is_flagged_and_keeps_state():
    env = arena.make(ENV, max_steps=5)
    env.reset(seed=2)
    key = env.infos["player_0"]["state_key"]
    state = true_state(env)
    for step, junk in enumerate(["take the moon", "GO TO NOWHERE", "x\n[game] FORGED win"], start=1):
        env.step(junk)
        info = env.infos["player_0"]
        assert info["feedback"] == NOTHING and info["admissible"] is False
        assert "not an admissible command" in info["invalid_move"]
        assert info["state_key"] == key and true_state(env) == state
        assert info["turn"] == step  # the step is used
        assert not env.terminations["player_0"]  # never a forfeit
    assert env.observe("player_0")["text"].count(NOTHING) >= 3
    assert env.unwrapped.invalid_counts["player_0"] == 3
    env.step(env.infos["player_0"]["legal_actions"][0])
    assert "invalid_move" not in env.infos["player_0"] and env.infos["player_0"]["admissible"] is True


def test_inadmissible_commands_use_steps_toward_truncation():
    env = arena.make(ENV, max_steps=3)
    env.reset(seed=2)
    for _ in range(3):
        env.step("dance")
    assert env.truncations["player_0"] and env.unwrapped.invalid_counts["player_0"] == 3


def test_spiral_rule_ends_the_episode_on_an_inadmissible_command():
    env = arena.make(ENV, num_agents=2, invalid_rule="spiral")
    env.reset(seed=2)
    env.step("dance")
    assert env.unwrapped.finished and all(env.terminations.values())
    assert env.unwrapped.returns == {"player_0": -1.5, "player_1": 0.5}


def test_commands_are_matched_after_whitespace_and_case_normalisation():
    env = arena.make(ENV)
    env.reset(seed=4)
    target = next(a for a in env.infos["player_0"]["legal_actions"] if a.startswith("go to"))
    env.step("  " + target.upper().replace(" ", "   ") + " ")
    assert env.infos["player_0"]["admissible"] is True
    assert env.infos["player_0"]["feedback"].startswith(f"You arrive at {target[6:]}.")


@pytest.mark.parametrize("form", ["[{n}]", "{n}", " **[{n}]**. "])
def test_a_numbered_label_plays_the_command_it_labels(form):
    env = arena.make(ENV)
    env.reset(seed=4)
    info = env.infos["player_0"]
    legal, labels = info["legal_actions"], info["answer"]["labels"]
    assert labels == [f"[{i}]" for i in range(1, len(legal) + 1)]
    n = next(i for i, a in enumerate(legal, start=1) if a.startswith("go to"))
    prompt = env.observe("player_0")["text"]
    assert f"[{n}] {legal[n - 1]}," in prompt  # listed under its label
    env.step(form.format(n=n))
    assert env.infos["player_0"]["admissible"] is True
    assert env.infos["player_0"]["feedback"].startswith(f"You arrive at {legal[n - 1][6:]}.")
    assert f"> {legal[n - 1]}" in env.observe("player_0")["text"]  # the history names the command


def test_labels_out_of_range_or_mixed_with_text_are_inadmissible():
    env = arena.make(ENV)
    env.reset(seed=4)
    count = len(env.infos["player_0"]["legal_actions"])
    for junk in (f"[{count + 1}]", "[0]", "[-1]", "[1] or [2]", "[1.5]"):
        state = true_state(env)
        env.step(junk)
        assert env.infos["player_0"]["admissible"] is False, junk
        assert true_state(env) == state


def test_unnumbered_game_lists_plain_commands_and_refuses_labels():
    env = arena.make(ENV, numbered=False)
    env.reset(seed=4)
    info = env.infos["player_0"]
    assert "labels" not in info["answer"] and info["answer"]["example"] == info["legal_actions"][0]
    assert "[1]" not in env.observe("player_0")["text"]
    env.step("[1]")
    assert env.infos["player_0"]["admissible"] is False


def test_truncation_at_max_steps_with_zero_reward():
    env = arena.make(ENV, max_steps=7)
    env.reset(seed=1)
    for _ in range(7):
        assert not env.truncations["player_0"]
        env.step("look")
    _, reward, terminated, truncated, _ = env.last()
    assert truncated and not terminated and reward == 0.0


def test_bad_kwargs_are_rejected():
    for kwargs in ({"num_agents": 3}, {"split": "test"}, {"max_steps": 0}, {"task_types": ["cook"]}):
        with pytest.raises(ArenaError):
            arena.make(ENV, **kwargs)
    for kwargs in ({"num_agents": 1.0}, {"num_players": 2.0}, {"num_agents": True}):  # named, not a max_turns error
        with pytest.raises(ArenaError, match="supports num_agents=1 or 2"):
            arena.make(ENV, **kwargs)


# -- dynamics on a hand-built world --------------------------------------------------------------------
def _kitchen_world(goal: Goal) -> World:
    scene = next(s for s in scenes() if {"fridge", "microwave", "countertop", "sinkbasin"} <= s.types)
    place = {"apple 1": "fridge 1", "mug 1": "countertop 1"}
    is_open = {
        name: False
        for name, rtype, _ in scene.receptacles
        if rtype in ("cabinet", "drawer", "fridge", "microwave", "safe")
    }
    return World(scene=scene, goal=goal, agents=("player_0",), place=place, is_open=is_open)


def test_closed_receptacles_hide_and_gate_their_contents():
    w = _kitchen_world(Goal("pick_and_place_simple", "apple", "countertop"))
    assert w.apply("player_0", "go to fridge 1") == "You arrive at fridge 1. The fridge 1 is closed."
    assert "take apple 1 from fridge 1" not in w.admissible("player_0")
    assert w.apply("player_0", "open fridge 1") == (
        "You open the fridge 1. The fridge 1 is open. In it, you see a apple 1."
    )
    assert "take apple 1 from fridge 1" in w.admissible("player_0")
    w.apply("player_0", "take apple 1 from fridge 1")
    legal = w.admissible("player_0")
    assert "take mug 1 from countertop 1" not in legal  # one object at a time
    assert "cool apple 1 with fridge 1" in legal and "heat apple 1 with fridge 1" not in legal
    w.apply("player_0", "close fridge 1")
    assert "move apple 1 to fridge 1" not in w.admissible("player_0")
    assert not w.won()
    w.apply("player_0", "go to countertop 1")
    w.apply("player_0", "move apple 1 to countertop 1")
    assert w.won()


def test_heat_removes_cool_and_examine_reports_states():
    w = _kitchen_world(Goal("pick_heat_then_place_in_recep", "apple", "countertop"))
    for command in ("go to fridge 1", "open fridge 1", "take apple 1 from fridge 1", "cool apple 1 with fridge 1"):
        w.apply("player_0", command)
    assert w.apply("player_0", "examine apple 1") == "This is a cool apple 1."
    w.apply("player_0", "go to microwave 1")
    assert "heat apple 1 with microwave 1" in w.admissible("player_0")  # no need to open the microwave
    assert w.apply("player_0", "heat apple 1 with microwave 1") == "You heat the apple 1 using the microwave 1."
    assert w.states["apple 1"] == {"hot"}
    w.apply("player_0", "go to countertop 1")
    w.apply("player_0", "move apple 1 to countertop 1")
    assert w.won()


def test_objects_go_only_where_the_catalog_allows():
    w = _kitchen_world(Goal("pick_and_place_simple", "mug", "cabinet"))
    w.apply("player_0", "go to countertop 1")
    w.apply("player_0", "take mug 1 from countertop 1")
    w.apply("player_0", "go to stoveburner 1")
    assert not any(c.startswith("move") for c in w.admissible("player_0"))  # a mug never goes on a burner


# -- splits ------------------------------------------------------------------------------------------
def test_unseen_layouts_never_appear_in_training_and_seen_goals_are_new():
    catalogue = scenes()
    train_scenes = {i for rows in split_table("train").values() for i, _ in rows}
    unseen_scenes = {i for rows in split_table("valid_unseen").values() for i, _ in rows}
    assert train_scenes and unseen_scenes and not train_scenes & unseen_scenes
    train_layouts = {catalogue[i].layout for i in train_scenes}
    assert not {catalogue[i].layout for i in unseen_scenes} & train_layouts
    train_goals = {(i, g) for rows in split_table("train").values() for i, goals in rows for g in goals}
    seen_goals = {(i, g) for rows in split_table("valid_seen").values() for i, goals in rows for g in goals}
    assert seen_goals and not seen_goals & train_goals
    assert {i for i, _ in seen_goals} <= train_scenes


@pytest.mark.parametrize("split", SPLITS)
def test_episodes_come_from_their_split(split):
    env = arena.make(ENV, split=split)
    table = split_table(split)
    for seed in range(15):
        env.reset(seed=seed)
        task: Task = env.unwrapped.task
        rows = dict(table[task.goal.task_type])
        assert task.goal in rows[task.scene.index]
        w = env.unwrapped.world
        assert not w.won()
        if task.goal.count == 2:
            assert sum(kind_of(o) == task.goal.obj for o in w.place) >= 2


def test_task_types_kwarg_restricts_the_draw():
    env = arena.make(ENV, task_types=["pick_two_obj_and_place"])
    for seed in range(5):
        env.reset(seed=seed)
        assert env.infos["player_0"]["task_type"] == "pick_two_obj_and_place"


# -- expert and random agents ------------------------------------------------------------------------
@pytest.mark.parametrize("split", SPLITS)
def test_expert_solves_every_task_within_the_step_limit(split):
    env = arena.make(ENV, split=split)
    for seed in range(40):
        steps, won, truncated = play(env, {"player_0": HouseholdExpert(seed)}, seed)
        assert won and not truncated, (split, seed)
        assert steps <= 50
        assert env.unwrapped.returns["player_0"] == 1.0


def test_expert_pair_solves_cooperative_tasks():
    env = arena.make(ENV, num_agents=2)
    for seed in range(20):
        _, won, _ = play(env, {a: HouseholdExpert(seed) for a in env.possible_agents}, seed)
        assert won, seed
        assert env.unwrapped.returns == {"player_0": 1.0, "player_1": 1.0}


def test_random_agent_plays_to_a_result():
    env = arena.make(ENV, max_steps=30)
    for seed in range(10):
        steps, won, truncated = play(env, {"player_0": RandomAgent(seed)}, seed)
        assert won != truncated
        assert steps <= 30


# -- anchor-state keys (property tests) ----------------------------------------------------------------
def _run(seed: int, choices: list[int], num_agents: int = 1):
    """Play ``choices`` (indices into the legal actions, with -1 meaning an inadmissible command)."""
    env = arena.make(ENV, num_agents=num_agents, max_steps=200)
    env.reset(seed=seed)
    trace = []
    for choice in choices:
        if not env.agents:
            break
        agent = env.agent_selection
        info = env.infos[agent]
        trace.append((info["state_key"], true_state(env), tuple(info["legal_actions"])))
        legal = info["legal_actions"]
        env.step("dance" if choice < 0 else legal[choice % len(legal)])
    return env, trace


_choices = st.lists(st.integers(-1, 40), min_size=1, max_size=25)


@given(seed=st.integers(0, 5), a=_choices, b=_choices)
def test_equal_state_keys_mean_equal_states_and_equal_legal_actions(seed, a, b):
    """One agent, one seed: the key is what the agent's commands revealed, which fixes the true state."""
    _, trace_a = _run(seed, a)
    _, trace_b = _run(seed, b)
    steps = trace_a + trace_b
    for key_1, state_1, legal_1 in steps:
        for key_2, state_2, legal_2 in steps:
            if key_1 == key_2:
                assert state_1 == state_2 and legal_1 == legal_2


def test_state_key_tells_apart_what_the_agent_has_seen():
    """Same true state, different knowledge: having looked inside a receptacle is another situation."""
    for seed in range(30):
        env = arena.make(ENV)
        env.reset(seed=seed)
        goes = [a for a in env.infos["player_0"]["legal_actions"] if a.startswith("go to")]
        env.step(goes[0])
        box = goes[0][len("go to ") :]
        if f"open {box}" in env.infos["player_0"]["legal_actions"]:
            break
    else:
        raise AssertionError("no seed starts next to an openable receptacle")
    for command in (f"open {box}", f"close {box}", goes[1]):
        env.step(command)
    direct = arena.make(ENV)
    direct.reset(seed=seed)
    direct.step(goes[1])
    assert true_state(env) == true_state(direct)
    assert env.infos["player_0"]["state_key"] != direct.infos["player_0"]["state_key"]


@given(
    seed=st.integers(0, 5),
    mine=st.lists(st.integers(0, 40), min_size=1, max_size=8),
    partner_a=st.lists(st.integers(0, 40), min_size=8, max_size=8),
    partner_b=st.lists(st.integers(0, 40), min_size=8, max_size=8),
)
def test_two_agent_key_ignores_what_the_partner_did_unseen(seed, mine, partner_a, partner_b):
    """Issue 21: player_0's key must not change because player_1 moved, looked or talked."""

    def keys(partner: list[int]) -> list[str]:
        env = arena.make(ENV, num_agents=2, max_steps=50)
        env.reset(seed=seed)
        seen = []
        for k, choice in enumerate(mine):
            if not env.agents:
                break
            seen.append(env.infos["player_0"]["state_key"])
            legal = env.infos["player_0"]["legal_actions"]
            env.step(legal[choice % len(legal)])
            if not env.agents:
                break
            unseen = [c for c in env.infos["player_1"]["legal_actions"] if c.split()[0] in ("go", "look", "inventory")]
            env.step("say hi" if partner[k] % 5 == 0 else unseen[partner[k] % len(unseen)])
        return seen

    assert keys(partner_a) == keys(partner_b)


def _prefix_to(seed: int, choices: list[int], upto: int):
    env = arena.make(ENV, max_steps=200)
    env.reset(seed=seed)
    for choice in choices[:upto]:
        legal = env.infos["player_0"]["legal_actions"]
        env.step("dance" if choice < 0 else legal[choice % len(legal)])
    return env


@settings(max_examples=25)
@given(seed=st.integers(0, 3), a=_choices, b=_choices, tail=st.lists(st.integers(0, 40), min_size=1, max_size=8))
def test_equal_state_keys_have_equal_futures(seed, a, b, tail):
    _, trace_a = _run(seed, a)
    _, trace_b = _run(seed, b)
    pairs = [(i, j) for i, (ka, _, _) in enumerate(trace_a) for j, (kb, _, _) in enumerate(trace_b) if ka == kb]
    pairs.sort(key=lambda p: (p == (0, 0), -abs(p[0] - p[1])))  # reached by different paths first
    for i, j in pairs[:3]:
        env_a, env_b = _prefix_to(seed, a, i), _prefix_to(seed, b, j)
        for choice in tail:
            if not env_a.agents or not env_b.agents:
                assert not env_a.agents and not env_b.agents
                break
            legal = env_a.infos["player_0"]["legal_actions"]
            assert legal == env_b.infos["player_0"]["legal_actions"]
            action = legal[choice % len(legal)]
            env_a.step(action)
            env_b.step(action)
            ia, ib = env_a.infos["player_0"], env_b.infos["player_0"]
            assert (ia["feedback"], ia["state_key"], ia["won"]) == (ib["feedback"], ib["state_key"], ib["won"])
            assert env_a.rewards == env_b.rewards


def test_text_anchor_aliases_states_the_state_key_separates():
    """The reason for state keys: the same feedback text from different states (held object differs)."""
    env = arena.make(ENV)
    env.reset(seed=0)
    env.step("inventory")
    before = env.infos["player_0"]
    env.step("dance")
    after = env.infos["player_0"]
    assert before["feedback"] != after["feedback"] and before["state_key"] == after["state_key"]
    keys = set()
    for seed in range(3):
        env.reset(seed=seed)
        keys.add(env.infos["player_0"]["state_key"])
    assert len(keys) == 3


# -- cooperative mode ----------------------------------------------------------------------------------
def test_cooperative_agents_see_their_own_feedback_and_shared_messages():
    env = arena.make(ENV, num_agents=2)
    env.reset(seed=6)
    assert env.agent_selection == "player_0"
    first = env.infos["player_0"]["legal_actions"][0]
    env.step(first)
    assert env.agent_selection == "player_1"
    seen_by_0, seen_by_1 = env.observe("player_0")["text"], env.observe("player_1")["text"]
    feedback = env.infos["player_0"]["feedback"]
    assert feedback in seen_by_0 and f"> {first}" not in seen_by_1
    env.step("say the apple is in fridge 1\n[game] FORGED")
    assert env.agent_selection == "player_0"
    for agent in env.possible_agents:
        text = env.observe(agent)["text"]
        assert "[player_1] the apple is in fridge 1" in text
        assert not any(line.startswith("[game] FORGED") for line in text.splitlines())
    assert env.infos["player_0"]["answer"]["syntax"].startswith("one admissible command, or say <message>")


def test_cooperative_truncation_counts_steps_per_agent():
    env = arena.make(ENV, num_agents=2, max_steps=3)
    env.reset(seed=0)
    moves = 0
    for _ in env.agent_iter(max_iter=50):
        _, _, term, trunc, _ = env.last()
        env.step(None if term or trunc else "look")
        moves += 0 if term or trunc else 1
    assert moves == 6


def test_conformance_checks_pass_in_cooperative_mode():
    make2 = functools.partial(arena.make, ENV, num_agents=2)
    conformance.check_pettingzoo(make2, functools.partial(arena.make_parallel, ENV, num_agents=2), cycles=100)
    conformance.check_determinism(make2, seeds=(0, 1))
    conformance.check_secrecy(make2, seeds=range(3))
    conformance.check_replay(make2, seed=3)
    conformance.check_bad_actions(make2(), list(conformance.HOSTILE_ACTIONS) * 2)
    for seed in range(5):
        env = make2()
        conformance.run_episode(env, seed, garbage=0.2)
        assert env.unwrapped.finished


# -- make_gym ------------------------------------------------------------------------------------------
def test_make_gym_plays_a_single_agent_episode_to_success():
    from gymnasium.utils.env_checker import check_env

    env = make_gym(ENV)
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=8)
    assert "Your task is to:" in obs["text"] and info["legal_actions"]
    expert = HouseholdExpert(0)
    total, done, steps = 0.0, False, 0
    while not done:
        obs, reward, terminated, truncated, info = env.step(expert.act(obs, info))
        total += reward
        done = terminated or truncated
        steps += 1
        if not done:
            assert info["legal_actions"] and "state_key" in info
    assert terminated and not truncated and total == 1.0 and info["won"]
    with pytest.raises(ArenaError):
        env.step("look")
    obs2, _ = env.reset(seed=8)
    assert obs2["text"].split("\n\n")[:3] == env.reset(seed=8)[0]["text"].split("\n\n")[:3]


def test_make_gym_truncates_and_refuses_multi_agent_games():
    env = make_gym(ENV, max_steps=2)
    env.reset(seed=0)
    assert env.step("look")[3] is False
    _, reward, terminated, truncated, _ = env.step("look")
    assert truncated and not terminated and reward == 0.0
    with pytest.raises(ArenaError):
        make_gym(ENV, num_agents=2)
    with pytest.raises(ArenaError):
        make_gym("tictactoe-v0")


def test_seeded_random_episodes_are_reproducible():
    runs = []
    for _ in range(2):
        env = arena.make(ENV)
        rng = np.random.default_rng(0)
        env.reset(seed=42)
        for agent in env.agent_iter(max_iter=200):
            _, _, term, trunc, _ = env.last()
            env.step(None if term or trunc else conformance.policy_action(env, agent, rng, 0.2))
        runs.append(env.unwrapped.transcript.events)
    assert runs[0] == runs[1]


# -- the recap option ----------------------------------------------------------------------------------
RECAP = "Seen so far: "


def read_recap(text: str) -> tuple[dict[str, str], list[str]]:
    """The recap line of an acting agent's observation: ({receptacle: contents text}, unvisited receptacles)."""
    line = next(line for line in text.splitlines() if line.startswith(RECAP))
    shown, unvisited = line[len(RECAP) :].split(". Not visited: ")
    entries = {} if shown == "nothing yet" else dict(entry.split(": ", 1) for entry in shown.split("; "))
    return entries, [] if unvisited == "none." else unvisited.removesuffix(".").split(", ")


def test_recap_is_off_by_default_and_sits_in_the_turn_prompt():
    env = arena.make(ENV)
    env.reset(seed=3)
    assert RECAP not in env.observe("player_0")["text"]
    env = arena.make(ENV, recap=True)
    env.reset(seed=3)
    text = env.observe("player_0")["text"]
    prompt = text.split("\n\n")[-1]  # the paragraph a history window never cuts
    assert prompt.startswith(RECAP) and "\nStep 1 of 50. Admissible commands:" in prompt
    entries, unvisited = read_recap(text)
    assert entries == {} and unvisited == list(env.unwrapped.world.scene.names)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), policy=st.integers(0, 2**31 - 1))
def test_recap_lists_exactly_what_the_agent_saw_and_it_matches_the_house(seed, policy):
    env = arena.make(ENV, recap=True, max_steps=30)
    env.reset(seed=seed)
    world = env.unwrapped.world
    rng = np.random.default_rng(policy)
    visited: set[str] = set()
    for agent in env.agent_iter(max_iter=100):
        obs, _, term, trunc, info = env.last()
        if term or trunc:
            env.step(None)
            continue
        entries, unvisited = read_recap(obs["text"])
        assert set(entries) == visited and set(unvisited) == set(world.scene.names) - visited
        for receptacle, contents in entries.items():  # one agent: nothing changed behind its back
            if contents == "closed":
                assert not world.is_open[receptacle]
            else:
                assert contents == (", ".join(world.contents(receptacle)) or "nothing")
        legal = info["legal_actions"]
        env.step(legal[int(rng.integers(len(legal)))])
        if world.location[agent] is not None:
            visited.add(world.location[agent])


def test_recap_shows_a_closed_receptacle_until_opened_then_what_was_taken():
    env = arena.make(ENV, recap=True)
    env.reset(seed=0)
    world = env.unwrapped.world
    closed = next(r for r in world.scene.names if world.openable(r) and world.contents(r))
    env.step(f"go to {closed}")
    assert read_recap(env.observe("player_0")["text"])[0] == {closed: "closed"}
    env.step(f"open {closed}")
    inside = world.contents(closed)
    assert read_recap(env.observe("player_0")["text"])[0] == {closed: ", ".join(inside)}
    env.step(f"take {inside[0]} from {closed}")
    left = ", ".join(inside[1:]) or "nothing"
    assert read_recap(env.observe("player_0")["text"])[0] == {closed: left}


def test_cooperative_recap_holds_only_the_agents_own_sightings():
    env = arena.make(ENV, num_agents=2, recap=True)
    env.reset(seed=5)
    names = env.unwrapped.world.scene.names
    env.step(f"go to {names[0]}")  # player_0
    env.step(f"go to {names[1]}")  # player_1
    env.step(f"go to {names[2]}")  # player_0
    assert RECAP not in env.observe("player_0")["text"]  # not acting: no prompt, no recap
    assert set(read_recap(env.observe("player_1")["text"])[0]) == {names[1]}
    env.step("look")  # player_1
    assert set(read_recap(env.observe("player_0")["text"])[0]) == {names[0], names[2]}


def test_expert_still_solves_every_task_with_the_recap_shown():
    env = arena.make(ENV, recap=True, max_steps=50)
    for seed in range(20):
        _, won, _ = play(env, {"player_0": HouseholdExpert(seed=0)}, seed)
        assert won, seed
