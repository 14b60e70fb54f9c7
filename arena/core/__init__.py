"""Core: base env classes, spaces, registry, messages and transcripts."""

from arena.core.env import SimultaneousPhase, TextGameEnv
from arena.core.errors import ArenaError
from arena.core.messages import GAME, Message, MessageLog
from arena.core.parallel import TextParallelEnv
from arena.core.registry import EnvSpec, list_envs, make, make_parallel, register, spec
from arena.core.replies import InvalidReply
from arena.core.transcript import Transcript

__all__ = [
    "GAME",
    "ArenaError",
    "EnvSpec",
    "InvalidReply",
    "Message",
    "MessageLog",
    "SimultaneousPhase",
    "TextGameEnv",
    "TextParallelEnv",
    "Transcript",
    "list_envs",
    "make",
    "make_parallel",
    "register",
    "spec",
]
