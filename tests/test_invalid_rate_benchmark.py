"""The invalid-rate benchmark's `--train-preset` mode plays a game as the training preset does (its game
settings and history window), with a model-free backend; the counts, not the speed, are checked."""

from __future__ import annotations

from arena.agents.backends.base import Completion
from arena.agents.context import WINDOW_NOTE
from arena.trainers.config import load_config
from benchmarks.invalid_rate import measure


class LookBackend:
    """Always answers ``look`` (admissible in every household state); records the prompts it saw."""

    version = 0

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def generate(self, prompts, sampling):
        self.prompts.extend(str(p[-1]["content"]) for p in prompts)
        return [Completion("<answer>look</answer>", [1], [2], [-1.0]) for _ in prompts]


def test_train_preset_mode_plays_the_presets_game_settings_and_history_window():
    config = load_config("cpu-household")
    window = config.history_lines_for("household-v0")
    note = WINDOW_NOTE.split("{")[0]
    preset_backend, default_backend = LookBackend(), LookBackend()
    as_trained = measure(preset_backend, "household-v0", 32, 1.0, 0, config)
    default = measure(default_backend, "household-v0", 32, 1.0, 0)
    # 32 concurrent matches of `look` until the step limit: the preset's 20 steps, the game's default 50
    assert as_trained.choice == 32 * config.envs["household-v0"]["max_steps"] and default.choice == 32 * 50
    assert as_trained.invalid == 0 and default.invalid == 0
    assert window is not None and any(note in p for p in preset_backend.prompts)
    assert not any(note in p for p in default_backend.prompts)


class LabelBackend(LookBackend):
    """Always answers ``[1]``: the first listed command where the game numbers its commands."""

    def generate(self, prompts, sampling):
        self.prompts.extend(str(p[-1]["content"]) for p in prompts)
        return [Completion("<answer>[1]</answer>", [1], [2], [-1.0]) for _ in prompts]


def test_env_kwargs_override_the_games_settings():
    numbered, plain = LabelBackend(), LabelBackend()
    by_label = measure(numbered, "household-v0", 32, 1.0, 0, env_kwargs={"max_steps": 3})
    unlabelled = measure(plain, "household-v0", 32, 1.0, 0, env_kwargs={"max_steps": 3, "numbered": False})
    assert by_label.choice == unlabelled.choice == 32 * 3
    assert by_label.invalid == 0 and unlabelled.invalid == 32 * 3  # a label is no command in ALFWorld's list
    assert all("[1] " in p for p in numbered.prompts) and not any("[1] " in p for p in plain.prompts)


def test_closed_counts_a_refused_proposal_that_well_formed_does_not():
    from types import SimpleNamespace

    from arena.core import InvalidReply
    from arena.core.answers import structured_answer, text_answer
    from benchmarks.invalid_rate import closed_answer, well_formed

    def turn(action, answer, invalid=None):
        return SimpleNamespace(trace=SimpleNamespace(action=action), info={"answer": answer}, invalid=invalid)

    proposal = structured_answer("[Propose: me 1 book 0 hat 0 ball]", "a proposal", 80)
    refused = turn("[Propose: me 9 book 0 hat 0 ball]", proposal, invalid="You cannot keep more than there is")
    assert closed_answer(refused) and not well_formed(refused)
    accepted = turn("[Propose: me 1 book 0 hat 0 ball]", proposal)
    assert closed_answer(accepted) and well_formed(accepted)
    speech = text_answer("hello", 10)
    for bad in (turn(InvalidReply(), speech), turn("   ", speech), turn("x" * 11, speech)):
        assert not closed_answer(bad) and not well_formed(bad)
    # a free-text (not structured) turn the game refused still counts as well formed: only its form is judged
    assert well_formed(turn("hello", speech, invalid="some reason"))
