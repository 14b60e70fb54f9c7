"""Learner memory options, and what a learner configuration needs in GPU memory.

Three options make a 0.5B-7B model trainable next to a vLLM engine on one GPU:

* ``precision``: ``fp32`` (weights, gradients and the forward pass in float32), ``bf16-mixed``
  (float32 weights, the forward pass autocast to bfloat16), ``bf16`` (weights stored in bfloat16 and the
  forward pass autocast; with LoRA only the frozen base is bfloat16, peft keeps the adapters in float32).
* ``gradient_checkpointing``: keep only each layer's input and recompute the rest in the backward pass
  (``transformers``' ``activation_checkpointing_enable``, non-reentrant). Layers then drop their KV cache,
  so the learner runs each turn's whole prompt instead of sharing the common prefix once.
* ``lora``: train low-rank adapters (peft) instead of the weights. The frozen base with the adapters
  switched off *is* the starting policy, so it serves as the KL reference (:class:`FrozenBase`) instead of
  a deep copy of the model. Checkpoints hold the merged model (a plain policy) and the adapter
  (``adapter/``), from which training resumes on the same base.

``python -m arena.trainers.memory`` prints the budget of a 7B learner (docs/gpu.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.core.errors import ArenaError

PRECISIONS = ("fp32", "bf16-mixed", "bf16")
#: LoRA options and their defaults (peft ``LoraConfig`` fields; ``alpha`` is ``lora_alpha``).
LORA_DEFAULTS: dict[str, Any] = {"r": 16, "alpha": 32, "dropout": 0.0, "target_modules": "all-linear"}
#: Where a checkpoint keeps the LoRA adapter (next to the merged weights).
ADAPTER_DIR = "adapter"


def validate(precision: str, lora: dict[str, Any] | None) -> None:
    """Raise :class:`ArenaError` for an unknown precision or LoRA option."""
    if precision not in PRECISIONS:
        raise ArenaError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if lora is None:
        return
    if not isinstance(lora, dict):
        raise ArenaError(f"lora must be a mapping of {', '.join(LORA_DEFAULTS)} (or null), got {lora!r}")
    unknown = set(lora) - set(LORA_DEFAULTS)
    if unknown:
        raise ArenaError(f"unknown lora options {sorted(unknown)}; valid: {', '.join(LORA_DEFAULTS)}")
    options = {**LORA_DEFAULTS, **lora}
    alpha = options["alpha"]
    alpha_ok = isinstance(alpha, int | float) and not isinstance(alpha, bool) and 0 < alpha < math.inf
    if isinstance(options["r"], bool) or not isinstance(options["r"], int) or options["r"] < 1 or not alpha_ok:
        raise ArenaError(
            f"lora r must be an integer >= 1 and alpha > 0, got r={options['r']}, alpha={options['alpha']}"
        )


# -- building the learner -------------------------------------------------------------------------------
def load_learner(model_dir: str | Path, *, device: str, precision: str, gradient_checkpointing: bool, lora: Any) -> Any:
    """The learner's :class:`~arena.agents.backends.transformers_backend.TransformersBackend`, its model
    prepared with the options above. A directory with a saved adapter (a LoRA checkpoint) resumes that
    adapter on its recorded base model."""
    from arena.agents.backends.transformers_backend import TransformersBackend

    validate(precision, lora)
    dtype = "bfloat16" if precision == "bf16" else "float32"
    adapter = Path(model_dir) / ADAPTER_DIR
    if lora is not None and (adapter / "adapter_config.json").is_file():
        base = json.loads((adapter / "adapter_config.json").read_text()).get("base_model_name_or_path")
        if not base or not Path(base).is_dir():
            raise ArenaError(f"the LoRA adapter in {adapter} names no local base model ({base!r})")
        backend = TransformersBackend(base, device=device, dtype=dtype)
        from peft import PeftModel

        backend.model = PeftModel.from_pretrained(backend.model, str(adapter), is_trainable=True)
    else:
        backend = TransformersBackend(str(model_dir), device=device, dtype=dtype)
        if lora is not None:
            backend.model = with_lora(backend.model, lora)
    if gradient_checkpointing:
        enable_checkpointing(backend.model)
    backend.model.eval()
    return backend


def enable_checkpointing(model: Any) -> None:
    """Non-reentrant activation checkpointing under the name this transformers has: ``activation_checkpointing_enable``
    (newer releases, where the older ``gradient_checkpointing_enable`` is a deprecated alias that warns) or
    ``gradient_checkpointing_enable`` (older ones)."""
    enable = getattr(model, "activation_checkpointing_enable", None)
    if enable is not None:
        enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def with_lora(model: Any, options: dict[str, Any]) -> Any:
    """``model`` wrapped with trainable LoRA adapters (peft); every base weight frozen."""
    from peft import LoraConfig, get_peft_model

    o = {**LORA_DEFAULTS, **options}
    config = LoraConfig(
        r=int(o["r"]),
        lora_alpha=float(o["alpha"]),
        lora_dropout=float(o["dropout"]),
        target_modules=o["target_modules"],
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def save_adapter(model: Any, path: str | Path) -> None:
    """Save a LoRA model's adapter under ``path/adapter`` (nothing for a plain model)."""
    from arena.agents.backends.weights import is_peft_model

    if is_peft_model(model):
        model.save_pretrained(str(Path(path) / ADAPTER_DIR))


def autocast(model: Any, precision: str) -> contextlib.AbstractContextManager[Any]:
    """The forward-pass context for ``precision``: bfloat16 autocast on the model's device, or nothing."""
    if precision == "fp32":
        return contextlib.nullcontext()
    import torch

    device = next(model.parameters()).device.type
    return torch.autocast(device_type=device, dtype=torch.bfloat16)


def uses_checkpointing(model: Any) -> bool:
    """Whether gradient checkpointing is on in ``model`` (then its layers keep no KV cache in training)."""
    return any(getattr(m, "gradient_checkpointing", False) is True for m in model.modules())


class FrozenBase:
    """A LoRA model with its adapters switched off: the frozen starting policy, used as the KL reference
    without copying the model. Calls run under peft's ``disable_adapter``."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.model.disable_adapter():
            return self.model(*args, **kwargs)

    def parameters(self) -> Iterator[Any]:
        return self.model.parameters()

    def modules(self) -> Iterator[Any]:
        return self.model.modules()

    def get_base_model(self) -> Any:
        """The transformers model inside (what ``forward_accepts`` inspects)."""
        return self.model.get_base_model()


def reference_policy(model: Any) -> Any:
    """The frozen starting policy for the KL term: :class:`FrozenBase` of a LoRA model, else a deep copy."""
    from arena.agents.backends.weights import is_peft_model

    if is_peft_model(model):
        return FrozenBase(model)
    import copy

    return copy.deepcopy(model).eval().requires_grad_(False)


# -- the memory budget ---------------------------------------------------------------------------------
GIB = 1024**3


@dataclass(frozen=True)
class Architecture:
    """What the budget needs of a decoder-only transformer (the fields of its ``config.json``)."""

    name: str
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int
    tied: bool

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def params(self) -> int:
        h, kv = self.hidden, self.kv_heads * self.head_dim
        attention = h * h + 2 * h * kv + h * h + (h + 2 * kv)  # q, k, v, o weights; q, k, v biases (Qwen2)
        mlp = 3 * h * self.intermediate
        per_layer = attention + mlp + 2 * h  # two RMSNorms
        embeddings = self.vocab * h * (1 if self.tied else 2)
        return self.layers * per_layer + embeddings + h

    def lora_params(self, r: int) -> int:
        """LoRA on every linear layer of the blocks (peft's ``all-linear``): r·(in + out) per layer."""
        h, kv, i = self.hidden, self.kv_heads * self.head_dim, self.intermediate
        shapes = [(h, h), (h, kv), (h, kv), (h, h), (h, i), (h, i), (i, h)]
        return self.layers * sum(r * (a + b) for a, b in shapes)


#: Qwen2.5-7B-Instruct's config.json.
QWEN25_7B = Architecture("Qwen2.5-7B", 3584, 18944, 28, 28, 4, 152064, False)


@dataclass(frozen=True)
class LearnerSetup:
    """A learner configuration to budget (batch sizes in turns, lengths in tokens)."""

    precision: str = "bf16"
    lora_r: int | None = 64
    gradient_checkpointing: bool = True
    micro_batch: int = 8
    prompt_len: int = 1024
    completion_len: int = 256
    kl_reference: bool = True


def learner_budget(arch: Architecture, setup: LearnerSetup) -> dict[str, float]:
    """GiB per component of the learner's peak during an update (an estimate from the shapes, not a
    measurement): weights, gradients, AdamW moments (two float32 tensors per trained weight), the KL
    reference, activations kept for the backward pass, and the completion logits with their softmax."""
    n = arch.params()
    weight_bytes = 2 if setup.precision == "bf16" else 4
    trained = arch.lora_params(setup.lora_r) if setup.lora_r else n
    trained_bytes = 4 if setup.lora_r or setup.precision != "bf16" else 2  # peft keeps adapters in float32
    out = {
        "weights": n * weight_bytes / GIB,
        "trained weights (adapters)": (trained * trained_bytes / GIB) if setup.lora_r else 0.0,
        "gradients": trained * trained_bytes / GIB,
        "AdamW moments": trained * 2 * trained_bytes / GIB,
        "KL reference": 0.0 if (setup.lora_r or not setup.kl_reference) else n * weight_bytes / GIB,
    }
    tokens = setup.micro_batch * (setup.prompt_len + setup.completion_len)
    act_bytes = 4 if setup.precision == "fp32" else 2
    # per token and layer: the layer input (h) when checkpointed; otherwise about 10h + 3i values (norms,
    # q/k/v/o, attention output, residuals, the MLP's gate, up and product) -- flash/SDPA attention
    # keeps no T x T scores
    per_layer = arch.hidden if setup.gradient_checkpointing else 10 * arch.hidden + 3 * arch.intermediate
    recompute = (10 * arch.hidden + 3 * arch.intermediate) if setup.gradient_checkpointing else 0
    out["activations"] = tokens * (arch.layers * per_layer + recompute) * act_bytes / GIB
    # logits only where a completion token is predicted: float32 logits, log-softmax, and its gradient
    out["completion logits"] = setup.micro_batch * setup.completion_len * arch.vocab * 4 * 3 / GIB
    out["total"] = sum(out.values())
    return out


def engine_budget(
    arch: Architecture, *, dtype_bytes: int = 2, sequences: int = 64, seq_len: int = 2048
) -> dict[str, float]:
    """GiB of a vLLM engine: its weights and a KV cache for ``sequences`` full sequences (K and V per
    layer, KV heads x head dim, in the weights' dtype)."""
    kv_per_token = 2 * arch.layers * arch.kv_heads * arch.head_dim * dtype_bytes
    out = {"weights": arch.params() * dtype_bytes / GIB, "KV cache": sequences * seq_len * kv_per_token / GIB}
    out["total"] = sum(out.values())
    return out


def format_budget(arch: Architecture, setup: LearnerSetup, gpu_gib: float = 139.8) -> str:
    """The budget as a plain-text table (what ``python -m arena.trainers.memory`` prints)."""
    learner = learner_budget(arch, setup)
    engine = engine_budget(arch)
    full = learner_budget(arch, LearnerSetup(precision="fp32", lora_r=None, gradient_checkpointing=False))
    lines = [
        f"{arch.name}: {arch.params() / 1e9:.2f}B parameters"
        + (
            f", LoRA r={setup.lora_r} on all linear layers: {arch.lora_params(setup.lora_r) / 1e6:.0f}M trained"
            if setup.lora_r
            else ""
        ),
        f"learner: precision {setup.precision}, gradient checkpointing {'on' if setup.gradient_checkpointing else 'off'}, "
        f"micro-batch {setup.micro_batch} x ({setup.prompt_len} prompt + {setup.completion_len} completion) tokens",
    ]
    lines += [f"  {k:<28}{v:7.1f} GiB" for k, v in learner.items()]
    lines.append("vLLM engine (bf16), KV cache for 64 sequences x 2048 tokens:")
    lines += [f"  {k:<28}{v:7.1f} GiB" for k, v in engine.items()]
    idle = (
        learner["weights"] + learner["trained weights (adapters)"] + learner["AdamW moments"] + learner["KL reference"]
    )
    rollout, update = idle + engine["total"], learner["total"]
    lines.append(
        f"rollouts: learner idle ({idle:.1f} GiB: weights, optimizer state; gradients freed) + engine = {rollout:.1f} GiB"
    )
    lines.append(f"updates with the engine asleep (sleep_level 1 or 2): {update:.1f} GiB")
    lines.append(
        f"peak {max(rollout, update):.1f} GiB of {gpu_gib:g} (without sleep mode: {rollout + update - idle:.1f} GiB); "
        "CUDA context, graphs and allocator slack (a few GiB) not included"
    )
    lines.append(f"for comparison, full fp32 fine-tuning with a deep-copied reference: {full['total']:.0f} GiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="GPU memory budget of a learner for Qwen2.5-7B (an estimate).")
    parser.add_argument("--precision", choices=PRECISIONS, default="bf16")
    parser.add_argument("--lora-r", type=int, default=64, help="0: full fine-tuning")
    parser.add_argument("--no-checkpointing", action="store_true")
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--prompt-len", type=int, default=1024)
    parser.add_argument("--completion-len", type=int, default=256)
    args = parser.parse_args(argv)
    setup = LearnerSetup(
        precision=args.precision,
        lora_r=args.lora_r or None,
        gradient_checkpointing=not args.no_checkpointing,
        micro_batch=args.micro_batch,
        prompt_len=args.prompt_len,
        completion_len=args.completion_len,
    )
    print(format_budget(QWEN25_7B, setup))


if __name__ == "__main__":
    main()
