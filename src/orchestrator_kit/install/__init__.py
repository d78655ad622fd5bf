"""`orchestrator-kit install` / `uninstall`: our MCP server (and, for Claude Code, the two subagents) in the
configuration of Claude Code, Claude Desktop, Cursor or VS Code. `clients` says where and in which format; `service`
merges and removes."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .clients import Client as Client
from .clients import Scope as Scope

if TYPE_CHECKING:
    from .service import InstallResult as InstallResult
    from .service import install as install
    from .service import uninstall as uninstall

_LAZY = ("InstallResult", "install", "uninstall")  # `service` pulls in YAML/JSON writers: load on first use


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(".service", __name__), name)
