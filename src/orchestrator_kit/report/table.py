"""The Inventory as rich tables, for a person at a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..fit import Col, print_fitted
from ..jobgraph import layering
from ..models import Inventory, Pipeline
from .markdown import SYSTEM_NAMES, procedure_title

if TYPE_CHECKING:
    from ..metrics.models import Metrics, OpportunityMatrix


def _short(text: str | None, limit: int = 80) -> str:
    value = (text or "").replace("\n", " ⏎ ")
    return value if len(value) <= limit else value[: limit - 1] + "…"


FILTER_VALUES = 3  # values of one filter shown in the table; the Markdown report and the JSON keep them all


def trigger_text(pipeline: Pipeline) -> str:
    """The pipeline's triggers with their filters: a tag-only release reads `push (tags: v*)`, not `push`. A filter
    with more than FILTER_VALUES values shows the first ones and how many more (a GitLab pipeline whose
    merge-request trigger comes from the rules of 70 jobs took 60 lines at 120 columns)."""
    parts = []
    for trig in pipeline.triggers:
        text = trig.event + (f" {trig.cron}" if trig.cron else "")
        if trig.filters:
            text += " (" + "; ".join(f"{k}: {_first(v)}" for k, v in trig.filters.items()) + ")"
        parts.append(text)
    return ", ".join(parts)


def _first(values: list[str]) -> str:
    more = len(values) - FILTER_VALUES
    return ", ".join(values[:FILTER_VALUES]) + (f", +{more} more" if more > 0 else "")


def render_tables(
    inventory: Inventory, console: Console, extras: tuple[Metrics | None, OpportunityMatrix | None] | None = None,
    *, wide: bool = False,
) -> None:
    """The inventory as tables fitted to the console's width (see `fit`); `wide` keeps every column whole."""
    git = inventory.git
    where = (
        f"git {git.head[:12]} on {git.branch or '(detached)'}" if git and git.head
        else "empty git repository" if git else "no git"
    )
    console.print(
        Text.assemble(("Inventory of ", "bold"), (inventory.root, "bold cyan"), f"  ({where}; "
                      f"{inventory.files_listed:,} files listed, {inventory.files_read:,} read)")
    )
    skipped = inventory.skipped_fixtures.note()
    if skipped:
        console.print(Text(skipped, style="dim"))
    if inventory.coverage:
        console.print(Text("Not read (an empty table is not proof of absence):", style="yellow"))
        for note in inventory.coverage:
            bullet = Table.grid(padding=(0, 1, 0, 0))  # the note wraps under its own text, not under the dash
            bullet.add_row(Text("  -", style="dim"), Text(note.note, style="dim"))
            console.print(bullet)
    def fit(title: str, columns: list[Col], rows: list[list[str | Text]]) -> None:
        print_fitted(console, title, columns, rows, wide=wide)

    if inventory.pipelines:
        summary: list[list[str | Text]] = []
        for p in inventory.pipelines:
            shape = layering(p)
            graph = " → ".join("{" + ", ".join(level) + "}" if len(level) > 1 else level[0] for level in shape.levels)
            if shape.cyclic:
                graph += f"  (cycle: {', '.join(shape.cyclic)})"
            summary.append([p.name, SYSTEM_NAMES.get(p.system, p.system), trigger_text(p), str(len(p.jobs)),
                            _short(graph, 120), str(p.evidence)])
        fit("Pipelines", [Col("Pipeline", "text"), Col("System", drop=3), Col("Triggers", "text"),
                          Col("Jobs", drop=4), Col("Job graph (levels)", "detail"), Col("Evidence", "id", drop=2)],
            summary)
        jobs: list[list[str | Text]] = []
        for p in inventory.pipelines:
            for j in p.jobs:
                manual = ("blocking" if j.blocking else "yes") if j.manual else ""
                jobs.append([p.name, j.id, ", ".join(j.needs), ", ".join(j.runs_on) or (j.image or ""),
                             "" if j.timeout_minutes is None else f"{j.timeout_minutes:g}m", str(len(j.steps)),
                             manual, str(j.evidence)])
        fit("Jobs", [Col("Pipeline", "text"), Col("Job", "id"), Col("Needs", "text", drop=3),
                     Col("Runs on", drop=5), Col("Timeout", drop=6), Col("Steps", drop=7), Col("Manual", drop=4),
                     Col("Evidence", "id", drop=2)], jobs)
    if inventory.tasks:
        fit("Tasks", [Col("Runner", drop=4), Col("Task", "id"), Col("Run with", "id", drop=3),
                      Col("Depends on", "text", drop=5), Col("Description", "detail"), Col("Evidence", "id", drop=2)],
            [[t.runner, t.name, t.invocation, ", ".join(t.depends_on), _short(t.description), str(t.evidence)]
             for t in inventory.tasks])
    if inventory.schedules:
        fit("Schedules", [Col("Source", drop=3), Col("Expression", "id"), Col("When", "text"), Col("Runs", "detail"),
                          Col("Evidence", "id", drop=2)],
            [[s.source, s.expression, s.explanation, _short(s.target), str(s.evidence)] for s in inventory.schedules])
    if inventory.procedures:
        rows: list[list[str | Text]] = []
        for proc in inventory.procedures:
            coverage = "-" if proc.automation_coverage is None else f"{proc.automation_coverage:.0%}"
            rows.append([proc.id, procedure_title(proc), str(len(proc.steps)), ", ".join(proc.markers), coverage,
                         str(proc.evidence)])
        fit("Manual procedures (ID: generate --from-procedure ID)",
            [Col("ID", "id"), Col("Procedure", "text", drop=1), Col("Steps", drop=4), Col("Markers", "text", drop=3),
             Col("Automated", drop=5), Col("Evidence", "id", drop=2)], rows)
    if inventory.infrastructure:
        fit("Containers and infrastructure",
            [Col("Kind", drop=2), Col("Name", "id"), Col("Details", "detail"), Col("Evidence", "id", drop=1)],
            [[item.kind, item.name, _short("; ".join(
                f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in item.attributes.items()), 100),
              str(item.evidence)] for item in inventory.infrastructure])
    if inventory.diagnostics:
        styles = {"error": "red", "warning": "yellow", "info": "dim"}
        fit("Diagnostics", [Col("Where", "id"), Col("Severity", drop=1), Col("Reason", "text")],
            [[f"{d.path}:{d.line}" if d.line else d.path, Text(d.severity, style=styles[d.severity]), d.reason]
             for d in inventory.diagnostics])
    if not (inventory.pipelines or inventory.tasks or inventory.schedules or inventory.procedures
            or inventory.infrastructure):
        console.print("Nothing found in the files the scan reads; see 'Not read' above." if inventory.coverage else
                      "Nothing found: no CI pipeline, task runner, schedule, runbook or infrastructure file.")
    if extras is not None:  # the metrics summary and opportunity matrix of `scan --metrics --opportunities`
        from .metrics import extras_tables

        extras_tables(*extras, console, wide=wide)
