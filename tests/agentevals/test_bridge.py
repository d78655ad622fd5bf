"""The bridge transport answers only the Messages endpoint; anything else the SDK might ask is refused locally."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from orchestrator_kit.evals.agents.bridge import InspectTransport

pytest.importorskip("inspect_ai")


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/models"), ("POST", "/v1/messages/count_tokens"),
                                              ("POST", "/v1/messages/batches"), ("DELETE", "/v1/messages")])
def test_other_endpoints_are_refused_without_reaching_a_model(method, path):
    async def call() -> httpx2.Response:
        transport = InspectTransport(bridge=None)  # type: ignore[arg-type]  # never reached for these
        async with httpx2.AsyncClient(transport=transport, base_url="http://inspect-bridge.invalid") as client:
            return await client.request(method, path, json={})

    response = asyncio.run(call())
    assert response.status_code == 404 and "only POST /v1/messages" in response.json()["error"]["message"]
