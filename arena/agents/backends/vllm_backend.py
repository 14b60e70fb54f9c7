"""``VLLMBackend``: a ``vllm.LLM`` engine as a policy (GPU; optional ``vllm`` extra).

* ``vllm`` is imported lazily, in the constructor; without it, or when the engine cannot start (no GPU),
  construction raises a clear :class:`~arena.core.errors.ArenaError`.
* Token-in/token-out: prompts are rendered with the model's tokenizer chat template and sent as
  ``TokensPrompt(prompt_token_ids=...)``, so ``Completion.prompt_ids`` are exactly what the engine saw.
* Logprobs come from the engine (``SamplingParams(logprobs=0)``: the sampled token's logprob). By default
  the engine runs with ``logprobs_mode="raw_logprobs"`` (temperature-1 model distribution, the same
  convention as the other backends); pass ``logprobs_mode="processed_logprobs"`` for the processed values.
* **Seeds.** vLLM seeds each request with ``SamplingParams.seed``; a batch's seed is spread into one seed
  per row (:func:`~arena.agents.backends.base.request_seeds`), so identical prompts in a training group
  still get different samples, and a seeded batch stays reproducible.
* **Guards.** vLLM accepts temperatures in [0, 2]; anything above is refused here with one clear error.
  A prompt that leaves no room in ``max_model_len`` would make vLLM fail the whole batch; that request
  alone gets an empty completion with ``finish_reason="error"`` and the reason in ``Completion.error``.
* **Weight sync** (:meth:`VLLMBackend.sync_from`, :meth:`VLLMBackend.load_weights`) goes through vLLM's
  worker-extension hook: the engine starts with ``worker_extension_cls`` =
  :class:`~arena.agents.backends.vllm_worker.ArenaWorkerExtension`, and ``LLM.collective_rpc`` calls its
  ``arena_load_weights`` on every worker (every tensor-parallel rank). In-process (one GPU,
  ``VLLM_ENABLE_V1_MULTIPROCESSING=0``, the default here for ``tensor_parallel_size=1``) the tensors go
  straight to the worker, a device-to-device copy; with worker processes they travel as safetensors
  bytes in chunks of ``sync_chunk_mb``. Then the prefix cache is reset and ``version`` bumped.
* **Sleep mode** (``sleep_level=1`` or ``2``; starts the engine with ``enable_sleep_mode=True``):
  :meth:`VLLMBackend.sleep` frees the engine's GPU memory while the learner trains (level 1 keeps a CPU
  copy of the weights, level 2 drops them); the next sync wakes the weights, pushes, then wakes the KV
  cache, the order verl and SkyRL use so that weights and KV cache are never both allocated mid-push.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from arena.agents.backends.base import (
    ChatPrompt,
    Completion,
    SamplingParams,
    Scored,
    cut_at_stop,
    request_seeds,
    text_only,
)
from arena.agents.backends.vllm_worker import EXTENSION
from arena.core.errors import ArenaError

IMAGE_PLACEHOLDER = "[image]"
#: vLLM's accepted temperature range (``SamplingParams`` refuses values above it).
MAX_TEMPERATURE = 2.0


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as err:
        raise ArenaError(
            f"the vllm backend needs the optional 'vllm' package (pip install 'arena[vllm]'): {err}"
        ) from None
    return vllm


def _no_cuda_hint() -> str:
    try:
        import torch

        return "" if torch.cuda.is_available() else " (torch.cuda.is_available() is False: vLLM needs a GPU)"
    except ImportError:
        return ""


class VLLMBackend:
    """A ``vllm.LLM`` engine behind the ``PolicyBackend`` protocol; see the module docstring."""

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.5,
        max_model_len: int | None = None,
        logprobs_mode: str = "raw_logprobs",
        in_process: bool = True,
        seed: int = 0,
        enforce_eager: bool = False,
        tensor_parallel_size: int = 1,
        sleep_level: int | None = None,
        sync_chunk_mb: float = 512,
        **engine_kwargs: Any,
    ) -> None:
        if sleep_level not in (None, 1, 2):
            raise ArenaError(f"sleep_level must be 1, 2 or None (no sleep), got {sleep_level!r}")
        if int(tensor_parallel_size) < 1 or not float(sync_chunk_mb) > 0:
            raise ArenaError("tensor_parallel_size must be >= 1 and sync_chunk_mb > 0")
        if in_process and int(tensor_parallel_size) == 1:
            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        vllm = _import_vllm()
        kwargs: dict[str, Any] = {
            "model": str(model),
            "dtype": dtype,
            "gpu_memory_utilization": float(gpu_memory_utilization),
            "seed": int(seed),
            "enforce_eager": bool(enforce_eager),
            "tensor_parallel_size": int(tensor_parallel_size),
            "worker_extension_cls": EXTENSION,
            **engine_kwargs,
        }
        if sleep_level is not None:
            kwargs["enable_sleep_mode"] = True
        if max_model_len is not None:
            kwargs["max_model_len"] = int(max_model_len)
        if logprobs_mode:
            kwargs["logprobs_mode"] = logprobs_mode
        try:
            try:
                self.llm = vllm.LLM(**kwargs)
            except TypeError as err:
                if "logprobs_mode" not in str(err):
                    raise
                # An older vLLM without ``logprobs_mode``: raw logprobs are its only behaviour anyway.
                kwargs.pop("logprobs_mode")
                self.llm = vllm.LLM(**kwargs)
        except Exception as err:
            raise ArenaError(f"the vLLM engine did not start{_no_cuda_hint()}: {type(err).__name__}: {err}") from err
        self._vllm = vllm
        self.name_or_path = str(model)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = self._engine_config("max_model_len", int) or max_model_len
        self.sleep_level = sleep_level
        self.asleep = False
        self.sync_chunk_bytes = max(1, int(float(sync_chunk_mb) * 2**20))
        executor = engine_kwargs.get("distributed_executor_backend")
        self.in_process = (
            int(tensor_parallel_size) == 1
            and int(engine_kwargs.get("pipeline_parallel_size", 1)) == 1
            and executor in (None, "uni")
            and os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING", "1") == "0"
        )
        self.version = 0
        self.last_sync_s = 0.0

    def _engine_config(self, name: str, kind: type) -> Any:
        """A field of the engine's model config (``LLM.model_config``, or ``LLM.llm_engine.model_config`` in
        older vLLM) when it has the expected type, else None."""
        for owner in (self.llm, getattr(self.llm, "llm_engine", None)):
            value = getattr(getattr(owner, "model_config", None), name, None)
            if isinstance(value, kind):
                return value
        return None

    # -- prompts -----------------------------------------------------------------------------------
    def chat_text(self, prompt: ChatPrompt) -> str:
        """The prompt rendered by the chat template (images become a text placeholder)."""
        messages = text_only(prompt, IMAGE_PLACEHOLDER)
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "

    def apply_chat(self, prompt: ChatPrompt) -> list[int]:
        """Prompt token ids exactly as :meth:`generate` sends them to the engine."""
        return list(self.tokenizer(self.chat_text(prompt), add_special_tokens=False)["input_ids"])

    def encode(self, text: str) -> list[int]:
        """Token ids of a reply text (no special tokens added)."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _params(self, sampling: SamplingParams, seed: int | None, **extra: Any) -> Any:
        greedy = sampling.temperature <= 0
        return self._vllm.SamplingParams(
            temperature=0.0 if greedy else float(sampling.temperature),
            top_p=1.0 if greedy else float(sampling.top_p),
            max_tokens=int(sampling.max_new_tokens),
            stop=list(sampling.stop) or None,
            include_stop_str_in_output=True,
            seed=seed,
            **extra,
        )

    def _too_long(self, length: int) -> str | None:
        """Why a prompt of ``length`` tokens cannot run (no room left for one new token), or None."""
        if self.max_model_len is not None and length >= self.max_model_len:
            return (
                f"prompt of {length} tokens leaves no room in the engine's max_model_len={self.max_model_len}; "
                "shorten the prompt (the agent's context budget) or raise max_model_len"
            )
        return None

    # -- generation --------------------------------------------------------------------------------
    def generate(self, prompts: Sequence[ChatPrompt], sampling: SamplingParams | None = None) -> list[Completion]:
        """Sample one reply per prompt, one engine call for the whole batch."""
        return self.generate_ids([self.apply_chat(p) for p in prompts], sampling)

    def generate_ids(
        self, prompt_ids: Sequence[Sequence[int]], sampling: SamplingParams | None = None
    ) -> list[Completion]:
        """Token-in generation: one reply per list of prompt ids (see the module docstring for seeds and
        guards)."""
        sampling = sampling or SamplingParams()
        if sampling.temperature > MAX_TEMPERATURE:
            raise ArenaError(
                f"the vllm backend accepts temperature in [0, {MAX_TEMPERATURE:g}], got {sampling.temperature}"
            )
        if not prompt_ids:
            return []
        if sampling.max_new_tokens < 1:
            return [Completion("", list(p), [], [], "length") for p in prompt_ids]
        self._ensure_awake()
        seeds = request_seeds(sampling.seed, len(prompt_ids))
        result: list[Completion | None] = [None] * len(prompt_ids)
        rows, inputs, params = [], [], []
        for i, p in enumerate(prompt_ids):
            problem = self._too_long(len(p))
            if problem is not None:
                result[i] = Completion("", list(p), [], [], "error", error=problem)
                continue
            rows.append(i)
            inputs.append(self._vllm.TokensPrompt(prompt_token_ids=list(p)))
            params.append(self._params(sampling, seeds[i], logprobs=0))
        if len(rows) < len(prompt_ids):
            warnings.warn(
                f"vllm backend: {len(prompt_ids) - len(rows)} of {len(prompt_ids)} requests not run: "
                f"{next(c.error for c in result if c is not None)}",
                stacklevel=2,
            )
        outputs = self.llm.generate(inputs, params, use_tqdm=False) if inputs else []
        for i, out in zip(rows, outputs, strict=True):
            c = out.outputs[0]
            ids = list(c.token_ids)
            logps = [float(step[tok].logprob) for step, tok in zip(c.logprobs or [], ids, strict=False)]
            text = c.text
            if sampling.stop:
                end = cut_at_stop(text, sampling.stop)
                text = text[:end] if end is not None else text
            reason = "length" if c.finish_reason == "length" else "stop"
            result[i] = Completion(text, list(prompt_ids[i]), ids, logps, reason)
        return [c for c in result if c is not None]

    # -- scoring -----------------------------------------------------------------------------------
    def score(self, prompts: Sequence[ChatPrompt], continuations: Sequence[str]) -> list[Scored]:
        """Per-token logprobs of each continuation after its prompt (engine prompt logprobs)."""
        if len(prompts) != len(continuations):
            raise ArenaError(f"score: {len(prompts)} prompts but {len(continuations)} continuations")
        return self.score_ids([self.apply_chat(p) for p in prompts], [self.encode(c) for c in continuations])

    def score_ids(self, prompt_ids: Sequence[Sequence[int]], continuation_ids: Sequence[Sequence[int]]) -> list[Scored]:
        """Token-level :meth:`score` via ``prompt_logprobs=0`` on prompt + continuation."""
        pairs = list(zip(prompt_ids, continuation_ids, strict=True))
        if not pairs:
            return []
        for p, c in pairs:
            problem = self._too_long(len(p) + len(c))
            if problem is not None:
                raise ArenaError(f"vllm backend: cannot score: {problem}")
        self._ensure_awake()
        inputs = [self._vllm.TokensPrompt(prompt_token_ids=[*p, *c]) for p, c in pairs]
        params = self._params(SamplingParams(temperature=0, max_new_tokens=1), None, prompt_logprobs=0)
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        result = []
        for (p, c), out in zip(pairs, outputs, strict=True):
            full = [*p, *c]
            plp = out.prompt_logprobs or []
            values = [float(plp[i][full[i]].logprob) for i in range(len(p), len(full))]
            result.append(Scored(list(p), list(c), values))
        return result

    # -- sleep mode --------------------------------------------------------------------------------
    def sleep(self) -> None:
        """Free the engine's GPU memory until the next weight sync (no-op without ``sleep_level``)."""
        if self.sleep_level is None or self.asleep:
            return
        self.llm.sleep(level=self.sleep_level)
        self.asleep = True

    def _ensure_awake(self) -> None:
        if not self.asleep:
            return
        if self.sleep_level == 2:
            raise ArenaError("the vLLM engine slept at level 2 (weights dropped): push weights with sync_from first")
        self.llm.wake_up()
        self.asleep = False

    # -- weights -----------------------------------------------------------------------------------
    def _push(self, send: Any) -> None:
        """Run ``send()`` (which calls the workers) with the engine's weights awake, then wake the KV cache,
        reset the prefix cache (its blocks hold the old weights' keys and values) and bump ``version``."""
        t0 = time.perf_counter()
        if self.asleep:
            self.llm.wake_up(tags=["weights"])
        send()
        if self.asleep:
            self.llm.wake_up(tags=["kv_cache"])
            self.asleep = False
        self.llm.reset_prefix_cache()
        self.version += 1
        self.last_sync_s = time.perf_counter() - t0

    def load_state(self, weights: Iterable[tuple[str, Any]]) -> None:
        """Load ``(name, tensor)`` pairs (Hugging Face names) into every worker; bump ``version``."""
        self._push(lambda: self._send(weights))

    def _send(self, weights: Iterable[tuple[str, Any]]) -> None:
        if self.in_process:
            pairs = [(name, t.detach()) for name, t in weights]
            self.llm.collective_rpc("arena_load_weights", kwargs={"weights": pairs})
            return
        for blob in self._chunks(weights):
            self.llm.collective_rpc("arena_load_weights", kwargs={"data": blob})

    def _chunks(self, weights: Iterable[tuple[str, Any]]) -> Iterable[bytes]:
        """Safetensors bytes of at most about ``sync_chunk_mb`` each, on the CPU, in the engine's dtype."""
        import torch
        from safetensors.torch import save

        dtype = self._engine_config("dtype", torch.dtype)
        chunk: dict[str, Any] = {}
        size = 0
        seen: set[int] = set()
        for name, tensor in weights:
            t = tensor.detach()
            if dtype is not None and t.is_floating_point():
                t = t.to(dtype)
            t = t.to("cpu").contiguous()
            if t.data_ptr() in seen:  # tied weights share storage; safetensors refuses shared tensors
                t = t.clone()
            seen.add(t.data_ptr())
            chunk[name] = t
            size += t.numel() * t.element_size()
            if size >= self.sync_chunk_bytes:
                yield save(chunk)
                chunk, size, seen = {}, 0, set()
        if chunk:
            yield save(chunk)

    def sync_from(self, model: Any) -> None:
        """Copy a torch (Hugging Face or peft-LoRA) model's weights into the engine without a restart."""
        import torch

        from arena.agents.backends.weights import full_state_dict

        with torch.no_grad():
            state = full_state_dict(model)
            self.load_state(state.items())

    def load_weights(self, path: str) -> None:
        """Load weights from a ``save_pretrained`` directory or ``.safetensors`` file; bump ``version``.
        Every worker reads the files itself."""
        from pathlib import Path

        p = Path(path)
        files = sorted(p.glob("*.safetensors")) if p.is_dir() else [p]
        if not files or not all(f.is_file() and f.suffix == ".safetensors" for f in files):
            raise ArenaError(f"no .safetensors weights at {path!r}")

        def send() -> None:
            for f in files:
                self.llm.collective_rpc("arena_load_weights", kwargs={"path": str(f.resolve())})

        self._push(send)

    def weights_digest(self) -> list[float]:
        """Per worker, the sum of |w| over its parameters (its shard under tensor parallelism)."""
        self._ensure_awake()
        return [float(x) for x in self.llm.collective_rpc("arena_weights_digest")]

    def __repr__(self) -> str:
        return f"VLLMBackend({self.name_or_path!r}, version={self.version})"
