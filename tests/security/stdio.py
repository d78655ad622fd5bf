"""Helpers for the security battery: the real server over stdio, and the memory of its process from /proc."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mcp import Client, StdioServerParameters


def server_client(*roots: Path, extra: Sequence[str] = (), env: dict[str, str] | None = None,
                  script: Path | None = None) -> Client:
    """A client of the real server process (`python -m orchestrator_kit mcp --root ...`, or `script ROOT`)."""
    if script is not None:
        args = [str(script), *map(str, roots)]
    else:
        args = ["-m", "orchestrator_kit", "mcp", *[a for r in roots for a in ("--root", str(r))], *extra]
    return Client(StdioServerParameters(command=sys.executable, args=args, env={**os.environ, **(env or {})}))


def server_pids() -> list[int]:
    """The processes this test started that run a Python server (children of this process)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and b"python" in cmdline:
            found.append(int(entry.name))
    return found


def rss_mb(pid: int) -> float:
    """The resident set size of `pid` in MiB (VmRSS from /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def text_of(result) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)
