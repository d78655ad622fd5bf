"""The design as a graph: scopes (the workflow, each parallel branch, each map's item processor), nodes with their
locations, and edges.

Every other module walks this, so that "where does this state go" is answered in one place. A target is looked up
in the scope of its state only (a branch cannot jump out, as in ASL). Edges are *forward* (transitions, choice
rules, a choice's default: what happens when things go as designed) or *catch* (after an error).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .model import (
    TERMINAL_TYPES,
    ChoiceState,
    HumanTaskState,
    MapState,
    ParallelState,
    State,
    TaskState,
    WaitState,
    WorkflowDesign,
)

EdgeKind = Literal["transition", "choice", "default", "catch"]


@dataclass(frozen=True)
class Edge:
    """source -> target; `pointer` locates the field that names the target."""

    source: str
    target: str
    kind: EdgeKind
    label: str
    pointer: str
    guarded: bool = False

    @property
    def forward(self) -> bool:
        return self.kind != "catch"


@dataclass(eq=False)
class Node:
    state: State
    pointer: str
    scope: Scope
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.state.name  # read on every step of every simulated path: an attribute, not a property


@dataclass
class Scope:
    """The workflow itself (pointer ""), one branch of a parallel state, or the item processor of a map state (run
    once per item: `parent` is the map)."""

    pointer: str
    label: str
    start_at: str
    start_pointer: str
    parent: Node | None = None
    nodes: dict[str, Node] = field(default_factory=dict)  # first state of each name
    all_nodes: list[Node] = field(default_factory=list)  # every state, duplicates included


class DesignGraph:
    """Scopes, nodes and edges of a design, built once."""

    def __init__(self, design: WorkflowDesign) -> None:
        self.design = design
        self.scopes: list[Scope] = []
        self.nodes: dict[str, Node] = {}
        self.all_nodes: list[Node] = []
        self._edges: dict[int, list[Edge]] = {}
        self.memo: dict[str, Any] = {}  # derived facts other modules compute once per design (distances, ...)
        root = Scope(pointer="", label="the workflow", start_at=design.start_at, start_pointer="/start_at")
        self.root = root
        self._add_scope(root, design.states, "/states")

    def _add_scope(self, scope: Scope, states: list[State], pointer: str) -> None:
        self.scopes.append(scope)
        for index, state in enumerate(states):
            node = Node(state=state, pointer=f"{pointer}/{index}", scope=scope)
            scope.all_nodes.append(node)
            scope.nodes.setdefault(state.name, node)
            self.all_nodes.append(node)
            self.nodes.setdefault(state.name, node)
            if isinstance(state, ParallelState):
                for b_index, branch in enumerate(state.branches):
                    b_pointer = f"{node.pointer}/branches/{b_index}"
                    child = Scope(
                        pointer=b_pointer,
                        label=f"branch '{branch.name}' of '{state.name}'",
                        start_at=branch.start_at,
                        start_pointer=f"{b_pointer}/start_at",
                        parent=node,
                    )
                    self._add_scope(child, branch.states, f"{b_pointer}/states")
            elif isinstance(state, MapState):
                p_pointer = f"{node.pointer}/processor"
                child = Scope(
                    pointer=p_pointer,
                    label=f"the item processor of map '{state.name}'",
                    start_at=state.processor.start_at,
                    start_pointer=f"{p_pointer}/start_at",
                    parent=node,
                )
                self._add_scope(child, state.processor.states, f"{p_pointer}/states")

    # -- edges --------------------------------------------------------------------------------------------------

    def edges(self, node: Node) -> list[Edge]:
        """Every edge out of `node`, in the order written (transitions or choice rules, default, catchers)."""
        key = id(node)
        if key not in self._edges:
            self._edges[key] = list(_edges_of(node))
        return self._edges[key]

    def forward_edges(self, node: Node) -> list[Edge]:
        return [e for e in self.edges(node) if e.forward]

    def target(self, node: Node, name: str) -> Node | None:
        """The state `name` as seen from `node` (same scope), or None."""
        return node.scope.nodes.get(name)

    def successors(self, node: Node, *, forward_only: bool = False) -> Iterator[Node]:
        for edge in self.edges(node):
            if forward_only and not edge.forward:
                continue
            target = self.target(node, edge.target)
            if target is not None:
                yield target

    # -- walks --------------------------------------------------------------------------------------------------

    def reachable(self, scope: Scope, *, forward_only: bool = False) -> set[str]:
        """Names reachable from the scope's start state (breadth-first walk)."""
        start = scope.nodes.get(scope.start_at)
        return {n.name for n in self.walk([start] if start else [], forward_only=forward_only)}

    def walk(self, starts: Iterable[Node], *, forward_only: bool = False, stop: set[str] | None = None) -> list[Node]:
        """Nodes reachable from `starts` (included), breadth first; nodes named in `stop` are entered, not passed."""
        first = list(starts)
        start_names = {n.name for n in first}
        seen: dict[str, Node] = {n.name: n for n in first}
        queue = deque(first)
        while queue:
            node = queue.popleft()
            if stop and node.name in stop and node.name not in start_names:
                continue
            for nxt in self.successors(node, forward_only=forward_only):
                if nxt.name not in seen:
                    seen[nxt.name] = nxt
                    queue.append(nxt)
        return list(seen.values())

    def can_reach(self, scope: Scope, goals: set[str], *, forward_only: bool = True) -> set[str]:
        """Names in `scope` from which some state in `goals` can be reached (reverse breadth-first walk)."""
        predecessors: dict[str, set[str]] = {name: set() for name in scope.nodes}
        for node in scope.nodes.values():
            for nxt in self.successors(node, forward_only=forward_only):
                predecessors[nxt.name].add(node.name)
        found = {g for g in goals if g in scope.nodes}
        queue = deque(found)
        while queue:
            name = queue.popleft()
            for pred in predecessors.get(name, ()):
                if pred not in found:
                    found.add(pred)
                    queue.append(pred)
        return found

    def distances_to(self, scope: Scope, goals: set[str]) -> dict[str, int]:
        """Fewest forward edges from each state of `scope` to a state in `goals` (absent: cannot reach one)."""
        predecessors: dict[str, set[str]] = {name: set() for name in scope.nodes}
        for node in scope.nodes.values():
            for nxt in self.successors(node, forward_only=True):
                predecessors[nxt.name].add(node.name)
        dist = {g: 0 for g in goals if g in scope.nodes}
        queue = deque(dist)
        while queue:
            name = queue.popleft()
            for pred in predecessors.get(name, ()):
                if pred not in dist:
                    dist[pred] = dist[name] + 1
                    queue.append(pred)
        return dist

    def terminals(self, scope: Scope, kind: str | None = None) -> set[str]:
        return {
            n.name
            for n in scope.nodes.values()
            if n.state.type in TERMINAL_TYPES and (kind is None or n.state.type == kind)
        }

    def inside(self, node: Node) -> list[Node]:
        """Every state inside a parallel or map state's branches or processor, nested scopes included."""
        found: list[Node] = []
        parents = [node]
        while parents:
            current = parents.pop()
            for scope in self.scopes:
                if scope.parent is current:
                    found.extend(scope.all_nodes)
                    parents.extend(scope.all_nodes)
        return found

    def compensated_by(self) -> dict[str, list[str]]:
        """Compensation state name -> the steps whose side effect it undoes (in the order the steps are written);
        a map's compensation undoes the map, that is every item's effects."""
        if "compensated_by" in self.memo:
            return self.memo["compensated_by"]
        result: dict[str, list[str]] = {}
        self.memo["compensated_by"] = result
        for node in self.all_nodes:
            state = node.state
            if isinstance(state, TaskState) and state.side_effect and state.side_effect.compensation:
                result.setdefault(state.side_effect.compensation, []).append(state.name)
            elif isinstance(state, MapState) and state.compensation:  # undoes every item that committed
                result.setdefault(state.compensation, []).append(state.name)
        return result


def _edges_of(node: Node) -> Iterator[Edge]:
    state = node.state
    p = node.pointer
    if isinstance(state, ChoiceState):
        for i, rule in enumerate(state.choices):
            yield Edge(state.name, rule.target, "choice", rule.condition.describe(), f"{p}/choices/{i}/target", True)
        if state.default is not None:
            yield Edge(state.name, state.default, "default", "default", f"{p}/default")
        return
    if isinstance(state, TaskState | HumanTaskState | ParallelState | MapState | WaitState):
        for i, t in enumerate(state.transitions):
            label = t.event + (f" [{t.guard.describe()}]" if t.guard else "")
            yield Edge(state.name, t.target, "transition", label, f"{p}/transitions/{i}/target", t.guard is not None)
        for i, c in enumerate(state.catch):
            yield Edge(state.name, c.target, "catch", "catch " + ", ".join(c.errors), f"{p}/catch/{i}/target")


def map_depth(node: Node) -> int:
    """How many map states enclose `node` (0 outside every map's processor)."""
    depth = 0
    parent = node.scope.parent
    while parent is not None:
        depth += isinstance(parent.state, MapState)
        parent = parent.scope.parent
    return depth


def is_terminal(state: State) -> bool:
    return state.type in TERMINAL_TYPES


TIMEOUTS = ("States.Timeout", "States.HeartbeatTimeout")


def error_matches(pattern: str, error: str) -> bool:
    """Whether an `errors` entry matches a raised error, as in ASL: `States.ALL` matches everything,
    `States.TaskFailed` everything but the timeouts, and `States.Timeout` also a missed heartbeat
    (`States.HeartbeatTimeout`, which only its own name and those two match; docs.aws.amazon.com/step-functions,
    "Error names")."""
    if pattern == error or pattern == "States.ALL":
        return True
    if pattern == "States.Timeout":
        return error == "States.HeartbeatTimeout"
    return pattern == "States.TaskFailed" and error not in TIMEOUTS


def reach_masks(names: list[str], successors: dict[str, list[str]], value: dict[str, int]) -> dict[str, int]:
    """For each node, the OR of `value` over every node reachable from it by one or more edges.

    Linear in nodes and edges (times the width of the masks): strongly connected components (Tarjan's algorithm,
    iterative, so deep graphs do not exhaust the stack), then one pass over the components in reverse topological
    order, which is the order Tarjan's algorithm completes them in. A node on a cycle reaches itself.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    components: list[list[str]] = []
    for root in names:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            children = successors.get(node, [])
            if child < len(children):
                work.append((node, child + 1))
                nxt = children[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = len(components)
                    members.append(member)
                    if member == node:
                        break
                components.append(members)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    acc = [0] * len(components)
    for c, members in enumerate(components):  # successors' components are always completed first
        total = 0
        cyclic = len(members) > 1 or any(m in successors.get(m, []) for m in members)
        for m in members:
            if cyclic:
                total |= value.get(m, 0)
            for nxt in successors.get(m, []):
                other = component[nxt]
                if other != c:
                    total |= value.get(nxt, 0) | acc[other]
        acc[c] = total
    return {name: acc[component[name]] for name in names}
