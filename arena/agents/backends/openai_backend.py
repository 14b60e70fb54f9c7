"""``OpenAIBackend``: any OpenAI-compatible chat-completions server (``vllm serve``, others) over HTTP.

* One ``POST {base_url}/chat/completions`` per prompt, at most ``concurrency`` in flight (a thread
  pool over one ``httpx.Client``).
* Every request has a ``timeout`` (seconds, per connect/read/write) and is retried ``max_retries`` times
  with exponential backoff (``backoff * 2**attempt``) on timeouts, connection errors, HTTP 429 and 5xx.
  When the retries are spent an :class:`~arena.core.errors.ArenaError` says what failed; a call never
  hangs longer than about ``(max_retries + 1) * timeout`` plus the backoff.
* Token ids and logprobs are requested (``logprobs: true`` and vLLM's ``return_token_ids: true``). A
  server that rejects the vLLM extension (HTTP 400) is asked again without it, once, and from then on;
  completions then carry the logprobs the server gives and empty token-id lists.
* Images in chat content are sent as ``image_url`` parts with PNG data URLs.
* :meth:`OpenAIBackend.score` uses vLLM's ``prompt_logprobs`` + ``continue_final_message`` extensions.
* Weights live in the server: ``sync_from``/``load_weights`` raise; set ``version`` yourself when you
  reload the server with a new checkpoint.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from arena.agents.backends.base import ChatPrompt, Completion, SamplingParams, Scored
from arena.core.errors import ArenaError

_EXTENSIONS = ("return_token_ids",)


def _png_data_url(image: Any) -> str:
    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def to_openai_messages(prompt: ChatPrompt) -> list[dict[str, Any]]:
    """Arena chat messages as OpenAI chat messages (image arrays become PNG ``image_url`` parts)."""
    out = []
    for message in prompt:
        content = message.get("content")
        if isinstance(content, list):
            parts: list[dict[str, Any]] = []
            for part in content:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "image" and "image" in part:
                    parts.append({"type": "image_url", "image_url": {"url": _png_data_url(part["image"])}})
                elif part.get("type") == "text":
                    parts.append({"type": "text", "text": str(part.get("text", ""))})
            content = parts
        else:
            content = "" if content is None else str(content)
        out.append({"role": str(message.get("role", "user")), "content": content})
    return out


def _token_id(entry: dict[str, Any]) -> int | None:
    token = entry.get("token")
    if isinstance(token, str) and token.startswith("token_id:"):
        try:
            return int(token.split(":", 1)[1])
        except ValueError:
            return None
    return None


class OpenAIBackend:
    """An OpenAI-compatible HTTP server behind the ``PolicyBackend`` protocol; see the module docstring."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 8,
        request_token_ids: bool = True,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        import httpx

        if not base_url:
            raise ArenaError("the openai backend needs base_url=http://HOST:PORT/v1")
        if timeout <= 0 or max_retries < 0 or concurrency < 1:
            raise ArenaError("openai backend: timeout must be > 0, max_retries >= 0, concurrency >= 1")
        self.model = str(model)
        self.base_url = str(base_url).rstrip("/")
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.concurrency = int(concurrency)
        self.extensions = bool(request_token_ids)
        self.extra_body = dict(extra_body or {})
        self.version = 0
        self.requests_sent = 0
        self._lock = threading.Lock()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.timeout),
            headers=headers,
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
        )
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="arena-openai")

    # -- HTTP --------------------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with retries/backoff; returns the decoded JSON or raises ArenaError."""
        import httpx

        url = f"{self.base_url}{path}"
        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            with self._lock:
                self.requests_sent += 1
                send = dict(body)
                if not self.extensions:
                    for key in _EXTENSIONS:
                        send.pop(key, None)
            try:
                response = self._client.post(url, json=send)
            except httpx.TimeoutException:
                last = f"timed out after {self.timeout:g}s"
                continue
            except httpx.HTTPError as err:
                last = f"{type(err).__name__}: {err}"
                continue
            if response.status_code == 400 and self.extensions and any(k in send for k in _EXTENSIONS):
                self.extensions = False  # a strict server: ask again without vLLM's extension fields
                return self._post(path, body)
            if response.status_code == 429 or response.status_code >= 500:
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400:
                raise ArenaError(
                    f"openai backend: POST {url} failed with HTTP {response.status_code}: {response.text[:300]}"
                )
            try:
                data = response.json()
            except ValueError:
                raise ArenaError(f"openai backend: POST {url} returned invalid JSON: {response.text[:200]!r}") from None
            if not isinstance(data, dict):
                raise ArenaError(f"openai backend: POST {url} returned {type(data).__name__}, not an object")
            return data
        raise ArenaError(f"openai backend: POST {url} failed after {self.max_retries + 1} attempts: {last}")

    # -- generation --------------------------------------------------------------------------------
    def _body(self, prompt: ChatPrompt, sampling: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(prompt),
            "max_tokens": int(sampling.max_new_tokens),
            "temperature": max(0.0, float(sampling.temperature)),
            "top_p": 1.0 if sampling.temperature <= 0 else float(sampling.top_p),
            "logprobs": True,
            "return_token_ids": True,
            **self.extra_body,
        }
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if sampling.seed is not None:
            body["seed"] = int(sampling.seed)
        return body

    def _one(self, prompt: ChatPrompt, sampling: SamplingParams) -> Completion:
        data = self._post("/chat/completions", self._body(prompt, sampling))
        choices = data.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            raise ArenaError(f"openai backend: response without choices: {str(data)[:200]}")
        choice = choices[0]
        message = choice.get("message") or {}
        text = message.get("content") or ""
        entries = ((choice.get("logprobs") or {}).get("content")) or []
        logprobs = [float(e.get("logprob", 0.0)) for e in entries if isinstance(e, dict)]
        ids = choice.get("token_ids")
        if not isinstance(ids, list):
            parsed = [_token_id(e) for e in entries if isinstance(e, dict)]
            ids = parsed if parsed and all(i is not None for i in parsed) else []
        prompt_ids = data.get("prompt_token_ids") or choice.get("prompt_token_ids") or []
        reason = "length" if choice.get("finish_reason") == "length" else "stop"
        return Completion(str(text), [int(i) for i in prompt_ids], [int(i) for i in ids], logprobs, reason)

    def generate(self, prompts: Sequence[ChatPrompt], sampling: SamplingParams | None = None) -> list[Completion]:
        """One reply per prompt; up to ``concurrency`` requests in flight."""
        sampling = sampling or SamplingParams()
        if sampling.max_new_tokens < 1:
            return [Completion("", [], [], [], "length") for _ in prompts]
        return list(self._pool.map(lambda p: self._one(p, sampling), prompts))

    # -- scoring -----------------------------------------------------------------------------------
    def _score_one(self, prompt: ChatPrompt, continuation: str) -> Scored:
        base = {"model": self.model, "max_tokens": 1, "temperature": 0.0, "return_token_ids": True, **self.extra_body}
        head = self._post("/chat/completions", {**base, "messages": to_openai_messages(prompt)})
        full = self._post(
            "/chat/completions",
            {
                **base,
                "messages": [*to_openai_messages(prompt), {"role": "assistant", "content": continuation}],
                "add_generation_prompt": False,
                "continue_final_message": True,
                "prompt_logprobs": 0,
            },
        )
        prompt_ids = [int(i) for i in head.get("prompt_token_ids") or []]
        full_ids = [int(i) for i in full.get("prompt_token_ids") or []]
        table = full.get("prompt_logprobs")
        if not prompt_ids or full_ids[: len(prompt_ids)] != prompt_ids or not isinstance(table, list):
            raise ArenaError(
                "openai backend: score() needs a vLLM-compatible server (prompt_token_ids, prompt_logprobs)"
            )
        values = []
        for i in range(len(prompt_ids), len(full_ids)):
            entry = table[i] if i < len(table) else None
            tok = (entry or {}).get(str(full_ids[i])) or (entry or {}).get(full_ids[i])
            if not isinstance(tok, dict):
                raise ArenaError(f"openai backend: no prompt logprob for token {full_ids[i]} at position {i}")
            values.append(float(tok.get("logprob", 0.0)))
        return Scored(prompt_ids, full_ids[len(prompt_ids) :], values)

    def score(self, prompts: Sequence[ChatPrompt], continuations: Sequence[str]) -> list[Scored]:
        """Per-token logprobs of each continuation after its prompt (vLLM servers)."""
        if len(prompts) != len(continuations):
            raise ArenaError(f"score: {len(prompts)} prompts but {len(continuations)} continuations")
        return list(self._pool.map(lambda pc: self._score_one(*pc), zip(prompts, continuations, strict=True)))

    # -- weights -----------------------------------------------------------------------------------
    def sync_from(self, model: Any) -> None:
        """Not possible over plain HTTP: restart/reload the server, then set ``version``."""
        raise ArenaError("the openai backend cannot receive weights; reload the server and set backend.version")

    def load_weights(self, path: str) -> None:
        """Not possible over plain HTTP (see :meth:`sync_from`)."""
        raise ArenaError("the openai backend cannot load weights; serve the new checkpoint and set backend.version")

    def close(self) -> None:
        """Close the HTTP client and the thread pool."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def __repr__(self) -> str:
        return f"OpenAIBackend({self.model!r}, base_url={self.base_url!r}, version={self.version})"
