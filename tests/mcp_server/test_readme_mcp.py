"""README's MCP section stays true to the server: the tool table lists exactly the tools it serves, in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp import Client

ROOT = Path(__file__).resolve().parents[2]


def mcp_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## MCP server\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.anyio
async def test_the_tool_table_is_the_servers_tool_list(build):
    async with Client(build()) as client:
        tools = [t.name for t in (await client.list_tools()).tools]
        prompts = [p.name for p in (await client.list_prompts()).prompts]
        resources = [str(r.uri) for r in (await client.list_resources()).resources]
    section = mcp_section()
    assert re.findall(r"^\| `([a-z_]+)` \| .+ \|$", section, re.M) == tools
    for name in prompts:
        assert f"`{name}`" in section
    for uri in resources:
        if uri.startswith("template://"):
            assert f"`{uri}`" in section
    assert "`scan://<root>/inventory`" in section


def test_the_python_client_example_runs(shop, monkeypatch, capsys):
    """The README's generic-client example, run as written against the real `orchestrator-kit` command."""
    import os
    import sys

    monkeypatch.chdir(shop)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    code = re.search(r"```python\n(.*?)```", mcp_section(), re.S).group(1)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})  # noqa: S102 - our own README's code
    printed = capsys.readouterr().out
    assert "'pipelines': 2" in printed and "'tasks': 2" in printed
