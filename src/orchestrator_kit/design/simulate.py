"""Deterministic fault injection: fail every step (transiently, permanently, by timeout) and follow the design.

For each (step, fault) the simulator walks the machine as written: retry policies (ASL semantics: the first policy
whose errors match, each with its own counter), catchers, compensation tasks, parallel branches, and the workflow
timeout. It records the path, the retries, the compensations run and their order, and decides whether the end state
is consistent. The fault model and the decision policy are listed in `ASSUMPTIONS` and returned with every report.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from .graph import DesignGraph, Edge, Node, Scope, error_matches, map_depth
from .load import MAX_STATES
from .model import (
    EXCEEDED_TOLERANCE,
    TASK_FAILED,
    TIMEOUT_ERROR,
    ChoiceState,
    Condition,
    FailState,
    HumanTaskState,
    MapState,
    ParallelState,
    SucceedState,
    TaskState,
    WaitState,
)
from .validate import retry_delay

HEARTBEAT_ERROR = "States.HeartbeatTimeout"
FaultKind = Literal["transient", "permanent", "timeout"]
FAULT_KINDS: tuple[FaultKind, ...] = ("transient", "permanent", "timeout")
Status = Literal["succeeded", "failed", "timed_out", "stuck", "loop", "broken"]

CONSISTENCY_FORMULA = (
    "consistent = the execution ended (not stuck, looping or broken) and no side effect was possibly applied twice "
    "without idempotency and compensations undid commits in reverse order and (it ended in a succeed state or every "
    "committed or possibly-committed side effect that must be undone was compensated); an effect must be undone "
    "when it declares a compensation or belongs to a declared saga, unless it is a failure-path effect or the "
    "workflow is not a saga"
)
ASSUMPTIONS = [
    "transient: the first attempt fails with the step's transient error (declared, else States.TaskFailed) before "
    "any effect; later attempts succeed",
    "permanent: every attempt fails with the step's permanent error (declared, else States.TaskFailed) before any "
    "effect",
    "timeout: every attempt stops answering and times out (at heartbeat_seconds when set, raising "
    "States.HeartbeatTimeout, else timeout_seconds or the human task deadline, raising States.Timeout; a wait for "
    "events times out at its timeout_seconds); its side effect may have been applied, so it counts as committed "
    "until compensated, and a status check (`settles`) that succeeds makes a later retry safe",
    "decisions (choices, guards, outcomes, events) take the option nearest to a succeed state, ties in written "
    "order, unless `decisions` names the target; a guard on `$$.visits.<state>` (times that state was entered) is "
    "evaluated, so a loop capped at N attempts ends after N",
    "paths: besides that default path, every alternative decision on it is explored once (at most "
    "MAX_EXPLORED_PATHS fault-free paths), and each step is failed on the first explored path that enters it",
    "parallel branches run concurrently: their commits are not ordered against each other (compensation order is "
    "checked against the causal order), and a failing branch fails after the other branches committed everything "
    "(the worst case for compensation); a retry of the parallel state runs every branch again",
    "recovery: after each single fault, every compensation or recovery step its failure path runs (not on the "
    "fault-free path) is failed too, permanently and by timeout, as a second fault",
    "an execution that enters one state more than LOOP_VISITS times and ends at the workflow timeout loops without "
    "a way out: inconsistent",
    "a partial effect (side_effect.partial) that fails may have been applied in part: it counts as possibly "
    "committed; past the point of no return (an irreversible effect or a saga's pivot committed), effects left "
    "applied on a path through a fix_forward step are the design's intent, not an inconsistency",
    "a map runs over a few symbolic items (summary.map_items: 3, or more so that one item can have committed "
    "when the map fails past its failure policy; fewer when its literal list or max_items is smaller), named "
    "<state>[i] (0-based) in paths and commits; items run concurrently (their commits are not ordered against "
    "each other) and a failing item fails after the others committed everything; a fault in a step inside a map "
    "hits one item, then as many as the failure policy tolerates, then one more (the last items); past the policy "
    "the map fails with States.ExceedToleratedFailureThreshold, and without one, with the first failed item's "
    "error; a map's compensation undoes every item that committed, latest commit first, and only those",
    "elapsed_seconds is a lower bound: successful steps take no time; it adds timeouts, retry delays (without "
    "jitter) and waits",
]


class RetryRecord(BaseModel):
    """Retries of one step in one scenario; delay_seconds sums the waits before them (ASL formula, no jitter)."""

    step: str
    error: str
    retries: int
    delay_seconds: float


class SecondFault(BaseModel):
    """A second fault, in a compensation or recovery step of the first fault's failure path."""

    step: str
    fault: FaultKind
    error: str


class Scenario(BaseModel):
    """One fault in one step (and possibly a second in its recovery), and what the design does about it."""

    step: str | None = Field(description="The failed step; null for the run without faults.")
    fault: FaultKind | None = None
    error: str | None = Field(default=None, description="The error the fault raises.")
    items: list[int] | None = Field(
        default=None, description="For a step inside a map: the items (0-based) the fault hits; null: every item."
    )
    then: SecondFault | None = Field(default=None, description="A second fault, in the failure path's recovery.")
    decisions: dict[str, str] = Field(default_factory=dict, description="Decisions fixed to reach this path.")
    status: Status
    end_state: str | None = None
    uncaught_error: str | None = None
    path: list[str] = Field(description="States entered, in order (branch states included).")
    retries: list[RetryRecord] = Field(default_factory=list)
    total_retries: int = 0
    committed: list[str] = Field(description="Side-effecting steps applied or possibly applied, in commit order.")
    uncertain: list[str] = Field(default_factory=list, description="Steps whose effect is unknown (timed out).")
    compensations: list[str] = Field(default_factory=list, description="Compensation tasks run, in order.")
    compensated: list[str] = Field(default_factory=list, description="Steps undone, in the order they were undone.")
    uncompensated: list[str] = Field(default_factory=list)
    duplicates: list[str] = Field(default_factory=list, description="Effects possibly applied twice, not idempotent.")
    compensation_order_ok: bool = True
    fixed_forward: bool = Field(
        default=False,
        description="Effects were left applied past the point of no return, on a path through a fix_forward step.",
    )
    consistent: bool
    reasons: list[str] = Field(default_factory=list, description="Why the end state is not consistent.")
    elapsed_seconds: float = Field(description="A lower bound; see assumptions.")
    trace: list[str] = Field(default_factory=list)
    omitted: dict[str, int] = Field(
        default_factory=dict,
        description="Entries left off the end of each list longer than SCENARIO_LISTED (nested maps multiply a "
        "run's steps); the verdict and the counts cover every entry.",
    )


class SimulationSummary(BaseModel):
    """Counts over the single-fault scenarios (the gate), and apart from them over the second faults: a failed
    compensation always leaves its effect applied, so those say which recoveries a person or a reconciliation must
    back up, not whether the design is sound."""

    steps: int = Field(description="Tasks, human tasks and waits for events that can fail.")
    scenarios: int = Field(description="Single-fault scenarios.")
    consistent: int
    inconsistent: int
    second_faults: int = Field(default=0, description="Scenarios with a second fault in a recovery step.")
    second_faults_inconsistent: int = Field(
        default=0, description="Second-fault scenarios that end with an effect applied or another inconsistency."
    )
    paths_explored: int = Field(default=1, description="Fault-free paths explored (bounded by MAX_EXPLORED_PATHS).")
    not_reached: list[str] = Field(
        default_factory=list,
        description="Not tested: steps no explored fault-free path enters (reached only after a fault, if at all); "
        "faults in recovery steps are covered by second faults.",
    )
    skipped: int = Field(
        default=0, description="Scenarios not run because the budget of simulated steps (max_total_steps) was spent."
    )
    map_items: dict[str, int] = Field(
        default_factory=dict, description="Each map state -> the number of symbolic items it was explored with."
    )
    formula: str = CONSISTENCY_FORMULA
    assumptions: list[str] = Field(default_factory=lambda: list(ASSUMPTIONS))


class SimulationReport(BaseModel):
    design: str
    happy_path: Scenario
    summary: SimulationSummary
    scenarios: list[Scenario]
    total_scenarios: int = Field(description="Scenarios after filtering, before paging.")
    next_cursor: int | None = None


@dataclass(frozen=True)
class Fault:
    step: str
    kind: FaultKind
    error: str
    items: frozenset[int] | None = None  # inside a map: the items of the innermost map it hits (None: every item)


MAX_EXPLORED_PATHS = 32
MAP_ITEMS = 3  # symbolic items per map: enough for one failure, one tolerated and one past the policy
MAX_MAP_ITEMS = 12
LOOP_VISITS = 3
_VISITS = "$$.visits."


# Outcomes of running a scope: it reached a terminal, raised an error, or the whole execution stopped.
@dataclass
class _End:
    node: Node


@dataclass
class _Raise:
    error: str


@dataclass
class _Stop:
    status: Status
    reason: str


_Outcome = _End | _Raise | _Stop
_MAX_RETRY_LOOP = 10_000
_MAX_ELAPSED = 1e18  # keeps absurd durations finite (and JSON-safe) in the report


@dataclass
class _Run:
    graph: DesignGraph
    faults: dict[str, Fault]
    decisions: dict[str, str]
    max_steps: int
    path: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    retries: dict[tuple[str, str], RetryRecord] = field(default_factory=dict)
    live: dict[str, int] = field(default_factory=dict)  # applied effects not undone -> commit number
    commit_log: list[str] = field(default_factory=list)
    applications: Counter[str] = field(default_factory=Counter)
    uncertain: list[str] = field(default_factory=list)
    compensations: list[str] = field(default_factory=list)
    compensated: list[str] = field(default_factory=list)
    order_ok: bool = True
    elapsed: float = 0.0
    steps: int = 0
    transient_used: set[str] = field(default_factory=set)
    commits: int = 0
    visits: Counter[str] = field(default_factory=Counter)
    # Causal order of commits: the commits that happened before the current point, and before each commit.
    context: frozenset[str] = frozenset()
    preds: dict[str, frozenset[str]] = field(default_factory=dict)
    # Inside a map: the current item of each enclosing map, outermost first; effects are kept per item.
    item: tuple[int, ...] = ()
    base: dict[str, str] = field(default_factory=dict)  # label (<state>[i]...) -> state name
    item_of: dict[str, tuple[int, ...]] = field(default_factory=dict)

    # -- helpers ------------------------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        if len(self.trace) < 500:
            self.trace.append(text)

    def label(self, node: Node) -> str:
        """The state's name, with the current item of each map around it (`migrate[2]`)."""
        depth = _depth(self.graph, node)
        if not depth:
            return node.name
        items = self.item[:depth]
        label = node.name + "".join(f"[{i}]" for i in items)
        self.base[label] = node.name
        self.item_of[label] = items
        return label

    def visits_here(self, name: str) -> int:
        """Times the state `name` was entered, in the current item when it is inside a map."""
        node = self.graph.nodes.get(name)
        return self.visits[self.label(node)] if node is not None else 0

    def fault_for(self, node: Node) -> Fault | None:
        fault = self.faults.get(node.name)
        if fault is None or fault.items is None or (self.item and self.item[-1] in fault.items):
            return fault
        return None

    def spend(self, seconds: float) -> _Stop | None:
        self.elapsed = min(self.elapsed + max(seconds, 0.0), _MAX_ELAPSED)
        limit = self.graph.design.timeout_seconds
        if limit is not None and limit > 0 and self.elapsed > limit:
            self.elapsed = limit
            return _Stop("timed_out", f"the workflow timeout of {limit:g}s passed")
        return None

    def decide(self, node: Node, edges: list[Edge]) -> Node | _Stop:
        counted = self.by_visits(node, edges)
        if counted is not None:
            return counted
        if node.name not in self.decisions:
            cache = self.graph.memo.setdefault("decisions", {})  # the policy depends on the graph only
            if id(node) not in cache:
                cache[id(node)] = self.choose(node, edges)
            return cache[id(node)]
        return self.choose(node, edges)

    def by_visits(self, node: Node, edges: list[Edge]) -> Node | _Stop | None:
        """When guards read `$$.visits.<state>`, evaluate them in written order as ASL would: the first one that
        holds wins; one that does not hold is left out. None when no guard of `edges` reads a visit count."""
        guards = [(e, _visit_guard(self.graph, node, e)) for e in edges]
        if all(g is None for _, g in guards):
            return None
        remaining = []
        for edge, guard in guards:
            value = guard(self.visits_here) if guard is not None else None
            if value is False:
                continue
            if value is True and not remaining:
                target = self.graph.target(node, edge.target)
                return target if target is not None else _Stop("broken", f"'{edge.target}' is no state")
            remaining.append(edge)
        return self.choose(node, remaining) if remaining else _Stop("broken", f"no way out of '{node.name}'")

    def choose(self, node: Node, edges: list[Edge]) -> Node | _Stop:
        usable = [(e, self.graph.target(node, e.target)) for e in edges]
        if node.name in self.decisions:
            wanted = self.decisions[node.name]
            for _, target in usable:
                if target is not None and target.name == wanted:
                    return target
            return _Stop("broken", f"the decision for '{node.name}' names '{wanted}', which it cannot go to")
        options = [(e, t) for e, t in usable if t is not None]
        if not options:
            missing = ", ".join(repr(e.target) for e in edges) or "nowhere"
            return _Stop("broken", f"'{node.name}' goes to {missing}: no such state")
        to_succeed, to_end = _distances(self.graph, node.scope)
        best = min(
            range(len(options)),
            key=lambda i: (
                to_succeed.get(options[i][1].name, math.inf),
                to_end.get(options[i][1].name, math.inf),
                i,
            ),
        )
        return options[best][1]

    def commit(self, node: Node, *, certain: bool) -> None:
        name = self.label(node)
        self.applications[name] += 1
        if name not in self.live:
            self.commits += 1
            self.live[name] = self.commits
            self.commit_log.append(name)
            self.preds[name] = self.context
            self.context = self.context | {name}
        if not certain and name not in self.uncertain:
            self.uncertain.append(name)

    def compensate(self, node: Node) -> None:
        """A compensation task succeeded: undo every live effect it compensates."""
        undoes = self.graph.compensated_by().get(node.name, [])
        if not undoes:
            return
        self.compensations.append(self.label(node))
        # A map's compensation undoes the effects of its items; one inside a map's processor, the current item's.
        names = undone_names(self.graph, undoes)
        scope = self.item[: _depth(self.graph, node)]
        undone = [
            s for s in self.live
            if self.base.get(s, s) in names and self.item_of.get(s, ())[: len(scope)] == scope
        ]
        undone.sort(key=lambda s: -self.live[s])  # one task undoing several effects undoes the latest first
        for step in undone:
            self.live.pop(step)
            if any(step in self.preds.get(other, ()) for other in self.live):
                self.order_ok = False  # undone while an effect committed after it is still applied: not LIFO
            self.compensated.append(step)
            self.note(f"{node.name}: undid {step}")
        if not undone:
            self.note(f"{node.name}: nothing to undo ({', '.join(undoes)} not applied)")

    # -- execution ----------------------------------------------------------------------------------------------

    def run_scope(self, scope: Scope) -> _Outcome:
        node = scope.nodes.get(scope.start_at)
        if node is None:
            return _Stop("broken", f"{scope.label} starts at '{scope.start_at}', which is no state")
        while True:
            self.steps += 1
            if self.steps > self.max_steps:
                if self.item:  # nested maps multiply their items: say so rather than call it a loop
                    return _Stop("loop", f"more than {self.max_steps} steps: nested maps run too many items to "
                                 "simulate (lower max_items or the nesting)")
                return _Stop("loop", f"more than {self.max_steps} steps: the execution loops")
            label = self.label(node)
            self.path.append(label)
            self.visits[label] += 1
            state = node.state
            if isinstance(state, SucceedState | FailState):
                return _End(node)
            if isinstance(state, ChoiceState):
                nxt = self.decide(node, self.graph.forward_edges(node))
            elif isinstance(state, WaitState):
                fault = self.fault_for(node)
                if fault is not None and state.events is not None:  # the event never comes
                    stop = self.spend(state.timeout_seconds or 0.0)
                    if stop:
                        return stop
                    self.note(f"{node.name}: no {', '.join(state.events)} within its timeout")
                    target = self.catch(node, TIMEOUT_ERROR)
                    if target is None:
                        return _Raise(TIMEOUT_ERROR)
                    nxt = target
                else:
                    stop = self.spend(state.seconds or 0.0)
                    if stop:
                        return stop
                    nxt = self.decide(node, self.graph.forward_edges(node))
            else:
                if isinstance(state, ParallelState):
                    result = self.run_parallel(node)
                elif isinstance(state, MapState):
                    result = self.run_map(node)
                else:
                    result = self.run_activity(node)
                if isinstance(result, _Stop):
                    return result
                if isinstance(result, _Raise):
                    target = self.catch(node, result.error)
                    if target is None:
                        return result
                    nxt = target
                else:
                    nxt = self.decide(node, self.graph.forward_edges(node))
            if isinstance(nxt, _Stop):
                return nxt
            node = nxt

    def catch(self, node: Node, error: str) -> Node | _Stop | None:
        for i, catcher in enumerate(getattr(node.state, "catch", [])):
            if any(error_matches(p, error) for p in catcher.errors):
                target = self.graph.target(node, catcher.target)
                if target is None:
                    return _Stop("broken", f"'{node.name}' catch {i} goes to '{catcher.target}': no such state")
                self.note(f"{node.name}: {error} caught -> {target.name}")
                return target
        self.note(f"{node.name}: {error} not caught")
        return None

    def run_activity(self, node: Node) -> _Raise | _Stop | None:
        """A task or human task: None on success, or the error it raises after its retries."""
        state = node.state
        if not isinstance(state, TaskState | HumanTaskState):
            raise TypeError(f"not an activity: {state.type}")
        fault = self.fault_for(node)
        label = self.label(node)
        if fault is None:
            self.succeed(node)
            return None
        counters: Counter[int] = Counter()
        attempt = 0
        while True:
            attempt += 1
            failing = fault is not None and (fault.kind != "transient" or label not in self.transient_used)
            if fault is None or not failing:
                self.succeed(node)
                return None
            if fault.kind == "transient":
                self.transient_used.add(label)
            if fault.kind == "timeout":
                stop = self.time_out(node, attempt)
                if stop:
                    return stop
            elif isinstance(state, TaskState) and state.side_effect and state.side_effect.partial:
                self.commit(node, certain=False)  # it failed part-way: some of the effect may be there
            self.note(f"{label}: attempt {attempt} failed ({fault.error})")
            policy_index = next(
                (i for i, p in enumerate(state.retry) if any(error_matches(e, fault.error) for e in p.errors)), None
            )
            if policy_index is None:
                return _Raise(fault.error)
            policy = state.retry[policy_index]
            limit = _MAX_RETRY_LOOP if policy.max_attempts is None else min(policy.max_attempts, _MAX_RETRY_LOOP)
            if counters[policy_index] >= limit:
                if policy.max_attempts is None:
                    return _Stop("stuck", f"'{node.name}' retries {fault.error} without limit")
                return _Raise(fault.error)
            counters[policy_index] += 1
            delay = retry_delay(policy, counters[policy_index])
            record = self.retries.setdefault(
                (label, fault.error), RetryRecord(step=label, error=fault.error, retries=0, delay_seconds=0)
            )
            record.retries += 1
            record.delay_seconds += delay
            stop = self.spend(delay)
            if stop:
                return stop

    def time_out(self, node: Node, attempt: int) -> _Stop | None:
        state = node.state
        if isinstance(state, TaskState):
            limits = [s for s in (state.heartbeat_seconds, state.timeout_seconds) if s is not None and s > 0]
        elif isinstance(state, HumanTaskState):
            limits = [state.deadline_seconds] if state.deadline_seconds and state.deadline_seconds > 0 else []
            esc = state.escalation
            if esc is not None and (not limits or esc.after_seconds < limits[0]):
                self.note(f"{node.name}: escalated to {esc.to} after {esc.after_seconds:g}s (attempt {attempt})")
        else:
            limits = []
        if isinstance(state, TaskState) and state.side_effect:
            self.commit(node, certain=False)
        if not limits:
            limit = self.graph.design.timeout_seconds
            if limit is not None and limit > 0:
                self.elapsed = limit
                return _Stop("timed_out", f"'{node.name}' hangs (no timeout) until the workflow timeout ({limit:g}s)")
            return _Stop("stuck", f"'{node.name}' hangs: it has no timeout and the workflow has none")
        return self.spend(min(limits))

    def succeed(self, node: Node) -> None:
        state = node.state
        if isinstance(state, TaskState) and state.side_effect:
            self.commit(node, certain=True)
        if isinstance(state, TaskState) and state.settles:
            target = self.graph.nodes.get(state.settles)
            settled = self.label(target) if target is not None else state.settles
            if settled in self.uncertain:
                self.uncertain.remove(settled)
                # The check tells whether the effect happened, so running the step again cannot apply it twice.
                self.applications[settled] = 0
                self.note(f"{node.name}: the outcome of {settled} is known")
        self.compensate(node)

    def run_parallel(self, node: Node) -> _Raise | _Stop | None:
        state = node.state
        if not isinstance(state, ParallelState):
            raise TypeError(f"not a parallel state: {state.type}")
        scopes = [s for s in self.graph.scopes if s.parent is node]
        counters: Counter[int] = Counter()
        while True:
            error: str | None = None
            start, ends = self.context, []
            for scope in scopes:
                self.context = start  # branches run concurrently: no branch's commits precede another's
                outcome = self.run_scope(scope)
                ends.append(self.context)
                self.context = frozenset().union(*ends)
                if isinstance(outcome, _Stop):
                    return outcome
                if isinstance(outcome, _Raise):
                    error = error or outcome.error
                elif isinstance(outcome.node.state, FailState):
                    error = error or outcome.node.state.error or "States.BranchFailed"
            if error is None:
                return None
            again = self.retry_whole(node, counters, error, "every branch")
            if again is not None:
                return again

    def run_map(self, node: Node) -> _Raise | _Stop | None:
        """Every item through the processor (concurrently: no item's commits precede another's), then the failure
        policy: more failed items than it tolerates fails the map."""
        state = node.state
        if not isinstance(state, MapState):
            raise TypeError(f"not a map state: {state.type}")
        scope = next(s for s in self.graph.scopes if s.parent is node)
        count = map_items(state)
        allowed = state.tolerated(count)
        counters: Counter[int] = Counter()
        outer = self.item
        while True:
            failed: list[tuple[int, str]] = []
            start, ends = self.context, []
            for index in range(count):
                self.item, self.context = (*outer, index), start
                outcome = self.run_scope(scope)
                self.item = outer
                ends.append(self.context)
                self.context = frozenset().union(*ends)
                if isinstance(outcome, _Stop):
                    return outcome
                if isinstance(outcome, _Raise):
                    failed.append((index, outcome.error))
                elif isinstance(outcome.node.state, FailState):
                    failed.append((index, outcome.node.state.error or TASK_FAILED))
            error: str | None = None
            if failed:
                over = len(failed) > allowed
                self.note(
                    f"{self.label(node)}: {len(failed)} of {count} items failed "
                    f"({', '.join(f'[{i}] {e}' for i, e in failed)}); "
                    + (f"tolerated: {allowed}" if state.has_tolerance else "no failure policy")
                )
                if not state.has_tolerance:
                    error = failed[0][1]
                elif over:
                    error = EXCEEDED_TOLERANCE
            if error is None:
                return None
            again = self.retry_whole(node, counters, error, "every item")
            if again is not None:
                return again

    def retry_whole(self, node: Node, counters: Counter[int], error: str, what: str) -> _Raise | _Stop | None:
        """A parallel or map state failed with `error`: None to run it again (after the delay), else the error or
        the stop."""
        state = node.state
        retry = getattr(state, "retry", [])
        policy_index = next((i for i, p in enumerate(retry) if any(error_matches(e, error) for e in p.errors)), None)
        if policy_index is None:
            return _Raise(error)
        policy = retry[policy_index]
        limit = _MAX_RETRY_LOOP if policy.max_attempts is None else min(policy.max_attempts, _MAX_RETRY_LOOP)
        if counters[policy_index] >= limit:
            return _Raise(error)
        counters[policy_index] += 1
        delay = retry_delay(policy, counters[policy_index])
        label = self.label(node)
        record = self.retries.setdefault(
            (label, error), RetryRecord(step=label, error=error, retries=0, delay_seconds=0)
        )
        record.retries += 1
        record.delay_seconds += delay
        self.note(f"{label}: retry {counters[policy_index]} of {what} after {error}")
        return self.spend(delay)


def map_items(state: MapState) -> int:
    """How many symbolic items the simulator runs a map over: the fewest n >= MAP_ITEMS (at most
    MAX_MAP_ITEMS) with tolerated(n) + 2 <= n, so that past its failure policy one item can still have committed
    (MAP_ITEMS when none fits, e.g. a 100% tolerance); never more than the map's bound."""
    count = next((n for n in range(MAP_ITEMS, MAX_MAP_ITEMS + 1) if state.tolerated(n) + 2 <= n), MAP_ITEMS)
    return count if state.bound is None else min(state.bound, count)


def _depth(graph: DesignGraph, node: Node) -> int:
    cache = graph.memo.setdefault("map_depth", {})
    if id(node) not in cache:
        cache[id(node)] = map_depth(node)
    return cache[id(node)]  # type: ignore[no-any-return]


def undone_names(graph: DesignGraph, undoes: list[str]) -> set[str]:
    """The state names whose effects a compensation undoes: the steps it names, and for a map every side-effecting
    task inside its processor (at any depth)."""
    names = set(undoes)
    for name in undoes:
        node = graph.nodes.get(name)
        if node is not None and isinstance(node.state, MapState):
            names |= {n.name for n in graph.inside(node) if isinstance(n.state, TaskState) and n.state.side_effect}
    return names


_ITEM_SUFFIX = re.compile(r"(\[\d+\])+$")


def state_name(graph: DesignGraph, label: str) -> str:
    """The state a path or commit label names: `migrate[2]` -> `migrate` (a state really named so wins)."""
    if label in graph.nodes:
        return label
    return _ITEM_SUFFIX.sub("", label)

def _distances(graph: DesignGraph, scope: Scope) -> tuple[dict[str, int], dict[str, int]]:
    """Per scope: forward distance to the nearest succeed state, and to the nearest terminal."""
    cache = graph.memo.setdefault("distances", {})
    key = id(scope)
    if key not in cache:
        cache[key] = (
            graph.distances_to(scope, graph.terminals(scope, "succeed")),
            graph.distances_to(scope, graph.terminals(scope)),
        )
    return cache[key]


def _idempotent(graph: DesignGraph, name: str) -> bool:
    node = graph.nodes.get(name)
    state = node.state if node else None
    return isinstance(state, TaskState) and state.idempotency is not None and state.idempotency.declared


_GuardFn = Callable[[Callable[[str], int]], bool | None]


def _visit_guard(graph: DesignGraph, node: Node, edge: Edge) -> _GuardFn | None:
    """A function of the visit counts for `edge`'s guard when it reads only `$$.visits.<state>` comparisons (with
    all/any/not), else None (the guard reads the workflow's data, which the simulator does not have)."""
    state = node.state
    condition = None
    if isinstance(state, ChoiceState) and edge.kind == "choice":
        index = int(edge.pointer.rsplit("/", 2)[-2])
        condition = state.choices[index].condition
    elif edge.kind == "transition" and edge.guarded:
        index = int(edge.pointer.rsplit("/", 2)[-2])
        condition = state.transitions[index].guard  # type: ignore[union-attr]
    if condition is None or not _reads_only_visits(condition):
        return None
    return lambda visits: _evaluate(condition, visits)


def _reads_only_visits(c: Condition) -> bool:
    if c.all is not None or c.any is not None:
        return bool(c.all or c.any) and all(_reads_only_visits(x) for x in (c.all or c.any or []))
    if c.not_ is not None:
        return _reads_only_visits(c.not_)
    return (
        c.variable is not None
        and c.variable.startswith(_VISITS)
        and c.op in ("eq", "ne", "lt", "le", "gt", "ge")
        and isinstance(c.value, int | float)
        and not isinstance(c.value, bool)
    )


def _evaluate(c: Condition, visits: Callable[[str], int]) -> bool:
    if c.all is not None:
        return all(_evaluate(x, visits) for x in c.all)
    if c.any is not None:
        return any(_evaluate(x, visits) for x in c.any)
    if c.not_ is not None:
        return not _evaluate(c.not_, visits)
    count = visits((c.variable or "")[len(_VISITS):])
    value = float(c.value)  # type: ignore[arg-type]
    return {
        "eq": count == value, "ne": count != value, "lt": count < value,
        "le": count <= value, "gt": count > value, "ge": count >= value,
    }[c.op or "eq"]


def _must_undo(graph: DesignGraph, name: str) -> bool:
    """Whether an effect left applied at a failed end is an inconsistency: sagas are what the design declares, so
    only an effect with a declared compensation or in a declared saga must be undone; never an intended failure-path
    effect, nor any effect of a workflow that says it is not a saga."""
    if graph.design.not_a_saga:
        return False
    node = graph.nodes.get(name)
    effect = node.state.side_effect if node is not None and isinstance(node.state, TaskState) else None
    if node is None or effect is None or effect.failure_path:
        return False
    in_saga = {s for saga in graph.design.sagas for s in saga.steps}
    if effect.compensation or name in in_saga:
        return True
    parent = node.scope.parent  # an item's effect inside a map that a saga or a compensation covers
    while parent is not None:
        if isinstance(parent.state, MapState) and (parent.state.compensation or parent.name in in_saga):
            return True
        parent = parent.scope.parent
    return False


def _fixed_forward(graph: DesignGraph, run: _Run) -> bool:
    """Whether the run went past the point of no return (an irreversible effect, or a saga's pivot, committed) and
    then through a step that fixes forward (`fix_forward: true`), so effects left applied are the design's intent."""
    pivots = {saga.pivot for saga in graph.design.sagas if saga.pivot}
    past = False
    for name in (run.base.get(label, label) for label in run.commit_log):
        node = graph.nodes.get(name)
        effect = node.state.side_effect if node is not None and isinstance(node.state, TaskState) else None
        if name in pivots or (effect is not None and effect.irreversible):
            past = True
    if not past:
        return False
    return any(
        getattr(graph.nodes[name].state, "fix_forward", False)
        for name in (run.base.get(label, label) for label in run.path) if name in graph.nodes
    )


def run_scenario(
    graph: DesignGraph,
    fault: Fault | None,
    decisions: dict[str, str] | None = None,
    then: Fault | None = None,
) -> Scenario:
    """Run the design once, with at most one fault (and `then`, a second one in a recovery step), and judge the
    end state."""
    max_steps = max(1000, 20 * _weighted_states(graph))
    faults = {f.step: f for f in (fault, then) if f is not None}
    run = _Run(graph=graph, faults=faults, decisions=dict(decisions or {}), max_steps=max_steps)
    outcome = run.run_scope(graph.root)
    end_state = None
    uncaught = None
    reasons: list[str] = []
    if isinstance(outcome, _End):
        end_state = outcome.node.name
        status: Status = "succeeded" if isinstance(outcome.node.state, SucceedState) else "failed"
    elif isinstance(outcome, _Raise):
        status, uncaught = "failed", outcome.error
        run.note(f"the workflow fails with {outcome.error}: no catcher")
    else:
        status = outcome.status
        run.note(outcome.reason)
        if status != "timed_out":
            reasons.append(outcome.reason)
        else:
            looped = [name for name, n in run.visits.items() if n > LOOP_VISITS]
            if looped:
                reasons.append(
                    f"the execution loops ({', '.join(repr(n) for n in looped[:3])} entered up to "
                    f"{max(run.visits[n] for n in looped)} times) and ends only at the workflow timeout"
                )
    duplicates = [s for s, n in run.applications.items() if n > 1 and not _idempotent(graph, run.base.get(s, s))]
    reasons += [
        f"'{s}' may have applied its side effect {run.applications[s]} times (not idempotent)" for s in duplicates
    ]
    if not run.order_ok:
        reasons.append("compensations did not undo commits in reverse order")
    uncompensated = (
        [] if status == "succeeded"
        else [s for s in sorted(run.live, key=run.live.__getitem__) if _must_undo(graph, run.base.get(s, s))]
    )
    fixed_forward = bool(uncompensated) and _fixed_forward(graph, run)
    if fixed_forward:
        run.note(f"past the point of no return; left to fix forward: {', '.join(uncompensated)}")
    elif uncompensated:
        ended = f"ended in '{end_state}'" if end_state else f"failed with {uncaught}"
        how = {"timed_out": "timed out", "failed": ended}
        how_text = how.get(status, "stopped")
        reasons.append(f"the workflow {how_text} with side effects still applied: {', '.join(uncompensated)}")
    retries = list(run.retries.values())
    return Scenario(
        step=fault.step if fault else None,
        items=sorted(fault.items) if fault and fault.items is not None else None,
        fault=fault.kind if fault else None,
        error=fault.error if fault else None,
        then=SecondFault(step=then.step, fault=then.kind, error=then.error) if then else None,
        decisions=dict(decisions or {}),
        status=status,
        end_state=end_state,
        uncaught_error=uncaught,
        path=run.path,
        retries=retries,
        total_retries=sum(r.retries for r in retries),
        committed=run.commit_log,
        uncertain=run.uncertain,
        compensations=run.compensations,
        compensated=run.compensated,
        uncompensated=uncompensated,
        duplicates=duplicates,
        compensation_order_ok=run.order_ok,
        fixed_forward=fixed_forward,
        consistent=not reasons,
        reasons=reasons,
        elapsed_seconds=round(run.elapsed, 3),
        trace=run.trace,
    )


def faults_for(node: Node, kinds: tuple[FaultKind, ...] | list[FaultKind]) -> list[Fault]:
    """The faults injected into one step: one per declared transient and permanent error, and one timeout (a
    missed heartbeat when the task heartbeats). A wait for events can only time out."""
    state = node.state
    declared = state.errors if isinstance(state, TaskState) else None
    faults: list[Fault] = []
    for kind in kinds:
        if kind == "timeout":
            heartbeat = isinstance(state, TaskState) and state.heartbeat_seconds is not None
            faults.append(Fault(node.name, kind, HEARTBEAT_ERROR if heartbeat else TIMEOUT_ERROR))
            continue
        if isinstance(state, WaitState):
            continue
        names = (declared.transient if kind == "transient" else declared.permanent) if declared else []
        faults.extend(Fault(node.name, kind, error) for error in (names or [TASK_FAILED]))
    return faults


def item_faults(graph: DesignGraph, node: Node, faults: list[Fault]) -> list[Fault]:
    """Inside a map, each fault hits the last k of the innermost map's items, for k = 1, the number the map's
    failure policy tolerates, and one more (those within 1..items); outside a map, the faults as they are."""
    parent = node.scope.parent
    while parent is not None and not isinstance(parent.state, MapState):
        parent = parent.scope.parent
    if parent is None or not isinstance(parent.state, MapState):
        return faults
    count = map_items(parent.state)
    allowed = parent.state.tolerated(count)
    hits = sorted({k for k in (1, allowed, allowed + 1) if 1 <= k <= count})
    return [
        Fault(f.step, f.kind, f.error, frozenset(range(count - k, count))) for f in faults for k in hits
    ]


def _weighted_states(graph: DesignGraph) -> int:
    """States, each counted once per item of every map around it (a state in a map of 3 runs 3 times), capped at
    MAX_STATES so one scenario's steps stay bounded as for the largest design without maps."""
    if "weighted_states" not in graph.memo:
        total = 0
        for node in graph.all_nodes:
            weight, parent = 1, node.scope.parent
            while parent is not None and weight <= MAX_STATES:
                if isinstance(parent.state, MapState):
                    weight *= max(map_items(parent.state), 1)
                parent = parent.scope.parent
            total = min(total + weight, MAX_STATES)
        graph.memo["weighted_states"] = total
    return graph.memo["weighted_states"]  # type: ignore[no-any-return]


def explored_items(graph: DesignGraph) -> dict[str, int]:
    """Each map state's name -> the number of symbolic items the simulator runs it over."""
    return {n.name: map_items(n.state) for n in graph.all_nodes if isinstance(n.state, MapState)}


# Simulated state entries over all scenarios of one call (about 4 microseconds each): the cost grows with
# steps x path length, so a design of thousands of states would otherwise take minutes.
DEFAULT_MAX_TOTAL_STEPS = 1_000_000


@dataclass
class SimulationRun:
    happy: Scenario
    scenarios: list[Scenario]
    not_reached: list[str]
    skipped: int
    paths_explored: int = 1


def _faultable(node: Node) -> bool:
    state = node.state
    return isinstance(state, TaskState | HumanTaskState) or (isinstance(state, WaitState) and state.events is not None)


def _explore(graph: DesignGraph, happy: Scenario, decisions: dict[str, str]) -> list[Scenario]:
    """Fault-free paths besides the default one: each other option of each decision on the default path, once
    (at most MAX_EXPLORED_PATHS paths in all, the default included)."""
    paths: list[Scenario] = []
    seen: set[tuple[str, ...]] = {tuple(happy.path)}
    for name in dict.fromkeys(state_name(graph, label) for label in happy.path):
        node = graph.nodes.get(name)
        if node is None or name in decisions:
            continue
        edges = graph.forward_edges(node)
        if len({e.target for e in edges}) < 2 or not isinstance(node.state, ChoiceState | HumanTaskState | WaitState
                                                                | TaskState | ParallelState):
            continue
        for target in dict.fromkeys(e.target for e in edges):
            if len(paths) + 1 >= MAX_EXPLORED_PATHS:
                return paths
            scenario = run_scenario(graph, None, {**decisions, name: target})
            key = tuple(scenario.path)
            if key not in seen:
                seen.add(key)
                paths.append(scenario)
    return paths


def simulate(
    graph: DesignGraph,
    *,
    faults: list[FaultKind] | None = None,
    steps: list[str] | None = None,
    decisions: dict[str, str] | None = None,
    max_total_steps: int = DEFAULT_MAX_TOTAL_STEPS,
) -> SimulationRun:
    """The fault-free run, one scenario per fault of every reached step (in design order, until `max_total_steps`
    state entries are spent), and the steps never reached without a fault."""
    kinds = tuple(dict.fromkeys(faults)) if faults else FAULT_KINDS
    fixed = dict(decisions or {})
    happy = run_scenario(graph, None, fixed)
    alternatives = _explore(graph, happy, fixed)
    # The decisions that first reach each state: the default path's, else the first alternative that enters it.
    reach: dict[str, dict[str, str]] = {}
    for path in [happy, *alternatives]:
        for label in path.path:
            reach.setdefault(state_name(graph, label), path.decisions)
    run = SimulationRun(happy=happy, scenarios=[], not_reached=[], skipped=0, paths_explored=1 + len(alternatives))
    spent = len(happy.path) + sum(len(p.path) for p in alternatives)
    wanted = set(steps) if steps else None
    # Compensations are recovery steps even where a decision (a rejection) runs them without a fault: they are
    # failed as second faults, with the other recovery steps.
    undo = set(graph.compensated_by())
    firsts: list[tuple[Fault | None, Scenario]] = [
        (None, p) for p in alternatives if undo & {state_name(graph, label) for label in p.path}
    ]
    for node in graph.all_nodes:
        if not _faultable(node) or node.name in undo:
            continue
        if wanted is not None and node.name not in wanted:
            continue
        if node.name not in reach:
            if not (wanted is not None and any(node.name in {state_name(graph, x) for x in s.path} for _, s in firsts)):
                run.not_reached.append(node.name)
            continue
        for fault in item_faults(graph, node, faults_for(node, kinds)):
            if spent >= max_total_steps:
                run.skipped += 1
                continue
            scenario = run_scenario(graph, fault, reach[node.name])
            spent += len(scenario.path)
            run.scenarios.append(scenario)
            firsts.append((fault, scenario))
    # Second faults: each recovery step a failure path runs (one no fault-free path enters) fails too.
    second_kinds = [k for k in kinds if k != "transient"]
    tried: set[tuple[str, ...]] = set()
    for fault, first in firsts:
        for name in dict.fromkeys(state_name(graph, label) for label in first.path):
            node = graph.nodes.get(name)
            if node is None or (name in reach and name not in undo) or not _faultable(node):
                continue
            if (fault is not None and name == fault.step) or (wanted is not None and name not in wanted):
                continue
            for second in faults_for(node, second_kinds):
                first_key = (fault.step, fault.kind, fault.error, str(fault.items)) if fault else ("", "", "", "")
                key = (*first_key, name, second.kind, second.error)
                if key in tried:
                    continue
                tried.add(key)
                if spent >= max_total_steps:
                    run.skipped += 1
                    continue
                scenario = run_scenario(graph, fault, first.decisions, then=second)
                if fault is None:
                    scenario = scenario.model_copy(update={"step": None})
                spent += len(scenario.path)
                run.scenarios.append(scenario)
    return run
