"""The workflow design capabilities: one typed function each, returning a pydantic model, for the CLI and MCP alike.

A design is passed as a `WorkflowDesign`, a dict (parsed JSON), or YAML/JSON text. Unreadable designs raise
`DesignInputError` (an `InputError`) whose message lists every problem with its location; nothing else is raised on
purpose. Outputs that can grow with the design (findings, scenarios) are paged with `cursor` and `limit` and carry
their totals, so a large design never floods a context window.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from ..errors import InputError
from .asl import AslExport
from .graph import DesignGraph
from .load import DesignInput, LoadedDesign, load_design
from .model import SCHEMA_VERSION, HumanTaskState, TaskState, WaitState, json_schema
from .render import Diagram, DiagramKind
from .simulate import DEFAULT_MAX_TOTAL_STEPS, FaultKind, Scenario, SimulationReport, SimulationSummary
from .validate import RULES, SEVERITY_RANK, Finding, Severity
from .xstate import XStateExport

if TYPE_CHECKING:
    from .asl_import import AslImport
    from .ci_export import CiExport, CiTarget

SCHEMA_URI = f"orchestrator-kit://schemas/workflow-design-v{SCHEMA_VERSION}.json"
DEFAULT_FINDINGS_LIMIT = 100
DEFAULT_SCENARIOS_LIMIT = 40


class RuleInfo(BaseModel):
    id: str
    severity: Severity
    summary: str


FailOn = Literal["error", "warning", "info", "never"]


class ValidationReport(BaseModel):
    """The findings of every rule. `valid` means no finding of severity error; `passed` means no finding at or
    above `fail_on` (the gate a CI job or a model should act on)."""

    design: str
    valid: bool
    passed: bool = Field(description="No finding at or above fail_on (with fail_on 'never': always true).")
    fail_on: FailOn = "error"
    errors: int
    warnings: int
    infos: int
    states: int
    findings: list[Finding] = Field(description="This page of findings: errors first, then warnings, then infos.")
    total_findings: int = Field(description="Findings at or above min_severity, before paging.")
    next_cursor: int | None = None
    rules_checked: list[str]


class DesignSchema(BaseModel):
    """The JSON Schema of `WorkflowDesign`, for a model that fills a design in."""

    uri: str = SCHEMA_URI
    version: str = SCHEMA_VERSION
    json_schema: dict[str, Any]


class DesignExample(BaseModel):
    """A shipped example design; broken twins (`<name>.broken`) exist to show what the validator catches."""

    name: str
    valid: bool = Field(description="False for the broken twins.")
    description: str
    text: str | None = Field(default=None, description="The YAML, when asked for one example.")


def _load(design: DesignInput) -> LoadedDesign:
    return load_design(design)


def _page(total: int, cursor: int, limit: int | None) -> tuple[int, int, int | None]:
    if cursor < 0:
        raise InputError(f"cursor must be 0 or more, not {cursor}")
    if limit is not None and limit < 1:
        raise InputError(f"limit must be 1 or more (or null for everything), not {limit}")
    end = total if limit is None else min(total, cursor + limit)
    return cursor, end, end if end < total else None


def validate_workflow_design(
    design: DesignInput,
    *,
    min_severity: Severity = "info",
    fail_on: FailOn = "error",
    cursor: int = 0,
    limit: int | None = DEFAULT_FINDINGS_LIMIT,
) -> ValidationReport:
    """Run every rule (see `list_design_rules`) over a design and report findings with rule id, severity, message
    and location (a JSON pointer into the design, and the line when the design came as text). `passed` is false
    when a finding is at or above `fail_on` (`warning` makes a budget overrun or an unretried compensation fail)."""
    from .validate import check

    loaded = _load(design)
    findings = check(loaded)
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    shown = [f for f in findings if SEVERITY_RANK[f.severity] <= SEVERITY_RANK[min_severity]]
    start, end, next_cursor = _page(len(shown), cursor, limit)
    return ValidationReport(
        design=loaded.design.name,
        valid=counts["error"] == 0,
        passed=fail_on == "never" or not any(SEVERITY_RANK[f.severity] <= SEVERITY_RANK[fail_on] for f in findings),
        fail_on=fail_on,
        errors=counts["error"],
        warnings=counts["warning"],
        infos=counts["info"],
        states=len(DesignGraph(loaded.design).all_nodes),
        findings=shown[start:end],
        total_findings=len(shown),
        next_cursor=next_cursor,
        rules_checked=[r.id for r in RULES],
    )


def list_design_rules() -> list[RuleInfo]:
    """Every validation rule: id, default severity and what it checks."""
    return [RuleInfo(id=r.id, severity=r.severity, summary=r.summary) for r in RULES]


def simulate_workflow_failures(
    design: DesignInput,
    *,
    faults: list[FaultKind] | None = None,
    steps: list[str] | None = None,
    decisions: dict[str, str] | None = None,
    only_inconsistent: bool = False,
    include_trace: bool = True,
    cursor: int = 0,
    limit: int | None = DEFAULT_SCENARIOS_LIMIT,
    max_total_steps: int = DEFAULT_MAX_TOTAL_STEPS,
) -> SimulationReport:
    """Fail every task, human task and wait for events (or only `steps`) in each way in `faults` (default:
    transient, permanent, timeout), on the first explored path that enters it, then each compensation or recovery
    step of every failure path as a second fault, and report for each run the path, retries, compensations in order
    and whether the end state is consistent (the formula and the fault model are in `summary`). `decisions` fixes
    the target of a choice or outcome by state name (otherwise the option nearest to a succeed state is taken, and
    each alternative on that path is explored once). Scenarios stop once `max_total_steps` state entries have been
    simulated; `summary.skipped` counts the ones left out."""
    from .simulate import explored_items, simulate

    loaded = _load(design)
    graph = DesignGraph(loaded.design)
    unknown = [s for s in (steps or []) + list(decisions or {}) if s not in graph.nodes]
    if unknown:
        raise InputError(f"no state named {', '.join(repr(s) for s in unknown)} in design '{loaded.design.name}'")
    not_steps = [
        s for s in steps or []
        if not isinstance(graph.nodes[s].state, TaskState | HumanTaskState)
        and not (isinstance(graph.nodes[s].state, WaitState) and graph.nodes[s].state.events is not None)  # type: ignore[union-attr]
    ]
    if not_steps:
        raise InputError(
            f"only tasks, human tasks and waits for events can fail: {', '.join(repr(s) for s in not_steps)}"
        )
    if max_total_steps < 1:
        raise InputError(f"max_total_steps must be 1 or more, not {max_total_steps}")
    result = simulate(graph, faults=faults, steps=steps, decisions=decisions, max_total_steps=max_total_steps)
    happy, scenarios = _bounded(result.happy), result.scenarios
    singles = [s for s in scenarios if s.then is None]
    doubles = [s for s in scenarios if s.then is not None]
    consistent = sum(1 for s in singles if s.consistent)
    shown = [s for s in scenarios if not (only_inconsistent and s.consistent)]
    start, end, next_cursor = _page(len(shown), cursor, limit)
    page = [_bounded(s) for s in shown[start:end]]
    if not include_trace:
        page = [s.model_copy(update={"trace": []}) for s in page]
        happy = happy.model_copy(update={"trace": []})
    step_count = sum(
        1 for n in graph.all_nodes
        if n.state.type in ("task", "human_task") or (isinstance(n.state, WaitState) and n.state.events is not None)
    )
    return SimulationReport(
        design=loaded.design.name,
        happy_path=happy,
        summary=SimulationSummary(
            steps=step_count,
            scenarios=len(singles),
            consistent=consistent,
            inconsistent=len(singles) - consistent,
            second_faults=len(doubles),
            second_faults_inconsistent=sum(1 for s in doubles if not s.consistent),
            paths_explored=result.paths_explored,
            not_reached=result.not_reached,
            skipped=result.skipped,
            map_items=explored_items(graph),
        ),
        scenarios=page,
        total_scenarios=len(shown),
        next_cursor=next_cursor,
    )


SCENARIO_LISTED = 100  # entries of each list of a reported scenario; nested maps can run 100,000 steps in one
REASON_CHARS = 1000  # a reason names the effects left applied: one per item of every map around them


def _bounded(scenario: Scenario) -> Scenario:
    """The scenario as reported: each list cut to its first SCENARIO_LISTED entries and each reason to REASON_CHARS
    characters, with what was left out counted in `omitted` (a 40-state design of nested maps printed 72 MB)."""
    omitted: dict[str, int] = {}
    update: dict[str, Any] = {}
    for name in ("path", "retries", "committed", "uncertain", "compensations", "compensated", "uncompensated",
                 "duplicates", "trace"):
        values = getattr(scenario, name)
        if len(values) > SCENARIO_LISTED:
            update[name] = values[:SCENARIO_LISTED]
            omitted[name] = len(values) - SCENARIO_LISTED
    if any(len(reason) > REASON_CHARS for reason in scenario.reasons):
        update["reasons"] = [r if len(r) <= REASON_CHARS else f"{r[:REASON_CHARS]}... ({len(r) - REASON_CHARS:,} "
                             "more characters)" for r in scenario.reasons]
    if not update:
        return scenario
    return scenario.model_copy(update={**update, "omitted": omitted})


def render_workflow_diagram(design: DesignInput, *, kind: DiagramKind = "state") -> Diagram:
    """A Mermaid diagram: `state` (stateDiagram-v2 of the machine) or `saga` (sequenceDiagram of the fault-free
    run, with what each step's failure triggers: the compensations in the order they run)."""
    from .render import render

    loaded = _load(design)
    if kind not in ("state", "saga"):
        raise InputError(f"diagram kind is 'state' or 'saga', not {kind!r}")
    return Diagram(design=loaded.design.name, kind=kind, mermaid=render(DesignGraph(loaded.design), kind))


def export_workflow_asl(design: DesignInput, *, lint: bool = True) -> AslExport:
    """The design as an AWS Step Functions (ASL) definition, with what ASL cannot express in `notes`; with `lint`,
    statelint's problems with it (null when statelint is not installed)."""
    from .asl import export

    return export(DesignGraph(_load(design).design), lint=lint)


def export_workflow_xstate(design: DesignInput) -> XStateExport:
    """The design as an XState v5 machine configuration."""
    from .xstate import export

    return export(DesignGraph(_load(design).design))


def import_workflow_asl(definition: Mapping[str, Any] | str, *, name: str | None = None) -> AslImport:
    """Read an AWS Step Functions (ASL) definition into a design (YAML), so an existing state machine can be
    validated, simulated, drawn and exported; `notes` says what was approximated. Raises DesignInputError."""
    from .asl_import import import_asl

    return import_asl(definition, name=name)


def export_workflow_ci(design: DesignInput, *, target: CiTarget = "github-actions", validate: bool = True) -> CiExport:
    """The design as a GitHub Actions workflow or a GitLab CI pipeline (jobs in order, approvals as environments,
    retries, timeouts, compensation jobs on failure in reverse order), checked by our CI validators. Raises
    InputError when the design has no faithful CI form (decisions, waits for events, loops)."""
    from .ci_export import export_ci

    return export_ci(DesignGraph(_load(design).design), target, validate=validate)


def workflow_design_schema() -> DesignSchema:
    """The JSON Schema of a workflow design (served as an MCP resource)."""
    return DesignSchema(json_schema=json_schema())


def _example_files() -> dict[str, Any]:
    """name -> file of each shipped example, valid designs before their broken twins."""
    folder = resources.files(__package__).joinpath("examples")
    try:
        entries = [e for e in folder.iterdir() if e.name.endswith(".yaml")]
    except (FileNotFoundError, NotADirectoryError):
        raise InputError("the example designs are not installed with this copy of orchestrator-kit") from None
    entries.sort(key=lambda e: (e.name.removesuffix(".yaml").removesuffix(".broken"), e.name.endswith(".broken.yaml")))
    return {e.name.removesuffix(".yaml"): e for e in entries}


def list_design_examples(which: Literal["all", "valid", "broken"] = "all") -> list[DesignExample]:
    """The shipped example designs (names, whether valid, descriptions), without their text."""
    out = []
    for name, entry in _example_files().items():
        example = _example(name, entry, with_text=False)
        if which == "all" or (which == "valid") == example.valid:
            out.append(example)
    return out


def get_design_example(name: str) -> DesignExample:
    """One example design with its YAML text."""
    files = _example_files()
    if name not in files:
        raise InputError(f"no example design named '{name}' (there are: {', '.join(files)})")
    return _example(name, files[name], with_text=True)


def _example(name: str, entry: Any, *, with_text: bool) -> DesignExample:
    text = entry.read_text(encoding="utf-8")
    description = load_design(text, source=name).design.description or ""
    return DesignExample(
        name=name, valid=not name.endswith(".broken"), description=description, text=text if with_text else None
    )
