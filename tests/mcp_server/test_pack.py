"""`budget.pack`: a result with several lists, paged so that no page is over the budget and nothing is lost or repeated;
its cursors refuse anything they did not issue."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from orchestrator_kit.errors import InputError
from orchestrator_kit.mcp_tools import budget

from .capability import tokens


class Inner(BaseModel):
    notes: list[str] = []


class Result(BaseModel):
    title: str
    inner: Inner
    rows: list[dict[str, str]] = []
    sections: list[budget.SectionPage] = []
    next_cursor: str | None = None


LISTS = ("inner.notes", "rows")


def page(model: Result, max_tokens: int, cursor: str | None) -> Result:
    return budget.pack_model(
        model, LISTS, kind="test", version="v1", max_tokens=max_tokens, cursor=cursor,
        wrap=lambda p, sections, next_cursor: p.model_copy(update={"sections": sections, "next_cursor": next_cursor}),
    )


def walk(model: Result, max_tokens: int) -> tuple[list[str], list[dict[str, str]], int]:
    notes: list[str] = []
    rows: list[dict[str, str]] = []
    cursor, pages = None, 0
    while True:
        result = page(model, max_tokens, cursor)
        assert tokens(budget.render(result)) <= max_tokens
        assert result.title == model.title  # the scalars are on every page
        notes += result.inner.notes
        rows += result.rows
        pages += 1
        cursor = result.next_cursor
        if cursor is None:
            return notes, rows, pages


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@given(
    notes=st.lists(texts, max_size=30),
    rows=st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), texts, max_size=3), max_size=30),
    max_tokens=st.integers(min_value=256, max_value=2000),
)
def test_pages_fit_and_cover_every_item_once(notes, rows, max_tokens):
    model = Result(title="t" * 50, inner=Inner(notes=notes), rows=rows)
    try:
        got_notes, got_rows, pages = walk(model, max_tokens)
    except InputError as exc:  # only when one item alone is over the budget: the message names one that fits
        assert "too small for the next item" in str(exc)
        need = int(str(exc).rsplit(">= ", 1)[1].rstrip("."))
        assert need > max_tokens
        return
    assert got_notes == notes and got_rows == rows
    if not notes and not rows:
        assert pages == 1


def test_the_lists_fill_the_page_in_order_and_a_later_list_may_use_the_room_left():
    big = "word " * 600  # about 600 tokens
    model = Result(title="x", inner=Inner(notes=["short", big, "after"]), rows=[{"a": "small"}])
    first = page(model, 400, None)
    # notes: "short" fits, the big note does not, so the list stops there; rows still get the room left
    assert first.inner.notes == ["short"] and first.rows == [{"a": "small"}]
    assert [(s.name, s.offset, s.returned, s.total) for s in first.sections] == [
        ("inner.notes", 0, 1, 3), ("rows", 0, 1, 1),
    ]
    with pytest.raises(InputError, match=r"too small for the next item of inner\.notes alone; call again with"):
        page(model, 256, first.next_cursor)
    second = page(model, 2000, first.next_cursor)  # a cursor works with another budget
    assert second.inner.notes == [big, "after"] and second.rows == [] and second.next_cursor is None


def test_an_envelope_over_the_budget_names_the_budget_it_needs():
    model = Result(title="y" * 3000, inner=Inner())
    with pytest.raises(InputError, match=r"max_tokens=256 is too small for this result; use at least \d+"):
        page(model, 256, None)


@pytest.mark.parametrize(
    ("cursor", "message"),
    [
        ("garbage!", "is not a cursor this server issued"),
        (budget.encode_sections("test", {"unknown.list": 1}, "v1"), "is not a cursor this server issued"),
        (budget.encode_sections("test", {"rows": -1}, "v1"), "is not a cursor this server issued"),
        (budget.encode_sections("test", {"rows": True}, "v1"), "is not a cursor this server issued"),
        (budget.encode_cursor("test", 3, "v1"), "is not a cursor this server issued"),
        (budget.encode_sections("other", {"rows": 1}, "v1"), "belongs to another listing"),
        (budget.encode_sections("test", {"rows": 1}, "v0"), "is stale"),
    ],
)
def test_cursors_it_did_not_issue_are_refused(cursor, message):
    with pytest.raises(InputError, match=message):
        page(Result(title="z", inner=Inner(notes=["a"]), rows=[{"a": "b"}]), 1000, cursor)


@given(st.text(max_size=200))
def test_any_garbage_cursor_is_an_input_error(garbage):
    try:
        budget.decode_sections(garbage, "test", "v1", LISTS)
    except InputError:
        return
    assert garbage == ""  # the empty string means "no cursor"
