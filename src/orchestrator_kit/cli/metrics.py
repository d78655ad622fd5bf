"""`orchestrator-kit metrics` and `orchestrator-kit opportunities`.

Both call `assessment.assess` (the composition every face shares, with the same defaults); tiktoken and GitPython
are imported inside the commands, never when the CLI starts.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..assessment import DEFAULT_MAX_COMMITS, DEFAULT_TOP, MAX_COMMITS_LIMIT, MAX_TOP
from ..errors import OrchestratorError
from .common import ExcludeOption, FormatOption, OutputFormat, OutputOption, QuietOption, WideOption, fail, write_report
from .progress import LiveProgress, wanted

SinceOption = Annotated[
    str | None,
    typer.Option(help="Only commits since this date (YYYY-MM-DD, ISO time) or period ('90 days', '12w', '6 months')."),
]
MaxCommitsOption = Annotated[
    int, typer.Option(help="Read at most this many recent commits.", min=1, max=MAX_COMMITS_LIMIT)
]


class Part(StrEnum):
    history = "history"
    pipelines = "pipelines"
    tokens = "tokens"


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics_command)
    app.command("opportunities")(opportunities_command)


def metrics_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The repository to measure.")],
    output_format: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    max_commits: MaxCommitsOption = DEFAULT_MAX_COMMITS,
    paths: Annotated[
        list[str] | None,
        typer.Option("--path", help="Only history under this path or glob (repeatable), relative to PATH."),
    ] = None,
    only: Annotated[
        list[Part] | None,
        typer.Option("--only", help="Compute only this part (repeatable), with no other work: history (no scan, no "
                     "tokens), pipelines (the CI detectors only) or tokens. Parts left out are listed as not "
                     "computed."),
    ] = None,
    renames: Annotated[
        bool, typer.Option("--renames/--no-renames", help="Follow renames (git -M) or count them as delete + add.")
    ] = True,
    tokens: Annotated[bool, typer.Option("--tokens/--no-tokens", help="Count tokens per file (tiktoken).")] = True,
    top: Annotated[int, typer.Option(help="Rows per list (files, directories, pairs).", min=1, max=MAX_TOP)] = (
        DEFAULT_TOP
    ),
    include_generated: Annotated[
        bool, typer.Option("--include-generated", help="Keep generated files (lock files, linguist-generated, "
                           "vendored and generated paths) in hotspots, the churn list and coupling; by default "
                           "they are counted "
                           "and left out."),
    ] = False,
    include_fixtures: Annotated[
        bool, typer.Option("--include-fixtures", help="Keep what test fixtures gave: in the scan, and coupled pairs "
                           "of two fixture files (testdata/, fixtures/, ...), left out and counted by default."),
    ] = False,
    quiet: QuietOption = False,
    wide: WideOption = False,
    exclude: ExcludeOption = None,
) -> None:
    """Git history (churn, hotspots, coupling, bus factor, DORA proxies), pipeline and token metrics of PATH."""
    from ..assessment import assess, measure

    if only and not tokens and Part.tokens in only:
        fail("--only tokens and --no-tokens contradict each other.")
    with LiveProgress(wanted(None, quiet)) as live:
        try:
            if only:
                result = measure(path, parts=[p.value for p in only], since=since, max_commits=max_commits,
                                 paths=paths or [], renames=renames, top=top, exclude=exclude or [], hooks=live.hooks,
                                 include_generated=include_generated, include_fixtures=include_fixtures)
            else:
                result = assess(path, since=since, max_commits=max_commits, paths=paths or [], renames=renames,
                                tokens=tokens, top=top, exclude=exclude or [], hooks=live.hooks,
                                include_generated=include_generated, include_fixtures=include_fixtures).metrics
        except OrchestratorError as exc:
            live.close()
            fail(str(exc))
    from ..report.metrics import render_metrics_markdown, render_metrics_tables

    write_report(output_format, output, lambda: result.model_dump_json(indent=2) + "\n",
                 lambda: render_metrics_markdown(result),
                 lambda console: render_metrics_tables(result, console, wide=wide))


def opportunities_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The repository to assess.")],
    output_format: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    max_commits: MaxCommitsOption = DEFAULT_MAX_COMMITS,
    quiet: QuietOption = False,
    wide: WideOption = False,
    exclude: ExcludeOption = None,
) -> None:
    """The automation opportunity matrix of PATH: candidates scored by frequency, duration, complexity, risk."""
    from ..assessment import assess

    with LiveProgress(wanted(None, quiet)) as live:
        try:
            matrix = assess(path, since=since, max_commits=max_commits, exclude=exclude or [],
                            hooks=live.hooks).matrix
        except OrchestratorError as exc:
            live.close()
            fail(str(exc))
    from ..report.metrics import render_opportunities_markdown, render_opportunities_tables

    write_report(output_format, output, lambda: matrix.model_dump_json(indent=2) + "\n",
                 lambda: render_opportunities_markdown(matrix),
                 lambda console: render_opportunities_tables(matrix, console, wide=wide))
