"""``OpenAIBackend``: any OpenAI-compatible chat-completions server (``vllm serve``, others) over HTTP.

* One ``POST {base_url}/chat/completions`` per prompt, at most ``concurrency`` in flight (a thread
  pool over one ``httpx.Client``).
* Every request has a ``timeout`` (seconds, per connect/read/write) and is retried ``max_retries`` times
  with exponential backoff (``backoff * 2**attempt``) on timeouts, connection errors, HTTP 429 and 5xx.
  When the retries are spent an :class:`~arena.core.errors.ArenaError` says what failed; a call never
  hangs longer than about ``(max_retries + 1) * timeout`` plus the backoff.
* **Capabilities, detected one by one.** Token ids (vLLM's ``return_token_ids``), logprobs
  (``logprobs``/``top_logprobs``) and prompt logprobs (vLLM's ``prompt_logprobs`` with
  ``continue_final_message``, for :meth:`OpenAIBackend.score`) are each requested until the server
  refuses that field by name (an HTTP 400/422 whose message names it, as ``transformers serve`` and
  OpenAI's API answer); the request is then sent again without it, and only that capability is no
  longer asked for. Any other 4xx is an error, and changes nothing. A server that silently omits token
  ids or logprobs is noticed in its answers (and still asked: the next answer may have them);
  ``capabilities`` shows what is known (True, False, None: not yet).
  When completions lack what training needs (token ids and logprobs), one warning says so.
* HTTP errors are raised as one line: method, URL, status and the server's own message.
* Each request of a batch gets its own seed, derived from (seed, row)
  (:func:`~arena.agents.backends.base.request_seeds`), so identical prompts get different samples.
* Images in chat content are sent as ``image_url`` parts with PNG data URLs.
* :meth:`OpenAIBackend.score` uses vLLM's ``prompt_logprobs`` + ``continue_final_message`` extensions.
* Weights live in the server: ``sync_from``/``load_weights`` raise; set ``version`` yourself when you
  reload the server with a new checkpoint.
"""

from __future__ import annotations

import base64
import io
import json
import math
import numbers
import re
import threading
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from arena.agents.backends.base import ChatPrompt, Completion, SamplingParams, Scored, request_seeds
from arena.core.errors import ArenaError

#: Each optional capability and the request fields that ask for it.
CAPABILITIES: dict[str, tuple[str, ...]] = {
    "token_ids": ("return_token_ids",),
    "logprobs": ("logprobs", "top_logprobs"),
    "prompt_logprobs": ("prompt_logprobs", "continue_final_message", "add_generation_prompt"),
}


def _names(field: str, message: str) -> bool:
    """Whether a server's error ``message`` names ``field`` as a whole word (``logprobs`` is not named by
    a complaint about ``prompt_logprobs``)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(field)}(?![A-Za-z0-9_])", message) is not None


def _server_message(response: Any) -> str:
    """The server's error message on one line: OpenAI's ``error.message``, FastAPI's ``detail`` (a string
    or a list of validation errors), else the body."""
    text = response.text
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    message: Any = text
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            message = error["message"]
        elif isinstance(error, str):
            message = error
        elif "detail" in data:
            detail = data["detail"]
            if isinstance(detail, list):
                message = "; ".join(
                    f"{'.'.join(str(x) for x in d.get('loc', []))}: {d.get('msg', d)}"
                    if isinstance(d, dict)
                    else str(d)
                    for d in detail
                )
            else:
                message = str(detail)
        elif "message" in data:
            message = str(data["message"])
    line = " ".join(str(message).split())
    return line[:300] + ("..." if len(line) > 300 else "")


class _Refused(Exception):
    """A 4xx answer: ``line`` is the one-line description, ``message`` the server's own words."""

    def __init__(self, line: str, message: str) -> None:
        super().__init__(line)
        self.line, self.message = line, message


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


def _number(value: Any) -> bool:
    """A real number, not a bool (NaN passes here: the range checks that follow refuse it)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


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
        if not (
            _number(timeout)
            and 0 < timeout < math.inf
            and _number(backoff)
            and 0 <= backoff < math.inf
            and isinstance(max_retries, numbers.Integral)
            and not isinstance(max_retries, bool)
            and max_retries >= 0
            and isinstance(concurrency, numbers.Integral)
            and not isinstance(concurrency, bool)
            and concurrency >= 1
        ):
            raise ArenaError(
                "openai backend: timeout must be a number > 0, backoff a number >= 0, max_retries an integer >= 0, "
                f"concurrency an integer >= 1; got timeout={timeout!r}, backoff={backoff!r}, "
                f"max_retries={max_retries!r}, concurrency={concurrency!r}"
            )
        self.model = str(model)
        self.base_url = str(base_url).rstrip("/")
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.concurrency = int(concurrency)
        self.capabilities: dict[str, bool | None] = {name: None for name in CAPABILITIES}
        self._refused: set[str] = set()  # capabilities whose fields the server rejected: no longer sent
        if not request_token_ids:
            self.capabilities["token_ids"] = False
            self._refused.add("token_ids")
        self.extra_body = dict(extra_body or {})
        self._warned: set[str] = set()
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
    def _post(self, path: str, body: dict[str, Any], required: str | None = None) -> dict[str, Any]:
        """POST ``body`` without the fields of capabilities known to be off. When the server refuses a field
        by name, that capability is switched off and the request sent again without it (unless the call
        needs it: ``required``); any other 4xx, or retries spent on timeouts/429/5xx, raise
        :class:`ArenaError` (one line)."""
        while True:
            with self._lock:
                off = [f for cap in self._refused for f in CAPABILITIES[cap]]
            send = {k: v for k, v in body.items() if k not in off}
            try:
                return self._post_once(path, send)
            except _Refused as err:
                refused = [
                    cap
                    for cap, fields in CAPABILITIES.items()
                    if any(f in send and f not in self.extra_body and _names(f, err.message) for f in fields)
                ]
                if not refused:
                    raise ArenaError(err.line) from None
                with self._lock:
                    for cap in refused:
                        self.capabilities[cap] = False
                        self._refused.add(cap)
                if required in refused:
                    self._require(required, err.message)

    def _post_once(self, path: str, send: dict[str, Any]) -> dict[str, Any]:
        """One POST with retries/backoff on timeouts, connection errors, 429 and 5xx."""
        import httpx

        url = f"{self.base_url}{path}"
        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            with self._lock:
                self.requests_sent += 1
            try:
                response = self._client.post(url, json=send)
            except httpx.TimeoutException:
                last = f"timed out after {self.timeout:g}s"
                continue
            except httpx.HTTPError as err:
                last = f"{type(err).__name__}: {err}"
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                last = f"HTTP {status}: {_server_message(response)}"
                continue
            if status >= 400:
                message = _server_message(response)
                raise _Refused(f"openai backend: POST {url} failed with HTTP {status}: {message}", message)
            try:
                data = response.json()
            except ValueError:
                raise ArenaError(f"openai backend: POST {url} returned invalid JSON: {response.text[:200]!r}") from None
            if not isinstance(data, dict):
                raise ArenaError(f"openai backend: POST {url} returned {type(data).__name__}, not an object")
            return data
        raise ArenaError(f"openai backend: POST {url} failed after {self.max_retries + 1} attempts: {last}")

    def _noted(self, capability: str, present: bool) -> None:
        """Record what an answer showed about a capability that was asked for (a server may ignore the field)."""
        with self._lock:
            if capability not in self._refused:
                self.capabilities[capability] = present

    def _warn_untrainable(self, completions: Sequence[Completion]) -> None:
        """One warning per backend and kind when completions lack the token ids or logprobs training needs."""
        missing = []
        if any(c.text and not c.completion_ids for c in completions):
            missing.append("token ids")
        if any(c.text and not c.logprobs for c in completions):
            missing.append("logprobs")
        key = " and ".join(missing)
        if not missing or key in self._warned:
            return
        self._warned.add(key)
        warnings.warn(
            f"openai backend: {self.base_url} returns no {key}; these completions can be played and evaluated "
            "but not trained on (a vLLM server returns both: `vllm serve` with return_token_ids and logprobs)",
            stacklevel=3,
        )

    # -- generation --------------------------------------------------------------------------------
    def _body(self, prompt: ChatPrompt, sampling: SamplingParams, seed: int | None) -> dict[str, Any]:
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
        if seed is not None:
            body["seed"] = int(seed)
        return body

    def _one(self, prompt: ChatPrompt, sampling: SamplingParams, seed: int | None) -> Completion:
        data = self._post("/chat/completions", self._body(prompt, sampling, seed))
        choices = data.get("choices") or []
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ArenaError(f"openai backend: response without choices: {str(data)[:200]}")
        choice = choices[0]
        try:  # a server's reply of another shape is an error that names it, not a TypeError from deep in here
            message = choice.get("message") or {}
            text = message.get("content") or ""
            entries = ((choice.get("logprobs") or {}).get("content")) or []
            logprobs = [float(e.get("logprob", 0.0)) for e in entries if isinstance(e, dict)]
            if not all(math.isfinite(x) for x in logprobs):  # NaN would reach the loss
                raise ValueError("a logprob is not a finite number")
            ids = choice.get("token_ids")
            if not isinstance(ids, list):
                parsed = [_token_id(e) for e in entries if isinstance(e, dict)]
                ids = parsed if parsed and all(i is not None for i in parsed) else []
            prompt_ids = [int(i) for i in data.get("prompt_token_ids") or choice.get("prompt_token_ids") or []]
            ids = [int(i) for i in ids]
        except (AttributeError, TypeError, ValueError) as err:
            raise ArenaError(f"openai backend: malformed completion ({err}): {str(choice)[:200]}") from None
        if text:
            self._noted("logprobs", bool(logprobs))
            self._noted("token_ids", bool(ids))
        reason = "length" if choice.get("finish_reason") == "length" else "stop"
        return Completion(str(text), prompt_ids, ids, logprobs, reason)

    def generate(self, prompts: Sequence[ChatPrompt], sampling: SamplingParams | None = None) -> list[Completion]:
        """One reply per prompt; up to ``concurrency`` requests in flight."""
        sampling = sampling or SamplingParams()
        if sampling.max_new_tokens < 1:
            return [Completion("", [], [], [], "length") for _ in prompts]
        seeds = request_seeds(sampling.seed, len(prompts))
        out = list(self._pool.map(lambda ps: self._one(ps[0], sampling, ps[1]), zip(prompts, seeds, strict=True)))
        self._warn_untrainable(out)
        return out

    # -- scoring -----------------------------------------------------------------------------------
    def _score_one(self, prompt: ChatPrompt, continuation: str) -> Scored:
        self._require("prompt_logprobs")
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
            required="prompt_logprobs",
        )
        try:
            prompt_ids = [int(i) for i in head.get("prompt_token_ids") or []]
            full_ids = [int(i) for i in full.get("prompt_token_ids") or []]
        except (TypeError, ValueError) as err:
            raise ArenaError(f"openai backend: malformed prompt_token_ids ({err})") from None
        table = full.get("prompt_logprobs")
        if not prompt_ids or full_ids[: len(prompt_ids)] != prompt_ids or not isinstance(table, list):
            raise ArenaError(
                "openai backend: score() needs a vLLM-compatible server (prompt_token_ids, prompt_logprobs)"
            )
        values = []
        for i in range(len(prompt_ids), len(full_ids)):
            entry = table[i] if i < len(table) else None
            entry = entry if isinstance(entry, dict) else {}
            tok = entry.get(str(full_ids[i])) or entry.get(full_ids[i])
            if not isinstance(tok, dict):
                raise ArenaError(f"openai backend: no prompt logprob for token {full_ids[i]} at position {i}")
            try:
                value = float(tok.get("logprob", 0.0))
            except (TypeError, ValueError):
                value = math.nan
            if not math.isfinite(value):  # NaN or infinity would decide a constrained move (or break its softmax)
                raise ArenaError(f"openai backend: malformed prompt logprob at position {i}: {tok!r}")
            values.append(value)
        return Scored(prompt_ids, full_ids[len(prompt_ids) :], values)

    def _require(self, capability: str, message: str = "") -> None:
        """Raise when the server refused a capability this call needs (scoring needs ``prompt_logprobs``)."""
        if capability in self._refused:
            said = f" ({message})" if message else ""
            raise ArenaError(
                f"openai backend: {self.base_url} cannot score continuations: it refused vLLM's {capability} "
                f"extension{said}; constrained play needs a vLLM-compatible server, or turn constrained off"
            )

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
