"""The `orchestrator-kit` Typer application. Each command calls one library function; no logic lives here.

One module per area, each with a `register(app)` that adds its commands: `scan` (scan, build-sample), `metrics`
(metrics, opportunities), `tokens`, `automation` (generate, validate, undo), `design` (the `design` group), `mcp`,
`evals` (the `eval` group), `agent` (run, check-report), `install` (install, uninstall). What they
share (the error exit, output formats, writing to stdout or a file) is in `common`. Area modules import their heavy
parts (mcp, tiktoken, GitPython, validators) inside the commands, never at import, so `--help` stays quick; and
a command runs in an app that holds only its own area (`app_for`), so it never imports the others.

Exit codes: 0 ok, 1 a findings gate failed, 2 usage or input error (a clear `Error: ...` line on stderr, never a
traceback), 70 a bug of ours, 130 interrupted.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from .. import __version__
from .helpnames import TidyGroup

# Each area module and the commands its `register(app)` adds (the help lists them in this order). A command runs in
# an app holding only its own area, so that `orchestrator-kit tokens` or `mcp` imports no other area's module
# (tests/test_cli_areas.py checks this table against the full app).
AREAS: dict[str, tuple[str, ...]] = {
    "scan": ("scan", "build-sample"),
    "metrics": ("metrics", "opportunities"),
    "tokens": ("tokens",),
    "automation": ("generate", "validate", "undo"),
    "design": ("design",),
    "mcp": ("mcp",),
    "evals": ("eval",),
    "agent": ("run", "check-report"),
    "install": ("install", "uninstall"),
}
AREA_OF = {command: area for area, commands in AREAS.items() for command in commands}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"orchestrator-kit {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Map how a repository is built, tested, released and operated, with file and line evidence."""


def build_app(areas: Iterable[str] = AREAS) -> typer.Typer:
    """The application with the commands of `areas` (all of them by default)."""
    application = typer.Typer(
        name="orchestrator-kit",
        cls=TidyGroup,
        help="Map how a repository is built, tested, released and operated, with file and line evidence.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    application.callback()(root)
    for area in areas:
        importlib.import_module(f".{area}", __package__).register(application)
    return application


def app_for(args: list[str]) -> typer.Typer:
    """The app that runs `args`: only the area of a known command given first, else the whole application (the
    top-level help, --version, a mistyped command: what Typer prints there names every command)."""
    area = AREA_OF.get(args[0]) if args else None
    return build_app([area]) if area is not None else __getattr__("app")


app: typer.Typer  # declared for type checkers and `__all__`; the module's __getattr__ builds it
_full: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    """`app`, the whole application, built on first use (PEP 562)."""
    global _full
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _full is None:
        _full = build_app()
    return _full


def main() -> None:
    """Console-script entry point."""
    try:
        app_for(sys.argv[1:])(prog_name="orchestrator-kit")
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug of ours: say so plainly, keep the traceback for whoever asks
        if os.environ.get("ORCHESTRATOR_KIT_DEBUG"):
            raise
        from ..terminal import printable  # the message may quote repository text

        typer.echo(
            printable(f"Internal error: {type(exc).__name__}: {exc}\n")
            + "This is a bug in orchestrator-kit; run again with ORCHESTRATOR_KIT_DEBUG=1 to see the traceback.",
            err=True,
        )
        sys.exit(70)  # EX_SOFTWARE


__all__ = ["app", "main"]
