"""The tool registry: annotations as declared, writing tools left out of read-only servers, errors translated."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from orchestrator_kit.errors import ConfinementError
from orchestrator_kit.mcp_tools.registry import ToolRegistry
from orchestrator_kit.server import Repository, registry, state_of

from .test_tools import TOOLS

pytestmark = pytest.mark.anyio


class Written(BaseModel):
    path: str
    bytes: int


def with_a_writer() -> ToolRegistry:
    """The product's tools plus a tool that writes a file (defined here only: the product has none yet)."""
    tools = ToolRegistry(list(registry.specs))

    @tools.tool(title="Write a note", read_only=False, destructive=True, idempotent=False)
    def write_note(ctx: Context, name: str, text: str, repository: Repository = ".") -> Written:
        """Write `text` to notes/<name> in the repository (a test tool)."""
        _root, folder = state_of(ctx).folder(repository)
        if "/" in name or name.startswith((".", "-")):
            raise ConfinementError(f"Note name '{name}' is not a plain file name.")
        target = folder / "notes" / name
        target.parent.mkdir(exist_ok=True)
        target.write_text(text)
        return Written(path=f"notes/{name}", bytes=len(text.encode()))

    return tools


async def test_a_writing_tool_is_served_and_annotated(build, shop):
    async with Client(build(tools=with_a_writer())) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        result = await client.call_tool("write_note", {"name": "a.txt", "text": "hello"})
        refused = await client.call_tool("write_note", {"name": "../a.txt", "text": "x"})
    hints = listed["write_note"].annotations
    assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint) == (
        False, True, False, False,
    )
    assert result.structured_content == {"path": "notes/a.txt", "bytes": 5}
    assert (shop / "notes" / "a.txt").read_text() == "hello"
    assert refused.is_error and "Note name '../a.txt' is not a plain file name." in refused.content[0].text


async def test_read_only_leaves_out_every_writing_tool(build, shop):
    server = build(tools=with_a_writer(), read_only=True)
    async with Client(server) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        call = await client.call_tool("write_note", {"name": "a.txt", "text": "hello"})
        roots = await client.call_tool("list_roots", {})
    assert "write_note" not in names
    assert names == registry.names(read_only=True)  # every read-only tool is still there
    assert call.is_error and call.content[0].text == "Unknown tool: write_note"
    assert not (shop / "notes").exists()
    assert roots.structured_content["read_only"] is True


def test_the_discovery_tools_are_all_read_only():
    specs = [s for s in registry.specs if s.name in TOOLS]
    assert [s.name for s in specs] == TOOLS
    assert all(s.read_only and not s.destructive and s.idempotent and not s.open_world for s in specs)


def test_registration_mistakes_are_refused():
    tools = ToolRegistry()
    with pytest.raises(ValueError, match="cannot be destructive"):
        tools.tool(title="x", read_only=True, destructive=True)

    @tools.tool(title="t")
    def twice() -> None:
        """A tool."""

    with pytest.raises(ValueError, match="registered twice"):
        tools.tool(title="t")(twice)


async def test_a_bug_in_a_tool_does_not_leak_its_message(build):
    tools = ToolRegistry(list(registry.specs))

    @tools.tool(title="Broken")
    def broken(ctx: Context) -> Written:
        """Always fails."""
        raise RuntimeError("internal detail /secret/path")

    async with Client(build(tools=tools)) as client:
        result = await client.call_tool("broken", {})
        after = await client.call_tool("list_roots", {})
    text = result.content[0].text
    assert result.is_error and "broken failed with an internal error (RuntimeError)" in text
    assert "Call again with different arguments" in text  # a remedy, not a traceback
    assert "internal detail" not in text and "/secret/path" not in text
    assert not after.is_error
