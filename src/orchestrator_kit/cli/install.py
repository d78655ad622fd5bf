"""`orchestrator-kit install` / `uninstall`: our MCP server (and Claude Code's subagents) in an MCP client's config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..install.clients import Client, Scope
from .common import TextFormat, echo, fail

if TYPE_CHECKING:
    from ..install.service import InstallResult

ClientOption = Annotated[Client, typer.Option("--client", help="The MCP client whose configuration to change.")]
ScopeOption = Annotated[
    Scope | None,
    typer.Option(help="project (this folder's config; default where the client has one) or user (your home's)."),
]
ServerNameOption = Annotated[
    str, typer.Option(help="The server's name in the config; Claude Code agents name its tools mcp__<name>__<tool>.")
]
ProjectOption = Annotated[
    Path | None, typer.Option("--project", help="The project folder for --scope project (default: the current one).")
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the diff of each file and write nothing.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace (uninstall: remove) an entry or agent file that differs from ours.")
]
FormatOption = Annotated[
    TextFormat, typer.Option("--format", "-f", help="text: the changed files (a dry run prints the diffs); json.")
]


def register(app: typer.Typer) -> None:
    app.command("install")(install_command)
    app.command("uninstall")(uninstall_command)


def install_command(
    client: ClientOption,
    scope: ScopeOption = None,
    server_name: ServerNameOption = "orchestrator-kit",
    project: ProjectOption = None,
    root: Annotated[
        list[str] | None,
        typer.Option("--root", metavar="DIR", help="A folder the server may read (repeatable; default: the client's)."),
    ] = None,
    dry_run: DryRunOption = False,
    force: ForceOption = False,
    output_format: FormatOption = TextFormat.text,
) -> None:
    """Add the MCP server (and, for Claude Code, the process- and workflow-orchestrator agents) to a client's config.

    Keeps everything already there; a second run changes nothing. Claude Code: project scope writes .mcp.json and
    .claude/agents/, user scope ~/.claude.json and ~/.claude/agents/."""
    from ..install.service import install

    _run(lambda: install(client, scope, server_name=server_name, project=project, roots=root, dry_run=dry_run,
                         force=force), output_format)


def uninstall_command(
    client: ClientOption,
    scope: ScopeOption = None,
    server_name: ServerNameOption = "orchestrator-kit",
    project: ProjectOption = None,
    dry_run: DryRunOption = False,
    force: ForceOption = False,
    output_format: FormatOption = TextFormat.text,
) -> None:
    """Remove what install added (our server entry, our unchanged agent files); the rest of the config stays."""
    from ..install.service import uninstall

    _run(lambda: uninstall(client, scope, server_name=server_name, project=project, dry_run=dry_run, force=force),
         output_format)


def _run(action: Callable[[], InstallResult], output_format: TextFormat) -> None:
    from ..errors import OrchestratorError

    try:
        result = action()
    except OrchestratorError as exc:
        fail(str(exc))
    if output_format is TextFormat.json:
        echo(json.dumps(result.model_dump(), indent=2))
        return
    for change in result.changes:
        if result.dry_run:
            echo(change.diff, nl=False)
        else:
            echo(f"{change.action}d {change.path}" if change.action != "delete" else f"removed {change.path}")
    for note in result.kept:
        echo(f"kept {note}")
    echo(f"{result.client} ({result.scope}): {result.message}")
