"""`orchestrator-kit install` / `uninstall`: our MCP server (and, for Claude Code, the two subagents) in the
configuration of Claude Code, Claude Desktop, Cursor or VS Code. `clients` says where and in which format; `service`
merges and removes."""

from .clients import Client as Client
from .clients import Scope as Scope
from .service import InstallResult as InstallResult
from .service import install as install
from .service import uninstall as uninstall
