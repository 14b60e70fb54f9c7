"""Errors arena raises on bad input from users (never on bad input from agents)."""

from __future__ import annotations


class ArenaError(Exception):
    """A user-facing error; the CLI prints its message as one line."""


class UnknownEnvError(ArenaError, KeyError):
    """An env id that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownAgentError(ArenaError, KeyError):
    """An agent name that is not one of the game's players (``observe``); a ``KeyError`` too, as a dict's
    lookup would raise."""

    def __init__(self, agent: object, agents: object) -> None:
        super().__init__(f"unknown agent {agent!r}; the players are {', '.join(sorted(map(str, agents)))}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class RegistrationError(ArenaError):
    """A bad ``arena.register`` call."""
