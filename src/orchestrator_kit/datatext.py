"""JSON and TOML text read into Python values, where every way the text can fail is the parser's own decode error.

`json.loads` and `tomllib.loads` let other exceptions out on hostile text, which no caller expected (a
`package.json`, `pyproject.toml` or `.orchestrator-kit.toml` holding one became "internal error in detector", or
"Internal error ... This is a bug" for the whole scan, found by a hostile-input hunt):

* an integer of more decimal digits than `sys.get_int_max_str_digits()` (4,300 by default): int() refuses it with
  a bare ValueError (Python's guard against quadratic conversion time) that gives no position;
* TOML nesting past the interpreter's recursion limit: RecursionError (the JSON callers catch theirs already);
* a TOML hexadecimal, octal or binary integer that is read (power-of-two bases have no limit) but has more decimal
  digits than str() will write: each later f-string or `json.dumps` of it raises that ValueError.

Here each is a `json.JSONDecodeError` or `tomllib.TOMLDecodeError` with the line (and column where known), in the
parser's own format, so every caller's `except` and message stay as they are. The value is never quoted (messages
are not redacted, and it may be a secret). Valid text costs one regex search more (TOML only; see `_long_run`).
"""

from __future__ import annotations

import json
import math
import re
import sys
import tomllib
from collections.abc import Callable, Sequence
from typing import Any

from .limits import note_exhausted

_DIGITS = re.compile(r"[0-9](?:_?[0-9])*")


def _limit() -> int:
    return sys.get_int_max_str_digits()  # 0: no limit


def _too_long(value: int, limit: int) -> bool:
    """Whether str(value) would refuse it: more than `limit` decimal digits. A number of at most 3.32 * limit bits
    (log2 10 = 3.3219) has at most `limit` digits, so most ints are settled without converting."""
    if limit == 0 or value.bit_length() <= limit * 3.32:
        return False
    try:
        str(value)
    except ValueError:
        return True
    return False


def _first_failing_line(text: str, fails: Callable[[str], bool], guesses: Sequence[int] = ()) -> int:
    """The first line L (1-based) such that `fails(text up to the end of line L)`: the first of `guesses` that two
    parses confirm (it fails, the line before does not), else found by bisection (a parse per halving: on a 2 MB
    file, ten seconds of tomllib, hence the guesses).

    Sound for a parser that reads left to right and raises at the first problem: a prefix that ends after the
    problem's line meets it (a number, or the bracket past the depth limit, lies on one line), a prefix that ends
    before it meets at most the end of the text. `fails(text)` must be true."""
    ends = [match.end() for match in re.finditer("\n", text)]
    if not ends or ends[-1] != len(text):
        ends.append(len(text))
    for guess in guesses:
        if 1 <= guess <= len(ends) and fails(text[: ends[guess - 1]]):
            if guess == 1 or not fails(text[: ends[guess - 2]]):
                return guess
            break  # the problem is on an earlier line: bisection finds it
    low, high = 0, len(ends) - 1
    while low < high:
        middle = (low + high) // 2
        if fails(text[: ends[middle]]):
            high = middle
        else:
            low = middle + 1
    return low + 1


def _long_number_lines(text: str, limit: int, most: int = 3) -> list[int]:
    """The lines of the first `most` runs of more than `limit` digits (guesses for `_first_failing_line`: one may be
    in a string or a comment)."""
    lines: list[int] = []
    for match in _DIGITS.finditer(text):
        if len(match.group()) > limit and len(match.group().replace("_", "")) > limit:
            lines.append(text.count("\n", 0, match.start()) + 1)
            if len(lines) == most:
                break
    return lines


_QUOTED_OR_COMMENT = re.compile(r""""(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\#[^\n]*""")


def _deep_line(text: str, depth: int = 100) -> int | None:
    """The first line where brackets and braces (outside one-line strings and comments) open more than `depth`
    levels: a guess for where nesting passes the recursion limit (`_first_failing_line` checks it)."""
    level = 0
    for number, line in enumerate(_QUOTED_OR_COMMENT.sub("", text).split("\n"), start=1):
        if "[" in line or "{" in line or "]" in line or "}" in line:
            for char in line:
                if char in "[{":
                    level += 1
                    if level > depth:
                        return number
                elif char in "]}":
                    level = max(0, level - 1)
    return None


def _line_start(text: str, line: int) -> int:
    at = 0
    for _ in range(line - 1):
        at = text.index("\n", at) + 1
    return at


def _long_number_at(text: str, line: int, limit: int) -> int:
    """The offset of the first run of more than `limit` digits on `line` (its start when there is none)."""
    start = _line_start(text, line)
    end = text.find("\n", start)
    for match in _DIGITS.finditer(text, start, len(text) if end < 0 else end):
        if len(match.group().replace("_", "")) > limit:
            return match.start()
    return start


def _fails(parse: Callable[[str], Any], problem: Callable[[BaseException], bool]) -> Callable[[str], bool]:
    """A test for `_first_failing_line`: parsing the prefix raises an exception that `problem` accepts (a prefix
    cut inside a value raises a decode error instead: that is "not yet")."""

    def fails(prefix: str) -> bool:
        try:
            parse(prefix)
        except Exception as exc:  # which one counts (RecursionError is one too) is `problem`'s decision
            if isinstance(exc, (RecursionError, MemoryError)):
                note_exhausted()
            return problem(exc)
        return False

    return fails


def _bare_value_error(exc: BaseException) -> bool:
    return isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError | tomllib.TOMLDecodeError)


# ------------------------------------------------------------------ JSON


# A \u escape of a surrogate: json.loads keeps a lone one (`"\ud800"`) as a lone surrogate, which no JSON output,
# UTF-8 file or terminal can hold (pairs, as emoji are written, become one character).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def load_json(text: str) -> Any:
    """`json.loads(text)`, raising json.JSONDecodeError (at the line and column) for an integer past Python's digit
    limit too. RecursionError (nesting too deep) is left as json.loads raises it, for its callers to catch, once
    counted (`limits.note_exhausted`: how deep the caller's stack was decided it, and npm's and composer's readers
    did not count it, so a scan's record kept their result for scans with more room). A lone surrogate a `\\u`
    escape writes comes back as U+FFFD, in keys and values: kept, a package.json script named with one made
    `scan --format json` fail ("Internal error: PydanticSerializationError"; found by a hostile-input hunt). Only a
    text with such an escape is walked (one regex search)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        note_exhausted()
        raise
    except ValueError:
        limit = _limit()
        line = _first_failing_line(text, _fails(json.loads, _bare_value_error), _long_number_lines(text, limit))
        raise json.JSONDecodeError(f"Integer of more than {limit} digits", text,
                                   _long_number_at(text, line, limit)) from None
    if _SURROGATE_ESCAPE.search(text) is not None:
        value = _without_lone_surrogates(value)
    return value


def _without_lone_surrogates(value: Any) -> Any:
    """`value` (parsed JSON) with each lone surrogate in its strings replaced by U+FFFD; containers are changed in
    place, iteratively (JSON nests as deep as the recursion limit lets json.loads go)."""
    clean = _LONE_SURROGATE.sub
    if isinstance(value, str):
        return clean("\ufffd", value)
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            node.clear()
            for key, item in items:
                if isinstance(item, str):
                    item = clean("\ufffd", item)
                elif isinstance(item, dict | list):
                    stack.append(item)
                node[clean("\ufffd", key)] = item  # keys that become equal: the last wins, as for repeated keys
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = clean("\ufffd", item)
                elif isinstance(item, dict | list):
                    stack.append(item)
    return value


# ------------------------------------------------------------------ TOML


def _toml_error(message: str, text: str, line: int, column: int) -> tomllib.TOMLDecodeError:
    # tomllib's own wording, "... (at line 3, column 5)", which callers read the line from
    return tomllib.TOMLDecodeError(f"{message} (at line {line}, column {column})")


def load_toml(text: str) -> dict[str, Any]:
    """`tomllib.loads(text)`, raising tomllib.TOMLDecodeError (with the line) for nesting past the recursion limit,
    an integer past Python's digit limit, and a hexadecimal, octal or binary integer of more decimal digits than
    that limit (see the module's docstring)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except ValueError:
        limit = _limit()
        line = _first_failing_line(text, _fails(tomllib.loads, _bare_value_error), _long_number_lines(text, limit))
        at = _long_number_at(text, line, limit)
        raise _toml_error(f"Integer of more than {limit} digits", text, line, at - _line_start(text, line) + 1) \
            from None
    except RecursionError:
        note_exhausted()  # how deep the caller's stack already was decided it (see `limits.note_exhausted`)
        line = _first_failing_line(text, _fails(tomllib.loads, lambda exc: isinstance(exc, RecursionError)),
                                   [line for line in [_deep_line(text)] if line is not None])
        raise _toml_error("Nesting too deep", text, line, 1) from None
    limit = _limit()
    if limit and _long_run(limit).search(text) is not None and (count := _count_too_long(document, limit)):
        line, column = _first_long_based_int(text, limit, count)
        raise _toml_error(f"Integer of more than {limit} decimal digits", text, line, column)
    return document


def _long_run(limit: int) -> re.Pattern[str]:
    """A run of the characters a TOML integer is written with, long enough to hold one past `limit` decimal
    digits in the densest base (hexadecimal: log10(16) = 1.204 decimal digits per character). Only when the text
    has one is the document walked (see `_count_too_long`). The look-behind starts a match only where a run
    starts, so the search stays linear in the text (without it, each shorter run is read again from each of its
    characters)."""
    return re.compile(rf"(?<![0-9A-Fa-f_])[0-9A-Fa-f_]{{{math.floor(limit / math.log10(16))},}}")


_BASED = re.compile(r"0([xob])([0-9A-Fa-f_]+)")


def _first_long_based_int(text: str, limit: int, count: int) -> tuple[int, int]:
    """The line and column of the first hexadecimal, octal or binary integer past `limit` decimal digits that is a
    value: of the numbers written so, the first whose replacement by 0 leaves one fewer such integer in the document
    (one in a string or a comment changes nothing). At most 20 are tried (each is a parse); then line 1, column 1."""
    found = 0
    for match in _BASED.finditer(text):
        try:
            value = int(match.group(2), {"x": 16, "o": 8, "b": 2}[match.group(1)])
        except ValueError:
            continue
        if not _too_long(value, limit):
            continue
        found += 1
        if found > 20:
            break
        try:
            document = tomllib.loads(text[: match.start()] + "0" + text[match.end() :])
        except ValueError:
            continue
        except RecursionError:
            note_exhausted()
            continue
        if _count_too_long(document, limit) < count:
            line_start = text.rfind("\n", 0, match.start()) + 1
            return text.count("\n", 0, match.start()) + 1, match.start() - line_start + 1
    return 1, 1


def _count_too_long(document: Any, limit: int) -> int:
    count, stack = 0, [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, int) and not isinstance(value, bool) and _too_long(value, limit):
            count += 1
    return count
