"""Policy backends and :func:`load_backend`. Heavy libraries (torch, vllm, httpx) load lazily."""

from __future__ import annotations

from typing import Any

from arena.agents.backends.base import ChatMessage, ChatPrompt, Completion, PolicyBackend, SamplingParams, Scored
from arena.core.errors import ArenaError

__all__ = [
    "BACKENDS",
    "ChatMessage",
    "ChatPrompt",
    "Completion",
    "PolicyBackend",
    "SamplingParams",
    "Scored",
    "load_backend",
]

BACKENDS = ("transformers", "vllm", "openai")


def load_backend(name_or_path: str, backend: str = "transformers", **options: Any) -> PolicyBackend:
    """Open a policy backend.

    * ``transformers``: ``name_or_path`` is a local ``save_pretrained`` directory (or a hub id when online);
      options ``device``, ``dtype``, ``max_batch_size``.
    * ``vllm``: in-process ``vllm.LLM`` (needs the optional ``vllm`` package and a GPU); options go to
      :class:`~arena.agents.backends.vllm_backend.VLLMBackend`.
    * ``openai``: ``name_or_path`` is the served model name; options ``base_url`` (required), ``api_key``,
      ``timeout``, ``max_retries``, ``concurrency``.
    """
    if backend == "transformers":
        from arena.agents.backends.transformers_backend import TransformersBackend

        return TransformersBackend(name_or_path, **options)
    if backend == "vllm":
        from arena.agents.backends.vllm_backend import VLLMBackend

        return VLLMBackend(name_or_path, **options)
    if backend == "openai":
        from arena.agents.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(name_or_path, **options)
    raise ArenaError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
