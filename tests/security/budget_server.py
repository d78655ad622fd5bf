"""The real server (build_server + serve over stdio) with two extra tools that misbehave on purpose, for the budget
tests: `spin` never returns, `hog` allocates until it cannot. Run as `python budget_server.py ROOT`."""

from __future__ import annotations

import sys

from mcp.server.mcpserver import Context

from orchestrator_kit.mcp_tools.registry import ToolRegistry
from orchestrator_kit.server import build_server, registry, serve

tools = ToolRegistry(list(registry.specs))


@tools.tool(title="Spin")
def spin(ctx: Context) -> str:
    """Loops forever."""
    count = 0
    while True:
        count += 1


@tools.tool(title="Hog")
def hog(ctx: Context) -> str:
    """Allocates 16 MiB blocks (touched, so they are resident) until an allocation fails."""
    blocks = []
    while True:
        blocks.append(bytearray(16 * 1024 * 1024))


if __name__ == "__main__":
    serve(build_server([sys.argv[1]], tools=tools), call_seconds=3.0, memory_mb=int(sys.argv[2]))
