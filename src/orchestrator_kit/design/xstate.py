"""Export to an XState v5 machine configuration (JSON), for teams that run their workflows in JavaScript.

Mapping (stately.ai/docs): task -> `invoke` of `src: <action>` with `onDone` (the `done` transitions) and `onError`
(the catchers, each guarded by `errorMatches` with its error names); other events -> `on`; timeouts, deadlines and
timer waits -> delayed transitions (`after`, in milliseconds); choice -> eventless `always` transitions; parallel ->
`type: "parallel"` with one region per branch and `onDone`; succeed and fail -> `type: "final"` (fail tagged
`failed`). Guards are named (`condition`, with the condition text as a parameter): the machine's user implements them.
XState has no retry policies: they are kept in `meta.retry`, with side effects, compensation and idempotency.

So that the machine runs as the design means:

* state keys are the names with `.` replaced by `_` (XState reads a dot as a path into child states), made unique;
  the original name is kept in `meta.name` when it changed;
* each invoke has an `id` (its state's key), so its error event is `xstate.error.actor.<key>`: a parallel state's
  catchers become `on` transitions for the error events of the tasks in its branches (an error a task does not
  catch itself reaches its parallel ancestor), and a `fail` state inside a branch jumps (`always`, by `#id`) to the
  parallel's catch target for its error instead of ending its region as if it had succeeded;
* a map is a compound state that runs its processor once per item, one item after another: `item` holds the
  processor's states, `next` asks the named guard `mapHasMoreItems` whether to run `item` again, and a failed item
  (a task error the processor does not catch, or its `fail` state) goes to `failed_item`, which asks
  `mapWithinTolerance` (the failure policy, in its params) whether to go on; past it, the map's catch target for
  States.ExceedToleratedFailureThreshold (without a policy: for States.TaskFailed) by `#id`, else an enclosing
  parallel state's, else a generated top-level final state `<map>_failed` tagged `failed`. The named actions
  `mapStart`, `mapItemDone` and `mapItemFailed` count items; the machine's user implements these five (the test
  harness has a reference implementation). `max_concurrency` and the rest of the map are kept in `meta.map`;
* a wait `until` a timestamp is a named delay (`after: {"until_<path>": ...}`): the machine's user supplies it in
  `delays`, as a function of the context that returns the milliseconds left.

Checked in CI by running the exported machines in XState itself (tests/design/xstate_harness.mjs).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .graph import DesignGraph, Node, Scope, error_matches
from .model import (
    TIMEOUT_ERROR,
    ChoiceState,
    Condition,
    FailState,
    HumanTaskState,
    MapState,
    ParallelState,
    SucceedState,
    TaskState,
    Transition,
    WaitState,
)


class XStateExport(BaseModel):
    design: str
    machine: dict[str, Any]
    notes: list[str] = Field(default_factory=list)


def _guard(condition: Condition | None) -> dict[str, Any] | None:
    if condition is None:
        return None
    return {"type": "condition", "params": {"condition": condition.describe()}}


def _transition(target: str, guard: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"target": target}
    if guard:
        out["guard"] = guard
    return out


def _by_event(transitions: list[Transition]) -> dict[str, list[dict[str, Any]]]:
    """Transitions grouped by event, guarded ones first in written order, the unguarded fallback last."""
    grouped: dict[str, list[Transition]] = {}
    for t in transitions:
        grouped.setdefault(t.event, []).append(t)
    return {
        event: [_transition(t.target, _guard(t.guard)) for t in sorted(ts, key=lambda t: t.guard is None)]
        for event, ts in grouped.items()
    }


def _timeout_target(node: Node) -> str | None:
    for catcher in getattr(node.state, "catch", []):
        if any(error_matches(e, TIMEOUT_ERROR) for e in catcher.errors):
            return catcher.target
    return None


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _state_keys(graph: DesignGraph) -> dict[str, str]:
    """Each state name -> its key in the machine: dots (XState's path separator) become `_`, made unique."""
    keys: dict[str, str] = {}
    used: set[str] = set()
    for node in graph.all_nodes:
        if node.name in keys:
            continue
        key = node.name.replace(".", "_")
        if key != node.name or key in used:
            base, n = key, 2
            while key in used or (key != node.name and key in graph.nodes):
                key = f"{base}_{n}"
                n += 1
        keys[node.name] = key
        used.add(key)
    return keys


class _Exporter:
    def __init__(self, graph: DesignGraph) -> None:
        self.graph = graph
        self.notes: list[str] = []
        self.keys = _state_keys(graph)
        self.root_extra: dict[str, dict[str, Any]] = {}  # generated top-level states (an uncaught map failure)
        # state name -> the `id` it gets as a parallel's catch target (known before any state is written)
        self.catch_ids: dict[str, str] = {}
        for node in graph.all_nodes:
            if isinstance(node.state, ParallelState | MapState):
                for catcher in node.state.catch:
                    target = node.scope.nodes.get(catcher.target)
                    if target is not None:
                        self.catch_ids[target.name] = "catch_" + self.key(target.name)

    def key(self, name: str) -> str:
        return self.keys.get(name, name.replace(".", "_"))

    def retarget(self, transitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**t, "target": self.key(t["target"])} for t in transitions]

    def scope(self, scope: Scope) -> dict[str, Any]:
        states = {}
        for n in scope.all_nodes:
            body = self.state(n)
            if n.name in self.catch_ids:
                body = {"id": self.catch_ids[n.name], **body}
            if self.key(n.name) != n.name:
                body.setdefault("meta", {})["name"] = n.name
            states[self.key(n.name)] = body
        return {"initial": self.key(scope.start_at), "states": states}

    def parallel_catch(self, node: Node, error: str | None) -> str | None:
        """The catch target, as `#id`, of the nearest parallel ancestor of `node` whose catchers match `error`."""
        parent = node.scope.parent
        while parent is not None:
            for catcher in getattr(parent.state, "catch", []):
                if any(error_matches(e, error or "States.TaskFailed") for e in catcher.errors):
                    target = parent.scope.nodes.get(catcher.target)
                    return "#" + self.catch_ids[target.name] if target is not None else None
            parent = parent.scope.parent
        return None

    def branch_tasks(self, node: Node) -> list[Node]:
        """Tasks inside a parallel state's branches, at any depth."""
        found: list[Node] = []
        for scope in self.graph.scopes:
            current = scope.parent
            while current is not None and current is not node:
                current = current.scope.parent
            if current is node:
                found.extend(n for n in scope.all_nodes if isinstance(n.state, TaskState))
        return found

    def state(self, node: Node) -> dict[str, Any]:
        state = node.state
        out: dict[str, Any] = {}
        if state.description:
            out["description"] = state.description
        if isinstance(state, SucceedState):
            out["type"] = "final"
            return out
        if isinstance(state, FailState):
            in_map = node.scope.parent is not None and isinstance(node.scope.parent.state, MapState)
            if in_map:  # the item failed: the map's failure policy decides
                out["always"] = [{"target": f"#{self._map_id(node.scope.parent)}.failed_item"}]  # type: ignore[arg-type]
                out["meta"] = {"error": state.error, "cause": state.cause, "fails_item": True}
                return out
            jump = self.parallel_catch(node, state.error) if node.scope.parent is not None else None
            if jump is not None:
                out["always"] = [{"target": jump}]
                out["meta"] = {"error": state.error, "cause": state.cause, "fails_branch": True}
                return out
            out.update({"type": "final", "tags": ["failed"]})
            if state.error:
                out["meta"] = {"error": state.error, "cause": state.cause}
            if node.scope.parent is not None:
                self.notes.append(
                    f"fail '{state.name}' ends its branch as final (no catcher of the parallel state matches it)"
                )
            return out
        if isinstance(state, ChoiceState):
            always = [_transition(self.key(c.target), _guard(c.condition)) for c in state.choices]
            if state.default is not None:
                always.append(_transition(self.key(state.default)))
            out["always"] = always
            return out
        events = {e: self.retarget(ts) for e, ts in _by_event(getattr(state, "transitions", [])).items()}
        on_error = [
            _transition(self.key(c.target), {"type": "errorMatches", "params": {"errors": list(c.errors)}})
            for c in getattr(state, "catch", [])
        ]
        after: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        limit: float | None = None
        if isinstance(state, TaskState):
            invoke: dict[str, Any] = {"id": self.key(state.name), "src": state.action}
            if "done" in events:
                invoke["onDone"] = events.pop("done")
            if on_error:
                invoke["onError"] = on_error
            out["invoke"] = invoke
            limit = state.timeout_seconds
            if state.side_effect:
                meta["side_effect"] = state.side_effect.model_dump(
                    mode="json", exclude_none=True, exclude_defaults=True
                )
            if state.idempotency:
                meta["idempotency"] = state.idempotency.model_dump(mode="json", exclude_none=True)
        elif isinstance(state, HumanTaskState):
            limit = state.deadline_seconds
            meta["owner"] = state.owner
            if state.escalation:
                meta["escalation"] = state.escalation.model_dump(mode="json")
        elif isinstance(state, WaitState):
            limit = state.seconds if state.seconds is not None else state.timeout_seconds
            if state.seconds is not None and "done" in events:
                after[str(_ms(state.seconds))] = events.pop("done")
                limit = None
            if state.until is not None and "done" in events:
                delay = "until_" + "".join(ch if ch.isalnum() else "_" for ch in state.until).strip("_")
                after[delay] = events.pop("done")
                meta["until"] = state.until
                self.notes.append(
                    f"wait '{state.name}' until {state.until}: the named delay '{delay}' (supply it in `delays`: "
                    "the milliseconds until that time)"
                )
        elif isinstance(state, MapState):
            out.update(self.map(node, state, on_error))
            if "done" in events:
                out["onDone"] = events.pop("done")
            meta["map"] = state.model_dump(
                mode="json", include={"items_path", "items", "max_items", "max_concurrency", "tolerated_failure_count",
                                      "tolerated_failure_percentage", "compensation"}, exclude_none=True,
            )
            self.notes.append(
                f"map '{state.name}': XState runs its items one after another; implement the guards mapHasMoreItems "
                "and mapWithinTolerance and the actions mapStart, mapItemDone and mapItemFailed"
            )
            on_error = []
        elif isinstance(state, ParallelState):
            out["type"] = "parallel"
            out["states"] = {
                self._branch_name(s): self.scope(s)
                for s in self.graph.scopes
                if s.parent is node
            }
            if "done" in events:
                out["onDone"] = events.pop("done")
            if on_error:
                # A task's error that the task does not catch reaches this state as xstate.error.actor.<its id>.
                for task in self.branch_tasks(node):
                    events[f"xstate.error.actor.{self.key(task.name)}"] = on_error
        if limit is not None and limit > 0:
            target = _timeout_target(node)
            if target is not None:
                after[str(_ms(limit))] = [_transition(self.key(target))]
        if events:
            out["on"] = events
        if after:
            out["after"] = after
        retry = getattr(state, "retry", [])
        if retry:
            meta["retry"] = [p.model_dump(mode="json") for p in retry]
            self.notes.append(f"'{state.name}': XState has no retry policies; kept in meta.retry")
        if meta:
            out["meta"] = meta
        return out

    def failed_state(self, node: Node, error: str) -> str:
        """A generated top-level final state, tagged failed, for an error nothing catches (its key is its id)."""
        base = key = f"{self.key(node.name)}_failed"
        n = 2
        while key in self.keys.values() or key in self.root_extra:
            key, n = f"{base}_{n}", n + 1
        self.root_extra[key] = {"id": key, "type": "final", "tags": ["failed"], "meta": {"error": error}}
        self.notes.append(f"map '{node.name}': nothing catches its failure; it ends the machine in '{key}' (failed)")
        return key

    def _map_id(self, node: Node) -> str:
        return "map_" + self.key(node.name)

    def map(self, node: Node, state: MapState, on_error: list[dict[str, Any]]) -> dict[str, Any]:
        """The compound state that runs the processor once per item (see the module docstring)."""
        processor = next(s for s in self.graph.scopes if s.parent is node)
        params = {"map": self.key(node.name)}
        item = self.scope(processor)
        # A task error the processor does not catch fails the item (it reaches `item` as xstate.error.actor.<id>).
        item["on"] = {
            f"xstate.error.actor.{self.key(t.name)}": [{"target": "failed_item"}]
            for t in processor.all_nodes if isinstance(t.state, TaskState)
        }
        item["onDone"] = [{"target": "next", "actions": [{"type": "mapItemDone", "params": params}]}]
        error = "States.ExceedToleratedFailureThreshold" if state.has_tolerance else "States.TaskFailed"
        target = next(
            (c.target for c in state.catch if any(error_matches(e, error) for e in c.errors)), None
        )
        over: dict[str, Any]
        jump = self.parallel_catch(node, error) if node.scope.parent is not None else None
        if target is not None and node.scope.nodes.get(target) is not None:
            over = {"target": "#" + self.catch_ids[target]}
        elif jump is not None:  # uncaught here: the error reaches the parallel state around the map
            over = {"target": jump}
        else:  # uncaught anywhere: the workflow fails (a final state of the whole machine, tagged failed)
            key = self.failed_state(node, error)
            over = {"target": "#" + key}
        policy = {"count": state.tolerated_failure_count, "percentage": state.tolerated_failure_percentage}
        return {
            "id": self._map_id(node),
            "initial": "item",
            "entry": [{"type": "mapStart", "params": params}],
            "states": {
                "item": item,
                "failed_item": {
                    "entry": [{"type": "mapItemFailed", "params": params}],
                    "always": [
                        {"target": "next", "guard": {"type": "mapWithinTolerance", "params": {**params, **policy}}},
                        over,
                    ],
                },
                "next": {"always": [
                    {"target": "item", "guard": {"type": "mapHasMoreItems", "params": params}},
                    {"target": "finished"},
                ]},
                "finished": {"type": "final"},
            },
        }

    def _branch_name(self, scope: Scope) -> str:
        index = int(scope.pointer.rsplit("/", 1)[-1])
        parent = scope.parent.state if scope.parent is not None else None
        return parent.branches[index].name if isinstance(parent, ParallelState) else scope.pointer


def export(graph: DesignGraph) -> XStateExport:
    exporter = _Exporter(graph)
    machine = {"id": graph.design.name, **exporter.scope(graph.root)}
    machine["states"].update(exporter.root_extra)
    if graph.design.description:
        machine["description"] = graph.design.description
    return XStateExport(design=graph.design.name, machine=machine, notes=exporter.notes)
