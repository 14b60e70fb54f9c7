"""What a werewolf model's free-text turns become: unclosed replies, accepted moves, or moves the game rejects.

Usage::

    python3 scripts/werewolf_free_text.py --model runs/cpu-werewolf/warmstart          # free speech, 40 tokens
    python3 scripts/werewolf_free_text.py --model DIR --games 20 --max-new-tokens 160
    python3 scripts/werewolf_free_text.py --model runs/cpu-werewolf/checkpoint --temperature 0 --answers 5

Scripted agents play every seat of ``--games`` werewolf games (``xu7``, free speeches of at most 120 characters:
the ``cpu-werewolf`` preset's game until 2026-12-07, when its speeches became menu choices; wolf chat and role
predictions are free text in both). At each free-text turn (a speech, wolf chat or role
prediction) the model is asked too, as the LLM agent would ask it: sampling at ``--temperature`` (1, as in
training; 0 is greedy, as the preset's evaluation), at most ``--max-new-tokens`` (the preset's 40). Its
reply is played on a copy of the game: it has no closed answer, or the game accepts it, or the game
rejects it (the reason, with player names generalised). The scripted move is then played, so every game
runs to its end. The evaluation's ``invalid_rate_text`` counts unclosed and rejected replies alike (and
retries after a warning); this splits them. ``--answers N`` also prints each kind's N most frequent answers and
how many distinct ones there were: a policy whose speeches collapse onto one accepted string still counts as 100 %
accepted. Results: ``docs/results.md`` (werewolf).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import arena
from arena.agents.answers import extract_answer
from arena.agents.backends.base import SamplingParams
from arena.agents.llm import LLMAgent
from arena.agents.specs import make_agent
from arena.core.replies import InvalidReply

ENV_ID = "werewolf-v0"
#: The free-speech game (``cpu-werewolf``'s until 2026-12-07) and the preset's reply length.
PRESET_KWARGS: dict[str, Any] = {"preset": "xu7", "max_speech_chars": 120}
PRESET_MAX_NEW_TOKENS = 40
UNCLOSED = "no closed answer"
ACCEPTED = "accepted"


def _general(reason: str) -> str:
    """A rejection reason with player names replaced, so that equal reasons count together."""
    return "rejected: " + re.sub(r"player_\d+", "player_k", reason)[:60]


def classify(
    backend: Any,
    games: int,
    seed: int = 0,
    max_new_tokens: int = PRESET_MAX_NEW_TOKENS,
    temperature: float = 1.0,
    answers: Counter | None = None,
) -> Counter:
    """Counts of ``(turn kind, outcome)`` over the free-text turns of ``games`` scripted games (``temperature``
    0: greedy, as the preset's evaluation plays). ``answers``, when given, counts ``(turn kind, answer)`` of every
    closed answer, accepted or not."""
    env = arena.make(ENV_ID, **PRESET_KWARGS)
    sampling = SamplingParams(temperature=temperature, max_new_tokens=max_new_tokens, seed=seed)
    agent = LLMAgent(backend, env_id=ENV_ID, sampling=sampling)  # its prompts fit the reply length asked for
    pending: list[tuple[str, Any, str, Any]] = []  # (turn kind, prompt, seat, a copy of the game before the move)
    for game in range(games):
        env.reset(seed=seed + game)
        players = {
            a: make_agent("scripted", ENV_ID, seed=seed + 1000 * game + i) for i, a in enumerate(env.possible_agents)
        }
        for seat in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            if not info.get("legal_actions"):
                kind = env.unwrapped.queue[0][0]
                pending.append((kind, agent.build_prompt(observation, info), seat, copy.deepcopy(env)))
            env.step(str(players[seat].act(observation, info)))
    replies = backend.generate([p for _, p, _, _ in pending], sampling)
    counts: Counter = Counter()
    for (kind, _, seat, game_copy), reply in zip(pending, replies, strict=True):
        answer = extract_answer(reply.text, finish_reason=reply.finish_reason)
        if isinstance(answer, InvalidReply):
            counts[kind, UNCLOSED] += 1
            continue
        if answers is not None:
            answers[kind, answer] += 1
        game_copy.step(answer)
        reason = game_copy.infos[seat].get("invalid_move")
        counts[kind, ACCEPTED if reason is None else _general(str(reason))] += 1
    return counts


def _per_kind(counts: Counter) -> dict[str, Counter]:
    """A ``(turn kind, x)`` counter split into one counter of ``x`` per kind, the kinds in sorted order."""
    split: dict[str, Counter] = {}
    for (kind, x), n in counts.items():
        split.setdefault(kind, Counter())[x] += n
    return dict(sorted(split.items()))


def report(counts: Counter) -> None:
    """Print each turn kind's outcomes, most frequent first."""
    for kind, outcomes in _per_kind(counts).items():
        total = sum(outcomes.values())
        print(f"{kind}: {total} turns")
        for outcome, n in outcomes.most_common():
            print(f"  {n:>5}  {n / total:6.1%}  {outcome}")


def report_answers(answers: Counter, top: int) -> None:
    """Print each turn kind's ``top`` most frequent closed answers and how many distinct answers it gave."""
    for kind, mine in _per_kind(answers).items():
        print(f"{kind}: {len(mine)} distinct answers in {sum(mine.values())}")
        for answer, n in mine.most_common(top):
            print(f"  {n:>5}  {answer[:100]!r}")


def main(argv: list[str] | None = None) -> Counter:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model directory (a werewolf warm start or checkpoint)")
    parser.add_argument("--games", type=int, default=12)
    parser.add_argument("--seed", type=int, default=6000)
    parser.add_argument("--max-new-tokens", type=int, default=PRESET_MAX_NEW_TOKENS)
    parser.add_argument("--temperature", type=float, default=1.0, help="0: greedy, as the preset's evaluation")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--answers", type=int, default=0, help="also print each kind's N most frequent answers")
    args = parser.parse_args(argv)
    if args.games < 1 or args.max_new_tokens < 1 or args.answers < 0:
        parser.error("--games and --max-new-tokens must be at least 1, --answers at least 0")
    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend

    torch.set_num_threads(args.threads)
    answers: Counter = Counter()
    backend = TransformersBackend(args.model)
    counts = classify(backend, args.games, args.seed, args.max_new_tokens, args.temperature, answers)
    report(counts)
    if args.answers:
        report_answers(answers, args.answers)
    return counts


if __name__ == "__main__":
    main()
