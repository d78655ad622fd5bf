"""read_file fills the budget it is given (issue 20, item 5), through the real MCP client: a page that has a
`next_cursor` uses at least 90% of `max_tokens`, or the next line would not fit in the room left; it never goes
over. Measured on the kinds of text a model reads: YAML (it stopped at about 58% of its budget when short lines were
costed by their bytes), Markdown, code and minified JSON lines."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from orchestrator_kit.server import build_server

from .capability import ok, tokens

pytestmark = pytest.mark.anyio

YAML = "".join(
    f"  job_{n}:\n    runs-on: ubuntu-latest\n    needs: [job_{max(0, n - 1)}]\n    steps:\n"
    f"      - uses: actions/checkout@v4\n      - run: make test SHARD={n}\n        timeout-minutes: 10\n"
    for n in range(300)
)
MARKDOWN = "".join(
    f"## Step {n}\n\nLog in to the bastion and restart worker {n} by hand, then check the dashboard.\n\n"
    f"1. `ssh deploy@bastion-{n}.example.org`\n2. `sudo systemctl restart worker@{n}`\n\n"
    for n in range(300)
)
CODE = "".join(
    f"def handler_{n}(event: dict[str, object]) -> int:\n    \"\"\"Handle event {n}.\"\"\"\n"
    f"    if event.get('kind') == 'retry':\n        return {n} * 2\n    return len(event)\n\n\n"
    for n in range(300)
)
JSON_LINES = "".join(
    json.dumps({"id": n, "name": f"item-{n}", "tags": ["alpha", "beta", str(n * 7919 % 1000)], "score": n / 7},
               separators=(",", ":")) * 3 + "\n"
    for n in range(400)
)
FILES = {"ci.yml": "jobs:\n" + YAML, "RUNBOOK.md": MARKDOWN, "handlers.py": CODE, "data.jsonl": JSON_LINES}


@pytest.mark.parametrize("path", sorted(FILES))
@pytest.mark.parametrize("budget", [1000, 4000])
async def test_a_page_fills_its_budget(make_repo, path, budget):
    repo = make_repo(FILES, git_repo=True)
    lines = FILES[path].splitlines()
    async with Client(build_server([repo])) as client:
        result = await client.call_tool("read_file", {"path": path, "max_tokens": budget})
        page = await ok(client, "read_file", path=path, max_tokens=budget)
    used = tokens(result.content[0].text)
    assert used <= budget
    assert page["next_cursor"], "each file is longer than one page"
    following = page["line_end"] + 1
    next_line = tokens(json.dumps(f"{following}\t{lines[following - 1]}"))
    assert used >= 0.9 * budget or next_line > budget - used - 8, (used, next_line)


async def test_the_pages_of_a_file_join_to_the_file(make_repo):
    repo = make_repo({"ci.yml": FILES["ci.yml"]}, git_repo=True)
    shown: list[str] = []
    async with Client(build_server([repo])) as client:
        page = await ok(client, "read_file", path="ci.yml", max_tokens=2000)
        while True:
            shown += [line.split("\t", 1)[1] for line in page["text"].split("\n")]
            if not page["next_cursor"]:
                break
            page = await ok(client, "read_file", path="ci.yml", max_tokens=2000, cursor=page["next_cursor"])
    assert shown == FILES["ci.yml"].splitlines()
