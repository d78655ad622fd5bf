"""`orchestrator-kit scan` and `build-sample`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..assessment import DEFAULT_MAX_COMMITS
from ..errors import OrchestratorError
from .common import (
    ExcludeOption,
    FormatOption,
    OutputFormat,
    OutputOption,
    QuietOption,
    WideOption,
    echo,
    fail,
    write_report,
)
from .progress import LiveProgress, wanted

if TYPE_CHECKING:
    from ..metrics.models import Metrics, OpportunityMatrix
    from ..models import Inventory

    Extras = tuple[Metrics | None, OpportunityMatrix | None] | None

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
            "--progress/--no-progress", help="Show progress on stderr (default: only when stderr is a terminal)."
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
    cache: Annotated[
        bool,
        typer.Option("--cache/--no-cache", help="Reuse what the last scan of PATH found in the documents, manifests, "
                     "workflows, scripts and Terraform folders that did not change since (the same result, sooner; "
                     "kept in the user's cache folder, $ORCHESTRATOR_KIT_CACHE_DIR)."),
    ] = True,
    quiet: QuietOption = False,
    wide: WideOption = False,
    exclude: ExcludeOption = None,
) -> None:
    """Inventory the pipelines, tasks, schedules, runbooks and infrastructure of PATH. Reads only; runs nothing."""
    from ..service import scan as scan_repository

    extras: Extras = None
    default = output_format is not OutputFormat.json  # json stays the bare Inventory unless asked
    want_metrics = metrics if metrics is not None else default
    want_opportunities = opportunities if opportunities is not None else default
    with LiveProgress(wanted(progress, quiet), forced=progress is True) as live:
        try:
            live.hooks.stage("scanning files")
            from ..assessment import all_excludes

            inventory = scan_repository(path, max_file_bytes=max_file_size, progress=live.hooks.progress,
                                        include_fixtures=include_fixtures, remember=cache,
                                        exclude=all_excludes(path, exclude or []) if path.is_dir() else [])
            if want_metrics or want_opportunities:
                extras = scan_extras(path, inventory, metrics=want_metrics, opportunities=want_opportunities,
                                     live=live, exclude=exclude or [])
        except OrchestratorError as exc:
            live.close()
            fail(str(exc))
    _emit(inventory, output_format, output, extras, wide=wide)


def scan_extras(path: Path, inventory: Inventory, *, metrics: bool, opportunities: bool,
                live: LiveProgress | None = None, exclude: Sequence[str] = ()) -> Extras:
    """The metrics summary (history and pipelines; no tokens) and the opportunity matrix for `scan`, from
    `assessment.assess` with its defaults. Raises OrchestratorError like the scan itself."""
    from ..assessment import NO_HOOKS, assess

    result = assess(path, inventory=inventory, exclude=exclude, hooks=live.hooks if live is not None else NO_HOOKS)
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
    echo(f"Built {result.commits} commits and {result.tags} tags in {result.path}", err=True)


def _emit(inventory: Inventory, output_format: OutputFormat, output: Path | None, extras: Extras, *,
          wide: bool = False) -> None:
    from ..report import render_markdown, render_tables

    def as_json() -> str:
        if extras is None:
            return inventory.model_dump_json(indent=2) + "\n"
        from ..metrics.models import ScanReport

        report = ScanReport(inventory=inventory, metrics=extras[0], opportunities=extras[1])
        return report.model_dump_json(indent=2) + "\n"

    write_report(output_format, output, as_json, lambda: render_markdown(inventory, extras),
                 lambda console: render_tables(inventory, console, extras, wide=wide))
