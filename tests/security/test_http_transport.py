"""The streamable HTTP transport (issue 10, item 9), over real HTTP on loopback.

A non-loopback bind (`0.0.0.0`) is refused without `--allow-remote`; with it, a bearer token is required (generated and
printed to stderr, or from ORCHESTRATOR_KIT_MCP_TOKEN); a token set on loopback is required too; Host and Origin are
checked on every bind, the wildcard one included. The `0.0.0.0` server is only ever reached through 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from ..mcp_server.conftest import free_port
from ..mcp_server.test_stdio_http import _wait_for_port, stop

pytestmark = pytest.mark.anyio
TOKEN = "test-token-0123456789abcdef"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}


def _start(root, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, "-m", "orchestrator_kit", "mcp", "--root", str(root), "--transport", "http",
               "--port", str(port), *args]
    environment = {k: v for k, v in os.environ.items() if k != "ORCHESTRATOR_KIT_MCP_TOKEN"} | (env or {})
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment)
    _wait_for_port(port, proc)
    return proc, port


def _post(port: int, *, host: str | None = None, origin: str | None = None, token: str | None = None) -> int:
    """The status of an initialize POST to /mcp on 127.0.0.1:port with the given Host, Origin and bearer token."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "Host": host or f"127.0.0.1:{port}"}
    if origin:
        headers["Origin"] = origin
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request("POST", "/mcp", body=json.dumps(INITIALIZE), headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


async def _list_roots(port: int, token: str | None) -> bool:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    transport = streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=create_mcp_http_client(headers))
    async with Client(transport) as client:
        return not (await client.call_tool("list_roots", {})).is_error


def _printed_token(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    line = b""
    while time.monotonic() < deadline and b"bearer token" not in line:
        line = proc.stderr.readline()
    found = re.search(rb"Bearer <token>'\): (\S+)", line)
    assert found, line
    return found.group(1).decode()


@pytest.mark.parametrize("args", [("--host", "0.0.0.0"), ("--host", "::"), ("--host", "192.0.2.10")])  # noqa: S104
def test_a_non_loopback_bind_is_refused_without_allow_remote(tmp_path, args):
    proc = subprocess.run([sys.executable, "-m", "orchestrator_kit", "mcp", "--root", str(tmp_path), "--transport",
                           "http", "--port", str(free_port()), *args], capture_output=True, text=True, timeout=60,
                          check=False, env={k: v for k, v in os.environ.items() if k != "ORCHESTRATOR_KIT_MCP_TOKEN"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("Error: Refusing to serve on") and "--allow-remote" in proc.stderr


def test_a_short_token_is_refused_for_a_remote_bind(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "orchestrator_kit", "mcp", "--root", str(tmp_path), "--transport",
                           "http", "--host", "0.0.0.0", "--allow-remote", "--port", str(free_port())],  # noqa: S104
                          capture_output=True, text=True, timeout=60, check=False,
                          env=os.environ | {"ORCHESTRATOR_KIT_MCP_TOKEN": "short"})
    assert proc.returncode == 2 and "at least 16 random characters" in proc.stderr


async def test_allow_remote_requires_the_generated_token_and_checks_host_and_origin(tmp_path):
    proc, port = _start(tmp_path, "--host", "0.0.0.0", "--allow-remote", "--allowed-host", "ci.example.test")  # noqa: S104
    try:
        token = _printed_token(proc)
        assert len(token) >= 32
        assert _post(port) == 401
        assert _post(port, token="wrong-token-0123456789") == 401
        assert _post(port, token=token) == 200
        assert _post(port, token=token, host="evil.example.test") != 200  # DNS rebinding: refused
        assert _post(port, token=token, host=f"0.0.0.0:{port}") != 200  # the wildcard is never a Host
        assert _post(port, token=token, origin="http://evil.example.test") != 200
        assert _post(port, token=token, host=f"ci.example.test:{port}", origin="https://ci.example.test") == 200
        assert await _list_roots(port, token)
    finally:
        stop(proc)


async def test_a_token_from_the_environment_is_required_on_loopback_too(tmp_path):
    proc, port = _start(tmp_path, env={"ORCHESTRATOR_KIT_MCP_TOKEN": TOKEN})
    try:
        assert _post(port) == 401
        assert _post(port, token=TOKEN) == 200
        assert await _list_roots(port, TOKEN)
    finally:
        stop(proc)


async def test_loopback_without_a_token_still_checks_host_and_origin(tmp_path):
    proc, port = _start(tmp_path)
    try:
        assert _post(port) == 200
        assert _post(port, host=f"localhost:{port}", origin=f"http://localhost:{port}") == 200
        assert _post(port, host="evil.example.test") != 200
        assert _post(port, origin="http://evil.example.test") != 200
        assert await _list_roots(port, None)
    finally:
        stop(proc)
