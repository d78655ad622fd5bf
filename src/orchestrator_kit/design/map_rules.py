"""The rules for map states: a step repeated over a set of items, with its own failure policy.

They register into `validate.RULES` like every other rule (`validate` imports this module last). Inside a map's
processor, `$.item` is the current item and `$.index` its position: that is what makes a key or a path per item.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator

from .graph import Node, Scope
from .model import EXCEEDED_TOLERANCE, HumanTaskState, MapState, TaskState, WaitState
from .validate import (
    Context,
    Finding,
    Rule,
    Severity,
    _failure_points,
    _idempotent,
    _resolve_compensation,
    _retries,
    _side_effect_tasks,
    _suggest,
    enclosing_maps,
    rule,
)

_INPUT_ITEMS = re.compile(r"^\$\.inputs\.([A-Za-z_][A-Za-z0-9_]*)$")
_PER_ITEM = re.compile(r"\$\.(item|index)\b|\$\$\.Map\.Item\b")


def _maps(ctx: Context) -> Iterator[tuple[Node, MapState]]:
    for node in ctx.graph.all_nodes:
        if isinstance(node.state, MapState):
            yield node, node.state


MapCheck = Callable[[Context, Node, MapState], Iterable[Finding]]


def map_rule(rule_id: str, severity: Severity, summary: str) -> Callable[[MapCheck], Rule]:
    """`rule` for a check made once per map state, the maps in the design's order: `check(ctx, node, state)`
    yields the findings about that one map, so every map rule shares one loop."""

    def register(check: MapCheck) -> Rule:
        def each_map(ctx: Context) -> Iterator[Finding]:
            for node, state in _maps(ctx):
                yield from check(ctx, node, state)

        return rule(rule_id, severity, summary)(each_map)

    return register


def _processor(ctx: Context, node: Node) -> Scope:
    return next(s for s in ctx.graph.scopes if s.parent is node)


def _must_undo(ctx: Context, task: Node) -> bool:
    """Whether a processor effect must be undone when the run fails: a declared compensation, or its step or an
    enclosing map in a declared saga (never a failure-path effect, nor in a workflow that is not a saga)."""
    effect = task.state.side_effect  # type: ignore[union-attr]
    if ctx.design.not_a_saga or effect is None or effect.failure_path:
        return False
    in_saga = {s for saga in ctx.design.sagas for s in saga.steps}
    return bool(effect.compensation) or task.name in in_saga or any(m.name in in_saga for m in enclosing_maps(task))


@map_rule(
    "map-items-declared",
    "error",
    "A map over `$.inputs.<name>` reads a declared run input of type list.",
)
def _items_declared(ctx: Context, node: Node, state: MapState) -> Iterator[Finding]:
    inputs = {i.name: i for i in ctx.design.inputs}
    match = _INPUT_ITEMS.match(state.items_path or "")
    if match is None:
        return
    name = match.group(1)
    declared = inputs.get(name)
    if declared is None:
        yield ctx.at(
            node,
            "map-items-declared",
            f"map '{node.name}' runs over $.inputs.{name}, which is not a declared input{_suggest(name, inputs)}: "
            "declare it (type list) so a run cannot start without its items",
            "items_path",
        )
    elif declared.type != "list":
        yield ctx.at(
            node,
            "map-items-declared",
            f"map '{node.name}' runs over $.inputs.{name}, which is declared as a {declared.type}, not a list",
            "items_path",
        )


@map_rule(
    "map-concurrency-bounded",
    "error",
    "A map whose items call a service has a max_concurrency or a declared bound on its items (max_items or a literal "
    "list).",
)
def _concurrency_bounded(ctx: Context, node: Node, state: MapState) -> Iterator[Finding]:
    if state.max_concurrency or state.bound is not None:
        return
    calls = [n.name for n in ctx.graph.inside(node) if isinstance(n.state, TaskState)]
    if not calls:
        return
    yield ctx.at(
        node,
        "map-concurrency-bounded",
        f"map '{node.name}' runs {', '.join(repr(c) for c in calls[:3])} for every item of {state.items_path} at "
        "once, with no max_concurrency and no max_items: a large set floods the service (set max_concurrency)",
        "max_concurrency",
    )


@map_rule(
    "map-failure-compensated",
    "error",
    "A map whose items commit effects that must be undone names a compensation for the items that committed, for "
    "when the map fails.",
)
def _failure_compensated(ctx: Context, node: Node, state: MapState) -> Iterator[Finding]:
    if state.compensation:
        return
    effects = [t for t in _side_effect_tasks(node, ctx) if _must_undo(ctx, t)]
    if not effects:
        return
    how = (
        f"past its failure policy it fails with {EXCEEDED_TOLERANCE}" if state.has_tolerance
        else "one failing item fails it"
    )
    yield ctx.at(
        node,
        "map-failure-compensated",
        f"map '{node.name}' has no compensation, yet its items commit "
        f"{', '.join(repr(t.name) for t in effects[:3])}: {how}, and the items that committed stay applied "
        "(name a compensation that undoes every committed item, and route the map's catch to it)",
        "compensation",
    )


@map_rule(
    "map-item-rollback",
    "error",
    "In a map that tolerates failed items, an item that can fail after committing an effect undoes it inside the "
    "processor (the map still succeeds, so nothing outside runs).",
)
def _item_rollback(ctx: Context, node: Node, state: MapState) -> Iterator[Finding]:
    if ctx.design.not_a_saga:
        return
    if state.tolerated(1_000_000) == 0:
        return  # no failed item is tolerated: any failure fails the map, and its compensation undoes all
    scope = _processor(ctx, node)
    for task in scope.all_nodes:
        effect = task.state.side_effect if isinstance(task.state, TaskState) else None
        if effect is None or effect.failure_path or effect.irreversible:
            continue
        later = _failure_points(ctx, task, scope, ctx.graph.terminals(scope))
        if not later:
            continue
        comp = _resolve_compensation(task, effect.compensation) if effect.compensation else None
        if comp is not None and comp.scope is scope:
            continue  # compensation-reachable checks that the item's failure path runs it
        where = f"'{effect.compensation}' is outside the processor" if comp else "it names no compensation"
        yield ctx.at(
            task,
            "map-item-rollback",
            f"map '{node.name}' tolerates failed items, and '{task.name}' commits ({effect.description}) before "
            f"'{later[0].name}', which can fail; {where}, so a tolerated failure leaves that item half done "
            "(undo it in the processor: a catch to a compensation inside it)",
            "side_effect/compensation",
        )


@map_rule(
    "map-item-idempotent",
    "error",
    "An effect inside a map is idempotent per item (its key reads $.item or $.index), and one the map's retry runs "
    "again is idempotent or settled by a status check.",
)
def _item_idempotent(ctx: Context, node: Node, state: MapState) -> Iterator[Finding]:
    scope_nodes = ctx.graph.inside(node)
    settled = {n.state.settles for n in scope_nodes if isinstance(n.state, TaskState) and n.state.settles}
    for task in _side_effect_tasks(node, ctx):
        t_state = task.state
        if not isinstance(t_state, TaskState) or any(m is not node for m in _between(task, node)):
            continue  # an inner map checks its own items
        key = t_state.idempotency.key if t_state.idempotency else None
        if key and not _PER_ITEM.search(key):
            yield ctx.at(
                task,
                "map-item-idempotent",
                f"'{task.name}' runs once per item of map '{node.name}' with the idempotency key {key!r}, which "
                "does not read the item: every item sends the same key, so the service drops items 2..n as "
                "repeats (use $.item... or $.index in the key)",
                "idempotency/key",
            )
        elif _retries(state) and not _idempotent(t_state) and task.name not in settled:
            yield ctx.at(
                node,
                "map-item-idempotent",
                f"retrying map '{node.name}' runs every item again, and '{task.name}' has a side effect "
                f"({t_state.side_effect.description}) with no idempotency and no status check that settles it: "  # type: ignore[union-attr]
                "items that had committed commit twice",
                "retry",
            )


def _between(task: Node, outer: Node) -> list[Node]:
    """The map states strictly between `task` and the enclosing map `outer`, innermost first."""
    found = []
    for m in enclosing_maps(task):
        if m is outer:
            break
        found.append(m)
    return found


@rule(
    "map-error-names",
    "error",
    f"Only a map with a failure policy (tolerated count or percentage) names {EXCEEDED_TOLERANCE} (without one, the "
    "map fails with the item's error).",
)
def _error_names(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if isinstance(state, MapState) and state.has_tolerance:
            continue
        for field_name in ("retry", "catch"):
            for i, item in enumerate(getattr(state, field_name, [])):
                if EXCEEDED_TOLERANCE not in item.errors:
                    continue
                what = (
                    "a map without tolerated_failure_count or tolerated_failure_percentage, whose failing item fails "
                    "it with the item's own error" if isinstance(state, MapState) else f"a {state.type}, not a map"
                )
                yield ctx.at(
                    node,
                    "map-error-names",
                    f"'{node.name}' {field_name} {i} names {EXCEEDED_TOLERANCE}, which it never raises: it is {what}",
                    f"{field_name}/{i}/errors/{item.errors.index(EXCEEDED_TOLERANCE)}",
                )


def item_seconds(ctx: Context, node: Node) -> float:
    """One item's time when every step takes its limit once: the longest forward path, from the processor's start,
    of task timeouts, human deadlines, waits and (nested) map times. Over a loop each state counts once."""
    scope = _processor(ctx, node)
    memo: dict[str, float] = {}
    on_path: set[str] = set()

    def longest(current: Node) -> float:
        if current.name in memo:
            return memo[current.name]
        if current.name in on_path:
            return 0.0
        on_path.add(current.name)
        best = max((longest(n) for n in ctx.graph.successors(current, forward_only=True)), default=0.0)
        on_path.discard(current.name)
        memo[current.name] = _limit(ctx, current) + best
        return memo[current.name]

    start = scope.nodes.get(scope.start_at)
    return longest(start) if start is not None else 0.0


def _limit(ctx: Context, node: Node) -> float:
    state = node.state
    if isinstance(state, TaskState):
        return state.timeout_seconds or 0.0
    if isinstance(state, HumanTaskState):
        return state.deadline_seconds or 0.0
    if isinstance(state, WaitState):
        return state.seconds or state.timeout_seconds or 0.0
    if isinstance(state, MapState):
        return map_seconds(ctx, node) or 0.0
    return 0.0


def map_seconds(ctx: Context, node: Node) -> float | None:
    """ceil(bound / concurrency) x item_seconds: the map's time when each round of items takes its limits (None
    when the bound on items is unknown). Without max_concurrency every item runs at once: one round."""
    state = node.state
    if not isinstance(state, MapState) or state.bound is None:
        return None
    rounds = math.ceil(state.bound / state.max_concurrency) if state.max_concurrency else min(state.bound, 1)
    return rounds * item_seconds(ctx, node)


@map_rule(
    "map-within-workflow-timeout",
    "warning",
    "A bounded map fits in the workflow timeout: ceil(bound / max_concurrency) x one item's longest path of step "
    "limits.",
)
def _within_workflow(ctx: Context, node: Node, state: MapState) -> Iterator[Finding]:
    limit = ctx.design.timeout_seconds
    if limit is None or limit <= 0:
        return
    seconds = map_seconds(ctx, node)
    if seconds is None or seconds <= limit:
        return
    rounds = math.ceil(state.bound / state.max_concurrency) if state.max_concurrency else 1  # type: ignore[operator]
    yield ctx.at(
        node,
        "map-within-workflow-timeout",
        f"map '{node.name}': {state.bound} items, {state.max_concurrency or 'all'} at once = {rounds} rounds x "
        f"{item_seconds(ctx, node):g}s per item = {seconds:g}s, more than the workflow timeout of {limit:g}s",
        "max_concurrency",
    )

