"""Helpers shared by the Python task-runner detectors (pyproject, tox, nox): TOML with line numbers,
argument quoting. Not a detector module: the leading underscore keeps the package loader from importing it."""

from __future__ import annotations

import bisect
import re
import shlex
import tomllib
from typing import Any

from ..datatext import load_toml as load_toml_text
from ..repo import FileText
from .base import DetectContext

GENERATED_ENV_LIMIT = 512


# ==================================================================== TOML text index


class TomlIndex:
    """Where each table header and key of a TOML document is written.

    `span(path)` is the first and last line of everything written under `path` (a header, a key and its
    value, or dotted keys below it). The text must already have parsed with tomllib; the scan only has to
    step over strings, arrays and inline tables correctly.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.entries: list[tuple[tuple[str, ...], int, int]] = []
        self.string_starts: dict[tuple[str, ...], int] = {}
        self._spans: dict[tuple[str, ...], tuple[int, int]] | None = None
        self._scan()

    def line(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1

    def span(self, path: tuple[str, ...]) -> tuple[int, int] | None:
        if self._spans is None:  # one pass over the entries, then every look-up is a dict hit
            self._spans = {}
            for key, start, end in self.entries:
                for size in range(len(key) + 1):
                    known = self._spans.get(key[:size])
                    self._spans[key[:size]] = (min(known[0], start), max(known[1], end)) if known else (start, end)
        return self._spans.get(path)

    # ---------------------------------------------------------------- scanning

    def _scan(self) -> None:
        text = self.text
        pos = 0
        table: tuple[str, ...] = ()
        while pos < len(text):
            pos = self._skip_blank(pos)
            if pos >= len(text):
                break
            if text[pos] == "[":
                double = text.startswith("[[", pos)
                keys, pos = self._key(pos + (2 if double else 1))
                table = tuple(keys)
                self.entries.append((table, self.line(pos), self.line(pos)))
                pos = self._end_of_line(pos)
                continue
            start = pos
            keys, pos = self._key(pos)
            pos = self._skip_spaces(pos)
            if pos < len(text) and text[pos] == "=":
                pos = self._skip_spaces(pos + 1)
            value_start = pos
            pos = self._value(pos)
            full = table + tuple(keys)
            self.entries.append((full, self.line(start), self.line(max(start, pos - 1))))
            if text.startswith(('"""', "'''"), value_start):
                after = value_start + 3
                self.string_starts[full] = self.line(after) + (1 if text.startswith("\n", after) else 0)
            elif text.startswith(('"', "'"), value_start):
                self.string_starts[full] = self.line(value_start)
            pos = self._end_of_line(pos)

    def _skip_blank(self, pos: int) -> int:
        text = self.text
        while pos < len(text):
            if text[pos] in " \t\r\n":
                pos += 1
            elif text[pos] == "#":
                pos = self._end_of_line(pos)
            else:
                break
        return pos

    def _skip_spaces(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t":
            pos += 1
        return pos

    def _end_of_line(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        return len(self.text) if end < 0 else end + 1

    def _key(self, pos: int) -> tuple[list[str], int]:
        """A dotted key (bare or quoted parts) starting at `pos`; stops at `=`, `]` or the end of the line."""
        text = self.text
        keys: list[str] = []
        while pos < len(text):
            pos = self._skip_spaces(pos)
            if pos >= len(text):
                break
            char = text[pos]
            if char in "\"'":
                end = self._string_end(pos)
                raw = text[pos + 1 : end - 1]
                keys.append(_decode_basic(raw) if char == '"' else raw)
                pos = end
            else:
                match = _BARE_KEY.match(text, pos)
                if not match:
                    break
                keys.append(match.group(0))
                pos = match.end()
            pos = self._skip_spaces(pos)
            if pos < len(text) and text[pos] == ".":
                pos += 1
                continue
            break
        return keys, pos

    def _string_end(self, pos: int) -> int:
        """Offset just past the string that opens at `pos` (any of the four TOML string kinds)."""
        text = self.text
        for delimiter in ('"""', "'''"):
            if text.startswith(delimiter, pos):
                cursor = pos + 3
                while True:
                    found = text.find(delimiter, cursor)
                    if found < 0:
                        return len(text)
                    if delimiter == '"""' and _escaped(text, found):
                        cursor = found + 1
                        continue
                    end = found + 3
                    while end < len(text) and text[end] == delimiter[0] and end - found < 5:
                        end += 1  # up to two quotes may end the content: `""""x"""""`
                    return end
        quote = text[pos]
        cursor = pos + 1
        while cursor < len(text) and text[cursor] != "\n":
            if text[cursor] == "\\" and quote == '"':
                cursor += 2
                continue
            if text[cursor] == quote:
                return cursor + 1
            cursor += 1
        return cursor

    def _value(self, pos: int) -> int:
        """Offset just past the value that starts at `pos`."""
        text = self.text
        if pos >= len(text):
            return pos
        char = text[pos]
        if char in "\"'":
            return self._string_end(pos)
        if char in "[{":
            closing = "]" if char == "[" else "}"
            depth = 0
            cursor = pos
            while cursor < len(text):
                current = text[cursor]
                if current in "\"'":
                    cursor = self._string_end(cursor)
                    continue
                if current == "#" and char == "[":
                    cursor = self._end_of_line(cursor)
                    continue
                if current in "[{":
                    depth += 1
                elif current in "]}":
                    depth -= 1
                    if depth == 0 and current == closing:
                        return cursor + 1
                cursor += 1
            return cursor
        match = _SCALAR.match(text, pos)
        return match.end() if match else pos + 1


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^\n#]*")


def _escaped(text: str, index: int) -> bool:
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _decode_basic(raw: str) -> str:
    try:
        return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return raw


def load_toml(ctx: DetectContext, file: FileText, *, report: bool = True) -> dict[str, Any] | None:
    """The parsed document; None (and, when `report`, a Diagnostic with tomllib's line) when it is not TOML
    (`datatext.load_toml`: also too deep, or an integer Python will not read or write)."""
    try:
        return load_toml_text(file.text)
    except tomllib.TOMLDecodeError as exc:
        if report:
            message = str(exc)
            where = re.search(r"at line (\d+), column (\d+)", message)
            line = int(where.group(1)) if where else file.line_count
            ctx.diagnostic(file.path, f"invalid TOML: {message}", line=line)
        return None


def locate_text(lines: list[str], text: str, span: tuple[int, int], after: int = 0) -> tuple[int, int]:
    """The line inside `span` (at or after line `after`) that holds the start of `text`; `span` when unknown.

    Commands inside arrays and strings are found by their first line's text, falling back to the part
    before the first quote or backslash (TOML escapes change how the text is written)."""
    first = next((piece.strip() for piece in text.split("\n") if piece.strip()), "")
    if not first:
        return span
    needles = [first, re.split(r"[\"'\\]", first, maxsplit=1)[0].strip()]
    start = max(span[0], after)
    for needle in needles:
        if len(needle) < 2:
            continue
        for number in range(start, min(span[1], len(lines)) + 1):
            if needle in lines[number - 1]:
                return number, number
    return span


def as_table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def get_in(document: dict[str, Any], *keys: str) -> Any:
    node: Any = document
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def join_args(args: list[Any]) -> str:
    return " ".join(quote_arg(str(a)) for a in args)


def quote_arg(word: str) -> str:
    """A word as a person would type it in a shell: bare when safe, else quoted the readable way."""
    if word and not re.search(r"[\s\"'$`\\|&;<>()*?]", word):
        return word
    if "'" not in word:
        return f"'{word}'"
    if not re.search(r"[\"$`\\]", word):
        return f'"{word}"'
    return shlex.quote(word)


