"""Who is the Spy (``spy-v0``): everyone describes a secret word, one player's word is different.

| | |
|---|---|
| Players | ``num_players`` (default 5, 3–12), ``num_spies`` of them spies (default 1, fewer than half) |
| Deal | a pair of related words from :mod:`arena.envs.spy_words` (219 pairs written for arena; ``word_split`` "all", "train" or "held-out"; or your own ``word_pairs``, each two words that differ once case, spaces and hyphens are set aside); which word the civilians get is random. Civilians share one word, every spy gets the other. By default nobody is told their side (classic rules); ``spy_knows=True`` tells the spies (Vision-Zero) |
| Round | ``clue_rounds`` clue turns per living player (default 1; the first speaker rotates), then a simultaneous vote ``[player_k]`` or ``[abstain]`` by every living player, or by the civilians only (``spy_votes=False``, Vision-Zero; needs ``spy_knows``) |
| Clues | one line of free text (``max_clue_chars``, default 200: newlines are flattened and a longer clue is cut to its first ``max_clue_chars`` characters, ending in "…"). Saying or spelling one's own word (also as a plural such as "knives", split or joined differently such as "ice cream" for icecream, or spelled out letter by letter) is an invalid move, as is an empty clue or one that repeats an earlier clue word for word (Vision-Zero) |
| Answers | ``infos[agent]["answer"]``: clues and the spy's guess are ``text`` (``max_chars`` = ``max_clue_chars``; a guess is cut to 100), votes are ``choice`` over ``legal_actions`` |
| Accepted votes | read by :func:`arena.core.parsing.match_choice`: ``[player_3]``, ``player_3``, ``Player 3``, ``[3]``, ``3``, ``**[player_3]**``, ``[player_3].``, ``I vote for [player_3]``, ``I abstain``; naming two different players is ambiguous and invalid |
| Vote | the player with the most votes is voted out; ties: ``tie_rule="revote"`` (one revote among the tied, then nobody; default), ``"none"`` or ``"random"``. Whether the voted-out player was a spy is announced (``reveal_eliminated=True``, default) or kept hidden |
| Win | civilians: every spy voted out. Spies: the living civilians are no more than the living spies (one spy: the final two), or, with ``single_vote=True`` (Vision-Zero), the one vote misses. With ``spy_guess=True`` the last living spy, when voted out, may name the civilians' word and wins if right |
| Reward | ``reward="team"``: +1 to each player of the winning side, -1 to each player of the losing side (dead players included), paid at the end. ``reward="vision-zero"`` (single vote, one spy): each voter's decision reward (+1 on the spy, -0.5 abstain, -1 otherwise) plus the zero-sum clue reward (:meth:`SpyEnv.vision_zero_rewards`) |
| Invalid move | private warning and ``invalid_retries`` retries, then the default move: a silent clue, an abstention (a random candidate when abstaining is off), a wrong guess; ``invalid_rule="spiral"``: −1.5 to the offender, +0.5 to everyone else, and the game ends |
| Voted-out players | stay in ``env.agents`` with ``infos[agent]["eliminated"]`` True, never selected, until the game ends; then the final reward reaches them through ``last()`` |
| Truncation | ``max_rounds`` vote rounds without a winner (default ``num_players``), or ``max_turns`` valid moves; nobody is paid |

Secrecy: a player's word (and, with ``spy_knows``, its side) is in its own header only; both words and
all sides are announced when the game ends. ``infos[agent]["role"]`` is ``"spy"`` / ``"civilian"`` only
where the player is told its side (``spy_knows=True``, or once the game is over), else ``"unknown"``.
``state_key`` digests what the acting player knows: its seat and word (its side only with
``spy_knows``), round, step, the living players, who was voted out (and their side where it was
announced), every round's votes, the clues still to come this round and the candidates of a vote;
what players said is not part of it. End-of-game infos: ``winning_side``, ``spies``, ``spy_found``,
``votes`` (each round's voter → target), ``vote_accuracy`` (each player's share of votes cast on a
spy), ``survived`` and the words (``civilian_word``, ``spy_word``).
Subclasses (``visual-spy-v0``) replace the deal (:meth:`SpyEnv._deal`) and the clue check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from arena.core.answers import choice_answer, text_answer
from arena.core.env import SimultaneousPhase, TextGameEnv
from arena.core.episode import pick
from arena.core.errors import ArenaError
from arena.core.options import flag_option, list_option
from arena.envs.spy_words import SPLITS
from arena.envs.werewolf import ABSTAIN, bounded_observation, flatten_speech, read_choice, tally

CIVILIAN, SPY = "civilian", "spy"
#: ``infos[agent]["role"]`` while a player has not been told its side (``spy_knows=False``).
UNTOLD = "unknown"
CIVILIANS, SPIES = "civilians", "spies"
TIE_RULES = ("revote", "none", "random")
REWARDS = ("team", "vision-zero")
_IRREGULAR_PLURALS = {
    "mouse": "mice", "goose": "geese", "tooth": "teeth", "foot": "feet", "man": "men", "child": "children",
    "person": "people", "ox": "oxen", "die": "dice", "louse": "lice", "cactus": "cacti", "fungus": "fungi",
}  # fmt: skip
MAX_GUESS_CHARS = 100
CLUE_EXAMPLES = (
    "It is something many people come across in everyday life.",
    "You could find one in a lot of homes.",
    "People usually have an opinion about it.",
    "It comes in more than one size or kind.",
)
CLUE_PREFIXES = ("", "Another hint: ", "My hint: ")
GUESS_EXAMPLE = "umbrella"


def _letters(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def word_forms(word: str) -> set[str]:
    """``word`` with its spaces and hyphens removed, and its plurals: ``knife`` → knife, knifes, knives."""
    base = "".join(_letters(word))
    if not base:
        return set()
    forms = {base, base + "s", base + "es"}
    if base.endswith("y") and len(base) > 1 and base[-2] not in "aeiou":
        forms.add(base[:-1] + "ies")
    if base.endswith("fe"):
        forms.add(base[:-2] + "ves")
    elif base.endswith("f"):
        forms.add(base[:-1] + "ves")
    for singular, plural in _IRREGULAR_PLURALS.items():
        if base.endswith(singular):
            forms.add(base[: -len(singular)] + plural)
    return forms


def mentions_word(text: str, word: str) -> bool:
    """True when ``text`` says ``word``: also as a plural ("knives"), split or joined differently ("ice
    cream" for icecream, "tooth-brush"), or spelled out ("a-p-p-l-e", "a p p l e")."""
    forms = word_forms(word)
    if not forms:
        return False
    tokens = _letters(text)
    longest = max(len(f) for f in forms)
    for i in range(len(tokens)):  # one token, or up to four adjacent tokens written together
        joined = ""
        for token in tokens[i : i + 4]:
            joined += token
            if joined in forms:
                return True
            if len(joined) > longest:
                break
    target = "".join(_letters(word))
    spelled = "".join(t if len(t) == 1 else " " for t in tokens).split()
    return any(target in run for run in spelled)


def _word_pair(pair: Any) -> bool:
    """True for a ``(word, word, ...)`` entry of ``word_pairs``: two strings with letters that are different words
    once case, spaces and hyphens are set aside (a blank word, or ``Apple``/``apple``, would deal no secret)."""
    if not isinstance(pair, list | tuple) or len(pair) < 2 or not all(isinstance(w, str) for w in pair[:2]):
        return False
    first, second = ("".join(_letters(w)) for w in pair[:2])
    return bool(first) and bool(second) and first != second


def _int(value: Any, name: str, low: int, high: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ArenaError(f"{name} must be an integer {bound}, got {value!r}")
    return value


class SpyEnv(TextGameEnv):
    """Who is the Spy with words: clue rounds, a simultaneous vote, elimination until one side wins."""

    metadata = {**TextGameEnv.metadata, "name": "spy_v0"}

    def __init__(
        self,
        *,
        num_players: int = 5,
        num_spies: int = 1,
        clue_rounds: int = 1,
        reveal_eliminated: bool = True,
        spy_guess: bool = False,
        spy_knows: bool = False,
        single_vote: bool = False,
        spy_votes: bool = True,
        reward: str = "team",
        clue_beta: float = 0.1,
        clue_lambda: float = 0.1,
        tie_rule: str = "revote",
        allow_abstain: bool = True,
        max_rounds: int | None = None,
        word_pairs: Sequence[tuple[str, str]] | None = None,
        word_split: str = "all",
        max_clue_chars: int = 200,
        max_turns: int | None = None,
        invalid_retries: int = 1,
        invalid_rule: str = "default",
        render_mode: str | None = None,
    ) -> None:
        _int(num_players, "num_players", 3, 12)
        _int(num_spies, "num_spies", 1)
        reveal_eliminated = flag_option(reveal_eliminated, "reveal_eliminated")
        spy_guess = flag_option(spy_guess, "spy_guess")
        spy_knows = flag_option(spy_knows, "spy_knows")
        single_vote = flag_option(single_vote, "single_vote")
        spy_votes = flag_option(spy_votes, "spy_votes")
        allow_abstain = flag_option(allow_abstain, "allow_abstain")
        if num_spies * 2 >= num_players:
            raise ArenaError(f"num_spies must be fewer than half the players, got {num_spies} of {num_players}")
        if tie_rule not in TIE_RULES:
            raise ArenaError(f"tie_rule must be one of {list(TIE_RULES)}, got {tie_rule!r}")
        if reward not in REWARDS:
            raise ArenaError(f"reward must be one of {list(REWARDS)}, got {reward!r}")
        if not spy_votes and not spy_knows:
            raise ArenaError("spy_votes=False needs spy_knows=True (not being asked to vote would tell the spy)")
        if reward == "vision-zero" and (not single_vote or num_spies != 1):
            raise ArenaError("reward='vision-zero' needs single_vote=True and one spy (its vote-based formulas)")
        for name, value in (("clue_beta", clue_beta), ("clue_lambda", clue_lambda)):
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 100:
                raise ArenaError(f"{name} must be a number from 0 to 100, got {value!r}")
        if not isinstance(word_split, str) or word_split not in SPLITS:
            raise ArenaError(f"word_split must be one of {list(SPLITS)}, got {word_split!r}")
        self.num_spies = num_spies
        self.clue_rounds = _int(clue_rounds, "clue_rounds", 1)
        self.reveal_eliminated = reveal_eliminated
        self.spy_guess = spy_guess
        self.spy_knows = spy_knows
        self.single_vote = single_vote
        self.spy_votes = spy_votes
        self.reward_kind = reward
        self.clue_beta, self.clue_lambda = float(clue_beta), float(clue_lambda)
        self.tie_rule = tie_rule
        self.allow_abstain = allow_abstain
        self.max_rounds = _int(num_players if max_rounds is None else max_rounds, "max_rounds", 1)
        self.max_clue_chars = _int(max_clue_chars, "max_clue_chars", 10)
        pairs = SPLITS[word_split] if word_pairs is None else list_option(word_pairs, "word_pairs")
        bad = next((p for p in pairs if not _word_pair(p)), None) if pairs else list(pairs)
        if bad is not None:
            raise ArenaError(
                "word_pairs must be non-empty pairs of two different words, each with a letter "
                f"(case, spaces and hyphens aside), got {bad!r}"
            )
        self.word_pairs = tuple((str(p[0]), str(p[1])) for p in pairs)
        super().__init__(
            num_players,
            max_turns=max_turns,
            invalid_retries=invalid_retries,
            invalid_rule=invalid_rule,
            render_mode=render_mode,
        )

    # -- deal (overridden by the visual game) --------------------------------------------------------
    def _deal(self) -> None:
        """Choose the words: ``self.civilian_word``, ``self.spy_word``."""
        first, second = self.word_pairs[int(self.rng.integers(len(self.word_pairs)))]
        self.civilian_word, self.spy_word = (first, second) if self.rng.random() < 0.5 else (second, first)

    def secret_line(self, agent: str) -> str:
        """The private line that gives ``agent`` its word (its secret)."""
        word = self.spy_word if agent in self.spies else self.civilian_word
        return f"Your secret word is: {word}."

    def side_line(self, agent: str) -> str:
        """With ``spy_knows``: the private line telling ``agent`` its side."""
        if agent in self.spies:
            return "You are the spy: your word differs from the civilians' word. Blend in and survive."
        return "You are a civilian: find the spy, whose word differs from yours."

    def _check_clue(self, agent: str, clue: str) -> str | None:
        """Why ``clue`` is invalid, or None."""
        if not clue:
            return "A clue must say something about your word."
        word = self.spy_word if agent in self.spies else self.civilian_word
        if mentions_word(clue, word):
            return "You may not say or spell your own word; describe it instead."
        return None

    def _thing(self) -> str:
        return "word"

    def _clue_rule(self) -> str:
        """The header line stating what a clue may not do."""
        return "Clue rule: describe your word without saying or spelling it; never reveal it outright."

    def _clue_examples(self) -> tuple[str, ...]:
        """Candidate example clues for ``infos["answer"]``; the first one valid now is shown."""
        return CLUE_EXAMPLES

    def _private_knowledge(self, agent: str) -> dict[str, Any]:
        """What ``agent`` privately holds, for its state key: its word."""
        return {"word": self.spy_word if agent in self.spies else self.civilian_word}

    def _end_words(self) -> dict[str, Any]:
        return {"civilian_word": self.civilian_word, "spy_word": self.spy_word}

    def _reveal_line(self) -> str:
        return f"The civilians' word was {self.civilian_word!r}; the spy word was {self.spy_word!r}."

    # -- episode -----------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """``options={"spies": ["player_2"]}`` fixes the spy seats (for tests)."""
        spies = (options or {}).get("spies")
        if spies is not None:
            spies = sorted(str(s) for s in spies)
            if len(spies) != self.num_spies or not set(spies) <= set(self.possible_agents):
                raise ArenaError(f"options['spies'] must name {self.num_spies} distinct seats")
        self._fixed_spies = spies
        super().reset(seed=seed, options=options)

    def _setup(self) -> None:
        if self._fixed_spies is not None:
            self.spies = list(self._fixed_spies)
        else:
            seats = self.rng.choice(self.num_players, size=self.num_spies, replace=False)
            self.spies = sorted(self.possible_agents[int(i)] for i in seats)
        self._deal()
        self.alive = list(self.possible_agents)
        self.round = 0
        self.queue: list[tuple[str, str]] = []
        self.ballot: SimultaneousPhase | None = None
        self.candidates: list[str] = []
        self.revoting = False
        self.spy_found = False
        self.votes: list[dict[str, str]] = []
        self.clues_given: set[str] = set()
        self.defaulted_voters: set[str] = set()  # votes played by default after invalid answers
        self.say(f"Who is the Spy begins with {self.num_players} players, {self.num_spies} of them spies.")
        self._start_round()

    def _start_round(self) -> None:
        if self.round >= self.max_rounds:
            self._truncate_rounds()
            return
        self.round += 1
        self.phase = f"round {self.round}"
        start = self.possible_agents[(self.round - 1) % self.num_players]
        first = start if start in self.alive else self.next_live_agent(start)
        k = self.alive.index(first)
        order = self.alive[k:] + self.alive[:k]
        self.queue = [("clue", a) for _ in range(self.clue_rounds) for a in order]
        self.say(
            f"Round {self.round}: each living player gives {self.clue_rounds} clue(s) about their "
            f"{self._thing()}, starting with {first}; then everyone votes."
        )
        self._open_ballot(list(self.alive), revote=False)
        self._next()

    def voters(self) -> list[str]:
        """Who votes: every living player, or (``spy_votes=False``, Vision-Zero) the living civilians."""
        return [a for a in self.alive if self.spy_votes or a not in self.spies]

    def _open_ballot(self, candidates: list[str], *, revote: bool) -> None:
        self.candidates, self.revoting = candidates, revote
        self.ballot = SimultaneousPhase(self.voters())
        self.queue += [("revote" if revote else "vote", a) for a in self.ballot.order]

    def _next(self) -> None:
        if self.finished:
            return
        if self.queue:
            self.set_turn(self.queue[0][1])
        else:
            self._resolve_vote()

    def _resolve_vote(self) -> None:
        assert self.ballot is not None
        votes = dict(self.ballot.moves)
        self.votes.append({a: votes[a].strip("[]") for a in self.ballot.order})
        self.say("Votes: " + ", ".join(f"{a} -> {votes[a].strip('[]')}" for a in self.ballot.order))
        leaders, top = tally(votes, electorate=len(self.ballot.order), rule="plurality")
        out = leaders[0] if len(leaders) == 1 else None
        if len(leaders) > 1 and self.tie_rule == "random":
            out = pick(self.rng, leaders)
            self.say(f"Tie between {', '.join(leaders)}; chosen at random: {out}.")
        elif len(leaders) > 1 and self.tie_rule == "revote" and not self.revoting:
            self.say(f"Tie between {', '.join(leaders)} with {top} vote(s). Revote among them.")
            self._open_ballot(leaders, revote=True)
            self._next()
            return
        self.ballot = None
        if out is None:
            self.say("Nobody is voted out this round.")
        elif out in self.spies and self.spy_guess and len(self._living_spies()) == 1:
            self.say(f"{out} is voted out and was a spy. {out} may now name the civilians' {self._thing()}.")
            self.spy_found = True
            self.queue = [("guess", out)]
            self._next()
            return
        else:
            self._vote_out(out)
        if not self._check_win(missed=out is None or out not in self.spies):
            self._start_round()

    def _vote_out(self, agent: str, *, announce: bool = True) -> None:
        side = ""
        if self.reveal_eliminated:
            side = " They were a spy." if agent in self.spies else " They were a civilian."
        if announce:
            self.say(f"{agent} is voted out.{side}")
        if agent in self.spies:
            self.spy_found = True
        self.alive.remove(agent)
        self.eliminate(agent, "voted out")

    def _living_spies(self) -> list[str]:
        return [a for a in self.alive if a in self.spies]

    def _check_win(self, *, missed: bool = False) -> bool:
        spies = len(self._living_spies())
        civilians = len(self.alive) - spies
        if spies == 0:
            return self._finish(CIVILIANS, "every spy was voted out")
        if civilians <= spies:
            return self._finish(SPIES, "the spies survived to the end")
        if self.single_vote and missed:
            return self._finish(SPIES, "the vote missed the spy")
        return False

    def _finish(self, side: str, why: str) -> bool:
        self.say(self._reveal_line() + " Spies: " + ", ".join(self.spies) + ".")
        winners = [a for a in self.possible_agents if self.side(a) == side]
        info = self._end_info(side)
        if self.reward_kind == "vision-zero":
            clue, vote = self.vision_zero_rewards()
            rewards = {a: clue[a] + vote.get(a, 0.0) for a in self.possible_agents}
            info.update(clue_rewards=clue, vote_rewards=vote)
        else:
            rewards = {a: 1.0 if self.side(a) == side else -1.0 for a in self.possible_agents}
        self.end_game(f"the {side} win: {why}.", winners=winners, rewards=rewards, info=info)
        return True

    def vision_zero_rewards(self) -> tuple[dict[str, float], dict[str, float]]:
        """Vision-Zero's rewards for the one vote (game_rules.md §2.2): the zero-sum clue reward
        ``r_s = −β(v_s − v̄_c)``, ``r_cj = (β/n_c)(v_s − v̄_c) − λ(v_cj − v̄_c)`` from the votes each player
        received (abstentions count for nobody), and each voter's decision reward: +1 for a vote on the spy,
        −0.5 for ``[abstain]`` (N/A), −1 for a wrong vote or a vote lost to invalid answers."""
        ballot = self.votes[-1] if self.votes else {}
        received = {a: sum(t == a for t in ballot.values()) for a in self.possible_agents}
        spy = self.spies[0]
        civilians = [a for a in self.possible_agents if a != spy]
        mean = sum(received[c] for c in civilians) / len(civilians)
        gap = received[spy] - mean
        clue = {spy: -self.clue_beta * gap}
        for c in civilians:
            clue[c] = self.clue_beta / len(civilians) * gap - self.clue_lambda * (received[c] - mean)
        vote: dict[str, float] = {}
        for voter, target in ballot.items():
            if voter in self.defaulted_voters:
                vote[voter] = -1.0
            elif target == ABSTAIN.strip("[]"):
                vote[voter] = -0.5
            else:
                vote[voter] = 1.0 if target == spy else -1.0
        return clue, vote

    def _truncate_rounds(self) -> None:
        self._on_truncation()
        self.end_reason = f"round limit ({self.max_rounds}) reached without a winner"
        self.finished = True
        self._final_info = self._end_info(None)
        self.say(f"Game over: {self.end_reason}", kind="result")
        for agent in self.agents:
            self.truncations[agent] = True
        self.transcript.record(
            "end", reason=self.end_reason, winners=[], returns=dict(self.returns), truncated=True, info=self._final_info
        )

    def _end_info(self, side: str | None) -> dict[str, Any]:
        cast: dict[str, list[str]] = {a: [] for a in self.possible_agents}
        for round_votes in self.votes:
            for voter, target in round_votes.items():
                if target != ABSTAIN.strip("[]"):
                    cast[voter].append(target)
        accuracy = {a: (sum(t in self.spies for t in v) / len(v) if v else None) for a, v in cast.items()}
        return {
            "winning_side": side,
            "spies": list(self.spies),
            "spy_found": self.spy_found,
            "votes": [dict(v) for v in self.votes],
            "vote_accuracy": accuracy,
            "survived": {a: a in self.alive for a in self.possible_agents},
            "rounds": self.round,
            **self._end_words(),
        }

    # -- moves -------------------------------------------------------------------------------------
    def side(self, agent: str) -> str:
        """``"spies"`` or ``"civilians"``."""
        return SPIES if agent in self.spies else CIVILIANS

    def role(self, agent: str) -> str:
        return SPY if agent in self.spies else CIVILIAN

    def told_role(self, agent: str) -> str:
        """The side, once the player is told it (``spy_knows``, or the game is over); else ``"unknown"``."""
        return self.role(agent) if self.spy_knows or self.finished else UNTOLD

    def legal_actions(self, agent: str) -> list[str] | None:
        if not self.queue or self.queue[0][1] != agent or self.queue[0][0] not in ("vote", "revote"):
            return None
        targets = [f"[{a}]" for a in self.candidates if a != agent]
        return [*targets, ABSTAIN] if self.allow_abstain or not targets else targets

    def _play(self, agent: str, action: str) -> str | None:
        kind = self.queue[0][0]
        if kind == "clue":
            clue = flatten_speech(action, self.max_clue_chars)
            reason = self._check_clue(agent, clue)
            if reason is None and clue.lower() in self.clues_given:
                reason = "That clue was already given; say something new."
            if reason is not None:
                return reason
            self._apply(kind, agent, clue)
            return None
        if kind == "guess":
            guess = flatten_speech(action, MAX_GUESS_CHARS)
            if not _letters(guess):
                return f"Name the civilians' {self._thing()} in a few words."
            self._apply(kind, agent, guess)
            return None
        match = read_choice(action, self.legal_actions(agent) or [], self.possible_agents)
        if match.action is None:
            return match.reason
        self._apply(kind, agent, match.action if match.action == ABSTAIN else match.action.strip("[]"))
        return None

    def _guess_right(self, guess: str) -> bool:
        return mentions_word(guess, self.civilian_word)

    def _apply(self, kind: str, agent: str, action: str) -> None:
        self.queue.pop(0)
        if kind == "clue":
            self.clues_given.add(action.lower())
            self.say(action or "(says nothing)", sender=agent, kind="chat")
        elif kind == "guess":
            self.say(f"guesses: {action or '(nothing)'}", sender=agent, kind="action")
            right = bool(action) and self._guess_right(action)
            self._vote_out(agent, announce=False)  # already announced with the guess
            if right:
                self._finish(SPIES, f"{agent} named the civilians' {self._thing()}")
            elif not self._check_win():
                self._start_round()
            return
        else:
            assert self.ballot is not None
            self.ballot.submit(agent, action)
            self.tell(agent, f"Your vote ({action.strip('[]')}) is recorded.")
        self._next()

    def _on_invalid_exhausted(self, agent: str, reason: str) -> None:
        """Default move: a silent clue, a wrong guess, or an abstention (a random candidate without abstaining)."""
        kind = self.queue[0][0]
        legal = self.legal_actions(agent)
        if legal is None:
            move = ""
        elif ABSTAIN in legal:
            move = ABSTAIN
        else:
            move = legal[int(self.rng.integers(len(legal)))]
        self.tell(agent, f"Too many invalid moves; the default move {move or '(silence)'} is played.", kind="warning")
        if kind in ("vote", "revote"):
            self.defaulted_voters.add(agent)
        self._apply(kind, agent, move if move == ABSTAIN else move.strip("[]"))

    # -- views -------------------------------------------------------------------------------------
    def _rules(self) -> list[str]:
        thing = self._thing()
        win = (
            "the one vote misses every spy"
            if self.single_vote
            else "the living civilians are no more than the living spies"
        )
        lines = [
            "You are playing Who is the Spy. Players: " + ", ".join(self.possible_agents) + ".",
            f"Every civilian has the same {thing}; the {self.num_spies} spy player(s) have a slightly different "
            f"one. Each round every living player gives {self.clue_rounds} one-line clue(s) about their {thing}, "
            + (
                "then everyone votes at once"
                if self.spy_votes
                else "then the civilians vote at once (spies do not vote)"
            )
            + "; the player with the most votes is voted out"
            + ("; a tie leads to one revote." if self.tie_rule == "revote" else ".")
            + (" You may [abstain]." if self.allow_abstain else ""),
            f"Civilians win when every spy is voted out; spies win when {win}."
            + (f" A voted-out spy may name the civilians' {thing} to win." if self.spy_guess else "")
            + self._reward_rule(),
            "Vote with a bracketed name such as [player_2]; clues are free text.",
        ]
        return lines

    def _reward_rule(self) -> str:
        if self.reward_kind == "team":
            return " Winners get +1, losers -1."
        return (
            " Rewards (Vision-Zero): each civilian's vote earns +1 on the spy, -0.5 for [abstain], -1 otherwise; "
            f"the clue reward moves {self.clue_beta:g} x (votes on the spy - the civilians' mean) from the spy to "
            f"the civilians, and costs each civilian {self.clue_lambda:g} per vote it drew above that mean."
        )

    def _header(self, agent: str) -> str:
        lines = [*self._rules(), f"You are {agent}.", self.secret_line(agent)]
        if self.spy_knows:
            lines.append(self.side_line(agent))
        else:
            lines.append("You are not told whether you are a civilian or the spy.")
        lines.append(self._clue_rule())
        return "\n".join(lines)

    def _prompt(self, agent: str) -> str:
        if not self.queue or self.queue[0][1] != agent:
            return ""
        kind = self.queue[0][0]
        legal = " ".join(self.legal_actions(agent) or [])
        asks = {
            "clue": f"Give a one-line clue about your {self._thing()}.",
            "vote": f"Vote for the player you think is the spy: {legal}",
            "revote": f"Revote among the tied players: {legal}",
            "guess": f"You were voted out as a spy. Name the civilians' {self._thing()}.",
        }
        return f"Round {self.round}. Living players: {', '.join(self.alive)}. {asks[kind]}"

    _compose = staticmethod(bounded_observation)  # long games: the oldest history gives way

    def answer_spec(self, agent: str, legal: list[str] | None) -> dict[str, Any]:
        if legal:
            return choice_answer(legal)
        if self.queue and self.queue[0] == ("guess", agent):
            return text_answer(GUESS_EXAMPLE, MAX_GUESS_CHARS)
        limit = self.max_clue_chars
        # Enough variants that one is always new: each earlier clue can rule out at most one of them.
        variants = (
            f"{prefix}{base}{suffix}"
            for suffix in ("", *(f" ({k})" for k in range(2, len(self.clues_given) + 3)))
            for prefix in CLUE_PREFIXES
            for base in self._clue_examples()
        )
        valid = (
            clue
            for clue in (flatten_speech(c, limit) for c in variants)
            if self._check_clue(agent, clue) is None and clue.lower() not in self.clues_given
        )
        return text_answer(next(valid, "(a short clue)"[:limit]), limit)

    def information_state(self, agent: str) -> dict[str, Any]:
        kind = self.queue[0][0] if self.queue and self.queue[0][1] == agent else None
        return {
            "agent": agent,
            **self._private_knowledge(agent),
            "side": self.side(agent) if self.spy_knows else None,
            "round": self.round,
            "step": kind,
            "alive": list(self.alive),
            "voted_out": [(a, self.side(a) if self.reveal_eliminated else None) for a in self.eliminated],
            "votes": list(self.votes),
            "clues_left": sum(k == "clue" for k, _ in self.queue),
            "candidates": list(self.candidates) if kind in ("vote", "revote") else None,
        }

    def secrets(self, agent: str) -> list[str]:
        if self.finished:
            return []
        return [self.secret_line(agent), *([self.side_line(agent)] if self.spy_knows else [])]

    def _extra_info(self, agent: str) -> dict[str, Any]:
        return {"phase": self.phase, "round": self.round, "alive": list(self.alive)}

    def spectator_text(self) -> str:
        return f"{self.phase or 'setup'}; spies: {', '.join(self.spies)}; {self._reveal_line()}"
