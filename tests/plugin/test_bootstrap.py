"""The plugin's server bootstrap on a machine with nothing but Python: a fresh virtual environment, the plugin's source
installed into it by pip from a wheelhouse (what .ci/setup.d/plugin.sh downloaded from the package index; the test
itself is offline: PIP_NO_INDEX=1), then the real MCP server answering over stdio and reading the folder it was
started in, as Claude Code starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from orchestrator_kit import __version__
from orchestrator_kit.plugin.bootstrap import STAMP

from ..conftest import require_tool
from .conftest import copy_plugin_source

BOOTSTRAP = Path("src") / "orchestrator_kit" / "plugin" / "bootstrap.py"
INSTALL_TIMEOUT = 600  # a cold pip install of ~60 wheels takes about 40 s here


def bootstrap_env(data: Path, **extra: str) -> dict[str, str]:
    """What Claude Code gives a plugin server, minus our test venv: no VIRTUAL_ENV, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "ORCHESTRATOR_KIT_PLUGIN_PYTHON")}
    env.update({"CLAUDE_PLUGIN_DATA": str(data), "PIP_NO_INDEX": "1", "ORCHESTRATOR_KIT_PLUGIN_NO_UV": "1", **extra})
    return env


def run_bootstrap(source: Path, env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(source / BOOTSTRAP), *args], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=INSTALL_TIMEOUT, check=False,
    )  # fmt: skip


def test_failed_install_says_why_and_leaves_no_stamp(tmp_path):
    """No index and no wheelhouse: pip cannot install; the bootstrap exits 1 with one line and marks nothing ready."""
    source = copy_plugin_source(tmp_path / "plugin")
    data = tmp_path / "data"
    result = run_bootstrap(source, bootstrap_env(data, PIP_FIND_LINKS=str(tmp_path / "empty")), "--prepare", cwd=tmp_path)
    assert result.returncode == 1
    assert "orchestrator-kit plugin: " in result.stderr and "failed (exit" in result.stderr
    assert result.stdout == ""  # stdout is the MCP channel: nothing else may be written there
    assert not (data / "venv" / STAMP).exists()


@pytest.mark.external_tool("wheelhouse")
def test_fresh_machine_install_then_the_server_reads_the_project(tmp_path, sample_repo):
    wheelhouse = require_tool("plugin wheelhouse (PLUGIN_WHEELHOUSE)", os.environ.get("PLUGIN_WHEELHOUSE"))
    source = copy_plugin_source(tmp_path / "plugin")
    data = tmp_path / "data"
    env = bootstrap_env(data, PIP_FIND_LINKS=wheelhouse)

    first = run_bootstrap(source, env, "--prepare", cwd=sample_repo)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "installing orchestrator-kit" in first.stderr and first.stdout == ""
    venv_python = data / "venv" / "bin" / "python"
    stamp = data / "venv" / STAMP
    assert stamp.read_text() == f"{__version__}\n{source.resolve()}\n"
    probe = subprocess.run(
        [str(venv_python), "-c", "import orchestrator_kit, sys; print(orchestrator_kit.__file__, sys.prefix)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    installed_at, prefix = probe.stdout.split()
    assert Path(prefix) == data / "venv" and installed_at.startswith(str(data / "venv"))  # not our test venv

    stamped = stamp.stat().st_mtime_ns
    again = run_bootstrap(source, env, "--prepare", cwd=sample_repo)
    assert again.returncode == 0 and "installing" not in again.stderr
    assert stamp.stat().st_mtime_ns == stamped

    # As Claude Code starts it: the bootstrap, in the project folder, becomes the server.
    from mcp import Client, StdioServerParameters

    async def scan() -> dict:
        params = StdioServerParameters(
            command=sys.executable, args=[str(source / BOOTSTRAP)], env=env, cwd=str(sample_repo)
        )
        async with Client(params) as client:
            result = await client.call_tool("scan_repository", {})
            return result.structured_content or json.loads(result.content[0].text)

    summary = anyio.run(scan)
    assert summary["repository"] == str(sample_repo.resolve())
    assert summary["counts"]["pipelines"] == 3
