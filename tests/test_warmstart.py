"""Warm start: legal-reply branch points, the legality term of the loss, mistake-and-retry examples, every
game's examples and batches."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.backends.transformers_backend import TransformersBackend  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402
from arena.agents.warmstart import (  # noqa: E402
    Example,
    batch_sampler,
    branch_points,
    collect_examples,
    legality_loss,
    sampling_weights,
    train_examples,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(
    ("target", "legal", "others", "expected"),
    [
        ([1, 2, 3, 9], [[1, 2, 3, 9], [1, 2, 4, 9], [1, 2, 3, 8]], [], [(2, [3, 4]), (3, [8, 9])]),
        ([5, 6], [[5, 6], [7, 6]], [], [(0, [5, 7])]),
        ([1, 2, 5], [[1, 2, 5]], [[1, 2, 6], [1, 2, 7]], [(2, [5])]),  # one legal reply among earlier moves
        ([1, 2, 5], [[1, 2, 5], [1, 3, 5]], [[1, 2, 6]], [(1, [2, 3]), (2, [5])]),  # illegal shares token 2
        ([1, 2], [[1, 2]], [], []),  # a single reply: nothing to tell apart
        ([1, 2], [[1, 2], [1, 2, 3]], [], []),  # one reply is a prefix of another: no token says stop
        ([1, 2, 3], [[1, 2], [1, 2, 3]], [], []),
        # player_1 vs player_12 vs player_13: the first digit, then the second digit or the closing bracket
        ([7, 1, 3, 9], [[7, 1, 9], [7, 1, 2, 9], [7, 1, 3, 9], [7, 4, 9]], [], [(1, [1, 4]), (2, [2, 3, 9])]),
    ],
)
def test_branch_points(target, legal, others, expected):
    assert branch_points(target, legal, others) == expected


def test_legality_loss_is_minus_log_legal_mass():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0], [5.0, 0.0, 0.0, 0.0]])
    probs = torch.softmax(logits, dim=-1)
    expected = -(math.log(probs[0, 1] + probs[0, 3]) + math.log(probs[1, 0])) / 2
    assert legality_loss(logits, [[1, 3], [0]]).item() == pytest.approx(expected, rel=1e-6)
    assert legality_loss(logits, [[0, 1, 2, 3], [0, 1, 2, 3]]).item() == pytest.approx(0.0, abs=1e-6)


def test_sampling_weights_favour_end_game_positions_and_share_the_batches_by_game():
    def example(env_id: str, legal: int) -> Example:
        return Example([0], [1], env_id, num_legal=legal)

    ttt = [example("tictactoe-v0", n) for n in (9, 5, 3, 2, 1, 0)]
    weights = sampling_weights(ttt, 3.0)
    assert weights is not None and weights.sum() == pytest.approx(1.0)
    # two or one legal cells: three times as likely; a free-text turn (0): as likely as the rest
    assert list(weights / weights[0]) == pytest.approx([1, 1, 1, 3, 3, 1])
    assert sampling_weights(ttt, 1.0) is None
    kuhn = [example("kuhn-poker-v0", 2)] * 2  # every decision has two moves: no end game
    assert sampling_weights(kuhn, 3.0) is None
    both = sampling_weights(ttt + kuhn, 3.0, {"tictactoe-v0": 3.0})
    assert both[: len(ttt)].sum() == pytest.approx(0.75) and both[len(ttt) :].sum() == pytest.approx(0.25)
    assert sampling_weights(ttt + kuhn * 50, 1.0)[: len(ttt)].sum() == pytest.approx(0.5)  # not by count


def test_sampling_weights_favour_threats_on_top_of_end_games():
    examples = [Example([0], [1], "tictactoe-v0", num_legal=n, threat=t) for n, t in ((9, False), (5, True), (2, True))]
    weights = sampling_weights(examples, 3.0, threat_weight=4.0)
    assert list(weights / weights[0]) == pytest.approx([1, 4, 12])  # the factors multiply
    assert sampling_weights(examples, 1.0, threat_weight=1.0) is None


def test_each_batch_comes_from_one_game_in_proportion_to_its_weight():
    examples = [Example([0], [1], "a")] * 10 + [Example([0], [1], "b")] * 30
    draw = batch_sampler(examples, sampling_weights(examples, 1.0, {"a": 3.0}), batch_size=5)
    rng = np.random.default_rng(0)
    games = []
    for _ in range(400):
        batch = draw(rng)
        assert len({examples[i].env_id for i in batch}) == 1 and len(batch) == 5
        games.append(examples[batch[0]].env_id)
    assert 0.68 < games.count("a") / len(games) < 0.82


@pytest.fixture(scope="module")
def backend():
    return TransformersBackend(str(cached_tiny_model()))


def test_examples_mark_the_legal_cells(backend):
    examples = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=4, seed=3)
    assert examples
    for e in examples:
        prompt = backend.tokenizer.decode(e.prompt_ids)
        legal = prompt.rsplit("Legal moves:", 1)[1].split("\n\nNow reply")[0].split()
        ((branch, legal_ids),) = e.branches  # one point: the cell digit (also with one free cell left)
        assert e.target_ids[branch] in legal_ids
        cells = sorted(backend.tokenizer.decode([t]) for t in legal_ids)
        assert cells == sorted(cell.strip("[]") for cell in legal)
        assert backend.tokenizer.decode(e.prompt_ids[e.observed :]).startswith("Now reply")


def test_examples_flag_the_positions_with_a_win_to_take_or_a_block_to_make(backend):
    """``threat`` agrees with the board in the prompt: some line holds two of one mark and an empty cell."""
    from arena.agents.scripted.tictactoe import read_board
    from arena.envs.tictactoe import completing_cells

    examples = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=30, seed=5)
    flags = []
    for e in examples:
        board = read_board(backend.tokenizer.decode(e.prompt_ids))
        flags.append(bool(completing_cells(board, "X") or completing_cells(board, "O")))
        assert e.threat == flags[-1]
    assert 0 < sum(flags) < len(flags)
    kuhn = collect_examples(backend, ["kuhn-poker-v0"], agents="random", matches_per_env=3, seed=5)
    assert kuhn and not any(e.threat for e in kuhn)  # no detector: no threats


def test_prompts_are_tokenized_as_the_agent_would_and_matches_are_counted_per_game(backend, monkeypatch):
    """The batched tokenization gives each prompt exactly ``apply_chat``'s ids; match counts can differ
    by game (a game not in the mapping plays ``MATCHES``)."""
    import arena
    from arena.agents import warmstart
    from arena.agents.llm import LLMAgent

    monkeypatch.setattr(warmstart, "MATCHES", 3)
    examples = collect_examples(backend, ["tictactoe-v0", "kuhn-poker-v0"], matches_per_env={"tictactoe-v0": 1}, seed=5)
    counts = {env: sum(e.env_id == env for e in examples) for env in ("tictactoe-v0", "kuhn-poker-v0")}
    assert 5 <= counts["tictactoe-v0"] <= 9  # one match: five to nine moves
    assert 3 * 2 * 2 <= counts["kuhn-poker-v0"] <= 3 * 2 * 3  # three matches of two hands, 2-3 decisions each
    env = arena.make("tictactoe-v0")
    env.reset(seed=5)
    obs, _, _, _, info = env.last()
    prompt = LLMAgent(backend, env_id="tictactoe-v0").build_prompt(obs, info)
    assert examples[0].prompt_ids == backend.apply_chat(prompt)  # the first decision of the first match
    assert backend.apply_chat_many([prompt, prompt]) == [backend.apply_chat(prompt)] * 2
    assert backend.apply_chat_many([]) == []


def test_mistakes_add_warnings_and_keep_every_target_legal(backend):
    plain = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=6, seed=1)
    mixed = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=6, seed=1, mistake_rate=0.5)
    warned = [e for e in mixed if "already taken" in backend.tokenizer.decode(e.prompt_ids)]
    assert warned and not any("already taken" in backend.tokenizer.decode(e.prompt_ids) for e in plain)
    for e in mixed:
        for branch, legal_ids in e.branches:
            assert e.target_ids[branch] in legal_ids


def test_mixed_expert_play_labels_every_position_with_the_experts_move(backend):
    """``mixed-expert`` plays the same moves as ``mixed`` (same seeds: the same positions), but every target
    is a minimax-best cell of its position, where half of mixed play's are the random moves it played."""
    from arena.agents.scripted.tictactoe import best_cells, read_board

    def optimal_share(examples: list[Example]) -> float:
        optimal = 0
        for e in examples:
            text = backend.tokenizer.decode(e.prompt_ids)
            board = read_board(text)
            mark = "X" if board.count("X") == board.count("O") else "O"
            cell = int(backend.tokenizer.decode(e.target_ids).split("<answer>[")[1][0])
            optimal += cell in best_cells(board, mark)
        return optimal / len(examples)

    mixed = collect_examples(backend, ["tictactoe-v0"], agents="mixed", matches_per_env=12, seed=4)
    expert = collect_examples(backend, ["tictactoe-v0"], agents="mixed-expert", matches_per_env=12, seed=4)
    assert [e.prompt_ids for e in expert] == [e.prompt_ids for e in mixed]
    assert optimal_share(expert) == 1.0
    assert optimal_share(mixed) < 0.9
    for e in expert:
        for branch, legal_ids in e.branches:
            assert e.target_ids[branch] in legal_ids


def test_scripted_agent_picks_which_registered_agent_makes_the_scripted_moves(backend):
    """Spy's warm start can imitate civilians playing against the naive spy; a name the game lacks is an error."""
    from arena.agents.scripted.spy import SpyNaiveScripted, SpyScripted
    from arena.agents.warmstart import _make_agent, scripted_factory
    from arena.core.errors import ArenaError

    naive = _make_agent("mixed-expert", 0, scripted_factory("spy-v0", "scripted-naive"))
    assert isinstance(naive.scripted, SpyNaiveScripted) and naive.label_with_expert
    default = _make_agent("scripted", 0, scripted_factory("spy-v0"))
    assert isinstance(default, SpyScripted) and not isinstance(default, SpyNaiveScripted)
    with pytest.raises(ArenaError, match="no agent 'scripted-naive'"):
        collect_examples(
            backend,
            ["tictactoe-v0"],
            agents="scripted",
            matches_per_env=1,
            scripted_agent={"tictactoe-v0": "scripted-naive"},
        )
    plain = collect_examples(backend, ["spy-v0"], agents="scripted", matches_per_env=3, seed=1)
    against_naive = collect_examples(
        backend, ["spy-v0"], agents="scripted", matches_per_env=3, seed=1, scripted_agent={"spy-v0": "scripted-naive"}
    )
    assert against_naive and [e.target_ids for e in against_naive] != [e.target_ids for e in plain]


def test_legality_term_moves_mass_onto_legal_moves(backend):
    """Ten steps with the legality term leave more mass on legal cells than ten steps without it."""
    from transformers import AutoModelForCausalLM

    from arena.agents.logits import completion_logits

    examples = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=8, seed=2)
    choices = [e for e in examples if e.branches]
    pad = int(backend.tokenizer.pad_token_id)

    def legal_loss_after(weight: float) -> float:
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model()))
        train_examples(model, examples, steps=10, batch_size=8, lr=3e-3, pad_id=pad, legal_weight=weight)
        with torch.no_grad():
            logits, _, _ = completion_logits(
                model, [e.prompt_ids for e in choices], [e.target_ids for e in choices], pad
            )
            branch = logits[range(len(choices)), [e.branches[0][0] for e in choices]]
            return legality_loss(branch, [e.branches[0][1] for e in choices]).item()

    assert legal_loss_after(5.0) < legal_loss_after(0.0)  # measured: 1.97 vs 3.80


def test_observation_term_teaches_the_prompt_tail(backend):
    """Ten steps with the observation term predict the end of the observations (board, legal moves; the
    answer instructions follow them) better than ten steps without it; the reply's own cross-entropy is
    the same either way before the first update (the prompt tokens that run with the reply are not
    counted in it)."""
    from transformers import AutoModelForCausalLM

    from arena.agents.logits import completion_logits

    examples = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=8, seed=4)
    pad = int(backend.tokenizer.pad_token_id)
    tail = 24

    def train(weight: float) -> tuple[float, float]:
        """(the first step's reply cross-entropy, the prompt tail's cross-entropy after ten steps)"""
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model()))
        losses = train_examples(
            model, examples, steps=10, batch_size=8, lr=3e-3, pad_id=pad, observation_weight=weight, legal_weight=1.0
        )
        with torch.no_grad():
            logits, targets, mask = completion_logits(
                model,
                [e.prompt_ids[: e.observed - tail] for e in examples],
                [e.prompt_ids[e.observed - tail : e.observed] for e in examples],
                pad,
            )
            return losses[0], torch.nn.functional.cross_entropy(logits[mask], targets[mask]).item()

    (first_with, tail_with), (first_without, tail_without) = train(1.0), train(0.0)
    assert first_with == pytest.approx(first_without, rel=1e-5)
    assert tail_with < tail_without  # measured: 4.84 vs 7.27 nats


def test_household_examples_answer_by_the_label_of_the_command_played(backend):
    """Household numbers its commands: the target is the label, and the legality term spans the labels."""
    import re

    tok = backend.tokenizer
    numbered = collect_examples(backend, ["household-v0"], agents="random", matches_per_env=1, seed=0, max_steps=12)
    plain = collect_examples(
        backend,
        ["household-v0"],
        agents="random",
        matches_per_env=1,
        seed=0,
        max_steps=12,
        env_kwargs={"household-v0": {"numbered": False}},
    )
    assert numbered and len(numbered) == len(plain)
    for e, p in zip(numbered, plain, strict=True):
        label = re.search(r"<answer>(\[\d+\])</answer>", tok.decode(e.target_ids)).group(1)
        command = re.search(r"<answer>(.*)</answer>", tok.decode(p.target_ids)).group(1)  # the same move
        listing = tok.decode(e.prompt_ids).rsplit("Admissible commands:", 1)[1]
        assert f"{label} {command}," in listing or f"{label} {command}." in listing
        assert e.num_legal == p.num_legal and e.branches  # which label: told apart from the others


def test_household_examples_flag_the_positions_where_the_task_object_can_be_taken(backend):
    """Household's threat is the take the task hinges on: every expert ``take`` is flagged, a flagged position
    lists a ``take``, and most positions (go to, open, move) are not."""
    import re

    tok = backend.tokenizer
    kwargs = {"household-v0": {"numbered": False, "task_types": ["pick_and_place_simple"], "max_steps": 20}}
    examples = collect_examples(
        backend, ["household-v0"], agents="scripted", matches_per_env=6, seed=3, env_kwargs=kwargs
    )
    commands = [re.search(r"<answer>(.*)</answer>", tok.decode(e.target_ids)).group(1) for e in examples]
    takes = [e for e, c in zip(examples, commands, strict=True) if c.startswith("take ")]
    assert len(takes) == 6 and all(e.threat for e in takes)  # one take per match, each flagged
    for e in examples:
        if e.threat:
            listing = tok.decode(e.prompt_ids).rsplit("Admissible commands:", 1)[1]
            assert "take " in listing
    assert sum(e.threat for e in examples) < len(examples) / 2


def test_examples_play_the_game_variant_the_trainer_plays(backend):
    """``env_kwargs`` reach the games (random play of negotiation's legal list makes proposals; the free-text
    game's random words never do) and ``hide_legal`` keeps the list out of the prompts."""
    tok = backend.tokenizer
    listing = {"negotiation-v0": {"proposal_list": True}}
    free = collect_examples(backend, ["negotiation-v0"], matches_per_env=3, seed=0, agents="random")
    listed = collect_examples(
        backend, ["negotiation-v0"], matches_per_env=3, seed=0, agents="random", env_kwargs=listing
    )
    hidden = collect_examples(
        backend,
        ["negotiation-v0"],
        matches_per_env=3,
        seed=0,
        agents="random",
        env_kwargs=listing,
        hide_legal=["negotiation-v0"],
    )
    assert not any("[Propose" in tok.decode(e.target_ids) for e in free)
    assert any("[Propose" in tok.decode(e.target_ids) for e in listed)
    assert all("these legal actions: [Propose" in tok.decode(e.prompt_ids) for e in listed)
    assert not any("legal actions: [Propose" in tok.decode(e.prompt_ids) for e in hidden)
    assert all("exactly one legal move" in tok.decode(e.prompt_ids) for e in hidden)


def test_examples_show_the_trainers_history_window(backend):
    """With ``history_lines`` the warm start's prompts are the agent's windowed prompts: no household
    prompt shows more than two history lines, and the later ones say how many were left out."""
    kwargs = {"household-v0": {"max_steps": 8}}
    whole = collect_examples(backend, ["household-v0"], matches_per_env=2, seed=0, env_kwargs=kwargs, agents="random")
    windowed = collect_examples(
        backend,
        ["household-v0"],
        matches_per_env=2,
        seed=0,
        env_kwargs=kwargs,
        agents="random",
        history_lines={"household-v0": 2},
    )
    assert [e.target_ids for e in whole] == [e.target_ids for e in windowed]
    notes = 0
    for e, w in zip(whole, windowed, strict=True):
        text, full = (backend.tokenizer.decode(x.prompt_ids, skip_special_tokens=True) for x in (w, e))
        steps = full.count("[game] > ")  # a household history line is the command and the game's answer
        assert text.count("[game] > ") == min(steps, 2) and len(w.prompt_ids) <= len(e.prompt_ids)
        notes += f"the {steps - 2} before them are left out" in text
    assert notes > 0


def test_every_game_gives_well_formed_targets(backend):
    """Warm start covers every registered game: each gives examples whose targets are closed answers the
    game accepted, with legality branch points on its choice turns only."""
    import arena
    from arena.agents.answers import extract_answer
    from arena.core import InvalidReply

    examples = collect_examples(backend, None, matches_per_env=2, seed=0)
    games = {e.env_id for e in examples}
    assert games == {spec.id for spec in arena.list_envs()}
    for e in examples:
        reply = backend.tokenizer.decode(e.target_ids, skip_special_tokens=True)
        assert not isinstance(extract_answer(reply), InvalidReply)
        assert e.observed <= len(e.prompt_ids)
        assert bool(e.branches) <= bool(e.num_legal)  # free-text turns have no legality term
    assert any(e.branches for e in examples if e.env_id == "werewolf-v0")  # its votes do
    assert any(not e.num_legal for e in examples if e.env_id == "werewolf-v0")  # and its speeches are text


def test_default_steps_give_each_game_the_same_batches_in_any_company():
    """Without ``steps`` a game's expected batches (its share of the draws times the steps) do not depend
    on which other games are warm-started with it."""
    from arena.agents.warmstart import GAME_WEIGHTS, default_steps, registered_games

    games = registered_games()
    weight = {g: GAME_WEIGHTS.get(g, 1.0) for g in games}

    def batches(game, company):
        return default_steps(company) * weight[game] / sum(weight[g] for g in company)

    for game in games:
        alone, everyone = batches(game, [game]), batches(game, list(games))
        pair = batches(game, [game, "tictactoe-v0" if game != "tictactoe-v0" else "kuhn-poker-v0"])
        assert alone == pytest.approx(everyone, rel=0.01) == pytest.approx(pair, rel=0.01)
    assert default_steps() > 10 * default_steps(["kuhn-poker-v0"])


def test_restarts_split_the_steps_into_cycles_with_their_own_draws(tmp_path, monkeypatch):
    """``restarts`` trains in cycles (a fresh optimizer and schedule each, seeded ``seed + cycle``) whose steps
    add up to ``steps``; fewer than one cycle is a clear error."""
    from arena.agents import warmstart as ws
    from arena.core.errors import ArenaError

    calls = []
    monkeypatch.setattr(ws, "collect_examples", lambda *a, **k: [Example([1, 2], [3], "tictactoe-v0")])
    monkeypatch.setattr(ws, "train_examples", lambda model, examples, **k: calls.append((k["steps"], k["seed"])))
    ws.warmstart(cached_tiny_model(), tmp_path / "out", env_ids=["tictactoe-v0"], steps=11, restarts=3, seed=7)
    assert calls == [(4, 7), (4, 8), (3, 9)]
    with pytest.raises(ArenaError, match="restarts must be an integer >= 1"):
        ws.warmstart(cached_tiny_model(), tmp_path / "bad", env_ids=["tictactoe-v0"], steps=2, restarts=0)


def test_an_out_dir_that_is_a_file_is_refused_before_any_game_is_played(tmp_path, monkeypatch):
    """It used to be found when saving, after the whole collection and training (40 minutes by default)."""
    from arena.agents import warmstart as ws
    from arena.core.errors import ArenaError

    def no_play(*args, **kwargs):
        raise AssertionError("played before checking the output folder")

    monkeypatch.setattr(ws, "collect_examples", no_play)
    (tmp_path / "taken").write_text("x")
    with pytest.raises(ArenaError, match="out_dir .*taken: is a file, give a folder"):
        ws.warmstart(cached_tiny_model(), tmp_path / "taken", env_ids=["tictactoe-v0"], steps=1)


def test_the_warm_start_logs_each_games_held_out_legal_mass_without_changing_training(tmp_path):
    """With a log, the end of the warm start reports each choice game's legal mass on held-out turns; played
    after training, the report leaves the trained weights exactly as without it."""
    from safetensors.torch import load_file

    from arena.agents import warmstart as ws

    options = {"env_ids": ["tictactoe-v0", "negotiation-v0"], "matches_per_env": 3, "steps": 3, "batch_size": 4}
    lines: list[str] = []
    ws.warmstart(cached_tiny_model(), tmp_path / "reported", log=lines.append, **options)
    (report,) = [line for line in lines if line.startswith("held-out legal mass")]
    mass = float(report.rsplit("tictactoe-v0 ", 1)[1])
    assert 0 < mass < 1 and "negotiation" not in report  # free text has no legal list to measure
    silent: list[str] = []
    ws.warmstart(cached_tiny_model(), tmp_path / "silent", log=silent.append, heldout_per_game=0, **options)
    assert not any(line.startswith("held-out") for line in silent)
    reported = load_file(tmp_path / "reported" / "model.safetensors")
    plain = load_file(tmp_path / "silent" / "model.safetensors")
    assert reported.keys() == plain.keys() and all(torch.equal(reported[k], plain[k]) for k in plain)


def test_without_a_log_no_held_out_matches_are_played(tmp_path, monkeypatch):
    from arena.agents import warmstart as ws

    def refuse(*args, **kwargs):
        raise AssertionError("held-out matches played with nobody to report to")

    monkeypatch.setattr(ws, "heldout_examples", refuse)
    ws.warmstart(cached_tiny_model(), tmp_path / "out", env_ids=["kuhn-poker-v0"], matches_per_env=2, steps=1)


def test_a_negative_held_out_count_is_refused():
    from arena.agents.warmstart import check_options
    from arena.core.errors import ArenaError

    with pytest.raises(ArenaError, match="heldout_per_game must be an integer >= 0"):
        check_options(heldout_per_game=-1)


@pytest.mark.parametrize(
    "options,needle",
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"steps": -1}, "steps must be an integer >= 0"),
        ({"steps": 2.5}, "steps must be an integer >= 0"),
        ({"seed": True}, "seed must be an integer >= 0"),
        ({"observation_weight": float("nan")}, "observation_weight must be a number >= 0"),
        ({"lr": 0.0}, "lr must be a number > 0"),
        ({"threat_weight": float("inf")}, "threat_weight must be a number > 0"),
    ],
)
def test_each_kind_of_number_option_is_refused_by_name(options, needle):
    from arena.agents.warmstart import check_options
    from arena.core.errors import ArenaError

    check_options(steps=None, caption_steps=0)  # None: the default schedule
    with pytest.raises(ArenaError, match=needle):
        check_options(**options)


def test_heldout_turns_come_from_other_matches_than_training(backend):
    from arena.agents.warmstart import heldout_examples

    play = {"agents": "random"}
    train = collect_examples(backend, ["tictactoe-v0"], matches_per_env=20, seed=0, **play)
    held = heldout_examples(backend, ["tictactoe-v0"], 20, 5, 0, play)
    assert len(held) == 5 and all(e.branches for e in held)
    # a held-out prompt with the same board as a training one is possible, but not the whole set
    assert not {tuple(e.prompt_ids) for e in held} <= {tuple(e.prompt_ids) for e in train}


def run_with_masses(tmp_path, monkeypatch, masses, **options):
    """Run :func:`warmstart` with its games, training and legal mass stubbed: the legal mass measured after the
    main schedule and after each top-up comes from ``masses`` in turn. Returns the training calls and the log."""
    from arena.agents import warmstart as ws

    calls: list[dict] = []
    measured = iter(masses)

    def train(model, examples, **k):
        calls.append(k)
        if k["on_step"] is not None:
            k["on_step"](0)

    monkeypatch.setattr(ws, "collect_examples", lambda *a, **k: [Example([1, 2], [3], "tictactoe-v0")])
    monkeypatch.setattr(ws, "heldout_examples", lambda *a, **k: [Example([1, 2], [3], "tictactoe-v0")])
    monkeypatch.setattr(ws, "legal_mass", lambda *a, **k: next(measured))
    monkeypatch.setattr(ws, "train_examples", train)
    lines: list[str] = []
    envs = ["tictactoe-v0", "kuhn-poker-v0", "werewolf-v0"]
    ws.warmstart(cached_tiny_model(), tmp_path / "out", env_ids=envs, seed=5, log=lines.append, **options)
    return calls, lines


def test_games_under_the_legal_mass_line_get_top_ups_until_they_pass(tmp_path, monkeypatch):
    """After the default schedule a game whose held-out legal mass is under TOPUP_BELOW gets a top-up cycle on
    every game, at a share of the learning rate, the lagging games drawn TOPUP_BOOST times as often; they stop
    as soon as every game passes."""
    from arena.agents import warmstart as ws

    low, high = ws.TOPUP_BELOW - 0.1, ws.TOPUP_BELOW + 0.01
    masses = [
        {"tictactoe-v0": high, "kuhn-poker-v0": high, "werewolf-v0": low},
        {"tictactoe-v0": low, "kuhn-poker-v0": high, "werewolf-v0": low},
        {"tictactoe-v0": high, "kuhn-poker-v0": high, "werewolf-v0": high},
    ]
    seen: list[int] = []
    calls, lines = run_with_masses(tmp_path, monkeypatch, masses, on_step=lambda step, model: seen.append(step))
    main, first, second = calls  # the third measurement passes: no third top-up
    assert main["steps"] == ws.default_steps(["tictactoe-v0", "kuhn-poker-v0", "werewolf-v0"])
    assert main["lr"] == 3e-3 and main["game_weights"] == ws.GAME_WEIGHTS
    for top_up in (first, second):
        assert top_up["steps"] == ws.TOPUP_STEPS and top_up["lr"] == pytest.approx(3e-3 * ws.TOPUP_LR_SCALE)
    assert [c["seed"] for c in calls] == [5, 6, 7]  # seed + restarts + k: draws of their own
    share = ws.game_share
    assert first["game_weights"] == {
        "tictactoe-v0": share("tictactoe-v0", ws.GAME_WEIGHTS),
        "kuhn-poker-v0": share("kuhn-poker-v0", ws.GAME_WEIGHTS),
        "werewolf-v0": share("werewolf-v0", ws.GAME_WEIGHTS) * ws.TOPUP_BOOST,
    }
    assert second["game_weights"]["tictactoe-v0"] == share("tictactoe-v0", ws.GAME_WEIGHTS) * ws.TOPUP_BOOST
    assert seen == [0, main["steps"], main["steps"] + ws.TOPUP_STEPS]  # on_step counts on across top-ups
    top_ups = [line for line in lines if line.startswith("top-up")]
    assert [line.split(" after")[0] for line in top_ups] == ["top-up 1/3", "top-up 2/3"]
    assert f"step {main['steps']}, werewolf-v0 drawn 3 times" in top_ups[0]
    assert f"werewolf-v0 {low:.3f}" in top_ups[0] and f"kuhn-poker-v0 {high:.3f}" in top_ups[0]
    assert "tictactoe-v0, werewolf-v0 drawn" in top_ups[1]
    assert lines[-1].startswith("held-out legal mass") and f"werewolf-v0 {high:.3f}" in lines[-1]


def test_top_ups_are_bounded_and_only_follow_the_default_schedule(tmp_path, monkeypatch):
    """A game that never passes gets TOPUPS top-ups, no more; an explicit ``steps`` trains exactly that many
    (no top-ups unless asked for), and ``topups=0`` turns them off."""
    from arena.agents import warmstart as ws
    from arena.core.errors import ArenaError

    never = [{"tictactoe-v0": 0.1}] * (ws.TOPUPS + 1)
    calls, lines = run_with_masses(tmp_path, monkeypatch, never)
    assert len(calls) == 1 + ws.TOPUPS
    assert lines[-1].startswith(f"warning: tictactoe-v0 still under {ws.TOPUP_BELOW} after {ws.TOPUPS} top-up(s)")
    calls, _ = run_with_masses(tmp_path, monkeypatch, never, steps=40)
    assert [c["steps"] for c in calls] == [40]
    calls, _ = run_with_masses(tmp_path, monkeypatch, never, steps=40, topups=1)
    assert [c["steps"] for c in calls] == [40, ws.TOPUP_STEPS]
    calls, _ = run_with_masses(tmp_path, monkeypatch, never, topups=0)
    assert len(calls) == 1
    with pytest.raises(ArenaError, match="topups must be an integer >= 0"):
        ws.check_options(topups=-1)


def test_a_real_top_up_trains_measures_and_saves(tmp_path, monkeypatch):
    """The top-up path end to end on the tiny model (nothing stubbed but the top-up's length): a raw model is far
    under the line, so the one top-up asked for runs after the schedule's two restart cycles; ``on_step`` sees the
    training model and counts on across cycles and top-up, and the model saved is the topped-up one."""
    from arena.agents import warmstart as ws

    monkeypatch.setattr(ws, "TOPUP_STEPS", 2)
    steps: list[int] = []
    lines: list[str] = []
    weights: list[dict[str, torch.Tensor]] = []

    def watch(step, model):
        assert isinstance(model, torch.nn.Module)
        steps.append(step)
        weights.append({name: p.detach().clone() for name, p in model.named_parameters()})

    out = ws.warmstart(
        cached_tiny_model(),
        tmp_path / "out",
        env_ids=["kuhn-poker-v0"],
        matches_per_env=2,
        steps=3,
        restarts=2,
        topups=1,
        batch_size=2,
        heldout_per_game=4,
        log=lines.append,
        on_step=watch,
    )
    assert steps == [0, 1, 2, 3, 4]
    assert any(line.startswith("top-up 1/1 after step 3, kuhn-poker-v0 drawn 3 times") for line in lines)
    saved = dict(TransformersBackend(str(out)).model.named_parameters())
    assert all(torch.equal(saved[name], w) for name, w in weights[-1].items())
    assert not all(torch.equal(weights[2][name], w) for name, w in weights[-1].items())  # the top-up trained
