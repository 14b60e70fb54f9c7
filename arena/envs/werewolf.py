"""Werewolf (``werewolf-v0``): two teams, hidden roles, night kills and day votes.

| | |
|---|---|
| Players | 7 by default: 2 werewolves, seer, doctor, 3 villagers (Xu et al. 2023 / LSPO). ``roles=[...]`` or ``num_players=n`` for other line-ups |
| Teams | werewolves vs village (seer, doctor, villagers); roles are dealt at random and never announced before the end |
| Night | werewolves talk on a private channel (``wolf_chat_rounds`` messages each), then each living wolf names a victim in seat order, seeing its pack's earlier picks (most-named target dies; a tie goes to the later pick); the seer inspects one living player and alone learns its exact role (``seer_result="team"``: only werewolf or not); the doctor protects one living player (self and repeats allowed) |
| Dawn | the victim dies unless protected; the death (not the role) is announced, or that nobody died |
| Day | ``speaking="round-robin"``: ``discussion_rounds`` rounds in which every living player speaks once (the first speaker rotates daily); ``"bid"`` (Werewolf Arena): up to ``debate_turns`` turns, each given to the highest secret bid 0–4 of the living players other than the last speaker. With ``role_prediction`` (LSPO) every living player then privately predicts the others' roles. Then a simultaneous vote: ``[player_k]`` or ``[abstain]`` |
| Exile | ``exile_rule="plurality"`` (most votes) or ``"majority"`` (more than half of the living players); ties: ``tie_rule="random"``, ``"none"`` (nobody is exiled) or ``"revote"`` (one revote among the tied players, then nobody) |
| Win | village: no werewolf alive. Werewolves: ``wolf_win="strict"`` (more wolves than others) or ``"parity"`` (at least as many); checked at dawn and after each exile |
| Reward | +1 to every member of the winning team, -1 to every member of the losing team, dead players included, paid at the end |
| Dead players | stay in ``env.agents`` with ``infos[agent]["eliminated"]`` True and are never selected; they take their dead step when the game ends, so the final reward reaches them through ``last()`` |
| Answers | ``infos[agent]["answer"]``: speeches and wolf chat are ``text`` (``max_chars`` = ``max_speech_chars``, default 400: newlines are flattened and a longer speech is cut to its first ``max_speech_chars`` characters, ending in "…"); votes, night actions and bids are ``choice`` over ``legal_actions``; role predictions are ``structured`` |
| Speech menu | ``speech_menu=True`` (off by default) makes each day speech a ``choice`` among fixed statements in the scripted players' convention, for every speaker alike: ``I have no information yet.``, ``I suspect player_k.``, ``I am the Seer. My findings: player_k is a Werewolf.`` and ``… is a good player.`` for every other living player (Xu et al. 2023 let an RL policy choose among candidate statements; here the candidates are fixed). ``speech_menu=["seer"]`` (a list of roles): only those roles' speeches are menu choices, the others speak freely (the rules say which). Wolf chat stays free text |
| Accepted forms | targets are read by :func:`arena.core.parsing.match_choice`: ``[player_3]``, ``player_3``, ``Player 3``, ``[3]``, ``3``, ``**[player_3]**``, ``[player_3].``, ``I vote for [player_3]``, ``I abstain``; naming two different players (``[player_1] or [player_3]``) is ambiguous and invalid |
| Invalid move | free speeches are never invalid (a menu speech that names no statement gets a warning and a retry, then ``I have no information yet.``). A bad target, bid or prediction gets a private warning and ``invalid_retries`` retries, then the default move: ``[abstain]`` for votes (a random candidate where abstaining is off), a random legal target at night, bid 0, no role prediction; ``invalid_rule="spiral"``: −1.5 to the offender, +0.5 to everyone else, and the game ends |
| Truncation | after ``max_rounds`` nights and days without a winner (default 10), or ``max_turns`` valid moves; nobody is paid |

Paper presets (``arena.make("werewolf-v0", preset=...)``, explicit kwargs override them): ``"lspo"``
(alias ``"xu7"``) and ``"werewolf-arena"`` (alias ``"arena8"``), in ``PRESETS`` below and tabled in
docs/envs/werewolf.md.

Secrecy: a player's role is in its own header only; the wolf channel and the pack's picks reach only
living wolves; inspection results reach only the seer; the doctor's choice only the doctor. Dead
players' roles stay hidden until the game ends, when all roles are announced.
``state_key`` digests what the acting player knows: its seat and role, phase, the living players and
the public deaths, the ballots it saw (every ballot with ``reveal_votes``, else its own votes), the
day's remaining speeches, the candidates of a vote; a wolf adds the pack and tonight's picks, the seer
its inspection results as shown, the doctor its protections. What players said is not part of it.
End-of-game infos: ``winning_team``, ``roles``, ``vote_accuracy`` (each player's share of day votes
cast on werewolves, ``None`` if it never voted), ``votes`` (every ballot with its day), ``inspections``
(the seer's results), ``survived``, and with ``role_prediction`` the predictions and their accuracy.
``inspections`` (also the seer's own infos during play) holds exactly what the seer was told: the role,
or with ``seer_result="team"`` ``"werewolf"`` / ``"not werewolf"``.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from arena.core.answers import choice_answer, structured_answer, text_answer
from arena.core.env import SimultaneousPhase, TextGameEnv
from arena.core.episode import pick
from arena.core.errors import ArenaError
from arena.core.options import list_option
from arena.core.parsing import Match, match_choice
from arena.core.spaces import MAX_OBSERVATION_CHARS, clip_text
from arena.core.transcript import compose_observation

WEREWOLF, SEER, DOCTOR, VILLAGER = "werewolf", "seer", "doctor", "villager"
ROLES = (WEREWOLF, SEER, DOCTOR, VILLAGER)
VILLAGE, WOLVES = "village", "werewolves"
ABSTAIN = "[abstain]"
#: What the seer learns of a non-wolf with ``seer_result="team"`` (``infos["inspections"]`` holds it).
NOT_WEREWOLF = "not werewolf"
_ROLE_TITLE = {WEREWOLF: "Werewolf", SEER: "Seer", DOCTOR: "Doctor", VILLAGER: "Villager"}
_VERDICT = {**_ROLE_TITLE, NOT_WEREWOLF: "not a Werewolf"}

XU7_ROLES = (WEREWOLF, WEREWOLF, SEER, DOCTOR, VILLAGER, VILLAGER, VILLAGER)
ARENA8_ROLES = (WEREWOLF, WEREWOLF, SEER, DOCTOR, VILLAGER, VILLAGER, VILLAGER, VILLAGER)

#: Paper presets for ``arena.make("werewolf-v0", preset=...)`` (docs/envs/werewolf.md has the tables).
PRESETS: dict[str, Any] = {
    "lspo": {  # Xu et al. 2023 (arXiv 2310.18940) / LSPO (arXiv 2502.04686): game_rules.md §1.2
        "roles": XU7_ROLES,
        "exile_rule": "plurality",
        "tie_rule": "random",
        "wolf_win": "strict",
        "allow_abstain": True,
        "reveal_votes": True,
        "seer_result": "team",
        "discussion_rounds": 1,
        "speaking": "round-robin",
        "role_prediction": True,
        "max_rounds": 10,
    },
    "xu7": "lspo",
    "werewolf-arena": {  # Bailis et al. 2024 (arXiv 2407.13943), google/werewolf_arena: game_rules.md §1.1
        "roles": ARENA8_ROLES,
        "exile_rule": "majority",
        "tie_rule": "none",
        "wolf_win": "parity",
        "allow_abstain": False,
        "reveal_votes": False,
        "seer_result": "role",
        "speaking": "bid",
        "debate_turns": 8,
        "role_prediction": False,
    },
    "arena8": "werewolf-arena",
}
SPEAKING = ("round-robin", "bid")
MAX_BID = 4
EXILE_RULES = ("plurality", "majority")
TIE_RULES = ("random", "none", "revote")
WOLF_WIN_RULES = ("strict", "parity")

SPEECH_EXAMPLE = "I have no firm suspicion yet; I would like to hear what everyone noticed."
#: The first statement of a speech menu (``speech_menu=True``), and the default speech after invalid replies.
SPEECH_PASS = "I have no information yet."
WOLF_CHAT_EXAMPLE = "Let us agree on tonight's victim before we pick."
# Matched with fullmatch on stripped text (leading and trailing ``\s*`` around optional tokens backtrack
# quadratically on a long run of spaces).
_BID = re.compile(r"\[?\s*([0-4])\s*\]?")
_BIDS = tuple(f"[{b}]" for b in range(MAX_BID + 1))  # the legal bids
_NONE = re.compile(r"\[?\s*none\s*\]?\.?", re.IGNORECASE)
_PREDICTION = re.compile(
    r"player[\s_-]*(\d+)\s*(?:[:=]|is|as)\s*(?:an?\s+)?(werewolf|seer|doctor|villager)\b", re.IGNORECASE
)


#: What the acting player is asked, by step kind (``{legal}``: its legal actions).
_ASKS = {
    "wolf_chat": "Werewolf channel (only werewolves read it): discuss tonight's victim.",
    "wolf_kill": "Choose tonight's victim: {legal}",
    "seer": "Choose a player to inspect: {legal}",
    "doctor": "Choose a player to protect tonight: {legal}",
    "speech": "Speak to everyone (free text).",
    "speech_menu": "Speak to everyone with one of these statements: {legal}",
    "vote": "Vote to exile a player: {legal}",
    "revote": "Revote among the tied players: {legal}",
    "bid": "Bid for the next speaking turn (secret): {legal} — 0 listen, 1 general thoughts, 2 something "
    "specific, 3 urgent, 4 you were addressed and must respond.",
    "predict": "Predict the role of every other living player, e.g. 'player_2: werewolf, player_5: seer' "
    "(players you do not name count as villagers), or [none]. Only you see it.",
}


# -- vote helpers shared by the social deduction games (werewolf, spy) --------------------------------
def read_choice(text: str, legal: Sequence[str], seats: Sequence[str]) -> Match:
    """A vote or target through :func:`arena.core.parsing.match_choice`: every seat and ``[abstain]``
    are known names (so naming two players is ambiguous), and a whole reply ``3`` or ``[3]`` means
    ``[player_3]``."""
    aliases, known = _seat_names(tuple(seats))
    return match_choice(text, legal, aliases, known=known)


@functools.lru_cache(maxsize=64)
def _seat_names(seats: tuple[str, ...]) -> tuple[dict[str, tuple[str, str]], tuple[str, ...]]:
    """(aliases, known names) of :func:`read_choice` for these seats, made once per seating."""
    numbers = {f"[{seat}]": seat.rpartition("_")[2] for seat in seats}
    return {name: (f"[{n}]", n) for name, n in numbers.items()}, (*numbers, ABSTAIN)


def tally(votes: dict[str, str], *, electorate: int, rule: str) -> tuple[list[str], int]:
    """The leading candidates of a vote and their count. Abstentions count toward the electorate
    (``majority`` needs more than ``electorate / 2`` votes) but never for a candidate. Returns
    ``([], 0)`` when nobody qualifies."""
    counts = Counter(target for target in votes.values() if target != ABSTAIN)
    if not counts:
        return [], 0
    top = max(counts.values())
    if rule == "majority" and top * 2 <= electorate:
        return [], top
    return sorted(c for c, n in counts.items() if n == top), top


def flatten_speech(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, so a speech cannot fake a ``[game]`` line."""
    return clip_text(" ".join(text.split()), limit, keep="start")


def suspect_statement(player: str) -> str:
    """The menu statement accusing ``player``."""
    return f"I suspect {player}."


def claim_statement(player: str, werewolf: bool) -> str:
    """The menu statement claiming the Seer's finding that ``player`` is a Werewolf (else a good player)."""
    return f"I am the Seer. My findings: {player} is {'a Werewolf' if werewolf else 'a good player'}."


@functools.lru_cache(maxsize=256)
def _menu(others: tuple[str, ...]) -> tuple[str, ...]:
    return (
        SPEECH_PASS,
        *(suspect_statement(p) for p in others),
        *(claim_statement(p, True) for p in others),
        *(claim_statement(p, False) for p in others),
    )


def menu_statements(others: Iterable[str]) -> tuple[str, ...]:
    """The statements of a menu speech (``speech_menu=True``), the same for every speaker: pass, accuse one
    of ``others`` (the other living players), or claim the Seer's finding that one of them is a Werewolf or
    a good player. Every speaker may claim to be the Seer, as in the free-text game."""
    return _menu(tuple(others))


def bounded_observation(header: str, lines: list[str], prompt: str) -> str:
    """``compose_observation`` that drops the oldest history when the text would outgrow the
    observation space (long games with many speeches)."""
    text = compose_observation(header, lines, prompt)
    if len(text) <= MAX_OBSERVATION_CHARS:
        return text
    budget = MAX_OBSERVATION_CHARS - len(header) - len(prompt) - 8
    return compose_observation(header, [clip_text("\n".join(lines), max(budget, 0))], prompt)


def _expand_state(snapshot: tuple[Any, ...]) -> dict[str, Any]:
    """``information_state`` from a snapshot of :meth:`WerewolfEnv._state_snapshot`: new lists and dicts,
    the append-only logs read up to the length they had when it was taken."""
    (agent, role, phase, queue, alive, deaths, vote_log, votes, reveal, candidates, stage, debate_left, my_bid,
     predictions, predicted, secret) = snapshot  # fmt: skip
    kind = queue[0][0] if queue and queue[0][1] == agent else None
    candidates = candidates if kind in ("vote", "revote") else None
    steps = [k for k, _ in queue]
    speeches_left = steps.count("speech") if phase.startswith("day") else None
    ballots = vote_log[:votes]
    state: dict[str, Any] = {
        "agent": agent,
        "role": role,
        "phase": phase,
        "step": kind,
        "alive": list(alive),
        "deaths": list(deaths),
        "ballots": [v["ballot"] for v in ballots] if reveal else [v["ballot"].get(agent) for v in ballots],
        "candidates": None if candidates is None else list(candidates),
        "stage": stage,
        "debate_left": debate_left,
        "my_bid": my_bid,
        "my_predictions": [p["roles"] for p in predictions[:predicted] if p["player"] == agent],
    }
    if speeches_left is not None:
        state["speeches_left"] = speeches_left
    if role == WEREWOLF:
        pack, picks, picked = secret
        state["pack"] = list(pack)
        state["picks"] = picks[:picked]
        state["chat_left"] = steps.count("wolf_chat")
    elif role == SEER:
        state["inspections"] = secret[0][: secret[1]]
    elif role == DOCTOR:
        state["protections"] = secret[0][: secret[1]]
    return state


def default_roles(num_players: int) -> tuple[str, ...]:
    """A standard line-up for ``num_players`` (4–16): ``max(1, round(n/4))`` werewolves (as TextArena's
    SecretMafia), a seer, a doctor from 5 players on, villagers for the rest."""
    wolves = max(1, round(num_players / 4))
    specials = (SEER, DOCTOR) if num_players >= 5 else (SEER,)
    return (WEREWOLF,) * wolves + specials + (VILLAGER,) * (num_players - wolves - len(specials))


def lineup(roles: Sequence[str]) -> str:
    """``"2 werewolves, 1 seer, 1 doctor, 3 villagers"``."""
    counts = Counter(roles)
    plural = {WEREWOLF: "werewolves", SEER: "seers", DOCTOR: "doctors", VILLAGER: "villagers"}
    return ", ".join(f"{counts[r]} {r if counts[r] == 1 else plural[r]}" for r in ROLES if counts[r])


def _choose(value: Any, default: Any, allowed: Sequence[Any], name: str) -> Any:
    value = default if value is None else value
    if value not in allowed:
        raise ArenaError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def _positive(value: Any, name: str, *, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ArenaError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _menu_roles(speech_menu: bool | Iterable[str], dealt: Sequence[str]) -> frozenset[str]:
    """The roles whose day speeches are menu choices: every role (``True``), none (``False``) or the roles
    listed (a role the game does not deal is refused)."""
    if isinstance(speech_menu, bool):
        return frozenset(dealt) if speech_menu else frozenset()
    if isinstance(speech_menu, str) or not isinstance(speech_menu, Iterable):
        raise ArenaError(f"speech_menu must be True, False or a list of roles, got {speech_menu!r}")
    roles = frozenset(str(r).lower() for r in speech_menu)
    unknown = sorted(roles - set(dealt))
    if unknown:
        raise ArenaError(f"speech_menu lists roles this game does not deal: {unknown} (it deals {sorted(set(dealt))})")
    return roles


def _speech_rule(menu: frozenset[str], roles: frozenset[str]) -> str:
    """How speeches are answered, for the rules: free text, statements from a list, or by role."""
    if not menu:
        return "speeches are free text."
    if menu >= roles:
        return "speeches are one of the statements listed."
    titles = " and the ".join(f"{_ROLE_TITLE[r]}'s" for r in ROLES if r in menu)
    return f"speeches are free text; the {titles} speeches are one of the statements listed."


def _night_rule(seer_result: str, roles: frozenset[str]) -> str:
    """The night's sentence of the rules, naming only the roles the game deals (no Seer or Doctor in every line-up)."""
    seer = f"the Seer inspects one player and learns their {'role' if seer_result == 'role' else 'team'}"
    doctor = "the Doctor protects one player from the attack"
    acts = [
        "the werewolves secretly choose a victim",
        *([seer] if SEER in roles else []),
        *([doctor] if DOCTOR in roles else []),
    ]
    listed = (
        acts[0]
        if len(acts) == 1
        else " and ".join(acts)
        if len(acts) == 2
        else ", ".join(acts[:-1]) + ", and " + acts[-1]
    )
    return f"Each night {listed}. "


@functools.lru_cache(maxsize=64)  # the same text every episode of an env
def _rules_text(
    players: tuple[str, ...],
    seer_result: str,
    day_rule: str,
    role_prediction: bool,
    exile_rule: str,
    tie_rule: str,
    allow_abstain: bool,
    wolf_win: str,
    speech_menu: frozenset[str] = frozenset(),
    roles: frozenset[str] = frozenset(ROLES),
) -> str:
    """The rules every player's header starts with (the env's settings only; ``speech_menu``: the roles whose
    day speeches are menu choices)."""
    wolf_rule = "outnumber" if wolf_win == "strict" else "equal or outnumber"
    exile = "the most votes" if exile_rule == "plurality" else "more than half of the living players' votes"
    ties = {
        "random": "a tie is broken at random",
        "none": "a tie exiles nobody",
        "revote": "a tie leads to one revote",
    }
    lines = [
        "You are playing Werewolf. Players: " + ", ".join(players) + ".",
        _night_rule(seer_result, roles)
        + day_rule
        + (
            " Before each vote every living player privately predicts the others' roles (not shown to anyone)."
            if role_prediction
            else ""
        )
        + f" All vote at once to exile a player: the player with {exile} is exiled; {ties[tie_rule]}."
        + (" You may [abstain]." if allow_abstain else ""),
        f"The village wins when every werewolf is dead; the werewolves win when they {wolf_rule} the others. "
        "Winners get +1, losers -1. Roles are revealed only at the end.",
        "Answer votes and night choices with a bracketed name such as [player_3]; " + _speech_rule(speech_menu, roles),
    ]
    return "\n".join(lines)


class WerewolfEnv(TextGameEnv):
    """Werewolf with a private wolf channel, seer, doctor, discussion rounds and simultaneous votes."""

    metadata = {**TextGameEnv.metadata, "name": "werewolf_v0"}

    def __init__(
        self,
        *,
        roles: Sequence[str] | None = None,
        num_players: int | None = None,
        discussion_rounds: int = 1,
        wolf_chat_rounds: int = 1,
        exile_rule: str = "plurality",
        tie_rule: str = "random",
        wolf_win: str = "strict",
        allow_abstain: bool = True,
        reveal_votes: bool = True,
        seer_result: str = "role",
        speaking: str = "round-robin",
        debate_turns: int = 8,
        role_prediction: bool = False,
        max_rounds: int = 10,
        max_speech_chars: int = 400,
        speech_menu: bool | Sequence[str] = False,
        max_turns: int | None = None,
        invalid_retries: int = 1,
        invalid_rule: str = "default",
        render_mode: str | None = None,
    ) -> None:
        roles = None if roles is None else list_option(roles, "roles")
        if roles is not None and num_players is not None and len(roles) != num_players:
            raise ArenaError(f"num_players={num_players!r} does not match the {len(roles)} roles given")
        if roles is None and num_players is not None:
            if not isinstance(num_players, int) or isinstance(num_players, bool) or not 4 <= num_players <= 16:
                raise ArenaError(f"num_players must be an integer from 4 to 16, got {num_players!r}")
            roles = default_roles(num_players)
        self.role_list = tuple(str(r).lower() for r in (XU7_ROLES if roles is None else roles))
        self._check_roles(self.role_list)
        self.exile_rule = _choose(exile_rule, None, EXILE_RULES, "exile_rule")
        self.tie_rule = _choose(tie_rule, None, TIE_RULES, "tie_rule")
        self.wolf_win = _choose(wolf_win, None, WOLF_WIN_RULES, "wolf_win")
        self.allow_abstain = bool(_choose(allow_abstain, None, (True, False), "allow_abstain"))
        self.reveal_votes = bool(_choose(reveal_votes, None, (True, False), "reveal_votes"))
        self.seer_result = _choose(seer_result, None, ("role", "team"), "seer_result")
        self.speaking = _choose(speaking, None, SPEAKING, "speaking")
        self.debate_turns = _positive(debate_turns, "debate_turns")
        self.role_prediction = bool(_choose(role_prediction, None, (True, False), "role_prediction"))
        self.discussion_rounds = _positive(discussion_rounds, "discussion_rounds")
        self.wolf_chat_rounds = _positive(wolf_chat_rounds, "wolf_chat_rounds", minimum=0)
        self.max_rounds = _positive(max_rounds, "max_rounds")
        self.max_speech_chars = _positive(max_speech_chars, "max_speech_chars", minimum=10)
        self.speech_menu = _menu_roles(speech_menu, self.role_list)
        self._text_specs: dict[str | None, dict[str, Any]] = {}  # answer_spec of free-text turns, by kind
        super().__init__(
            len(self.role_list),
            max_turns=max_turns,
            invalid_retries=invalid_retries,
            invalid_rule=invalid_rule,
            render_mode=render_mode,
        )

    @staticmethod
    def _check_roles(roles: tuple[str, ...]) -> None:
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ArenaError(f"unknown roles {unknown}; roles are {list(ROLES)}")
        if not 3 <= len(roles) <= 16:
            raise ArenaError(f"werewolf needs 3 to 16 players, got {len(roles)} roles")
        wolves = roles.count(WEREWOLF)
        if wolves < 1 or wolves * 2 >= len(roles):
            raise ArenaError(
                f"need at least one werewolf and fewer werewolves than others, got {wolves} of {len(roles)}"
            )
        if roles.count(SEER) > 1 or roles.count(DOCTOR) > 1:
            raise ArenaError("at most one seer and one doctor are supported")

    # -- episode -----------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """``options={"roles": [...]}`` fixes the seating (role of player_0, player_1, ...), for tests."""
        seating = (options or {}).get("roles")
        if seating is not None:
            seating = tuple(str(r).lower() for r in seating)
            if sorted(seating) != sorted(self.role_list):
                raise ArenaError(f"options['roles'] must be a permutation of {list(self.role_list)}")
        self._fixed_seating = seating
        super().reset(seed=seed, options=options)

    def _setup(self) -> None:
        seating = self._fixed_seating or tuple(self.role_list[i] for i in self.rng.permutation(len(self.role_list)))
        self.roles = dict(zip(self.possible_agents, seating, strict=True))
        self.wolves = [a for a in self.possible_agents if self.roles[a] == WEREWOLF]
        self.alive = list(self.possible_agents)
        self.round = 0
        self.queue: list[tuple[str, str]] = []  # (step kind, agent) still to act in this stage
        self._legal_memo: tuple[str, tuple[str, ...] | None] | None = None  # (agent, _legal(agent)) until _apply
        self._prompt_head: tuple[tuple[str, int], str] | None = None  # ((phase, living), the prompt's head)
        self.ballot: SimultaneousPhase | None = None
        self.candidates: tuple[str, ...] = ()  # replaced, never changed in place (turn snapshots hold it)
        self.revoting = False
        self.kill_picks: list[str] = []
        self.protected: str | None = None
        self.inspections: dict[str, str] = {}
        self.inspection_lines: list[str] = []
        self.doctor_lines: list[str] = []
        self.day_votes: dict[str, list[str]] = {a: [] for a in self.possible_agents}
        self.vote_log: list[dict[str, Any]] = []  # every resolved ballot: day, revote, voter -> target
        self.predictions: list[dict[str, Any]] = []  # role predictions: day, player, accuracy, roles
        self.stage = "night"  # night, bids (bid mode), debate (bid mode) or vote
        self.bids: SimultaneousPhase | None = None
        self.debate_left = 0
        self.last_speaker: str | None = None
        self.last_speech = ""
        self.say(
            f"A game of Werewolf begins with {self.num_players} players: {lineup(self.role_list)}. Night falls first."
        )
        self._start_night()

    # -- stages --------------------------------------------------------------------------------------
    def _living(self, role: str | None = None) -> list[str]:
        return [a for a in self.alive if role is None or self.roles[a] == role]

    def _start_night(self) -> None:
        if self.round >= self.max_rounds:
            self._truncate_rounds()
            return
        self.round += 1
        self.phase = f"night {self.round}"
        self.stage = "night"
        self.say(f"Night {self.round} falls. Everyone closes their eyes.")
        wolves = self._living(WEREWOLF)
        chat = [("wolf_chat", w) for _ in range(self.wolf_chat_rounds) for w in wolves] if len(wolves) > 1 else []
        self.queue = chat + [("wolf_kill", w) for w in wolves]
        self.queue += [(kind, a) for kind, role in (("seer", SEER), ("doctor", DOCTOR)) for a in self._living(role)]
        self.kill_picks, self.protected = [], None
        if wolves:
            self.say(f"Night {self.round}: the werewolf channel is open.", to=wolves, kind="wolf")
        self._next()

    def _resolve_night(self) -> None:
        counts = Counter(self.kill_picks)
        top = max(counts.values())
        victim = next(p for p in reversed(self.kill_picks) if counts[p] == top)  # ties: the later pick
        self.phase = f"day {self.round}"
        if victim == self.protected:
            self.say(f"Day {self.round} dawns. Nobody died during the night.")
        else:
            self.say(f"Day {self.round} dawns. {victim} was killed during the night.")
            self._kill(victim, "killed at night")
        if self._check_win():
            return
        if self.speaking == "bid":
            self._start_debate()
            return
        order = self._day_order()
        self.queue = [("speech", a) for _ in range(self.discussion_rounds) for a in order]
        self.queue += self._prediction_steps()
        self.stage = "vote"
        self._open_ballot(list(self.alive), revote=False)
        self.say(f"Discussion: each living player speaks {self.discussion_rounds} time(s), then everyone votes.")
        self._next()

    # -- Werewolf Arena's bidding for the floor (speaking="bid") ------------------------------------
    def _start_debate(self) -> None:
        self.debate_left, self.last_speaker, self.last_speech = self.debate_turns, None, ""
        self.say(
            f"Debate: up to {self.debate_turns} speaking turns. Before each turn every living player except the "
            "last speaker bids 0-4 for the floor in secret; the highest bid speaks. Then everyone votes."
        )
        self._open_bids()

    def _open_bids(self) -> None:
        bidders = [a for a in self.alive if a != self.last_speaker]
        self.stage, self.bids = "bids", SimultaneousPhase(bidders)
        self.queue = [("bid", a) for a in bidders]
        self._next()

    def _resolve_bids(self) -> None:
        """Highest bid speaks; ties at random, a tied bidder named in the last speech drawn twice (Werewolf Arena)."""
        assert self.bids is not None
        bids = {a: int(b) for a, b in self.bids.moves.items()}
        top = max(bids.values())
        tied = [a for a in self.bids.order if bids[a] == top]
        named = set(re.findall(r"player_\d+", self.last_speech))
        draw = tied + [a for a in tied if a in named]
        speaker = draw[int(self.rng.integers(len(draw)))]
        self.bids, self.stage = None, "debate"
        turn = self.debate_turns - self.debate_left + 1
        self.say(f"{speaker} takes the floor (turn {turn} of {self.debate_turns}).")
        self.queue = [("speech", speaker)]
        self._next()

    def _continue_debate(self) -> None:
        self.debate_left -= 1
        if self.debate_left > 0 and len(self.alive) > 2:
            self._open_bids()
            return
        self.stage = "vote"
        self.queue = self._prediction_steps()
        self._open_ballot(list(self.alive), revote=False)
        self.say("The debate is over: everyone votes.")
        self._next()

    # -- LSPO's role prediction before the vote (role_prediction=True) --------------------------------
    def _prediction_steps(self) -> list[tuple[str, str]]:
        return [("predict", a) for a in self.alive] if self.role_prediction else []

    def _read_prediction(self, agent: str, text: str) -> dict[str, str] | str:
        """``"player_2: werewolf, player_5: seer"`` → roles per named player (the others count as villagers)."""
        if _NONE.fullmatch(text.strip()):
            return {}
        pairs = _PREDICTION.findall(text)
        if not pairs:
            return "Predict roles as 'player_k: role' pairs (roles: werewolf, seer, doctor, villager), or [none]."
        out: dict[str, str] = {}
        for seat, role in pairs:
            target = f"player_{int(seat)}" if len(seat) <= 4 else ""
            if target not in self.alive or target == agent:
                return f"{target or seat} is not another living player."
            if target in out:
                return f"{target} is named twice."
            out[target] = role.lower()
        return out

    def _record_prediction(self, agent: str, roles: dict[str, str]) -> None:
        others = [a for a in self.alive if a != agent]
        guess = {a: roles.get(a, VILLAGER) for a in others}
        right = sum(guess[a] == self.roles[a] for a in others)
        accuracy = right / len(others) if others else None
        self.predictions.append({"day": self.round, "player": agent, "roles": guess, "accuracy": accuracy})
        self.tell(agent, "Your role prediction is recorded (nobody else sees it).")

    def _day_order(self) -> list[str]:
        start = self.possible_agents[(self.round - 1) % self.num_players]
        first = start if start in self.alive else self.next_live_agent(start, among=self.possible_agents)
        k = self.alive.index(first)
        return self.alive[k:] + self.alive[:k]

    def _open_ballot(self, candidates: list[str], *, revote: bool) -> None:
        self.candidates, self.revoting = tuple(candidates), revote
        self.ballot = SimultaneousPhase(self.alive)
        self.queue += [("revote" if revote else "vote", a) for a in self.alive]

    def _resolve_vote(self) -> None:
        assert self.ballot is not None
        votes = self.ballot.moves
        ballot = {a: votes[a].strip("[]") for a in self.ballot.order}
        self.vote_log.append({"day": self.round, "revote": self.revoting, "ballot": ballot})
        if self.reveal_votes:
            self.say("Votes: " + ", ".join(f"{a} -> {votes[a].strip('[]')}" for a in self.ballot.order))
        for voter, target in votes.items():
            if target != ABSTAIN:
                self.day_votes[voter].append(target)
        leaders, top = tally(votes, electorate=len(self.alive), rule=self.exile_rule)
        exiled = None
        if len(leaders) == 1:
            exiled = leaders[0]
        elif len(leaders) > 1 and self.tie_rule == "random":
            exiled = pick(self.rng, leaders)
            self.say(f"Tie between {', '.join(leaders)} with {top} vote(s); chosen at random: {exiled}.")
        elif len(leaders) > 1 and self.tie_rule == "revote" and not self.revoting:
            self.say(f"Tie between {', '.join(leaders)} with {top} vote(s). Revote among them.")
            self._open_ballot(leaders, revote=True)
            self._next()
            return
        if exiled is None:
            reason = "A majority was not reached" if self.exile_rule == "majority" and not leaders else "No decision"
            if len(leaders) > 1:
                reason = f"Tie between {', '.join(leaders)} with {top} vote(s)"
            self.say(f"{reason}: nobody is exiled today.")
        else:
            self.say(f"{exiled} is exiled by the vote.")
            self._kill(exiled, "exiled")
        self.ballot = None
        if not self._check_win():
            self._start_night()

    def _kill(self, agent: str, reason: str) -> None:
        self._legal_memo = None  # targets and the queue change (kills also happen within _apply's resolutions)
        self.alive.remove(agent)
        self.queue = [(k, a) for k, a in self.queue if a != agent]
        if self.ballot is not None:
            self.ballot.drop(agent)
        self.eliminate(agent, reason)

    def _next(self) -> None:
        """Hand the turn to the next queued actor, or close the stage whose queue ran out."""
        if self.finished:
            return
        if self.queue:
            self.agent_selection = self.queue[0][1]  # set_turn, whose check a queued player always passes
        elif self.phase.startswith("night"):
            self._resolve_night()
        elif self.stage == "bids":
            self._resolve_bids()
        elif self.stage == "debate":
            self._continue_debate()
        else:
            self._resolve_vote()

    def _check_win(self) -> bool:
        wolves = len(self._living(WEREWOLF))
        others = len(self.alive) - wolves
        if wolves == 0:
            team, why = VILLAGE, "every werewolf is dead"
        elif wolves > others or (self.wolf_win == "parity" and wolves == others):
            team, why = WOLVES, f"the werewolves ({wolves}) {'outnumber' if wolves > others else 'equal'} the others"
        else:
            return False
        self.say("Roles: " + ", ".join(f"{a} was a {_ROLE_TITLE[self.roles[a]]}" for a in self.possible_agents))
        winners = [a for a in self.possible_agents if self.team(a) == team]
        rewards = {a: 1.0 if self.team(a) == team else -1.0 for a in self.possible_agents}
        verb = "wins" if team == VILLAGE else "win"
        self.end_game(f"the {team} {verb}: {why}.", winners=winners, rewards=rewards, info=self._end_info(team))
        return True

    def _truncate_rounds(self) -> None:
        """End the episode as truncated (no winner, nobody paid) after ``max_rounds`` rounds."""
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

    def _end_info(self, team: str | None) -> dict[str, Any]:
        wolves = set(self.wolves)
        accuracy = {
            a: (sum(t in wolves for t in votes) / len(votes) if votes else None) for a, votes in self.day_votes.items()
        }
        return {
            "winning_team": team,
            "roles": dict(self.roles),
            "vote_accuracy": accuracy,
            "inspections": dict(self.inspections),
            "survived": {a: a in self.alive for a in self.possible_agents},
            "rounds": self.round,
            "votes": [dict(v, ballot=dict(v["ballot"])) for v in self.vote_log],
            **self._prediction_info(),
        }

    def _prediction_info(self) -> dict[str, Any]:
        if not self.role_prediction:
            return {}
        scores: dict[str, list[float]] = {a: [] for a in self.possible_agents}
        for p in self.predictions:
            if p["accuracy"] is not None:
                scores[p["player"]].append(p["accuracy"])
        return {
            "role_predictions": [dict(p, roles=dict(p["roles"])) for p in self.predictions],
            "prediction_accuracy": {a: (sum(v) / len(v) if v else None) for a, v in scores.items()},
        }

    # -- moves ---------------------------------------------------------------------------------------
    def team(self, agent: str) -> str:
        return WOLVES if self.roles[agent] == WEREWOLF else VILLAGE

    def role(self, agent: str) -> str:
        return self.roles[agent]

    def legal_actions(self, agent: str) -> list[str] | None:
        legal = self._legal(agent)
        return None if legal is None else list(legal)

    def _legal(self, agent: str) -> tuple[str, ...] | None:
        """``legal_actions(agent)`` as a tuple, remembered until the next move changes the state (a turn
        asks for it up to three times: the prompt, the infos and the rules)."""
        memo = self._legal_memo
        if memo is not None and memo[0] == agent:
            return memo[1]
        legal = self._legal_now(agent)
        self._legal_memo = (agent, legal)
        return legal

    def _legal_now(self, agent: str) -> tuple[str, ...] | None:
        if not self.queue or self.queue[0][1] != agent:
            return None
        kind = self.queue[0][0]
        if kind in ("vote", "revote"):
            targets = tuple(f"[{a}]" for a in self.candidates if a != agent)
            return (*targets, ABSTAIN) if self.allow_abstain or not targets else targets
        if kind == "wolf_kill":
            return tuple(f"[{a}]" for a in self.alive if self.roles[a] != WEREWOLF)
        if kind == "seer":
            others = [a for a in self.alive if a != agent]
            fresh = [a for a in others if a not in self.inspections]
            return tuple(f"[{a}]" for a in (fresh or others))
        if kind == "doctor":
            return tuple(f"[{a}]" for a in self.alive)
        if kind == "bid":
            return _BIDS
        if kind == "speech" and self.roles[agent] in self.speech_menu:
            return menu_statements(a for a in self.alive if a != agent)
        return None  # speeches (without the menu), wolf chat and role predictions are free text

    def _play(self, agent: str, action: str) -> str | None:
        kind = self.queue[0][0]
        legal = self._legal(agent)
        if kind == "bid":
            bid = _BID.fullmatch(action.strip())
            if bid is None:
                return f"Bid a whole number from 0 to {MAX_BID}: {' '.join(legal or [])}"
            self._apply(kind, agent, bid.group(1))
            return None
        if kind == "predict":
            roles = self._read_prediction(agent, action)
            if isinstance(roles, str):
                return roles
            self._record_prediction(agent, roles)
            self._apply(kind, agent, action)
            return None
        if legal is not None:
            if action not in legal:  # an exact legal action is what the readers return first
                # A menu speech is read as any choice; targets also know every seat (a whole reply 3 is player_3).
                match = (
                    match_choice(action, legal)
                    if kind == "speech"
                    else read_choice(action, legal, self.possible_agents)
                )
                if match.action is None:
                    return match.reason
                action = match.action
            action = action if action == ABSTAIN else action.strip("[]")  # a menu statement has no brackets
        self._apply(kind, agent, action)
        return None

    def _apply(self, kind: str, agent: str, action: str) -> None:
        self._legal_memo = None  # every move goes through here: what is legal changes from now on
        self.queue.pop(0)
        if kind == "speech":
            speech = action if self.roles[agent] in self.speech_menu else flatten_speech(action, self.max_speech_chars)
            self.say(speech or "(stays silent)", sender=agent, kind="chat")
            self.last_speaker, self.last_speech = agent, speech
        elif kind == "bid":
            assert self.bids is not None
            self.bids.submit(agent, action)
        elif kind == "predict":
            pass  # recorded by _record_prediction
        elif kind == "wolf_chat":
            text = flatten_speech(action, self.max_speech_chars) or "(stays silent)"
            self.say(f"(werewolves only) {text}", to=self._living(WEREWOLF), sender=agent, kind="wolf")
        elif kind == "wolf_kill":
            self.kill_picks.append(action)
            self.say(f"(werewolves only) {agent} picks {action} as tonight's victim.", to=self._living(WEREWOLF))
        elif kind == "seer":
            found = self.roles[action]
            told = found if self.seer_result == "role" or found == WEREWOLF else NOT_WEREWOLF
            self.inspections[action] = told  # only what the seer learns, for its infos and the scripted seer
            line = f"Night {self.round} inspection result: {action} is {_VERDICT[told]}."
            self.inspection_lines.append(line)
            self.tell(agent, line)
        elif kind == "doctor":
            self.protected = action
            line = f"Night {self.round}: you protect {action}."
            self.doctor_lines.append(line)
            self.tell(agent, line)
        else:  # vote / revote
            assert self.ballot is not None
            self.ballot.submit(agent, action)
            self.tell(agent, f"Your vote ({action.strip('[]')}) is recorded.")
        self._next()

    def _on_invalid_exhausted(self, agent: str, reason: str) -> None:
        """Default move: ``[abstain]`` for a vote where abstaining is allowed, else a uniformly random legal choice."""
        legal = self.legal_actions(agent)
        kind = self.queue[0][0]
        if kind == "predict":
            self.tell(agent, "Too many invalid moves; no role prediction is recorded.", kind="warning")
            self._apply(kind, agent, "")
            return
        if kind == "bid":
            self.tell(agent, "Too many invalid moves; the default bid 0 is played.", kind="warning")
            self._apply(kind, agent, "0")
            return
        if kind == "speech" and legal is not None:
            self.tell(agent, f"Too many invalid moves; the default statement is said: {SPEECH_PASS}", kind="warning")
            self._apply(kind, agent, SPEECH_PASS)
            return
        if legal is None:
            move = ""  # speeches are never invalid; kept total for safety: a silent speech
        elif ABSTAIN in legal:
            move = ABSTAIN
        else:
            move = legal[int(self.rng.integers(len(legal)))]
        self.tell(agent, f"Too many invalid moves; the default move {move or '(silence)'} is played.", kind="warning")
        self._apply(self.queue[0][0], agent, move if move == ABSTAIN else move.strip("[]"))

    # -- views ---------------------------------------------------------------------------------------
    def _identity_line(self, agent: str) -> str:
        return f"You are {agent}, and your role is {_ROLE_TITLE[self.roles[agent]]}."

    def _header(self, agent: str) -> str:
        rules = _rules_text(
            tuple(self.possible_agents), self.seer_result, self._day_rule(), self.role_prediction,
            self.exile_rule, self.tie_rule, self.allow_abstain, self.wolf_win, self.speech_menu,
            frozenset(self.role_list),
        )  # fmt: skip
        lines = [rules, self._identity_line(agent)]
        if self.roles[agent] == WEREWOLF:
            lines.append(self._pack_line())
        return "\n".join(lines)

    def _day_rule(self) -> str:
        if self.speaking == "bid":
            return (
                f"Each day has up to {self.debate_turns} speaking turns: before each, every living player except the "
                f"last speaker bids for the floor in secret, [0] (listen) to [{MAX_BID}] (must respond), and the "
                "highest bid speaks (ties at random)."
            )
        return f"Each day everyone speaks {self.discussion_rounds} time(s)."

    def _pack_line(self) -> str:
        return "The werewolves are " + ", ".join(self.wolves) + ". Only werewolves see the werewolf channel."

    def _prompt(self, agent: str) -> str:
        if not self.queue or self.queue[0][1] != agent:
            return ""
        kind = self.queue[0][0]
        menu = kind == "speech" and self.roles[agent] in self.speech_menu
        ask = _ASKS["speech_menu" if menu else kind]
        if "{legal}" in ask:  # only the asks that list the legal actions compute them (statements split by " | ")
            ask = ask.replace("{legal}", (" | " if menu else " ").join(self._legal(agent) or ()))
        # The head changes with the phase and the deaths only; players only die, so (phase, living count)
        # names it within an episode (_setup clears the memo).
        key = (self.phase, len(self.alive))
        head = self._prompt_head
        if head is None or head[0] != key:
            head = self._prompt_head = (key, f"{self.phase.capitalize()}. Living players: {', '.join(self.alive)}. ")
        return head[1] + ask

    _compose = staticmethod(bounded_observation)  # long games: the oldest history gives way

    def answer_spec(self, agent: str, legal: list[str] | None) -> dict[str, Any]:
        if legal:
            return choice_answer(legal)
        if self.queue and self.queue[0][0] == "predict":
            syntax = "'player_k: role' pairs for the other living players (werewolf, seer, doctor, villager), or [none]"
            others = [a for a in self.alive if a != agent]
            example = f"{others[0]}: werewolf, {others[-1]}: seer" if len(others) > 1 else "[none]"
            return structured_answer(example, syntax, self.max_speech_chars)
        kind = self.queue[0][0] if self.queue else None
        spec = self._text_specs.get(kind)
        if spec is None:  # made once per kind: the example and the limit never change in an env
            example = WOLF_CHAT_EXAMPLE if kind == "wolf_chat" else SPEECH_EXAMPLE
            spec = self._text_specs[kind] = text_answer(example[: self.max_speech_chars], self.max_speech_chars)
        return dict(spec)  # a new dict each turn: an agent may change its own

    _expand_snapshot = staticmethod(_expand_state)  # information_state: _expand_state(_state_snapshot(agent))

    def _state_snapshot(self, agent: str) -> tuple[Any, ...]:
        """What :meth:`information_state` reads, captured on every turn at little cost: scalars, tuple copies
        of the short lists later moves change in place (the queue, the living), values the game replaces
        rather than changes (the candidates), and the append-only logs (``vote_log``, predictions, the
        pack's picks, inspection and protection lines) by reference with their length now. What is derived
        from them (the step, speeches and wolf chat left) is worked out by :func:`_expand_state`."""
        role = self.roles[agent]
        if role == WEREWOLF:
            secret: tuple[Any, ...] = (self.wolves, self.kill_picks, len(self.kill_picks))
        elif role == SEER:
            secret = (self.inspection_lines, len(self.inspection_lines))
        elif role == DOCTOR:
            secret = (self.doctor_lines, len(self.doctor_lines))
        else:
            secret = ()
        bids = self.bids
        return (
            agent,
            role,
            self.phase,
            tuple(self.queue),
            tuple(self.alive),
            tuple(self.eliminated.items()),
            self.vote_log,
            len(self.vote_log),
            self.reveal_votes,
            self.candidates,
            self.stage,
            self.debate_left if self.speaking == "bid" else None,
            None if bids is None else bids.moves.get(agent),
            self.predictions,
            len(self.predictions),
            secret,
        )

    def secrets(self, agent: str) -> list[str]:
        if self.finished:
            return []
        if self.roles[agent] == SEER:
            return [self._identity_line(agent), *self.inspection_lines]
        if self.roles[agent] == DOCTOR:
            return [self._identity_line(agent), *self.doctor_lines]
        if self.roles[agent] == WEREWOLF:
            return [self._identity_line(agent), self._pack_line()]
        return [self._identity_line(agent)]

    def _extra_info(self, agent: str) -> dict[str, Any]:
        info: dict[str, Any] = {"phase": self.phase, "round": self.round, "alive": list(self.alive)}
        if self.roles[agent] == WEREWOLF:
            info["werewolves"] = list(self.wolves)
        elif self.roles[agent] == SEER:
            info["inspections"] = dict(self.inspections)
        return info

    def spectator_text(self) -> str:
        roles = ", ".join(f"{a}: {self.roles[a]}{'' if a in self.alive else ' (dead)'}" for a in self.possible_agents)
        return f"{self.phase or 'setup'}; {roles}"
