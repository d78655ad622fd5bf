"""Real external MCP clients (installed by .ci/setup.d/mcp.sh): the MCP Inspector CLI on Node 20 and, with Node 22,
Inspector 2.x in --strict mode; the HTTP transport checked by the generic scenarios of @modelcontextprotocol/conformance.

Locally a missing tool skips its test; in CI (CI=true) it fails (`require_tool`)."""

from __future__ import annotations

import json
import sys

import pytest

from orchestrator_kit.server import registry

from ..conftest import require_tool
from .conftest import free_port, node20, node_tool, run_all
from .test_stdio_http import start_http, stop

pytestmark = pytest.mark.external_tool("node")

# Scenarios of the conformance suite that apply to any server (the others need its own test server's tools).
GENERIC_SCENARIOS = [
    "server-initialize", "ping", "tools-list", "tools-call-error", "resources-list", "prompts-list",
    "dns-rebinding-protection",
]


@pytest.fixture
def inspector20() -> list[str]:
    node = require_tool("node", node20())
    cli = require_tool("MCP Inspector 0.15 (MCP_INSPECTOR_NODE20)", node_tool("MCP_INSPECTOR_NODE20"))
    return [node, cli, "--cli"]


@pytest.fixture
def node22() -> str:
    return require_tool("Node 22 (MCP_NODE22)", node_tool("MCP_NODE22"))


@pytest.fixture
def home(tmp_path, monkeypatch) -> dict[str, str]:
    """Node tools write caches and catalogs under HOME: keep them in the test's folder."""
    import os

    (tmp_path / "home").mkdir()
    return {**os.environ, "HOME": str(tmp_path / "home")}


def server_argv(root) -> list[str]:
    return [sys.executable, "-m", "orchestrator_kit", "mcp", "--root", str(root)]


def test_inspector_lists_tools_calls_scan_and_reads_a_prompt(inspector20, shop, home):
    listed, called, prompt = run_all(
        [
            [*inspector20, *server_argv(shop), "--method", "tools/list"],
            [*inspector20, *server_argv(shop), "--method", "tools/call", "--tool-name", "scan_repository",
             "--tool-arg", "max_tokens=2000"],
            [*inspector20, *server_argv(shop), "--method", "prompts/get", "--prompt-name", "workflow-orchestrator",
             "--prompt-args", "focus=rollback"],
        ],
        env=home,
    )
    assert listed.returncode == 0, listed.stderr
    assert [t["name"] for t in json.loads(listed.stdout)["tools"]] == registry.names()

    assert called.returncode == 0, called.stderr
    result = json.loads(called.stdout)
    assert not result.get("isError")
    assert result["structuredContent"]["counts"]["tasks"] == 2

    assert prompt.returncode == 0, prompt.stderr
    text = json.loads(prompt.stdout)["messages"][0]["content"]["text"]
    assert text.startswith("# workflow-orchestrator") and "Focus requested by the user: rollback" in text


def test_inspector_2_strict_finds_portable_schemas(node22, shop, home):
    inspector = require_tool("MCP Inspector 2.x (MCP_INSPECTOR)", node_tool("MCP_INSPECTOR"))
    strict, read = run_all(
        [
            [node22, inspector, "--cli", "--strict", *server_argv(shop), "--method", "tools/list"],
            [node22, inspector, "--cli", *server_argv(shop), "--method", "resources/read", "--uri",
             "template://workflow-design"],
        ],
        env=home,
    )
    assert strict.returncode == 0, strict.stderr  # exit 6 would mean an error-severity schema portability problem
    assert [t["name"] for t in json.loads(strict.stdout)["tools"]] == registry.names()
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["contents"][0]["text"].startswith("## 1. Workflow Analysis")


def test_http_transport_passes_the_generic_conformance_scenarios(node22, shop, home):
    conformance = require_tool("@modelcontextprotocol/conformance (MCP_CONFORMANCE)", node_tool("MCP_CONFORMANCE"))
    port = free_port()
    proc = start_http(shop, port=port)
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        results = run_all(
            [[node22, conformance, "server", "--url", url, "--scenario", scenario] for scenario in GENERIC_SCENARIOS],
            env=home,
        )
    finally:
        stop(proc)
    failures = [
        f"{scenario}: {result.stdout[-800:]}{result.stderr[-400:]}"
        for scenario, result in zip(GENERIC_SCENARIOS, results, strict=True)
        if result.returncode != 0 or "0 failed" not in result.stdout
    ]
    assert failures == []
