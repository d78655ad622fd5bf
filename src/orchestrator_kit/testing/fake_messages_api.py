"""A scripted fake of the Anthropic Messages API: real HTTP on 127.0.0.1, JSON or SSE streaming, every request recorded.

Point the anthropic SDK (`Anthropic(base_url=api.base_url, api_key="x")`) or Claude Code (`ANTHROPIC_BASE_URL`) at it.
The script is a list of `Step`s. For each `POST /v1/messages` the server takes the first step that still has uses left
and whose `match` accepts the request body, and answers with what its `respond` gives: a `Reply` (content blocks, stop
reason, usage) or an `ApiError` (a status such as 429 or 529, with `retry-after`). Requests that offer no tools and that
no step claims (Claude Code's session-title request, for example) get a plain text reply (`side_text`) without using a
step. A request that nothing answers gets a 400 `invalid_request_error` that names it, which the SDK does not retry.

    with FakeMessagesAPI([
        Step(match=system_contains("You are the main loop"), respond=reply(tool_use("Agent", {...}))),
        Step(match=system_contains("process-orchestrator"), respond=reply(tool_use("scan_repository", {}))),
        Step(respond=lambda body: reply(text(f"saw {len(body['messages'])} messages"))),
    ]) as api:
        ... run the client against api.base_url ...
        assert api.unused_steps() == []
        assert tool_names(api.messages_requests()[0].body) == [...]

Whether the answer streams follows the request's `stream` field, as the real API does. Block ids and message ids are
numbered per server (`toolu_fake_0001`, `msg_fake_0001`) so runs are deterministic. Standard library only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

Block = dict[str, Any]
Body = Mapping[str, Any]
Matcher = Callable[[Body], bool]

MAX_BODY_BYTES = 64 * 1024 * 1024  # Claude Code's requests run to a few hundred KB; anything far past that is a bug
STREAM_CHUNK_CHARS = 48  # text and tool input are streamed in pieces of this size, so clients must reassemble them
MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"


# ----------------------------------------------------------------------------------------------- what a step answers


@dataclass(frozen=True)
class Usage:
    """Token counts reported with a reply (the fake does not count anything: tests choose the numbers)."""

    input_tokens: int = 10
    output_tokens: int = 5
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }


@dataclass(frozen=True)
class Reply:
    """An assistant message. `stop_reason` defaults to "tool_use" when a block is a tool_use, else "end_turn";
    `model` defaults to the model the request named."""

    content: tuple[Block, ...]
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None

    def final_stop_reason(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if any(block.get("type") == "tool_use" for block in self.content) else "end_turn"


@dataclass(frozen=True)
class ApiError:
    """An error answer: `status` 429 (rate_limit_error), 529 (overloaded_error), 500 (api_error), 400, ...
    `retry_after` (seconds, may be fractional) goes out as `retry-after` and `retry-after-ms` (the SDK honours both);
    `should_retry` sets the `x-should-retry` header when not None."""

    status: int
    error_type: str = ""
    message: str = "scripted error"
    retry_after: float | None = None
    should_retry: bool | None = None

    def kind(self) -> str:
        if self.error_type:
            return self.error_type
        return _ERROR_TYPES.get(self.status, "api_error")


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

Answer = Reply | ApiError
Responder = Callable[[Body], Answer]


def text(value: str) -> Block:
    """A text content block."""
    return {"type": "text", "text": value}


def tool_use(name: str, arguments: Mapping[str, Any] | None = None, *, block_id: str | None = None) -> Block:
    """A tool_use content block; without `block_id` the server numbers it (`toolu_fake_0001`, ...)."""
    block: Block = {"type": "tool_use", "name": name, "input": dict(arguments or {})}
    if block_id is not None:
        block["id"] = block_id
    return block


def reply(*blocks: Block | str, stop_reason: str | None = None, usage: Usage | None = None) -> Reply:
    """A `Reply` from blocks; a plain string is a text block."""
    content = tuple(text(block) if isinstance(block, str) else block for block in blocks)
    return Reply(content=content, stop_reason=stop_reason, usage=usage or Usage())


# ------------------------------------------------------------------------------------- matchers and request readers


def any_request(body: Body) -> bool:  # the signature every matcher has
    """Matches every request."""
    return True


def _joined_text(value: Any) -> str:
    """A string as it is, or the texts of a list of text blocks joined by newlines (how the API writes both)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(str(block.get("text", "")) for block in value if isinstance(block, dict))
    return ""


def system_text(body: Body) -> str:
    """The request's system prompt as one string (the API accepts a string or a list of text blocks)."""
    return _joined_text(body.get("system"))


def tool_names(body: Body) -> list[str]:
    """Names of the tools the request offers, in order."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    return [str(tool.get("name")) for tool in tools if isinstance(tool, dict)]


def tool_results(body: Body) -> list[Block]:
    """The tool_result blocks of the request's last user message (what the client sends back after a tool_use).

    Messages of other roles after it (Claude Code appends `role: "system"` reminders) are skipped; an assistant
    message after it means there is no pending result."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return []
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            continue
        content = message.get("content")
        if message["role"] == "assistant" or not isinstance(content, list):
            return []
        return [block for block in content if isinstance(block, dict) and block.get("type") == "tool_result"]
    return []


def tool_result_text(block: Block) -> str:
    """The text of a tool_result block (its content is a string or a list of text blocks)."""
    return _joined_text(block.get("content"))


def system_contains(fragment: str) -> Matcher:
    """A matcher: the system prompt contains `fragment`."""
    return lambda body: fragment in system_text(body)


def offers_tool(name: str) -> Matcher:
    """A matcher: the request offers a tool called `name`."""
    return lambda body: name in tool_names(body)


def has_tool_results(body: Body) -> bool:
    """Matches a request whose last user message carries tool results."""
    return bool(tool_results(body))


# ----------------------------------------------------------------------------------------------- the script


@dataclass
class Step:
    """One scripted answer: used for the first request `match` accepts, `times` times (None: for ever).
    `respond` is a function of the request body, or a fixed `Reply` / `ApiError`."""

    respond: Responder | Answer
    match: Matcher = any_request
    name: str = ""
    times: int | None = 1
    used: int = 0

    def available(self) -> bool:
        return self.times is None or self.used < self.times

    def answer(self, body: Body) -> Answer:
        if isinstance(self.respond, Reply | ApiError):
            return self.respond
        return self.respond(body)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it. `answered_by` is the step's name (or "#<index>"), "side" for a side
    request, "count_tokens", or "" when nothing answered; `status` is the HTTP status sent back."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    answered_by: str
    status: int

    @property
    def is_messages(self) -> bool:
        return self.method == "POST" and self.path == MESSAGES_PATH

    @property
    def streamed(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True


# ----------------------------------------------------------------------------------------------- the server


class FakeMessagesAPI:
    """The server. Use as a context manager (or `start()` / `stop()`); `base_url` is `http://127.0.0.1:<port>`."""

    def __init__(
        self,
        script: Iterable[Step] = (),
        *,
        side_text: str = "Fake reply",
        answer_side_requests: bool = True,
    ) -> None:
        self._steps: list[Step] = list(script)
        self._side_text = side_text
        self._answer_side_requests = answer_side_requests
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._counters = {"msg": 0, "toolu": 0, "req": 0}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle
    def start(self) -> FakeMessagesAPI:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        # A short poll interval: stop() waits for the serving loop to notice, and tests stop a server each.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-messages-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeMessagesAPI:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeMessagesAPI is not running: use it as a context manager or call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- script and record
    def add(self, *steps: Step) -> None:
        """Append steps to the script (also while serving)."""
        with self._lock:
            self._steps.extend(steps)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def messages_requests(self, answered_by: str | None = None) -> list[RecordedRequest]:
        """The `POST /v1/messages` requests, optionally only those a given step (or "side") answered."""
        return [r for r in self.requests if r.is_messages and (answered_by is None or r.answered_by == answered_by)]

    def unused_steps(self) -> list[str]:
        """Names of steps with uses left (a step with `times=None` never counts as unused once used)."""
        with self._lock:
            return [
                _step_label(i, step)
                for i, step in enumerate(self._steps)
                if step.used == 0 or (step.times is not None and step.used < step.times)
            ]

    # -- answering (called from the handler threads)
    def _choose(self, body: Body) -> tuple[str, Answer | None]:
        with self._lock:
            for index, step in enumerate(self._steps):
                if step.available() and _safe_match(step.match, body):
                    step.used += 1
                    chosen: Step | None = step
                    label = _step_label(index, step)
                    break
            else:
                chosen = None
                label = ""
        if chosen is not None:
            try:
                return label, chosen.answer(body)
            except Exception as error:  # a responder bug becomes a visible 400, and the server goes on
                return label, ApiError(400, message=f"fake: step {label} raised {error!r}", should_retry=False)
        if self._answer_side_requests and not tool_names(body):
            return "side", reply(self._side_text)
        return "", None

    def _next_id(self, kind: str) -> str:
        with self._lock:
            self._counters[kind] += 1
            return f"{kind}_fake_{self._counters[kind]:04d}"

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _message_json(self, answer: Reply, body: Body) -> dict[str, Any]:
        content = [dict(block) for block in answer.content]
        for block in content:
            if block.get("type") == "tool_use" and "id" not in block:
                block["id"] = self._next_id("toolu")
        return {
            "id": self._next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": answer.model or str(body.get("model") or "fake-model"),
            "content": content,
            "stop_reason": answer.final_stop_reason(),
            "stop_sequence": None,
            "usage": answer.usage.as_json(),
        }


def _step_label(index: int, step: Step) -> str:
    return step.name or f"#{index}"


def _safe_match(match: Matcher, body: Body) -> bool:
    """A matcher that raises on an odd body does not match it (the server must keep serving)."""
    try:
        return bool(match(body))
    except Exception:  # a faulty matcher is a test bug shown by the unmatched request, not a crash
        return False


def sse_events(message: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events the real API sends for `message` (a full message JSON): message_start, a ping, per block
    content_block_start / delta(s) / stop, message_delta (stop reason, output tokens), message_stop."""
    usage = dict(message["usage"])
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        if block.get("type") == "tool_use":
            opening = {**block, "input": {}}
            pieces = _chunks(json.dumps(block.get("input", {})))
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
        elif block.get("type") == "text":
            opening = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in _chunks(str(block.get("text", "")))]
        else:  # other block kinds (thinking, ...) arrive whole in the start event
            opening, deltas = dict(block), []
        yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": opening}
        for delta in deltas:
            yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _chunks(value: str) -> list[str]:
    if not value:
        return []
    return [value[i : i + STREAM_CHUNK_CHARS] for i in range(0, len(value), STREAM_CHUNK_CHARS)]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _handler_for(api: FakeMessagesAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeMessagesAPI/1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the record is the log."""

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                raw = self._read_body()
                body: Any = json.loads(raw) if raw else None
            except _BadRequest as error:
                self._finish(method, url, headers, None, "", ApiError(error.status, message=str(error)))
                return
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                bad = ApiError(400, message=f"fake: request body is not JSON ({error})")
                self._finish(method, url, headers, None, "", bad)
                return
            if method == "POST" and url.path == COUNT_TOKENS_PATH and isinstance(body, dict):
                # No tokenizer here: about four characters of request JSON per token, enough for a client that asks.
                self._finish(method, url, headers, body, "count_tokens", None, {"input_tokens": len(raw) // 4})
                return
            if method != "POST" or url.path != MESSAGES_PATH:
                missing = ApiError(404, message=f"fake: no route {method} {url.path}")
                self._finish(method, url, headers, body, "", missing)
                return
            if not isinstance(body, dict):
                self._finish(method, url, headers, body, "", ApiError(400, message="fake: body must be a JSON object"))
                return
            label, answer = api._choose(body)
            if answer is None:
                number = len(api.messages_requests()) + 1
                answer = ApiError(
                    400,
                    message=f"fake: no scripted step matches request #{number} (tools: "
                    f"{', '.join(tool_names(body)) or 'none'}; system starts {system_text(body)[:80]!r})",
                )
            self._finish(method, url, headers, body, label, answer)

        def _read_body(self) -> bytes:
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                return self._read_chunked()
            length_header = self.headers.get("content-length") or "0"
            try:
                length = int(length_header)
            except ValueError as error:
                raise _BadRequest(400, f"fake: bad content-length {length_header!r}") from error
            if length < 0:
                raise _BadRequest(400, f"fake: bad content-length {length_header!r}")
            if length > MAX_BODY_BYTES:
                self.close_connection = True  # the unread body must not be parsed as the next request
                raise _BadRequest(413, f"fake: body of {length} bytes is over {MAX_BODY_BYTES}")
            return self.rfile.read(length)

        def _read_chunked(self) -> bytes:
            parts: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024).strip()
                try:
                    size = int(line.split(b";")[0], 16)
                except ValueError as error:
                    self.close_connection = True
                    raise _BadRequest(400, "fake: bad chunked encoding") from error
                if size == 0:
                    self.rfile.readline(1024)
                    return b"".join(parts)
                total += size
                if total > MAX_BODY_BYTES:
                    self.close_connection = True
                    raise _BadRequest(413, f"fake: body over {MAX_BODY_BYTES} bytes")
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)

        def _finish(
            self,
            method: str,
            url: Any,
            headers: dict[str, str],
            body: Any,
            label: str,
            answer: Answer | None,
            plain: dict[str, Any] | None = None,
        ) -> None:
            status = answer.status if isinstance(answer, ApiError) else 200
            api._record(RecordedRequest(method, url.path, parse_qs(url.query), headers, body, label, status))
            if isinstance(answer, ApiError):
                self._send_error(answer)
            elif isinstance(answer, Reply):
                message = api._message_json(answer, body)
                if body.get("stream") is True:
                    self._send_stream(message)
                else:
                    self._send_json(200, message)
            else:
                self._send_json(200, plain or {})

        def _send_json(self, status: int, payload: Any, extra: Mapping[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", api._next_id("req"))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _send_error(self, error: ApiError) -> None:
            extra: dict[str, str] = {}
            if error.retry_after is not None:
                extra["retry-after"] = f"{error.retry_after:g}"
                extra["retry-after-ms"] = f"{error.retry_after * 1000:g}"
            if error.should_retry is not None:
                extra["x-should-retry"] = "true" if error.should_retry else "false"
            payload = {"type": "error", "error": {"type": error.kind(), "message": error.message}}
            self._send_json(error.status, payload, extra)

        def _send_stream(self, message: Mapping[str, Any]) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")  # the end of the stream is the end of the connection
            self.end_headers()
            self.close_connection = True
            for event, data in sse_events(message):
                self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

    return Handler
