"""`orchestrator-kit tokens PATH --format json` without Typer, Click, Rich or pydantic.

A warm `tokens` run (every count in the cache) does about 0.05 s of work; importing Typer (which loads pydantic)
and the pydantic report models cost about 0.2 s of CPU more, so `cli.main` hands the plain JSON form of the
command here first. `run` accepts only a strict subset of what the Typer command takes: one PATH that does not
start with `-`, `--format json` (or `-f json`, `--format=json`), `--top N` and `--dir-depth N` in the command's
ranges written as plain digits, `--cache`/`--no-cache`, `--wide`, `--quiet`/`-q`; an option given again wins, as in
Click. Anything else (another format, `--output`, `--help`, a value Typer would refuse or report on) returns None and
the Typer command runs as before, so every message and error stays Typer's. At a terminal without `--quiet` the
Typer command's progress display is shown too, but only once a file has to be counted (a warm run loads no Rich).
What this path prints is what the Typer command prints: the same report text (`TokenCounts.json`), the same
`Error: ...` lines and exit codes (2 for bad input, 70 for a bug of ours, 130 interrupted).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from ..metrics.tokens import TokenCounts
    from .progress import LiveProgress

# The ranges of the Typer command's --top and --dir-depth (cli/tokens.py MAX_TOP, MAX_DIR_DEPTH; a test checks).
MAX_TOP = 100_000
MAX_DIR_DEPTH = 64
_FLAGS = {"--cache": ("cache", True), "--no-cache": ("cache", False), "--wide": ("wide", True),
          "--quiet": ("quiet", True), "-q": ("quiet", True)}
_VALUED = {"--format": "format", "-f": "format", "--top": "top", "--dir-depth": "dir_depth"}


@dataclass
class Request:
    """The Typer command's parameters and their defaults (`wide` changes nothing in JSON)."""

    path: str = ""
    format: str = "table"
    top: int = 20
    dir_depth: int = 2
    cache: bool = True
    wide: bool = False
    quiet: bool = False


def parse(args: list[str]) -> Request | None:
    """The parameters of `tokens ARGS` (ARGS after the command name) when this path can run them, else None."""
    request = Request()
    path: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in _FLAGS:
            key, flag = _FLAGS[arg]
            setattr(request, key, flag)
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _VALUED:
            if not eq:
                if i >= len(args):
                    return None
                value = args[i]
                i += 1
            key = _VALUED[name]
            if key == "format":
                if value != "json":
                    return None
                request.format = value
            else:
                limit = MAX_TOP if key == "top" else MAX_DIR_DEPTH
                if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= limit:
                    return None
                setattr(request, key, int(value))
            continue
        if arg.startswith("-") or not arg or path is not None:
            return None  # an option this path does not take, "--", an empty or a second PATH: Typer decides
        path = arg
    if path is None or request.format != "json":
        return None
    request.path = path
    return request


def run(args: list[str]) -> int | None:
    """Run `tokens ARGS` here and return its exit code, or None when Typer must run it (see the module docstring)."""
    request = parse(args)
    if request is None:
        return None
    # A short process whose memory is freed at exit: the collector's ~55 young-generation passes over what the
    # imports and the 5,000-entry tables allocate (about 7 ms of CPU on hashicorp/terraform, most of it wasted on
    # objects that live to the end) are skipped. Reference counting still frees everything acyclic as it goes.
    import gc

    gc.disable()
    try:
        return _count_and_print(request)
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130
    except Exception as exc:  # a bug of ours: the same words as typer_app.main
        if os.environ.get("ORCHESTRATOR_KIT_DEBUG"):
            raise
        from ..terminal import printable

        sys.stderr.write(
            printable(f"Internal error: {type(exc).__name__}: {exc}\n")
            + "This is a bug in orchestrator-kit; run again with ORCHESTRATOR_KIT_DEBUG=1 to see the traceback.\n"
        )
        return 70
    finally:
        gc.enable()  # for a caller that goes on (a test calling run)


def _count_and_print(request: Request) -> int:
    from pathlib import Path

    from ..errors import OrchestratorError
    from ..metrics.tokens import count_tokens

    path = Path(request.path)
    result: TokenCounts
    live: LiveProgress | None = None

    def show_progress() -> None:
        # The Typer command's display (cli/tokens.py), started only once a file has to be counted: a warm run at
        # a terminal loads no Rich.
        nonlocal live
        from .progress import LiveProgress

        live = LiveProgress(True)
        live.hooks.stage("counting tokens")

    try:
        result = count_tokens(path, top=request.top, dir_depth=request.dir_depth, use_cache=request.cache,
                              on_cold=show_progress if not request.quiet and sys.stderr.isatty() else None)
    except OrchestratorError as exc:
        return _fail(str(exc))
    except OSError as exc:  # a path the system refuses outright (too long, a loop of symlinks)
        return _fail(f"cannot read '{str(path)[:200]}': {exc.strerror or exc}")
    finally:
        if live is not None:
            live.close()
    from ..terminal import printable

    text = printable(result.json()) + "\n"  # file names reach the terminal: their control characters shown
    try:
        sys.stdout.write(text)
    except OSError as exc:  # cli.common.write_report names the output file, None for standard output
        return _fail(f"cannot write 'None': {exc.strerror or exc}")
    return 0


def _fail(message: str) -> int:
    from ..terminal import printable

    sys.stderr.write(f"Error: {printable(message)}\n")
    return 2
