"""The `orchestrator-kit` command line. Each command calls one library function; no logic lives here.

Exit codes: 0 ok, 2 usage or input error (a clear `Error: ...` line on stderr, never a traceback).
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from . import __version__
from .errors import OrchestratorError

if TYPE_CHECKING:
    from .metrics.models import Metrics, OpportunityMatrix
    from .models import Inventory

    Extras = tuple[Metrics | None, OpportunityMatrix | None] | None

app = typer.Typer(
    name="orchestrator-kit",
    help="Map how a repository is built, tested, released and operated, with file and line evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Above this many files a scan shows a progress bar (on stderr, only when stderr is a terminal).
PROGRESS_THRESHOLD = 2000


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"orchestrator-kit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Map how a repository is built, tested, released and operated, with file and line evidence."""


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The repository (or any folder) to scan.")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table for people, json for machines, markdown for reports.")
    ] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to FILE instead of standard output.")
    ] = None,
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
        typer.Option("--metrics/--no-metrics", help="Add a metrics summary: git history (last 5,000 commits) and "
                     "pipelines (default: on for table and markdown, off for json)."),
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
    from .service import scan as scan_repository

    with ProgressReporter(progress) as report:
        try:
            inventory = scan_repository(path, max_file_bytes=max_file_size, progress=report,
                                        include_fixtures=include_fixtures)
        except OrchestratorError as exc:
            fail(str(exc))
    extras = None
    default = output_format is not OutputFormat.json  # json stays the bare Inventory unless asked
    if (metrics if metrics is not None else default) or (opportunities if opportunities is not None else default):
        from .cli_metrics import scan_extras

        try:
            extras = scan_extras(path, inventory, metrics=metrics if metrics is not None else default,
                                 opportunities=opportunities if opportunities is not None else default)
        except OrchestratorError as exc:
            fail(str(exc))
    _emit(inventory, output_format, output, extras)


@app.command("build-sample")
def build_sample(
    spec: Annotated[
        Path, typer.Argument(metavar="SPEC", help="A sample repository folder (e.g. evals/repos/acme-shop).")
    ],
    dest: Annotated[
        Path, typer.Argument(metavar="DEST", help="Where to create the git repository (must not exist, or be empty).")
    ],
) -> None:
    """Build a sample repository (files plus a scripted git history) as a real git repository at DEST."""
    from .samples import build_sample_repo

    try:
        result = build_sample_repo(spec, dest)
    except OrchestratorError as exc:
        fail(str(exc))
    typer.echo(f"Built {result.commits} commits and {result.tags} tags in {result.path}", err=True)


def _emit(inventory: Inventory, output_format: OutputFormat, output: Path | None, extras: Extras = None) -> None:
    from rich.console import Console

    from .report import render_markdown, render_tables

    if output_format is OutputFormat.json and extras is not None:
        from .metrics.models import ScanReport

        text = ScanReport(inventory=inventory, metrics=extras[0], opportunities=extras[1]).model_dump_json(indent=2)
        text += "\n"
    elif output_format is OutputFormat.json:
        text = inventory.model_dump_json(indent=2) + "\n"
    elif output_format is OutputFormat.markdown:
        text = render_markdown(inventory, extras)
    else:
        text = ""
    try:
        if output is None:
            if output_format is OutputFormat.table:
                render_tables(inventory, Console(), extras)
            else:
                sys.stdout.write(text)
            return
        with output.open("w", encoding="utf-8") as fh:
            if output_format is OutputFormat.table:
                render_tables(inventory, Console(file=fh, width=160, color_system=None, force_terminal=False), extras)
            else:
                fh.write(text)
    except OSError as exc:
        fail(f"cannot write '{output}': {exc.strerror or exc}")


class ProgressReporter:
    """A rich progress bar on stderr that appears once a scan proves to be big (or when asked)."""

    def __init__(self, wanted: bool | None) -> None:
        self.wanted = wanted
        self.bar: object | None = None
        self.task: object | None = None

    def __enter__(self) -> object:
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


# Each capability keeps its commands in its own module `cli_<area>.py`, with a `register(app)` function that adds
# them; those modules import their heavy parts (mcp, tiktoken, validators) inside the commands, never at import.
AREAS = ("metrics", "automation", "design", "mcp", "evals")


def _register_areas() -> None:
    import importlib

    for area in AREAS:
        try:
            module = importlib.import_module(f"{__package__}.cli_{area}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.cli_{area}":
                raise
            continue  # that capability has not landed yet
        module.register(app)


_register_areas()


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="orchestrator-kit")
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug of ours: say so plainly, keep the traceback for whoever asks
        if os.environ.get("ORCHESTRATOR_KIT_DEBUG"):
            raise
        typer.echo(
            f"Internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in orchestrator-kit; run again with ORCHESTRATOR_KIT_DEBUG=1 to see the traceback.",
            err=True,
        )
        sys.exit(70)  # EX_SOFTWARE
