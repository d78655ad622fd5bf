"""Export a design to the CI runtime a team already has: a GitHub Actions workflow or a GitLab CI pipeline, checked
by the same validators as the automation we write (YAML, the bundled JSON schemas, zizmor, ShellCheck).

The mapping, so a validated design is one reviewed diff away from running:

* every task on the forward path is a job, in dependency order (`needs`); its work is a script the team writes,
  `scripts/workflow/<state>.sh` (the design names an action, not a command), run in a shell loop that makes the
  design's retries: 1 + max_attempts tries with the ASL delays of the retry policy that catches task failures;
  `timeout-minutes` / `timeout` from `timeout_seconds` (rounded up to whole minutes);
* a human task is a job bound to an environment named after its owner: GitHub's required reviewers (or GitLab's
  `when: manual` with protected environments) are the approval; the deadline and escalation cannot be said in CI
  and go to `notes`;
* a parallel state's branches become jobs that run side by side; the next job needs each branch's last job;
* a map (GitHub only) is one matrix job over its items (`fromJSON(inputs.<name>)` or the literal list), its
  processor's tasks the job's steps in order, `max-parallel` from `max_concurrency`; without a failure policy (or
  tolerating 0) `fail-fast: true` (one failing item stops the others and fails the map, as ASL does), tolerating
  100% `continue-on-error` on every item; any other tolerance, a processor that branches or catches, items from
  an earlier step's data, and GitLab (`parallel: matrix` has no limit on items at once) are refused by name;
* a timer wait is a `sleep` job (hosted runners stop a job after 6 hours: longer waits are refused);
* compensations become jobs that run only when the forward run failed, in reverse order of the commits they undo,
  each only when the job whose effect it undoes succeeded (GitHub: `if:` on `needs.<job>.result`; GitLab:
  `when: on_failure` stages, which run after any earlier failure: compensations are idempotent, so that is safe);
* `concurrency` keeps two runs of the workflow from interleaving, without cancelling one midway (a saga must not
  stop between a commit and its compensation).

Choices, guarded transitions, waits for events, nested parallel states and loops have no faithful CI form: such a
design is refused with the states named, rather than exported with a behaviour it does not have.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..automation.github import ACTION_PINS
from ..automation.results import Finding as ValidatorFinding
from ..automation.yamlout import dump
from ..errors import InputError
from .graph import DesignGraph, Node
from .model import (
    TASK_FAILED,
    ChoiceState,
    FailState,
    HumanTaskState,
    MapState,
    ParallelState,
    RetryPolicy,
    SucceedState,
    TaskState,
    WaitState,
)
from .validate import retry_delays

CiTarget = Literal["github-actions", "gitlab-ci"]
HOSTED_JOB_LIMIT_SECONDS = 6 * 3600  # GitHub-hosted and GitLab.com shared runners stop a job after 6 hours
DEFAULT_JOB_MINUTES = 60  # for a task without timeout_seconds (the validator reports the missing timeout)
# Top-level keys GitLab reads as pipeline settings (or, `pages`, as the Pages deployment): a job named so would
# replace the pipeline's stages or variables, so no job key may be one of them.
GITLAB_RESERVED_KEYS = frozenset({
    "after_script", "before_script", "cache", "default", "image", "include", "pages", "services", "spec", "stages",
    "types", "variables", "workflow",
})


class CiExport(BaseModel):
    """A CI definition made from a design, where it goes, what the validators say of it, and what CI cannot say."""

    design: str
    target: CiTarget
    path: str = Field(description="Where the file goes in the repository.")
    text: str
    scripts: list[str] = Field(description="The step scripts the jobs run, for the team to write.")
    notes: list[str] = Field(default_factory=list)
    valid: bool = Field(description="True when no validator reported an error.")
    findings: list[ValidatorFinding] = Field(default_factory=list)
    checked: list[str] = Field(default_factory=list, description="The validators that ran.")


class _Job:
    def __init__(self, node: Node, key: str) -> None:
        self.node = node
        self.key = key
        self.needs: list[str] = []


def _key(name: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "step"
    if not base[0].isalpha() and base[0] != "_":
        base = "s-" + base
    key, n = base, 2
    while key in used:
        key, n = f"{base}-{n}", n + 1
    used.add(key)
    return key


class _Plan:
    """The forward jobs in dependency order and the compensation jobs in the order they must run."""

    def __init__(
        self, graph: DesignGraph, reserved: frozenset[str] = frozenset(), target: CiTarget = "github-actions"
    ) -> None:
        self.graph = graph
        self.notes: list[str] = []
        self.used: set[str] = set(reserved)  # job keys taken, and keys the target reads as something else
        pairs = _pairs(graph)
        comp_names = {c.name for c, _ in pairs}
        start = graph.root.nodes.get(graph.root.start_at)
        if start is None:  # an unvalidated design (an ASL import, a draft): refuse, never a KeyError
            raise InputError(
                f"start_at {graph.root.start_at!r} names no state of the design: fix it (design validate says where)"
            )
        forward = list(graph.walk([start], forward_only=True))
        refused = []
        for node in forward:
            state = node.state
            if isinstance(state, ChoiceState) or any(t.guard for t in getattr(state, "transitions", [])):
                refused.append(f"'{node.name}' (a decision)")
            elif isinstance(state, WaitState) and state.events is not None:
                refused.append(f"'{node.name}' (a wait for events)")
            elif isinstance(state, WaitState) and (state.seconds or 0) > HOSTED_JOB_LIMIT_SECONDS:
                refused.append(f"'{node.name}' (a wait over 6 hours)")
            elif isinstance(state, WaitState) and state.until is not None:
                refused.append(f"'{node.name}' (a wait until a timestamp)")
            elif isinstance(state, ParallelState):
                for scope in (s for s in graph.scopes if s.parent is node):
                    for inner in scope.all_nodes:
                        if not isinstance(inner.state, TaskState | HumanTaskState | SucceedState | FailState):
                            refused.append(f"'{inner.name}' (a {inner.state.type} inside a branch)")
            elif isinstance(state, MapState):
                refused.extend(_map_refusals(graph, node, target))
        if refused:
            raise InputError(
                "this design has no faithful CI form: " + ", ".join(refused)
                + ". Export it to ASL or XState instead, or make those steps tasks."
            )
        self.jobs: list[_Job] = []
        self.tail: dict[str, list[str]] = {}  # state name -> the job keys that finish it
        order = self._topological([n for n in forward if n.name not in comp_names])
        for node in order:
            self._add(node)
        self.comp_jobs: list[tuple[_Job, list[str]]] = []
        ordered = sorted(pairs, key=lambda p: -max((self._position(s) for s in p[1]), default=-1))
        previous: str | None = None
        forward_keys = [j.key for j in self.jobs]
        for comp, steps in ordered:
            job = _Job(comp, _key(comp.name, self.used))
            job.needs = forward_keys + ([previous] if previous else [])
            undone = [k for s in steps for k in self.tail.get(s.name, [])]
            if not undone:
                continue
            self.comp_jobs.append((job, undone))
            previous = job.key
        exported = {j.node.name for j, _ in self.comp_jobs} | {j.node.name for j in self.jobs}
        stray = [n.name for n in graph.root.all_nodes if n.name in comp_names and n.name not in exported]
        if stray:
            self.notes.append(f"compensations not exported (they undo no exported job): {', '.join(stray)}")
        recovery = [
            n.name for n in graph.root.all_nodes
            if n.name not in exported and n.name not in comp_names and isinstance(n.state, TaskState | HumanTaskState)
        ]
        if recovery:
            self.notes.append(
                "recovery steps reached only through a catch are not exported (CI has no catch that continues the "
                f"run): {', '.join(recovery)}; a failed job fails the run and the compensations run"
            )

    def _position(self, step: Node) -> int:
        keys = self.tail.get(step.name, [])
        return max((i for i, j in enumerate(self.jobs) if j.key in keys), default=-1)

    def _topological(self, nodes: list[Node]) -> list[Node]:
        names = {n.name for n in nodes}
        indegree = {n.name: 0 for n in nodes}
        succ: dict[str, list[Node]] = {n.name: [] for n in nodes}
        for n in nodes:
            for nxt in self.graph.successors(n, forward_only=True):
                if nxt.name in names:
                    indegree[nxt.name] += 1
                    succ[n.name].append(nxt)
        ready = [n for n in nodes if indegree[n.name] == 0]
        order: list[Node] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for nxt in succ[node.name]:
                indegree[nxt.name] -= 1
                if indegree[nxt.name] == 0:
                    ready.append(nxt)
        if len(order) != len(nodes):
            loop = [n for n in nodes if indegree[n.name] > 0]
            raise InputError(
                f"this design loops ({', '.join(repr(n.name) for n in loop[:4])}): CI jobs cannot. Export it to "
                "ASL or XState instead."
            )
        return order

    def _preds(self, node: Node) -> list[str]:
        keys: list[str] = []
        for other in node.scope.nodes.values():
            if any(n is node for n in self.graph.successors(other, forward_only=True)):
                keys.extend(self.tail.get(other.name, []))
        return list(dict.fromkeys(keys))

    def _add(self, node: Node) -> None:
        state = node.state
        if isinstance(state, SucceedState | FailState):
            self.tail[node.name] = self._preds(node)
            return
        if isinstance(state, MapState):
            job = _Job(node, _key(node.name, self.used))
            job.needs = self._preds(node)
            self.jobs.append(job)
            self.tail[node.name] = [job.key]
            return
        if isinstance(state, ParallelState):
            before = self._preds(node)
            tails: list[str] = []
            for scope in (s for s in self.graph.scopes if s.parent is node):
                previous = before
                for inner in self._topological(
                    [n for n in scope.all_nodes if isinstance(n.state, TaskState | HumanTaskState)]
                ):
                    job = _Job(inner, _key(inner.name, self.used))
                    job.needs = list(previous)
                    self.jobs.append(job)
                    self.tail[inner.name] = [job.key]
                    previous = [job.key]
                tails.extend(previous)
            self.tail[node.name] = list(dict.fromkeys(tails))
            return
        job = _Job(node, _key(node.name, self.used))
        job.needs = self._preds(node)
        self.jobs.append(job)
        self.tail[node.name] = [job.key]


def _map_steps(graph: DesignGraph, node: Node) -> list[Node] | None:
    """The processor's tasks in order when it is a plain chain of tasks without catches ending in succeed, else
    None."""
    scope = next(s for s in graph.scopes if s.parent is node)
    steps: list[Node] = []
    current = scope.nodes.get(scope.start_at)
    while current is not None and isinstance(current.state, TaskState) and not current.state.catch:
        steps.append(current)
        edges = graph.forward_edges(current)
        if len(edges) != 1 or edges[0].guarded:
            return None
        current = graph.target(current, edges[0].target)
    if current is None or not isinstance(current.state, SucceedState) or len(steps) + 1 != len(scope.all_nodes):
        return None
    return steps


def _map_items(state: MapState) -> str | list[Any] | None:
    """The matrix's items: `${{ fromJSON(inputs.<name>) }}` for a run input, the literal list, else None."""
    if state.items is not None:
        return list(state.items)
    match = re.fullmatch(r"\$\.inputs\.([A-Za-z_][A-Za-z0-9_]*)", state.items_path or "")
    return f"${{{{ fromJSON(inputs.{match.group(1)}) }}}}" if match else None


def _map_refusals(graph: DesignGraph, node: Node, target: CiTarget) -> list[str]:
    state = node.state
    if not isinstance(state, MapState):
        return []
    name = f"'{node.name}'"
    if target != "github-actions":
        return [f"{name} (a map: GitLab's parallel:matrix cannot limit how many items run at once)"]
    refused = []
    if _map_items(state) is None:
        refused.append(f"{name} (a map over {state.items_path}: a CI matrix takes a run input or a literal list)")
    if _map_steps(graph, node) is None:
        refused.append(f"{name} (a map whose processor branches, catches or has other than tasks: a matrix job runs "
                       "its steps in order)")
    tolerated = state.tolerated(1_000_000)
    if state.has_tolerance and tolerated > 0 and state.tolerated_failure_percentage != 100:
        refused.append(f"{name} (a map that tolerates some failed items: GitHub's fail-fast stops at the first "
                       "failure or runs every item, and continue-on-error tolerates them all)")
    return refused


def _pairs(graph: DesignGraph) -> list[tuple[Node, list[Node]]]:
    """(compensation, the steps it undoes), compensations resolved like the validator does."""
    from .load import LoadedDesign
    from .validate import Context, compensation_nodes

    return compensation_nodes(Context(LoadedDesign(design=graph.design)))


def _retry_policy(state: Any) -> RetryPolicy | None:
    for policy in getattr(state, "retry", []):
        if any(e in ("States.ALL", TASK_FAILED) for e in policy.errors) and policy.max_attempts:
            return policy
    return None


def _script_path(node: Node) -> str:
    """`scripts/workflow/<state>.sh`; a name that had to be changed into a file name gets the first 6 hex digits of
    its SHA-256, so `build app` and `build-app` never share (and run) one script."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", node.name).strip("-") or "step"
    if stem != node.name:
        stem += "-" + hashlib.sha256(node.name.encode()).hexdigest()[:6]
    return f"scripts/workflow/{stem}.sh"


# The longest workflow file stem kept whole: with ".yml", well inside the 255 bytes a file name may have on common
# file systems (the name is written when the export is validated, and by whoever commits it).
_MAX_STEM = 200


def _workflow_stem(name: str) -> str:
    """The design's name as a file name stem (lower case, runs of other characters as `-`). A design name has no
    length limit: a stem past `_MAX_STEM` keeps its first characters and the first 6 hex digits of the name's
    SHA-256 (a 300-character name made the validator's file 'File name too long': "Internal error", exit 70; found
    by a hostile-input hunt)."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workflow"
    if len(stem) > _MAX_STEM:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:6]
        stem = stem[: _MAX_STEM - 7].rstrip("-") + "-" + digest
    return stem


def _delays(node: Node) -> list[int]:
    """The waits before each try: 0, then the ASL delays of the policy that retries task failures."""
    policy = _retry_policy(node.state)
    if policy is None:
        return [0]
    return [0, *(math.ceil(d) for d in retry_delays(policy, policy.max_attempts or 0))]


def _run_script(node: Node) -> str:
    """The shell that runs the step's script with the design's retries (delays as ASL computes them), each try
    bounded by the task's timeout (coreutils `timeout`)."""
    script = f"./{_script_path(node)}"
    limit = getattr(node.state, "timeout_seconds", None)
    call = f"timeout {math.ceil(limit)} {script}" if limit else script
    delays = _delays(node)
    if len(delays) == 1:
        return call + "\n"
    return (
        f"for delay in {' '.join(str(d) for d in delays)}; do\n"
        '  sleep "$delay"\n'
        f"  if {call}; then exit 0; fi\n"
        "done\n"
        "exit 1\n"
    )


def _job_minutes(node: Node) -> int:
    """Whole minutes for the job: every try at the task's timeout plus the delays between them, plus one minute
    for the checkout (without a timeout: DEFAULT_JOB_MINUTES)."""
    limit = getattr(node.state, "timeout_seconds", None)
    if not limit:
        return DEFAULT_JOB_MINUTES
    delays = _delays(node)
    return _minutes(len(delays) * limit + sum(delays) + 60)


def _minutes(seconds: float | None) -> int:
    return max(1, math.ceil(seconds / 60)) if seconds else DEFAULT_JOB_MINUTES


def _action(node: Node) -> str:
    return str(getattr(node.state, "action", node.name))


def _plain(text: str) -> str:
    """`text` as a GitHub display name that says no expression: GitHub evaluates `${{ ... }}` in workflow, job and
    step names, so a state or action named `${{ secrets.X }}` would be read as one. Line breaks become spaces."""
    return re.sub(r"\s+", " ", text).replace("${{", "$ {{").strip() or "step"


def _environment(owner: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", owner or "approval").strip("-") or "approval"


def _checkout() -> dict[str, Any]:
    sha, _version = ACTION_PINS["actions/checkout"]
    return {"uses": f"actions/checkout@{sha}", "with": {"persist-credentials": False}}


def _github(plan: _Plan, name: str) -> tuple[str, list[str]]:
    jobs: dict[str, Any] = {}
    scripts: list[str] = []
    for job in plan.jobs:
        state = job.node.state
        body: dict[str, Any] = {"name": _plain(job.node.name)}
        if job.needs:
            body["needs"] = job.needs
        body["runs-on"] = "ubuntu-latest"
        if isinstance(state, HumanTaskState):
            body["environment"] = _environment(state.owner)
            body["timeout-minutes"] = 5
            body["steps"] = [{"name": "Approved", "run": f"echo 'approved by the {body['environment']} reviewers'\n"}]
            plan.notes.append(
                f"'{job.node.name}': set required reviewers on the GitHub environment '{body['environment']}'; "
                "the deadline and escalation of the human task cannot be said in a workflow"
            )
        elif isinstance(state, WaitState):
            body["timeout-minutes"] = _minutes((state.seconds or 0) + 60)
            body["steps"] = [{"name": "Wait", "run": f"sleep {math.ceil(state.seconds or 0)}\n"}]
        elif isinstance(state, MapState):
            steps = _map_steps(plan.graph, job.node) or []
            strategy: dict[str, Any] = {"fail-fast": state.tolerated_failure_percentage != 100,
                                        "matrix": {"item": _map_items(state)}}
            if state.max_concurrency:
                strategy["max-parallel"] = state.max_concurrency
            body["strategy"] = strategy
            if state.tolerated_failure_percentage == 100:
                body["continue-on-error"] = True
            body["permissions"] = {"contents": "read"}
            body["timeout-minutes"] = sum(_job_minutes(n) for n in steps) or DEFAULT_JOB_MINUTES
            # The item reaches the scripts in the environment, never spliced into the shell text.
            body["env"] = {"ITEM": "${{ matrix.item }}"}
            body["steps"] = [_checkout()] + [
                {"name": _plain(_action(n)), "run": _run_script(n)} for n in steps
            ]
            scripts.extend(_script_path(n) for n in steps)
            plan.notes.append(
                f"map '{job.node.name}': one matrix job, each item's scripts get it in $ITEM; the scripts must "
                "record which items committed, for the map's compensation"
            )
        else:
            body["permissions"] = {"contents": "read"}
            body["timeout-minutes"] = _job_minutes(job.node)
            body["steps"] = [_checkout(), {"name": _plain(_action(job.node)), "run": _run_script(job.node)}]
            scripts.append(_script_path(job.node))
        jobs[job.key] = body
    map_keys = {j.key for j in plan.jobs if isinstance(j.node.state, MapState)}
    for job, undone in plan.comp_jobs:
        state = job.node.state
        # A map job that failed may still have committed items: its compensation runs whenever it ran.
        condition = " || ".join(
            f"needs.{k}.result != 'skipped'" if k in map_keys else f"needs.{k}.result == 'success'" for k in undone
        )
        body = {
            "name": _plain(f"{job.node.name} (compensation)"),
            "needs": job.needs,
            "if": f"${{{{ always() && contains(needs.*.result, 'failure') && ({condition}) }}}}",
            "runs-on": "ubuntu-latest",
        }
        if isinstance(state, HumanTaskState):
            body["environment"] = _environment(state.owner)
            body["timeout-minutes"] = 5
            body["steps"] = [{"name": "Undone by hand", "run": "echo 'compensated by hand'\n"}]
        else:
            body["permissions"] = {"contents": "read"}
            body["timeout-minutes"] = _job_minutes(job.node)
            body["steps"] = [_checkout(), {"name": _plain(_action(job.node)), "run": _run_script(job.node)}]
            scripts.append(_script_path(job.node))
        jobs[job.key] = body
    design = plan.graph.design
    dispatch: dict[str, Any] | None = None
    if design.inputs:
        inputs: dict[str, Any] = {}
        for item in design.inputs:
            entry: dict[str, Any] = {"description": item.description or item.name, "required": item.required,
                                     "type": "string" if item.type == "list" else item.type}
            if item.type == "choice":
                entry["options"] = list(item.options)
            inputs[item.name] = entry
        dispatch = {"inputs": inputs}
    group = "${{ github.workflow }}"
    if design.concurrency is not None:
        match = re.fullmatch(r"\$\.inputs\.([A-Za-z_][A-Za-z0-9_]*)", design.concurrency.key)
        if match:
            group += f"-${{{{ inputs.{match.group(1)} }}}}"
        elif not design.concurrency.key.startswith("$"):
            group += f"-{_plain(design.concurrency.key)}"
        if design.concurrency.limit > 1 or design.concurrency.on_conflict == "reject":
            plan.notes.append(
                "GitHub concurrency lets one run in flight per group and queues the next: a limit above 1 or "
                "rejecting runs cannot be said"
            )
    workflow: dict[str, Any] = {
        "name": _plain(name),
        "on": {"workflow_dispatch": dispatch},
        "permissions": {},
        "concurrency": {"group": group, "cancel-in-progress": False},
        "defaults": {"run": {"shell": "bash"}},
        "jobs": jobs,
    }
    text = dump(workflow, spaced_keys=("jobs",))
    for sha, version in ACTION_PINS.values():  # the version beside the pinned SHA, for the reviewer
        text = text.replace(f"@{sha}\n", f"@{sha}  # {version}\n")
    if plan.graph.design.timeout_seconds:
        plan.notes.append("GitHub Actions has no workflow-wide timeout: each job has its own timeout-minutes")
    return text, scripts


def _gitlab(plan: _Plan) -> tuple[str, list[str]]:
    depth: dict[str, int] = {}
    for job in plan.jobs:
        depth[job.key] = 1 + max((depth[n] for n in job.needs), default=0)
    stages = [f"step-{i}" for i in range(1, max(depth.values(), default=0) + 1)]
    pipeline: dict[str, Any] = {}
    scripts: list[str] = []
    jobs: dict[str, Any] = {}
    for job in plan.jobs:
        state = job.node.state
        body: dict[str, Any] = {"stage": f"step-{depth[job.key]}"}
        if job.needs:
            body["needs"] = list(job.needs)
        if isinstance(state, HumanTaskState):
            env = _environment(state.owner)
            body.update({"when": "manual", "allow_failure": False, "environment": {"name": env},
                         "script": [f"echo 'approved in the {env} environment'"]})
            plan.notes.append(
                f"'{job.node.name}': protect the GitLab environment '{env}' so only its approvers can run the "
                "manual job; the deadline and escalation of the human task cannot be said in a pipeline"
            )
        elif isinstance(state, WaitState):
            body.update({"timeout": f"{_minutes((state.seconds or 0) + 60)}m",
                         "script": [f"sleep {math.ceil(state.seconds or 0)}"]})
        else:
            body.update({"timeout": f"{_job_minutes(job.node)}m", "script": [_run_script(job.node)]})
            scripts.append(_script_path(job.node))
        jobs[job.key] = body
    for i, (job, _undone) in enumerate(plan.comp_jobs, start=1):
        stage = f"undo-{i}"
        stages.append(stage)
        state = job.node.state
        body = {"stage": stage, "when": "on_failure"}
        if isinstance(state, HumanTaskState):
            body["script"] = ["echo 'compensated by hand'"]
        else:
            body["timeout"] = f"{_job_minutes(job.node)}m"
            body["script"] = [_run_script(job.node)]
            scripts.append(_script_path(job.node))
        jobs[job.key] = body
    if plan.comp_jobs:
        plan.notes.append(
            "GitLab runs `when: on_failure` jobs after any earlier failure, not only when the step they undo "
            "succeeded: the compensations are idempotent, so undoing what never happened is safe"
        )
    pipeline["stages"] = stages
    pipeline["workflow"] = {"rules": [{"if": '$CI_PIPELINE_SOURCE == "web"'}, {"when": "never"}]}
    design = plan.graph.design
    if design.inputs:
        variables: dict[str, Any] = {}
        for item in design.inputs:
            entry: dict[str, Any] = {"description": item.description or item.name}
            if item.type == "choice" and item.options:
                entry.update({"value": item.options[0], "options": list(item.options)})
            else:
                entry["value"] = ""
            variables[item.name.upper()] = entry
        pipeline["variables"] = variables
    if design.concurrency is not None:
        plan.notes.append(
            "GitLab serializes jobs, not pipelines: use a `resource_group` on the jobs that must not interleave "
            f"(the design limits runs per {design.concurrency.key})"
        )
    pipeline.update(jobs)
    return dump(pipeline), scripts


def export_ci(graph: DesignGraph, target: CiTarget, *, validate: bool = True) -> CiExport:
    """The design as a GitHub Actions workflow or GitLab CI pipeline; InputError when it has no faithful CI form."""
    plan = _Plan(graph, GITLAB_RESERVED_KEYS if target == "gitlab-ci" else frozenset(), target)
    name = graph.design.name
    if target == "github-actions":
        text, scripts = _github(plan, name)
        path = f".github/workflows/{_workflow_stem(name)}.yml"
        kind = "github-workflow"
    else:
        text, scripts = _gitlab(plan)
        path, kind = ".gitlab-ci.yml", "gitlab-ci"
    findings: list[ValidatorFinding] = []
    checked: list[str] = []
    if validate:
        from ..automation.validate import validate_text

        report = validate_text(path, text, kind)  # type: ignore[arg-type]
        findings, checked = list(report.findings), list(report.checked)
    return CiExport(
        design=name,
        target=target,
        path=path,
        text=text,
        scripts=list(dict.fromkeys(scripts)),
        notes=plan.notes,
        valid=not any(f.severity == "error" for f in findings),
        findings=findings,
        checked=checked,
    )
