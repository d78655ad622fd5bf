"""The `orchestrator-kit` command line: the Typer application `app` lives in `typer_app` (one module per area
adds its commands).

This module stays tiny so that the console script starts fast: `main()` answers `--version` without importing
Typer, Rich or any area, replays a help screen Typer printed before for the same circumstances (`helpcache`), and
`app` is loaded on first use (PEP 562 module `__getattr__`), so
`from orchestrator_kit.cli import app` still works for the README generator and the tests.
"""

from __future__ import annotations

import importlib
import sys

from . import helpcache

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (10 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

    from .typer_app import app as app


def main() -> None:
    """Console-script entry point. `--version` alone is answered here, and a help screen recorded earlier is
    replayed; `tokens PATH --format json` runs in `fasttokens` when it takes the arguments; everything else goes to
    the Typer app."""
    from .. import __version__  # the package root imports only the error classes

    args = sys.argv[1:]
    if args == ["--version"]:
        sys.stdout.write(f"orchestrator-kit {__version__}\n")
        return
    if helpcache.wants_help(args):
        code = helpcache.replay(args, __version__)
        if code is not None:
            sys.exit(code)
        helpcache.record(args, __version__, _typer_main)
        return
    from ..terminal import printable_warnings

    printable_warnings()  # a warning may quote a repository's text (a SyntaxWarning on a file a detector parses)
    if args and args[0] == "tokens":  # the JSON report runs without Typer or pydantic when it can (`fasttokens`)
        from . import fasttokens

        code = fasttokens.run(args[1:])
        if code is not None:
            sys.exit(code)
    _typer_main()


def _typer_main() -> None:
    from .typer_app import main as app_main

    app_main()


def __getattr__(name: str) -> Any:
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(".typer_app", __name__).app


__all__ = ["app", "main"]
