"""Detail levels and lean pages (issue 20, item 3), through the real MCP client: concise by default (evidence as
`path:start-end`, weekly series and rows past the first few left out and counted), everything with
detail='detailed'; formulas once per result (a continuation page holds its items and numbers, not the formulas);
every result with a `next_cursor` says so in its first characters."""

from __future__ import annotations

import json
import re

import pytest
from mcp import Client

from orchestrator_kit.agent.grounding import Evidence as Grounding
from orchestrator_kit.mcp_tools.detail import CONCISE_ROWS
from orchestrator_kit.server import build_server

from .capability import at, commit, error, ok, smallest_budget, tokens
from .conftest import SHOP
from .test_model_pages import SPEC

pytestmark = pytest.mark.anyio

SPAN = re.compile(r"[^:]+:(\d+)-(\d+)")


@pytest.fixture
def busy_repo(make_repo):
    """24 files in 4 folders changed over 6 weeks by two people: every history list has more than 5 rows."""
    root = make_repo({f"pkg{i % 4}/m{i:02}.py": f"v = {i}\n" for i in range(24)}, git_repo=True)
    for week in range(1, 7):
        commit(root, f"w{week}", ["alice", "bob"][week % 2], f"2026-01-{week * 4:02}T09:00:00Z",
               {f"pkg{week % 4}/m{j:02}.py": f"v = {week}\n" for j in range(week % 4, 24, 4)})
    return root


async def test_git_metrics_is_concise_by_default_and_says_what_it_left_out(busy_repo):
    async with Client(build_server([busy_repo])) as client:
        concise = await ok(client, "git_metrics", top=50, max_tokens=60_000)
        detailed = await ok(client, "git_metrics", top=50, max_tokens=60_000, detail="detailed")
    assert concise["history"]["commit_frequency"]["weeks"] == []
    assert concise["history"]["commit_frequency"]["mean_per_week"] == detailed["history"]["commit_frequency"][
        "mean_per_week"]  # the series goes, its summary stays
    assert len(detailed["history"]["commit_frequency"]["weeks"]) >= 2
    whole = {s["name"]: s["total"] for s in detailed["sections"]}
    omitted = 0
    for section in concise["sections"]:
        name, rows = section["name"], at(concise["history"], section["name"])
        full = at(detailed["history"], name)
        if name == "commit_frequency.weeks":
            assert rows == [] and section["omitted"] == whole[name]
        elif name in ("partial_reasons", "diagnostics"):
            assert rows == full and section["omitted"] == 0  # caveats are never cut
        else:
            assert rows == full[:CONCISE_ROWS] and section["omitted"] == max(0, len(full) - CONCISE_ROWS)
        omitted += section["omitted"]
    assert omitted > 0 and concise["detail"].startswith(
        f"concise: left out {omitted} rows past the first {CONCISE_ROWS}")
    assert "detail='detailed'" in concise["detail"]
    assert detailed["detail"] == "detailed"
    assert tokens(json.dumps(concise)) < tokens(json.dumps(detailed)) * 0.7


async def test_formulas_come_once_per_result(busy_repo):
    async with Client(build_server([busy_repo])) as client:
        budget = await smallest_budget(client, "git_metrics", {"detail": "detailed"})
        first = await ok(client, "git_metrics", max_tokens=budget, detail="detailed")
        second = await ok(client, "git_metrics", max_tokens=budget, detail="detailed", cursor=first["next_cursor"])
    assert first["history"]["hotspots"]["formula"] and first["history"]["churn"]["formula"]
    assert second["history"]["hotspots"]["formula"] == "" and second["history"]["churn"]["formula"] == ""
    assert second["history"]["commits"] == first["history"]["commits"]  # the numbers stay
    assert "continuation page" in second["detail"] and "continuation" not in first["detail"]


async def test_a_continuation_page_is_lean(build):
    async with Client(build()) as client:
        first = await ok(client, "opportunity_matrix", max_tokens=(await smallest_budget(
            client, "opportunity_matrix", {})))
        assert first["next_cursor"], "the smallest page holds fewer than all opportunities"
        second = await ok(client, "opportunity_matrix", max_tokens=4000, cursor=first["next_cursor"])
    assert first["matrix"]["formulas"] and second["matrix"]["formulas"] == {}
    assert first["matrix"]["assumptions"] and second["matrix"]["assumptions"] == {}
    assert second["matrix"]["opportunities"]  # the items of this page are whole
    assert [s["offset"] for s in second["sections"] if s["name"] == "opportunities"] == [
        s["returned"] for s in first["sections"] if s["name"] == "opportunities"]


async def test_concise_opportunities_leave_the_repeated_inputs_out(build):
    async with Client(build()) as client:
        concise = await ok(client, "opportunity_matrix", max_tokens=60_000)
        detailed = await ok(client, "opportunity_matrix", max_tokens=60_000, detail="detailed")
    pairs = list(zip(concise["matrix"]["opportunities"], detailed["matrix"]["opportunities"], strict=True))
    assert pairs
    for short, full in pairs:
        assert short["explanation"]["inputs"] == [] and full["explanation"]["inputs"]
        assert short["explanation"]["formula"] == "" and full["explanation"]["formula"]
        assert short["explanation"]["evidence_lines"] == full["explanation"]["evidence_lines"]
        assert {k: v for k, v in short.items() if k != "explanation"} == {
            k: v for k, v in full.items() if k != "explanation"}
    assert "explanation.inputs" in concise["detail"] and detailed["detail"] == "detailed"


@pytest.mark.parametrize("tool", ["list_pipelines", "list_tasks", "list_schedules", "list_infrastructure",
                                  "list_manual_procedures"])
async def test_concise_listings_cite_path_start_end_and_ground_the_same_lines(build, tool):
    async with Client(build()) as client:
        concise = await client.call_tool(tool, {})
        detailed = await ok(client, tool, detail="detailed")
    items = concise.structured_content["items"]
    assert items and len(items) == len(detailed["items"])
    grounding = Grounding.from_results([concise.content[0].text])
    for short, full in zip(items, detailed["items"], strict=True):
        e = full["evidence"]
        assert short["evidence"] == f"{e['path']}:{e['line_start']}-{e['line_end']}"
        assert grounding.has_location(e["path"], e["line_start"], e["line_end"])  # a report can cite it
    assert tokens(concise.content[0].text) <= tokens(json.dumps(detailed))


async def test_a_detail_level_that_does_not_exist_is_refused(build):
    async with Client(build()) as client:
        message = await error(client, "git_metrics", detail="verbose")
        huge = await error(client, "list_tasks", detail="x" * 100_000)
    assert "concise" in message and "detailed" in message
    assert "concise" in huge


async def test_a_cursor_goes_on_in_its_own_detail_level(build):
    async with Client(build()) as client:
        first = await ok(client, "list_tasks", max_tokens=256, detail="detailed")
        other = await error(client, "list_tasks", max_tokens=256, cursor=first["next_cursor"])
    assert "belongs to another listing" in other


PAGED = [
    ("list_tasks", {"detail": "detailed"}), ("list_pipelines", {}), ("get_pipeline", {
        "pipeline_id": "github-actions:.github/workflows/ci.yml"}),
    ("read_file", {"path": "docs/long.md"}), ("search_repository", {"pattern": "make|kubectl|step"}),
    ("git_metrics", {}), ("pipeline_metrics", {"detail": "detailed"}), ("opportunity_matrix", {}),
    ("token_budget", {}), ("generate_automation", {"kind": "shell-script", "spec": SPEC}),
]


@pytest.mark.parametrize(("tool", "arguments"), PAGED, ids=[t for t, _ in PAGED])
async def test_an_incomplete_result_says_so_first(make_repo, tool, arguments):
    files = {**SHOP, "docs/long.md": "".join(f"{n}. step {n} of a long list\n" for n in range(400)),
             **{f"pkg{i % 4}/m{i:02}.py": f"v = {i}\n" for i in range(24)}}
    root = make_repo(files, git_repo=True)
    for week in range(1, 7):
        commit(root, f"w{week}", ["alice", "bob"][week % 2], f"2026-01-{week * 4:02}T09:00:00Z",
               {f"pkg{week % 4}/m{j:02}.py": f"v = {week}\n" for j in range(week % 4, 24, 4)})
    async with Client(build_server([root])) as client:
        for budget in range(256, 4000, 64):
            result = await client.call_tool(tool, arguments | {"max_tokens": budget})
            if not result.is_error and result.structured_content["next_cursor"]:
                break
    assert not result.is_error and result.structured_content["next_cursor"], f"{tool} never paged"
    text = result.content[0].text
    assert text.startswith('{"next_cursor":"'), text[:80]
    assert json.loads(text) == result.structured_content


async def test_concise_pipeline_metrics_keep_the_critical_paths_job_estimates(make_repo):
    workflow = """\
on: push
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: make lint
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci
      - run: npm run build
      - run: npm test
  ship:
    needs: [lint, build]
    runs-on: ubuntu-latest
    steps:
      - run: make ship
"""
    repo = make_repo({".github/workflows/ci.yml": workflow}, git_repo=True)
    async with Client(build_server([repo])) as client:
        concise = await ok(client, "pipeline_metrics", max_tokens=20_000)
        detailed = await ok(client, "pipeline_metrics", max_tokens=20_000, detail="detailed")
    short, full = concise["metrics"]["pipelines"][0], detailed["metrics"]["pipelines"][0]
    assert short["critical_path_by_minutes"] == full["critical_path_by_minutes"] == ["build", "ship"]
    assert [e["id"] for e in full["job_estimates"]] == ["lint", "build", "ship"]
    assert [e["id"] for e in short["job_estimates"]] == ["build", "ship"]
    assert "job estimates" in concise["detail"] and short["critical_path_minutes"] == full["critical_path_minutes"]
