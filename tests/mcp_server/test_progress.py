"""Progress notifications during a scan, and cancellation that really stops the scan in its worker thread."""

from __future__ import annotations

import time

import anyio
import pytest
from mcp import Client

pytestmark = pytest.mark.anyio

WORKFLOW = """\
name: W{i}
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make build-{i}
"""


@pytest.fixture
def many(tmp_path):
    """A folder (no git) with 1,500 workflow files: every one is read and parsed, so a scan takes a while."""
    root = tmp_path / "many"
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for i in range(1500):
        (workflows / f"w{i:04}.yml").write_text(WORKFLOW.format(i=i))
    return root


async def test_a_scan_reports_progress_up_to_the_total(build, shop):
    events: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        events.append((progress, total, message))

    async with Client(build()) as client:
        result = await client.call_tool("scan_repository", {}, progress_callback=on_progress)
        first_call = len(events)
        again = await client.call_tool("scan_repository", {}, progress_callback=on_progress)
    assert not result.is_error
    files = result.structured_content["files_listed"]
    assert len(events) >= 2
    assert events[0][0] == 1 and events[-1] == (files, files, f"scanned {files} of {files} files")
    assert [e[0] for e in events] == sorted(e[0] for e in events)
    assert again.structured_content["cached"] is True  # a cached answer scans nothing, so reports nothing more
    assert len(events) == first_call


async def test_cancelling_the_call_stops_the_scan(build, many):
    server = build([many])
    seen: list[float] = []
    async with Client(server) as client:
        with anyio.CancelScope() as scope:

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                seen.append(progress)
                scope.cancel()  # the client gives up as soon as the scan has started

            await client.call_tool("scan_repository", {}, progress_callback=on_progress)
        assert scope.cancelled_caught
        cache = server.state.cache
        deadline = time.monotonic() + 20
        while cache.stats.cancelled == 0 and time.monotonic() < deadline:
            await anyio.sleep(0.05)
        assert cache.stats.cancelled == 1 and cache.stats.scans == 0
        assert seen[0] < 1500
        # The server goes on serving, and a new call scans the whole folder.
        result = await client.call_tool("list_pipelines", {"max_tokens": 300})
    assert not result.is_error and result.structured_content["total"] == 1500
    assert cache.stats.scans == 1


def test_outside_a_server_worker_thread_the_hooks_do_nothing():
    from orchestrator_kit.mcp_tools.progress import work_for

    work = work_for(object())
    assert work.progress is None and work.check is None
