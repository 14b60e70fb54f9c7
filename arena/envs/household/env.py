"""Household (``household-v0``): an ALFWorld-like text world generated from a seed.

| | |
|---|---|
| Players | 1 (default), or 2 cooperating (``num_agents=2``): same house, same goal, turns alternate |
| Task | one of ALFWorld's six types (Pick, Look, Clean, Heat, Cool, Pick2), stated as "Your task is to: ..." |
| Actions | ``go to X``, ``open X``, ``close X``, ``take X from Y``, ``move X to Y``, ``clean/heat/cool X with Y``, ``use X``, ``examine X``, ``inventory``, ``look``; in two-agent mode also ``say <message>`` |
| Legal actions | ``infos[agent]["legal_actions"]``: the admissible commands, sorted (ALFWorld's ``admissible_commands``) |
| Invalid move | anything that is not an admissible command answers "Nothing happens.", changes nothing and uses the step; it never forfeits (``infos[agent]["admissible"]`` is False after it; counted in ``invalid_counts``) |
| Reward | 1 to every agent the step the goal holds (the episode terminates); 0 otherwise |
| Truncation | after ``max_steps`` steps (default 50) per agent |
| Splits | ``split="train"`` / ``"valid_seen"`` (new goals in training houses) / ``"valid_unseen"`` (held-out house layouts) |

``infos[agent]["state_key"]`` is a canonical hash of the true world state (every agent's location and
held object, open receptacles, object placements and states, whose turn), for GiGPO step grouping;
``infos[agent]["feedback"]`` is the last feedback text that agent received (verl-agent's text anchor).
The simulator reads the world through :attr:`HouseholdEnv.world` (documented for oracle tools only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arena.core.env import TextGameEnv
from arena.core.errors import ArenaError
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
        render_mode: str | None = None,
    ) -> None:
        agents = num_players if num_players is not None else num_agents
        if agents not in (1, 2) or isinstance(agents, bool):
            raise ArenaError(f"household-v0 supports num_agents=1 or 2, got {agents!r}")
        if split not in SPLITS:
            raise ArenaError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
            raise ArenaError(f"max_steps must be a positive integer, got {max_steps!r}")
        types = tuple(task_types) if task_types else TASK_TYPES
        unknown = [t for t in types if t not in TASK_TYPES]
        if unknown:
            raise ArenaError(f"unknown task types {unknown}; choose from {', '.join(TASK_TYPES)}")
        super().__init__(agents, max_turns=max_steps * agents, invalid_retries=0, render_mode=render_mode)
        self.split = split
        self.max_steps = max_steps
        self.task_types = types
        self.world: World | None = None
        self.task: Task | None = None

    # -- setup ---------------------------------------------------------------------------------------
    def _setup(self) -> None:
        self.task = draw_task(self.split, self.rng, self.task_types)
        self.world = populate(self.task, self.possible_agents, self.rng)
        self.feedback = {a: "" for a in self.possible_agents}
        self.admissible_last = {a: True for a in self.possible_agents}
        self.steps_taken = {a: 0 for a in self.possible_agents}
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
        return f"Step {step} of {self.max_steps}. Admissible commands: {', '.join(legal)}.{extra}"

    def legal_actions(self, agent: str) -> list[str]:
        assert self.world is not None
        return self.world.admissible(agent)

    # -- moves ---------------------------------------------------------------------------------------
    def _play(self, agent: str, action: str) -> str | None:
        assert self.world is not None
        self.steps_taken[agent] += 1
        command = _normalise(action)
        if self.num_players == 2 and command.startswith("say "):
            text = " ".join(action.split())[4:][:MAX_MESSAGE_CHARS]
            self.say(text, sender=agent, kind="chat")
            self.feedback[agent] = f"You say: {text}"
            self.admissible_last[agent] = True
        elif command in self.world.admissible(agent):
            self.feedback[agent] = self.world.apply(agent, command)
            self.admissible_last[agent] = True
            self.tell(agent, f"> {command}\n{self.feedback[agent]}", kind="feedback")
        else:
            shown = " ".join(action.split())[:60]
            self.feedback[agent] = NOTHING
            self.admissible_last[agent] = False
            self.invalid_counts[agent] += 1  # reported in match results; no penalty, no retry
            self.tell(agent, f"> {shown}\n{NOTHING}", kind="feedback")
        if self.world.won():
            self.end_game(
                "You won! The task is done.",
                winners=list(self.possible_agents),
                rewards={a: 1.0 for a in self.possible_agents},
                info={"won": True},
            )
        elif self.num_players == 2:
            self.set_turn(self.next_live_agent(agent))
        return None

    # -- infos and views -----------------------------------------------------------------------------
    def state_key(self) -> str:
        """The canonical hash of the true state (see :meth:`World.state_key`), with whose turn it is."""
        assert self.world is not None
        return self.world.state_key(self.agent_selection if self.num_players == 2 else None)

    def _extra_info(self, agent: str) -> dict[str, Any]:
        assert self.task is not None
        return {
            "state_key": self.state_key(),
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
