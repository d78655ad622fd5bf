"""Export to an XState v5 machine configuration (JSON), for teams that run their workflows in JavaScript.

Mapping (stately.ai/docs): task -> `invoke` of `src: <action>` with `onDone` (the `done` transitions) and `onError`
(the catchers, each guarded by `errorMatches` with its error names); other events -> `on`; timeouts, deadlines and
timer waits -> delayed transitions (`after`, in milliseconds); choice -> eventless `always` transitions; parallel ->
`type: "parallel"` with one region per branch and `onDone`; succeed and fail -> `type: "final"` (fail tagged
`failed`). Guards are named (`condition`, with the condition text as a parameter): the machine's user implements them.
XState has no retry policies: they are kept in `meta.retry`, with side effects, compensation and idempotency.
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


class _Exporter:
    def __init__(self, graph: DesignGraph) -> None:
        self.graph = graph
        self.notes: list[str] = []

    def scope(self, scope: Scope) -> dict[str, Any]:
        return {"initial": scope.start_at, "states": {n.name: self.state(n) for n in scope.all_nodes}}

    def state(self, node: Node) -> dict[str, Any]:
        state = node.state
        out: dict[str, Any] = {}
        if state.description:
            out["description"] = state.description
        if isinstance(state, SucceedState):
            out["type"] = "final"
            return out
        if isinstance(state, FailState):
            out.update({"type": "final", "tags": ["failed"]})
            if state.error:
                out["meta"] = {"error": state.error, "cause": state.cause}
            return out
        if isinstance(state, ChoiceState):
            always = [_transition(c.target, _guard(c.condition)) for c in state.choices]
            if state.default is not None:
                always.append(_transition(state.default))
            out["always"] = always
            return out
        events = _by_event(getattr(state, "transitions", []))
        on_error = [
            _transition(c.target, {"type": "errorMatches", "params": {"errors": list(c.errors)}})
            for c in getattr(state, "catch", [])
        ]
        after: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        limit: float | None = None
        if isinstance(state, TaskState):
            invoke: dict[str, Any] = {"src": state.action}
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
            if state.until is not None:
                self.notes.append(f"wait '{state.name}' until {state.until}: XState cannot wait for a timestamp (meta)")
                meta["until"] = state.until
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
                self.notes.append(f"parallel '{state.name}': catchers kept in meta (XState regions do not raise)")
                meta["catch"] = [c.model_dump(mode="json") for c in state.catch]
        if limit is not None and limit > 0:
            target = _timeout_target(node)
            if target is not None:
                after[str(_ms(limit))] = [_transition(target)]
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

    def _branch_name(self, scope: Scope) -> str:
        index = int(scope.pointer.rsplit("/", 1)[-1])
        parent = scope.parent.state if scope.parent is not None else None
        return parent.branches[index].name if isinstance(parent, ParallelState) else scope.pointer


def export(graph: DesignGraph) -> XStateExport:
    exporter = _Exporter(graph)
    machine = {"id": graph.design.name, **exporter.scope(graph.root)}
    if graph.design.description:
        machine["description"] = graph.design.description
    return XStateExport(design=graph.design.name, machine=machine, notes=exporter.notes)
