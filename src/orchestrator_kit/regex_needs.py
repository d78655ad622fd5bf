"""What text a regular expression needs: strings one of which every match contains, read from the parsed pattern.

A redaction pattern is searched on every line a scan lets out, and Python's engine tries most of them at every
position (their first element is an alternation or a lookbehind, which its prefix scan cannot use): about 1 us a
pattern and line, 40 patterns a line. Most lines hold none of the text a pattern needs (`AKIA`, `://`, `sshpass`):
a substring test in C says so first. A need is only a necessary condition: a line that holds one goes to the
pattern as before, so what is found is the same.

`needs(pattern)` walks the parse tree (CPython's own parser, `re._parser`): a run of literal characters at the top
of the pattern is needed; so is what a group, or a repeat of at least one, needs; an alternation needs one of what
its branches need (when each needs something). Everything else (classes, anchors, lookarounds, back-references,
optional parts) needs nothing. Of the needs found, the one whose shortest string is longest is kept.

Case: when the pattern or one of its groups ignores case, the need is tested on the lower-cased line, and only for
an ASCII line (a case-insensitive ASCII letter also matches a few other characters, such as the Kelvin sign for
`k`, which an ASCII line does not hold; lower-casing an ASCII line maps each letter to the one it matches). A need
with a non-ASCII string is dropped.
"""

from __future__ import annotations

import re
from typing import Any

try:  # CPython 3.11+
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - other interpreters: no needs, every pattern is searched
    _sre = _sre_parse = None  # type: ignore[assignment]


class Need:
    """Strings one of which every match of a pattern contains; `lower`: test them on the lower-cased ASCII line."""

    __slots__ = ("lower", "strings")

    def __init__(self, strings: tuple[str, ...], lower: bool) -> None:
        self.strings, self.lower = strings, lower

    def met(self, line: str, lowered: str | None) -> bool:
        """Whether `line` may match. `lowered`: `line.lower()` when `line` is ASCII, else None."""
        if self.lower:
            if lowered is None:
                return True  # not ASCII: cannot tell by lower-casing
            line = lowered
        for string in self.strings:  # noqa: SIM110 - a loop, not any() over a generator: runs per pattern and line
            if string in line:
                return True
        return False


def merged(found: list[Need]) -> tuple[Need, ...]:
    """Needs of which one must be met, as at most two (the case-sensitive strings, the case-insensitive ones)."""
    exact = tuple(dict.fromkeys(s for need in found if not need.lower for s in need.strings))
    lower = tuple(dict.fromkeys(s for need in found if need.lower for s in need.strings))
    return tuple(Need(strings, flag) for strings, flag in ((exact, False), (lower, True)) if strings)


def needs(pattern: re.Pattern[str]) -> Need | None:
    """What every match of `pattern` contains (see the module doc), or None when nothing can be said."""
    if _sre_parse is None or not isinstance(pattern.pattern, str):
        return None
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:
        return None
    ignores_case = bool(pattern.flags & re.IGNORECASE) or _adds_ignorecase(list(parsed))
    found = _need(list(parsed))
    if not found or not all(string.isascii() for string in found):
        return None
    strings = tuple(dict.fromkeys(s.lower() for s in found)) if ignores_case else tuple(dict.fromkeys(found))
    return Need(strings, ignores_case)


def _better(best: list[str] | None, candidate: list[str] | None) -> list[str] | None:
    if not candidate or not all(candidate):
        return best
    if best is None or min(map(len, candidate)) > min(map(len, best)):
        return candidate
    return best


def _need(items: list[tuple[Any, Any]]) -> list[str] | None:
    """Strings one of which every match of the parsed sequence `items` contains, or None."""
    best: list[str] | None = None
    run: list[str] = []
    for op, av in items:
        if op is _sre.LITERAL:
            run.append(chr(av))
            continue
        best = _better(best, ["".join(run)] if run else None)
        run = []
        if op is _sre.SUBPATTERN:
            best = _better(best, _need(list(av[-1])))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)) and av[0] >= 1:
            best = _better(best, _need(list(av[2])))
        elif op is getattr(_sre, "ATOMIC_GROUP", None):
            best = _better(best, _need(list(av)))
        elif op is _sre.BRANCH:
            branches = [_need(list(branch)) for branch in av[1]]
            if all(branches):
                best = _better(best, [string for branch in branches for string in branch])  # type: ignore[union-attr]
    return _better(best, ["".join(run)] if run else None)


def _adds_ignorecase(items: list[tuple[Any, Any]]) -> bool:
    """Whether a group anywhere in the parsed sequence turns case-insensitivity on or off (`(?i:...)`, `(?-i:...)`):
    then the whole need is tested as case-insensitive, which only widens it."""
    for op, av in items:
        if op is _sre.SUBPATTERN:
            if (av[1] | av[2]) & re.IGNORECASE or _adds_ignorecase(list(av[-1])):
                return True
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)):
            if _adds_ignorecase(list(av[2])):
                return True
        elif op is _sre.BRANCH:
            if any(_adds_ignorecase(list(branch)) for branch in av[1]):
                return True
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            if _adds_ignorecase(list(av[1])):
                return True
        elif op is getattr(_sre, "ATOMIC_GROUP", None) and _adds_ignorecase(list(av)):
            return True
    return False
