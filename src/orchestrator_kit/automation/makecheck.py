"""A Makefile checked without running make: the errors `make -n` would stop on, found by reading the text.

Used when there is no real sandbox for make (see `sandbox`), so that a Makefile is still checked. One pass over
the lines, linear in the file's size. What it reports, with make's own wording where make has one:

* `missing separator`: a line that is no rule, assignment, directive, recipe, comment or variable reference;
* `recipe commences before first target`: a recipe line (tab) before any rule;
* `unterminated variable reference`: a `$(` or `${` without its closing bracket on the same logical line;
* `missing 'endif'`, `extraneous 'else'/'endif'`, `missing 'endef'`: unbalanced conditionals and defines;
* `No rule to make target 'X'`: the asked-for target is neither defined nor matched by a pattern rule;
* `overriding recipe for target 'X'` (warning): two single-colon rules give the same target a recipe;
* (warning) a comment ending in `\\`, which make continues onto the next line, swallowing it.

What it cannot know (it evaluates nothing): targets made by `$(eval)` or included makefiles, and what variables
expand to; a line that starts with a variable reference is taken as valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..discovery.make import _scan as scan_outside_references

_ASSIGN = re.compile(r"^(?:(?:export|override|private|unexport)\s+)*[^:#=\s]+\s*(?::::=|::=|:=|\+=|\?=|!=|=)")
_CONDITIONAL = re.compile(r"^(ifeq|ifneq|ifdef|ifndef)\b")
_DIRECTIVE = re.compile(r"^(?:-?include|sinclude|-?s?load|vpath|export|unexport|undefine|override|private)\b")
_DEFINE = re.compile(r"^(?:(?:override|export|private)\s+)*define\b")


@dataclass(frozen=True)
class Problem:
    line: int
    severity: str  # "error" or "warning"
    message: str


def logical_lines(text: str) -> list[tuple[int, str, bool]]:
    """(first physical line number, the logical line with continuations joined by a space, whether the last
    physical line of it ended a comment with a backslash)."""
    out: list[tuple[int, str, bool]] = []
    parts: list[str] = []
    start = 1
    for number, raw in enumerate(text.split("\n"), start=1):
        if not parts:
            start = number
        stripped = raw.rstrip("\r")
        trailing = len(stripped) - len(stripped.rstrip("\\"))
        if trailing % 2 == 1:
            parts.append(stripped[:-1])
            continue
        parts.append(stripped)
        out.append((start, " ".join(parts) if len(parts) > 1 else parts[0], len(parts) > 1))
        parts = []
    if parts:
        out.append((start, " ".join(parts), True))
    return out


def unterminated_reference(line: str) -> bool:
    """Whether a `$(` or `${` on this line is never closed (one scan with a stack of open brackets)."""
    stack: list[str] = []
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if char == "$" and i + 1 < n:
            follower = line[i + 1]
            if follower in "({":
                stack.append(")" if follower == "(" else "}")
            i += 2
            continue
        if stack:
            if char in "({":
                stack.append(")" if char == "(" else "}")
            elif char == stack[-1]:
                stack.pop()
        i += 1
    return bool(stack)


def check_makefile(text: str, target: str | None = None) -> list[Problem]:
    """The problems of a Makefile's text (see the module docstring); `target` is checked for a rule when given."""
    problems: list[Problem] = []
    add: Callable[[int, str, str], None] = lambda line, severity, message: problems.append(  # noqa: E731
        Problem(line, severity, message))
    conditionals: list[int] = []
    define_at: int | None = None
    seen_rule = False
    prefix = "\t"
    targets: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    recipes: dict[str, int] = {}  # target -> line of the rule that gave it a recipe
    current: list[str] = []  # targets of the rule the following recipe lines belong to
    rule_line = 0
    for number, line, continued in logical_lines(text):
        stripped = line.strip()
        if define_at is not None:
            if re.match(r"^endef\b", stripped):
                define_at = None
            continue
        if line.startswith(prefix) and seen_rule:
            _recipe_of(current, rule_line, recipes, add)
            current = []  # warn once per rule
            continue
        if not stripped:
            continue
        if stripped.startswith("#"):
            if continued:
                add(number, "warning", f"the comment ends with a backslash, so make joins line {number + 1} to it "
                                       "and ignores that line")
            continue
        if line.startswith(prefix):
            add(number, "error", "recipe commences before first target")
            continue
        if unterminated_reference(line):
            add(number, "error", "unterminated variable reference")
            continue
        word = stripped.split(None, 1)[0]
        if _CONDITIONAL.match(stripped):
            conditionals.append(number)
        elif word == "else":
            if not conditionals:
                add(number, "error", "extraneous 'else'")
        elif word == "endif":
            if conditionals:
                conditionals.pop()
            else:
                add(number, "error", "extraneous 'endif'")
        elif _DEFINE.match(stripped):
            define_at = number
        elif _ASSIGN.match(stripped) and not _is_rule_with_assignment(stripped):
            setting = re.match(r"^\.RECIPEPREFIX\s*:?=\s*(\S)", stripped)
            if setting:
                prefix = setting.group(1)
        elif _DIRECTIVE.match(stripped) or stripped.startswith(("$(", "${")):
            pass
        elif ":" in _outside_references(stripped):
            seen_rule, rule_line = True, number
            current, double = _rule(stripped, number, targets, patterns)
            if double:
                current = []
            elif ";" in stripped[_outside_references(stripped).find(":"):]:  # `target: ; recipe` on the rule line
                _recipe_of(current, rule_line, recipes, add)
                current = []
        else:
            add(number, "error", "missing separator")
    if define_at is not None:
        add(define_at, "error", "missing 'endef', unterminated 'define'")
    for line in conditionals:
        add(line, "error", "missing 'endif'")
    if target is not None and target not in targets and not any(p.fullmatch(target) for p in patterns):
        add(0, "error", f"No rule to make target '{target}'")
    return problems


def _is_rule_with_assignment(stripped: str) -> bool:
    """`target: VAR = value` (a target-specific variable) is a rule, not an assignment."""
    colon = _outside_references(stripped).find(":")
    return colon != -1 and stripped[colon:colon + 2] not in (":=", "::") and "=" in stripped[colon:] and \
        "=" not in stripped[:colon]


def _outside_references(line: str) -> str:
    """The line with every `$(...)`/`${...}` blanked (same length), so a `:` inside one is not a rule's colon."""
    out = [" "] * len(line)
    for index, char in scan_outside_references(line):
        out[index] = char
    return "".join(out)


def _rule(stripped: str, number: int, targets: set[str], patterns: list[re.Pattern[str]]) -> tuple[list[str], bool]:
    """Record the rule's targets; returns them (special `.X` targets left out) and whether it is a `::` rule."""
    plain = _outside_references(stripped)
    colon = plain.find(":")
    names = [n for n in plain[:colon].split() if n]
    for name in names:
        if "%" in name:
            patterns.append(re.compile(re.escape(name).replace("%", ".+", 1)))
        else:
            targets.add(name)
    return [n for n in names if not n.startswith(".")], plain[colon:colon + 2] == "::"


def _recipe_of(names: list[str], rule_line: int, recipes: dict[str, int], add: Callable[[int, str, str], None]) -> None:
    for name in names:
        earlier = recipes.get(name)
        if earlier is not None and earlier != rule_line:
            add(rule_line, "warning", f"overriding recipe for target '{name}' (its first recipe is at line {earlier})")
        recipes[name] = rule_line
