"""Run many matches at once and batch every pending LLM turn into one backend call per tick.

:func:`play_many` steps N matches in lock-step "ticks". In each tick every unfinished match has one
agent to act (AEC games have one acting agent at a time); the pending turns of all
:class:`~arena.agents.llm.LLMAgent`s that share a backend are gathered into **one** ``generate`` call
(plus one ``score`` call for constrained agents) -- requests are grouped by (backend, sampling
params), so LLMAgents sharing a backend and sampling settings always share the call. Other agents
(random, scripted, human) act directly through their ``act_batch``.

By default every match starts at once and the batch shrinks as matches end. With ``concurrency=N``
(continuous batching of episodes) at most N matches are live and the next match of ``matches`` -- any
iterable, also a lazy generator -- starts as soon as one ends, so each tick's batch stays full until the
input runs out; :meth:`BatchScheduler.stream` yields each outcome as its match ends.
``BatchScheduler.occupancy`` lists the number of live matches (= decisions) of every tick.

Returned structure (one :class:`MatchOutcome` per input match, in input order)::

    MatchOutcome
      index            position in the input list
      env_id, seed     the game id (``env.unwrapped.env_id``) and the reset seed
      returns          {seat: float} = env.unwrapped.returns (every seat, also eliminated ones)
      winners          list of seats (env.unwrapped.winners; [] for draws / cooperative outcomes)
      roles            {seat: role}: env.unwrapped.role(seat), the true role even where the seat is not told
                       it (a hidden spy's infos say "unknown"); infos["role"] for envs without role()
      agent_names      {seat: Agent.name}
      transcript       env.unwrapped.transcript (arena.core.transcript.Transcript) or None
      steps            env.step calls made (dead steps included)
      truncated        True if the game truncated or ``max_steps`` cut it short
      turns            [TurnRecord] -- one per LLM decision, in play order (only LLMAgent turns)
      pre_rewards      {seat: reward received before that seat's first LLM turn}

    TurnRecord (one LLM decision)
      seat             "player_k"
      agent_name       the LLMAgent's .name
      role             the seat's true role at decision time (as ``roles``)
      turn_index       0, 1, 2, ... counting this seat's LLM decisions in this match
      env_turn         infos[seat]["turn"] at decision time (this seat's own count of valid moves)
      step_index       index of the env.step call that applied this action
      state_key        infos[seat].get("state_key") at decision time (GiGPO anchor / information set)
      observation_key  observation_digest(observation) at decision time (the verl-agent-style anchor)
      trace            ActionTrace (action, text, prompt_ids, completion_ids, logprobs, version, legal_probs,
                       alternatives and chosen for constrained turns, the prompt's images)
      reward           everything paid to this seat from this action up to its next decision (or the end):
                       the step-wise deltas of env.unwrapped.returns (fallback: env.rewards)
      invalid          the env's invalid-move reason for the action, else None (read once the game has
                       processed it: at once in turn-based games, at the round's end in simultaneous ones)
      final            True for this seat's last decision in the match
      info             shallow copy of infos[seat] at decision time

Each LLM decision's whole reply is also recorded in the match transcript as a spectator-only
``reasoning`` event (:mod:`arena.agents.reasoning`); only the answer reaches the game.

Summing ``turn.reward`` over a seat's turns plus ``pre_rewards[seat]`` gives ``returns[seat]`` for
seats whose every decision was an LLM decision (``tests/test_scheduler.py`` checks this).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from arena.agents.llm import ActionTrace, LLMAgent
from arena.agents.reasoning import record_reasoning
from arena.agents.seats import match_env, reset_agents, seat_agents
from arena.core.errors import ArenaError
from arena.core.keys import state_digest


@dataclass
class MatchSpec:
    """One match to play: an AEC env, its agents by seat, and the reset seed/options."""

    env: Any
    agents: Mapping[str, Any]
    seed: int | None = None
    options: dict[str, Any] | None = None


@dataclass
class TurnRecord:
    """One LLM decision; see the module docstring."""

    seat: str
    agent_name: str
    role: str | None
    turn_index: int
    env_turn: int | None
    step_index: int
    state_key: str | None
    trace: ActionTrace
    observation_key: str = ""
    reward: float = 0.0
    invalid: str | None = None
    final: bool = False
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class MatchOutcome:
    """The result of one match; see the module docstring."""

    index: int
    env_id: str
    seed: int | None
    returns: dict[str, float]
    winners: list[str]
    roles: dict[str, Any]
    agent_names: dict[str, str]
    transcript: Any
    steps: int
    truncated: bool
    turns: list[TurnRecord] = field(default_factory=list)
    pre_rewards: dict[str, float] = field(default_factory=dict)


class _Running:
    """Per-match state while playing."""

    def __init__(self, index: int, spec: MatchSpec) -> None:
        self.index = index
        self.spec = spec
        self.env = spec.env
        self.raw = getattr(spec.env, "unwrapped", spec.env)
        self.done = False
        self.steps = 0
        self.cut = False
        self.turns: list[TurnRecord] = []
        self.open_turn: dict[str, TurnRecord] = {}
        self.pre_rewards: dict[str, float] = defaultdict(float)
        self.roles: dict[str, Any] = {}
        self.llm_turns: dict[str, int] = defaultdict(int)
        self.totals: dict[str, float] = defaultdict(float)
        self.last_returns = self._returns()
        self.judging: dict[str, list[TurnRecord]] = defaultdict(list)  # decisions the game has not judged yet

    def judge(self, events_before: int | None) -> None:
        """Set the ``invalid`` reason of each decision the game has now processed: those whose ``action``
        event appeared since ``events_before`` (a simultaneous game processes a round's moves together,
        at its last mover's step). Without a transcript, every waiting decision is judged now."""
        transcript = getattr(self.raw, "transcript", None)
        if events_before is None or transcript is None:
            seats = [seat for seat, waiting in self.judging.items() if waiting]
        else:
            seats = [e["agent"] for e in transcript.events[events_before:] if e.get("event") == "action"]
        for seat in seats:
            if self.judging.get(seat):
                reason = self.env.infos.get(seat, {}).get("invalid_move")
                self.judging[seat].pop(0).invalid = str(reason) if reason is not None else None

    def event_count(self) -> int | None:
        transcript = getattr(self.raw, "transcript", None)
        return len(transcript.events) if transcript is not None else None

    def _returns(self) -> dict[str, float] | None:
        returns = getattr(self.raw, "returns", None)
        return {k: float(v) for k, v in returns.items()} if isinstance(returns, Mapping) else None

    def role(self, seat: str, info: Mapping[str, Any]) -> Any:
        """The seat's true role, for training and results (the seat itself may not be told it)."""
        role_fn = getattr(self.raw, "role", None)
        if callable(role_fn):
            try:
                return role_fn(seat)
            except Exception:  # a third-party env whose role() is not per seat
                pass
        return info.get("role")

    def pay(self) -> None:
        """Credit what each seat earned in the last step to its open turn (or its pre-turn bucket)."""
        now = self._returns()
        if now is not None:
            deltas = {a: now.get(a, 0.0) - (self.last_returns or {}).get(a, 0.0) for a in now}
            self.last_returns = now
        else:
            deltas = {a: float(r) for a, r in getattr(self.env, "rewards", {}).items()}
        for seat, value in deltas.items():
            if not value:
                continue
            self.totals[seat] += value
            turn = self.open_turn.get(seat)
            if turn is not None:
                turn.reward += value
            else:
                self.pre_rewards[seat] += value


def _as_spec(match: Any) -> MatchSpec:
    if isinstance(match, MatchSpec):
        return match
    if isinstance(match, tuple | list) and 2 <= len(match) <= 4:
        return MatchSpec(*match)
    raise ArenaError("each match must be a MatchSpec or a tuple (env, agents[, seed[, options]])")


def _advance_dead(run: _Running, max_steps: int) -> None:
    """Take dead steps until a live agent must act or the match is over."""
    env = run.env
    while True:
        if not env.agents or run.steps >= max_steps:
            run.done = True
            run.cut = run.cut or (bool(env.agents) and run.steps >= max_steps)
            return
        agent = env.agent_selection
        if env.terminations.get(agent, False) or env.truncations.get(agent, False):
            env.step(None)
            run.steps += 1
            run.pay()
            continue
        return


class BatchScheduler:
    """Plays many matches concurrently, one batched backend call per backend per tick.

    ``traced=True`` keeps an :class:`ActionTrace` for every LLM decision (training). ``sample`` (if not
    None) overrides each constrained LLMAgent's ``sample`` flag. ``max_steps`` caps each match.
    """

    def __init__(self, *, traced: bool = True, max_steps: int = 10_000, sample: bool | None = None) -> None:
        self.traced = traced
        self.max_steps = int(max_steps)
        self.sample = sample
        self.backend_calls = 0
        self.ticks = 0
        self.occupancy: list[int] = []

    def run(self, matches: Iterable[Any], *, concurrency: int | None = None) -> list[MatchOutcome]:
        """Play every match to the end; outcomes in input order (see :meth:`stream` for ``concurrency``)."""
        return sorted(self.stream(matches, concurrency=concurrency), key=lambda outcome: outcome.index)

    def stream(self, matches: Iterable[Any], *, concurrency: int | None = None) -> Iterator[MatchOutcome]:
        """Play the matches and yield each outcome as its match ends (``MatchOutcome.index``: input position).

        ``concurrency=None`` starts every match at once (lock-step). ``concurrency=N`` keeps at most N
        matches live and starts the next one from ``matches`` whenever one ends (continuous batching);
        ``matches`` is read lazily, one match at a time. A match's env and agents are reset when it starts.
        """
        if concurrency is not None and (
            not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1
        ):
            raise ArenaError(f"concurrency must be an integer >= 1 or None, got {concurrency!r}")
        return self._stream(enumerate(matches), concurrency)

    def _stream(self, source: Iterator[tuple[int, Any]], concurrency: int | None) -> Iterator[MatchOutcome]:
        live: list[_Running] = []
        while True:
            while concurrency is None or len(live) < concurrency:
                item = next(source, None)
                if item is None:
                    break
                run = self._start(*item, live)
                if run.done:  # over before anyone acted (e.g. max_steps=0)
                    yield self._outcome(run)
                else:
                    live.append(run)
            if not live:
                return
            self.ticks += 1
            self.occupancy.append(len(live))
            self._tick(live)
            for run in live:
                if run.done:
                    yield self._outcome(run)
            live = [run for run in live if not run.done]

    def _start(self, index: int, match: Any, live: Sequence[_Running] = ()) -> _Running:
        """Check a match's seats, reset its env and agents and take its dead steps up to the first decision.
        ``live``: the matches still playing, none of which may share this match's env."""
        spec = _as_spec(match)
        env = match_env(spec.env)
        raw = getattr(env, "unwrapped", env)
        if any(run.raw is raw for run in live):
            raise ArenaError(f"match {index}: its env is still playing another match; give each match its own env")
        spec = replace(spec, env=env, agents=seat_agents(env, spec.agents, f"match {index}: "))
        run = _Running(index, spec)
        run.env.reset(seed=run.spec.seed, options=run.spec.options)
        run.last_returns = run._returns()
        reset_agents(run.spec.agents)
        _advance_dead(run, self.max_steps)
        return run

    # -- one tick ----------------------------------------------------------------------------------
    def _tick(self, live: Sequence[_Running]) -> None:
        pending: list[tuple[_Running, str, Any, dict[str, Any], Any]] = []
        for run in live:
            seat = run.env.agent_selection
            agent = run.spec.agents[seat]  # every seat has one: checked when the match started (seat_agents)
            obs = run.env.observe(seat)
            info = run.env.infos.get(seat, {})
            if seat not in run.roles:
                run.roles[seat] = run.role(seat, info)
            pending.append((run, seat, obs, info, agent))
        actions: list[str | None] = [None] * len(pending)
        traces: list[ActionTrace | None] = [None] * len(pending)

        llm_groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        other_groups: dict[int, list[int]] = defaultdict(list)
        for k, (_run, _seat, _obs, info, agent) in enumerate(pending):
            if isinstance(agent, LLMAgent):
                llm_groups[(id(agent.backend), agent.sampling_for(info).key())].append(k)
            else:
                other_groups[id(agent)].append(k)
        for idxs in other_groups.values():
            agent = pending[idxs[0]][4]
            requests = [(pending[k][2], pending[k][3]) for k in idxs]
            batch = getattr(agent, "act_batch", None)
            results = batch(requests) if batch is not None else [agent.act(o, i) for o, i in requests]
            for k, action in zip(idxs, results, strict=True):
                actions[k] = action
        for idxs in llm_groups.values():
            self._llm_group(pending, idxs, actions, traces)
        for k, (run, seat, obs, info, agent) in enumerate(pending):
            self._apply(run, seat, obs, info, agent, actions[k], traces[k])

    def _llm_group(self, pending: list, idxs: list[int], actions: list, traces: list) -> None:
        """One generate call and one score call for all LLM requests sharing a backend and sampling."""
        by_agent: dict[int, list[int]] = defaultdict(list)
        for k in idxs:
            by_agent[id(pending[k][4])].append(k)
        gen_prompts: list[Any] = []
        score_prompts: list[Any] = []
        conts: list[str] = []
        slices = []
        for ks in by_agent.values():
            agent: LLMAgent = pending[ks[0]][4]
            requests = [(pending[k][2], pending[k][3]) for k in ks]
            g = agent.generation_requests(requests)
            sp, sc = agent.scoring_requests(requests)
            slices.append((agent, ks, requests, len(gen_prompts), len(g), len(score_prompts), len(sp)))
            gen_prompts.extend(g)
            score_prompts.extend(sp)
            conts.extend(sc)
        first: LLMAgent = pending[idxs[0]][4]
        backend = first.backend
        sampling = first.sampling_for(pending[idxs[0]][3])  # the group's (a greedy retry's: sampled)
        completions = backend.generate(gen_prompts, first._next_sampling(sampling)) if gen_prompts else []
        scored = backend.score(score_prompts, conts) if score_prompts else []
        self.backend_calls += bool(gen_prompts) + bool(score_prompts)
        for agent, ks, requests, g0, gn, s0, sn in slices:
            result = agent.finish(
                requests,
                completions[g0 : g0 + gn],
                scored[s0 : s0 + sn],
                sample=self.sample if self.sample is not None else None,
            )
            for k, trace in zip(ks, result, strict=True):
                actions[k] = trace.action
                traces[k] = trace

    def _apply(
        self,
        run: _Running,
        seat: str,
        observation: Any,
        info: dict[str, Any],
        agent: Any,
        action: Any,
        trace: ActionTrace | None,
    ) -> None:
        record = None
        if trace is not None:
            previous = run.open_turn.pop(seat, None)
            record = TurnRecord(
                seat=seat,
                agent_name=str(getattr(agent, "name", type(agent).__name__)),
                role=run.role(seat, info),
                turn_index=run.llm_turns[seat],
                env_turn=info.get("turn"),
                step_index=run.steps,
                state_key=info.get("state_key"),
                trace=trace if self.traced else _strip(trace),
                observation_key=observation_digest(observation),
                info=dict(info),
            )
            run.llm_turns[seat] += 1
            run.turns.append(record)
            run.open_turn[seat] = record
            del previous
        else:
            # A non-LLM decision closes this seat's open LLM turn: later rewards are not its doing.
            run.open_turn.pop(seat, None)
        if trace is not None:
            record_reasoning(run.env, seat, trace)
        before = run.event_count()
        if record is not None:
            run.judging[seat].append(record)
        run.env.step(action)
        run.steps += 1
        run.judge(before)
        run.pay()
        _advance_dead(run, self.max_steps)

    def _outcome(self, run: _Running) -> MatchOutcome:
        raw = run.raw
        last: dict[str, TurnRecord] = {}
        for turn in run.turns:
            last[turn.seat] = turn
        for turn in last.values():
            turn.final = True
        returns = run._returns()
        if returns is None:
            returns = dict(run.totals)
        truncated = run.cut or any(bool(v) for v in getattr(run.env, "truncations", {}).values())
        roles = dict(run.roles)
        for seat in getattr(raw, "possible_agents", []):
            roles.setdefault(seat, run.role(seat, {}))
        return MatchOutcome(
            index=run.index,
            env_id=str(getattr(raw, "env_id", "") or ""),
            seed=run.spec.seed,
            returns=returns,
            winners=list(getattr(raw, "winners", []) or []),
            roles=roles,
            agent_names={s: str(getattr(a, "name", type(a).__name__)) for s, a in run.spec.agents.items()},
            transcript=getattr(raw, "transcript", None),
            steps=run.steps,
            truncated=truncated,
            turns=run.turns,
            pre_rewards=dict(run.pre_rewards),
        )


def _strip(trace: ActionTrace) -> ActionTrace:
    """A trace without the token lists and images (evaluation runs that do not train)."""
    return replace(trace, prompt_ids=[], completion_ids=[], logprobs=[], alternatives=None, images=[])


def observation_digest(observation: Any) -> str:
    """A stable digest (:func:`arena.core.keys.state_digest`) of what a player was shown: the observation's
    text and, in visual games, its image. Equal digests mean identical observations, in any process or on
    any machine (``hash()`` is salted per process); GiGPO's ``anchor: observation`` groups turns by it."""
    if isinstance(observation, Mapping):
        return state_digest({"text": str(observation.get("text", "")), "image": observation.get("image")})
    return state_digest({"text": str(observation), "image": None})


def play_many(
    matches: Iterable[Any],
    *,
    traced: bool = True,
    max_steps: int = 10_000,
    sample: bool | None = None,
    concurrency: int | None = None,
) -> list[MatchOutcome]:
    """Play every match to the end (see the module docstring for the returned structure).

    ``matches``: :class:`MatchSpec`s or tuples ``(env, {seat: agent}[, seed[, options]])``; each env is
    reset here with its seed. ``traced=False`` drops token ids/logprobs from the traces (evaluation).
    ``concurrency=N`` plays at most N matches at once, starting the next whenever one ends (continuous
    batching; ``matches`` may then be a lazy generator); ``None`` starts them all at once.
    """
    return BatchScheduler(traced=traced, max_steps=max_steps, sample=sample).run(matches, concurrency=concurrency)
