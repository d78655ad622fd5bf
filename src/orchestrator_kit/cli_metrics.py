"""`orchestrator-kit metrics` and `orchestrator-kit opportunities`; also what `scan --metrics/--opportunities` adds.

Each command calls one library function (`metrics.collect_metrics`, `opportunities.opportunities`); tiktoken and
GitPython are imported inside them, never when the CLI starts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from .errors import OrchestratorError

if TYPE_CHECKING:
    from rich.console import Console

    from .metrics.models import Metrics, OpportunityMatrix
    from .models import Inventory

# `scan` reads at most this many recent commits for its metrics summary, so that it stays quick on big histories.
SCAN_MAX_COMMITS = 5000



class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="table for people, json for machines, markdown for reports.")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to FILE instead of standard output.")
]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Only commits since this date (YYYY-MM-DD, ISO time) or period ('90 days', '12w', '6 months')."),
]
MaxCommitsOption = Annotated[int | None, typer.Option(help="Read at most this many recent commits.", min=1)]


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics_command)
    app.command("opportunities")(opportunities_command)


def metrics_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The repository to measure.")],
    output_format: FormatOption = Format.table,
    output: OutputOption = None,
    since: SinceOption = None,
    max_commits: MaxCommitsOption = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--path", help="Only history under this path or glob (repeatable), relative to PATH."),
    ] = None,
    renames: Annotated[
        bool, typer.Option("--renames/--no-renames", help="Follow renames (git -M) or count them as delete + add.")
    ] = True,
    tokens: Annotated[bool, typer.Option("--tokens/--no-tokens", help="Count tokens per file (tiktoken).")] = True,
    top: Annotated[int, typer.Option(help="Rows per list (files, directories, pairs).", min=1, max=1000)] = 20,
) -> None:
    """Git history (churn, hotspots, coupling, bus factor, DORA proxies), pipeline and token metrics of PATH."""
    from .metrics import collect_metrics

    try:
        result = collect_metrics(path, since=since, max_commits=max_commits, paths=only or [], renames=renames,
                                 tokens=tokens, top=top)
    except OrchestratorError as exc:
        _fail(str(exc))
    from .report.metrics import render_metrics_markdown, render_metrics_tables

    _write(output_format, output, lambda: result.model_dump_json(indent=2) + "\n",
           lambda: render_metrics_markdown(result), lambda console: render_metrics_tables(result, console))


def opportunities_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The repository to assess.")],
    output_format: FormatOption = Format.table,
    output: OutputOption = None,
    since: SinceOption = None,
    max_commits: MaxCommitsOption = None,
) -> None:
    """The automation opportunity matrix of PATH: candidates scored by frequency, duration, complexity, risk."""
    from .opportunities import opportunities

    try:
        matrix = opportunities(str(path), since=since, max_commits=max_commits)
    except OrchestratorError as exc:
        _fail(str(exc))
    from .report.metrics import render_opportunities_markdown, render_opportunities_tables

    _write(output_format, output, lambda: matrix.model_dump_json(indent=2) + "\n",
           lambda: render_opportunities_markdown(matrix), lambda console: render_opportunities_tables(matrix, console))


# ------------------------------------------------------------------ what `scan` adds


def scan_extras(
    path: Path, inventory: Inventory, *, metrics: bool, opportunities: bool
) -> tuple[Metrics | None, OpportunityMatrix | None]:
    """The metrics summary (history of the last SCAN_MAX_COMMITS commits, pipelines; no tokens) and the opportunity
    matrix for `scan`. Raises OrchestratorError like the scan itself."""
    from .metrics import collect_metrics
    from .opportunities import opportunity_matrix

    collected = collect_metrics(path, inventory=inventory, max_commits=SCAN_MAX_COMMITS, tokens=False, top=10)
    matrix = opportunity_matrix(inventory, collected.pipelines, collected.history) if opportunities else None
    return (collected if metrics else None), matrix


def extras_markdown(metrics: Metrics | None, matrix: OpportunityMatrix | None) -> str:
    from .report.metrics import opportunities_markdown, render_metrics_markdown

    parts: list[str] = []
    if metrics is not None:
        parts.append(render_metrics_markdown(metrics, summary=True, title=False))
    if matrix is not None:
        parts.append("\n".join(opportunities_markdown(matrix)).rstrip() + "\n")
    return "\n".join(parts)


def extras_tables(metrics: Metrics | None, matrix: OpportunityMatrix | None, console: Console) -> None:
    from .report.metrics import render_metrics_tables, render_opportunities_tables

    if metrics is not None:
        render_metrics_tables(metrics, console, summary=True)
    if matrix is not None:
        render_opportunities_tables(matrix, console)


# ------------------------------------------------------------------ output


def _fail(message: str) -> NoReturn:
    from .cli import fail

    fail(message)


def _write(
    fmt: Format, output: Path | None, as_json: Callable[[], str], as_markdown: Callable[[], str],
    as_tables: Callable[[Console], None],
) -> None:
    from rich.console import Console

    text = as_json() if fmt is Format.json else as_markdown() if fmt is Format.markdown else ""
    try:
        if output is None:
            if fmt is Format.table:
                as_tables(Console())
            else:
                sys.stdout.write(text)
            return
        with output.open("w", encoding="utf-8") as fh:
            if fmt is Format.table:
                as_tables(Console(file=fh, width=160, color_system=None, force_terminal=False))
            else:
                fh.write(text)
    except OSError as exc:
        _fail(f"cannot write '{output}': {exc.strerror or exc}")
