"""The worker side of the vLLM weight sync: a class that vLLM mixes into each of its workers.

``vllm.LLM(worker_extension_cls="arena.agents.backends.vllm_worker.ArenaWorkerExtension")`` adds these
methods to every worker (one per tensor-parallel rank), and ``LLM.collective_rpc(name, kwargs=...)``
calls them on all ranks at once -- vLLM's supported hook for RL weight updates (its
``examples/offline_inference/rlhf_utils.py`` and OpenRLHF's ``WorkerWrap`` work the same way). A named
method travels to worker processes as a string, so nothing has to be pickled as code (a closure passed
to ``apply_model`` / ``collective_rpc`` is refused outside in-process mode).

Each rank receives the full Hugging Face-named weights and hands them to vLLM's own loader, which keeps
that rank's shard. Weights arrive as ``(name, tensor)`` pairs (in-process engine: the tensors themselves,
no copy), as safetensors bytes (worker processes: tensors given as arguments would be serialized
element by element) or as a safetensors file path (a checkpoint on disk).

This module is imported inside vLLM's worker processes: it imports nothing from arena at module level.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from typing import Any

#: What to pass as ``worker_extension_cls``.
EXTENSION = f"{__name__}.ArenaWorkerExtension"


def _from_safetensors(data: bytes | None, path: str | None) -> Iterator[tuple[str, Any]]:
    if data is not None:
        from safetensors.torch import load

        yield from load(data).items()
        return
    from safetensors import safe_open

    with safe_open(str(path), framework="pt", device="cpu") as f:
        for name in f.keys():  # noqa: SIM118 (safe_open has no __iter__)
            yield name, f.get_tensor(name)


def _checked(pairs: Iterable[Any]) -> Iterator[tuple[str, Any]]:
    import torch

    for pair in pairs:
        name, tensor = pair
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(
                f"weight {name!r} arrived as {type(tensor).__name__}, not a tensor: tensors cannot cross to "
                "worker processes as arguments; send safetensors bytes (data=) or a file (path=)"
            )
        yield str(name), tensor


class ArenaWorkerExtension:
    """Methods vLLM adds to its worker (``self`` is the worker: ``self.model_runner.model`` is this rank's
    model). Names start with ``arena_`` so they cannot clash with the worker's own."""

    def arena_load_weights(
        self, weights: Iterable[Any] | None = None, data: bytes | None = None, path: str | None = None
    ) -> int:
        """Load Hugging Face-named weights into this rank's model; returns how many tensors were read.

        Exactly one source: ``weights`` (``(name, tensor)`` pairs), ``data`` (safetensors bytes) or ``path``
        (a ``.safetensors`` file). The load goes through vLLM's ``reload_weights(weights_iterator=...)``
        where the worker has it (layer-wise reload: layers that vLLM repacks after loading, e.g. fused or
        quantized ones, are restored to checkpoint layout first), else the model's own ``load_weights``."""
        if sum(x is not None for x in (weights, data, path)) != 1:
            raise ValueError("arena_load_weights takes exactly one of weights=, data=, path=")
        pairs = _checked(weights) if weights is not None else _from_safetensors(data, path)
        count = 0

        def counted() -> Iterator[tuple[str, Any]]:
            nonlocal count
            for pair in pairs:
                count += 1
                yield pair

        reload = _reload_with_iterator(self)
        if reload is not None:
            reload(counted())
        else:
            self.model_runner.model.load_weights(weights=counted())
        return count

    def arena_weights_digest(self) -> float:
        """The sum of |w| over this rank's parameters: a cheap fingerprint to check that a push arrived."""
        import torch

        with torch.no_grad():
            return float(sum(p.detach().double().abs().sum() for p in self.model_runner.model.parameters()))


def _reload_with_iterator(worker: Any) -> Any:
    """vLLM's ``reload_weights`` (on the worker, else its model runner) as ``f(iterator)``, when it takes a
    ``weights_iterator``; None on versions without it."""
    for owner in (worker, getattr(worker, "model_runner", None)):
        method = getattr(owner, "reload_weights", None)
        if not callable(method):
            continue
        try:
            params = inspect.signature(method).parameters
        except (TypeError, ValueError):
            continue
        if "weights_iterator" not in params:
            continue
        extra = {"is_checkpoint_format": True} if "is_checkpoint_format" in params else {}
        return lambda it, method=method, extra=extra: method(weights_iterator=it, **extra)
    return None
