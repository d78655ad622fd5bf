"""Mermaid diagrams of a design: the state machine (`stateDiagram-v2`) and the saga with its compensations
(`sequenceDiagram`).

Ids are generated (`s0`, `p1`, ...) so any state name is safe; every label goes through `mermaid_text`, which
replaces the characters Mermaid's grammar reads with look-alikes (`<=` becomes `≤`, `"` becomes `'`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from .graph import DesignGraph, Node, Scope
from .model import FailState, HumanTaskState, MapState, ParallelState, SucceedState, TaskState
from .simulate import DEFAULT_MAX_TOTAL_STEPS, Scenario, run_scenario, state_name, undone_names
from .simulate import faults_for as _faults_for

DiagramKind = Literal["state", "saga"]
DIAGRAM_KINDS: tuple[DiagramKind, ...] = ("state", "saga")
_MAX_LABEL = 120

# Characters Mermaid's grammars or its HTML labels read, replaced by look-alikes. Mermaid's entity codes (`#lt;`)
# would be exact, but mmdc 11 shows them literally once a long edge label wraps, so look-alikes it is.
_LOOKALIKES = str.maketrans({
    '"': "'", ";": ",", "#": "＃", "<": "＜", ">": "＞", "&": "＆", "%": "％", "{": "(", "}": ")", "|": "¦",
    "\\": "∖", "`": "'",
})


class Diagram(BaseModel):
    """A Mermaid diagram of one design."""

    design: str
    kind: DiagramKind
    mermaid: str

    def markdown(self) -> str:
        return f"```mermaid\n{self.mermaid}```\n"


def mermaid_text(text: str, limit: int = _MAX_LABEL, *, note: bool = False) -> str:
    """Text safe inside a Mermaid label: one line, at most `limit` characters, special characters as look-alikes.
    In a note (`note right of s : text`) a colon also ends the text for Mermaid (mmdc 11 fails on `team:payments`),
    so it becomes the look-alike `∶` there."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 3] + "..."
    flat = flat.replace("<=", "≤").replace(">=", "≥").replace("!=", "≠").replace("-->", "→").replace("->>", "→")
    flat = flat.translate(_LOOKALIKES)
    return flat.replace(":", "∶") if note else flat


def state_diagram(graph: DesignGraph) -> str:
    """`stateDiagram-v2`: states (parallel branches as concurrent regions), transitions labelled with their event
    and guard, choice rules with their condition, catchers with their errors; failure, compensation and human
    states styled apart."""
    ids = {id(node): f"s{i}" for i, node in enumerate(graph.all_nodes)}
    compensations = set(graph.compensated_by())
    lines = ["stateDiagram-v2"]
    _scope_lines(graph, graph.root, ids, lines, indent="    ")
    styles: dict[str, list[str]] = {"failure": [], "compensation": [], "human": []}
    for node in graph.all_nodes:
        if isinstance(node.state, FailState):
            styles["failure"].append(ids[id(node)])
        elif node.name in compensations:
            styles["compensation"].append(ids[id(node)])
        elif isinstance(node.state, HumanTaskState):
            styles["human"].append(ids[id(node)])
    colours = {
        "failure": "fill:#f8d7da,stroke:#c0392b",
        "compensation": "fill:#fff3cd,stroke:#b7950b",
        "human": "fill:#d6eaf8,stroke:#2e86c1",
    }
    for name, members in styles.items():
        if members:
            lines.append(f"    classDef {name} {colours[name]}")
            lines.append(f"    class {','.join(members)} {name}")
    return "\n".join(lines) + "\n"


def _scope_lines(graph: DesignGraph, scope: Scope, ids: dict[int, str], lines: list[str], indent: str) -> None:
    for node in scope.all_nodes:
        sid = ids[id(node)]
        state = node.state
        if state.type == "choice":
            lines.append(f"{indent}state {sid} <<choice>>")
            continue
        label = mermaid_text(_state_label(node))
        if isinstance(state, ParallelState) and state.branches:
            lines.append(f'{indent}state "{label}" as {sid} {{')
            branch_scopes = [s for s in graph.scopes if s.parent is node]
            for i, branch_scope in enumerate(branch_scopes):
                if i:
                    lines.append(f"{indent}    --")
                _scope_lines(graph, branch_scope, ids, lines, indent + "    ")
            lines.append(f"{indent}}}")
        elif isinstance(state, MapState):
            lines.append(f'{indent}state "{label}" as {sid} {{')
            for processor in (s for s in graph.scopes if s.parent is node):
                _scope_lines(graph, processor, ids, lines, indent + "    ")
            lines.append(f"{indent}}}")
        else:
            lines.append(f'{indent}state "{label}" as {sid}')
    start = scope.nodes.get(scope.start_at)
    if start is not None:
        lines.append(f"{indent}[*] --> {ids[id(start)]}")
    for node in scope.all_nodes:
        sid = ids[id(node)]
        for edge in graph.edges(node):
            target = graph.target(node, edge.target)
            if target is not None:
                lines.append(f"{indent}{sid} --> {ids[id(target)]} : {mermaid_text(edge.label)}")
        if isinstance(node.state, SucceedState | FailState):
            lines.append(f"{indent}{sid} --> [*]")
        if isinstance(node.state, HumanTaskState):
            note = _human_note(node.state)
            if note:
                lines.append(f"{indent}note right of {sid} : {mermaid_text(note, note=True)}")


def _state_label(node: Node) -> str:
    state = node.state
    if isinstance(state, FailState) and state.error:
        return f"{state.name} ({state.error})"
    if isinstance(state, TaskState) and state.side_effect and state.side_effect.compensation:
        return f"{state.name} (undo: {state.side_effect.compensation})"
    if isinstance(state, MapState):
        return f"{state.name} ({map_summary(state)})"
    return state.name


def map_summary(state: MapState) -> str:
    """`each of $.inputs.tenants, up to 500, 25 at a time, tolerates 2 failed, undo: restore_all`."""
    source = state.items_path if state.items is None else f"{len(state.items)} items"
    parts = [f"each of {source}"]
    if state.max_items is not None:
        parts.append(f"up to {state.max_items}")
    parts.append(f"{state.max_concurrency} at a time" if state.max_concurrency else "all at once")
    if state.tolerated_failure_count is not None:
        parts.append(f"tolerates {state.tolerated_failure_count} failed")
    if state.tolerated_failure_percentage is not None:
        parts.append(f"tolerates {state.tolerated_failure_percentage:g}% failed")
    if state.compensation:
        parts.append(f"undo: {state.compensation}")
    return ", ".join(parts)


def _human_note(state: HumanTaskState) -> str:
    parts = []
    if state.owner:
        parts.append(f"owner {state.owner}")
    if state.deadline_seconds is not None:
        parts.append(f"deadline {_duration(state.deadline_seconds)}")
    if state.escalation is not None:
        parts.append(f"escalates to {state.escalation.to} after {_duration(state.escalation.after_seconds)}")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def saga_diagram(graph: DesignGraph) -> str:
    """`sequenceDiagram` of the fault-free run (workflow <-> services and people), and after each step an `opt`
    block with what the design does when that step fails permanently or times out: the compensations it runs, in
    order, and where it ends. Computed by the simulator, so the picture is what the design really does."""
    happy = run_scenario(graph, None)
    participants: dict[str, str] = {}
    lines = ["sequenceDiagram", "    participant wf as Workflow"]
    body: list[str] = []

    def participant(node: Node) -> str:
        state = node.state
        if isinstance(state, TaskState):
            name, actor = state.participant, False
        elif isinstance(state, HumanTaskState):
            name, actor = state.owner or "person", True
        else:
            return "wf"
        key = ("actor:" if actor else "participant:") + name
        if key not in participants:
            pid = f"p{len(participants)}"
            participants[key] = pid
            lines.append(f"    {'actor' if actor else 'participant'} {pid} as {mermaid_text(name)}")
        return participants[key]

    spent = 0
    failed_already: set[str] = set()
    for name in happy.path:
        node = graph.nodes.get(state_name(graph, name))
        if node is None or not isinstance(node.state, TaskState | HumanTaskState):
            if node is not None and isinstance(node.state, SucceedState | FailState):
                body.append(f"    Note over wf: {mermaid_text(name)} ({node.state.type})")
            continue
        pid = participant(node)
        state = node.state
        request = state.action if isinstance(state, TaskState) else "decide"
        body.append(f"    wf->>{pid}: {mermaid_text(name)} ({mermaid_text(request)})")
        body.append(f"    {pid}-->>wf: done")
        if node.name in failed_already:
            continue  # another item of a map: its failures are the same state's, shown once
        failed_already.add(node.name)
        seen: set[tuple[tuple[str, ...], str | None]] = set()
        for fault in _faults_for(node, ["permanent", "timeout"]):
            if spent >= DEFAULT_MAX_TOTAL_STEPS:
                body.append(f"    Note over wf: {mermaid_text(f'failure blocks after {name} left out (too large)')}")
                break
            scenario = run_scenario(graph, fault)
            spent += len(scenario.path)
            key = (tuple(scenario.compensations), scenario.end_state)
            if key in seen:
                continue
            seen.add(key)
            body.extend(_failure_block(graph, scenario, participant))
    return "\n".join(lines + body) + "\n"


def _failure_block(graph: DesignGraph, scenario: Scenario, participant: Callable[[Node], str]) -> list[str]:
    """What runs after the failed step gives up: catch routes, people, and compensations (with what they undo)."""
    how = "times out" if scenario.fault == "timeout" else f"fails ({scenario.error})"
    lines = [f"    opt {mermaid_text(f'{scenario.step} {how}')}"]
    bases = [state_name(graph, label) for label in scenario.path]
    # From the first entry of the failed step: in a map, every item's failure path follows.
    after = bases.index(scenario.step) + 1 if scenario.step in bases else 0
    undoes = graph.compensated_by()
    undone_so_far = list(scenario.compensated)
    for name, base in zip(scenario.path[after:], bases[after:], strict=True):
        node = graph.nodes.get(base)
        if node is None or not isinstance(node.state, TaskState | HumanTaskState):
            continue
        label = name
        if base in undoes:
            names = undone_names(graph, undoes[base])
            item = name[len(base):]  # a compensation inside a map undoes its own item's effects only
            undone = [s for s in undone_so_far if state_name(graph, s) in names and s[len(state_name(graph, s)):]
                      .startswith(item)]
            undone_so_far = [s for s in undone_so_far if s not in undone]
            label += f" (undo {', '.join(undone)})" if undone else " (nothing to undo)"
        lines.append(f"        wf->>{participant(node)}: {mermaid_text(label)}")
    end = scenario.end_state or scenario.uncaught_error or scenario.status
    verdict = "consistent" if scenario.consistent else "INCONSISTENT"
    lines.append(f"        Note over wf: {mermaid_text(f'ends: {end} ({scenario.status}), {verdict}')}")
    lines.append("    end")
    return lines


def render(graph: DesignGraph, kind: DiagramKind) -> str:
    return state_diagram(graph) if kind == "state" else saga_diagram(graph)
