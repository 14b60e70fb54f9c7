"""A scripted Werewolf player that reads only its own observation text and infos.

Public speech follows a small convention that scripted players understand (an LLM can read it too):
``"I suspect player_3."`` is an accusation, ``"I am the Seer. My findings: player_3 is a Werewolf,
player_5 is a Villager."`` is a Seer claim (``"is a good player"`` where the seer learns only the team).

* **Village** weighs Seer claims instead of trusting the first one. A claim is *refuted* for a player
  when it contradicts what that player knows for certain: it calls the player itself (or a night
  victim, or a player the doctor saved from an attack — wolves never attack wolves) a Werewolf, or it
  calls a player the real Seer found to be a wolf good; a second claimant is refuted for the real Seer.
  A claimant killed at night is proven good, so its claim stands and every counter-claimant is a liar.
  One unrefuted claimant is trusted; of several, the only one that named this player's own role
  rightly is believed; otherwise they contest each other, and the village votes out one of
  them, chosen by a rule every scripted villager computes alike (a hash of the day and the claimants),
  so the votes do not split. Refuted claimants are the first suspects.
* **Seer**: inspects a rival claimant first, else players it has not inspected; reveals its findings
  once it found a living wolf, when someone else claims Seer, or from day ``reveal_day`` on.
* **Doctor** protects the trusted Seer, else itself.
* **Werewolves** coordinate on their channel: the first wolf to speak proposes the victim and, on the
  first night, with probability ``fake_claim`` announces that it will falsely claim Seer the next day.
  The fake claimant names the real Seer (once it has claimed) or a random villager as a Werewolf and
  keeps its story over the days; its partner backs it. By day every wolf pushes the same scapegoat.
* **Bids** (``speaking="bid"``): 4 when named in the last speech, 3 with a claim or finding to
  reveal, 2 with a suspect, else 0.
* **Role prediction** (``role_prediction=True``): what the player believes (its pack, its findings,
  the trusted claim, its suspects as wolves); everyone else a villager.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from arena.agents.base import BaseAgent, Info, Observation
from arena.envs.werewolf import NOT_WEREWOLF, SPEECH_PASS, claim_statement, suspect_statement

_ME = re.compile(r"You are (player_\d+), and your role is (\w+)")
_SPEECH = re.compile(r"^\[(player_\d+)\] (.*)$")
_ACCUSE = re.compile(r"I suspect (player_\d+)")
_CLAIM = re.compile(r"I am the Seer\. My findings: (.*)")
_FINDING = re.compile(r"(player_\d+) is an? (Werewolf|Villager|Seer|Doctor|good player)")
_PROPOSE = re.compile(r"\(werewolves only\) Let's eliminate (player_\d+)")
_WILL_CLAIM = "I will claim Seer tomorrow."
_DAWN = re.compile(r"^\[game\] Day \d+ dawns")
_KILLED = re.compile(r"^\[game\] Day \d+ dawns\. (player_\d+) was killed")
_PICK = re.compile(r"^\[game\] \(werewolves only\) player_\d+ picks (player_\d+)")
_DUSK = re.compile(r"^\[game\] Night \d+ falls")
_SAVED = re.compile(r"^\[game\] Night \d+: you protect (player_\d+)")
_FLOOR = re.compile(r"^\[game\] (player_\d+) takes the floor")

GOOD = "good player"


@dataclass
class Table:
    """What a player gathers from the public record (and the wolf channel, for wolves)."""

    me: str = ""
    my_role: str = ""
    claims: dict[str, dict[str, str]] = field(default_factory=dict)  # claimant -> {target: role}, in claim order
    claim_day: dict[str, int] = field(default_factory=dict)
    accusations_today: list[tuple[str, str]] = field(default_factory=list)  # (speaker, target)
    accusations: list[tuple[str, str]] = field(default_factory=list)  # the whole game's
    accused_wolf: list[str] = field(default_factory=list)  # speakers who ever accused a werewolf (wolves only)
    proposal_tonight: str | None = None
    fake_claimant: str | None = None  # the pack member who announced a fake Seer claim (wolves only)
    saved: set[str] = field(default_factory=set)  # wolves' victims that survived the night (wolves only)
    protected_alive: set[str] = field(default_factory=set)  # doctor: players it protected on a night nobody died
    night_victims: list[str] = field(default_factory=list)
    last_speech: tuple[str, str] | None = None  # (speaker, text) of the latest public speech
    spoke_today: bool = False
    day: int = 0


def read_table(text: str, wolves: set[str]) -> Table:
    """Parse the observation text once into a :class:`Table`."""
    table = Table()
    me = _ME.search(text)
    if me:
        table.me, table.my_role = me.group(1), me.group(2).lower()
    pick = protect = None
    for line in text.splitlines():
        picked = _PICK.match(line)
        if picked:
            pick = picked.group(1)
        saved = _SAVED.match(line)
        if saved:
            protect = saved.group(1)
        if _DAWN.match(line):
            table.day += 1
            table.accusations_today, table.spoke_today = [], False
            if "Nobody died" in line:
                if pick is not None:
                    table.saved.add(pick)
                if protect is not None:
                    table.protected_alive.add(protect)
            killed = _KILLED.match(line)
            if killed:
                table.night_victims.append(killed.group(1))
            pick = protect = None
        elif _DUSK.match(line):
            table.proposal_tonight = None
        speech = _SPEECH.match(line)
        if speech is None:
            continue
        speaker, said = speech.groups()
        if said.startswith("(werewolves only)"):
            proposal = _PROPOSE.search(said)
            if proposal and table.proposal_tonight is None:
                table.proposal_tonight = proposal.group(1)
            if _WILL_CLAIM in said and table.fake_claimant is None:
                table.fake_claimant = speaker
            continue
        table.last_speech = (speaker, said)
        if speaker == table.me:
            table.spoke_today = True
        claim = _CLAIM.search(said)
        if claim:
            table.claim_day.setdefault(speaker, table.day)
            found = {t: r.lower() for t, r in _FINDING.findall(claim.group(1))}
            table.claims.setdefault(speaker, {}).update(found)
        for target in _ACCUSE.findall(said):
            table.accusations_today.append((speaker, target))
            table.accusations.append((speaker, target))
            if target in wolves and speaker not in wolves:
                table.accused_wolf.append(speaker)
    return table


def menu_statement(speech: str, menu: list[str]) -> str:
    """The menu statement (``speech_menu=True``) that keeps the most of a free scripted speech: a Seer claim
    keeps one finding about a living player (the last Werewolf named, else the last finding), an accusation
    its target. Claims made over several days still add up: scripted listeners merge a claimant's findings."""
    claim = _CLAIM.search(speech)
    if claim:
        found = _FINDING.findall(claim.group(1))[::-1]
        verdicts = [(t, True) for t, r in found if r == "Werewolf"] + [(t, False) for t, r in found if r != "Werewolf"]
        for target, werewolf in verdicts:  # the menu lists living players only
            statement = claim_statement(target, werewolf)
            if statement in menu:
                return statement
    for target in reversed(_ACCUSE.findall(speech)):
        statement = suspect_statement(target)
        if statement in menu:
            return statement
    return SPEECH_PASS


def _says_wolf(role: str) -> bool:
    return role == "werewolf"


def _finding_text(target: str, role: str) -> str:
    title = {"werewolf": "Werewolf", "seer": "Seer", "doctor": "Doctor", "villager": "Villager"}
    return f"{target} is a {title.get(role, GOOD)}"


def _seer_knowledge(info: Info) -> dict[str, str]:
    """The seer's own inspections from its infos (what the game told it): an exact role, or with
    ``seer_result="team"`` ``werewolf`` / ``not werewolf``, kept as ``good player``."""
    return {t: GOOD if str(r) == NOT_WEREWOLF else str(r) for t, r in dict(info.get("inspections", {})).items()}


class WerewolfScripted(BaseAgent):
    """Heuristic Werewolf player for every role (see the module docstring)."""

    name = "scripted"
    #: The Seer reveals its findings at the latest on this day, even without having found a werewolf.
    reveal_day = 1
    #: Probability that a wolf pack falsely claims Seer (decided on the first night).
    fake_claim = 0.5

    def __init__(self, seed: int | None = None, *, fake_claim: float | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        if fake_claim is not None:
            self.fake_claim = float(fake_claim)

    def act(self, observation: Observation, info: Info) -> str:
        role = info.get("role", "villager")
        alive = list(info.get("alive", []))
        wolves = set(info.get("werewolves", []))
        text = observation.get("text", "")
        table = read_table(text, wolves)
        legal = info.get("legal_actions")
        phase = str(info.get("phase", ""))
        if "Predict the role of every other living player" in text.rsplit("\n", 1)[-1]:
            return self._prediction(role, table, alive, wolves, info)
        if legal is None:  # free text: day speech or the wolf channel
            if phase.startswith("night"):
                return self._wolf_chat(table, alive, wolves)
            return self._speech(role, table, alive, wolves, info)
        if legal and legal[0] == SPEECH_PASS:  # a menu speech (speech_menu=True): the statement nearest to the free one
            return menu_statement(self._speech(role, table, alive, wolves, info), legal)
        if legal and legal[0] == "[0]":
            return f"[{self._bid(role, table, alive, wolves, info)}]"
        targets = [a.strip("[]") for a in legal if a != "[abstain]"]
        if role == "werewolf":
            pick = self._wolf_target(table, targets, alive, wolves, phase)
        elif role == "seer" and phase.startswith("night"):
            rivals = [c for c in table.claims if c != table.me and c in targets]
            pick = self._pick(rivals) or self._pick(targets)
        elif role == "doctor" and phase.startswith("night"):
            seer = self._trusted_seer(table, alive, info)
            pick = seer if seer in targets else (table.me if table.me in targets else self._pick(targets))
        else:
            pick = self._village_vote(table, targets, alive, info)
        if pick is None:
            return "[abstain]" if "[abstain]" in legal else legal[int(self.rng.integers(len(legal)))]
        return f"[{pick}]"

    # -- weighing claims (village) ---------------------------------------------------------------------
    @staticmethod
    def _refuted(table: Table, info: Info) -> set[str]:
        """Claimants whose findings contradict what this player knows for certain."""
        mine = _seer_knowledge(info)
        liars = set()
        for claimant, found in table.claims.items():
            if claimant == table.me:
                continue
            if table.my_role == "seer":
                liars.add(claimant)  # there is only one Seer
                continue
            for target, said in found.items():
                about_me = target == table.me and (_says_wolf(said) or said not in (GOOD, table.my_role))
                wolf_proven_good = _says_wolf(said) and (
                    target in table.night_victims or target in table.protected_alive
                )
                against_my_finding = target in mine and _says_wolf(mine[target]) != _says_wolf(said)
                if about_me or wolf_proven_good or against_my_finding:
                    liars.add(claimant)
        return liars

    def _claim_state(self, table: Table, info: Info) -> tuple[str | None, list[str], set[str]]:
        """``(trusted claimant, contested claimants, refuted claimants)`` as this player sees them."""
        liars = self._refuted(table, info)
        if table.my_role == "seer" and table.me in table.claims:
            return table.me, [], liars
        proven = [c for c in table.claims if c in table.night_victims and c not in liars]
        if proven:  # wolves never kill wolves: a claimant killed at night was honest
            return proven[0], [], liars | {c for c in table.claims if c != proven[0]}
        open_claims = [c for c in table.claims if c not in liars and c != table.me]
        if len(open_claims) == 1:
            return open_claims[0], [], liars
        confirmed = [c for c in open_claims if table.claims[c].get(table.me) in (GOOD, table.my_role)]
        if len(confirmed) == 1:  # only one claimant got my own role right: I believe that one
            return confirmed[0], [], liars | {c for c in open_claims if c != confirmed[0]}
        return None, open_claims, liars

    def _known(self, table: Table, info: Info) -> dict[str, str]:
        """Roles this player believes: its own inspections, else the trusted claim."""
        if table.my_role == "seer":
            return _seer_knowledge(info)
        trusted, _, _ = self._claim_state(table, info)
        if trusted is None:
            return {}
        return {trusted: "seer", **table.claims[trusted]}

    def _trusted_seer(self, table: Table, alive: list[str], info: Info) -> str | None:
        trusted, _, _ = self._claim_state(table, info)
        return trusted if trusted in alive else None

    def _contested_pick(self, table: Table, contested: list[str]) -> str:
        """The contested claimant every scripted villager votes against today (same hash for everyone)."""
        key = f"{table.day}:" + ",".join(sorted(contested))
        digest = int(hashlib.sha256(key.encode()).hexdigest(), 16)
        return sorted(contested)[digest % len(contested)]

    def _suspect(self, table: Table, candidates: list[str], info: Info) -> str | None:
        """A refuted claimant; else a known werewolf; else the contested claimant picked for today; else
        whoever accused a player known to be good; else the player most accused today."""
        _, contested, liars = self._claim_state(table, info)
        refuted = [c for c in table.claims if c in liars and c in candidates]
        if refuted:
            return refuted[0]
        known = self._known(table, info)
        wolves = [c for c in candidates if _says_wolf(known.get(c, ""))]
        if wolves:
            return wolves[0]
        live_contest = [c for c in contested if c in candidates or c == table.me]
        if len(live_contest) > 1:
            pick = self._contested_pick(table, live_contest)
            if pick in candidates:
                return pick
        good = {p for p, r in known.items() if not _says_wolf(r)} | set(table.night_victims)
        liars_by_talk = Counter(s for s, t in table.accusations if t in good and s in candidates and s not in good)
        today = Counter(t for _, t in table.accusations_today if t in candidates and t not in good)
        counts = liars_by_talk or today
        if not counts:
            return None
        top = max(counts.values())
        return self._pick(sorted(t for t, n in counts.items() if n == top))

    def _village_vote(self, table: Table, targets: list[str], alive: list[str], info: Info) -> str | None:
        suspect = self._suspect(table, targets, info)
        if suspect is not None:
            return suspect
        known = self._known(table, info)
        unknown = [t for t in targets if t not in known and t not in table.claims]
        return self._pick(unknown) if unknown else None

    def _speech(self, role: str, table: Table, alive: list[str], wolves: set[str], info: Info) -> str:
        if role == "werewolf":
            return self._wolf_speech(table, alive, wolves)
        others = [a for a in alive if a != table.me]
        if role == "seer":
            found = _seer_knowledge(info)
            live_wolf = any(_says_wolf(r) and t in alive for t, r in found.items())
            rival = any(c != table.me for c in table.claims)
            if found and (live_wolf or rival or table.day >= self.reveal_day):
                findings = ", ".join(_finding_text(t, r) for t, r in found.items())
                suspect = self._suspect(table, others, info)
                tail = f" I suspect {suspect}." if suspect else ""
                return f"I am the Seer. My findings: {findings}.{tail}"
        suspect = self._suspect(table, others, info)
        if suspect is None:
            return "I have no information yet. Let us listen carefully."
        return f"I suspect {suspect}."

    # -- werewolves --------------------------------------------------------------------------------------
    def _scapegoat(self, table: Table, alive: list[str], wolves: set[str]) -> str | None:
        """The one villager the whole pack pushes today (every wolf computes the same one)."""
        villagers = [a for a in alive if a not in wolves]
        if not villagers:
            return None
        fake = table.claims.get(table.fake_claimant or "", {})
        named = [t for t, r in fake.items() if _says_wolf(r) and t in villagers]
        if named:
            return named[-1]
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

    def _fake_findings(self, table: Table, alive: list[str], wolves: set[str]) -> dict[str, str]:
        """The fake Seer's story: earlier claims kept, the real claimant (else a random villager) a Werewolf."""
        story = dict(table.claims.get(table.me, {}))
        villagers = [a for a in alive if a not in wolves]
        rivals = [c for c in table.claims if c != table.me and c in villagers]
        if rivals and rivals[0] not in story:
            story[rivals[0]] = "werewolf"
        if not any(_says_wolf(r) and t in alive for t, r in story.items()):
            fresh = [v for v in villagers if v not in story]
            target = self._pick(fresh)
            if target is not None:
                story[target] = "werewolf"
        return story

    def _wolf_speech(self, table: Table, alive: list[str], wolves: set[str]) -> str:
        if table.fake_claimant == table.me:
            story = self._fake_findings(table, alive, wolves)
            if story:
                findings = ", ".join(_finding_text(t, r) for t, r in story.items())
                target = next((t for t, r in reversed(list(story.items())) if _says_wolf(r) and t in alive), None)
                tail = f" I suspect {target}." if target else ""
                return f"I am the Seer. My findings: {findings}.{tail}"
        target = self._scapegoat(table, alive, wolves)
        if target is None:
            return "I am just a villager. Let us not rush."
        if target in table.claims:
            return f"{target} is lying and is not the Seer. I suspect {target}."
        return f"I suspect {target}."

    def _victim(self, table: Table, alive: list[str], wolves: set[str]) -> str | None:
        """Tonight's victim: the day's scapegoat unless the doctor already saved it once, else anyone. A pack
        running a fake claim spares the real claimant (killing it would prove it honest)."""
        target = self._scapegoat(table, alive, wolves)
        spare = set(table.claims) if table.fake_claimant else set()
        if target is not None and target not in table.saved and target not in spare:
            return target
        villagers = [a for a in alive if a not in wolves]
        return self._pick([a for a in villagers if a not in table.saved and a not in spare] or villagers)

    def _wolf_chat(self, table: Table, alive: list[str], wolves: set[str]) -> str:
        if table.proposal_tonight is not None:
            return f"Agreed: {table.proposal_tonight}."
        message = f"Let's eliminate {self._victim(table, alive, wolves)}."
        if table.day == 0 and table.fake_claimant is None and self.rng.random() < self.fake_claim:
            message += " " + _WILL_CLAIM
        return message

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

    # -- bids and role predictions ----------------------------------------------------------------------
    def _bid(self, role: str, table: Table, alive: list[str], wolves: set[str], info: Info) -> int:
        if table.last_speech is not None and table.me in table.last_speech[1] and not table.spoke_today:
            return 4
        if not table.spoke_today:
            if role == "seer" and _seer_knowledge(info) and (table.day >= self.reveal_day or table.claims):
                return 3
            if role == "werewolf" and table.fake_claimant == table.me:
                return 3
            others = [a for a in alive if a != table.me]
            if role == "werewolf" or self._suspect(table, others, info) is not None:
                return 2
        return 0

    def _prediction(self, role: str, table: Table, alive: list[str], wolves: set[str], info: Info) -> str:
        others = [a for a in alive if a != table.me]
        guess: dict[str, str] = {}
        if role == "werewolf":
            guess = {w: "werewolf" for w in wolves if w in others}
            real = [c for c in table.claims if c not in wolves and c in others]
            if real:
                guess[real[0]] = "seer"
        else:
            for target, said in self._known(table, info).items():
                if target in others:
                    guess[target] = "werewolf" if _says_wolf(said) else said if said != GOOD else "villager"
            trusted, _, _ = self._claim_state(table, info)
            if trusted in others:
                guess[trusted] = "seer"
            suspect = self._suspect(table, others, info)
            if suspect is not None and suspect not in guess:
                guess[suspect] = "werewolf"
        named = {t: r for t, r in guess.items() if r != "villager"}
        return ", ".join(f"{t}: {r}" for t, r in sorted(named.items())) or "[none]"

    # -- helpers -------------------------------------------------------------------------------------
    def _pick(self, options: list[str]) -> str | None:
        return options[int(self.rng.integers(len(options)))] if options else None
