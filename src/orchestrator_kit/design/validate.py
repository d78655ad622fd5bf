"""Named rules that prove a workflow design sound, each finding with a rule id, severity, message and location.

Rules walk the graph (`graph.DesignGraph`): reachability is a breadth-first walk from the start state, "can finish"
a reverse walk from the terminal states, never an in-degree count. A rule never raises on a strange design; it reports.
`RULES` lists them all (id, severity, summary); the README has the same table.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from .graph import DesignGraph, Node, Scope, error_matches, is_terminal, reach_masks
from .load import LoadedDesign
from .model import (
    CATCH_ALL,
    TIMEOUT_ERROR,
    ChoiceState,
    Condition,
    FailState,
    HumanTaskState,
    MapState,
    ParallelState,
    RetryPolicy,
    TaskState,
    WaitState,
    WorkflowDesign,
)

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}

# A task whose timeout is longer than this needs a heartbeat, so a dead worker is noticed before the timeout.
# 15 minutes is our assumption (a common job-queue visibility limit), not a standard.
LONG_TASK_SECONDS = 15 * 60
ASL_MAX_ATTEMPTS = 99_999_999  # the largest MaxAttempts Step Functions accepts
_RETRY_CAP = 1_000  # retries counted when estimating a worst case; beyond it the estimate is already huge


class Finding(BaseModel):
    """One problem in a design. `location` is a JSON pointer into the design (`/states/2/retry/0`)."""

    rule: str
    severity: Severity
    message: str
    location: str
    state: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    check: Callable[[Context], Iterable[Finding]]


RULES: list[Rule] = []


def rule(rule_id: str, severity: Severity, summary: str) -> Callable[[Callable[[Context], Iterable[Finding]]], Rule]:
    """Register a rule; the function yields findings through `ctx.finding`."""

    def register(check: Callable[[Context], Iterable[Finding]]) -> Rule:
        registered = Rule(rule_id, severity, summary, check)
        RULES.append(registered)
        return registered

    return register


class Context:
    """What a rule sees: the design, its graph, and a way to make findings with lines."""

    def __init__(self, loaded: LoadedDesign) -> None:
        self.loaded = loaded
        self.design: WorkflowDesign = loaded.design
        self.graph = DesignGraph(loaded.design)
        self._bits: dict[int, dict[str, int]] = {}  # per scope: state name -> its bit
        self._reach: dict[int, dict[str, int]] = {}  # per scope: state name -> bits of states it reaches forward

    def finding(
        self, rule_id: str, message: str, location: str, state: str | None = None, severity: Severity | None = None
    ) -> Finding:
        default = next(r.severity for r in RULES if r.id == rule_id)
        return Finding(
            rule=rule_id,
            severity=severity or default,
            message=message,
            location=location,
            state=state,
            line=self.loaded.line(location),
        )

    def at(
        self, node: Node, rule_id: str, message: str, field: str = "", *, severity: Severity | None = None
    ) -> Finding:
        """The finding of `rule_id` about the state `node`: located at its JSON pointer (or at `field` below it,
        e.g. "retry/0") and naming it, the shape of nearly every rule's finding."""
        location = f"{node.pointer}/{field}" if field else node.pointer
        return self.finding(rule_id, message, location, node.name, severity)

    def bits(self, scope: Scope) -> dict[str, int]:
        if id(scope) not in self._bits:
            self._bits[id(scope)] = {name: 1 << i for i, name in enumerate(scope.nodes)}
        return self._bits[id(scope)]

    def forward_successors(self, scope: Scope) -> dict[str, list[str]]:
        return {
            name: [n.name for n in self.graph.successors(node, forward_only=True)]
            for name, node in scope.nodes.items()
        }

    def reach(self, scope: Scope) -> dict[str, int]:
        """Per state of `scope`, the bits of the states it reaches by forward edges (itself only on a loop)."""
        if id(scope) not in self._reach:
            self._reach[id(scope)] = reach_masks(list(scope.nodes), self.forward_successors(scope), self.bits(scope))
        return self._reach[id(scope)]

    def precedes(self, first: Node, second: Node) -> bool:
        """`first` commits before `second` on every path that runs both: second is forward-reachable from first,
        and first is not reachable from second (they are not on a common loop)."""
        if first.scope is not second.scope or first.name not in first.scope.nodes:
            return False
        reach, bits = self.reach(first.scope), self.bits(first.scope)
        return bool(reach[first.name] & bits[second.name]) and not reach[second.name] & bits[first.name]


def check(loaded: LoadedDesign) -> list[Finding]:
    """Every rule over the design; errors first, then warnings, then infos, each in design order."""
    ctx = Context(loaded)
    findings: list[Finding] = []
    for registered in RULES:
        findings.extend(registered.check(ctx))
    order = {node.pointer: i for i, node in enumerate(ctx.graph.all_nodes)}
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], _node_order(f.location, order), f.rule))


def _node_order(location: str, order: dict[str, int]) -> int:
    """Index of the innermost state that contains `location` (-1 for design-level locations)."""
    parts = location.split("/")
    for end in range(len(parts), 0, -1):
        index = order.get("/".join(parts[:end]))
        if index is not None:
            return index
    return -1


def _kind(node: Node) -> str:
    return node.state.type.replace("_", " ")


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- structure ------------------------------------------------------------------------------------------------------


@rule("start-state", "error", "The workflow and each branch have states and exactly one start state that exists.")
def _start_state(ctx: Context) -> Iterator[Finding]:
    for scope in ctx.graph.scopes:
        where = scope.pointer + "/states"
        if not scope.all_nodes:
            yield ctx.finding("start-state", f"{scope.label} has no states", where)
        elif scope.start_at not in scope.nodes:
            elsewhere = ctx.graph.nodes.get(scope.start_at)
            hint = (
                f"; '{scope.start_at}' is in {elsewhere.scope.label}"
                if elsewhere
                else _suggest(scope.start_at, scope.nodes)
            )
            yield ctx.finding(
                "start-state", f"start_at '{scope.start_at}' names no state of {scope.label}{hint}", scope.start_pointer
            )
    for node in ctx.graph.all_nodes:
        if isinstance(node.state, ParallelState) and not node.state.branches:
            yield ctx.finding("start-state", f"parallel '{node.name}' has no branches", node.pointer, node.name)


@rule("target-exists", "error", "Every transition, choice, default and catch target names a state of the same scope.")
def _target_exists(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        for edge in ctx.graph.edges(node):
            if edge.target in node.scope.nodes:
                continue
            elsewhere = ctx.graph.nodes.get(edge.target)
            if elsewhere is not None:
                message = (
                    f"'{node.name}' goes to '{edge.target}', which is in {elsewhere.scope.label}; "
                    f"a transition cannot leave {node.scope.label}"
                )
            else:
                hint = _suggest(edge.target, node.scope.nodes)
                message = f"'{node.name}' goes to '{edge.target}', which is no state{hint}"
            yield ctx.finding("target-exists", message, edge.pointer, node.name)


@rule("reachable", "error", "Every state can be reached from the start state (a graph walk over all edges).")
def _reachable(ctx: Context) -> Iterator[Finding]:
    for scope in ctx.graph.scopes:
        if scope.start_at not in scope.nodes:
            continue  # start-state reports it; everything would look unreachable
        reached = ctx.graph.reachable(scope)
        for node in scope.nodes.values():
            if node.name not in reached:
                yield ctx.finding(
                    "reachable",
                    f"{_kind(node)} '{node.name}' cannot be reached from the start state '{scope.start_at}'",
                    node.pointer,
                    node.name,
                )


@rule("has-terminal", "error", "The workflow and each branch have at least one succeed or fail state.")
def _has_terminal(ctx: Context) -> Iterator[Finding]:
    for scope in ctx.graph.scopes:
        if scope.all_nodes and not ctx.graph.terminals(scope):
            yield ctx.finding(
                "has-terminal", f"{scope.label} has no terminal state (succeed or fail)", scope.pointer + "/states"
            )


def _dead_ends(ctx: Context) -> list[Node]:
    return [
        n for n in ctx.graph.all_nodes if not is_terminal(n.state) and not ctx.graph.forward_edges(n)
    ]


@rule("no-dead-end", "error", "Every state that is not succeed or fail says where it goes next.")
def _no_dead_end(ctx: Context) -> Iterator[Finding]:
    for node in _dead_ends(ctx):
        what = "has no choices and no default" if isinstance(node.state, ChoiceState) else "has no transition"
        yield ctx.finding(
            "no-dead-end",
            f"{_kind(node)} '{node.name}' {what}: where does it go next? (only succeed and fail states end)",
            node.pointer,
            node.name,
        )


@rule("can-terminate", "error", "From every state a terminal state can be reached without an error (no trap loops).")
def _can_terminate(ctx: Context) -> Iterator[Finding]:
    dead = {id(n) for n in _dead_ends(ctx)}
    for scope in ctx.graph.scopes:
        terminals = ctx.graph.terminals(scope)
        if not terminals:
            continue  # has-terminal reports it
        can = ctx.graph.can_reach(scope, terminals, forward_only=True)
        for node in scope.nodes.values():
            if node.name not in can and id(node) not in dead:
                yield ctx.finding(
                    "can-terminate",
                    f"from '{node.name}' no succeed or fail state can be reached except by an error "
                    "(a loop with no way out?)",
                    node.pointer,
                    node.name,
                )


@rule("single-unguarded-transition", "error", "At most one unguarded transition per state and event.")
def _single_unguarded(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        transitions = getattr(node.state, "transitions", [])
        first: dict[str, str] = {}
        for i, t in enumerate(transitions):
            if t.guard is not None:
                continue
            if t.event in first:
                yield ctx.at(
                    node,
                    "single-unguarded-transition",
                    f"'{node.name}' has two unguarded transitions on '{t.event}' (to '{first[t.event]}' and "
                    f"'{t.target}'): which one is taken?",
                    f"transitions/{i}",
                )
            else:
                first[t.event] = t.target


@rule("choice-has-default", "error", "Every choice state has a default for when no rule matches.")
def _choice_default(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        if isinstance(node.state, ChoiceState) and node.state.default is None and node.state.choices:
            yield ctx.at(
                node,
                "choice-has-default",
                f"choice '{node.name}' has no default: when no rule matches, the workflow fails "
                "(States.NoChoiceMatched)",
                "default",
            )


@rule(
    "guarded-transition-fallback", "warning", "An event whose transitions are all guarded has an unguarded fallback."
)
def _guarded_fallback(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        transitions = getattr(node.state, "transitions", [])
        events: dict[str, bool] = {}
        for t in transitions:
            events[t.event] = events.get(t.event, False) or t.guard is None
        for event, has_fallback in events.items():
            if not has_fallback:
                index = next(i for i, t in enumerate(transitions) if t.event == event)
                yield ctx.at(
                    node,
                    "guarded-transition-fallback",
                    f"every transition of '{node.name}' on '{event}' is guarded: when no guard holds it is stuck "
                    "(add an unguarded fallback)",
                    f"transitions/{index}",
                )


@rule(
    "transition-event-known", "error", "Wait, parallel and map states only have transitions on events they can end on."
)
def _event_known(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if isinstance(state, WaitState):
            allowed = state.emits
        elif isinstance(state, ParallelState | MapState):
            allowed = ["done"]
        else:
            continue
        for i, t in enumerate(state.transitions):
            if t.event not in allowed:
                yield ctx.at(
                    node,
                    "transition-event-known",
                    f"{_kind(node)} '{node.name}' never ends on '{t.event}' (it ends on: {', '.join(allowed)})",
                    f"transitions/{i}/event",
                )


@rule("unique-names", "error", "State names are unique across the whole design, nested branches included.")
def _unique_names(ctx: Context) -> Iterator[Finding]:
    seen: dict[str, Node] = {}
    for node in ctx.graph.all_nodes:
        if node.name in seen:
            yield ctx.at(
                node,
                "unique-names",
                f"the name '{node.name}' is already used at {seen[node.name].pointer} (names must be unique across "
                "branches too)",
                "name",
            )
        else:
            seen[node.name] = node
        if isinstance(node.state, ParallelState):
            branch_names: set[str] = set()
            for i, branch in enumerate(node.state.branches):
                if branch.name in branch_names:
                    yield ctx.at(
                        node,
                        "unique-names",
                        f"parallel '{node.name}' has two branches named '{branch.name}'",
                        f"branches/{i}/name",
                    )
                branch_names.add(branch.name)


# -- retries and timeouts -------------------------------------------------------------------------------------------


def _activities(ctx: Context) -> Iterator[Node]:
    for node in ctx.graph.all_nodes:
        if isinstance(node.state, TaskState | HumanTaskState | ParallelState | MapState):
            yield node


@rule(
    "retry-catch-all-last",
    "error",
    "States.ALL stands alone in its errors list and only in the last retry policy or catcher.",
)
def _catch_all_last(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        for field_name in ("retry", "catch"):
            items = getattr(node.state, field_name, [])
            for i, item in enumerate(items):
                if CATCH_ALL not in item.errors:
                    continue
                where = f"{node.pointer}/{field_name}/{i}/errors"
                if len(item.errors) > 1:
                    yield ctx.finding(
                        "retry-catch-all-last",
                        f"{CATCH_ALL} matches every error, so it must stand alone (in '{node.name}' {field_name} {i})",
                        where,
                        node.name,
                    )
                if i != len(items) - 1:
                    yield ctx.finding(
                        "retry-catch-all-last",
                        f"{CATCH_ALL} in '{node.name}' {field_name} {i} is not last: the {field_name} entries after "
                        "it never apply",
                        where,
                        node.name,
                    )


def _policies(ctx: Context) -> Iterator[tuple[Node, int, RetryPolicy]]:
    for node in _activities(ctx):
        for i, policy in enumerate(getattr(node.state, "retry", [])):
            yield node, i, policy


@rule("retry-backoff", "error", "Retry delays are sane: backoff_rate >= 1, interval > 0, max_interval >= interval.")
def _retry_backoff(ctx: Context) -> Iterator[Finding]:
    for node, i, policy in _policies(ctx):
        where = f"{node.pointer}/retry/{i}"
        if policy.backoff_rate < 1:
            yield ctx.finding(
                "retry-backoff",
                f"'{node.name}' retry {i} has backoff_rate {policy.backoff_rate}: below 1 the delays shrink "
                "(ASL requires BackoffRate >= 1.0)",
                f"{where}/backoff_rate",
                node.name,
            )
        if policy.interval_seconds <= 0:
            yield ctx.finding(
                "retry-backoff",
                f"'{node.name}' retry {i} has interval_seconds {policy.interval_seconds}: retries must wait",
                f"{where}/interval_seconds",
                node.name,
            )
        if policy.max_interval_seconds is not None and policy.max_interval_seconds < policy.interval_seconds:
            yield ctx.finding(
                "retry-backoff",
                f"'{node.name}' retry {i} caps delays at {policy.max_interval_seconds}s, below its first interval "
                f"of {policy.interval_seconds}s",
                f"{where}/max_interval_seconds",
                node.name,
            )


@rule("retry-bounded", "error", "Every retry policy has a finite, non-negative max_attempts.")
def _retry_bounded(ctx: Context) -> Iterator[Finding]:
    for node, i, policy in _policies(ctx):
        where = f"{node.pointer}/retry/{i}/max_attempts"
        if policy.max_attempts is None:
            yield ctx.finding(
                "retry-bounded",
                f"'{node.name}' retry {i} retries without limit: set max_attempts",
                where,
                node.name,
            )
        elif policy.max_attempts < 0 or policy.max_attempts > ASL_MAX_ATTEMPTS:
            yield ctx.finding(
                "retry-bounded",
                f"'{node.name}' retry {i} has max_attempts {policy.max_attempts}: it must be 0..{ASL_MAX_ATTEMPTS}",
                where,
                node.name,
            )


# Delays are capped here only to keep arithmetic finite (a backoff of 2 over 2000 retries overflows a float).
_MAX_DELAY = 1e15


def retry_delay(policy: RetryPolicy, retry: int) -> float:
    """Delay before retry `retry` (1-based): min(interval * backoff_rate^(retry-1), max_interval), as in ASL
    (jitter only shortens it)."""
    try:
        delay = policy.interval_seconds * policy.backoff_rate ** (retry - 1)
    except OverflowError:
        delay = _MAX_DELAY
    if policy.max_interval_seconds is not None:
        delay = min(delay, policy.max_interval_seconds)
    return min(max(delay, 0.0), _MAX_DELAY)


def retry_delays(policy: RetryPolicy, retries: int) -> list[float]:
    """The delays before retries 1..retries (at most _RETRY_CAP of them)."""
    return [retry_delay(policy, i) for i in range(1, min(retries, _RETRY_CAP) + 1)]


def step_timeout(node: Node) -> float | None:
    """How long one attempt of an activity may take: the task timeout or the human task deadline."""
    state = node.state
    if isinstance(state, TaskState):
        return state.timeout_seconds
    if isinstance(state, HumanTaskState):
        return state.deadline_seconds
    return None


@rule(
    "retry-budget",
    "warning",
    "The worst case of a retried step, (retries + 1) x timeout + delays, fits in the workflow timeout.",
)
def _retry_budget(ctx: Context) -> Iterator[Finding]:
    limit = ctx.design.timeout_seconds
    if limit is None or limit <= 0:
        return
    for node, i, policy in _policies(ctx):
        timeout = step_timeout(node)
        if timeout is None or timeout <= 0 or policy.max_attempts is None or policy.max_attempts <= 0:
            continue
        retries = min(policy.max_attempts, _RETRY_CAP)
        worst = (retries + 1) * timeout + sum(retry_delays(policy, retries))
        if worst > limit:
            yield ctx.at(
                node,
                "retry-budget",
                f"'{node.name}' retry {i}: worst case (max_attempts + 1) x timeout + delays = ({retries} + 1) x "
                f"{timeout:g}s + {worst - (retries + 1) * timeout:g}s = {worst:g}s, more than the workflow timeout "
                f"of {limit:g}s",
                f"retry/{i}",
            )


@rule("task-timeout", "error", "Every task has a positive timeout, and every wait for an event is bounded.")
def _task_timeout(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if isinstance(state, TaskState):
            if state.timeout_seconds is None:
                yield ctx.at(node, "task-timeout", f"task '{node.name}' has no timeout_seconds: it can hang forever",
                             "timeout_seconds")
            elif state.timeout_seconds <= 0:
                yield ctx.at(
                    node, "task-timeout",
                    f"task '{node.name}' has timeout_seconds {state.timeout_seconds:g}: it must be > 0",
                    "timeout_seconds",
                )
        elif (
            isinstance(state, WaitState)
            and state.events is not None
            and (state.timeout_seconds is None or state.timeout_seconds <= 0)
        ):
            yield ctx.at(
                node,
                "task-timeout",
                f"wait '{node.name}' waits for {', '.join(state.events) or 'an event'} without a positive "
                "timeout_seconds: it can wait forever",
                "timeout_seconds",
            )


@rule(
    "task-heartbeat",
    "error",
    f"Work our workers do that runs long (long_running, a timeout over {LONG_TASK_SECONDS}s, or a worker callback) "
    "has a heartbeat shorter than the timeout; callbacks from external systems need none.",
)
def _task_heartbeat(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if not isinstance(state, TaskState):
            continue
        where = f"{node.pointer}/heartbeat_seconds"
        long = state.long_running or (state.timeout_seconds or 0) > LONG_TASK_SECONDS
        # Heartbeats prove that a worker of ours is alive. A callback from an external system or a person (an
        # e-signature webhook) cannot send them: its wait is bounded by the timeout alone.
        external_wait = state.callback and state.callback_from == "external"
        if state.heartbeat_seconds is None:
            if not external_wait and (state.callback or long):
                why = "waits for its worker's callback" if state.callback else "runs long"
                yield ctx.finding(
                    "task-heartbeat",
                    f"task '{node.name}' {why} but has no heartbeat_seconds: a lost worker is only noticed at the "
                    "timeout",
                    where,
                    node.name,
                )
        elif state.heartbeat_seconds <= 0:
            yield ctx.finding(
                "task-heartbeat",
                f"task '{node.name}' has heartbeat_seconds {state.heartbeat_seconds:g}: it must be > 0",
                where, node.name,
            )
        elif state.timeout_seconds is not None and state.heartbeat_seconds >= state.timeout_seconds:
            yield ctx.finding(
                "task-heartbeat",
                f"task '{node.name}' has a heartbeat ({state.heartbeat_seconds:g}s) not shorter than its timeout "
                f"({state.timeout_seconds:g}s): it can never fire",
                where,
                node.name,
            )


# The error names ASL defines (docs.aws.amazon.com/step-functions, "Error names"); any other `States.` name is a
# typo that can never match (Step Functions raises only these).
KNOWN_STATES_ERRORS = frozenset({
    "States.ALL", "States.BranchFailed", "States.DataLimitExceeded", "States.ExceedToleratedFailureThreshold",
    "States.HeartbeatTimeout", "States.Http.Socket", "States.IntrinsicFailure", "States.ItemReaderFailed",
    "States.NoChoiceMatched", "States.ParameterPathFailure", "States.Permissions", "States.QueryEvaluationError",
    "States.ResultPathMatchFailure", "States.ResultWriterFailed", "States.Runtime", "States.TaskFailed",
    "States.Timeout",
})


def _error_names(node: Node) -> Iterator[tuple[str, str]]:
    """(error name, pointer) of every error a state names: retries, catchers, declared errors, a fail state's."""
    state = node.state
    for field_name in ("retry", "catch"):
        for i, item in enumerate(getattr(state, field_name, [])):
            for j, error in enumerate(item.errors):
                yield error, f"{node.pointer}/{field_name}/{i}/errors/{j}"
    if isinstance(state, TaskState) and state.errors is not None:
        for kind in ("transient", "permanent"):
            for j, error in enumerate(getattr(state.errors, kind)):
                yield error, f"{node.pointer}/errors/{kind}/{j}"
    if isinstance(state, FailState) and state.error:
        yield state.error, f"{node.pointer}/error"


@rule("known-error-names", "error", "Every `States.*` error name is one ASL defines (a misspelt one never matches).")
def _known_error_names(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        for error, where in _error_names(node):
            if error.startswith("States.") and error not in KNOWN_STATES_ERRORS:
                yield ctx.finding(
                    "known-error-names",
                    f"'{node.name}' names the error '{error}', which Step Functions never raises, so it never "
                    f"matches{_suggest(error, KNOWN_STATES_ERRORS)}",
                    where,
                    node.name,
                )


@rule(
    "retry-permanent-errors",
    "error",
    "No retry policy retries an error the step declares permanent (a catch-all retry that would is a warning).",
)
def _retry_permanent(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if not isinstance(state, TaskState) or state.errors is None or not state.errors.permanent:
            continue
        settled: set[str] = set()  # permanent errors an earlier policy already decided (ASL takes the first match)
        for i, policy in enumerate(state.retry):
            retried = policy.max_attempts is None or policy.max_attempts > 0
            for error in state.errors.permanent:
                if error in settled or not any(error_matches(p, error) for p in policy.errors):
                    continue
                settled.add(error)
                if not retried:
                    continue
                named = error in policy.errors
                yield ctx.finding(
                    "retry-permanent-errors",
                    f"'{node.name}' retry {i} retries '{error}', which it declares permanent: a retry cannot fix it "
                    + ("" if named else f"({', '.join(policy.errors)} matches it; put a policy with max_attempts 0 "
                       f"for '{error}' first, or catch it)"),
                    f"{node.pointer}/retry/{i}/errors",
                    node.name,
                    severity=None if named else "warning",
                )


def _limit_of(node: Node) -> tuple[str, float] | None:
    state = node.state
    if isinstance(state, TaskState) and state.timeout_seconds:
        return "timeout_seconds", state.timeout_seconds
    if isinstance(state, HumanTaskState) and state.deadline_seconds:
        return "deadline_seconds", state.deadline_seconds
    if isinstance(state, WaitState) and state.timeout_seconds:
        return "timeout_seconds", state.timeout_seconds
    if isinstance(state, WaitState) and state.seconds:
        return "seconds", state.seconds
    return None


@rule(
    "timeout-within-workflow",
    "error",
    "No task timeout, human deadline or wait is longer than the workflow timeout (it could never fire or end).",
)
def _timeout_within_workflow(ctx: Context) -> Iterator[Finding]:
    limit = ctx.design.timeout_seconds
    if limit is None or limit <= 0:
        return
    for node in ctx.graph.all_nodes:
        found = _limit_of(node)
        if found is None or found[1] <= limit:
            continue
        field_name, seconds = found
        yield ctx.at(
            node,
            "timeout-within-workflow",
            f"{_kind(node)} '{node.name}' has {field_name} {seconds:g}s, longer than the workflow timeout of "
            f"{limit:g}s: the workflow times out first and its own timeout, deadline or escalation never acts",
            f"{field_name}",
        )


@rule("wait-timeout-caught", "error", "A wait for events that can time out catches States.Timeout.")
def _wait_timeout_caught(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if not isinstance(state, WaitState) or state.events is None or not state.timeout_seconds:
            continue
        if any(error_matches(p, TIMEOUT_ERROR) for c in state.catch for p in c.errors):
            continue
        yield ctx.at(
            node,
            "wait-timeout-caught",
            f"wait '{node.name}' times out after {state.timeout_seconds:g}s and nothing catches States.Timeout: "
            "the workflow fails there with nobody told and nothing undone",
            "catch",
        )


# -- side effects, idempotency, sagas -------------------------------------------------------------------------------


def _retries(state: TaskState | HumanTaskState | ParallelState | MapState) -> bool:
    return any(p.max_attempts is None or p.max_attempts > 0 for p in state.retry)


def _side_effect_tasks(node: Node, ctx: Context) -> Iterator[Node]:
    """Side-effecting tasks inside a parallel state's branches or a map's processor, at any depth."""
    stack = [node]
    while stack:
        current = stack.pop()
        for scope in ctx.graph.scopes:
            if scope.parent is current:
                for inner in scope.all_nodes:
                    if isinstance(inner.state, TaskState) and inner.state.side_effect:
                        yield inner
                    if isinstance(inner.state, ParallelState | MapState):
                        stack.append(inner)


def _idempotent(state: TaskState) -> bool:
    return state.idempotency is not None and state.idempotency.declared


@rule(
    "idempotent-retries",
    "error",
    "A retried side-effecting step (or a retried parallel state around one) is idempotent or keyed.",
)
def _idempotent_retries(ctx: Context) -> Iterator[Finding]:
    for node in _activities(ctx):
        state = node.state
        if not isinstance(state, TaskState | ParallelState) or not _retries(state):
            continue
        if isinstance(state, TaskState):
            if state.side_effect and not _idempotent(state):
                yield ctx.at(
                    node,
                    "idempotent-retries",
                    f"task '{node.name}' is retried and has a side effect ({state.side_effect.description}) but no "
                    "idempotency key or declared natural idempotency: a retry after a lost reply repeats the effect",
                    "idempotency",
                )
            continue
        for inner in _side_effect_tasks(node, ctx):
            if not _idempotent(inner.state):  # type: ignore[arg-type]
                yield ctx.at(
                    node,
                    "idempotent-retries",
                    f"retrying parallel '{node.name}' runs '{inner.name}' again, which has a side effect and is not "
                    "idempotent",
                    "retry",
                )


def _sagas(ctx: Context) -> list[tuple[str, list[Node], Node | None, str]]:
    """(name, member task nodes, pivot node, location) per declared saga. A design without declared sagas has
    none: a workflow is a saga only when it says so (rule `side-effect-outside-saga` reports its effects as
    information)."""
    result = []
    for i, saga in enumerate(ctx.design.sagas):
        members = [ctx.graph.nodes[s] for s in saga.steps if s in ctx.graph.nodes]
        pivot = ctx.graph.nodes.get(saga.pivot) if saga.pivot else None
        result.append((saga.name, members, pivot, f"/sagas/{i}"))
    return result


def _before_pivot(ctx: Context, member: Node, pivot: Node | None) -> bool:
    if pivot is None:
        return True
    return member is not pivot and ctx.precedes(member, pivot)


@rule(
    "saga-valid",
    "error",
    "Saga steps and pivots name states; a pivot is one of its saga's steps; a step is in one saga.",
)
def _saga_valid(ctx: Context) -> Iterator[Finding]:
    owner: dict[str, str] = {}
    for i, saga in enumerate(ctx.design.sagas):
        for j, step in enumerate(saga.steps):
            if step not in ctx.graph.nodes:
                yield ctx.finding(
                    "saga-valid",
                    f"saga '{saga.name}' lists '{step}', which is no state{_suggest(step, ctx.graph.nodes)}",
                    f"/sagas/{i}/steps/{j}",
                )
            elif step in owner and owner[step] != saga.name:
                yield ctx.finding(
                    "saga-valid",
                    f"'{step}' is in saga '{owner[step]}' and in saga '{saga.name}': a step belongs to one saga",
                    f"/sagas/{i}/steps/{j}",
                    step,
                )
            owner.setdefault(step, saga.name)
        if saga.pivot is not None and saga.pivot not in saga.steps:
            yield ctx.finding(
                "saga-valid", f"the pivot '{saga.pivot}' of saga '{saga.name}' is not one of its steps",
                f"/sagas/{i}/pivot",
            )


@rule(
    "compensation-before-pivot",
    "error",
    "Every side-effecting step before its saga's pivot (every one, without a pivot) names a compensation.",
)
def _compensation_before_pivot(ctx: Context) -> Iterator[Finding]:
    for saga_name, members, pivot, _ in _sagas(ctx):
        for member in members:
            state = member.state
            if isinstance(state, MapState) and not state.compensation and _commits(ctx, member):
                if _before_pivot(ctx, member, pivot):
                    yield ctx.at(
                        member,
                        "compensation-before-pivot",
                        f"map '{member.name}' commits effects for each item and names no compensation, in saga "
                        f"'{saga_name}': a later failure leaves every committed item applied",
                        "compensation",
                    )
                continue
            if not isinstance(state, TaskState) or not state.side_effect or state.side_effect.compensation:
                continue
            if not _before_pivot(ctx, member, pivot):
                continue
            where = (
                f"before the pivot '{pivot.name}' of saga '{saga_name}'"
                if pivot
                else f"in saga '{saga_name}', which has no pivot"
            )
            yield ctx.at(
                member,
                "compensation-before-pivot",
                f"task '{member.name}' has a side effect ({state.side_effect.description}) and no compensation, "
                f"{where}: a later failure leaves it applied",
                "side_effect/compensation",
            )


def _enclosing(node: Node) -> Iterator[Scope]:
    """The node's own scope, then each enclosing scope out to the workflow."""
    scope: Scope | None = node.scope
    while scope is not None:
        yield scope
        scope = scope.parent.scope if scope.parent is not None else None


def enclosing_maps(node: Node) -> Iterator[Node]:
    """The map states whose processor holds `node`, innermost first."""
    parent = node.scope.parent
    while parent is not None:
        if isinstance(parent.state, MapState):
            yield parent
        parent = parent.scope.parent


def _project(node: Node, scope: Scope) -> Node | None:
    """The state of `scope` that contains `node` (itself, or the parallel state around its branch), or None."""
    current: Node | None = node
    while current is not None and current.scope is not scope:
        current = current.scope.parent
    return current


def _resolve_compensation(node: Node, name: str) -> Node | None:
    """The state `name` as seen from `node`: in its scope or the nearest enclosing scope that has it."""
    for scope in _enclosing(node):
        if name in scope.nodes:
            return scope.nodes[name]
    return None


@rule(
    "compensation-valid",
    "error",
    "A compensation names a task or human task in the step's scope or an enclosing one, other than the step itself.",
)
def _compensation_valid(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if isinstance(state, MapState) and state.compensation:
            name, where = state.compensation, f"{node.pointer}/compensation"
        elif isinstance(state, TaskState) and state.side_effect and state.side_effect.compensation:
            name, where = state.side_effect.compensation, f"{node.pointer}/side_effect/compensation"
        else:
            continue
        target = _resolve_compensation(node, name)
        if target is None:
            elsewhere = ctx.graph.nodes.get(name)
            detail = (
                f"is in {elsewhere.scope.label}, which cannot run it" if elsewhere
                else f"is no state{_suggest(name, node.scope.nodes)}"
            )
            yield ctx.finding(
                "compensation-valid", f"the compensation of '{node.name}', '{name}', {detail}", where, node.name
            )
        elif target is node:
            yield ctx.finding("compensation-valid", f"'{node.name}' cannot compensate itself", where, node.name)
        elif not isinstance(target.state, TaskState | HumanTaskState):
            yield ctx.finding(
                "compensation-valid",
                f"the compensation of '{node.name}', '{name}', is a {_kind(target)}, not a task or human task",
                where,
                node.name,
            )


def compensation_nodes(ctx: Context) -> list[tuple[Node, list[Node]]]:
    """(compensation state, the steps it undoes) for every compensation that resolves to a task or human task."""
    if "compensation_nodes" in ctx.graph.memo:
        return ctx.graph.memo["compensation_nodes"]  # type: ignore[no-any-return]
    found: dict[int, tuple[Node, list[Node]]] = {}
    for node in ctx.graph.all_nodes:
        state = node.state
        if not isinstance(state, TaskState) or not state.side_effect or not state.side_effect.compensation:
            continue
        comp = _resolve_compensation(node, state.side_effect.compensation)
        if comp is None or comp is node or not isinstance(comp.state, TaskState | HumanTaskState):
            continue
        found.setdefault(id(comp), (comp, []))[1].append(node)
    for node in ctx.graph.all_nodes:
        state = node.state
        if isinstance(state, MapState) and state.compensation:
            comp = _resolve_compensation(node, state.compensation)
            if comp is not None and comp is not node and isinstance(comp.state, TaskState | HumanTaskState):
                found.setdefault(id(comp), (comp, []))[1].append(node)
    result = list(found.values())
    ctx.graph.memo["compensation_nodes"] = result
    return result


@rule("compensation-idempotent", "error", "Every compensation task is idempotent (keyed or naturally).")
def _compensation_idempotent(ctx: Context) -> Iterator[Finding]:
    for comp, steps in compensation_nodes(ctx):
        if isinstance(comp.state, TaskState) and not _idempotent(comp.state):
            yield ctx.at(
                comp,
                "compensation-idempotent",
                f"compensation '{comp.name}' (undoes {', '.join(repr(s.name) for s in steps)}) is not idempotent: "
                "compensations are retried and may run for an effect that never happened",
                "idempotency",
            )


@rule("compensation-retried", "warning", "Every compensation task has a retry policy: it must eventually succeed.")
def _compensation_retried(ctx: Context) -> Iterator[Finding]:
    for comp, _ in compensation_nodes(ctx):
        if isinstance(comp.state, TaskState) and not _retries(comp.state):
            yield ctx.at(
                comp,
                "compensation-retried",
                f"compensation '{comp.name}' has no retry: one failure leaves the effect it undoes in place",
                "retry",
            )


def _commits(ctx: Context, node: Node) -> bool:
    """Whether entering `node` commits a side effect: a side-effecting task, or a parallel or map state around one."""
    state = node.state
    if isinstance(state, TaskState):
        return bool(state.side_effect) and not state.side_effect.failure_path  # type: ignore[union-attr]
    if isinstance(state, ParallelState | MapState):
        return any(not t.state.side_effect.failure_path for t in _side_effect_tasks(node, ctx))  # type: ignore[union-attr]
    return False


def _runs_after(ctx: Context, scope: Scope, comp: Node, stop: set[str]) -> set[str]:
    """Names of the states that can run after `comp` in `scope` by forward edges, not passing a new commit."""
    seen: set[str] = set()
    queue = deque(ctx.graph.successors(comp, forward_only=True))
    while queue:
        node = queue.popleft()
        if node.name in seen or node.scope is not scope:
            continue
        seen.add(node.name)
        if node.name not in stop:
            queue.extend(ctx.graph.successors(node, forward_only=True))
    return seen


def _commit_order(ctx: Context, first: Node, second: Node) -> bool:
    """`first` commits before `second`: projected onto the deepest scope that holds both, the state holding `first`
    precedes the one holding `second`. Steps in different branches of one parallel state are not ordered."""
    for scope in _enclosing(first):
        a, b = _project(first, scope), _project(second, scope)
        if a is None or b is None:
            continue
        if a is b:
            return False  # the same state, or the same parallel state from two branches: no order
        return ctx.precedes(a, b)
    return False


@rule(
    "compensation-order",
    "error",
    "On every failure path, compensations run in reverse order of the commits they undo (across parallel scopes).",
)
def _compensation_order(ctx: Context) -> Iterator[Finding]:
    """For each compensation C and each compensation D that can run after C (forward edges in C's scope, not
    through a new commit): no step D undoes may commit after a step C undoes. Steps inside a parallel state's
    branches commit, as seen from the enclosing scope, when that parallel state runs; within the branches they are
    ordered by their own branch (different branches: no order)."""
    pairs = compensation_nodes(ctx)
    for comp, steps in pairs:
        scope = comp.scope
        comps_here = {c.name for c, _ in pairs if c.scope is scope}
        stop = {n.name for n in scope.nodes.values() if n.name not in comps_here and _commits(ctx, n)}
        after = _runs_after(ctx, scope, comp, stop)
        reported = False
        for other, other_steps in pairs:
            if other is comp or other.scope is not scope or other.name not in after or reported:
                continue
            if other.name in _runs_after(ctx, scope, other, stop) and comp.name in _runs_after(ctx, scope, other, stop):
                continue  # on a common loop: no order between them
            for step in steps:
                late = next((o for o in other_steps if o is not step and _commit_order(ctx, step, o)), None)
                if late is not None:
                    yield ctx.finding(
                        "compensation-order",
                        f"'{comp.name}' (undoes '{step.name}') runs before '{other.name}' (undoes '{late.name}', "
                        f"which commits after '{step.name}'): compensations must run in reverse order of commits",
                        comp.pointer,
                        comp.name,
                    )
                    reported = True
                    break


def _failure_points(ctx: Context, step: Node, scope: Scope, excluded: set[str]) -> list[Node]:
    """The states of `scope` that can fail after `step` has committed, on the way to success: the parallel state
    around it (a sibling branch fails), then every activity forward-reachable, not passing a compensation, a
    terminal or a state after the saga's pivot (`excluded`)."""
    start = _project(step, scope)
    if start is None:
        return []
    # The state around the step fails after it committed (a sibling branch, another item); a map fails after
    # its own items committed.
    points = [start] if start is not step or isinstance(step.state, MapState) else []
    seen = {start.name}
    queue = deque(ctx.graph.successors(start, forward_only=True))
    while queue:
        node = queue.popleft()
        if node.name in seen or node.name in excluded or node.scope is not scope:
            continue
        seen.add(node.name)
        if isinstance(node.state, TaskState | HumanTaskState | ParallelState | MapState) or (
            isinstance(node.state, WaitState) and node.state.events is not None
        ):
            points.append(node)
        queue.extend(ctx.graph.successors(node, forward_only=True))
    return points


@rule(
    "compensation-reachable",
    "error",
    "A declared compensation runs on every failure path after its effect: each step that can fail after the effect "
    "has a catch, and no catch path ends the workflow in failure without passing the compensation.",
)
def _compensation_reachable(ctx: Context) -> Iterator[Finding]:
    pairs = compensation_nodes(ctx)
    comp_names = {c.name for c, _ in pairs}
    after_pivot: set[str] = set()
    for _, members, pivot, _ in _sagas(ctx):
        if pivot is not None:
            after_pivot |= {m.name for m in members if m is not pivot and ctx.precedes(pivot, m)}
    for comp, steps in pairs:
        scope = comp.scope
        for step in steps:
            excluded = comp_names | after_pivot | ctx.graph.terminals(scope)
            points = _failure_points(ctx, step, scope, excluded)
            if not points:
                continue  # nothing can fail after the effect: the compensation is for a later extension
            skips = _paths_skipping(ctx, comp, points)
            if not skips:  # None: a catch to no state, which target-exists reports
                continue
            checked = f"{', '.join(repr(p.name) for p in points[:5])}{', ...' if len(points) > 5 else ''}"
            if len(skips) == len(points):
                message = (f"'{comp.name}' undoes '{step.name}', but no failure after '{step.name}' leads to it "
                           f"(checked: {checked}): the effect stays applied when a later step fails")
            else:
                message = (f"'{comp.name}' undoes '{step.name}', but a failure after it can end the workflow "
                           f"without running it ({'; '.join(skips[:3])}{'; ...' if len(skips) > 3 else ''}): "
                           "the effect stays applied on that path")
            where = "compensation" if isinstance(step.state, MapState) else "side_effect/compensation"
            yield ctx.at(step, "compensation-reachable", message, where)


def _paths_skipping(ctx: Context, comp: Node, points: list[Node]) -> list[str] | None:
    """How failures at `points` can end the workflow without running `comp`, one phrase per point that can: a
    task or parallel state without any catch (its failure ends the scope), or a catch from which a `fail` state is
    reachable without entering `comp` (a walk over every edge, so a fallback that rejoins the forward path counts
    the later steps' catches too). None when a catch targets no state (`target-exists` reports it; no guess)."""
    fails = ctx.graph.terminals(comp.scope, "fail")
    skips: list[str] = []
    for point in points:
        starts = [ctx.graph.target(point, e.target) for e in ctx.graph.edges(point) if not e.forward]
        if None in starts:
            return None
        if not starts:
            if isinstance(point.state, TaskState | ParallelState | MapState):
                skips.append(f"'{point.name}' has no catch")
            continue
        # The walk enters `comp` but does not pass it (a catch straight to `comp` is covered), so every fail state
        # it lists is reachable without running the compensation.
        others = [s for s in starts if s is not None and s.name != comp.name]
        ends = [n.name for n in ctx.graph.walk(others, stop={comp.name}) if n.name in fails]
        if ends:
            skips.append(f"'{point.name}' can fail to '{ends[0]}' without it")
    return skips


@rule("settles-valid", "error", "A status check settles a task of its own or an enclosing scope, other than itself.")
def _settles_valid(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if not isinstance(state, TaskState) or state.settles is None:
            continue
        target = _resolve_compensation(node, state.settles)
        where = f"{node.pointer}/settles"
        if target is None:
            yield ctx.finding(
                "settles-valid",
                f"'{node.name}' settles '{state.settles}', which is no state it can see"
                f"{_suggest(state.settles, ctx.graph.nodes)}",
                where, node.name,
            )
        elif target is node or not isinstance(target.state, TaskState):
            what = "itself" if target is node else f"a {_kind(target)}"
            yield ctx.finding(
                "settles-valid", f"'{node.name}' settles {what}: a status check settles another task", where,
                node.name,
            )


_BRANCH_FAILURES = ("States.ALL", "States.TaskFailed", "States.BranchFailed")


def _branch_failure_caught(node: Node) -> bool:
    """Whether a branch failure of parallel `node` is caught: by its own catch, or, since an uncaught failure of a
    nested parallel fails the branch it runs in, by the catch of a parallel state that encloses it."""
    current: Node | None = node
    while current is not None:
        catches = getattr(current.state, "catch", [])
        if any(err in _BRANCH_FAILURES for c in catches for err in c.errors):
            return True
        current = current.scope.parent
    return False


@rule(
    "parallel-failure-handled",
    "error",
    "A parallel state whose branches commit compensatable effects catches branch failures, so the effects of the "
    "other branches are undone.",
)
def _parallel_failure_handled(ctx: Context) -> Iterator[Finding]:
    in_saga = {s for saga in ctx.design.sagas for s in saga.steps}
    for node in ctx.graph.all_nodes:
        state = node.state
        if not isinstance(state, ParallelState):
            continue
        effects = [
            t for t in _side_effect_tasks(node, ctx)
            if not t.state.side_effect.failure_path  # type: ignore[union-attr]
            and (t.state.side_effect.compensation or t.name in in_saga)  # type: ignore[union-attr]
        ]
        if not effects or _branch_failure_caught(node):
            continue
        yield ctx.at(
            node,
            "parallel-failure-handled",
            f"parallel '{node.name}' has no catch for a failing branch (States.ALL or States.TaskFailed), yet its "
            f"branches commit {', '.join(repr(t.name) for t in effects[:4])}: when one branch fails the others are "
            "cancelled and nothing undoes what they did",
            "catch",
        )


@rule(
    "side-effect-outside-saga",
    "info",
    "A side effect outside every declared saga, without a compensation, is listed (declare a saga, a compensation, "
    "failure_path, or not_a_saga).",
)
def _side_effect_outside_saga(ctx: Context) -> Iterator[Finding]:
    if ctx.design.not_a_saga:
        return
    in_saga = {s for saga in ctx.design.sagas for s in saga.steps}
    for node in ctx.graph.all_nodes:
        state = node.state
        if (
            isinstance(state, TaskState)
            and state.side_effect
            and not state.side_effect.compensation
            and not state.side_effect.failure_path
            and node.name not in in_saga
            and not any(m.name in in_saga or m.state.compensation for m in enclosing_maps(node))  # type: ignore[union-attr]
        ):
            yield ctx.at(
                node,
                "side-effect-outside-saga",
                f"task '{node.name}' has a side effect ({state.side_effect.description}) that no saga covers and "
                "nothing compensates: if it must be undone on failure, declare a saga or a compensation; if not, "
                "mark it failure_path or the workflow not_a_saga",
                "side_effect",
            )


@rule(
    "irreversible-effects",
    "error",
    "An irreversible effect in a saga is its pivot or after it (a compensation cannot undo it: a warning).",
)
def _irreversible(ctx: Context) -> Iterator[Finding]:
    pivots = {saga.name: ctx.graph.nodes.get(saga.pivot) if saga.pivot else None for saga in ctx.design.sagas}
    member_of = {step: saga.name for saga in ctx.design.sagas for step in saga.steps}
    for node in ctx.graph.all_nodes:
        state = node.state
        if not isinstance(state, TaskState) or not state.side_effect or not state.side_effect.irreversible:
            continue
        if state.side_effect.compensation:
            yield ctx.at(
                node,
                "irreversible-effects",
                f"'{node.name}' is irreversible ({state.side_effect.description}), yet names the compensation "
                f"'{state.side_effect.compensation}': nothing can undo it; model the follow-up as fix-forward",
                "side_effect/compensation",
                severity="warning",
            )
        saga = member_of.get(node.name)
        if saga is None:
            continue
        pivot = pivots[saga]
        if pivot is None or (pivot is not node and not ctx.precedes(pivot, node)):
            where = f"before the pivot '{pivot.name}'" if pivot else "in a saga without a pivot"
            yield ctx.at(
                node,
                "irreversible-effects",
                f"'{node.name}' is irreversible and comes {where} of saga '{saga}': a later failure cannot be "
                "compensated; make it the pivot (or move it after the pivot)",
                "side_effect/irreversible",
            )


@rule(
    "partial-effect-recoverable",
    "error",
    "An effect that can fail part-way has a compensation or is idempotent, so a failure never leaves half of it.",
)
def _partial(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if not isinstance(state, TaskState) or not state.side_effect or not state.side_effect.partial:
            continue
        if state.side_effect.compensation or _idempotent(state):
            continue
        yield ctx.at(
            node,
            "partial-effect-recoverable",
            f"'{node.name}' can fail part-way ({state.side_effect.description}) and has neither a compensation nor "
            "idempotency: a failure leaves part of the effect with no way to finish or undo it",
            "side_effect",
        )


_INPUT = re.compile(r"\$\.inputs\.([A-Za-z_][A-Za-z0-9_]*)")


@rule("inputs-declared", "error", "Decisions read only declared run inputs ($.inputs.<name>), when any are declared.")
def _inputs_declared(ctx: Context) -> Iterator[Finding]:
    declared = {i.name for i in ctx.design.inputs}
    if not declared:
        return
    for node, condition, pointer in _decisions(ctx):
        for text, where in _condition_texts(condition, pointer):
            for name in _INPUT.findall(text):
                if name not in declared:
                    yield ctx.finding(
                        "inputs-declared",
                        f"a decision in '{node.name}' reads $.inputs.{name}, which is not a declared input"
                        f"{_suggest(name, declared)}",
                        where,
                        node.name,
                    )


@rule("event-correlation", "info", "A wait for events says which value ties an event to its run (correlation_key).")
def _event_correlation(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if isinstance(state, WaitState) and state.events is not None and not state.correlation_key:
            yield ctx.at(
                node,
                "event-correlation",
                f"wait '{node.name}' has no correlation_key: with two runs in flight, which one gets "
                f"{', '.join(state.events) or 'the event'}?",
                "correlation_key",
            )


@rule("approval-audited", "info", "A human task with an approval policy writes an audit record.")
def _approval_audited(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if isinstance(state, HumanTaskState) and state.approval is not None and not state.audit:
            yield ctx.at(
                node,
                "approval-audited",
                f"human task '{node.name}' has an approval policy but no audit record: who approved, and when?",
                "audit",
            )


@rule(
    "retriable-after-pivot",
    "warning",
    "Steps after a saga's pivot have a retry policy: they cannot be compensated, so they must complete.",
)
def _retriable_after_pivot(ctx: Context) -> Iterator[Finding]:
    for saga_name, members, pivot, _ in _sagas(ctx):
        if pivot is None:
            continue
        for member in members:
            state = member.state
            if member is pivot or not isinstance(state, TaskState) or not ctx.precedes(pivot, member):
                continue
            if not _retries(state):
                yield ctx.at(
                    member,
                    "retriable-after-pivot",
                    f"'{member.name}' comes after the pivot '{pivot.name}' of saga '{saga_name}' and has no retry: "
                    "it cannot be compensated, so it must be retried until it succeeds",
                    "retry",
                )


# -- people, decisions, observability -------------------------------------------------------------------------------


@rule(
    "human-task-complete",
    "error",
    "Every human task has an owner, a positive deadline and an escalation that fires before the deadline.",
)
def _human_task(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if not isinstance(state, HumanTaskState):
            continue
        p = node.pointer
        if not state.owner:
            yield ctx.finding("human-task-complete", f"human task '{node.name}' has no owner", f"{p}/owner", node.name)
        if state.deadline_seconds is None or state.deadline_seconds <= 0:
            yield ctx.finding(
                "human-task-complete", f"human task '{node.name}' has no positive deadline_seconds",
                f"{p}/deadline_seconds", node.name,
            )
        if state.escalation is None:
            yield ctx.finding(
                "human-task-complete", f"human task '{node.name}' has no escalation: who acts when the owner does not?",
                f"{p}/escalation", node.name,
            )
        elif state.deadline_seconds is not None and state.escalation.after_seconds >= state.deadline_seconds:
            yield ctx.finding(
                "human-task-complete",
                f"human task '{node.name}' escalates after {state.escalation.after_seconds:g}s, not before its "
                f"deadline of {state.deadline_seconds:g}s",
                f"{p}/escalation/after_seconds",
                node.name,
            )


# Things a decision must not depend on, so that a replay of the same data takes the same path. Patterns cover
# JSONata ($now, $millis, $random: jsonata.org "Date/Time functions"), ASL context fields and intrinsics
# (EnteredTime, StartTime, States.UUID), and common calls in other expression languages.
_NONDETERMINISTIC = [
    ("the clock", re.compile(
        r"\$now\s*\(|\$millis\s*\(|\bnow\s*\(|\btoday\s*\(|Date\.now|\bcurrent_?(time|date|timestamp)\b|"
        r"\btime\.time\b|\bdatetime\.|\bEnteredTime\b|\bStartTime\b|\bclock\b", re.I)),
    ("randomness", re.compile(
        r"\$random\s*\(|\brand(om)?(int)?\s*\(|States\.UUID|\buuid\d?\s*\(|Math\.random|\bshuffle\s*\(", re.I)),
    ("I/O", re.compile(
        r"\bhttps?://|\bfetch\s*\(|\bopen\s*\(|\bread(_?file)?\s*\(|\bcurl\b|\bgetenv\b|\$env\b|os\.environ|"
        r"\brequests\.|\bselect\s.+\sfrom\s|\bquery\s*\(", re.I)),
]


def nondeterminism(text: str) -> str | None:
    """What in `text` makes a decision non-deterministic ('the clock', 'randomness', 'I/O'), or None."""
    for what, pattern in _NONDETERMINISTIC:
        if pattern.search(text):
            return what
    return None


def _condition_texts(condition: Condition, pointer: str) -> Iterator[tuple[str, str]]:
    """(text, pointer) of every variable, expression and string value in a condition tree (iteratively)."""
    stack = [(condition, pointer)]
    while stack:
        cond, where = stack.pop()
        if cond.variable is not None:
            yield cond.variable, f"{where}/variable"
        if cond.expression is not None:
            yield cond.expression, f"{where}/expression"
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        for v in values:
            if isinstance(v, str):
                yield v, f"{where}/value"
        for key in ("all", "any"):
            for i, child in enumerate(getattr(cond, key) or []):
                stack.append((child, f"{where}/{key}/{i}"))
        if cond.not_ is not None:
            stack.append((cond.not_, f"{where}/not"))


def _decisions(ctx: Context) -> Iterator[tuple[Node, Condition, str]]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if isinstance(state, ChoiceState):
            for i, choice in enumerate(state.choices):
                yield node, choice.condition, f"{node.pointer}/choices/{i}/condition"
        for i, t in enumerate(getattr(state, "transitions", [])):
            if t.guard is not None:
                yield node, t.guard, f"{node.pointer}/transitions/{i}/guard"


@rule(
    "deterministic-decisions",
    "error",
    "Choices and guards read only workflow data: no clock, randomness or I/O (a replay must take the same path).",
)
def _deterministic(ctx: Context) -> Iterator[Finding]:
    for node, condition, pointer in _decisions(ctx):
        for text, where in _condition_texts(condition, pointer):
            what = nondeterminism(text)
            if what:
                yield ctx.finding(
                    "deterministic-decisions",
                    f"a decision in '{node.name}' depends on {what} ({text[:80]!r}): compute the value in a task "
                    "and decide on the stored result",
                    where,
                    node.name,
                )


@rule("workflow-timeout", "warning", "The whole workflow has a positive timeout_seconds.")
def _workflow_timeout(ctx: Context) -> Iterator[Finding]:
    limit = ctx.design.timeout_seconds
    if limit is None or limit <= 0:
        yield ctx.finding(
            "workflow-timeout",
            "the workflow has no positive timeout_seconds: a stuck execution is never noticed",
            "/timeout_seconds",
        )


@rule("step-observability", "info", "Every task and human task emits at least one metric or alert.")
def _observability(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.all_nodes:
        state = node.state
        if isinstance(state, TaskState | HumanTaskState) and not state.metrics and not state.alerts:
            yield ctx.at(
                node,
                "step-observability",
                f"{_kind(node)} '{node.name}' emits no metric and has no alert",
                "metrics",
            )


# The map-state rules register after the rules above, so the table keeps its order; they use this module's helpers.
from . import map_rules as _map_rules  # noqa: E402,F401
