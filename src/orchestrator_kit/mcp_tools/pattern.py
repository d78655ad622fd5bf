r"""Regular expressions from a client, compiled only when their cost is bounded.

A pattern is parsed with Python's own regex parser (`re._parser`) before anything is compiled, and refused when:

* it is longer than `MAX_PATTERN_CHARS` characters;
* a bounded repetition asks for more than `MAX_REPEAT` copies (`a{1000000000}`);
* its expanded size is over `MAX_EXPANDED`, where expanded size = sum over the parse tree of one per node, with a
  repetition's body counted `min(max, MAX_REPEAT) + 1` times (an unbounded `*`/`+` counts its minimum plus one):
  this is what `(?:a{1000}){1000}` multiplies out to (10^6 nodes, hundreds of MB in the regex engine);
* groups and repetitions nest deeper than `MAX_DEPTH`;
* it uses syntax Python's `re` does not know, or a brace that is not a `{m,n}` repetition: `re` reads `x{e<=3}` as
  literal text where the `regex` module reads fuzzy matching, so a literal brace must be written `\{`.

Only then is it compiled, with the `regex` module (which can time a match out) and with its pattern cache off, so a
compiled pattern lives exactly as long as the call that uses it.
"""

from __future__ import annotations

import re

# Python 3.11+ (what pyproject requires) keeps the parser private; its interface has not changed since sre_parse.
import re._parser as sre_parse  # type: ignore[import-not-found]
from re._constants import MAXREPEAT  # type: ignore[import-not-found]
from typing import Any

from ..errors import InputError, sentence

MAX_PATTERN_CHARS = 500
MAX_REPEAT = 1000
MAX_EXPANDED = 20_000
MAX_DEPTH = 30
_REMEDY = "simplify the pattern (fewer or smaller repetitions) and call again"


def compile_bounded(pattern: str, *, ignore_case: bool = False) -> Any:
    """The compiled `pattern` (a `regex` pattern, whose `search` takes `timeout=`), or InputError with the cause."""
    if not pattern:
        raise InputError("Pattern must not be empty; give a regular expression such as 'deploy'.")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InputError(f"Pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_CHARS}. Shorten it.")
    flags = re.IGNORECASE if ignore_case else 0
    try:
        tree = sre_parse.parse(pattern, flags)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        raise InputError(f"Invalid regular expression '{_shown(pattern)}': {sentence(str(exc))} "
                         "Use Python `re` syntax.") from None
    _check_braces(pattern)
    size = _expanded(tree, 0)
    if size > MAX_EXPANDED:
        raise InputError(f"Pattern '{_shown(pattern)}' expands to about {size} regex nodes once its repetitions are "
                         f"multiplied out; the limit is {MAX_EXPANDED}: {_REMEDY}.")
    import regex

    try:
        return regex.compile(pattern, (regex.IGNORECASE if ignore_case else 0) | regex.VERSION0, cache_pattern=False)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise InputError(f"Invalid regular expression '{_shown(pattern)}': {sentence(str(exc))} "
                         "Use Python `re` syntax.") from None


_QUANTIFIER = re.compile(r"\{\d*(?:,\d*)?\}")


def _check_braces(pattern: str) -> None:
    """InputError for an unescaped `{` outside a character class that does not start a `{m}`/`{m,n}` repetition."""
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            index += 1
            if pattern[index : index + 1] == "^":
                index += 1
            if pattern[index : index + 1] == "]":  # a leading ] is a literal member
                index += 1
            continue
        elif char == "{" and not _QUANTIFIER.match(pattern, index):
            raise InputError(f"Pattern '{_shown(pattern)}' has a '{{' at position {index} that is not a repetition "
                             "like {2,5}; write a literal brace as \\{ (fuzzy matching is not offered).")
        index += 1


def _expanded(tree: Any, depth: int) -> int:
    """The expanded size of a parsed sequence (see the module docstring); InputError past the repeat/depth limits."""
    if depth > MAX_DEPTH:
        raise InputError(f"Pattern nests groups or repetitions more than {MAX_DEPTH} deep: {_REMEDY}.")
    total = 0
    for op, arg in tree:
        name = str(op)
        total += 1
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, body = arg
            if high != MAXREPEAT and high > MAX_REPEAT:
                raise InputError(f"A repetition asks for up to {high} copies; the limit is {MAX_REPEAT}: {_REMEDY}.")
            if low > MAX_REPEAT:
                raise InputError(f"A repetition asks for at least {low} copies; the limit is {MAX_REPEAT}: "
                                 f"{_REMEDY}.")
            copies = (low if high == MAXREPEAT else high) + 1
            total += copies * _expanded(body, depth + 1)
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            body = arg[-1] if name == "SUBPATTERN" else arg
            total += _expanded(body, depth + 1)
        elif name == "BRANCH":
            total += sum(_expanded(branch, depth + 1) for branch in arg[1])
        elif name in ("ASSERT", "ASSERT_NOT"):
            total += _expanded(arg[1], depth + 1)
        elif name == "GROUPREF_EXISTS":
            total += sum(_expanded(branch, depth + 1) for branch in arg[1:] if branch is not None)
        elif name == "IN":
            total += len(arg)
        if total > MAX_EXPANDED:
            return total  # no need to walk further
    return total


def _shown(pattern: str) -> str:
    return pattern if len(pattern) <= 80 else pattern[:77] + "..."
