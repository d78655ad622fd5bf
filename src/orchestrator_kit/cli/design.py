"""`orchestrator-kit design ...`: check, simulate, draw and export workflow designs (state machines and sagas).

Each command reads one design file (YAML or JSON; `-` for standard input) and calls one function of
`orchestrator_kit.design`. Exit codes: 0 ok; 1 the findings gate failed (validate: a rule found an error; simulate: a
scenario ends inconsistent; export: statelint found a problem); 2 usage or input error (`Error: ...`, no traceback).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import OrchestratorError
from .common import ReportFormat, WideOption, console, echo, fail, write_text

design_app = typer.Typer(
    name="design",
    help="Check, simulate, draw and export workflow designs (state machines and sagas). "
    "Exit 1 when the findings gate fails, 2 on bad input.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DesignFile = Annotated[Path, typer.Argument(metavar="FILE", help="A design in YAML or JSON ('-' reads stdin).")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE instead of standard output.")]


class Severity(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


class Fault(StrEnum):
    transient = "transient"
    permanent = "permanent"
    timeout = "timeout"


class DiagramKind(StrEnum):
    state = "state"
    saga = "saga"


class DiagramFormat(StrEnum):
    mermaid = "mermaid"
    markdown = "markdown"


class ExportTarget(StrEnum):
    asl = "asl"
    xstate = "xstate"
    github_actions = "github-actions"
    gitlab_ci = "gitlab-ci"


def register(app: typer.Typer) -> None:
    app.add_typer(design_app, name="design")


def _text(file: Path) -> str:
    from ..design.load import read_design_text

    try:
        return read_design_text(file)
    except OrchestratorError as exc:
        fail(str(exc))


def _label(file: Path) -> str:
    return "<stdin>" if str(file) == "-" else str(file)


@design_app.command("validate")
def validate(
    file: DesignFile,
    output_format: Annotated[ReportFormat, typer.Option("--format", "-f", help="table or json.")] = ReportFormat.table,
    min_severity: Annotated[Severity, typer.Option(help="Show findings of this severity and above.")] = Severity.info,
    fail_on: Annotated[
        FailOn, typer.Option(help="Exit 1 when a finding of this severity or worse is found (never: always 0).")
    ] = FailOn.error,
    wide: WideOption = False,
) -> None:
    """Check a design with every rule (ids, severities and locations). Exit 1 when a finding at or above --fail-on
    (default: error) is found, else 0."""
    from ..design import validate_workflow_design
    from ..design.text import print_validation

    try:
        report = validate_workflow_design(
            _text(file), min_severity=min_severity.value, fail_on=fail_on.value, limit=None
        )
    except OrchestratorError as exc:
        fail(f"{_label(file)}: {exc}")
    if output_format is ReportFormat.json:
        write_text(report.model_dump_json(indent=2) + "\n", None)
    else:
        print_validation(report, console(), str(file), wide=wide)  # type: ignore[arg-type]
    raise typer.Exit(0 if report.passed else 1)


@design_app.command(
    "simulate",
    help="Fail every step transiently, permanently and by timeout; show paths, retries, compensations and whether "
    "each end state is consistent. Exit 1 when a scenario ends inconsistent, else 0.",
)
def simulate(
    file: DesignFile,
    fault: Annotated[list[Fault] | None, typer.Option(help="Inject only this fault (repeatable); default all.")] = None,
    step: Annotated[list[str] | None, typer.Option(help="Fail only this step (repeatable); default all.")] = None,
    decide: Annotated[
        list[str] | None, typer.Option(metavar="STATE=TARGET", help="Take TARGET at choice or outcome STATE.")
    ] = None,
    only_inconsistent: Annotated[bool, typer.Option(help="List only scenarios that end inconsistent.")] = False,
    max_total_steps: Annotated[
        int, typer.Option(min=1, help="Stop after simulating this many state entries in all (reports the rest).")
    ] = 1_000_000,
    output_format: Annotated[ReportFormat, typer.Option("--format", "-f", help="table or json.")] = ReportFormat.table,
    wide: WideOption = False,
) -> None:
    from ..design import simulate_workflow_failures
    from ..design.text import print_simulation

    decisions = dict(d.split("=", 1) for d in decide or [] if "=" in d)
    if len(decisions) != len(decide or []):
        fail("--decide takes STATE=TARGET")
    try:
        report = simulate_workflow_failures(
            _text(file), faults=[f.value for f in fault or []] or None, steps=step or None, decisions=decisions,
            only_inconsistent=only_inconsistent, limit=None, max_total_steps=max_total_steps,
        )
    except OrchestratorError as exc:
        fail(f"{_label(file)}: {exc}")
    if output_format is ReportFormat.json:
        write_text(report.model_dump_json(indent=2) + "\n", None)
    else:
        print_simulation(report, console(), wide=wide)  # type: ignore[arg-type]
    raise typer.Exit(1 if report.summary.inconsistent else 0)


@design_app.command("render")
def render(
    file: DesignFile,
    kind: Annotated[DiagramKind, typer.Option(help="state: the machine; saga: the run and its compensations.")] = (
        DiagramKind.state
    ),
    output_format: Annotated[
        DiagramFormat, typer.Option("--format", "-f", help="mermaid (plain) or markdown (fenced).")
    ] = DiagramFormat.mermaid,
    output: Output = None,
) -> None:
    """Draw a design as a Mermaid diagram."""
    from ..design import render_workflow_diagram

    try:
        diagram = render_workflow_diagram(_text(file), kind=kind.value)
    except OrchestratorError as exc:
        fail(f"{_label(file)}: {exc}")
    write_text(diagram.markdown() if output_format is DiagramFormat.markdown else diagram.mermaid, output)


@design_app.command(
    "export",
    help="Export a design as an ASL or XState JSON definition, a GitHub Actions workflow or a GitLab CI pipeline; "
    "notes and validator findings go to stderr. Exit 1 when statelint (ASL) or our CI validators find a problem.",
)
def export(
    file: DesignFile,
    target: Annotated[
        ExportTarget,
        typer.Option(help="asl (AWS Step Functions), xstate (XState v5), github-actions or gitlab-ci."),
    ] = ExportTarget.asl,
    output: Output = None,
) -> None:
    from ..design import export_workflow_asl, export_workflow_ci, export_workflow_xstate

    if target in (ExportTarget.github_actions, ExportTarget.gitlab_ci):
        try:
            ci = export_workflow_ci(_text(file), target=target.value)  # type: ignore[arg-type]
        except OrchestratorError as exc:
            fail(f"{_label(file)}: {exc}")
        write_text(ci.text, output)
        for line in [f"note: {n}" for n in ci.notes] + [f"write: {s}" for s in ci.scripts]:
            echo(line, err=True)
        for f in ci.findings:
            echo(f"{f.severity}: {f.validator} {f.rule or ''}: {f.message} ({ci.path}:{f.line or '?'})", err=True)
        raise typer.Exit(0 if ci.valid else 1)
    try:
        result = export_workflow_asl(_text(file)) if target is ExportTarget.asl else export_workflow_xstate(_text(file))
    except OrchestratorError as exc:
        fail(f"{_label(file)}: {exc}")
    body = result.definition if target is ExportTarget.asl else result.machine  # type: ignore[union-attr]
    write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", output)
    problems = getattr(result, "statelint", None) or []
    for line in [f"note: {n}" for n in result.notes] + [f"statelint: {p}" for p in problems]:
        echo(line, err=True)
    raise typer.Exit(1 if problems else 0)


class ImportSource(StrEnum):
    asl = "asl"


@design_app.command(
    "import",
    help="Read an AWS Step Functions definition (ASL JSON) into a design (YAML) to validate, simulate and draw; "
    "notes on what was approximated go to stderr.",
)
def import_(
    source: Annotated[ImportSource, typer.Argument(help="The format of FILE: asl (AWS Step Functions).")],
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The definition, JSON ('-' reads stdin).")],
    name: Annotated[
        str | None, typer.Option(help="The design's name (default: from the definition's Comment).")
    ] = None,
    output: Output = None,
) -> None:
    from ..design import import_workflow_asl

    try:
        imported = import_workflow_asl(_text(file), name=name)
    except OrchestratorError as exc:
        fail(f"{_label(file)}: {exc}")
    write_text(imported.yaml, output)
    for note in imported.notes:
        echo(f"note: {note}", err=True)


@design_app.command("schema")
def schema(output: Output = None) -> None:
    """Print the JSON Schema of a workflow design (what `validate` reads)."""
    from ..design import workflow_design_schema

    write_text(json.dumps(workflow_design_schema().json_schema, indent=2) + "\n", output)


@design_app.command("rules")
def rules(
    output_format: Annotated[ReportFormat, typer.Option("--format", "-f", help="table or json.")] = ReportFormat.table,
    wide: WideOption = False,
) -> None:
    """List the validation rules: id, severity and what each checks."""
    from ..design import list_design_rules
    from ..design.text import print_rules

    found = list_design_rules()
    if output_format is ReportFormat.json:
        write_text(json.dumps([r.model_dump() for r in found], indent=2) + "\n", None)
    else:
        print_rules(found, console(), wide=wide)  # type: ignore[arg-type]


@design_app.command("examples")
def examples(
    name: Annotated[str | None, typer.Argument(metavar="NAME", help="Print this example's YAML.")] = None,
    wide: WideOption = False,
) -> None:
    """List the shipped example designs, or print one (valid ones and their broken twins)."""
    from ..design import get_design_example, list_design_examples
    from ..design.text import print_examples

    try:
        if name is not None:
            write_text(get_design_example(name).text or "", None)
            return
        print_examples(list_design_examples(), console(), wide=wide)  # type: ignore[arg-type]
    except OrchestratorError as exc:
        fail(str(exc))
