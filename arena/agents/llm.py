"""``LLMAgent``: a seat played by a language model through a :class:`PolicyBackend`.

Per turn: observation -> chat messages -> backend -> reply -> the move (or an invalid reply).

* **Messages** (:mod:`arena.agents.prompts`). A system prompt that is the same for every turn (the
  game's id and how a reply reaches the game: never the registry description, which may name the
  solution) and one user message: the observation text, then the turn's answer instructions built from
  ``infos[agent]["answer"]`` (a choice from the legal actions, a message of at most N characters, or a
  structured move) with a correct example. For visual games the image comes first as an image part.
* **Context budget** (:mod:`arena.agents.context`). When the backend's maximum model length is known,
  the oldest history lines are left out (and the prompt says so) so that prompt plus
  ``max_new_tokens`` fit; the rules, the private setup and the current prompt are kept. With
  ``history_lines`` only that many of the latest history lines are shown in any case (a constant context).
* **Answer policy** (:mod:`arena.agents.answers`). Only the content of a closed ``<answer>…</answer>``
  outside the ``<think>`` reasoning (or the configured ``"raw"`` / regex format) reaches the game; a
  reply without one is sent as :class:`~arena.core.InvalidReply` and the game applies its invalid-move
  rule. The whole reply stays in the :class:`ActionTrace` for training, and the match runners record it
  as a spectator-only ``reasoning`` transcript event (:mod:`arena.agents.reasoning`).
* **Constrained mode.** The agent scores every legal action's formatted reply (its label, where the turn's
  answer spec labels the actions) with ``backend.score`` and picks the argmax (evaluation) or samples from
  the softmax over the legal actions (``sample=True``, for training). Games without ``legal_actions`` fall
  back to generation.
* **Training.** :meth:`LLMAgent.act_batch_traced` returns :class:`ActionTrace`s (prompt ids, completion
  ids, per-token logprobs, policy version); :mod:`arena.agents.scheduler` batches many matches.
* **Retries.** A greedy agent (temperature 0) whose generated move was invalid retries at
  ``retry_temperature`` (default 1), so that its retries are not the refused reply again.
* **Reply length.** Without explicit sampling settings, ``max_new_tokens`` is
  :func:`~arena.agents.prompts.default_max_new_tokens` of the game: room to think and to answer in full.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from arena.agents.answers import Answer, extract_answer, format_answer
from arena.agents.backends.base import ChatPrompt, Completion, PolicyBackend, SamplingParams, Scored, images_of
from arena.agents.base import BaseAgent, Info, Observation
from arena.agents.context import PromptBudget, fit_observation, max_model_len, recent_history
from arena.agents.control_tokens import control_pattern, neutralize, tokenizer_control_tokens
from arena.agents.prompts import answer_spec, default_max_new_tokens, system_prompt_for, turn_instructions
from arena.core.errors import ArenaError

#: Fewest prompt tokens a context budget must leave (less is a configuration error).
MIN_PROMPT_TOKENS = 64
#: Temperature of a greedy agent's generated reply when it retries after an invalid move: greedy decoding of
#: the same prompt plus a warning mostly repeats the refused reply word for word (measured: a spy clue refused
#: as a repeat is retried with the same clue), which spends every retry on one answer.
RETRY_TEMPERATURE = 1.0


@dataclass
class ActionTrace:
    """One LLM decision with what training needs.

    ``prompt_ids`` / ``completion_ids`` are the exact tokens; ``logprobs[i]`` is the behaviour logprob of
    ``completion_ids[i]`` (raw model, temperature 1) at policy ``version``. In constrained mode the
    completion is the formatted reply of the chosen legal action, ``legal_probs`` holds the softmax
    over legal actions that it was chosen from (argmax or sampled), ``alternatives`` the token ids of
    every legal reply (in legal order) and ``chosen`` the index played, so that a trainer can recompute
    that same distribution. ``text`` is the whole reply (reasoning included: for training and
    ``--reveal`` spectators only); ``action`` is what the game receives: the answer's content, or an
    :class:`~arena.core.InvalidReply` when the reply has none. ``images`` are the prompt's images (visual
    games), which a trainer must feed the model again to recompute the logprobs.
    """

    action: Answer
    text: str
    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float]
    version: int
    legal_probs: dict[str, float] | None = None
    finish_reason: str = "stop"
    alternatives: list[list[int]] | None = None
    chosen: int = -1
    images: list[Any] = field(default_factory=list)


def blank_image(image: np.ndarray) -> np.ndarray:
    """The flat grey picture that ``blank_images`` shows in place of ``image`` (same shape and dtype)."""
    return np.full_like(image, 128)


def _softmax(values: Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    x = x - np.max(x)
    e = np.exp(x)
    return e / e.sum()


class LLMAgent(BaseAgent):
    """An agent whose moves come from a policy backend. See the module docstring."""

    def __init__(
        self,
        backend: PolicyBackend,
        *,
        env_id: str | None = None,
        system_prompt: str | None = None,
        answer_format: str = "tags",
        constrained: bool = False,
        sampling: SamplingParams | None = None,
        name: str = "llm",
        sample: bool = False,
        seed: int | None = None,
        show_legal: bool = True,
        think: str = "",
        max_model_len: int | None = None,
        blank_images: bool = False,
        history_lines: int | None = None,
        retry_temperature: float | None = RETRY_TEMPERATURE,
    ) -> None:
        if answer_format not in ("tags", "raw"):
            try:
                re.compile(answer_format)
            except re.error as err:
                raise ArenaError(f"answer_format must be 'tags', 'raw' or a regex: {err}") from None
        self.backend = backend
        self.env_id = env_id
        self.answer_format = answer_format
        self.system_prompt = system_prompt if system_prompt is not None else system_prompt_for(env_id, answer_format)
        self.constrained = bool(constrained)
        self.sampling = sampling or SamplingParams(temperature=1.0, max_new_tokens=default_max_new_tokens(env_id))
        self.name = name
        self.sample = bool(sample)
        self.show_legal = show_legal
        self.think = think
        self.rng = np.random.default_rng(seed)
        if seed is not None and self.sampling.seed is None:
            self.sampling = replace(self.sampling, seed=seed)
        self._calls = 0
        if max_model_len is not None and (
            isinstance(max_model_len, bool) or not isinstance(max_model_len, int) or max_model_len < 1
        ):
            raise ArenaError(f"max_model_len must be null or a positive integer, got {max_model_len!r}")
        self.max_model_len = max_model_len
        if history_lines is not None and (
            isinstance(history_lines, bool) or not isinstance(history_lines, int) or history_lines < 0
        ):
            raise ArenaError(f"history_lines must be null or an integer >= 0, got {history_lines!r}")
        self.history_lines = history_lines  # None: the whole history, as far as the context budget allows
        if retry_temperature is not None and (
            isinstance(retry_temperature, bool)
            or not isinstance(retry_temperature, int | float)
            or not math.isfinite(retry_temperature)
            or retry_temperature < 0
        ):
            raise ArenaError(f"retry_temperature must be null or a number >= 0, got {retry_temperature!r}")
        self.retry_temperature = retry_temperature  # 0 or None: greedy retries
        self.blank_images = bool(blank_images)  # an ablation: the same prompts with every image a flat grey
        self._budgets: dict[int, PromptBudget | None] = {}
        #: Chat-control tokens that other players' text may hold, made inert in every observation (see
        #: :mod:`arena.agents.control_tokens`): the common families and this backend's tokenizer's own.
        self._control = control_pattern(tokenizer_control_tokens(backend))
        self._prompt_budget()  # a max_new_tokens that leaves no room for a prompt fails here, not mid-game

    # -- prompts -----------------------------------------------------------------------------------
    def _prompt_budget(self) -> PromptBudget | None:
        """Most prompt tokens: the model's maximum length minus the current ``max_new_tokens`` (None: no
        limit known); one per ``max_new_tokens`` value, so a changed ``sampling`` is honoured."""
        new_tokens = int(self.sampling.max_new_tokens)
        if new_tokens not in self._budgets:
            limit = self.max_model_len or max_model_len(self.backend)
            budget = None if limit is None else int(limit) - new_tokens
            if budget is not None and budget < MIN_PROMPT_TOKENS:
                raise ArenaError(
                    f"max_new_tokens={new_tokens} leaves {budget} of the model's {limit} tokens for the prompt "
                    f"(at least {MIN_PROMPT_TOKENS} are needed): lower max_new_tokens"
                )
            self._budgets[new_tokens] = None if budget is None else PromptBudget(self.backend, budget)
        return self._budgets[new_tokens]

    def build_prompt(self, observation: Observation, info: Info, *, fit: bool = True) -> ChatPrompt:
        """The chat messages for one decision: system prompt, observation, the turn's answer instructions;
        the oldest history is left out when the prompt would not fit the context budget (``fit=False``
        skips that check, for callers that count the tokens themselves)."""
        obs = observation if isinstance(observation, dict) else {"text": str(observation)}
        text = neutralize(str(obs.get("text", "")), self._control)  # others' speech must not forge a turn
        image = obs.get("image")
        if image is not None:
            image = np.asarray(image, dtype=np.uint8)
            if self.blank_images:
                image = blank_image(image)
        instructions = turn_instructions(answer_spec(info), text, self.answer_format, show_legal=self.show_legal)

        def messages(observation_text: str) -> ChatPrompt:
            user = f"{observation_text}\n\n{instructions}" if observation_text else instructions
            content: Any = user
            if image is not None:
                # The image after the observation, before the instructions: the text that every player's prompt
                # shares (system prompt, rules) then comes first, so training runs it once for a batch.
                content = [{"type": "image", "image": image}, {"type": "text", "text": instructions}]
                if observation_text:
                    content.insert(0, {"type": "text", "text": f"{observation_text}\n\n"})
            system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
            return [*system, {"role": "user", "content": content}]

        if self.history_lines is not None:
            text, _ = recent_history(text, self.history_lines)
        budget = self._prompt_budget()
        if fit and budget is not None and not budget.surely_fits(messages(text)):
            text, _ = fit_observation(text, lambda t: budget.count(messages(t)), budget.limit)
        return messages(text)

    @property
    def prompt_budget(self) -> int | None:
        """The most prompt tokens :meth:`build_prompt` allows (None: no limit known)."""
        budget = self._prompt_budget()
        return None if budget is None else budget.limit

    def parse(self, text: str, finish_reason: str = "stop") -> Answer:
        """The move in a reply under the answer policy, or an :class:`InvalidReply`."""
        return extract_answer(text, self.answer_format, finish_reason=finish_reason)

    def _uses_scoring(self, info: Info) -> bool:
        return self.constrained and bool((info or {}).get("legal_actions"))

    def sampling_for(self, info: Info) -> SamplingParams:
        """How this request's reply is generated: the agent's sampling, except that a greedy agent retrying
        after an invalid move samples at ``retry_temperature`` (see :data:`RETRY_TEMPERATURE`)."""
        if (
            self.retry_temperature
            and self.sampling.temperature == 0
            and (info or {}).get("invalid_move") is not None
            and not self._uses_scoring(info)
        ):
            return replace(self.sampling, temperature=float(self.retry_temperature))
        return self.sampling

    def _next_sampling(self, sampling: SamplingParams | None = None) -> SamplingParams:
        """Sampling params for the next call (``sampling``, default the agent's; a fixed seed advances per
        call, so moves still vary)."""
        sampling = self.sampling if sampling is None else sampling
        self._calls += 1
        if sampling.seed is None:
            return sampling
        return replace(sampling, seed=int(sampling.seed) + self._calls - 1)

    # -- two-phase API (used by the batching scheduler) -------------------------------------------
    def generation_requests(self, requests: Sequence[tuple[Observation, Info]]) -> list[ChatPrompt]:
        """Prompts of the requests this agent answers by generation (not by constrained scoring)."""
        return [self.build_prompt(o, i) for o, i in requests if not self._uses_scoring(i)]

    def scoring_requests(self, requests: Sequence[tuple[Observation, Info]]) -> tuple[list[ChatPrompt], list[str]]:
        """(prompts, continuations) for the constrained requests: one pair per legal action."""
        prompts, conts = [], []
        for obs, info in requests:
            if self._uses_scoring(info):
                prompt = self.build_prompt(obs, info)
                for reply in answer_spec(info).replies:  # a labelled choice scores the labels it asks for
                    prompts.append(prompt)
                    conts.append(format_answer(reply, self.answer_format, self.think))
        return prompts, conts

    def finish(
        self,
        requests: Sequence[tuple[Observation, Info]],
        completions: Sequence[Completion],
        scored: Sequence[Scored],
        *,
        sample: bool | None = None,
    ) -> list[ActionTrace]:
        """Turn backend results (in the order of the two request lists above) into traces."""
        sample = self.sample if sample is None else sample
        traces: list[ActionTrace] = []
        gi = si = 0
        version = int(getattr(self.backend, "version", 0))
        for obs, info in requests:
            images = self._prompt_images(obs, info)
            if not self._uses_scoring(info):
                traces.append(self._generated(completions[gi], version, images))
                gi += 1
                continue
            legal = [str(a) for a in info["legal_actions"]]
            replies = answer_spec(info).replies
            group = scored[si : si + len(legal)]
            si += len(legal)
            probs = _softmax([s.total for s in group])
            k = int(self.rng.choice(len(legal), p=probs)) if sample else int(np.argmax(probs))
            chosen = group[k]
            traces.append(
                ActionTrace(
                    legal[k],
                    format_answer(replies[k], self.answer_format, self.think),
                    list(chosen.prompt_ids),
                    list(chosen.continuation_ids),
                    [float(x) for x in chosen.logprobs],
                    version,
                    {a: float(p) for a, p in zip(legal, probs, strict=True)},
                    alternatives=[list(s.continuation_ids) for s in group],
                    chosen=k,
                    images=images,
                )
            )
        return traces

    def _generated(self, c: Completion, version: int, images: list[Any] | None = None) -> ActionTrace:
        """The trace of a generated reply: its move under the answer policy, the whole reply kept."""
        return ActionTrace(
            self.parse(c.text, c.finish_reason),
            c.text,
            list(c.prompt_ids),
            list(c.completion_ids),
            [float(x) for x in c.logprobs],
            version,
            None,
            c.finish_reason,
            images=images or [],
        )

    def _prompt_images(self, observation: Observation, info: Info) -> list[Any]:
        """The images of this decision's prompt (only built again when the observation has an image)."""
        if not (isinstance(observation, dict) and observation.get("image") is not None):
            return []
        return images_of(self.build_prompt(observation, info))

    # -- agent API ---------------------------------------------------------------------------------
    def act_batch_traced(self, requests: Sequence[tuple[Observation, Info]]) -> list[ActionTrace]:
        """Decide every request with one ``generate`` call per sampling in use (one, unless some requests
        are greedy retries: :meth:`sampling_for`) and at most one ``score`` backend call."""
        requests = list(requests)
        generated = [(o, i) for o, i in requests if not self._uses_scoring(i)]
        by_sampling: dict[tuple[Any, ...], tuple[SamplingParams, list[int]]] = {}
        for k, (_obs, info) in enumerate(generated):
            sampling = self.sampling_for(info)
            by_sampling.setdefault(sampling.key(), (sampling, []))[1].append(k)
        completions: list[Any] = [None] * len(generated)
        for sampling, ks in by_sampling.values():
            prompts = self.generation_requests([generated[k] for k in ks])
            replies = self.backend.generate(prompts, self._next_sampling(sampling))
            for k, reply in zip(ks, replies, strict=True):
                completions[k] = reply
        score_prompts, conts = self.scoring_requests(requests)
        scored = self.backend.score(score_prompts, conts) if score_prompts else []
        return self.finish(requests, completions, scored)

    def act_batch(self, requests: Sequence[tuple[Observation, Info]]) -> list[Answer]:
        return [t.action for t in self.act_batch_traced(requests)]

    def act_traced(self, observation: Observation, info: Info) -> ActionTrace:
        """One decision with its trace (the match runner records the reply for ``--reveal`` spectators)."""
        return self.act_batch_traced([(observation, info)])[0]

    def act(self, observation: Observation, info: Info) -> Answer:
        return self.act_traced(observation, info).action

    def action_distribution(self, observation: Observation, info: Info) -> dict[str, float]:
        """Probabilities over ``info["legal_actions"]`` from the policy's scores (as constrained mode uses)."""
        legal = [str(a) for a in (info or {}).get("legal_actions") or []]
        if not legal:
            raise ArenaError("action_distribution needs info['legal_actions']")
        prompt = self.build_prompt(observation, info)
        replies = answer_spec(info).replies
        scored = self.backend.score(
            [prompt] * len(legal), [format_answer(a, self.answer_format, self.think) for a in replies]
        )
        probs = _softmax([s.total for s in scored])
        return {a: float(p) for a, p in zip(legal, probs, strict=True)}

    def reset(self) -> None:
        """Nothing to forget: every observation carries the agent's full visible history."""

    def __repr__(self) -> str:
        return f"LLMAgent(name={self.name!r}, backend={self.backend!r}, constrained={self.constrained})"


_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
_AGENT_KEYS = {
    "constrained",
    "sample",
    "answer_format",
    "name",
    "system_prompt",
    "show_legal",
    "think",
    "max_model_len",
    "history_lines",
    "retry_temperature",
}
_SAMPLING_KEYS = {"temperature", "top_p", "max_new_tokens", "seed"}
_BOOL_KEYS = {"constrained", "sample", "show_legal"}


def _convert(value: str) -> Any:
    """A spec value as the number it spells (``1`` is the int 1: ``seed=1``, ``max_new_tokens=1``), else the
    bool it spells (``true``, ``off``), else the text."""
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return _BOOL.get(value.strip().lower(), value)


@dataclass
class AgentSpec:
    """A parsed ``PATH_OR_NAME[,key=value,...]`` spec."""

    model: str
    backend: str = "transformers"
    agent: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)
    backend_options: dict[str, Any] = field(default_factory=dict)


def parse_agent_spec(spec: str) -> AgentSpec:
    """Split ``PATH_OR_NAME[,backend=...,constrained=1,temperature=0.7,base_url=...]`` into its parts.

    Keys: ``backend`` (transformers|vllm|openai); agent keys ``constrained``, ``sample``,
    ``answer_format``, ``name``, ``system_prompt``, ``show_legal``, ``think``, ``max_model_len`` (the
    context budget's limit, for backends that cannot report it), ``history_lines`` (latest history lines
    shown), ``retry_temperature`` (a greedy agent's retries after an invalid move); sampling keys
    ``temperature``, ``top_p``, ``max_new_tokens``, ``seed``, ``stop`` (``|``-separated); every other
    key goes to the backend constructor (``device``, ``dtype``, ``base_url``, ``api_key``, ``timeout``...).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ArenaError("an llm agent spec needs a model path or name, e.g. 'llm:models/tiny,temperature=0.7'")
    head, *rest = [part.strip() for part in spec.split(",")]
    if not head or "=" in head:
        raise ArenaError(f"llm spec {spec!r} must start with a model path or name")
    out = AgentSpec(model=head)
    for item in rest:
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ArenaError(f"llm spec option {item!r} must look like key=value")
        if key == "backend":
            out.backend = value.strip()
        elif key in _AGENT_KEYS:
            if key in _BOOL_KEYS:
                if value.strip().lower() not in _BOOL:
                    raise ArenaError(f"llm spec option {key}={value} must be true or false (or 1 / 0)")
                out.agent[key] = _BOOL[value.strip().lower()]
            else:
                out.agent[key] = (
                    value if key in ("name", "system_prompt", "answer_format", "think") else _convert(value)
                )
        elif key == "stop":
            out.sampling["stop"] = tuple(s for s in value.split("|") if s)
        elif key in _SAMPLING_KEYS:
            out.sampling[key] = _convert(value)
        else:
            out.backend_options[key] = value if key in ("base_url", "api_key", "model") else _convert(value)
    if out.backend not in ("transformers", "vllm", "openai"):
        raise ArenaError(f"unknown backend {out.backend!r} in llm spec; use transformers, vllm or openai")
    return out


def agent_from_spec(
    spec: str, env_id: str | None = None, seed: int | None = None, backend: PolicyBackend | None = None
) -> LLMAgent:
    """Build an :class:`LLMAgent` from the part after ``llm:`` in a CLI agent spec (see
    :func:`parse_agent_spec`). ``backend`` reuses an already loaded backend."""
    from arena.agents.backends import load_backend

    parsed = parse_agent_spec(spec)
    if backend is None:
        from arena.agents.specs import check_backend_options

        check_backend_options(parsed, spec)
        backend = load_backend(parsed.model, parsed.backend, **parsed.backend_options)
    trained_agent, trained_sampling = checkpoint_policy(parsed.model, env_id)
    # explicit spec keys win over the checkpoint's policy.json, which wins over the game's default budget
    sampling = SamplingParams(
        **{"max_new_tokens": default_max_new_tokens(env_id), **trained_sampling, **parsed.sampling}
    )
    if sampling.seed is None and seed is not None:
        sampling = replace(sampling, seed=seed)
    kwargs = {**trained_agent, **parsed.agent}
    kwargs.setdefault("name", f"llm:{parsed.model}")
    return LLMAgent(backend, env_id=env_id, sampling=sampling, seed=seed, **kwargs)


POLICY_FILE = "policy.json"


def checkpoint_policy(model: str, env_id: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """How a trained checkpoint plays, from the ``policy.json`` the trainer writes next to its weights:
    ``(agent kwargs, sampling kwargs)`` -- answer format, think prefix, constrained (for the games it
    was trained constrained on), the legal list shown or not, blanked images, the history window, ``max_new_tokens`` (one
    number, or per game) and the training temperature. Empty without the file."""
    import json
    from pathlib import Path

    path = Path(model).expanduser() / POLICY_FILE
    if not path.is_file():
        return {}, {}
    try:
        policy = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ArenaError(f"{path}: unreadable ({err})") from None
    agent: dict[str, Any] = {k: str(policy[k]) for k in ("answer_format", "think") if isinstance(policy.get(k), str)}
    if isinstance(policy.get("constrained"), list):
        agent["constrained"] = env_id in policy["constrained"]
    if isinstance(policy.get("hide_legal"), list):
        agent["show_legal"] = env_id not in policy["hide_legal"]
    if isinstance(policy.get("blank_images"), bool):
        agent["blank_images"] = policy["blank_images"]
    window = policy.get("history_lines")
    window = window.get(env_id) if isinstance(window, dict) else window
    if isinstance(window, int) and not isinstance(window, bool) and window >= 0:
        agent["history_lines"] = window
    tokens = policy.get("max_new_tokens")
    tokens = tokens.get(env_id) if isinstance(tokens, dict) else tokens
    sampling: dict[str, Any] = {"max_new_tokens": tokens} if isinstance(tokens, int) and tokens > 0 else {}
    temperature = policy.get("temperature")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool) and temperature >= 0:
        sampling["temperature"] = float(temperature)  # what sample=true draws at
    return agent, sampling


def sequence_logprob(logprobs: Sequence[float]) -> float:
    """Sum of token logprobs, with NaN/inf mapped to -inf-safe floats."""
    total = float(sum(logprobs))
    return total if math.isfinite(total) else -1e30
