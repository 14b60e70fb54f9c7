"""``VLLMBackend``: an in-process ``vllm.LLM`` engine as a policy (GPU; optional ``vllm`` extra).

* ``vllm`` is imported lazily, in the constructor; without it (or without CUDA) construction raises a
  clear :class:`~arena.core.errors.ArenaError`.
* Token-in/token-out: prompts are rendered with the model's tokenizer chat template and sent as
  ``TokensPrompt(prompt_token_ids=...)``, so ``Completion.prompt_ids`` are exactly what the engine saw.
* Logprobs come from the engine (``SamplingParams(logprobs=0)``: the sampled token's logprob). By default
  the engine runs with ``logprobs_mode="raw_logprobs"`` (temperature-1 model distribution, the same
  convention as the other backends); pass ``logprobs_mode="processed_logprobs"`` to get the
  temperature/top-p processed values instead.
* :meth:`VLLMBackend.sync_from` copies a torch model's weights into the running engine without a restart
  (``model.load_weights`` on the worker's model, reached in-process or through ``LLM.apply_model`` /
  ``collective_rpc``), resets the prefix cache and bumps ``version``. The engine is created with
  ``VLLM_ENABLE_V1_MULTIPROCESSING=0`` by default so the worker's model lives in this process and the
  update is a device-to-device copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from arena.agents.backends.base import ChatPrompt, Completion, SamplingParams, Scored, cut_at_stop, text_only
from arena.core.errors import ArenaError

IMAGE_PLACEHOLDER = "[image]"


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as err:
        raise ArenaError(
            f"the vllm backend needs the optional 'vllm' package (pip install 'arena[vllm]'): {err}"
        ) from None
    return vllm


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
        **engine_kwargs: Any,
    ) -> None:
        if in_process:
            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        vllm = _import_vllm()
        try:
            import torch

            if not torch.cuda.is_available():
                raise ArenaError("the vllm backend needs a CUDA GPU (torch.cuda.is_available() is False)")
        except ImportError as err:
            raise ArenaError(f"the vllm backend needs torch: {err}") from None
        kwargs: dict[str, Any] = {
            "model": str(model),
            "dtype": dtype,
            "gpu_memory_utilization": float(gpu_memory_utilization),
            "seed": int(seed),
            "enforce_eager": bool(enforce_eager),
            **engine_kwargs,
        }
        if max_model_len is not None:
            kwargs["max_model_len"] = int(max_model_len)
        if logprobs_mode:
            kwargs["logprobs_mode"] = logprobs_mode
        try:
            self.llm = vllm.LLM(**kwargs)
        except TypeError:
            # Older vLLM without ``logprobs_mode``: raw logprobs are its only behaviour anyway.
            kwargs.pop("logprobs_mode", None)
            self.llm = vllm.LLM(**kwargs)
        self._vllm = vllm
        self.name_or_path = str(model)
        self.tokenizer = self.llm.get_tokenizer()
        self.version = 0

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

    def _params(self, sampling: SamplingParams, **extra: Any) -> Any:
        greedy = sampling.temperature <= 0
        return self._vllm.SamplingParams(
            temperature=0.0 if greedy else float(sampling.temperature),
            top_p=1.0 if greedy else float(sampling.top_p),
            max_tokens=int(sampling.max_new_tokens),
            stop=list(sampling.stop) or None,
            include_stop_str_in_output=True,
            seed=sampling.seed,
            **extra,
        )

    # -- generation --------------------------------------------------------------------------------
    def generate(self, prompts: Sequence[ChatPrompt], sampling: SamplingParams | None = None) -> list[Completion]:
        """Sample one reply per prompt, one engine call for the whole batch."""
        return self.generate_ids([self.apply_chat(p) for p in prompts], sampling)

    def generate_ids(
        self, prompt_ids: Sequence[Sequence[int]], sampling: SamplingParams | None = None
    ) -> list[Completion]:
        """Token-in generation: one reply per list of prompt ids."""
        sampling = sampling or SamplingParams()
        if not prompt_ids:
            return []
        if sampling.max_new_tokens < 1:
            return [Completion("", list(p), [], [], "length") for p in prompt_ids]
        inputs = [self._vllm.TokensPrompt(prompt_token_ids=list(p)) for p in prompt_ids]
        outputs = self.llm.generate(inputs, self._params(sampling, logprobs=0), use_tqdm=False)
        result = []
        for p, out in zip(prompt_ids, outputs, strict=True):
            c = out.outputs[0]
            ids = list(c.token_ids)
            logps = [float(step[tok].logprob) for step, tok in zip(c.logprobs or [], ids, strict=False)]
            text = c.text
            if sampling.stop:
                end = cut_at_stop(text, sampling.stop)
                text = text[:end] if end is not None else text
            reason = "length" if c.finish_reason == "length" else "stop"
            result.append(Completion(text, list(p), ids, logps, reason))
        return result

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
        inputs = [self._vllm.TokensPrompt(prompt_token_ids=[*p, *c]) for p, c in pairs]
        params = self._params(SamplingParams(temperature=0, max_new_tokens=1), prompt_logprobs=0)
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        result = []
        for (p, c), out in zip(pairs, outputs, strict=True):
            full = [*p, *c]
            plp = out.prompt_logprobs or []
            values = [float(plp[i][full[i]].logprob) for i in range(len(p), len(full))]
            result.append(Scored(list(p), list(c), values))
        return result

    # -- weights -----------------------------------------------------------------------------------
    def _worker_model(self) -> Any | None:
        """The engine's torch model when it lives in this process, else None."""
        engine = getattr(self.llm, "llm_engine", None)
        for path in (
            ("model_executor", "driver_worker", "worker", "model_runner", "model"),
            ("model_executor", "driver_worker", "model_runner", "model"),
            ("engine_core", "engine_core", "model_executor", "driver_worker", "worker", "model_runner", "model"),
        ):
            obj = engine
            for attr in path:
                obj = getattr(obj, attr, None)
                if obj is None:
                    break
            if obj is not None and hasattr(obj, "load_weights"):
                return obj
        return None

    def load_state(self, weights: Iterable[tuple[str, Any]]) -> None:
        """Load ``(name, tensor)`` pairs (Hugging Face names) into the running engine; bump ``version``."""
        weights = list(weights)
        model = self._worker_model()
        if model is not None:
            model.load_weights(weights=iter(weights))
        else:
            cpu = [(name, t.detach().cpu()) for name, t in weights]

            def _load(m: Any) -> None:
                m.load_weights(weights=iter(cpu))

            try:
                self.llm.apply_model(_load)
            except AttributeError:
                self.llm.collective_rpc("load_weights", kwargs={"weights": cpu})
        reset = getattr(self.llm, "reset_prefix_cache", None)
        if callable(reset):
            reset()  # cached KV blocks were computed with the old weights
        self.version += 1

    def sync_from(self, model: Any) -> None:
        """Copy a torch (Hugging Face) model's weights into the engine without a restart."""
        import torch

        with torch.no_grad():
            self.load_state((name, t.detach()) for name, t in model.state_dict().items())

    def load_weights(self, path: str) -> None:
        """Load weights from a ``save_pretrained`` directory or ``.safetensors`` file; bump ``version``."""
        from pathlib import Path

        p = Path(path)
        files = sorted(p.glob("*.safetensors")) if p.is_dir() else [p]
        if not files or not all(f.is_file() and f.suffix == ".safetensors" for f in files):
            raise ArenaError(f"no .safetensors weights at {path!r}")
        from safetensors.torch import load_file

        state: dict[str, Any] = {}
        for f in files:
            state.update(load_file(str(f)))
        self.load_state(state.items())

    def __repr__(self) -> str:
        return f"VLLMBackend({self.name_or_path!r}, version={self.version})"
