"""Every validation rule: at least one design that breaks it (with the expected location) and a near miss that passes.

Each case mutates the clean `base()` design (charge -> ship -> done, failures -> refund -> failed); the expected
locations are written by hand from the mutation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orchestrator_kit.design.validate import RULES

from .helpers import base, findings, retry, rules_of, state, task

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation that sets state `name`'s field (`name.field`) or a design field (`field`)."""

    def apply(d: dict[str, Any]) -> None:
        if "." in path:
            name, key = path.split(".", 1)
            target = state(d, name)
        else:
            target, key = d, path
        if value is _DELETE:
            target.pop(key, None)
        else:
            target[key] = value

    return apply


_DELETE = object()


def _add(*states: dict[str, Any]) -> Mutation:
    return lambda d: d["states"].extend(states)


def _all(*mutations: Mutation) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        for m in mutations:
            m(d)

    return apply


def _identity(d: dict[str, Any]) -> None:
    return None


def _parallel(branches: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"name": "checks", "type": "parallel", "branches": branches, "transitions": [{"target": "done"}], **extra}


def _branch(name: str, *states: dict[str, Any], start: str | None = None) -> dict[str, Any]:
    return {"name": name, "start_at": start or states[0]["name"], "states": list(states)}


def _goto(name: str, target: str) -> Mutation:
    return _set(f"{name}.transitions", [{"target": target}])


def _undo(name: str, target: str) -> dict[str, Any]:
    """A compensation task: naturally idempotent, retried."""
    return task(name, target, idempotency={"natural": True}, retry=[retry(errors=["States.ALL"])])


def _saga_in_branch(first_undo: str, *, catch: bool = True, split: bool = False) -> Mutation:
    """charge -> checks (parallel: a1 then a2, each compensated in the workflow scope by undo1 / undo2) -> ship;
    the parallel's catch runs `first_undo`, then the other one, then refund. With `split`, a1 and a2 are in two
    branches. New states: checks (5), first_undo (6), the other undo (7)."""
    a1 = task("a1", "a_ok" if split else "a2", side_effect={"description": "row one", "compensation": "undo1"})
    a2 = task("a2", "b_ok" if split else "a_ok", side_effect={"description": "row two", "compensation": "undo2"})
    branches = (
        [_branch("a", a1, {"name": "a_ok", "type": "succeed"}), _branch("b", a2, {"name": "b_ok", "type": "succeed"})]
        if split else [_branch("a", a1, a2, {"name": "a_ok", "type": "succeed"})]
    )
    second = "undo2" if first_undo == "undo1" else "undo1"
    extra: dict[str, Any] = {"catch": [{"errors": ["States.ALL"], "target": first_undo}]} if catch else {}
    return _all(_goto("charge", "checks"),
                _add(_parallel(branches, transitions=[{"target": "ship"}], **extra),
                     _undo(first_undo, second), _undo(second, "refund")))


# (rule, case id, mutation, expected location of one finding) -- each must report `rule` at that location.
FAILING: list[tuple[str, str, Mutation, str]] = [
    ("start-state", "missing start", _set("start_at", "chrage"), "/start_at"),
    ("start-state", "no states", _all(_set("states", []), _set("start_at", "x")), "/states"),
    ("start-state", "branch start missing",
     _all(_goto("ship", "checks"), _add(_parallel([_branch("b", task("b1", "b_ok"), {"name": "b_ok", "type": "succeed"},
                                                             start="nope")]))),
     "/states/5/branches/0/start_at"),
    ("start-state", "parallel without branches", _all(_goto("ship", "checks"), _add(_parallel([]))), "/states/5"),
    ("target-exists", "typo", _goto("charge", "shp"), "/states/0/transitions/0/target"),
    ("target-exists", "catch target missing", _set("ship.catch", [{"errors": ["States.ALL"], "target": "x"}]),
     "/states/1/catch/0/target"),
    ("target-exists", "into another branch",
     _all(_goto("ship", "checks"),
          _add(_parallel([_branch("a", task("a1", "refund"))]))),
     "/states/5/branches/0/states/0/transitions/0/target"),
    ("reachable", "orphan", _add(task("audit", "done")), "/states/5"),
    # Two orphans that point at each other: each has an incoming edge, so an in-degree count would miss them.
    ("reachable", "orphan cycle", _add(task("a", "b"), task("b", "a")), "/states/5"),
    ("has-terminal", "no terminal",
     _all(_set("states", [task("a", "b"), task("b", "a")]), _set("start_at", "a")), "/states"),
    ("has-terminal", "branch without terminal",
     _all(_goto("ship", "checks"), _add(_parallel([_branch("a", task("a1", "a2"), task("a2", "a1"))]))),
     "/states/5/branches/0/states"),
    ("no-dead-end", "task without transition", _set("ship.transitions", []), "/states/1"),
    ("no-dead-end", "empty choice",
     _all(_goto("ship", "route"), _add({"name": "route", "type": "choice"})), "/states/5"),
    ("can-terminate", "loop left only by an error",
     _all(_goto("ship", "poll"), _add({"name": "poll", "type": "wait", "seconds": 10, "transitions": [{"target": "ship"}]})),
     "/states/1"),
    ("single-unguarded-transition", "two unguarded on done",
     _set("charge.transitions", [{"target": "ship"}, {"target": "done"}]), "/states/0/transitions/1"),
    ("choice-has-default", "no default",
     _all(_goto("ship", "route"),
          _add({"name": "route", "type": "choice",
                "choices": [{"condition": {"variable": "$.ok", "op": "eq", "value": True}, "target": "done"}]})),
     "/states/5/default"),
    ("guarded-transition-fallback", "only guarded",
     _set("ship.transitions", [{"target": "done", "guard": {"variable": "$.ok", "op": "eq", "value": True}}]),
     "/states/1/transitions/0"),
    ("transition-event-known", "wait never ends on that event",
     _all(_goto("ship", "hold"),
          _add({"name": "hold", "type": "wait", "events": ["resumed"], "timeout_seconds": 60,
                "transitions": [{"event": "resumed", "target": "done"}, {"event": "cancelled", "target": "failed"}]})),
     "/states/5/transitions/1/event"),
    ("transition-event-known", "parallel ends on done only",
     _all(_goto("ship", "checks"),
          _add(_parallel([_branch("a", task("a1", "a_ok"), {"name": "a_ok", "type": "succeed"})],
                         transitions=[{"event": "finished", "target": "done"}]))),
     "/states/5/transitions/0/event"),
    ("unique-names", "same name twice", _add({"name": "done", "type": "succeed"}), "/states/5/name"),
    ("unique-names", "same name in two branches",
     _all(_goto("ship", "checks"),
          _add(_parallel([_branch("a", task("x", "ok_a"), {"name": "ok_a", "type": "succeed"}),
                          _branch("b", task("x", "ok_b"), {"name": "ok_b", "type": "succeed"})]))),
     "/states/5/branches/1/states/0/name"),
    ("unique-names", "two branches with one name",
     _all(_goto("ship", "checks"),
          _add(_parallel([_branch("a", task("x1", "ok_a"), {"name": "ok_a", "type": "succeed"}),
                          _branch("a", task("x2", "ok_b"), {"name": "ok_b", "type": "succeed"})]))),
     "/states/5/branches/1/name"),
    ("retry-catch-all-last", "catch-all with another error",
     _set("ship.retry", [retry(errors=["States.ALL", "Busy"])]), "/states/1/retry/0/errors"),
    ("retry-catch-all-last", "catch-all retry not last",
     _set("ship.retry", [retry(errors=["States.ALL"]), retry(errors=["Busy"])]), "/states/1/retry/0/errors"),
    ("retry-catch-all-last", "catch-all catcher not last",
     _set("ship.catch", [{"errors": ["States.ALL"], "target": "refund"}, {"errors": ["Busy"], "target": "failed"}]),
     "/states/1/catch/0/errors"),
    ("retry-backoff", "shrinking backoff", _set("ship.retry", [retry(backoff_rate=0.5)]),
     "/states/1/retry/0/backoff_rate"),
    ("retry-backoff", "no interval", _set("ship.retry", [retry(interval_seconds=0)]),
     "/states/1/retry/0/interval_seconds"),
    ("retry-backoff", "cap below first interval", _set("ship.retry", [retry(interval_seconds=10, max_interval_seconds=5)]),
     "/states/1/retry/0/max_interval_seconds"),
    ("retry-bounded", "unbounded", _set("ship.retry", [retry(None)]), "/states/1/retry/0/max_attempts"),
    ("retry-bounded", "negative", _set("ship.retry", [retry(-1)]), "/states/1/retry/0/max_attempts"),
    # (2 + 1) x 30 s + delays 1 + 2 = 93 s > 60 s
    ("retry-budget", "worst case over the workflow timeout", _set("timeout_seconds", 60), "/states/0/retry/0"),
    ("task-timeout", "no timeout", _set("ship.timeout_seconds", _DELETE), "/states/1/timeout_seconds"),
    ("task-timeout", "zero timeout", _set("ship.timeout_seconds", 0), "/states/1/timeout_seconds"),
    ("task-timeout", "unbounded event wait",
     _all(_goto("ship", "hold"),
          _add({"name": "hold", "type": "wait", "events": ["resumed"], "transitions": [{"event": "resumed", "target": "done"}]})),
     "/states/5/timeout_seconds"),
    ("task-heartbeat", "worker callback without heartbeat",
     _all(_set("ship.callback", True), _set("ship.callback_from", "worker")), "/states/1/heartbeat_seconds"),
    ("task-heartbeat", "long timeout without heartbeat", _set("ship.timeout_seconds", "1h"),
     "/states/1/heartbeat_seconds"),
    ("task-heartbeat", "heartbeat not shorter than timeout",
     _all(_set("ship.callback", True), _set("ship.heartbeat_seconds", 30)), "/states/1/heartbeat_seconds"),
    ("idempotent-retries", "retried effect without key", _set("charge.idempotency", _DELETE), "/states/0/idempotency"),
    ("idempotent-retries", "retried parallel around an effect",
     _all(_goto("ship", "checks"),
          _add(_parallel([_branch("a", task("a1", "a_ok", side_effect={"description": "row written"},
                                            idempotency=None, retry=[]),
                                  {"name": "a_ok", "type": "succeed"})],
                         retry=[retry(errors=["States.ALL"])]))),
     "/states/5/retry"),
    ("compensation-before-pivot", "no compensation in a saga without a pivot",
     _all(_set("ship.side_effect", {"description": "parcel booked"}),
          _set("sagas", [{"name": "order", "steps": ["charge", "ship"]}])), "/states/1/side_effect/compensation"),
    ("compensation-before-pivot", "no compensation before the pivot",
     _all(_set("charge.side_effect", {"description": "card charged"}),
          _set("sagas", [{"name": "order", "steps": ["charge", "ship"], "pivot": "ship"}])),
     "/states/0/side_effect/compensation"),
    ("compensation-valid", "missing compensation state",
     _set("charge.side_effect", {"description": "card charged", "compensation": "refnd"}),
     "/states/0/side_effect/compensation"),
    ("compensation-valid", "compensates itself",
     _set("charge.side_effect", {"description": "card charged", "compensation": "charge"}),
     "/states/0/side_effect/compensation"),
    ("compensation-valid", "compensation is not a task",
     _set("charge.side_effect", {"description": "card charged", "compensation": "failed"}),
     "/states/0/side_effect/compensation"),
    ("compensation-idempotent", "compensation without idempotency", _set("refund.idempotency", _DELETE),
     "/states/2/idempotency"),
    ("compensation-retried", "compensation without retry", _set("refund.retry", []), "/states/2/retry"),
    # reserve commits before charge, so its release must run after the refund; here it runs first.
    ("compensation-order", "release before refund",
     _all(_set("start_at", "reserve"),
          _add(task("reserve", "charge", side_effect={"description": "stock held", "compensation": "release"},
                    catch=[{"errors": ["States.ALL"], "target": "release"}]),
               task("release", "failed")),
          _set("charge.catch", [{"errors": ["States.ALL"], "target": "release"}]),
          _set("ship.catch", [{"errors": ["States.ALL"], "target": "release"}]),
          _goto("release", "refund")),
     "/states/6"),
    ("retriable-after-pivot", "no retry after the pivot",
     _all(_set("ship.retry", []), _set("sagas", [{"name": "order", "steps": ["charge", "ship"], "pivot": "charge"}])),
     "/states/1/retry"),
    ("saga-valid", "pivot outside the saga", _set("sagas", [{"name": "order", "steps": ["charge"], "pivot": "ship"}]),
     "/sagas/0/pivot"),
    ("saga-valid", "unknown step", _set("sagas", [{"name": "order", "steps": ["charge", "shipp"]}]), "/sagas/0/steps/1"),
    ("saga-valid", "step in two sagas",
     _set("sagas", [{"name": "a", "steps": ["charge"]}, {"name": "b", "steps": ["charge"]}]), "/sagas/1/steps/0"),
    ("human-task-complete", "no owner",
     _all(_goto("ship", "review"), _add({"name": "review", "type": "human_task", "deadline_seconds": "1d",
                                         "escalation": {"after_seconds": "4h", "to": "lead"},
                                         "transitions": [{"event": "approved", "target": "done"}],
                                         "metrics": [{"name": "reviews"}]})),
     "/states/5/owner"),
    ("human-task-complete", "no deadline",
     _all(_goto("ship", "review"), _add({"name": "review", "type": "human_task", "owner": "team",
                                         "escalation": {"after_seconds": "4h", "to": "lead"},
                                         "transitions": [{"event": "approved", "target": "done"}],
                                         "metrics": [{"name": "reviews"}]})),
     "/states/5/deadline_seconds"),
    ("human-task-complete", "no escalation",
     _all(_goto("ship", "review"), _add({"name": "review", "type": "human_task", "owner": "team",
                                         "deadline_seconds": "1d",
                                         "transitions": [{"event": "approved", "target": "done"}],
                                         "metrics": [{"name": "reviews"}]})),
     "/states/5/escalation"),
    ("human-task-complete", "escalation after the deadline",
     _all(_goto("ship", "review"), _add({"name": "review", "type": "human_task", "owner": "team",
                                         "deadline_seconds": "1d", "escalation": {"after_seconds": "2d", "to": "lead"},
                                         "transitions": [{"event": "approved", "target": "done"}],
                                         "metrics": [{"name": "reviews"}]})),
     "/states/5/escalation/after_seconds"),
    ("deterministic-decisions", "clock in a context field",
     _set("ship.transitions", [{"target": "done", "guard": {"variable": "$$.State.EnteredTime", "op": "present"}},
                               {"target": "failed"}]),
     "/states/1/transitions/0/guard/variable"),
    ("deterministic-decisions", "randomness in an expression",
     _set("ship.transitions", [{"target": "done", "guard": {"expression": "$random() > 0.5"}}, {"target": "failed"}]),
     "/states/1/transitions/0/guard/expression"),
    ("deterministic-decisions", "I/O in a nested value",
     _set("ship.transitions", [{"target": "done", "guard": {"any": [{"variable": "$.a", "op": "eq", "value": 1},
                                                                      {"variable": "$.b", "op": "eq",
                                                                       "value": "https://flags.example/on"}]}},
                               {"target": "failed"}]),
     "/states/1/transitions/0/guard/any/1/value"),
    ("workflow-timeout", "no workflow timeout", _set("timeout_seconds", _DELETE), "/timeout_seconds"),
    ("step-observability", "no metric", _set("ship.metrics", []), "/states/1/metrics"),
    ("compensation-order", "across a parallel scope: the first branch step undone first",
     _saga_in_branch("undo1"), "/states/6"),
    ("compensation-reachable", "the later step's catch skips the refund",
     _set("ship.catch", [{"errors": ["States.ALL"], "target": "failed"}]), "/states/0/side_effect/compensation"),
    ("compensation-reachable", "the later step has no catch at all",
     _set("ship.catch", []), "/states/0/side_effect/compensation"),
    ("compensation-reachable", "one of two later steps fails straight to 'failed'",
     _all(_goto("ship", "notify"),
          _add(task("notify", "done", catch=[{"errors": ["States.ALL"], "target": "failed"}]))),
     "/states/0/side_effect/compensation"),
    ("compensation-reachable", "one of two later steps has no catch",
     _all(_goto("ship", "notify"), _add(task("notify", "done"))), "/states/0/side_effect/compensation"),
    ("compensation-reachable", "a catch that alerts someone, then fails without the refund",
     _all(_set("ship.catch", [{"errors": ["States.Timeout"], "target": "refund"},
                              {"errors": ["States.ALL"], "target": "alert"}]),
          _add(task("alert", "failed"))), "/states/0/side_effect/compensation"),
    ("parallel-failure-handled", "branches commit, the parallel catches nothing",
     _saga_in_branch("undo2", catch=False), "/states/5/catch"),
    ("side-effect-outside-saga", "an effect no saga covers",
     _set("ship.side_effect", {"description": "parcel booked"}), "/states/1/side_effect"),
    ("known-error-names", "a misspelt States.Timeout",
     _set("ship.catch", [{"errors": ["States.Timout"], "target": "refund"}]), "/states/1/catch/0/errors/0"),
    ("retry-permanent-errors", "a permanent error retried by name",
     _all(_set("ship.errors", {"permanent": ["Lost"]}), _set("ship.retry", [retry(errors=["Lost"])])),
     "/states/1/retry/0/errors"),
    ("retry-permanent-errors", "a permanent error retried by a catch-all",
     _all(_set("ship.errors", {"permanent": ["Lost"]}), _set("ship.retry", [retry(errors=["States.ALL"])])),
     "/states/1/retry/0/errors"),
    ("timeout-within-workflow", "a task timeout longer than the workflow's", _set("ship.timeout_seconds", 7200),
     "/states/1/timeout_seconds"),
    ("timeout-within-workflow", "a human deadline longer than the workflow's",
     _all(_goto("ship", "review"), _add({"name": "review", "type": "human_task", "owner": "team",
                                         "deadline_seconds": "2d", "escalation": {"after_seconds": "4h", "to": "lead"},
                                         "transitions": [{"event": "approved", "target": "done"}]})),
     "/states/5/deadline_seconds"),
    ("settles-valid", "a status check of no state", _set("refund.settles", "chrage"), "/states/2/settles"),
    ("settles-valid", "a status check of itself", _set("refund.settles", "refund"), "/states/2/settles"),
    ("irreversible-effects", "an irreversible effect before the pivot",
     _all(_set("charge.side_effect", {"description": "tag pushed", "irreversible": True, "compensation": "refund"}),
          _set("sagas", [{"name": "order", "steps": ["charge", "ship"], "pivot": "ship"}])),
     "/states/0/side_effect/irreversible"),
    ("irreversible-effects", "a compensation for an irreversible effect",
     _set("charge.side_effect", {"description": "tag pushed", "irreversible": True, "compensation": "refund"}),
     "/states/0/side_effect/compensation"),
    ("partial-effect-recoverable", "a partial push without undo or idempotency",
     _all(_set("ship.side_effect", {"description": "refs pushed", "partial": True}), _set("ship.idempotency", _DELETE)),
     "/states/1/side_effect"),
    ("inputs-declared", "a decision on an undeclared input",
     _all(_set("inputs", [{"name": "version"}]),
          _set("ship.transitions", [{"target": "done", "guard": {"variable": "$.inputs.verison", "op": "present"}},
                                    {"target": "failed"}])),
     "/states/1/transitions/0/guard/variable"),
    ("event-correlation", "an event wait without a correlation key",
     _all(_goto("ship", "hold"),
          _add({"name": "hold", "type": "wait", "events": ["resumed"], "timeout_seconds": 60,
                "transitions": [{"event": "resumed", "target": "done"}],
                "catch": [{"errors": ["States.Timeout"], "target": "refund"}]})),
     "/states/5/correlation_key"),
    ("approval-audited", "an approval policy without an audit record",
     _all(_goto("ship", "review"), _add({"name": "review", "type": "human_task", "owner": "team",
                                         "deadline_seconds": "1d", "escalation": {"after_seconds": "4h", "to": "lead"},
                                         "approval": {"approvers": 2, "separation_of_duties": True},
                                         "transitions": [{"event": "approved", "target": "done"}]})),
     "/states/5/audit"),
    ("wait-timeout-caught", "an event wait whose timeout nothing catches",
     _all(_goto("ship", "hold"),
          _add({"name": "hold", "type": "wait", "events": ["resumed"], "timeout_seconds": 60,
                "transitions": [{"event": "resumed", "target": "done"}]})),
     "/states/5/catch"),
]

# (rule, case id, mutation): near misses that must NOT report `rule` (and the base design must stay clean).
PASSING: list[tuple[str, str, Mutation]] = [
    ("start-state", "start exists", _identity),
    ("target-exists", "targets in the same branch",
     _all(_goto("ship", "checks"), _add(_parallel([_branch("a", task("a1", "a_ok"), {"name": "a_ok", "type": "succeed"})])))),
    ("reachable", "reached only through a catcher", _identity),  # refund is reached by catch edges only
    ("has-terminal", "a fail state is terminal too",
     _all(_set("states", [task("a", "f"), {"name": "f", "type": "fail"}]), _set("start_at", "a"))),
    ("no-dead-end", "every non-terminal goes somewhere", _identity),
    ("can-terminate", "a polling loop with an exit",
     _all(_goto("ship", "poll"),
          _add({"name": "poll", "type": "wait", "seconds": 10, "transitions": [{"target": "is_shipped"}]},
               {"name": "is_shipped", "type": "choice",
                "choices": [{"condition": {"variable": "$.shipped", "op": "eq", "value": True}, "target": "done"}],
                "default": "poll"}))),
    ("single-unguarded-transition", "one guarded, one fallback",
     _set("charge.transitions", [{"target": "done", "guard": {"variable": "$.free", "op": "eq", "value": True}},
                                 {"target": "ship"}])),
    ("choice-has-default", "with a default",
     _all(_goto("ship", "route"),
          _add({"name": "route", "type": "choice", "default": "failed",
                "choices": [{"condition": {"variable": "$.ok", "op": "eq", "value": True}, "target": "done"}]}))),
    ("guarded-transition-fallback", "guard with a fallback",
     _set("ship.transitions", [{"target": "done", "guard": {"variable": "$.ok", "op": "eq", "value": True}},
                               {"target": "failed"}])),
    ("transition-event-known", "awaited events only",
     _all(_goto("ship", "hold"),
          _add({"name": "hold", "type": "wait", "events": ["resumed", "cancelled"], "timeout_seconds": 60,
                "transitions": [{"event": "resumed", "target": "done"}, {"event": "cancelled", "target": "failed"}]}))),
    ("unique-names", "distinct names in branches",
     _all(_goto("ship", "checks"),
          _add(_parallel([_branch("a", task("x1", "ok_a"), {"name": "ok_a", "type": "succeed"}),
                          _branch("b", task("x2", "ok_b"), {"name": "ok_b", "type": "succeed"})])))),
    ("retry-catch-all-last", "catch-all alone and last",
     _set("ship.retry", [retry(errors=["Busy"]), retry(errors=["States.ALL"])])),
    ("retry-backoff", "backoff exactly 1 and a cap above the interval",
     _set("ship.retry", [retry(backoff_rate=1, max_interval_seconds=1)])),
    ("retry-bounded", "zero retries", _set("ship.retry", [retry(0)])),
    # (2 + 1) x 30 s + delays 1 + 2 = 93 s <= 93 s
    ("retry-budget", "worst case exactly at the limit", _set("timeout_seconds", 93)),
    ("task-timeout", "timeout as text", _set("ship.timeout_seconds", "30s")),
    ("task-heartbeat", "callback with a shorter heartbeat",
     _all(_set("ship.callback", True), _set("ship.heartbeat_seconds", 10))),
    ("task-heartbeat", "timeout exactly at the long-task threshold", _set("ship.timeout_seconds", "15m")),
    ("idempotent-retries", "not retried, not keyed",
     _all(_set("charge.idempotency", _DELETE), _set("charge.retry", [retry(0)]))),
    ("compensation-before-pivot", "an effect after the pivot needs no compensation",
     _all(_set("ship.side_effect", {"description": "parcel booked"}),
          _set("sagas", [{"name": "order", "steps": ["charge", "ship"], "pivot": "charge"}]))),
    ("compensation-valid", "a task of the same scope", _identity),
    ("compensation-idempotent", "naturally idempotent", _set("refund.idempotency", {"natural": True})),
    ("compensation-retried", "retried", _identity),
    ("compensation-order", "refund before release",
     _all(_set("start_at", "reserve"),
          _add(task("reserve", "charge", side_effect={"description": "stock held", "compensation": "release"},
                    catch=[{"errors": ["States.ALL"], "target": "release"}]),
               task("release", "failed")),
          _goto("refund", "release"),
          _set("charge.catch", [{"errors": ["States.ALL"], "target": "refund"}]))),
    ("retriable-after-pivot", "retried after the pivot",
     _set("sagas", [{"name": "order", "steps": ["charge", "ship"], "pivot": "charge"}])),
    ("saga-valid", "pivot among the steps", _set("sagas", [{"name": "order", "steps": ["charge", "ship"], "pivot": "ship"}])),
    ("human-task-complete", "owner, deadline and an earlier escalation",
     _all(_goto("ship", "review"), _add({"name": "review", "type": "human_task", "owner": "team",
                                         "deadline_seconds": "1d", "escalation": {"after_seconds": "4h", "to": "lead"},
                                         "transitions": [{"event": "approved", "target": "done"}],
                                         "metrics": [{"name": "reviews"}]}))),
    ("deterministic-decisions", "decisions on stored data",
     _set("ship.transitions", [{"target": "done", "guard": {"all": [
         {"variable": "$.order.total", "op": "gt", "value": 100},
         {"expression": "$states.input.created_at < $states.input.deadline"}]}}, {"target": "failed"}])),
    ("workflow-timeout", "timeout as text", _set("timeout_seconds", "2h")),
    ("step-observability", "an alert is enough",
     _all(_set("ship.metrics", []), _set("ship.alerts", [{"name": "ship-failing", "condition": "any failure"}]))),
    ("compensation-order", "across a parallel scope: the last branch step undone first", _saga_in_branch("undo2")),
    ("compensation-order", "steps of two branches are not ordered", _saga_in_branch("undo1", split=True)),
    ("compensation-valid", "branch steps undone from the parallel's catch", _saga_in_branch("undo2")),
    ("compensation-valid", "a person undoes it",
     _all(_set("charge.side_effect", {"description": "card charged", "compensation": "manual_refund"}),
          _set("charge.catch", [{"errors": ["States.ALL"], "target": "manual_refund"}]),
          _set("ship.catch", [{"errors": ["States.ALL"], "target": "manual_refund"}]),
          _add({"name": "manual_refund", "type": "human_task", "owner": "finance", "deadline_seconds": "1d",
                "escalation": {"after_seconds": "4h", "to": "lead"},
                "transitions": [{"event": "refunded", "target": "failed"}]}))),
    ("compensation-reachable", "the later step's catch runs the refund", _identity),
    ("compensation-reachable", "nothing can fail after the effect", _goto("charge", "done")),
    ("compensation-reachable", "a later step's fallback recovers and the workflow succeeds",
     _all(_goto("ship", "notify"),
          _add(task("notify", "done", catch=[{"errors": ["States.ALL"], "target": "log_and_go_on"}]),
               task("log_and_go_on", "done")))),
    ("compensation-reachable", "a catch alerts someone, then runs the refund",
     _all(_set("ship.catch", [{"errors": ["States.ALL"], "target": "alert"}]), _add(task("alert", "refund")))),
    ("parallel-failure-handled", "the parallel's catch undoes the branches", _saga_in_branch("undo2")),
    ("parallel-failure-handled", "branches without effects need no catch",
     _all(_goto("ship", "checks"),
          _add(_parallel([_branch("a", task("x1", "ok_a"), {"name": "ok_a", "type": "succeed"})])))),
    ("side-effect-outside-saga", "the workflow is not a saga",
     _all(_set("ship.side_effect", {"description": "on-call paged"}), _set("not_a_saga", True))),
    ("side-effect-outside-saga", "an intended failure-path effect",
     _set("refund.side_effect", {"description": "dead-letter copy", "failure_path": True})),
    ("compensation-before-pivot", "no saga declared: an effect without compensation is information only",
     _set("ship.side_effect", {"description": "parcel booked"})),
    ("task-heartbeat", "an external callback cannot heartbeat", _set("ship.callback", True)),
    ("known-error-names", "States.HeartbeatTimeout and an own error name",
     _set("ship.catch", [{"errors": ["States.HeartbeatTimeout", "CarrierDown"], "target": "refund"}])),
    ("retry-permanent-errors", "the permanent error is settled with max_attempts 0 first",
     _all(_set("ship.errors", {"permanent": ["Lost"]}),
          _set("ship.retry", [retry(0, errors=["Lost"]), retry(errors=["States.ALL"])]))),
    ("timeout-within-workflow", "a task timeout exactly at the workflow's", _set("ship.timeout_seconds", 3600)),
    ("settles-valid", "a status check of another task", _set("refund.settles", "charge")),
    ("irreversible-effects", "the irreversible step is the pivot",
     _all(_set("ship.side_effect", {"description": "tag pushed", "irreversible": True}),
          _set("sagas", [{"name": "order", "steps": ["charge", "ship"], "pivot": "ship"}]))),
    ("partial-effect-recoverable", "a partial push that is idempotent (a retry completes it)",
     _set("ship.side_effect", {"description": "refs pushed", "partial": True})),
    ("inputs-declared", "a decision on a declared input",
     _all(_set("inputs", [{"name": "version"}]),
          _set("ship.transitions", [{"target": "done", "guard": {"variable": "$.inputs.version", "op": "present"}},
                                    {"target": "failed"}]))),
    ("event-correlation", "an event wait with a correlation key",
     _all(_goto("ship", "hold"),
          _add({"name": "hold", "type": "wait", "events": ["resumed"], "timeout_seconds": 60,
                "correlation_key": "$.order_id", "transitions": [{"event": "resumed", "target": "done"}],
                "catch": [{"errors": ["States.Timeout"], "target": "refund"}]}))),
    ("approval-audited", "an audited approval",
     _all(_goto("ship", "review"), _add({"name": "review", "type": "human_task", "owner": "team",
                                         "deadline_seconds": "1d", "escalation": {"after_seconds": "4h", "to": "lead"},
                                         "approval": {"approvers": 2}, "audit": True,
                                         "transitions": [{"event": "approved", "target": "done"}]}))),
    ("wait-timeout-caught", "the timeout is caught",
     _all(_goto("ship", "hold"),
          _add({"name": "hold", "type": "wait", "events": ["resumed"], "timeout_seconds": 60,
                "transitions": [{"event": "resumed", "target": "done"}],
                "catch": [{"errors": ["States.Timeout"], "target": "refund"}]}))),
]


def test_the_base_design_is_clean():
    assert findings(base()) == []


@pytest.mark.parametrize(("rule", "case", "mutate", "location"), FAILING, ids=[f"{r}: {c}" for r, c, _, _ in FAILING])
def test_rule_fails(rule, case, mutate, location):
    design = base()
    mutate(design)
    found = [(f.rule, f.location) for f in findings(design)]
    assert (rule, location) in found, found


@pytest.mark.parametrize(("rule", "case", "mutate"), PASSING, ids=[f"{r}: {c}" for r, c, _ in PASSING])
def test_rule_passes(rule, case, mutate):
    design = base()
    mutate(design)
    assert rule not in rules_of(design)


def test_every_rule_has_a_failing_and_a_passing_case():
    from .test_map import CASES as MAP_CASES  # the map rules' cases, each a failing design and its near miss

    ids = {r.id for r in RULES}
    assert ids == {r for r, *_ in FAILING} | {r for r, *_ in MAP_CASES}
    assert ids == {r for r, *_ in PASSING} | {r for r, *_ in MAP_CASES}


def test_rule_severities_and_summaries():
    for r in RULES:
        assert r.severity in ("error", "warning", "info") and r.summary.endswith(".")
    severities = {r.id: r.severity for r in RULES}
    assert severities["workflow-timeout"] == "warning"
    assert severities["step-observability"] == "info"
    assert severities["compensation-order"] == "error"


def test_findings_carry_the_state_and_a_helpful_message():
    design = base()
    _goto("charge", "shp")(design)
    (finding,) = [f for f in findings(design) if f.rule == "target-exists"]
    assert finding.state == "charge" and finding.severity == "error"
    assert "'shp'" in finding.message and "did you mean 'ship'" in finding.message


def test_retry_budget_message_states_the_formula():
    design = base()
    design["timeout_seconds"] = 60
    (finding,) = [f for f in findings(design) if f.rule == "retry-budget" and f.state == "charge"]
    assert "(2 + 1) x 30s + 3s = 93s" in finding.message


def test_findings_are_sorted_errors_first():
    design = base()
    design.pop("timeout_seconds")
    state(design, "ship")["metrics"] = []
    _goto("charge", "nowhere")(design)
    severities = [f.severity for f in findings(design)]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert severities[0] == "error" and "warning" in severities and "info" in severities


def test_unreachable_states_are_not_reported_when_the_start_is_missing():
    design = base()
    design["start_at"] = "nope"
    assert rules_of(design) == {"start-state"}
