"""Bad input and faults: each gets an error result (or a JSON-RPC error) and the server goes on serving."""

from __future__ import annotations

import json
import select
import shutil
import subprocess

import pytest
from mcp import Client

from .conftest import spawn_command

pytestmark = pytest.mark.anyio


async def test_unknown_tool_then_a_good_call(build):
    async with Client(build()) as client:
        unknown = await client.call_tool("delete_everything", {})
        good = await client.call_tool("list_roots", {})
    assert unknown.is_error and unknown.content[0].text == "Unknown tool: delete_everything"
    assert not good.is_error


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("scan_repository", {"max_tokens": "lots"}, "max_tokens"),
        ("scan_repository", {"max_tokens": 10}, "max_tokens"),  # under the minimum budget
        ("scan_repository", {"refresh": {"yes": 1}}, "refresh"),
        ("read_file", {}, "path"),  # required argument missing
        ("read_file", {"path": ["Makefile"]}, "path"),
        ("read_file", {"path": "Makefile", "line_start": 0}, "line_start"),
        ("list_pipelines", {"system": "travis"}, "system"),
        ("search_repository", {"pattern": "x", "max_matches": -1}, "max_matches"),
        ("get_pipeline", {"pipeline_id": 42}, "pipeline_id"),
    ],
)
async def test_wrong_argument_types_are_tool_errors_naming_the_field(build, tool, arguments, field):
    async with Client(build()) as client:
        result = await client.call_tool(tool, arguments)
        after = await client.call_tool("list_roots", {})
    assert result.is_error
    assert "validation error" in result.content[0].text and field in result.content[0].text
    assert not after.is_error


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cursor": "not-a-cursor"}, "Cursor 'not-a-cursor' is not a cursor this server issued"),
        ({"cursor": "eyJrIjoidGFza3MiLCJvIjoxLCJ2IjoiMCJ9"}, "belongs to another listing"),
    ],
)
async def test_bad_cursors(build, arguments, message):
    async with Client(build()) as client:
        result = await client.call_tool("list_pipelines", arguments)
    assert result.is_error and message in result.content[0].text


async def test_a_cursor_from_before_a_change_is_stale(build, shop):
    async with Client(build()) as client:
        first = await client.call_tool("list_tasks", {"max_tokens": 256, "detail": "detailed"})
        cursor = first.structured_content["next_cursor"]
        assert cursor is not None
        (shop / "Makefile").write_text("only:\n\ttrue\n")
        stale = await client.call_tool("list_tasks", {"max_tokens": 256, "detail": "detailed", "cursor": cursor})
    assert stale.is_error and "is stale: the repository changed" in stale.content[0].text


async def test_a_root_that_vanished(build, shop):
    server = build()
    async with Client(server) as client:
        assert not (await client.call_tool("scan_repository", {})).is_error
        shutil.rmtree(shop)
        gone = await client.call_tool("scan_repository", {})
        listed = await client.call_tool("list_roots", {})
    assert gone.is_error and "no longer exists" in gone.content[0].text
    assert listed.structured_content["roots"][0]["exists"] is False


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("huge.log", b"x" * (2 * 1024 * 1024 + 1), "over the 2097152-byte cap"),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        ("docs", None, "is a directory"),
        ("missing.txt", None, "file vanished or is a dangling symlink"),
    ],
)
async def test_files_that_cannot_be_read(build, shop, name, content, message):
    if content is not None:
        (shop / name).write_bytes(content)
    async with Client(build()) as client:
        result = await client.call_tool("read_file", {"path": name})
        search = await client.call_tool("search_repository", {"pattern": "xxxx"})
    assert result.is_error and message in result.content[0].text
    assert not search.is_error  # a search skips such files and counts them
    if content is not None:
        assert search.structured_content["files_skipped"] == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"path": "Makefile", "line_start": 99}, "line_start 99 is past the end of 'Makefile' (5 lines)"),
        ({"path": "Makefile", "line_start": 3, "line_end": 2}, "line_end 2 is before line_start 3"),
    ],
)
async def test_bad_line_ranges(build, arguments, message):
    async with Client(build()) as client:
        result = await client.call_tool("read_file", arguments)
    assert result.is_error and message in result.content[0].text


async def test_prompt_and_resource_errors(build):
    from mcp import MCPError

    async with Client(build()) as client:
        with pytest.raises(MCPError, match="Unknown prompt 'no-such-agent'") as unknown:
            await client.get_prompt("no-such-agent", {})
        assert unknown.value.error.code == -32602
        with pytest.raises(MCPError, match="Root 'elsewhere' is not a configured root"):
            await client.read_resource("scan://elsewhere/inventory")
        with pytest.raises(MCPError, match="the limit is 2000"):
            await client.get_prompt("process-orchestrator", {"focus": "x" * 2001})
        assert not (await client.call_tool("list_roots", {})).is_error


def test_malformed_requests_over_stdio_do_not_stop_the_server(shop):
    """Garbage on stdin (not JSON, bad UTF-8, a JSON array, a request with a wrong shape) is answered with a
    JSON-RPC error or dropped; the server then still answers valid requests, and exits cleanly at end of input."""
    proc = subprocess.Popen(
        spawn_command(shop), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None

    def send(raw: bytes) -> None:
        proc.stdin.write(raw + b"\n")
        proc.stdin.flush()

    def answer(request_id: int, timeout: float = 20) -> dict:
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            assert ready, f"no answer to request {request_id}"
            message = json.loads(proc.stdout.readline())
            if message.get("id") == request_id:
                return message

    try:
        send(b"this is not json")
        send(b"\xff\xfe\x00 not utf-8")
        send(b"[1, 2, 3]")
        send(b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", '
             b'"capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}')
        assert answer(1)["result"]["serverInfo"]["name"] == "orchestrator-kit"
        send(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
        send(b'{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": [1, 2]}}')
        assert answer(2)["error"]["code"] == -32602  # invalid params
        send(b'{"jsonrpc": "2.0", "id": 3, "method": "no/such/method", "params": {}}')
        assert answer(3)["error"]["code"] == -32601  # method not found
        send(b"{")
        send(b'{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "scan_repository", '
             b'"arguments": {}}}')
        result = answer(4)["result"]
        assert result.get("isError") in (None, False)
        assert result["structuredContent"]["counts"]["pipelines"] == 2
    finally:
        proc.stdin.close()
        code = proc.wait(timeout=30)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert code == 0, stderr
    assert "Traceback" not in stderr
