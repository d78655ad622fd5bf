"""`orchestrator-kit tokens PATH`: token counts per file, per directory and in total, and nothing else.

No scan, no git history: only `metrics.tokens.count_tokens`, with its cache keyed by git blob id, so a second run on
an unchanged checkout reads no file content. tiktoken is imported inside the command, never when the CLI starts.
`cli.main` runs the plain `--format json` form in `fasttokens` instead (no Typer, no pydantic); this command runs
everything else.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import OrchestratorError
from .common import FormatOption, OutputFormat, OutputOption, QuietOption, WideOption, fail, write_report
from .fasttokens import MAX_DIR_DEPTH, MAX_TOP

if TYPE_CHECKING:
    from rich.console import Console



def register(app: typer.Typer) -> None:
    app.command("tokens")(tokens_command)


def tokens_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The repository or folder to count.")],
    output_format: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    top: Annotated[int, typer.Option(help="Files listed, largest first.", min=1, max=MAX_TOP)] = 20,
    dir_depth: Annotated[
        int, typer.Option(help="Directories are totalled this many folders deep.", min=1, max=MAX_DIR_DEPTH)
    ] = 2,
    cache: Annotated[
        bool, typer.Option("--cache/--no-cache", help="Reuse counts of unchanged files (keyed by git blob id).")
    ] = True,
    wide: WideOption = False,
    quiet: QuietOption = False,
) -> None:
    """Tokens per file, per directory and in total (tiktoken cl100k_base; estimates of Claude's tokens)."""
    from ..metrics.tokens import count_tokens

    try:
        if not quiet and sys.stderr.isatty():  # a cold count of a big checkout takes seconds: say so at a terminal
            from .progress import LiveProgress  # (only there: a pipe or a file loads no display, no Rich)

            with LiveProgress(True) as live:
                live.hooks.stage("counting tokens")
                result = count_tokens(path, top=top, dir_depth=dir_depth, use_cache=cache)
        else:
            result = count_tokens(path, top=top, dir_depth=dir_depth, use_cache=cache)
    except OrchestratorError as exc:
        fail(str(exc))
    except OSError as exc:  # a path the system refuses outright (too long, a loop of symlinks)
        fail(f"cannot read '{str(path)[:200]}': {exc.strerror or exc}")

    def as_markdown() -> str:
        from ..report.metrics import tokens_markdown  # the renderers (and Rich) only for the format that needs them

        return "\n".join(["# Tokens", "", *tokens_markdown(result.model())]) + "\n"

    def as_tables(console: Console) -> None:
        from ..report.metrics import render_tokens_tables

        render_tokens_tables(result.model(), console, wide=wide)

    write_report(output_format, output, lambda: result.json() + "\n", as_markdown, as_tables)
