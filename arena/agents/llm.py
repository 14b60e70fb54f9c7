"""``LLMAgent``: a seat played by a language model through a :class:`PolicyBackend`.

Per turn: observation -> chat messages -> backend -> parsed action.

* **Messages.** A system prompt (the game's one-line description from the registry plus the answer
  format; the full rules already open every observation) and one user message holding the
  observation text; for visual games the image comes first as an image part. If the observation does
  not already list ``info["legal_actions"]``, a ``Legal actions: ...`` line is appended.
* **Answer format.** ``"tags"`` (default): the model replies ``<think>...</think><answer>ACTION</answer>``
  and the action is the text inside the *last* ``<answer>...</answer>`` (an unclosed final
  ``<answer>`` also counts). ``"raw"``: the whole reply is the action. Any other string is a regular
  expression whose first group (last match) is the action. Parsing never raises: when nothing can be
  parsed the raw reply is returned, so the game's invalid-move rule applies.
* **Constrained mode.** The agent scores every legal action's formatted reply with ``backend.score``
  and picks the argmax (evaluation) or samples from the softmax over the legal actions (``sample=True``,
  for training). Games without ``legal_actions`` fall back to generation.
* **Training.** :meth:`LLMAgent.act_batch_traced` returns :class:`ActionTrace`s (prompt ids, completion
  ids, per-token logprobs, policy version); :mod:`arena.agents.scheduler` batches many matches.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from arena.agents.backends.base import ChatPrompt, Completion, PolicyBackend, SamplingParams, Scored
from arena.agents.base import BaseAgent, Info, Observation
from arena.core.errors import ArenaError

ANSWER_INSTRUCTIONS = (
    "Think briefly inside <think></think>, then give your move inside <answer></answer>, "
    "written exactly as one of the legal actions, for example <think></think><answer>[4]</answer>."
)
_TAG_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_OPEN_ANSWER = re.compile(r"<answer>", re.IGNORECASE)
_MAX_PARSE_CHARS = 200_000


def system_prompt_for(env_id: str | None, answer_format: str = "tags") -> str:
    """The default system prompt: which game (registry description) and how to answer."""
    lines = []
    if env_id:
        description = ""
        try:
            import arena

            description = arena.spec(env_id).description
        except Exception:  # an unregistered id still gets a usable prompt
            pass
        lines.append(f"You are playing the game {env_id}." + (f" {description}" if description else ""))
    else:
        lines.append("You are playing a text game.")
    lines.append("The rules and the current state are in the user message.")
    if answer_format == "tags":
        lines.append(ANSWER_INSTRUCTIONS)
    elif answer_format == "raw":
        lines.append("Reply with your move only, written exactly as one of the legal actions.")
    return " ".join(lines)


def format_answer(action: str, answer_format: str = "tags", think: str = "") -> str:
    """The reply that plays ``action`` in ``answer_format`` (targets for warm start and constrained scoring)."""
    if answer_format == "tags":
        return f"<think>{think}</think><answer>{action}</answer>"
    return action


def parse_answer(text: Any, answer_format: str = "tags") -> str:
    """The action inside a model reply; never raises (unparseable -> the stripped raw text)."""
    try:
        raw = text if isinstance(text, str) else ("" if text is None else str(text))
        raw = raw[-_MAX_PARSE_CHARS:]
        if answer_format == "raw":
            return raw.strip()
        if answer_format == "tags":
            matches = _TAG_ANSWER.findall(raw)
            if matches:
                return matches[-1].strip()
            opens = list(_OPEN_ANSWER.finditer(raw))
            if opens:
                return raw[opens[-1].end() :].strip()
            return raw.strip()
        found = list(re.finditer(answer_format, raw, re.DOTALL))
        if found:
            match = found[-1]
            return (match.group(1) if match.groups() else match.group(0)).strip()
        return raw.strip()
    except Exception:  # pragma: no cover - defensive: a parser must never take a game down
        return text if isinstance(text, str) else ""


@dataclass
class ActionTrace:
    """One LLM decision with what training needs.

    ``prompt_ids`` / ``completion_ids`` are the exact tokens; ``logprobs[i]`` is the behaviour logprob of
    ``completion_ids[i]`` (raw model, temperature 1) at policy ``version``. In constrained mode the
    completion is the formatted reply of the chosen legal action and ``legal_probs`` holds the
    softmax over legal actions that it was chosen from (argmax or sampled).
    """

    action: str
    text: str
    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float]
    version: int
    legal_probs: dict[str, float] | None = None
    finish_reason: str = "stop"


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
        self.sampling = sampling or SamplingParams(temperature=1.0, max_new_tokens=64)
        self.name = name
        self.sample = bool(sample)
        self.show_legal = show_legal
        self.think = think
        self.rng = np.random.default_rng(seed)
        if seed is not None and self.sampling.seed is None:
            self.sampling = replace(self.sampling, seed=seed)
        self._calls = 0

    # -- prompts -----------------------------------------------------------------------------------
    def build_prompt(self, observation: Observation, info: Info) -> ChatPrompt:
        """The chat messages for one decision."""
        obs = observation if isinstance(observation, dict) else {"text": str(observation)}
        text = str(obs.get("text", ""))
        legal = (info or {}).get("legal_actions")
        if self.show_legal and legal and not all(str(a) in text for a in legal):
            text += "\nLegal actions: " + " ".join(str(a) for a in legal)
        image = obs.get("image")
        content: Any = text
        if image is not None:
            content = [{"type": "image", "image": np.asarray(image, dtype=np.uint8)}, {"type": "text", "text": text}]
        messages: ChatPrompt = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append({"role": "user", "content": content})
        return messages

    def parse(self, text: str) -> str:
        return parse_answer(text, self.answer_format)

    def _uses_scoring(self, info: Info) -> bool:
        return self.constrained and bool((info or {}).get("legal_actions"))

    def _next_sampling(self) -> SamplingParams:
        """Sampling params for the next call (a fixed seed advances per call, so moves still vary)."""
        self._calls += 1
        if self.sampling.seed is None:
            return self.sampling
        return replace(self.sampling, seed=int(self.sampling.seed) + self._calls - 1)

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
                for action in info["legal_actions"]:
                    prompts.append(prompt)
                    conts.append(format_answer(str(action), self.answer_format, self.think))
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
        for _obs, info in requests:
            if not self._uses_scoring(info):
                c = completions[gi]
                gi += 1
                traces.append(
                    ActionTrace(
                        self.parse(c.text),
                        c.text,
                        list(c.prompt_ids),
                        list(c.completion_ids),
                        [float(x) for x in c.logprobs],
                        version,
                        None,
                        c.finish_reason,
                    )
                )
                continue
            legal = [str(a) for a in info["legal_actions"]]
            group = scored[si : si + len(legal)]
            si += len(legal)
            probs = _softmax([s.total for s in group])
            k = int(self.rng.choice(len(legal), p=probs)) if sample else int(np.argmax(probs))
            chosen = group[k]
            traces.append(
                ActionTrace(
                    legal[k],
                    format_answer(legal[k], self.answer_format, self.think),
                    list(chosen.prompt_ids),
                    list(chosen.continuation_ids),
                    [float(x) for x in chosen.logprobs],
                    version,
                    {a: float(p) for a, p in zip(legal, probs, strict=True)},
                )
            )
        return traces

    # -- agent API ---------------------------------------------------------------------------------
    def act_batch_traced(self, requests: Sequence[tuple[Observation, Info]]) -> list[ActionTrace]:
        """Decide every request with at most one ``generate`` and one ``score`` backend call."""
        requests = list(requests)
        gen_prompts = self.generation_requests(requests)
        score_prompts, conts = self.scoring_requests(requests)
        completions = self.backend.generate(gen_prompts, self._next_sampling()) if gen_prompts else []
        scored = self.backend.score(score_prompts, conts) if score_prompts else []
        return self.finish(requests, completions, scored)

    def act_batch(self, requests: Sequence[tuple[Observation, Info]]) -> list[str]:
        return [t.action for t in self.act_batch_traced(requests)]

    def act(self, observation: Observation, info: Info) -> str:
        return self.act_batch([(observation, info)])[0]

    def action_distribution(self, observation: Observation, info: Info) -> dict[str, float]:
        """Probabilities over ``info["legal_actions"]`` from the policy's scores (as constrained mode uses)."""
        legal = [str(a) for a in (info or {}).get("legal_actions") or []]
        if not legal:
            raise ArenaError("action_distribution needs info['legal_actions']")
        prompt = self.build_prompt(observation, info)
        scored = self.backend.score(
            [prompt] * len(legal), [format_answer(a, self.answer_format, self.think) for a in legal]
        )
        probs = _softmax([s.total for s in scored])
        return {a: float(p) for a, p in zip(legal, probs, strict=True)}

    def reset(self) -> None:
        """Nothing to forget: every observation carries the agent's full visible history."""

    def __repr__(self) -> str:
        return f"LLMAgent(name={self.name!r}, backend={self.backend!r}, constrained={self.constrained})"


_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
_AGENT_KEYS = {"constrained", "sample", "answer_format", "name", "system_prompt", "show_legal", "think"}
_SAMPLING_KEYS = {"temperature", "top_p", "max_new_tokens", "seed"}


def _convert(value: str) -> Any:
    low = value.strip().lower()
    if low in _BOOL:
        return _BOOL[low]
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


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
    ``answer_format``, ``name``, ``system_prompt``, ``show_legal``, ``think``; sampling keys
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
        if not sep:
            raise ArenaError(f"llm spec option {item!r} must look like key=value")
        if key == "backend":
            out.backend = value.strip()
        elif key in _AGENT_KEYS:
            out.agent[key] = value if key in ("name", "system_prompt", "answer_format", "think") else _convert(value)
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
        backend = load_backend(parsed.model, parsed.backend, **parsed.backend_options)
    trained_agent, trained_sampling = checkpoint_policy(parsed.model, env_id)
    sampling = SamplingParams(**{**trained_sampling, **parsed.sampling})  # explicit spec keys win
    if sampling.seed is None and seed is not None:
        sampling = replace(sampling, seed=seed)
    kwargs = {**trained_agent, **parsed.agent}
    kwargs.setdefault("name", f"llm:{parsed.model}")
    return LLMAgent(backend, env_id=env_id, sampling=sampling, seed=seed, **kwargs)


POLICY_FILE = "policy.json"


def checkpoint_policy(model: str, env_id: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """How a trained checkpoint plays, from the ``policy.json`` the trainer writes next to its weights:
    ``(agent kwargs, sampling kwargs)`` -- answer format, think prefix, constrained (for the games it
    was trained constrained on) and ``max_new_tokens`` (one number, or per game). Empty without the file."""
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
    tokens = policy.get("max_new_tokens")
    tokens = tokens.get(env_id) if isinstance(tokens, dict) else tokens
    sampling = {"max_new_tokens": tokens} if isinstance(tokens, int) and tokens > 0 else {}
    return agent, sampling


def sequence_logprob(logprobs: Sequence[float]) -> float:
    """Sum of token logprobs, with NaN/inf mapped to -inf-safe floats."""
    total = float(sum(logprobs))
    return total if math.isfinite(total) else -1e30
