"""Tolerant matching of a free-text reply against a game's list of legal action strings.

Every game with a finite move set reads replies through :func:`match_choice`, so one rule holds
everywhere: a reply is accepted when it names exactly one legal action, however it is dressed.

1. **The whole reply is a legal action**, ignoring case, surrounding whitespace, markdown
   (``**``, ``_``, backticks), surrounding punctuation and quotes, and the brackets of a bracketed
   action: ``[player_3]``, ``**[Player_3]**``, ``player_3.``, ``'[bet]'``, ``4`` for ``[4]``. Spaces,
   underscores and hyphens inside a word count as one separator (``player 3`` = ``player-3`` =
   ``player_3``); a minus sign is kept (``-1`` never means ``1``). A game may add
   whole-reply aliases (werewolf accepts ``[3]`` for ``[player_3]``).
2. **Otherwise the reply mentions legal actions in brackets** (``I vote for [player_3] because ...``):
   accepted when exactly one distinct legal action appears in brackets.
3. **Otherwise the reply mentions legal actions without brackets** (``I check.``, ``go to fridge 1
   now``): accepted when exactly one distinct legal action appears as a whole phrase (``player_3``
   does not match inside ``player_30``; a mention inside a longer mentioned action does not count).

Anything else is rejected with a reason: nothing legal named, or several different actions named
(``[player_1] or [player_3]`` is ambiguous and never guessed). A game may also pass the actions that
exist but are not legal now (``known``: an occupied cell, a dead player): they count when looking
for ambiguity, and a reply naming only one of them is told that it is not allowed now.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

_SEPARATORS = re.compile(r"(?:\s|_|(?<=[0-9a-z])-(?=[0-9a-z]))+")
_EDGE = " \t\r\n_*`'\".,;:!?~()<>"
_BRACKET_PAD = re.compile(r"\[_|_\]")


class Match(NamedTuple):
    """The outcome of :func:`match_choice`: the legal action, or None and the reason; ``named`` lists
    every action the reply named (legal or ``known``). A named tuple: a third of the cost of a frozen
    dataclass, and every move of a choice game makes one."""

    action: str | None
    reason: str = ""
    named: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.action is not None


def canonical(text: str) -> str:
    """Case-folded, with runs of spaces, hyphens and underscores collapsed to one ``_``."""
    folded = _SEPARATORS.sub("_", text.casefold())
    return _BRACKET_PAD.sub(lambda m: m.group(0).replace("_", ""), folded)


def _bare(action: str) -> str:
    stripped = action.strip()
    if len(stripped) > 2 and stripped.startswith("[") and stripped.endswith("]"):
        return stripped[1:-1].strip()
    return stripped


def _mentions(text: str, forms: Mapping[str, str]) -> set[str]:
    """Legal actions whose ``form`` occurs in ``text`` as a whole phrase, innermost overlaps dropped."""
    spans: list[tuple[int, int, str]] = []
    for form, action in forms.items():
        pattern = r"(?<![0-9a-z\-])" + re.escape(form) + r"(?![0-9a-z])" if form[:1] != "[" else re.escape(form)
        spans.extend((m.start(), m.end(), action) for m in re.finditer(pattern, text))
    inside = [s for s in spans if any(o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0] for o in spans)]
    return {action for span in spans if span not in inside for action in (span[2],)}


def match_choice(
    reply: str,
    legal: Sequence[str],
    aliases: Mapping[str, Iterable[str]] | None = None,
    *,
    known: Sequence[str] = (),
) -> Match:
    """The one legal action ``reply`` names (see the module docstring), or None with the reason.
    ``aliases`` maps an action to other whole-reply spellings; ``known`` lists actions that exist but
    are not legal now."""
    if not legal:
        return Match(None, "There is no legal action to choose from now.")
    exact = str(reply).strip()
    if exact in legal:  # the common case, read without any normalising
        return Match(exact, "", (exact,))
    separator = ", " if any(" " in a.strip() for a in legal) else " "
    listing = separator.join(legal)
    candidates = list(legal) + [a for a in known if a not in legal]
    text = canonical(str(reply))
    whole: dict[str, str] = {}
    for action in candidates:
        for form in (action, _bare(action), *(aliases or {}).get(action, ())):
            whole.setdefault(canonical(form).strip(_EDGE), action)
    trimmed = text.strip(_EDGE)
    found = {whole[trimmed]} if trimmed in whole else set()
    bracketed = {canonical(a): a for a in candidates if a.strip().startswith("[")}
    for forms in (bracketed, {canonical(_bare(a)): a for a in candidates}):
        found = found or _mentions(text, {f: a for f, a in forms.items() if f})
    named = tuple(a for a in candidates if a in found)
    if len(named) > 1:
        return Match(
            None, f"Ambiguous answer: it names {separator.join(named)}. Answer with exactly one of: {listing}", named
        )
    if not named:
        return Match(None, f"Answer with exactly one of: {listing}")
    if named[0] not in legal:
        return Match(None, f"{named[0]} is not allowed now. Answer with exactly one of: {listing}", named)
    return Match(named[0], "", named)
