"""The `orchestrator-kit` Typer application. Each command calls one library function; no logic lives here.

One module per area, each with a `register(app)` that adds its commands: `scan` (scan, build-sample), `metrics`
(metrics, opportunities), `tokens`, `automation` (generate, validate, undo), `design` (the `design` group), `mcp`,
`evals` (the `eval` group), `agent` (run, check-report), `install` (install, uninstall). What they
share (the error exit, output formats, writing to stdout or a file) is in `common`. Area modules import their heavy
parts (mcp, tiktoken, GitPython, validators) inside the commands, never at import, so `--help` stays quick.

Exit codes: 0 ok, 1 a findings gate failed, 2 usage or input error (a clear `Error: ...` line on stderr, never a
traceback), 70 a bug of ours, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from .. import __version__
from . import agent, automation, design, evals, install, mcp, metrics, scan, tokens
from .helpnames import TidyGroup

app = typer.Typer(
    name="orchestrator-kit",
    cls=TidyGroup,
    help="Map how a repository is built, tested, released and operated, with file and line evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


for area in (scan, metrics, tokens, automation, design, mcp, evals, agent, install):
    area.register(app)


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


__all__ = ["app", "main"]
