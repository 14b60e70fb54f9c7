"""A scripted Werewolf player that reads only its own observation text and infos.

Public speech follows a small convention that scripted players understand (an LLM can read it too):
``"I suspect player_3."`` is an accusation, ``"I am the Seer. My findings: player_3 is a Werewolf,
player_5 is a Villager."`` is a Seer claim.

* Village (villagers, doctor): trust the first Seer claim of the game; vote and speak against a
  werewolf it named, else against whoever accused a player the Seer cleared, else against the player
  most accused today; never accuse without a reason.
  The doctor protects the claimed Seer once there is one, itself before that.
* Seer: inspects players it has not inspected yet; reveals all its findings as soon as it has found a
  living werewolf, or from day ``reveal_day`` on, and then votes for the werewolves it found.
* Werewolves: coordinate without talking much. The first wolf to speak at night proposes a victim
  (the claimed Seer first, then whoever accused a wolf, else a random villager; never again one the
  doctor saved) and the pack follows it. By day every wolf pushes the same scapegoat (the claimed Seer, called a liar, or the player who
  accused a wolf, or the most-accused villager) and votes for it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from arena.agents.base import BaseAgent, Info, Observation
from arena.envs.werewolf import NOT_WEREWOLF

_ME = re.compile(r"You are (player_\d+), and your role is")
_SPEECH = re.compile(r"^\[(player_\d+)\] (.*)$")
_ACCUSE = re.compile(r"I suspect (player_\d+)")
_CLAIM = re.compile(r"I am the Seer\. My findings: (.*)")
_FINDING = re.compile(r"(player_\d+) is an? (Werewolf|Villager|Seer|Doctor|good player)")
_PROPOSE = re.compile(r"\(werewolves only\) Let's eliminate (player_\d+)")
_DAWN = re.compile(r"^\[game\] Day \d+ dawns")
_PICK = re.compile(r"^\[game\] \(werewolves only\) player_\d+ picks (player_\d+)")
_DUSK = re.compile(r"^\[game\] Night \d+ falls")


def _finding(target: str, told: str) -> str:
    """One inspection result as the Seer claims it (``seer_result="team"`` tells only "not werewolf")."""
    return f"{target} is a good player" if told == NOT_WEREWOLF else f"{target} is a {told.capitalize()}"


@dataclass
class Table:
    """What a player gathers from the public record (and the wolf channel, for wolves)."""

    me: str = ""
    claims: dict[str, dict[str, str]] = field(default_factory=dict)  # claimant -> {target: role}, first claim first
    accusations_today: list[tuple[str, str]] = field(default_factory=list)  # (speaker, target)
    accusations: list[tuple[str, str]] = field(default_factory=list)  # the whole game's
    accused_wolf: list[str] = field(default_factory=list)  # speakers who ever accused a werewolf (wolves only)
    proposal_tonight: str | None = None
    saved: set[str] = field(default_factory=set)  # wolves' victims that survived the night (protected)


def read_table(text: str, wolves: set[str]) -> Table:
    """Parse the observation text once into a :class:`Table`."""
    table = Table()
    me = _ME.search(text)
    table.me = me.group(1) if me else ""
    pick = None
    for line in text.splitlines():
        picked = _PICK.match(line)
        if picked:
            pick = picked.group(1)
        if _DAWN.match(line):
            table.accusations_today = []
            if pick is not None and "Nobody died" in line:
                table.saved.add(pick)
        elif _DUSK.match(line):
            table.proposal_tonight = None
        speech = _SPEECH.match(line)
        if speech is None:
            continue
        speaker, said = speech.groups()
        proposal = _PROPOSE.search(said)
        if proposal and table.proposal_tonight is None:
            table.proposal_tonight = proposal.group(1)
            continue
        claim = _CLAIM.search(said)
        if claim and speaker not in table.claims:
            table.claims[speaker] = {t: r.lower() for t, r in _FINDING.findall(claim.group(1))}
        for target in _ACCUSE.findall(said):
            table.accusations_today.append((speaker, target))
            table.accusations.append((speaker, target))
            if target in wolves and speaker not in wolves:
                table.accused_wolf.append(speaker)
    return table


class WerewolfScripted(BaseAgent):
    """Heuristic Werewolf player for every role (see the module docstring)."""

    name = "scripted"
    #: The Seer reveals its findings at the latest on this day, even without having found a werewolf.
    reveal_day = 2

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Observation, info: Info) -> str:
        role = info.get("role", "villager")
        alive = list(info.get("alive", []))
        wolves = set(info.get("werewolves", []))
        table = read_table(observation.get("text", ""), wolves)
        legal = info.get("legal_actions")
        phase = str(info.get("phase", ""))
        if legal is None:  # free text: day speech or the wolf channel
            if phase.startswith("night"):
                return self._wolf_chat(table, alive, wolves)
            return self._speech(role, table, alive, wolves, info)
        targets = [a.strip("[]") for a in legal if a != "[abstain]"]
        if role == "werewolf":
            pick = self._wolf_target(table, targets, alive, wolves, phase)
        elif role == "seer" and phase.startswith("night"):
            pick = self._pick(targets)
        elif role == "doctor" and phase.startswith("night"):
            seer = self._trusted_seer(table, alive)
            pick = seer if seer in targets else (table.me if table.me in targets else self._pick(targets))
        else:
            pick = self._village_vote(role, table, targets, alive, info)
        if pick is None:
            return "[abstain]" if "[abstain]" in legal else legal[int(self.rng.integers(len(legal)))]
        return f"[{pick}]"

    # -- village -----------------------------------------------------------------------------------
    @staticmethod
    def _trusted_seer(table: Table, alive: list[str]) -> str | None:
        """The first Seer claimant, if still alive (later counter-claims are ignored)."""
        first = next(iter(table.claims), None)
        return first if first in alive else None

    @staticmethod
    def _known(table: Table, info: Info) -> dict[str, str]:
        """Roles this player believes: its own inspections (what the game told it), else the first Seer claim."""
        if "inspections" in info:
            return dict(info["inspections"])
        first = next(iter(table.claims), None)
        if first is None:
            return {}
        return {first: "seer", **table.claims[first]}

    def _suspect(self, role: str, table: Table, candidates: list[str], info: Info) -> str | None:
        """A known werewolf; else whoever accused a player known to be good (wolves defend each other
        by attacking the Seer); else the player most accused today."""
        known = self._known(table, info)
        wolves = [c for c in candidates if known.get(c) == "werewolf"]
        if wolves:
            return wolves[0]
        good = {p for p, r in known.items() if r != "werewolf"}
        liars = Counter(s for s, t in table.accusations if t in good and s in candidates and s not in good)
        today = Counter(t for _, t in table.accusations_today if t in candidates and t not in good)
        counts = liars or today
        if not counts:
            return None
        top = max(counts.values())
        return self._pick(sorted(t for t, n in counts.items() if n == top))

    def _village_vote(self, role: str, table: Table, targets: list[str], alive: list[str], info: Info) -> str | None:
        suspect = self._suspect(role, table, targets, info)
        if suspect is not None:
            return suspect
        known = self._known(table, info)
        unknown = [t for t in targets if t not in known]
        return self._pick(unknown) if unknown else None

    def _speech(self, role: str, table: Table, alive: list[str], wolves: set[str], info: Info) -> str:
        if role == "werewolf":
            return self._wolf_speech(table, alive, wolves)
        others = [a for a in alive if a != table.me]
        if role == "seer":
            found = info.get("inspections", {})
            live_wolf = any(r == "werewolf" and t in alive for t, r in found.items())
            if found and (live_wolf or int(info.get("round", 0)) >= self.reveal_day):
                findings = ", ".join(_finding(t, r) for t, r in found.items())
                suspect = self._suspect(role, table, others, info)
                tail = f" I suspect {suspect}." if suspect else ""
                return f"I am the Seer. My findings: {findings}.{tail}"
        suspect = self._suspect(role, table, others, info)
        if suspect is None:
            return "I have no information yet. Let us listen carefully."
        return f"I suspect {suspect}."

    # -- werewolves ---------------------------------------------------------------------------------
    def _scapegoat(self, table: Table, alive: list[str], wolves: set[str]) -> str | None:
        """The one villager the whole pack pushes today (every wolf computes the same one)."""
        villagers = [a for a in alive if a not in wolves]
        if not villagers:
            return None
        claimants = [c for c in table.claims if c in villagers]
        if claimants:
            return claimants[0]
        accusers = [a for a in table.accused_wolf if a in villagers]
        if accusers:
            return accusers[-1]
        counts = Counter(t for _, t in table.accusations_today if t in villagers)
        if counts:
            return max(sorted(counts), key=counts.__getitem__)
        return None

    def _wolf_speech(self, table: Table, alive: list[str], wolves: set[str]) -> str:
        target = self._scapegoat(table, alive, wolves)
        if target is None:
            return "I am just a villager. Let us not rush."
        if target in table.claims:
            return f"{target} is lying and is not the Seer. I suspect {target}."
        return f"I suspect {target}."

    def _victim(self, table: Table, alive: list[str], wolves: set[str]) -> str | None:
        """Tonight's victim: the day's scapegoat unless the doctor already saved it once, else anyone."""
        target = self._scapegoat(table, alive, wolves)
        if target is not None and target not in table.saved:
            return target
        villagers = [a for a in alive if a not in wolves]
        return self._pick([a for a in villagers if a not in table.saved] or villagers)

    def _wolf_chat(self, table: Table, alive: list[str], wolves: set[str]) -> str:
        if table.proposal_tonight is not None:
            return f"Agreed: {table.proposal_tonight}."
        return f"Let's eliminate {self._victim(table, alive, wolves)}."

    def _wolf_target(
        self, table: Table, targets: list[str], alive: list[str], wolves: set[str], phase: str
    ) -> str | None:
        if phase.startswith("night"):
            if table.proposal_tonight in targets:
                return table.proposal_tonight
            victim = self._victim(table, alive, wolves)
            return victim if victim in targets else self._pick(targets)
        target = self._scapegoat(table, alive, wolves)
        return target if target in targets else self._pick([t for t in targets if t not in wolves])

    # -- helpers -------------------------------------------------------------------------------------
    def _pick(self, options: list[str]) -> str | None:
        return options[int(self.rng.integers(len(options)))] if options else None
