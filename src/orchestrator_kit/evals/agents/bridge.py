"""Our runner, driven by the model of an inspect-ai eval: an HTTP transport for the anthropic SDK that answers each
Messages request with inspect's model API.

inspect-ai's agent bridge (`agent_bridge()`) supports the Anthropic Messages API: it converts the request (system,
messages, tools, tool results) into inspect messages, calls the eval's model (mockllm, anthropic/..., any provider),
records the call in the eval log, and converts the answer back. Installed as it is meant to be, it patches the SDK's
`AsyncAPIClient.request` for models named "inspect"; with anthropic 2.17's tool runner that path fails (the runner's
thread reads `_request_id`, which only a parsed HTTP response carries). So the runner keeps its real SDK client and
its real tool runner, and only the transport under it changes: each request goes to the bridge's converter
(`inspect_anthropic_api_request`, the function the patch itself calls) and comes back as an HTTP 200 with the JSON
message, which the SDK parses as it parses Anthropic's answers. The MCP server, the tool loop, the checkpoints, the
grounding check and the report are the ones `orchestrator-kit run` uses.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx2

if TYPE_CHECKING:
    from inspect_ai.agent._bridge.types import AgentBridge

BRIDGE_MODEL = "inspect"  # the name the bridge resolves to the eval's model


class InspectTransport(httpx2.AsyncBaseTransport):
    """Answers POST /v1/messages with the eval's model; any other request is refused (nothing leaves the process)."""

    def __init__(self, bridge: AgentBridge) -> None:
        self.bridge = bridge
        self.requests = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        from inspect_ai.agent._bridge.anthropic_api import inspect_anthropic_api_request

        if request.method != "POST" or request.url.path != "/v1/messages":
            return httpx2.Response(404, json={"type": "error", "error": {
                "type": "not_found_error", "message": f"The eval bridge answers only POST /v1/messages, not "
                                                      f"{request.method} {request.url.path}."}})
        body: dict[str, Any] = json.loads(await request.aread())
        body["model"] = BRIDGE_MODEL
        body.pop("stream", None)
        self.requests += 1
        message = await inspect_anthropic_api_request(body, None, None, None, self.bridge, beta=True)
        return httpx2.Response(200, json=message.model_dump(mode="json", exclude_none=True),
                               headers={"request-id": f"req_eval_{self.requests}"})
