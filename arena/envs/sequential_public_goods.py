"""Sequential public goods (``sequential-public-goods-v0``), after MAC-SPGG (Liang et al., arXiv 2508.02076).

| | |
|---|---|
| Players | ``num_players`` (default 3, 2–8); each round they contribute in seat order ``player_0, player_1, ...`` |
| Observation | ``observation="full"``: each player sees every predecessor's contribution this round; ``"last"`` (MAC-SPGG's partial observation): only the immediate predecessor's. All contributions are public once the round ends |
| Action | a whole number ``[k]`` of tokens, ``0 <= k <= endowment`` (default 10); ``infos[agent]["answer"]`` is a ``choice`` over ``legal_actions`` |
| Accepted forms | as ``public-goods-v0``: the last bracketed number counts; without brackets, one amount named (``7``, ``I contribute 7.``) |
| Reward | paid to everyone when the round's last player has moved; ``reward="aligned"`` (default), ``"classic"`` or ``"mac-spgg"``, below |
| Rounds | ``num_rounds`` (default 1, the one-pass protocol of MAC-SPGG) |
| Invalid move | private warning and one retry (``invalid_retries``), then the default contribution ``invalid_contribution`` (0); ``invalid_rule="spiral"``: −1.5 to the offender, +0.5 to everyone else, and the game ends |
| Truncation | ``max_turns`` valid moves (default none; the game always ends after ``num_players · num_rounds`` moves) |

With ``S = Σ_j c_j``, ``c̄_<i`` the mean contribution of player i's predecessors this round (0 for the
first mover), endowment ``e``, multiplier ``ρ`` (``1 < ρ < N``), cooperation bonus ``γ``, threshold
``B = threshold · N · e`` and penalty ``P``:

* ``classic``:  ``R_i = (e − c_i) + (ρ/N)·S``. Contributing 0 is strictly dominant, so by backward
  induction the unique subgame-perfect equilibrium (SPE) is that nobody contributes.
* ``aligned``:  ``R_i = (e − c_i) + (ρ/N)·S + γ·(c_i/e)·c̄_<i − P·1[S < B]``.

The aligned reward keeps MAC-SPGG's four published components (individual cost, a cooperation bonus
scaled by the predecessors' contributions, an equal share of the public good, a collective penalty when
the group misses a threshold); the exact formula of the paper was not available, so this one is our
design. Defaults: ``e = 10, ρ = 1.8, γ = 1.5, threshold = 1.0 (B = N·e), P = 15``. With ``B = N·e`` the
threshold is reachable only while every predecessor has contributed fully, so: off that path the
threshold is lost and each player trades the bonus against the cost; on it, contributing fully is
strictly better whenever ``P > e·(1 − ρ/N)`` (the first mover's saving from defecting, 4 for the
defaults). Full contribution is then the unique SPE outcome; for the defaults the tests solve the game
by backward induction over the integer contribution grid (and a half-token grid) and find a strict best
reply at every node, so the SPE is unique (with ``N = 4`` an off-path player whose predecessors' mean is
exactly 11/3 is indifferent, so there only the outcome is unique). Off the path the *last* mover's payoff
is linear in its contribution: it gives everything when its predecessors' mean exceeds ``e·(1 − ρ/N)/γ``
(2.67 for the defaults) and nothing when it is below. That cutoff rule does not hold for earlier movers,
who also steer their successors: after ``player_0`` gives 0, ``player_1``'s best reply is 6 (so that
``player_2`` sees a mean of 3 and gives 10). A threshold below 1 breaks the property (for
``threshold = 0.85`` the first mover contributes only 6 and the others 10); the classic payoff gives
free riding (0, 0, 0). Social welfare ``N·e + (ρ − 1)·S + γ·Σ_i (c_i/e)·c̄_<i −
N·P·1[S < B]`` is largest at full contribution under both rewards.

``reward="mac-spgg"`` (preset ``"mac-spgg"``) is the closest reading of the paper we can source
(game_rules.md §3.2: its components from the README and a paper note; its parameters from the released
checkpoint; the paper's closed form was not retrievable): each player's effort ``q_i = c_i/e`` in [0, 1]
is its quality, ``S`` the mean quality (the final task score) and
``R_i = ρ·S − κ·q_i² + γ·q_i·q̄_<i − P·1[S < B]`` (a strictly convex cost, a synergy term in the
predecessors' quality, an equally shared score, a common penalty below the quality threshold ``B``).
At the preset (ρ 1.8, γ 1.5, B 0.85, P 1.5, κ 1.3, N 3) the SPE on the integer grid is unique,
(6, 10, 10): every player contributes and the score 0.87 reaches B, as the paper's Theorem 1 states.

``infos`` carry ``phase``, ``round``, ``position`` (seat order), ``previous_contributions`` (the
predecessors' contributions this player can see) and running metrics: ``contribution_rate``,
``welfare``, ``social_optimum`` (welfare at full contribution), ``welfare_ratio`` and ``threshold_met``.
Nothing is secret beyond what the observation mode hides within a round. ``state_key`` digests the
player's seat, the round, the contributions it can see this round and every finished round's
contributions.
"""

from __future__ import annotations

import math
from typing import Any

from arena.core.env import TextGameEnv
from arena.core.errors import ArenaError
from arena.envs.public_goods import parse_contribution

REWARDS = ("aligned", "classic", "mac-spgg")

#: Paper presets for ``arena.make("sequential-public-goods-v0", preset=...)`` (docs/envs/sequential-public-goods.md).
PRESETS: dict[str, Any] = {
    "mac-spgg": {  # Liang et al., arXiv 2508.02076 (AAMAS 2026): game_rules.md §3.2, the closest reading we can source
        "num_players": 3,
        "reward": "mac-spgg",
        "endowment": 10,  # effort levels 0..10, quality q = c / 10
        "multiplier": 1.8,  # rho: public_good_multiplier in the released checkpoint's config
        "cooperation_bonus": 1.5,  # gamma: cooperation_bonus in that config
        "threshold": 0.85,  # B: contribution_threshold in that config, on the mean quality
        "penalty": 1.5,  # P: free_rider_penalty in that config
        "cost": 1.3,  # kappa: not published; the smallest of 0.1-steps making the grid's SPE unique
        "observation": "full",
        "num_rounds": 1,
    },
}
OBSERVATIONS = ("full", "last")


def sequential_payoffs(
    contributions: list[float],
    *,
    endowment: float,
    multiplier: float,
    cooperation_bonus: float = 1.5,
    threshold: float = 1.0,
    penalty: float = 15.0,
    reward: str = "aligned",
    cost: float = 1.3,
) -> list[float]:
    """Every player's payoff for one round; ``contributions`` are in seat (moving) order."""
    n = len(contributions)
    if reward == "mac-spgg":
        return mac_spgg_payoffs(
            [c / endowment for c in contributions],
            multiplier=multiplier,
            cooperation_bonus=cooperation_bonus,
            threshold=threshold,
            penalty=penalty,
            cost=cost,
        )
    total = sum(contributions)
    share = multiplier * total / n
    payoffs = [endowment - c + share for c in contributions]
    if reward == "classic":
        return payoffs
    missed = total < threshold * n * endowment - 1e-9
    before = 0.0
    for i, c in enumerate(contributions):
        mean_before = before / i if i else 0.0
        payoffs[i] += cooperation_bonus * (c / endowment) * mean_before - (penalty if missed else 0.0)
        before += c
    return payoffs


def mac_spgg_payoffs(
    qualities: list[float],
    *,
    multiplier: float,
    cooperation_bonus: float,
    threshold: float,
    penalty: float,
    cost: float,
) -> list[float]:
    """The MAC-SPGG reading (module docstring) for qualities ``q_i`` in [0, 1], in moving order:
    ``R_i = ρ·S − κ·q_i² + γ·q_i·q̄_<i − P·1[S < B]`` with ``S`` the mean quality (the final task score)."""
    score = sum(qualities) / len(qualities)
    missed = score < threshold - 1e-9
    payoffs, before = [], 0.0
    for i, q in enumerate(qualities):
        mean_before = before / i if i else 0.0
        payoffs.append(
            multiplier * score - cost * q * q + cooperation_bonus * q * mean_before - (penalty if missed else 0.0)
        )
        before += q
    return payoffs


def _number(name: str, value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ArenaError(f"{name} must be a finite number, got {value!r}")
    return float(value)


class SequentialPublicGoodsEnv(TextGameEnv):
    """Players contribute in turn, seeing their predecessors; reward designed so full contribution is the SPE."""

    metadata = {**TextGameEnv.metadata, "name": "sequential_public_goods_v0"}

    def __init__(
        self,
        *,
        num_players: int = 3,
        endowment: int = 10,
        multiplier: float = 1.8,
        cooperation_bonus: float = 1.5,
        threshold: float = 1.0,
        penalty: float = 15.0,
        reward: str = "aligned",
        cost: float = 1.3,
        observation: str = "full",
        num_rounds: int = 1,
        invalid_contribution: int = 0,
        max_turns: int | None = None,
        invalid_retries: int = 1,
        invalid_rule: str = "default",
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(num_players, int) or isinstance(num_players, bool) or not 2 <= num_players <= 8:
            raise ArenaError(f"num_players must be an integer from 2 to 8, got {num_players!r}")
        if not isinstance(endowment, int) or isinstance(endowment, bool) or not 1 <= endowment <= 1000:
            raise ArenaError(f"endowment must be an integer from 1 to 1000, got {endowment!r}")
        if not isinstance(num_rounds, int) or isinstance(num_rounds, bool) or not 1 <= num_rounds <= 1000:
            raise ArenaError(f"num_rounds must be an integer from 1 to 1000, got {num_rounds!r}")
        if (
            not isinstance(invalid_contribution, int)
            or isinstance(invalid_contribution, bool)
            or not 0 <= invalid_contribution <= endowment
        ):
            raise ArenaError(
                f"invalid_contribution must be an integer from 0 to endowment, got {invalid_contribution!r}"
            )
        multiplier = _number("multiplier", multiplier)
        if not 1 < multiplier < num_players:
            raise ArenaError(f"multiplier must satisfy 1 < r < num_players ({num_players}), got {multiplier!r}")
        cooperation_bonus = _number("cooperation_bonus", cooperation_bonus)
        threshold = _number("threshold", threshold)
        penalty = _number("penalty", penalty)
        cost = _number("cost", cost)
        if cooperation_bonus < 0 or penalty < 0 or cost <= 0:
            raise ArenaError("cooperation_bonus and penalty must be non-negative, cost positive")
        if not 0 < threshold <= 1:
            raise ArenaError(f"threshold is a fraction of the largest possible total, in (0, 1]; got {threshold!r}")
        if reward not in REWARDS:
            raise ArenaError(f"reward must be one of {REWARDS}, got {reward!r}")
        if observation not in OBSERVATIONS:
            raise ArenaError(f"observation must be one of {OBSERVATIONS}, got {observation!r}")
        super().__init__(
            num_players,
            max_turns=max_turns,
            invalid_retries=invalid_retries,
            invalid_rule=invalid_rule,
            render_mode=render_mode,
        )
        self.endowment = endowment
        self.multiplier = multiplier
        self.cooperation_bonus = cooperation_bonus
        self.threshold = threshold
        self.penalty = penalty
        self.cost = cost
        self.reward_kind = reward
        self.observation_mode = observation
        self.num_rounds = num_rounds
        self.invalid_contribution = invalid_contribution

    # -- episode -----------------------------------------------------------------------------------
    def _setup(self) -> None:
        self.round = 1
        self.current: list[int] = []  # this round's contributions, in seat order
        self.history: list[list[int]] = []
        self.payoffs = {a: 0.0 for a in self.possible_agents}
        self.threshold_hits = 0
        self.phase = "contribute"
        self.say(
            f"A sequential public-goods game begins: {self.num_players} players contribute in the order "
            f"{', '.join(self.possible_agents)}, {self.num_rounds} round(s)."
        )
        self._start_round()

    def _start_round(self) -> None:
        self.current = []
        self.say(f"Round {self.round} of {self.num_rounds} begins.")
        self.set_turn(self.possible_agents[0])

    def payoffs_for(self, contributions: list[int]) -> list[float]:
        """This game's per-round payoffs (see the module docstring)."""
        return sequential_payoffs(
            contributions,
            endowment=self.endowment,
            multiplier=self.multiplier,
            cooperation_bonus=self.cooperation_bonus,
            threshold=self.threshold,
            penalty=self.penalty,
            reward=self.reward_kind,
            cost=self.cost,
        )

    # -- rules -------------------------------------------------------------------------------------
    def legal_actions(self, agent: str) -> list[str]:
        return [f"[{k}]" for k in range(self.endowment + 1)]

    def _play(self, agent: str, action: str) -> str | None:
        amount = parse_contribution(action, self.endowment)
        if isinstance(amount, str):
            return amount
        self._contribute(agent, amount)
        return None

    def _on_invalid_exhausted(self, agent: str, reason: str) -> None:
        """The offender contributes the default amount (``invalid_contribution``)."""
        self._contribute(agent, self.invalid_contribution, defaulted=True)

    def _contribute(self, agent: str, amount: int, *, defaulted: bool = False) -> None:
        position = len(self.current)
        self.current.append(amount)
        seen_by = None  # "full": everyone; "last": the contributor and its successor only
        if self.observation_mode == "last":
            nxt = self.possible_agents[position + 1] if position + 1 < self.num_players else None
            seen_by = [agent] + ([nxt] if nxt else [])
        if defaulted:  # it tells the amount (the header states the default), so it goes where the amount goes
            self.say(
                f"{agent} made repeated invalid moves; the default contribution is played.", to=seen_by, kind="warning"
            )
        self.say(f"contributes {amount}.", sender=agent, kind="action", to=seen_by)
        if len(self.current) < self.num_players:
            self.set_turn(self.possible_agents[position + 1])
            return
        self._settle()

    def _settle(self) -> None:
        payoffs = self.payoffs_for(self.current)
        total = sum(self.current)
        met = total >= self.threshold * self.num_players * self.endowment - 1e-9
        self.threshold_hits += int(met)
        self.history.append(list(self.current))
        listing = ", ".join(f"{a} {c}" for a, c in zip(self.possible_agents, self.current, strict=True))
        note = ""
        if self.reward_kind != "classic":
            note = " Threshold met." if met else f" Threshold missed: everyone loses {self.penalty:g}."
        self.say(f"Round {self.round} contributions: {listing} (total {total}).{note}", kind="result")
        for agent, payoff in zip(self.possible_agents, payoffs, strict=True):
            self.payoffs[agent] += payoff
            self.reward(agent, payoff)
            self.tell(agent, f"Your payoff this round: {payoff:g} (total {self.payoffs[agent]:g}).")
        if self.round >= self.num_rounds:
            scores = ", ".join(f"{a} {p:g}" for a, p in self.payoffs.items())
            self.end_game(f"all rounds played; payoffs {scores}", info=self._metrics())
            return
        self.round += 1
        self._start_round()

    # -- metrics and views -------------------------------------------------------------------------
    def _metrics(self) -> dict[str, Any]:
        rounds = len(self.history)
        n, e = self.num_players, self.endowment
        optimum = sum(self.payoffs_for([e] * n)) * rounds
        welfare = sum(self.payoffs.values())
        return {
            "rounds_played": rounds,
            "contribution_rate": sum(map(sum, self.history)) / (n * e * rounds) if rounds else None,
            "welfare": welfare,
            "social_optimum": optimum,
            "welfare_ratio": welfare / optimum if rounds and optimum else None,
            "threshold_met": self.threshold_hits / rounds if rounds else None,
        }

    def _visible_before(self, agent: str) -> dict[str, int]:
        position = self.possible_agents.index(agent)
        done = self.current[:position]
        if self.observation_mode == "last":
            return {self.possible_agents[position - 1]: done[-1]} if done and len(done) == position else {}
        return {a: c for a, c in zip(self.possible_agents, done, strict=False)}

    def information_state(self, agent: str) -> dict[str, Any]:
        return {
            "agent": agent,
            "round": self.round,
            "seen": self._visible_before(agent),
            "history": list(self.history),
        }

    static_headers = True  # rules and seat only

    def _header(self, agent: str) -> str:
        n, e, r = self.num_players, self.endowment, self.multiplier
        position = self.possible_agents.index(agent) + 1
        sees = (
            "every earlier player's contribution this round"
            if self.observation_mode == "full"
            else "only the contribution of the player just before you"
        )
        if self.reward_kind == "classic":
            formula = f"{e} - your contribution + {r:g} x (total contributions) / {n}"
        elif self.reward_kind == "mac-spgg":
            formula = (
                f"{r:g} x S - {self.cost:g} x q^2 + {self.cooperation_bonus:g} x q x (mean quality of the players "
                f"before you this round; 0 if you move first) - {self.penalty:g} if S is below {self.threshold:g}, "
                f"where q = your contribution / {e} is the quality of your effort and S is the mean quality of all "
                "players"
            )
        else:
            formula = (
                f"{e} - your contribution + {r:g} x (total contributions) / {n} "
                f"+ {self.cooperation_bonus:g} x (your contribution / {e}) x (average contribution of the players "
                f"before you this round; 0 if you move first) - {self.penalty:g} if the total is below "
                f"{self.threshold * n * e:g}"
            )
        return (
            f"You are playing a sequential public-goods game with {n} players over {self.num_rounds} round(s). "
            f"Each round every player has {e} tokens and, in the order {', '.join(self.possible_agents)}, chooses "
            f"how many to contribute to a public pot; before choosing you see {sees}. All contributions are "
            f"revealed when the round ends. Your payoff each round is {formula}. Answer with a whole number in "
            f"brackets, from [0] to [{e}]; an invalid answer contributes {self.invalid_contribution}. "
            f"Your reward is your payoff.\nYou are {agent} and move in position {position} of {n}."
        )

    def _prompt(self, agent: str) -> str:
        seen = self._visible_before(agent)
        if seen:
            before = "Seen so far this round: " + ", ".join(f"{a} contributed {c}" for a, c in seen.items()) + "."
        else:
            before = (
                "You move first this round."
                if self.possible_agents.index(agent) == 0
                else "You see no contributions yet."
            )
        return f"Round {self.round}. {before} How many of your {self.endowment} tokens do you contribute? [0]-[{self.endowment}]"

    def _extra_info(self, agent: str) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "round": self.round,
            "num_rounds": self.num_rounds,
            "endowment": self.endowment,
            "position": self.possible_agents.index(agent),
            "previous_contributions": self._visible_before(agent) if not self.finished else {},
            "my_contributions": [h[self.possible_agents.index(agent)] for h in self.history],
            **self._metrics(),
        }

    def spectator_text(self) -> str:
        return f"Round {self.round}/{self.num_rounds}; contributions so far {self.current}; payoffs {self.payoffs}."
