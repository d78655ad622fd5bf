"""Finding the line a key or name is written on, for evidence, in files read with a parser that forgets lines."""

from __future__ import annotations

import re


def line_of(lines: list[str], pattern: re.Pattern[str] | str, start: int = 0, default: int = 1) -> int:
    """1-based number of the first line at or after index `start` that matches `pattern` (a regex or a literal)."""
    regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
    for index in range(max(0, start), len(lines)):
        if regex.search(lines[index]):
            return index + 1
    return default


def json_key_line(lines: list[str], key: str, start: int = 0, default: int = 1) -> int:
    """The line of `"key":` in JSON text (the first at or after index `start`)."""
    return line_of(lines, re.compile(r'"' + re.escape(key) + r'"\s*:'), start, default)
