"""The real server process, as clients start it: `python -m orchestrator_kit mcp` over stdio, and over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from mcp import Client, StdioServerParameters

from orchestrator_kit.server import registry

from .conftest import free_port, run, spawn_command

pytestmark = pytest.mark.anyio


async def test_stdio_round_trip(shop):
    command = spawn_command(shop, extra=("--read-only",))
    params = StdioServerParameters(command=command[0], args=command[1:])
    async with Client(params) as client:
        assert client.server_info.name == "orchestrator-kit"
        tools = [t.name for t in (await client.list_tools()).tools]
        scan = await client.call_tool("scan_repository", {"max_tokens": 2000})
        roots = await client.call_tool("list_roots", {})
        prompt = await client.get_prompt("process-orchestrator", {"focus": "deploys"})
        resource = await client.read_resource("scan://repo/inventory")
    assert tools == registry.names(read_only=True)
    assert scan.structured_content["counts"]["pipelines"] == 2
    assert roots.structured_content["read_only"] is True
    assert "Focus requested by the user: deploys" in prompt.messages[0].content.text
    assert '"schema_version":"1"' in resource.contents[0].text


def test_cli_refuses_a_root_that_is_not_a_folder():
    proc = run([sys.executable, "-m", "orchestrator_kit", "mcp", "--root", "/nonexistent/folder"])
    assert proc.returncode == 2
    assert proc.stderr.strip() == "Error: Root '/nonexistent/folder' is not an existing directory."


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--transport", "carrier-pigeon"], "Invalid value for '--transport'"), (["--port", "0"], "Invalid value for")],
)
def test_cli_refuses_bad_options(args, message):
    from typer.testing import CliRunner

    from orchestrator_kit.cli import app

    result = CliRunner().invoke(app, ["mcp", *args])
    assert result.exit_code == 2
    assert message in result.output


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the HTTP server did not listen on {port}")


def start_http(*roots, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        spawn_command(*roots, extra=("--transport", "http", "--port", str(port))),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    _wait_for_port(port, proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


async def test_streamable_http_on_loopback(shop):
    port = free_port()
    proc = start_http(shop, port=port)
    try:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            result = await client.call_tool("list_pipelines", {"system": "gitlab-ci"})
            bad = await client.call_tool("read_file", {"path": "../../etc/passwd"})
    finally:
        stop(proc)
    assert [p["id"] for p in result.structured_content["items"]] == ["gitlab-ci:.gitlab-ci.yml"]
    assert bad.is_error and "contains a '..' component" in bad.content[0].text


def test_the_log_shows_what_a_client_sent_instead_of_sending_it(tmp_path):
    """A refused Host or Origin header is quoted in the server's log on stderr: a C1 control (CSI, U+009B, which
    HTTP lets through as an obs-text byte) reaches the terminal as its escape, never raw."""
    port = free_port()
    proc = start_http(tmp_path, port=port)
    body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
    try:
        for headers in (b"Host: evil\x9b2Jhost\r\n", b"Host: 127.0.0.1:%d\r\nOrigin: http://ev\x9b2Jil\r\n" % port):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"POST /mcp HTTP/1.1\r\n" + headers + b"Content-Type: application/json\r\n"
                             b"Accept: application/json, text/event-stream\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
                assert sock.recv(4096).split(b" ")[1] in (b"421", b"403")  # refused: the log line was written
    finally:
        stop(proc)
    logged = proc.stderr.read() if proc.stderr else b""
    assert b"evil\\u009b2Jhost" in logged and b"http://ev\\u009b2Jil" in logged, logged
    assert "\x9b".encode() not in logged
