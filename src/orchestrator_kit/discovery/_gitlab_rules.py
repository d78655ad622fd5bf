"""When is a GitLab job manual? `rules:` evaluated as GitLab evaluates them, with the variables we can know.

GitLab checks a job's rules in order and applies the first one that matches; when none matches, the job is not
added to the pipeline ("CI/CD YAML syntax reference", `rules`). A rule matches when its `if:` expression is true
and its `changes:`/`exists:` clauses hold. So a `when: manual` rule only makes a job manual when it can be the
first matching rule:

* a condition on variables the job defines (in its own `variables:`, through `extends`, or globally) is decided
  with those values: `if: $DEPLOY_MODE == "manual"` with `DEPLOY_MODE: auto` never matches;
* anything else (GitLab's predefined `CI_*` variables, variables set in the UI or by a trigger, `changes:`,
  `exists:`) is unknown: the rule may or may not match;
* a rule that always matches (no condition, or one that is true with the known values) hides the rules after it.

The result is `always` (every way the job enters a pipeline is manual), `sometimes` (with the conditions of the
manual rules that may apply) or `never`. Expressions are parsed by a small recursive-descent parser over
GitLab's operators (`==`, `!=`, `=~`, `!~`, `&&`, `||`, parentheses, `null`, quoted strings, `/regex/flags`) in
three-valued (Kleene) logic: True, False, or None for unknown. Nothing is run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

ManualMode = Literal["always", "sometimes", "never"]
_TOKEN = re.compile(
    r"\s*(?:(?P<var>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)|(?P<str>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')|"
    r"(?P<re>/(?:[^/\\]|\\.)*/[a-z]*)|(?P<op>==|!=|=~|!~|&&|\|\||\(|\))|(?P<null>null\b)|(?P<bad>\S))"
)
MAX_TOKENS = 500
_UNSET = object()  # a variable known to be undefined


@dataclass(frozen=True)
class RuleView:
    """What the analysis needs from one rule: its `if:` text, whether it has `changes:`/`exists:`, its `when`."""

    condition: str | None
    other_clauses: bool
    when: str


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], variables: Mapping[str, str]) -> None:
        self.tokens = tokens
        self.at = 0
        self.variables = variables

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expression(self) -> bool | None:
        left = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.conjunction()
            left = True if left is True or right is True else (None if left is None or right is None else False)
        return left

    def conjunction(self) -> bool | None:
        left = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.comparison()
            left = False if left is False or right is False else (None if left is None or right is None else True)
        return left

    def comparison(self) -> bool | None:
        token = self.peek()
        if token == ("op", "("):
            self.take()
            value = self.expression()
            if self.peek() != ("op", ")"):
                raise ValueError("unclosed parenthesis")
            self.take()
            return value
        left = self.operand()
        following = self.peek()
        if following is None or following[0] != "op" or following[1] not in ("==", "!=", "=~", "!~"):
            if left is None:
                return None
            return left is not _UNSET and left != ""  # a bare `$VAR`: defined and not empty
        operator = self.take()[1]
        if operator in ("=~", "!~"):
            kind, text = self.take()
            if kind != "re":
                raise ValueError("=~ needs a /regex/")
            if left is None:
                return None
            found = isinstance(left, str) and _regex_search(text, left)
            return found if operator == "=~" else not found
        right = self.operand()
        if left is None or right is None:
            return None
        equal = left == right
        return equal if operator == "==" else not equal

    def operand(self) -> object | None:
        """A value: a string, _UNSET for `null` or an undefined variable, None when unknown."""
        if self.peek() is None:
            raise ValueError("expression ends early")
        kind, text = self.take()
        if kind == "str":
            return text[1:-1]
        if kind == "null":
            return _UNSET
        if kind == "var":
            name = text.strip("${}")
            if name in self.variables:
                return self.variables[name]
            return None
        raise ValueError(f"unexpected {text!r}")


def _regex_search(literal: str, value: str) -> bool:
    body, _, flags = literal[1:].rpartition("/")
    try:
        return re.search(body, value, re.IGNORECASE if "i" in flags else 0) is not None
    except re.error:
        return False


def evaluate(expression: str, variables: Mapping[str, str]) -> bool | None:
    """A rules `if:` expression in three-valued logic; None when it depends on what we cannot know (or does
    not parse)."""
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(expression):
        kind = match.lastgroup
        if kind is None:
            continue
        if kind == "bad" or len(tokens) >= MAX_TOKENS:
            return None
        tokens.append((kind, match.group(kind)))
    if not tokens:
        return None
    parser = _Parser(tokens, variables)
    try:
        value = parser.expression()
    except (ValueError, IndexError):
        return None
    return value if parser.at == len(tokens) else None


def manual_mode(rules: list[RuleView], variables: Mapping[str, str]) -> tuple[ManualMode, list[str]]:
    """Whether the job is manual always, sometimes (with the conditions of the manual rules that may be the
    first to match) or never, following GitLab's first-matching-rule semantics (see the module doc)."""
    outcomes: list[str] = []
    manual_conditions: list[str] = []
    for rule in rules:
        matches = evaluate(rule.condition, variables) if rule.condition else True
        if matches is False:
            continue
        if rule.other_clauses and matches is True:
            matches = None  # changes:/exists: decide at run time
        outcomes.append(rule.when)
        if rule.when == "manual":
            manual_conditions.append(rule.condition or "always")
        if matches is True:
            break
    else:
        outcomes.append("never")  # no rule matched: the job is not in the pipeline
    if "manual" not in outcomes:
        return "never", []
    if all(outcome in ("manual", "never") for outcome in outcomes):
        return "always", manual_conditions
    return "sometimes", manual_conditions
