"""`orchestrator-kit mcp`: serve the tools, prompts and resources to an MCP client (stdio or streamable HTTP)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .common import fail


class Transport(StrEnum):
    stdio = "stdio"
    http = "http"


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


def mcp(
    root: Annotated[
        list[Path] | None,
        typer.Option(
            "--root", metavar="DIR", help="A folder the tools may read (repeatable; default: the working directory)."
        ),
    ] = None,
    transport: Annotated[
        Transport, typer.Option(help="stdio for a client that starts the server; http for streamable HTTP on /mcp.")
    ] = Transport.stdio,
    host: Annotated[
        str, typer.Option(help="HTTP only: the address to bind. Not loopback: refused without --allow-remote.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP only: the port.", min=1, max=65535)] = 8000,
    allow_remote: Annotated[
        bool,
        typer.Option("--allow-remote", help="HTTP only: allow a non-loopback --host; every request then needs "
                     "'Authorization: Bearer' with ORCHESTRATOR_KIT_MCP_TOKEN, or a token printed at start."),
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option("--allowed-host", metavar="NAME", help="HTTP only: another Host/Origin name clients use to reach "
                     "the server (repeatable; loopback names and --host are always allowed)."),
    ] = None,
    call_timeout: Annotated[
        float | None,
        typer.Option(metavar="SECONDS", min=0, help="Stop a tool call after this long with an error (0: never). "
                     "Default: ORCHESTRATOR_KIT_CALL_SECONDS or 300."),
    ] = None,
    memory_limit: Annotated[
        int | None,
        typer.Option(metavar="MB", min=0, help="Memory budget of the server process; an allocation over it fails the "
                     "call, not the server (0: none). Default: ORCHESTRATOR_KIT_MEMORY_MB or 4096."),
    ] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Leave out every tool that writes (the scan tools only read).")
    ] = False,
) -> None:
    """Run the MCP server: scan, list and read tools, the two agents as prompts, templates and scans as resources."""
    from ..errors import OrchestratorError
    from ..server import build_server, serve
    from ..terminal import printable_logs

    try:
        server = build_server(root or [], read_only=read_only)
        # Building the server set up its log on stderr, which quotes what a client sent (a refused Host header).
        printable_logs()
        serve(server, transport=transport.value, host=host, port=port, allow_remote=allow_remote,
              allowed_hosts=allowed_host or (), call_seconds=call_timeout, memory_mb=memory_limit)
    except OrchestratorError as exc:
        fail(str(exc))
