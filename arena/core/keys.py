"""``infos[agent]["state_key"]``: a stable digest of what one player knows (architecture.md §6).

A game describes the player's information state as plain data (dicts, lists, strings, numbers): its
private information and the public state, never the wording of player-written text. The key is a
BLAKE2b digest of that data's canonical JSON, so equal keys mean the same decision situation and the
key is the same in every process and on every machine (Python's ``hash()`` is salted per process).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Set
from typing import Any

import numpy as np


def _plain(value: Any) -> Any:
    if isinstance(value, Set):
        return sorted(value, key=repr)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return array_digest(value)
    raise TypeError(f"state keys take plain data, not {type(value).__name__}")


# The C encoder json.dumps builds on every call, made once: the same text at half the cost (a key is
# computed on every turn). Arguments: markers, default, encoder, indent, key and item separators,
# sort_keys, skipkeys, allow_nan.
_C_ENCODE = (
    json.encoder.c_make_encoder(None, _plain, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True)
    if json.encoder.c_make_encoder is not None
    else None
)


def canonical_json(data: Any) -> str:
    """One JSON text per value: sorted keys, no spaces, tuples as lists, sets sorted."""
    if _C_ENCODE is not None:
        return "".join(_C_ENCODE(data, 0))
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_plain)


def state_digest(data: Any) -> str:
    """A 128-bit hex digest of :func:`canonical_json` of ``data``."""
    return hashlib.blake2b(canonical_json(data).encode("ascii"), digest_size=16).hexdigest()


def array_digest(array: np.ndarray) -> str:
    """A digest of an array's shape, dtype and bytes (an image a player sees)."""
    contiguous = np.ascontiguousarray(array)
    header = f"{contiguous.dtype.str}{contiguous.shape}".encode()
    return hashlib.blake2b(header + contiguous.tobytes(), digest_size=16).hexdigest()
