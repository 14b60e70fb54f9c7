"""Shared pieces for drawing messages: speaker colours and escaped, styled lines."""

from __future__ import annotations

from rich.text import Text

from arena.core.messages import GAME, Message

_PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "bright_magenta", "bright_green")


def speaker_style(sender: str) -> str:
    """A stable colour per speaker; the game itself is dim white."""
    if sender == GAME:
        return "bold white"
    digits = "".join(ch for ch in sender if ch.isdigit())
    index = int(digits) if digits else sum(map(ord, sender))
    return _PALETTE[index % len(_PALETTE)]


def safe(text: object) -> str:
    """``text`` with control characters (ANSI escapes, bells, carriage returns) shown as ``\\xNN`` so
    agent output can neither style nor move the terminal; newlines and tabs stay."""
    text = str(text)
    if all(c.isprintable() or c in "\n\t" for c in text):
        return text
    return "".join(
        c if c.isprintable() or c in "\n\t" else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
        for c in text
    )


MAX_SHOWN_CHARS = 4000


def clip(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """At most ``limit`` characters of ``text`` with a note of how many were left out (games clip what
    agents say; this bounds what a hand-edited transcript can make the viewer wrap)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def plain(text: object, style: str = "") -> Text:
    """``text`` as a rich ``Text`` that is never parsed as markup: use it for every title built from
    data (a rich ``str`` title would turn ``[link=...]`` in a transcript's phase into a live link)."""
    return Text(safe(text), style=style)


def message_line(message: Message, *, show_recipients: bool = True) -> Text:
    """One message as a rich ``Text`` (never parsed as markup, so agent text cannot inject styles)."""
    line = Text()
    line.append(f"[{safe(message.sender)}] ", style=speaker_style(message.sender))
    style = {"warning": "red", "private": "italic", "result": "bold", "reasoning": "dim italic"}.get(message.kind, "")
    line.append(safe(clip(message.text)), style=style)
    if show_recipients and message.to is not None:
        line.append(f"  → {safe(', '.join(sorted(message.to)))}", style="dim")
    return line
