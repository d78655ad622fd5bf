"""`orchestrator-kit scan` and `build-sample`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..assessment import DEFAULT_MAX_COMMITS
from ..errors import OrchestratorError
from .common import FormatOption, OutputFormat, OutputOption, fail, write_report

if TYPE_CHECKING:
    from ..metrics.models import Metrics, OpportunityMatrix
    from ..models import Inventory

    Extras = tuple[Metrics | None, OpportunityMatrix | None] | None

# Above this many files a scan shows a progress bar (on stderr, only when stderr is a terminal).
PROGRESS_THRESHOLD = 2000


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("build-sample")(build_sample)


def scan(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The repository (or any folder) to scan.")],
    output_format: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    max_file_size: Annotated[
        int, typer.Option(help="Files larger than this many bytes are not read (reported as diagnostics).", min=1)
    ] = 2 * 1024 * 1024,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress", help="Show a progress bar on stderr (default: on big repos at a terminal)."
        ),
    ] = None,
    metrics: Annotated[
        bool | None,
        typer.Option("--metrics/--no-metrics", help=f"Add a metrics summary: git history (newest "
                     f"{DEFAULT_MAX_COMMITS:,} commits) and pipelines (default: on for table and markdown, off for "
                     "json)."),
    ] = None,
    opportunities: Annotated[
        bool | None,
        typer.Option("--opportunities/--no-opportunities", help="Add the automation opportunity matrix "
                     "(default: on for table and markdown, off for json)."),
    ] = None,
    include_fixtures: Annotated[
        bool,
        typer.Option("--include-fixtures", help="Keep what test fixtures (testdata/, fixtures/, ...) and copies of "
                     "other projects hold; by default it is only counted."),
    ] = False,
) -> None:
    """Inventory the pipelines, tasks, schedules, runbooks and infrastructure of PATH. Reads only; runs nothing."""
    from ..service import scan as scan_repository

    with ProgressReporter(progress) as report:
        try:
            inventory = scan_repository(path, max_file_bytes=max_file_size, progress=report,
                                        include_fixtures=include_fixtures)
        except OrchestratorError as exc:
            fail(str(exc))
    extras: Extras = None
    default = output_format is not OutputFormat.json  # json stays the bare Inventory unless asked
    want_metrics = metrics if metrics is not None else default
    want_opportunities = opportunities if opportunities is not None else default
    if want_metrics or want_opportunities:
        try:
            extras = scan_extras(path, inventory, metrics=want_metrics, opportunities=want_opportunities)
        except OrchestratorError as exc:
            fail(str(exc))
    _emit(inventory, output_format, output, extras)


def scan_extras(path: Path, inventory: Inventory, *, metrics: bool, opportunities: bool) -> Extras:
    """The metrics summary (history and pipelines; no tokens) and the opportunity matrix for `scan`, from
    `assessment.assess` with its defaults. Raises OrchestratorError like the scan itself."""
    from ..assessment import assess

    result = assess(path, inventory=inventory)
    return (result.metrics if metrics else None), (result.matrix if opportunities else None)


def build_sample(
    spec: Annotated[
        Path, typer.Argument(metavar="SPEC", help="A sample repository folder (e.g. evals/repos/acme-shop).")
    ],
    dest: Annotated[
        Path, typer.Argument(metavar="DEST", help="Where to create the git repository (must not exist, or be empty).")
    ],
) -> None:
    """Build a sample repository (files plus a scripted git history) as a real git repository at DEST."""
    from ..samples import build_sample_repo

    try:
        result = build_sample_repo(spec, dest)
    except OrchestratorError as exc:
        fail(str(exc))
    typer.echo(f"Built {result.commits} commits and {result.tags} tags in {result.path}", err=True)


def _emit(inventory: Inventory, output_format: OutputFormat, output: Path | None, extras: Extras) -> None:
    from ..report import render_markdown, render_tables

    def as_json() -> str:
        if extras is None:
            return inventory.model_dump_json(indent=2) + "\n"
        from ..metrics.models import ScanReport

        report = ScanReport(inventory=inventory, metrics=extras[0], opportunities=extras[1])
        return report.model_dump_json(indent=2) + "\n"

    write_report(output_format, output, as_json, lambda: render_markdown(inventory, extras),
                 lambda console: render_tables(inventory, console, extras))


class ProgressReporter:
    """A rich progress bar on stderr that appears once a scan proves to be big (or when asked)."""

    def __init__(self, wanted: bool | None) -> None:
        self.wanted = wanted
        self.bar: object | None = None
        self.task: object | None = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if self.wanted is False or (self.wanted is None and not sys.stderr.isatty()):
            return None
        return self.update

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            if self.wanted is None and total < PROGRESS_THRESHOLD:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True, force_terminal=self.wanted or None), transient=self.wanted is None,
            )
            self.bar.start()  # type: ignore[attr-defined]
            self.task = self.bar.add_task("scan", total=total)  # type: ignore[attr-defined]
        self.bar.update(self.task, completed=done)  # type: ignore[attr-defined]

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()  # type: ignore[attr-defined]
