"""Finding the line a key or name is written on, for evidence, in files read with a parser that forgets lines."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

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


def json_key_line(lines: list[str], key: str, start: int = 0, default: int = 1) -> int:
    """The line of `"key":` in JSON text (the first at or after index `start`)."""
    return line_of(lines, re.compile(r'"' + re.escape(key) + r'"\s*:'), start, default)


def json_object(ctx: DetectContext, file: FileText) -> dict[str, Any] | None:
    """The top-level JSON object of a file; None (and a Diagnostic with the line) when it is not JSON, None
    (silently) when it is JSON but not an object."""
    try:
        data = json.loads(file.text)
    except (json.JSONDecodeError, RecursionError) as exc:
        ctx.diagnostic(file.path, f"invalid JSON: {exc}", line=getattr(exc, "lineno", None))
        return None
    return data if isinstance(data, dict) else None
