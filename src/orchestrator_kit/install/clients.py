"""Where each MCP client keeps its server configuration, in which format, and what we add to it.

| client | scope | config file | servers key | agents |
|---|---|---|---|---|
| claude-code | project | `<project>/.mcp.json` | `mcpServers` | `<project>/.claude/agents/` |
| claude-code | user | `~/.claude.json` | `mcpServers` | `~/.claude/agents/` |
| claude-desktop | user | `<config>/Claude/claude_desktop_config.json` | `mcpServers` | none |
| cursor | project | `<project>/.cursor/mcp.json` | `mcpServers` | none |
| cursor | user | `~/.cursor/mcp.json` | `mcpServers` | none |
| vscode | project | `<project>/.vscode/mcp.json` | `servers` (entries say `"type": "stdio"`) | none |
| vscode | user | `<config>/Code/User/mcp.json` | `servers` | none |

`<config>` is the per-user application folder: `~/Library/Application Support` on macOS, `%APPDATA%` on Windows,
`$XDG_CONFIG_HOME` (default `~/.config`) on Linux.

Only Claude Code has subagent files; the other clients get the two agents as the server's MCP prompts. The server is
started with the interpreter that runs `orchestrator-kit install` (`python -m orchestrator_kit mcp`), so it works
whatever PATH the client gives it; `--root` folders are passed on (VS Code's project scope uses `${workspaceFolder}`,
Claude Desktop, which has no project, the folder `install` ran in).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..errors import InputError


class Client(StrEnum):
    claude_code = "claude-code"
    claude_desktop = "claude-desktop"
    cursor = "cursor"
    vscode = "vscode"


class Scope(StrEnum):
    project = "project"
    user = "user"


SCOPES: dict[Client, tuple[Scope, ...]] = {  # the first is the default
    Client.claude_code: (Scope.project, Scope.user),
    Client.claude_desktop: (Scope.user,),
    Client.cursor: (Scope.project, Scope.user),
    Client.vscode: (Scope.project, Scope.user),
}


@dataclass(frozen=True)
class Target:
    """What `install` writes for one client and scope."""

    client: Client
    scope: Scope
    config: Path
    servers_key: str
    entry: dict[str, object]
    agents_dir: Path | None


def default_scope(client: Client) -> Scope:
    return SCOPES[client][0]


def user_config_dir(home: Path) -> Path:
    """The per-user application folder: Application Support on macOS, %APPDATA% on Windows, XDG on Linux."""
    if sys.platform == "darwin":
        return home / "Library" / "Application Support"
    if os.name == "nt":
        return Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    return Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")


def server_command(roots: list[str]) -> dict[str, object]:
    args: list[str] = ["-m", "orchestrator_kit", "mcp"]
    for root in roots:
        args += ["--root", root]
    return {"command": sys.executable, "args": args}


def target(client: Client, scope: Scope, *, project: Path, home: Path, roots: list[str]) -> Target:
    """The config file, entry and agents folder for `client` at `scope` (InputError for a scope it lacks)."""
    if scope not in SCOPES[client]:
        allowed = ", ".join(s.value for s in SCOPES[client])
        raise InputError(f"{client.value} has no {scope.value} configuration (scopes: {allowed}).")
    if client is Client.claude_code:
        entry = {"type": "stdio", **server_command(roots)}
        if scope is Scope.project:
            return Target(client, scope, project / ".mcp.json", "mcpServers", entry, project / ".claude" / "agents")
        return Target(client, scope, home / ".claude.json", "mcpServers", entry, home / ".claude" / "agents")
    if client is Client.claude_desktop:
        config = user_config_dir(home) / "Claude" / "claude_desktop_config.json"
        return Target(client, scope, config, "mcpServers", server_command(roots or [str(project)]), None)
    if client is Client.cursor:
        base = project if scope is Scope.project else home
        return Target(client, scope, base / ".cursor" / "mcp.json", "mcpServers", server_command(roots), None)
    if scope is Scope.project:
        entry = {"type": "stdio", **server_command(roots or ["${workspaceFolder}"])}
        return Target(client, scope, project / ".vscode" / "mcp.json", "servers", entry, None)
    entry = {"type": "stdio", **server_command(roots)}
    return Target(client, scope, user_config_dir(home) / "Code" / "User" / "mcp.json", "servers", entry, None)
