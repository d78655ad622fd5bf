"""Caveats first (issue 20, item 3), through the real MCP client: an incomplete result's JSON text starts with its
`next_cursor`, and the lists of what the numbers miss (`partial_reasons`, `diagnostics`) fill a page before any bulk
list, so even the smallest first page carries them."""

from __future__ import annotations

import json
import re

import pytest
from mcp import Client

from .capability import ok, smallest_budget
from .test_model_errors import CIRCLECI_GOOD

pytestmark = pytest.mark.anyio

SPEC = {"name": "release", "description": "Cut a release", "steps": [
    {"name": f"Step {n}", "commands": [{"argv": ["echo", f"step number {n} of the release"]}]} for n in range(40)]}


async def test_an_incomplete_result_starts_with_its_next_cursor(build):
    async with Client(build()) as client:
        budget = await smallest_budget(client, "git_metrics", {})
        result = await client.call_tool("git_metrics", {"max_tokens": budget})
        whole = await ok(client, "git_metrics", max_tokens=60_000)
    text = result.content[0].text
    assert not result.is_error and result.structured_content["next_cursor"]
    assert text.startswith('{"next_cursor":"')
    assert next(iter(result.structured_content)) == "next_cursor"
    assert json.loads(text) == result.structured_content
    assert whole["next_cursor"] is None and next(iter(whole)) == "next_cursor"  # the same place when complete


@pytest.mark.parametrize(("tool", "first"), [
    ("git_metrics", ["partial_reasons", "diagnostics"]),
    ("token_budget", ["diagnostics", "skipped"]),
    ("opportunity_matrix", ["diagnostics"]),
])
async def test_the_first_page_carries_the_caveats_before_the_bulk(build, tool, first):
    async with Client(build()) as client:
        budget = await smallest_budget(client, tool, {})
        page = await ok(client, tool, max_tokens=budget)
    sections = page["sections"][:len(first)]
    assert [s["name"] for s in sections] == first
    assert all(s["returned"] == s["total"] for s in sections)  # every caveat is on the first page


async def test_a_generated_diff_is_paged_in_whole_files(build):
    """At every budget that pages it, each page's diff lines are whole files (a page ends only where a file's diff
    starts), and the pages joined are the diff the large budget shows."""
    arguments = {"kind": "shell-script", "spec": SPEC}
    async with Client(build()) as client:
        whole = await ok(client, "generate_automation", **arguments, max_tokens=30_000)
        smallest = await smallest_budget(client, "generate_automation", arguments)
        for budget in (smallest, smallest + 300, 1500):
            result = await client.call_tool("generate_automation", arguments | {"max_tokens": budget})
            if result.is_error:  # the file does not fit this budget: the refusal names one that does
                assert "max_tokens" in result.content[0].text
                continue
            lines, cursor = [], None
            while True:
                page = result.structured_content
                section = next(s for s in page["sections"] if s["name"] == "diff_lines")
                if page["diff_lines"]:
                    assert page["diff_lines"][0].startswith("diff --orchestrator-kit ")
                    end = section["offset"] + section["returned"]
                    assert end == len(whole["diff_lines"]) or whole["diff_lines"][end].startswith("diff --")
                lines += page["diff_lines"]
                cursor = page["next_cursor"]
                if not cursor:
                    break
                result = await client.call_tool("generate_automation", arguments | {"max_tokens": budget,
                                                                                   "cursor": cursor})
                if result.is_error:  # the next file alone is over this budget: the refusal names the one it needs
                    need = int(re.search(r"max_tokens >= (\d+)", result.content[0].text).group(1))
                    assert "whole unit of diff_lines" in result.content[0].text and need > budget
                    result = await client.call_tool("generate_automation", arguments | {"max_tokens": need,
                                                                                       "cursor": cursor})
                assert not result.is_error, result.content[0].text
            assert lines == whole["diff_lines"]


async def test_circleci_default_timeout_is_stated_as_a_no_output_timeout(make_repo):
    from orchestrator_kit.server import build_server

    root = make_repo({".circleci/config.yml": CIRCLECI_GOOD}, git_repo=True)
    async with Client(build_server([root])) as client:
        metrics = await ok(client, "pipeline_metrics", max_tokens=20_000)
    [job] = [j for j in metrics["metrics"]["jobs_without_timeout"] if j["job"] == "build"]
    assert job["note"] == ("no job time limit; each step is stopped after 10 minutes without output (CircleCI's "
                           "default no_output_timeout)")


# The plain CircleCI config of test_model_errors, with an orb, an approval and the orb's deploy job after it.
ORB_CONFIG = CIRCLECI_GOOD.replace("version: 2.1\n", "version: 2.1\norbs:\n  aws-ecs: circleci/aws-ecs@4.0.0\n").replace(
    "    jobs: [build]\n", "    jobs:\n      - build\n      - hold:\n          type: approval\n          requires: [build]\n"
    "      - aws-ecs/deploy_service_update:\n          requires: [hold]\n")


async def test_a_circleci_orb_job_is_opaque_not_a_guess(make_repo):
    from orchestrator_kit.server import build_server

    root = make_repo({".circleci/config.yml": ORB_CONFIG}, git_repo=True)
    async with Client(build_server([root])) as client:
        metrics = (await ok(client, "pipeline_metrics", max_tokens=30_000))["metrics"]
    [graph] = metrics["pipelines"]
    estimates = {e["id"]: e for e in graph["job_estimates"]}
    orb = next(e for job, e in estimates.items() if "deploy_service_update" in job)
    assert orb["step_kinds"] == {"opaque": 1} and orb["minutes"] == 0.5  # runner overhead only, no 5-minute guess
    assert "opaque" in metrics["formulas"]["job_minutes"]
    assert [d["job"] for d in metrics["deploy_signals"]] == [orb["id"]]  # a deploy_* orb job deploys
