"""Workflow design tools: validate, simulate failures, render and export a `WorkflowDesign`, each budgeted.

Each function calls the design capability's service function (`design.service`) on the whole design and pages
what it returns with `budget.pack_model` (the service's own `cursor`/`limit` count items; the tools count tokens):
findings, scenarios, or the lines of a diagram or an export. A cursor is tied to the design it came from (a digest
of the design and the options), so a cursor used with another design is refused as stale. Results are kept in the
server's `ResultCache` under that digest, so paging does not simulate again.

This module imports the design capability: `server.py` imports it inside the tool bodies only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from ..automation.results import Finding as ValidatorFinding
from ..design import service
from ..design.simulate import FaultKind, Scenario, SimulationSummary
from ..design.validate import Finding
from ..errors import InputError
from .budget import SectionPage, pack_model
from .inventory import Out
from .progress import in_background
from .state import NO_WORK, ServerState, Work

DesignInput = Mapping[str, Any] | str
T = TypeVar("T", bound=BaseModel)


def _version(design: DesignInput, *options: object) -> str:
    """A digest of the design as given and the options: what a cursor of these results is tied to."""
    text = design if isinstance(design, str) else json.dumps(design, sort_keys=True, default=str)
    return hashlib.sha256(json.dumps([text, options], default=str).encode()).hexdigest()[:16]


def _memo(state: ServerState, key: tuple[object, ...], compute: Callable[[], T]) -> T:
    return state.results.get(("design", *key), compute)


HANDLE = re.compile(r"^design:[0-9a-f]{16}$")


def handle_of(design: DesignInput) -> str:
    """The handle of a design as given: `design:` and a digest of its text (or canonical JSON)."""
    return "design:" + _version(design)


def resolve(state: ServerState, design: DesignInput) -> tuple[DesignInput, str]:
    """The design a tool argument means, and its handle: a handle (`design:<16 hex>`) is looked up among the
    designs this server has seen (the last 256); anything else is a design, remembered under its handle by
    `remember` once a tool has read it (a flood of unreadable designs must not push the readable ones out)."""
    if isinstance(design, str) and HANDLE.match(design.strip()):
        found = state.designs.peek(design.strip())
        if found is None:
            raise InputError(
                f"unknown design handle '{design.strip()}': handles name designs this server has seen (the last "
                "256, until it restarts); send the design itself once and use the handle it returns"
            )
        return found, design.strip()
    return design, handle_of(design)


def remember(state: ServerState, handle: str, design: DesignInput) -> str:
    """Keep `design` under `handle` (a tool read it without an input error) and return the handle."""
    state.designs.get(handle, lambda: design)
    return handle


HANDLE_FIELD = Field(
    description="Pass this instead of the whole design to simulate_workflow_failures, render_workflow_diagram and "
    "the exports (valid while this server runs)."
)


class DesignValidation(Out):
    """What validate_workflow_design returns: counts over all findings, and a page of them."""

    design: str
    design_handle: str = HANDLE_FIELD
    valid: bool = Field(description="True when no finding has severity error.")
    passed: bool = Field(description="True when no finding is at or above fail_on: the gate to act on.")
    fail_on: Literal["error", "warning", "info", "never"]
    errors: int
    warnings: int
    infos: int
    states: int = Field(description="States in the design, nested ones included.")
    total_findings: int = Field(description="Findings at or above min_severity, over all pages.")
    findings: list[Finding] = Field(description="This page: errors first, then warnings, then infos. `location` is "
                                    "a JSON pointer into the design; `line` is set when the design came as text.")
    rules_checked: list[str]
    sections: list[SectionPage]
    next_cursor: str | None


def validate(
    state: ServerState, design: DesignInput, *, min_severity: Literal["error", "warning", "info"] = "info",
    fail_on: Literal["error", "warning", "info", "never"] = "error", max_tokens: int, cursor: str | None = None,
) -> DesignValidation:
    design, handle = resolve(state, design)
    version = _version(design, "validate", min_severity, fail_on)
    report = _memo(state, ("validate", version), lambda: service.validate_workflow_design(
        design, min_severity=min_severity, fail_on=fail_on, limit=None))
    remember(state, handle, design)
    page = DesignValidation(
        design=report.design, design_handle=handle, valid=report.valid, passed=report.passed,
        fail_on=report.fail_on,
        errors=report.errors, warnings=report.warnings, infos=report.infos,
        states=report.states, total_findings=report.total_findings, findings=report.findings,
        rules_checked=report.rules_checked, sections=[], next_cursor=None,
    )
    return pack_model(page, ("findings",), kind="validate_workflow_design", version=version, max_tokens=max_tokens,
                      cursor=cursor, wrap=_with_sections)


class DesignSimulation(Out):
    """What simulate_workflow_failures returns: the fault-free run, the summary, and a page of fault scenarios."""

    design: str
    design_handle: str = HANDLE_FIELD
    happy_path: Scenario = Field(description="The run without any fault.")
    summary: SimulationSummary = Field(description="Counts over every scenario, the consistency `formula` and the "
                                       "fault model's `assumptions`.")
    total_scenarios: int = Field(description="Scenarios after the only_inconsistent filter, over all pages.")
    scenarios: list[Scenario] = Field(description="This page: one fault in one step each, with the path taken, the "
                                      "retries, the compensations in the order they ran, and whether the end state "
                                      "is consistent (`reasons` when not).")
    sections: list[SectionPage]
    next_cursor: str | None


def simulate(
    state: ServerState, design: DesignInput, *, faults: Sequence[FaultKind] | None = None,
    steps: list[str] | None = None, decisions: dict[str, str] | None = None, only_inconsistent: bool = False,
    include_trace: bool = False,
    max_tokens: int, cursor: str | None = None, work: Work = NO_WORK,
) -> DesignSimulation:
    design, handle = resolve(state, design)
    options = (faults, steps, decisions, only_inconsistent, include_trace)
    version = _version(design, "simulate", *options)
    report = _memo(state, ("simulate", version), lambda: in_background(work, lambda: service.simulate_workflow_failures(
        design, faults=list(faults) if faults is not None else None, steps=steps, decisions=decisions,
        only_inconsistent=only_inconsistent, include_trace=include_trace, limit=None), "simulating failures"))
    remember(state, handle, design)
    page = DesignSimulation(
        design=report.design, design_handle=handle, happy_path=report.happy_path, summary=report.summary,
        total_scenarios=report.total_scenarios, sections=[], next_cursor=None,
        # Caveats first: the scenarios that end inconsistent lead the first page (stable: in run order otherwise).
        scenarios=sorted(report.scenarios, key=lambda s: s.consistent),
    )
    return pack_model(page, ("scenarios",), kind="simulate_workflow_failures", version=version,
                      max_tokens=max_tokens, cursor=cursor, wrap=_with_sections)


class DesignText(Out):
    """Text made from a design (a Mermaid diagram, an ASL or XState JSON definition), one page of lines at a time;
    join the `lines` of every page with newlines for the whole text."""

    design: str
    design_handle: str | None = Field(
        default=None, description="The handle of the design this text is of (for an import: of the imported design)."
    )
    format: Literal["mermaid-state", "mermaid-saga", "asl", "xstate", "design-yaml"]
    lines: list[str] = Field(description="This page's lines of the text.")
    notes: list[str] = Field(default_factory=list,
                             description="What the target cannot express exactly, and roundings (exports only).")
    statelint: list[str] | None = Field(
        default=None, description="ASL only: the problems statelint reports in the definition ([] when none); null "
        "when statelint did not run.")
    sections: list[SectionPage]
    next_cursor: str | None


def render(
    state: ServerState, design: DesignInput, *, kind: Literal["state", "saga"] = "state", max_tokens: int,
    cursor: str | None = None,
) -> DesignText:
    design, handle = resolve(state, design)
    version = _version(design, "render", kind)
    diagram = _memo(state, ("render", version), lambda: service.render_workflow_diagram(design, kind=kind))
    remember(state, handle, design)
    page = DesignText(design=diagram.design, design_handle=handle,
                      format="mermaid-saga" if kind == "saga" else "mermaid-state",
                      lines=diagram.mermaid.splitlines(), sections=[], next_cursor=None)
    return pack_model(page, ("lines",), kind="render_workflow_diagram", version=version, max_tokens=max_tokens,
                      cursor=cursor, wrap=_with_sections)


def export_asl(
    state: ServerState, design: DesignInput, *, lint: bool = True, max_tokens: int, cursor: str | None = None,
) -> DesignText:
    design, handle = resolve(state, design)
    version = _version(design, "asl", lint)
    exported = _memo(state, ("asl", version), lambda: service.export_workflow_asl(design, lint=lint))
    remember(state, handle, design)
    page = DesignText(design=exported.design, design_handle=handle, format="asl",
                      lines=exported.json_text().splitlines(), notes=exported.notes, statelint=exported.statelint,
                      sections=[], next_cursor=None)
    return pack_model(page, ("lines",), kind="export_workflow_asl", version=version, max_tokens=max_tokens,
                      cursor=cursor, wrap=_with_sections)


def export_xstate(state: ServerState, design: DesignInput, *, max_tokens: int, cursor: str | None = None) -> DesignText:
    design, handle = resolve(state, design)
    version = _version(design, "xstate")
    exported = _memo(state, ("xstate", version), lambda: service.export_workflow_xstate(design))
    text = json.dumps(exported.machine, indent=2, ensure_ascii=False)
    remember(state, handle, design)
    page = DesignText(design=exported.design, design_handle=handle, format="xstate", lines=text.splitlines(),
                      notes=exported.notes, sections=[], next_cursor=None)
    return pack_model(page, ("lines",), kind="export_workflow_xstate", version=version, max_tokens=max_tokens,
                      cursor=cursor, wrap=_with_sections)


class DesignCiExport(Out):
    """What export_workflow_ci returns: the CI file (one page of lines at a time), where it goes, the step scripts
    the team writes, what CI cannot say, and our validators' findings on it."""

    design: str
    design_handle: str = HANDLE_FIELD
    target: Literal["github-actions", "gitlab-ci"]
    path: str = Field(description="Where the file goes in the repository.")
    valid: bool = Field(description="True when no validator (schema, zizmor, ShellCheck) reported an error.")
    findings: list[ValidatorFinding] = Field(default_factory=list)
    scripts: list[str] = Field(description="The step scripts the jobs run, for the team to write.")
    notes: list[str] = Field(default_factory=list)
    lines: list[str] = Field(description="This page's lines of the file.")
    sections: list[SectionPage]
    next_cursor: str | None


def export_ci(
    state: ServerState, design: DesignInput, *, target: Literal["github-actions", "gitlab-ci"], max_tokens: int,
    cursor: str | None = None,
) -> DesignCiExport:
    design, handle = resolve(state, design)
    version = _version(design, "ci", target)
    exported = _memo(state, ("ci", version), lambda: service.export_workflow_ci(design, target=target))
    remember(state, handle, design)
    page = DesignCiExport(design=exported.design, design_handle=handle, target=exported.target, path=exported.path,
                          valid=exported.valid,
                          findings=exported.findings, scripts=exported.scripts, notes=exported.notes,
                          lines=exported.text.splitlines(), sections=[], next_cursor=None)
    return pack_model(page, ("lines",), kind="export_workflow_ci", version=version, max_tokens=max_tokens,
                      cursor=cursor, wrap=_with_sections)


def import_asl(
    state: ServerState, definition: dict[str, Any] | str, *, name: str | None = None, max_tokens: int,
    cursor: str | None = None,
) -> DesignText:
    if isinstance(definition, str) and HANDLE.match(definition.strip()):
        raise InputError(
            f"'{definition.strip()}' is a design handle, not an ASL definition: send the Step Functions definition "
            "(JSON) to import; a handle already names a design the other design tools take"
        )
    version = _version(definition, "import-asl", name)
    imported = _memo(state, ("import-asl", version), lambda: service.import_workflow_asl(definition, name=name))
    handle = remember(state, handle_of(imported.yaml), imported.yaml)
    page = DesignText(design=imported.design, design_handle=handle, format="design-yaml",
                      lines=imported.yaml.splitlines(), notes=imported.notes, sections=[], next_cursor=None)
    return pack_model(page, ("lines",), kind="import_workflow_asl", version=version, max_tokens=max_tokens,
                      cursor=cursor, wrap=_with_sections)


def _with_sections(page: T, sections: list[SectionPage], next_cursor: str | None) -> T:
    return page.model_copy(update={"sections": sections, "next_cursor": next_cursor})


# ---------------------------------------------------------------- resources


def schema_text() -> str:
    return json.dumps(service.workflow_design_schema().json_schema, indent=2) + "\n"


def rules_text() -> str:
    return json.dumps([r.model_dump() for r in service.list_design_rules()], indent=2) + "\n"


def example_text(name: str) -> str:
    example = service.get_design_example(name)
    return example.text or ""
