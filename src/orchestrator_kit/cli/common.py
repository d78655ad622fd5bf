"""What every command of the CLI shares: the error exit, the output formats, and writing a result to stdout or a file.

Exit codes: 0 ok, 1 a findings gate failed (validate, simulate, export), 2 usage or input error (a clear
`Error: ...` line on stderr, never a traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ..terminal import printable, safe_console

if TYPE_CHECKING:
    from rich.console import Console

# Width of tables written to a file (a terminal uses its own width).
FILE_WIDTH = 160


class OutputFormat(StrEnum):
    """Reports (scan, metrics, opportunities): tables for people, json for machines, markdown for documents."""

    table = "table"
    json = "json"
    markdown = "markdown"


class ReportFormat(StrEnum):
    """Findings (design validate/simulate/rules): tables for people, json for machines."""

    table = "table"
    json = "json"


class TextFormat(StrEnum):
    """Results of actions (generate, validate, undo): lines of text for people, json for machines."""

    text = "text"
    json = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table for people, json for machines, markdown for reports.")
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress display on stderr (it is shown only at a terminal anyway).")
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option("--exclude", metavar="GLOB", help="Leave out paths matching GLOB, relative to PATH (repeatable; "
                 "adds to the team config's [scan] exclude)."),
]
WideOption = Annotated[
    bool, typer.Option("--wide", help="Tables keep every column whole, wider than the terminal if need be.")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to FILE instead of standard output.")
]


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """`typer.echo` of text that may hold repository text: its control characters are shown, not sent (`terminal`)."""
    typer.echo(printable(message), err=err, nl=nl)


def fail(message: str) -> NoReturn:
    """Print `Error: message` on stderr and exit 2 (bad input or usage; never a traceback)."""
    echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def console() -> Console:
    """A rich console on standard output that shows control characters instead of sending them (`terminal`)."""
    return safe_console()


def write_text(text: str, output: Path | None) -> None:
    """`text` to standard output, or to the file `output` (a write error exits 2)."""
    text = printable(text)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write '{output}': {exc.strerror or exc}")


def write_report(
    fmt: OutputFormat, output: Path | None, as_json: Callable[[], str], as_markdown: Callable[[], str],
    as_tables: Callable[[Console], None],
) -> None:
    """A report in `fmt`, to standard output or the file `output`: only the chosen rendering is computed; tables
    written to a file are plain text, FILE_WIDTH wide. A write error exits 2. Rich is imported for tables only."""
    text = printable(as_json() if fmt is OutputFormat.json else as_markdown() if fmt is OutputFormat.markdown else "")
    try:
        if output is None:
            if fmt is OutputFormat.table:
                as_tables(safe_console())
            else:
                sys.stdout.write(text)
            return
        with output.open("w", encoding="utf-8") as fh:
            if fmt is OutputFormat.table:
                as_tables(safe_console(file=fh, width=FILE_WIDTH, color_system=None, force_terminal=False))
            else:
                fh.write(text)
    except OSError as exc:
        fail(f"cannot write '{output}': {exc.strerror or exc}")
