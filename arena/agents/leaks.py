"""The reasoning-leak check: does any part of a model's private reasoning reach another player?

:class:`SecretReplyBackend` is a policy backend whose every reply hides a unique secret (``SECRET17X``) in
the parts of a reply that must stay private: the ``<think>`` block, text around the answer, answers
inside the reasoning, earlier answers the model replaced. A share of its replies is cut off at a random
character (as ``max_new_tokens`` cuts a real reply), some take hostile forms (nested tags, an answer
only inside the reasoning, a reasoning block opened by the chat template), and the rest are well formed
with the turn's example answer. :func:`count_leaks` plays seeded matches with every seat an
:class:`~arena.agents.llm.LLMAgent` on that backend and counts secrets anywhere a player or a spectator
without ``--reveal`` could read them. ``scripts/leak_check.py`` prints the counts;
``tests/test_leaks.py`` asserts they are zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena.agents.backends.base import ChatPrompt, Completion, SamplingParams, text_of
from arena.agents.reasoning import REASONING_EVENT

SECRET = re.compile(r"SECRET\d+X")
_EXAMPLE = re.compile(r"Example: <think>.*?</think><answer>(.*?)</answer>", re.DOTALL)
_WORDS = ("round", "blue", "quiet", "player", "seven", "maybe", "river", "trust", "vote", "deal")
#: Reply forms besides the truncated ones: (name, template). ``{s}`` is a fresh secret, ``{a}`` the answer.
#: The games whose turns include free text (speeches, clues, chat, proposals): where reasoning could leak.
FREE_TEXT_GAMES: tuple[str, ...] = (
    "werewolf-v0",
    "spy-v0",
    "visual-spy-v0",
    "negotiation-v0",
    "public-goods-v0",
    "sequential-public-goods-v0",
    "household-v0",
)
#: The settings that give a game its free-text turns, where the default has none (household's two-agent
#: mode adds ``say <message>`` to the partner).
FREE_TEXT_KWARGS: dict[str, dict[str, Any]] = {"household-v0": {"num_agents": 2}}

FORMS: tuple[tuple[str, str], ...] = (
    ("well formed", "<think>{s} I hold this card.</think><answer>{a}</answer>"),
    ("answer inside think only", "<think>{s} maybe <answer>{a}</answer></think>"),
    ("nested answers", "<think>ok</think><answer>{s}<answer>{a}</answer></answer>"),
    ("think opened by the template", "{s} secret plan</think><answer>{a}</answer>"),
    ("text around the answer", "<think>hm</think>{s} so <answer>{a}</answer> and {s}"),
    ("replaced answer", "<think>x</think><answer>{s}</answer> no, rather <answer>{a}</answer>"),
    ("upper-case tags", "<THINK>{s}</THINK>< Answer >{a}</ANSWER>"),
    ("answer reopened", "<think>y</think><answer>{a}</answer><answer>{s}"),
)


class SecretReplyBackend:
    """A fake backend for the leak check (module docstring). ``truncate`` of the replies are cut off,
    ``hostile`` of the rest take one of the hostile :data:`FORMS`; the rest are well formed."""

    version = 0

    def __init__(self, seed: int = 0, truncate: float = 0.3, hostile: float = 0.3) -> None:
        self.rng = np.random.default_rng(seed)
        self.truncate, self.hostile = float(truncate), float(hostile)
        self.issued = 0
        self.prompt_leaks = 0  # secrets found in prompts sent to the model
        self.replies: dict[str, int] = {}  # reply form -> count

    def _secret(self) -> str:
        self.issued += 1
        return f"SECRET{self.issued}X"

    def _answer(self, prompt: ChatPrompt) -> str:
        text = text_of(prompt[-1].get("content")) if prompt else ""
        found = _EXAMPLE.findall(text)
        example = found[-1] if found else "pass"
        tail = text.rsplit("Now reply", 1)[-1]
        if "say <message>" in text and self.rng.random() < 0.5:  # a chat line to the partner (household)
            return f"say {' '.join(self.rng.choice(_WORDS, size=3))}"
        if "legal actions" in tail:
            return example
        return f"{example} {' '.join(self.rng.choice(_WORDS, size=3))}"  # free text: vary it

    def _reply(self, prompt: ChatPrompt) -> tuple[str, str]:
        answer = self._answer(prompt)
        if self.rng.random() < self.truncate:
            full = FORMS[0][1].format(s=self._secret(), a=answer)
            return "truncated", full[: int(self.rng.integers(1, len(full)))]
        name, template = FORMS[int(self.rng.integers(1, len(FORMS)))] if self.rng.random() < self.hostile else FORMS[0]
        return name, template.format(s=self._secret(), a=answer)

    def generate(self, prompts: Sequence[ChatPrompt], sampling: SamplingParams | None = None) -> list[Completion]:
        out = []
        for prompt in prompts:
            self.prompt_leaks += sum(len(SECRET.findall(text_of(m.get("content")))) for m in prompt)
            name, reply = self._reply(prompt)
            self.replies[name] = self.replies.get(name, 0) + 1
            out.append(Completion(reply, [0], [1], [0.0], "length" if name == "truncated" else "stop"))
        return out

    def score(self, prompts: Sequence[ChatPrompt], continuations: Sequence[str]) -> list[Any]:
        raise NotImplementedError("the leak check generates only")


@dataclass
class LeakCount:
    """What :func:`count_leaks` found for one game."""

    env_id: str
    games: int = 0
    replies: int = 0
    truncated: int = 0
    invalid: int = 0
    secrets: int = 0  # secrets issued
    to_other_players: int = 0  # a secret of one seat in text another seat could read
    in_game_record: int = 0  # a secret in any transcript event but ``reasoning`` (messages, prompts, actions)
    in_prompts: int = 0  # a secret in any prompt sent to the model (own seat included)
    player_messages: int = 0  # messages written by players (speeches, clues, chat): the free text checked
    forms: dict[str, int] = field(default_factory=dict)


def transcript_leaks(transcript: Any) -> tuple[int, int]:
    """(secrets readable by a seat other than their author, secrets anywhere in the game's record but
    the ``reasoning`` events: messages, prompts, actions) of one finished match's transcript."""
    owner: dict[str, str] = {}
    for event in transcript.events:
        if event["event"] == REASONING_EVENT:
            for secret in SECRET.findall(event["text"]):
                owner[secret] = event["agent"]
    seats = transcript.header["agents"]
    readable: dict[str, list[str]] = {seat: [] for seat in seats}
    recorded = 0
    for event in transcript.events:
        if event["event"] == REASONING_EVENT:
            continue
        recorded += len(SECRET.findall(repr(event)))
        if event["event"] == "message":
            for seat in seats if event.get("to") is None else event["to"]:
                readable[seat].append(event["text"])
        elif event["event"] == "prompt":
            readable[event["agent"]].append(event["text"])
    others = sum(
        1 for seat, texts in readable.items() for text in texts for s in SECRET.findall(text) if owner.get(s) != seat
    )
    return others, recorded


def count_leaks(
    env_id: str, games: int = 200, *, truncate: float = 0.3, seed: int = 0, batch: int = 50, **env_kwargs: Any
) -> LeakCount:
    """Play ``games`` seeded matches of ``env_id`` (seeds ``seed`` …) with a :class:`SecretReplyBackend`
    behind every seat, ``batch`` matches at a time, and count the leaks."""
    import arena
    from arena.agents.llm import LLMAgent
    from arena.agents.scheduler import play_many

    backend = SecretReplyBackend(seed=seed, truncate=truncate)
    count = LeakCount(env_id)
    for start in range(0, games, batch):
        matches = []
        for g in range(start, min(games, start + batch)):
            env = arena.make(env_id, **env_kwargs)
            agent = LLMAgent(backend, env_id=env_id, name="leaky")
            matches.append((env, {seat: agent for seat in env.possible_agents}, seed + g))
        for outcome in play_many(matches, traced=False):
            count.games += 1
            count.replies += len(outcome.turns)
            count.invalid += sum(t.invalid is not None for t in outcome.turns)
            others, recorded = transcript_leaks(outcome.transcript)
            seats = set(outcome.transcript.header["agents"])
            count.player_messages += sum(
                e["event"] == "message" and e.get("sender") in seats for e in outcome.transcript.events
            )
            count.to_other_players += others
            count.in_game_record += recorded
    count.secrets = backend.issued
    count.in_prompts = backend.prompt_leaks
    count.forms = dict(backend.replies)
    count.truncated = backend.replies.get("truncated", 0)
    return count
