"""Errors say what to do, and never suggest what the server refuses (issue 10, Low items).

A budget error never suggests a max_tokens above MAX_MAX_TOKENS (it says to narrow the request instead), and a
failure that is not an OrchestratorError (a bug, an OS error, a budget) still comes back as an isError result with a
cause and a remedy, without the exception's own text.
"""

from __future__ import annotations

import re

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from orchestrator_kit.errors import InputError
from orchestrator_kit.mcp_tools import registry as registry_module
from orchestrator_kit.mcp_tools.budget import MAX_MAX_TOKENS, paginate
from orchestrator_kit.mcp_tools.limits import CallTimeout


def test_a_budget_error_never_suggests_more_than_the_maximum():
    huge = ["word " * 200_000]  # one item of about 200,000 tokens: no budget holds it

    def build(page, _offset, cursor):
        from orchestrator_kit.mcp_tools.budget import SectionPage

        return SectionPage(name="x" + "".join(page), total=len(page), offset=0, returned=len(page))

    with pytest.raises(InputError) as raised:
        paginate(huge, offset=0, max_tokens=MAX_MAX_TOKENS, build=build, next_cursor=lambda at: "c", what="line")
    message = str(raised.value)
    suggested = [int(n) for n in re.findall(r"(?:max_tokens >=|use at least) (\d+)", message)]
    assert all(n <= MAX_MAX_TOKENS for n in suggested), message
    assert "narrow the request" in message


@pytest.mark.parametrize(
    ("exc", "cause"),
    [(CallTimeout(), "time budget"), (MemoryError(), "more memory"), (RecursionError(), "nested too deeply"),
     (PermissionError(13, "Permission denied", "/secret/outside"), "Permission denied"),
     (KeyError("/secret/outside"), "internal error (KeyError)")],
)
def test_every_failure_is_a_tool_error_with_cause_and_remedy(exc, cause):
    def tool() -> str:
        raise exc

    with pytest.raises(ToolError) as raised:
        registry_module._wrap(tool)()
    message = str(raised.value)
    assert cause in message and "/secret/outside" not in message
    assert "call again" in message.lower() or "narrow" in message.lower() or "flatten" in message.lower()
