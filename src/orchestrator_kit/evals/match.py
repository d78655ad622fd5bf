"""Match found items to expected ones, tolerant of order, and count hits, misses and false positives.

Matching is one-to-one and greedy in two passes: first expected items whose key has no wildcard (exact identity),
then those with wildcards, so a precise expectation is never taken by a vague one. Within a pass, items are taken
in the order given; two found items with the same identity match at most one expected item (the second is a false
positive: a duplicate report).

recall = hits / (hits + misses); precision = hits / (hits + false positives); each is None when its denominator
is 0 (nothing expected, or nothing reported). Optional expected items take the found item they match out of the
count and are never misses.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from .items import Item
from .truth import ForbiddenItem


class Counts(BaseModel):
    """Hits (tp), false positives (fp) and misses (fn) of one group, with recall and precision."""

    model_config = ConfigDict(extra="forbid")

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    def add(self, other: Counts) -> Counts:
        return Counts(tp=self.tp + other.tp, fp=self.fp + other.fp, fn=self.fn + other.fn)


@dataclass
class Matching:
    """The outcome of matching one repository's found items against its expected ones."""

    pairs: list[tuple[Item, Item]] = field(default_factory=list)
    misses: list[Item] = field(default_factory=list)
    false_positives: list[Item] = field(default_factory=list)
    forbidden: list[tuple[Item, ForbiddenItem]] = field(default_factory=list)

    def counts(self, group: str = "kind") -> dict[str, Counts]:
        """Counts per kind (or per detector, with group="detector")."""
        table: dict[str, Counts] = {}

        def bump(item: Item, **what: int) -> None:
            name = item.kind if group == "kind" else item.detector
            table[name] = table.get(name, Counts()).add(Counts(**what))

        for expected, _found in self.pairs:
            if not expected.optional:
                bump(expected, tp=1)
        for item in self.misses:
            bump(item, fn=1)
        for item in self.false_positives:
            bump(item, fp=1)
        return table


def matches(expected: Item, found: Item) -> bool:
    """Same kind and identity (None in the expected key matches anything); opportunities by kind and any path."""
    if expected.kind != found.kind or len(expected.key) != len(found.key):
        return False
    if not all(e is None or e == f for e, f in zip(expected.key, found.key, strict=True)):
        return False
    if expected.kind == "opportunity":
        return expected.path in found.paths
    return True


def forbidden_rule(item: Item, rules: Iterable[ForbiddenItem]) -> ForbiddenItem | None:
    """The first rule that forbids this found item (its kind, and any of its evidence paths under the glob)."""
    paths = item.paths or (item.path,)
    for rule in rules:
        if rule.kind is not None and rule.kind != item.kind:
            continue
        if any(fnmatch.fnmatchcase(p, rule.path) or fnmatch.fnmatchcase(p, rule.path.rstrip("/") + "/*")
               for p in paths):
            return rule
    return None


def match_items(expected: list[Item], found: list[Item], rules: Iterable[ForbiddenItem] = ()) -> Matching:
    """Pair every expected item with at most one found item; see the module docstring for the counting."""
    result = Matching()
    free = list(found)
    taken = [False] * len(free)
    ordered = sorted(expected, key=lambda e: any(k is None for k in e.key))  # stable: exact keys first
    for item in ordered:
        for index, candidate in enumerate(free):
            if not taken[index] and matches(item, candidate):
                taken[index] = True
                result.pairs.append((item, candidate))
                break
        else:
            if not item.optional:
                result.misses.append(item)
    rules = list(rules)
    for index, candidate in enumerate(free):
        if taken[index]:
            continue
        rule = forbidden_rule(candidate, rules)
        if rule is not None:
            result.forbidden.append((candidate, rule))
        else:
            result.false_positives.append(candidate)
    return result
