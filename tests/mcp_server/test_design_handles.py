"""Design handles under a flood and across servers (review of issue 19): what the server keeps stays bounded by
its 256-entry cache, unreadable designs never push readable ones out, and a handle means nothing to another
server or to a tool that expects an ASL definition."""

from __future__ import annotations

import pytest
import yaml

from orchestrator_kit.design.load import DesignInputError
from orchestrator_kit.errors import InputError
from orchestrator_kit.mcp_tools import design as tools
from orchestrator_kit.mcp_tools.roots import Roots
from orchestrator_kit.mcp_tools.state import ServerState


def _design(i: int) -> str:
    return yaml.safe_dump({
        "name": f"d{i}", "start_at": "go",
        "states": [{"name": "go", "type": "task", "action": f"svc.go{i}", "timeout_seconds": 30,
                    "transitions": [{"target": "done"}]}, {"name": "done", "type": "succeed"}],
    })


def _server(tmp_path) -> ServerState:
    return ServerState(roots=Roots([tmp_path]))


def test_a_flood_of_unreadable_designs_keeps_the_readable_ones_and_the_cache_bounded(tmp_path):
    """Before: every design text was remembered before it was read, so 300 unreadable texts pushed a good design
    out of the 256 handles (and kept 300 texts of up to 1 MiB each)."""
    state = _server(tmp_path)
    handle = tools.render(state, _design(0), max_tokens=10_000).design_handle
    for i in range(300):
        with pytest.raises(DesignInputError):
            tools.render(state, f"name: broken{i}\nstates: [", max_tokens=10_000)
    assert state.designs.peek(handle) == _design(0)
    assert tools.render(state, handle, max_tokens=10_000).design == "d0"
    assert len(state.designs._entries) == 1
    for i in range(1, 300):
        tools.render(state, _design(i), max_tokens=10_000)
    assert len(state.designs._entries) == 256  # bounded: the oldest went
    with pytest.raises(InputError, match="unknown design handle"):
        tools.render(state, handle, max_tokens=10_000)


def test_a_handle_from_one_server_is_unknown_to_another_and_is_no_asl_definition(tmp_path):
    first, second = _server(tmp_path), _server(tmp_path)
    handle = tools.validate(first, _design(1), max_tokens=10_000).design_handle
    calls = [
        lambda s, d: tools.validate(s, d, max_tokens=10_000),
        lambda s, d: tools.simulate(s, d, max_tokens=10_000),
        lambda s, d: tools.render(s, d, max_tokens=10_000),
        lambda s, d: tools.export_asl(s, d, lint=False, max_tokens=10_000),
        lambda s, d: tools.export_xstate(s, d, max_tokens=10_000),
        lambda s, d: tools.export_ci(s, d, target="gitlab-ci", max_tokens=10_000),
    ]
    for call in calls:
        assert call(first, handle).design == "d1"
        with pytest.raises(InputError, match=f"unknown design handle '{handle}'"):
            call(second, handle)
    # Before: "not JSON: Expecting value ..." for a handle sent as the ASL definition.
    with pytest.raises(InputError, match="is a design handle, not an ASL definition"):
        tools.import_asl(first, f"  {handle}\n", max_tokens=10_000)
