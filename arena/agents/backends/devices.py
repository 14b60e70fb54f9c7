"""The torch device a backend or learner runs on, checked up front: asking for a GPU that this machine or this
torch build lacks is a one-line error naming the device, not an assertion from deep inside torch."""

from __future__ import annotations

from typing import Any

from arena.core.errors import ArenaError


def checked_device(name: Any) -> Any:
    """``torch.device(name)`` once it is known to be usable here (``cpu`` always is)."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise ArenaError(f"device must be cpu, cuda, cuda:N or mps, got {name!r} ({err})") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ArenaError(f"device {name!r}: no usable CUDA GPU here (torch {torch.__version__}); use device=cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ArenaError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ArenaError(f"device {name!r}: MPS is not available here; use device=cpu")
    return device
