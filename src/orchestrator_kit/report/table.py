"""The Inventory as rich tables, for a person at a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..jobgraph import layering
from ..models import Inventory
from .markdown import SYSTEM_NAMES, procedure_title

if TYPE_CHECKING:
    from ..metrics.models import Metrics, OpportunityMatrix


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row of repository text: plain `Text`, so `[dev]` or `[/tmp]` is shown, not read as rich markup."""
    table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in cells))


def _short(text: str | None, limit: int = 80) -> str:
    value = (text or "").replace("\n", " ⏎ ")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def render_tables(
    inventory: Inventory, console: Console, extras: tuple[Metrics | None, OpportunityMatrix | None] | None = None
) -> None:
    git = inventory.git
    where = (
        f"git {git.head[:12]} on {git.branch or '(detached)'}" if git and git.head
        else "empty git repository" if git else "no git"
    )
    console.print(
        Text.assemble(("Inventory of ", "bold"), (inventory.root, "bold cyan"), f"  ({where}; "
                      f"{inventory.files_listed} files listed, {inventory.files_read} read)")
    )
    skipped = inventory.skipped_fixtures.note()
    if skipped:
        console.print(Text(skipped, style="dim"))
    if inventory.pipelines:
        summary = Table(title="Pipelines", title_justify="left", expand=False)
        for column in ("Pipeline", "System", "Triggers", "Jobs", "Job graph (levels)", "Evidence"):
            summary.add_column(column, overflow="fold")
        for p in inventory.pipelines:
            shape = layering(p)
            graph = " → ".join("{" + ", ".join(level) + "}" if len(level) > 1 else level[0] for level in shape.levels)
            if shape.cyclic:
                graph += f"  (cycle: {', '.join(shape.cyclic)})"
            triggers = ", ".join(t.event + (f" {t.cron}" if t.cron else "") for t in p.triggers)
            _row(summary, p.name, SYSTEM_NAMES.get(p.system, p.system), triggers, str(len(p.jobs)),
                            _short(graph, 120), str(p.evidence))
        console.print(summary)
        jobs = Table(title="Jobs", title_justify="left")
        for column in ("Pipeline", "Job", "Needs", "Runs on", "Timeout", "Steps", "Manual", "Evidence"):
            jobs.add_column(column, overflow="fold")
        for p in inventory.pipelines:
            for j in p.jobs:
                manual = ("blocking" if j.blocking else "yes") if j.manual else ""
                _row(jobs, p.name, j.id, ", ".join(j.needs), ", ".join(j.runs_on) or (j.image or ""),
                             "" if j.timeout_minutes is None else f"{j.timeout_minutes:g}m", str(len(j.steps)),
                             manual, str(j.evidence))
        console.print(jobs)
    if inventory.tasks:
        tasks = Table(title="Tasks", title_justify="left")
        for column in ("Runner", "Task", "Run with", "Depends on", "Description", "Evidence"):
            tasks.add_column(column, overflow="fold")
        for t in inventory.tasks:
            _row(tasks, t.runner, t.name, t.invocation, ", ".join(t.depends_on), _short(t.description),
                          str(t.evidence))
        console.print(tasks)
    if inventory.schedules:
        schedules = Table(title="Schedules", title_justify="left")
        for column in ("Source", "Expression", "When", "Runs", "Evidence"):
            schedules.add_column(column, overflow="fold")
        for s in inventory.schedules:
            _row(schedules, s.source, s.expression, s.explanation, _short(s.target), str(s.evidence))
        console.print(schedules)
    if inventory.procedures:
        procedures = Table(title="Manual procedures", title_justify="left")
        for column in ("Procedure", "Steps", "Markers", "Automated", "Evidence"):
            procedures.add_column(column, overflow="fold")
        for proc in inventory.procedures:
            coverage = "-" if proc.automation_coverage is None else f"{proc.automation_coverage:.0%}"
            _row(procedures,
                procedure_title(proc), str(len(proc.steps)), ", ".join(proc.markers), coverage, str(proc.evidence)
            )
        console.print(procedures)
    if inventory.infrastructure:
        infra = Table(title="Containers and infrastructure", title_justify="left")
        for column in ("Kind", "Name", "Details", "Evidence"):
            infra.add_column(column, overflow="fold")
        for item in inventory.infrastructure:
            details = "; ".join(
                f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in item.attributes.items()
            )
            _row(infra, item.kind, item.name, _short(details, 100), str(item.evidence))
        console.print(infra)
    if inventory.diagnostics:
        diags = Table(title="Diagnostics", title_justify="left")
        for column in ("Severity", "Path", "Line", "Reason"):
            diags.add_column(column, overflow="fold")
        styles = {"error": "red", "warning": "yellow", "info": "dim"}
        for d in inventory.diagnostics:
            _row(diags, Text(d.severity, style=styles[d.severity]), d.path, str(d.line or ""), d.reason)
        console.print(diags)
    if not (inventory.pipelines or inventory.tasks or inventory.schedules or inventory.procedures
            or inventory.infrastructure):
        console.print("Nothing found: no CI pipeline, task runner, schedule, runbook or infrastructure file.")
    if extras is not None:  # the metrics summary and opportunity matrix of `scan --metrics --opportunities`
        from .metrics import extras_tables

        extras_tables(*extras, console)
