"""The policy-backend contract: token-in/token-out generation, scoring and weight sync.

A backend turns chat prompts into completions and reports, for every generated token, its id and its
log-probability, which is what RL training needs ("old logprobs"). Three implementations exist:

* :mod:`~arena.agents.backends.transformers_backend` -- Hugging Face ``transformers`` on CPU or GPU; its
  ``.model`` is also the model the trainer optimises.
* :mod:`~arena.agents.backends.vllm_backend` -- an in-process ``vllm.LLM`` engine (optional extra, GPU).
* :mod:`~arena.agents.backends.openai_backend` -- any OpenAI-compatible HTTP server (e.g. ``vllm serve``).

**Which logprobs.** Every backend here returns the log-probability of each sampled token under the
*raw* model distribution at temperature 1 (``log_softmax(logits)``), not the temperature/top-p processed
distribution the token was sampled from. With ``temperature=1, top_p=1`` the two coincide; otherwise
the raw value is what a trainer recomputes with a plain forward pass, so the PPO ratio starts at 1.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from arena.core.errors import ArenaError

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: One chat message: ``{"role": "system"|"user"|"assistant", "content": str | list[part]}`` where a part
#: is ``{"type": "text", "text": str}`` or ``{"type": "image", "image": np.ndarray}`` (uint8, H x W x 3).
ChatMessage = dict[str, Any]
ChatPrompt = list[ChatMessage]


@dataclass
class SamplingParams:
    """How to sample. ``temperature=0`` means greedy decoding."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 64
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        """Refuse what no backend can sample with, naming the field (a CLI spec's ``temperature=-1`` or
        ``max_new_tokens=abc`` once reached a backend as is)."""
        temperature, top_p, budget, seed = self.temperature, self.top_p, self.max_new_tokens, self.seed
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, numbers.Real)
            or not 0 <= temperature < math.inf
        ):
            raise ArenaError(f"temperature must be a number >= 0 (0: greedy), got {temperature!r}")
        if isinstance(top_p, bool) or not isinstance(top_p, numbers.Real) or not 0 < top_p <= 1:
            raise ArenaError(f"top_p must be in (0, 1], got {top_p!r}")
        if isinstance(budget, bool) or not isinstance(budget, numbers.Integral) or budget < 0:
            raise ArenaError(f"max_new_tokens must be an integer >= 0, got {budget!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ArenaError(f"seed must be an integer >= 0 or None, got {seed!r}")
        if isinstance(self.stop, str):
            raise ArenaError(f"stop must be a sequence of strings, not one string: got {self.stop!r}")

    def key(self) -> tuple[Any, ...]:
        """A hashable identity (requests with equal keys can share one backend call)."""
        return (self.temperature, self.top_p, self.max_new_tokens, tuple(self.stop), self.seed)


@dataclass
class Completion:
    """One generated reply.

    ``logprobs[i]`` is log p(``completion_ids[i]``) under the policy version that generated it, at
    temperature 1 without top-p (see the module docstring). ``completion_ids`` include the end-of-turn
    token when the model produced one (so a trainer can teach the model to stop), and are cut right after
    the first stop string when one appears. ``finish_reason`` is ``"stop"`` (end token or stop string),
    ``"length"`` (``max_new_tokens`` reached) or ``"error"`` (nothing generated; ``error`` says why).
    """

    text: str
    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float]
    finish_reason: str = "stop"
    #: Why the backend produced no reply for this request (e.g. the prompt exceeds the engine's context);
    #: None when it generated normally. Such a completion is empty, with ``finish_reason`` ``"error"``.
    error: str | None = None


@dataclass
class Scored:
    """Log-likelihood of a given continuation after a prompt, token by token."""

    prompt_ids: list[int]
    continuation_ids: list[int]
    logprobs: list[float]

    @property
    def total(self) -> float:
        """Sum of the per-token logprobs: log p(continuation | prompt)."""
        return float(sum(self.logprobs))


@runtime_checkable
class PolicyBackend(Protocol):
    """What an :class:`~arena.agents.llm.LLMAgent` and the trainer need from a policy."""

    #: Bumped on every weight update, recorded with each generated turn (staleness checks).
    version: int

    def generate(self, prompts: Sequence[ChatPrompt], sampling: SamplingParams) -> list[Completion]: ...

    def score(self, prompts: Sequence[ChatPrompt], continuations: Sequence[str]) -> list[Scored]: ...

    def sync_from(self, model: torch.nn.Module) -> None: ...

    def load_weights(self, path: str) -> None: ...


def request_seeds(seed: int | None, n: int) -> list[int | None]:
    """One seed per request of a batch, derived from (``seed``, row): an engine that seeds every request
    (vLLM, OpenAI-compatible servers) would otherwise give identical prompts in a training group identical
    samples. Deterministic, distinct across rows, and 31-bit (what every server accepts); None stays None."""
    if seed is None:
        return [None] * n
    import numpy as np

    states = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0x5EED]).spawn(n)
    return [int(s.generate_state(1)[0] >> 1) for s in states]


def text_of(content: Any) -> str:
    """The text of a message's content (parts joined by newlines; images dropped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "\n".join(texts)
    return "" if content is None else str(content)


def images_of(prompt: ChatPrompt) -> list[Any]:
    """All image arrays in a prompt, in order."""
    out = []
    for message in prompt:
        content = message.get("content")
        if isinstance(content, list):
            out.extend(p["image"] for p in content if isinstance(p, dict) and p.get("type") == "image" and "image" in p)
    return out


def text_only(prompt: ChatPrompt, image_placeholder: str = "") -> list[dict[str, str]]:
    """The prompt with every content flattened to a string (for text-only chat templates)."""
    flat = []
    for message in prompt:
        content = message.get("content")
        if isinstance(content, list) and image_placeholder:
            parts = [
                image_placeholder if isinstance(p, dict) and p.get("type") == "image" else text_of([p]) for p in content
            ]
            text = "\n".join(p for p in parts if p)
        else:
            text = text_of(content)
        flat.append({"role": str(message.get("role", "user")), "content": text})
    return flat


def cut_at_stop(text: str, stops: Sequence[str]) -> int | None:
    """The end index (exclusive) of the first stop string in ``text``, or None."""
    best = None
    for stop in stops:
        if not stop:
            continue
        i = text.find(stop)
        if i >= 0 and (best is None or i + len(stop) < best):
            best = i + len(stop)
    return best
