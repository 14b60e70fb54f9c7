"""Household (``household-v0``): an ALFWorld-like text world generated from a seed.

| | |
|---|---|
| Players | 1 (default), or 2 cooperating (``num_agents=2``): same house, same goal, turns alternate |
| Task | one of ALFWorld's six types (Pick, Look, Clean, Heat, Cool, Pick2), stated as "Your task is to: ..." |
| Actions | ``go to X``, ``open X``, ``close X``, ``take X from Y``, ``move X to Y``, ``clean/heat/cool X with Y``, ``use X``, ``examine X``, ``inventory``, ``look``; in two-agent mode also ``say <message>`` |
| Legal actions | ``infos[agent]["legal_actions"]``: the admissible commands, sorted (ALFWorld's ``admissible_commands``); ``infos[agent]["answer"]`` is a ``choice`` (in two-agent mode its ``syntax`` adds ``say <message>``) whose ``labels`` number the commands ``[1]`` … ``[n]`` as the prompt lists them (``numbered=False``: ALFWorld's plain comma-separated list, no labels) |
| Accepted forms | read by :func:`arena.core.parsing.match_choice`: the command in any case and spacing, with markdown or punctuation around it, or inside a sentence (``I will go to fridge 1.``); a reply naming two commands is ambiguous and invalid. With numbering (the default) also a command's label as the whole reply: ``[3]`` or ``3`` |
| Invalid move | ALFWorld's rule: a reply that names no admissible command answers "Nothing happens.", changes nothing and uses the step; it never forfeits. It is flagged ``infos[agent]["invalid_move"]`` (the reason) and ``infos[agent]["admissible"]`` is False; counted in ``invalid_counts``. ``invalid_rule="spiral"``: −1.5 to the offender, +0.5 to the partner, and the episode ends |
| Reward | 1 to every agent the step the goal holds (the episode terminates); 0 otherwise |
| Truncation | after ``max_steps`` steps (default 50) per agent |
| Splits | ``split="train"`` / ``"valid_seen"`` (new goals in training houses) / ``"valid_unseen"`` (held-out house layouts) |
| Recap | ``recap=True`` (off by default; ALFWorld has none) adds a line above each turn's command list: every receptacle the agent's own commands showed, with its contents as last seen (or ``closed``), then the receptacles it has not visited. It is the player's own knowledge, the map a scripted expert keeps, for a model whose prompt shows only the last few steps |

``infos[agent]["state_key"]`` digests what that agent knows, for GiGPO step grouping: the house and
goal, its own location and held object, and what its own commands revealed (each receptacle's open
state and contents as it last saw them, the states of objects it examined or changed); neither the
step count nor the partner's messages. In two-agent mode it therefore changes only when the agent's
own commands reveal something, never because the partner acted unseen.
``infos[agent]["feedback"]`` is the last feedback text that agent received (verl-agent's text anchor).
The simulator reads the world through :attr:`HouseholdEnv.world` (documented for oracle tools only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arena.core.answers import choice_answer, labelled_actions, numbered_labels
from arena.core.env import TextGameEnv
from arena.core.errors import ArenaError
from arena.core.options import flag_option, list_option
from arena.core.parsing import match_choice
from arena.envs.household.catalog import name_key
from arena.envs.household.generate import Task, draw_task, populate
from arena.envs.household.scenes import SPLITS
from arena.envs.household.tasks import SHORT_NAMES, TASK_TYPES
from arena.envs.household.world import NOTHING, World

WELCOME = "-= Welcome to TextWorld, ALFRED! =-"
COMMANDS = (
    "Commands: go to X, open X, close X, take X from Y, move X to Y, clean X with Y, heat X with Y, "
    "cool X with Y, use X, examine X, inventory, look. Only the admissible commands listed each turn do "
    'something; anything else answers "Nothing happens." and still uses a step.'
)
MAX_MESSAGE_CHARS = 300


def _normalise(action: str) -> str:
    return " ".join(action.split()).lower()


class HouseholdEnv(TextGameEnv):
    """ALFWorld-like household tasks; one agent, or two cooperating agents taking turns."""

    metadata = {**TextGameEnv.metadata, "name": "household_v0"}

    def __init__(
        self,
        *,
        num_agents: int = 1,
        num_players: int | None = None,
        split: str = "train",
        max_steps: int = 50,
        task_types: Sequence[str] | None = None,
        invalid_rule: str = "default",
        numbered: bool = True,
        recap: bool = False,
        render_mode: str | None = None,
    ) -> None:
        agents = num_players if num_players is not None else num_agents
        if not isinstance(agents, int) or isinstance(agents, bool) or agents not in (1, 2):  # 1.0 == 1, but no count
            raise ArenaError(f"household-v0 supports num_agents=1 or 2, got {agents!r}")
        if split not in SPLITS:
            raise ArenaError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
            raise ArenaError(f"max_steps must be a positive integer, got {max_steps!r}")
        types = list_option(task_types, "task_types") if task_types is not None else ()
        types = types or TASK_TYPES
        unknown = [t for t in types if t not in TASK_TYPES]
        if unknown:
            raise ArenaError(f"unknown task types {unknown}; choose from {', '.join(TASK_TYPES)}")
        super().__init__(
            agents, max_turns=max_steps * agents, invalid_retries=0, invalid_rule=invalid_rule, render_mode=render_mode
        )
        self.split = split
        self.max_steps = max_steps
        self.task_types = types
        # Numbered commands: an LLM answers [3] instead of copying a long command, which a small model
        # tends to rewrite into a plausible command the house does not have (docs/agents.md).
        self.numbered = flag_option(numbered, "numbered")
        # A recap of what the agent has seen: the expert's map, for a model shown only its last few steps.
        self.recap = flag_option(recap, "recap")
        self.world: World | None = None
        self.task: Task | None = None

    # -- setup ---------------------------------------------------------------------------------------
    def _setup(self) -> None:
        self.task = draw_task(self.split, self.rng, self.task_types)
        self.world = populate(self.task, self.possible_agents, self.rng)
        self.feedback = {a: "" for a in self.possible_agents}
        self.admissible_last = {a: True for a in self.possible_agents}
        self.steps_taken = {a: 0 for a in self.possible_agents}
        # What each agent's own commands revealed: receptacle -> (open or None, contents or None), object -> states.
        self.seen: dict[str, dict[str, tuple[bool | None, tuple[str, ...] | None]]] = {
            a: {} for a in self.possible_agents
        }
        self.known_states: dict[str, dict[str, tuple[str, ...]]] = {a: {} for a in self.possible_agents}
        self.set_turn(self.possible_agents[0])

    def _header(self, agent: str) -> str:
        assert self.world is not None and self.task is not None
        intro = f"{WELCOME}\n\n{self.world.room_text()}\n\nYour task is to: {self.task.text}"
        parts = [intro, COMMANDS]
        if self.num_players == 2:
            mate = next(a for a in self.possible_agents if a != agent)
            parts.append(
                f"You are {agent}. {mate} is in the same house with the same task; you take turns. You see only "
                f"what your own actions reveal. 'say <message>' sends a message to {mate} (it uses your turn)."
            )
        return "\n\n".join(parts)

    def _prompt(self, agent: str) -> str:
        legal = self.legal_actions(agent)
        extra = " You may also write: say <message>." if self.num_players == 2 else ""
        step = self.steps_taken[agent] + 1
        labels = self._labels(legal)
        listing = labelled_actions(labels, legal) if labels else legal
        turn = f"Step {step} of {self.max_steps}. Admissible commands: {', '.join(listing)}.{extra}"
        return f"{self.recap_text(agent)}\n{turn}" if self.recap else turn

    def recap_text(self, agent: str) -> str:
        """What ``agent``'s own commands showed, receptacle by receptacle in the order first visited, and the
        receptacles it has not visited yet (in the room's order). One line, so it stays in the turn's prompt."""
        assert self.world is not None
        seen = self.seen[agent]
        shown = []
        for receptacle, (_, items) in seen.items():
            contents = "closed" if items is None else ", ".join(items) if items else "nothing"
            shown.append(f"{receptacle}: {contents}")
        unvisited = [name for name in self.world.scene.names if name not in seen]
        return (
            f"Seen so far: {'; '.join(shown) if shown else 'nothing yet'}. "
            f"Not visited: {', '.join(unvisited) if unvisited else 'none'}."
        )

    def _labels(self, legal: Sequence[str]) -> list[str] | None:
        """The labels ``[1]`` … ``[n]`` of the listed commands, or None when the list is not numbered."""
        return numbered_labels(len(legal)) if self.numbered else None

    def legal_actions(self, agent: str) -> list[str]:
        assert self.world is not None
        return self.world.admissible(agent)

    # -- moves ---------------------------------------------------------------------------------------
    def _play(self, agent: str, action: str) -> str | None:
        assert self.world is not None
        command = _normalise(action)
        if self.num_players == 2 and command.startswith("say "):
            text = " ".join(action.split())[4:][:MAX_MESSAGE_CHARS]
            self.say(text, sender=agent, kind="chat")
            self.feedback[agent] = f"You say: {text}"
        else:
            legal = self.world.admissible(agent)
            labels = self._labels(legal)
            aliases = {c: (label, label[1:-1]) for c, label in zip(legal, labels, strict=True)} if labels else None
            match = match_choice(action, legal, aliases)
            if match.action is None:
                return "not an admissible command" + (f" (it names {', '.join(match.named)})" if match.named else "")
            self.feedback[agent] = self.world.apply(agent, match.action)
            self._learn(agent, match.action)
            self.tell(agent, f"> {match.action}\n{self.feedback[agent]}", kind="feedback")
        self.admissible_last[agent] = True
        self._end_step(agent)
        return None

    def _on_invalid_exhausted(self, agent: str, reason: str) -> None:
        """ALFWorld's rule: "Nothing happens.", the world is unchanged, and the step is used."""
        shown = " ".join(str(self.transcript.events[-1].get("text", "")).split())[:60]
        self.feedback[agent] = NOTHING
        self.admissible_last[agent] = False
        self.tell(agent, f"> {shown}\n{NOTHING}", kind="feedback")
        self.count_move(agent)  # the step counts toward max_steps like a valid one
        self._end_step(agent)

    def _end_step(self, agent: str) -> None:
        assert self.world is not None
        self.steps_taken[agent] += 1
        if self.world.won():
            self.end_game(
                "You won! The task is done.",
                winners=list(self.possible_agents),
                rewards={a: 1.0 for a in self.possible_agents},
                info={"won": True},
            )
        elif self.num_players == 2:
            self.set_turn(self.next_live_agent(agent))

    def _learn(self, agent: str, command: str) -> None:
        """Record what ``command``'s feedback told ``agent`` (not what changed elsewhere unseen)."""
        assert self.world is not None
        world, seen = self.world, self.seen[agent]
        here = world.location[agent]
        verb, _, rest = command.partition(" ")
        if here is not None:
            is_open, items = seen.get(here, (None, None))
            if verb in ("go", "open") or (verb == "examine" and rest == here):
                is_open = world.is_open[here] if world.openable(here) else None
                items = tuple(world.contents(here)) if world.accessible(here) else items
            elif verb == "close":
                is_open = False
            elif verb in ("take", "move"):
                obj = rest.partition(" from " if verb == "take" else " to ")[0]
                changed = set(items or ()) - {obj} if verb == "take" else set(items or ()) | {obj}
                items = tuple(sorted(changed, key=name_key))
            seen[here] = (is_open, items)
        obj = rest.partition(" with ")[0] if verb in ("clean", "heat", "cool") else rest
        if verb in ("examine", "use", "clean", "heat", "cool") and obj in world.states:
            self.known_states[agent][obj] = tuple(sorted(world.states[obj]))

    # -- infos and views -----------------------------------------------------------------------------
    def answer_spec(self, agent: str, legal: list[str] | None) -> dict[str, Any]:
        syntax = None
        if self.num_players == 2:
            syntax = (
                f"one admissible command, or say <message> (to your partner, at most {MAX_MESSAGE_CHARS} characters)"
            )
        legal = legal or self.legal_actions(agent)
        return choice_answer(legal, syntax=syntax, labels=self._labels(legal))

    def information_state(self, agent: str) -> dict[str, Any]:
        assert self.world is not None and self.task is not None
        goal = self.task.goal
        return {
            "agent": agent,
            "house": self.world.scene.index,
            "goal": (goal.task_type, goal.obj, goal.target),
            "location": self.world.location[agent],
            "holding": self.world.holding[agent],
            "seen": sorted(self.seen[agent].items()),
            "states": sorted(self.known_states[agent].items()),
        }

    def _extra_info(self, agent: str) -> dict[str, Any]:
        assert self.task is not None
        return {
            "feedback": self.feedback[agent],
            "admissible": self.admissible_last[agent],
            "won": self.finished and bool(self.winners),
            "task_type": self.task.goal.task_type,
            "task_short": SHORT_NAMES[self.task.goal.task_type],
            "split": self.split,
        }

    def spectator_text(self) -> str:
        if self.world is None or self.task is None:
            return ""
        where = "; ".join(
            f"{a} at {self.world.location[a] or 'the middle of the room'}, holding {self.world.holding[a] or 'nothing'}"
            for a in self.possible_agents
        )
        return f"Task ({SHORT_NAMES[self.task.goal.task_type]}): {self.task.text} {where}."
