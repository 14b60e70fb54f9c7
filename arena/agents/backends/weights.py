"""A trained model's weights as one plain state dict, for pushing into an engine or saving as a policy.

A LoRA-wrapped (peft) learner keeps its base weights frozen and the update in small adapter matrices;
an inference engine (vLLM, a second transformers model, a saved checkpoint) needs ordinary weights
under the plain transformers names. :func:`full_state_dict` returns them with each adapted layer's
delta merged in (``W + scale·B·A``) without modifying the model, so training continues unchanged.
"""

from __future__ import annotations

from typing import Any

#: Substrings of peft's adapter parameter names (dropped from the merged state dict).
_ADAPTER_KEYS = ("lora_A.", "lora_B.", "lora_embedding_A", "lora_embedding_B", "lora_magnitude_vector")


def is_peft_model(model: Any) -> bool:
    """Whether ``model`` is a peft wrapper (it has ``get_base_model``); plain models are not."""
    return callable(getattr(model, "get_base_model", None))


def plain_model(model: Any) -> Any:
    """The transformers model inside a peft wrapper (its layers still carry the adapters), else ``model``."""
    return model.get_base_model() if is_peft_model(model) else model


def full_state_dict(model: Any) -> dict[str, Any]:
    """The model's weights under plain transformers names, LoRA deltas merged (detached tensors on the
    model's devices). A plain model's ``state_dict()`` is returned as it is."""
    import torch

    if not is_peft_model(model):
        return model.state_dict()
    base = model.get_base_model()
    active = list(getattr(model, "active_adapters", None) or [])
    merged: dict[str, Any] = {}
    with torch.no_grad():
        for name, module in base.named_modules():
            delta_of = getattr(module, "get_delta_weight", None)
            layer = getattr(module, "base_layer", None)
            if not callable(delta_of) or layer is None:
                continue
            weight = layer.weight
            total = weight.detach().float()
            for adapter in active:
                if adapter in getattr(module, "lora_A", {}) and adapter not in getattr(module, "merged_adapters", []):
                    total = total + delta_of(adapter).float()
            merged[f"{name}.weight"] = total.to(weight.dtype)
        out: dict[str, Any] = {}
        for key, value in base.state_dict().items():
            if any(part in key for part in _ADAPTER_KEYS):
                continue
            plain = key.replace(".base_layer.", ".")
            out[plain] = merged.get(plain, value.detach())
    return out
