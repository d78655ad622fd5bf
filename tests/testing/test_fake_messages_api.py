"""The fake Messages API, driven by the real anthropic SDK over real HTTP (JSON and SSE streaming)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

anthropic = pytest.importorskip("anthropic")

from orchestrator_kit.testing.fake_messages_api import (  # noqa: E402 - after the importorskip above
    MAX_BODY_BYTES,
    STREAM_CHUNK_CHARS,
    ApiError,
    FakeMessagesAPI,
    Reply,
    Step,
    Usage,
    has_tool_results,
    offers_tool,
    reply,
    system_contains,
    system_text,
    text,
    tool_names,
    tool_result_text,
    tool_results,
    tool_use,
)

MODEL = "fake-model-for-tests"  # the fake echoes whatever model the request names
WEATHER_TOOL = {"name": "weather", "description": "Weather in a city", "input_schema": {"type": "object"}}


@pytest.fixture
def api() -> Iterator[FakeMessagesAPI]:
    with FakeMessagesAPI() as server:
        yield server


def client_for(api: FakeMessagesAPI, **options: object) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=api.base_url, api_key="test-key", **options)


def ask(client: anthropic.Anthropic, **extra: object) -> anthropic.types.Message:
    return client.messages.create(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}], **extra
    )


def test_json_reply_and_recorded_request(api: FakeMessagesAPI) -> None:
    api.add(Step(reply("Hello there", usage=Usage(input_tokens=42, output_tokens=7)), name="hello"))
    message = ask(client_for(api), system="Be brief.", tools=[WEATHER_TOOL])

    assert [block.text for block in message.content] == ["Hello there"]
    assert message.stop_reason == "end_turn"
    assert message.model == MODEL
    assert (message.usage.input_tokens, message.usage.output_tokens) == (42, 7)
    (request,) = api.requests
    assert (request.method, request.path, request.answered_by, request.status) == ("POST", "/v1/messages", "hello", 200)
    assert not request.streamed
    assert "test-key" in (request.headers.get("x-api-key", "") + request.headers.get("authorization", ""))
    assert system_text(request.body) == "Be brief."
    assert tool_names(request.body) == ["weather"]
    assert api.unused_steps() == []


def test_streamed_tool_use_is_reassembled_by_the_sdk(api: FakeMessagesAPI) -> None:
    long_input = {"city": "x" * (STREAM_CHUNK_CHARS * 3), "days": 3}  # streamed in several input_json_delta pieces
    api.add(Step(reply("Let me look.", tool_use("weather", long_input))))
    with client_for(api).messages.stream(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "weather?"}], tools=[WEATHER_TOOL]
    ) as stream:
        streamed_text = "".join(stream.text_stream)
        message = stream.get_final_message()

    assert streamed_text == "Let me look."
    assert message.stop_reason == "tool_use"
    call = message.content[1]
    assert (call.type, call.name, call.input, call.id) == ("tool_use", "weather", long_input, "toolu_fake_0001")
    assert api.requests[0].streamed
    assert message.id == "msg_fake_0001"


def test_matchers_route_main_loop_and_subagent_apart(api: FakeMessagesAPI) -> None:
    api.add(
        Step(reply(tool_use("weather", {"city": "Oslo"})), match=system_contains("SUBAGENT"), name="sub-call"),
        Step(reply("sub done"), match=system_contains("SUBAGENT"), name="sub-final"),
        Step(reply("main done"), match=system_contains("MAIN"), name="main"),
    )
    client = client_for(api)
    main = ask(client, system="You are the MAIN loop", tools=[WEATHER_TOOL])
    first = ask(client, system=[{"type": "text", "text": "You are a SUBAGENT"}], tools=[WEATHER_TOOL])
    second = ask(client, system="You are a SUBAGENT", tools=[WEATHER_TOOL])

    assert main.content[0].text == "main done"
    assert first.content[0].name == "weather"
    assert second.content[0].text == "sub done"
    assert [r.answered_by for r in api.requests] == ["main", "sub-call", "sub-final"]


def test_responder_sees_the_request_and_tool_results(api: FakeMessagesAPI) -> None:
    """A tool-runner loop: the second request carries the tool's result, and the responder reads it."""
    api.add(
        Step(reply(tool_use("weather", {"city": "Oslo"})), match=offers_tool("weather"), name="call"),
        Step(
            lambda body: reply(f"The tool said: {tool_result_text(tool_results(body)[0])}"),
            match=has_tool_results,
            name="final",
        ),
    )

    @anthropic.beta_tool
    def weather(city: str) -> str:
        """Weather in a city."""
        return f"sunny in {city}"

    runner = client_for(api).beta.messages.tool_runner(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "weather in Oslo?"}],
        tools=[weather],
        thread=False,
        max_iterations=5,
    )
    final = runner.until_done()

    assert final.content[0].text == "The tool said: sunny in Oslo"
    second = api.messages_requests(answered_by="final")[0].body
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]


@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit_error"), (529, "overloaded_error")])
def test_error_step_then_retry_succeeds(api: FakeMessagesAPI, status: int, kind: str) -> None:
    api.add(Step(ApiError(status, retry_after=0.01), name="busy"), Step(reply("after retry"), name="ok"))
    message = ask(client_for(api, max_retries=2))

    assert message.content[0].text == "after retry"
    assert [(r.answered_by, r.status) for r in api.requests] == [("busy", status), ("ok", 200)]
    assert api.unused_steps() == []
    assert kind == ApiError(status).kind()


def test_error_is_raised_with_its_type_when_retries_are_off(api: FakeMessagesAPI) -> None:
    api.add(Step(ApiError(429, message="slow down", retry_after=1)))
    with pytest.raises(anthropic.RateLimitError) as caught:
        ask(client_for(api, max_retries=0))
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.response.headers["retry-after-ms"] == "1000"
    assert "slow down" in str(caught.value)


def test_side_request_without_tools_gets_plain_text_and_uses_no_step(api: FakeMessagesAPI) -> None:
    api.add(Step(reply("scripted"), match=offers_tool("weather"), name="main"))
    client = client_for(api)
    title = ask(client, system="Write a title")  # no tools: a side request
    main = ask(client, tools=[WEATHER_TOOL])

    assert title.content[0].text == "Fake reply"
    assert main.content[0].text == "scripted"
    assert [r.answered_by for r in api.requests] == ["side", "main"]


def test_side_requests_can_be_scripted_instead() -> None:
    with FakeMessagesAPI([Step(reply("scripted"))], answer_side_requests=False) as api:
        assert ask(client_for(api)).content[0].text == "scripted"


def test_unmatched_request_is_a_400_naming_it_and_not_retried(api: FakeMessagesAPI) -> None:
    api.add(Step(reply("never"), match=system_contains("nobody says this")))
    with pytest.raises(anthropic.BadRequestError, match="no scripted step matches request #1"):
        ask(client_for(api), tools=[WEATHER_TOOL])
    assert len(api.requests) == 1
    assert api.unused_steps() == ["#0"]


def test_responder_that_raises_becomes_a_400_and_the_server_goes_on(api: FakeMessagesAPI) -> None:
    def broken(body: object) -> Reply:
        raise KeyError("oops")

    api.add(Step(broken, name="broken"), Step(reply("still serving")))
    client = client_for(api)
    with pytest.raises(anthropic.BadRequestError, match="step broken raised"):
        ask(client)
    assert ask(client).content[0].text == "still serving"


def test_step_times_and_unlimited_steps(api: FakeMessagesAPI) -> None:
    api.add(Step(reply("twice"), times=2, name="two"), Step(reply("always"), times=None, name="forever"))
    client = client_for(api)
    answers = [ask(client).content[0].text for _ in range(4)]
    assert answers == ["twice", "twice", "always", "always"]
    assert api.unused_steps() == []


def test_other_block_kinds_stream_whole(api: FakeMessagesAPI) -> None:
    thinking = {"type": "thinking", "thinking": "hmm", "signature": "sig"}
    api.add(Step(Reply(content=(thinking, text("answer")))))
    with client_for(api).messages.stream(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "q"}]
    ) as stream:
        message = stream.get_final_message()
    assert [block.type for block in message.content] == ["thinking", "text"]


def test_count_tokens_endpoint(api: FakeMessagesAPI) -> None:
    counted = client_for(api).messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "hello"}])
    assert counted.input_tokens > 0
    assert api.requests[0].answered_by == "count_tokens"
    assert api.messages_requests() == []


# ----------------------------------------------------------------------------------------------- hostile and odd input


def raw_request(api: FakeMessagesAPI, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    port = int(api.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, json.loads(payload) if payload else None


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "not JSON"),
        (b"\xff\xfe\x00", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b"", 400, "JSON object"),
    ],
)
def test_malformed_bodies_get_clear_json_errors(api: FakeMessagesAPI, body: bytes, status: int, fragment: str) -> None:
    got_status, payload = raw_request(api, "POST", "/v1/messages", body, {"content-type": "application/json"})
    assert got_status == status
    assert payload["type"] == "error"
    assert fragment in payload["error"]["message"]
    assert api.requests[0].status == status


def test_huge_declared_body_is_refused_unread(api: FakeMessagesAPI) -> None:
    status, payload = raw_request(
        api, "POST", "/v1/messages", b"{}", {"content-length": str(MAX_BODY_BYTES + 1)}
    )
    assert status == 413
    assert "over" in payload["error"]["message"]


def test_bad_content_length(api: FakeMessagesAPI) -> None:
    status, payload = raw_request(api, "POST", "/v1/messages", b"", {"content-length": "-5"})
    assert status == 400
    assert "content-length" in payload["error"]["message"]


def test_unknown_route_is_404_and_recorded(api: FakeMessagesAPI) -> None:
    status, payload = raw_request(api, "GET", "/v1/models")
    assert status == 404
    assert payload["error"]["type"] == "not_found_error"
    assert api.requests[0].path == "/v1/models"


def test_chunked_body_is_read(api: FakeMessagesAPI) -> None:
    api.add(Step(reply("chunked ok")))
    data = json.dumps({"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}).encode()
    chunked = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n"
    status, payload = raw_request(api, "POST", "/v1/messages?beta=true", chunked, {"transfer-encoding": "chunked"})
    assert status == 200
    assert payload["content"] == [{"type": "text", "text": "chunked ok"}]
    assert api.requests[0].query == {"beta": ["true"]}


def test_base_url_needs_a_running_server() -> None:
    api = FakeMessagesAPI()
    with pytest.raises(RuntimeError, match="not running"):
        _ = api.base_url
    api.start()
    try:
        assert api.base_url.startswith("http://127.0.0.1:")
    finally:
        api.stop()
    api.stop()  # a second stop is harmless


def test_tool_results_skip_system_role_messages_and_stop_at_the_assistant() -> None:
    result = {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "42"}]}
    body = {
        "messages": [
            {"role": "assistant", "content": [tool_use("x", {}, block_id="t1")]},
            {"role": "user", "content": [result]},
            {"role": "system", "content": [{"type": "text", "text": "a reminder"}]},
        ]
    }
    assert [tool_result_text(b) for b in tool_results(body)] == ["42"]
    assert has_tool_results(body)
    assert tool_results({"messages": [*body["messages"], {"role": "assistant", "content": "hi"}]}) == []
    assert tool_results({"messages": "not a list"}) == []
    assert tool_results({"messages": [{"role": "user", "content": "plain text"}]}) == []
