"""Finding the line a key or name is written on, for evidence, in files read with a parser that forgets lines."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..datatext import load_json

if TYPE_CHECKING:
    from ..repo import FileText
    from .base import DetectContext


def line_of(lines: list[str], pattern: re.Pattern[str] | str, start: int = 0, default: int = 1) -> int:
    """1-based number of the first line at or after index `start` that matches `pattern` (a regex or a literal)."""
    regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
    for index in range(max(0, start), len(lines)):
        if regex.search(lines[index]):
            return index + 1
    return default


def key_lines(lines: list[str], pattern: re.Pattern[str], start: int = 0,
              stop: re.Pattern[str] | None = None) -> dict[str, int]:
    """The 1-based line of the first match of each key (`pattern`'s group 1), from index `start` up to the first
    line matching `stop`, in one pass: one `line_of` search per key would rescan the file for every key."""
    found: dict[str, int] = {}
    for index in range(max(0, start), len(lines)):
        text = lines[index]
        if stop is not None and index > start and stop.search(text):
            break
        match = pattern.search(text)
        if match:
            found.setdefault(match.group(1), index + 1)
    return found


def json_key_line(lines: list[str], key: str, start: int = 0, default: int = 1) -> int:
    """The line of `"key":` in JSON text (the first at or after index `start`)."""
    return line_of(lines, re.compile(r'"' + re.escape(key) + r'"\s*:'), start, default)


def json_object(ctx: DetectContext, file: FileText) -> dict[str, Any] | None:
    """The top-level JSON object of a file; None (and a Diagnostic with the line) when it is not JSON, None
    (silently) when it is JSON but not an object."""
    try:
        data = load_json(file.text)
    except (json.JSONDecodeError, RecursionError) as exc:
        ctx.diagnostic(file.path, f"invalid JSON: {exc}", line=getattr(exc, "lineno", None))
        return None
    return data if isinstance(data, dict) else None
