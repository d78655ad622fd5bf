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
    host: Annotated[str, typer.Option(help="HTTP only: the address to bind (loopback unless you mean otherwise).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="HTTP only: the port.", min=1, max=65535)] = 8000,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Leave out every tool that writes (the scan tools only read).")
    ] = False,
) -> None:
    """Run the MCP server: scan, list and read tools, the two agents as prompts, templates and scans as resources."""
    from ..errors import OrchestratorError
    from ..server import build_server, serve

    try:
        server = build_server(root or [], read_only=read_only)
    except OrchestratorError as exc:
        fail(str(exc))
    serve(server, transport=transport.value, host=host, port=port)
