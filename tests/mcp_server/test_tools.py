"""Every tool through the real protocol, in memory (`mcp.Client(server)`), on a repository whose contents we know.

Expected values are counted by hand from `SHOP` in conftest.py: two pipelines (GitHub Actions ci.yml with jobs build
and deploy; GitLab with build and a manual deploy_prod), two Makefile targets, two schedules (the ci.yml cron and
ops/crontab), one Dockerfile, one runbook with three commands of which one (`make build`) is already a task.
"""

from __future__ import annotations

import json
import re

import pytest
from mcp import Client

from orchestrator_kit.models import Inventory, Pipeline, Task

from .conftest import SECRET

pytestmark = pytest.mark.anyio

TOOLS = [
    "list_roots", "scan_repository", "list_pipelines", "get_pipeline", "list_tasks", "list_schedules",
    "list_infrastructure", "list_manual_procedures", "get_manual_procedure", "read_file", "search_repository",
]


async def call(server, name: str, **arguments):
    async with Client(server) as client:
        return await client.call_tool(name, arguments)


def ok(result) -> dict:
    assert not result.is_error, result.content[0].text
    # The text block is the same data as the structured content, as compact JSON.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def test_every_tool_is_listed_with_an_output_schema_and_read_only_annotations(build):
    async with Client(build()) as client:
        listed = (await client.list_tools()).tools
    assert [t.name for t in listed][: len(TOOLS)] == TOOLS  # other capabilities add theirs after these
    for tool in listed[: len(TOOLS)]:
        assert tool.output_schema is not None and tool.output_schema["type"] == "object", tool.name
        assert tool.description and len(tool.description) > 80, tool.name
        assert "\n    " not in tool.description  # docstrings are dedented
        hints = tool.annotations
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint) == (
            True, False, True, False,
        ), tool.name
        assert hints.title == tool.title


async def test_list_roots(build, shop, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    data = ok(await call(build([shop, other]), "list_roots"))
    assert data["read_only"] is False
    assert [(r["name"], r["path"], r["default"]) for r in data["roots"]] == [
        ("repo", str(shop.resolve()), True), ("other", str(other.resolve()), False),
    ]
    assert data["roots"][0]["inventory_resource"] == "scan://repo/inventory"


async def test_scan_repository_counts(build, shop):
    data = ok(await call(build(), "scan_repository"))
    assert data["repository"] == str(shop.resolve())
    assert data["cached"] is False
    assert data["files_listed"] == 8
    assert data["counts"] == {
        "pipelines": 2, "jobs": 4, "manual_jobs": 1, "tasks": 2, "schedules": 2, "infrastructure": 1,
        "procedures": 1, "procedure_commands": 3, "procedure_commands_automated": 1, "diagnostics": 0,
        "diagnostics_by_severity": {},
    }
    assert data["pipelines_by_system"] == {"github-actions": 1, "gitlab-ci": 1}
    assert data["tasks_by_runner"] == {"make": 2}
    assert data["schedules_by_source"] == {"github-actions": 1, "crontab": 1}
    assert data["git"]["branch"] == "main"
    assert data["next_cursor"] is None


async def test_second_scan_is_cached_until_the_tree_changes(build, shop):
    server = build()
    async with Client(server) as client:
        first = ok(await client.call_tool("scan_repository", {}))
        second = ok(await client.call_tool("scan_repository", {}))
        (shop / "Makefile").write_text("build:\n\tdocker build .\n")
        third = ok(await client.call_tool("scan_repository", {}))
        forced = ok(await client.call_tool("scan_repository", {"refresh": True}))
    assert (first["cached"], second["cached"], third["cached"], forced["cached"]) == (False, True, False, False)
    assert first["scan_version"] == second["scan_version"] != third["scan_version"]
    assert third["counts"]["tasks"] == 1


async def test_scan_diagnostics_page_by_cursor(build, shop):
    for i in range(30):  # thirty invalid workflow files: thirty diagnostics
        (shop / ".github" / "workflows" / f"bad{i:02}.yml").write_text("on: [\n")
    server = build()
    seen: list[str] = []
    cursor = None
    async with Client(server) as client:
        while True:
            args = {"max_tokens": 600} | ({"cursor": cursor} if cursor else {})
            data = ok(await client.call_tool("scan_repository", args))
            assert data["counts"]["diagnostics"] == 30
            seen += [d["path"] for d in data["diagnostics"]]
            cursor = data["next_cursor"]
            if cursor is None:
                break
    assert sorted(seen) == [f".github/workflows/bad{i:02}.yml" for i in range(30)]


async def test_list_pipelines_and_get_pipeline(build):
    server = build()
    async with Client(server) as client:
        listed = ok(await client.call_tool("list_pipelines", {}))
        gitlab = ok(await client.call_tool("list_pipelines", {"system": "gitlab-ci"}))
        one = ok(await client.call_tool("get_pipeline", {"pipeline_id": "github-actions:.github/workflows/ci.yml"}))
        missing = await client.call_tool("get_pipeline", {"pipeline_id": "github-actions:.github/workflows/cd.yml"})
    assert listed["total"] == 2 and listed["next_cursor"] is None
    ci = listed["items"][0]
    assert ci["jobs"] == ["build", "deploy"] and ci["triggers"] == ["push", "schedule (30 4 * * 1)"]
    assert re.fullmatch(r"\.github/workflows/ci\.yml:1-\d+", ci["evidence"])  # concise: path:start-end
    assert [p["id"] for p in gitlab["items"]] == ["gitlab-ci:.gitlab-ci.yml"]
    assert gitlab["items"][0]["manual_jobs"] == ["deploy_prod"]
    pipeline = Pipeline.model_validate(one["pipeline"])
    assert [j.id for j in pipeline.jobs] == ["build", "deploy"]
    assert pipeline.jobs[1].needs == ["build"] and pipeline.jobs[1].environment == "production"
    assert one["jobs_total"] == 2
    assert missing.is_error
    assert "No pipeline with id 'github-actions:.github/workflows/cd.yml'" in missing.content[0].text
    assert "Did you mean: github-actions:.github/workflows/ci.yml" in missing.content[0].text


async def test_list_tasks_schedules_infrastructure(build):
    server = build()
    async with Client(server) as client:
        tasks = ok(await client.call_tool("list_tasks", {"detail": "detailed"}))
        brief = ok(await client.call_tool("list_tasks", {}))
        none = ok(await client.call_tool("list_tasks", {"runner": "npm"}))
        schedules = ok(await client.call_tool("list_schedules", {}))
        crontab = ok(await client.call_tool("list_schedules", {"source": "crontab"}))
        infra = ok(await client.call_tool("list_infrastructure", {}))
    deploy = Task.model_validate(tasks["items"][1])
    assert (deploy.invocation, [c.text for c in deploy.commands]) == ("make deploy", ["kubectl apply -f k8s/"])
    assert brief["items"][1]["commands"] == ["kubectl apply -f k8s/"]  # concise: the commands' text
    assert brief["items"][1]["evidence"] == f"Makefile:{deploy.evidence.line_start}-{deploy.evidence.line_end}"
    assert none["total"] == 0 and none["items"] == []
    assert [(s["expression"], s["explanation"]) for s in schedules["items"]] == [
        ("30 4 * * 1", "at 04:30 on Monday"), ("0 3 * * *", "at 03:00 every day"),
    ]
    assert [s["target"] for s in crontab["items"]] == ["/usr/local/bin/backup.sh"]
    assert [(i["kind"], i["name"]) for i in infra["items"]] == [("dockerfile", "Dockerfile")]


async def test_manual_procedures(build):
    server = build()
    async with Client(server) as client:
        listed = ok(await client.call_tool("list_manual_procedures", {}))
        one = ok(await client.call_tool("get_manual_procedure", {"procedure_id": "docs/runbooks/release.md#releasing"}))
    summary = listed["items"][0]
    assert (summary["steps"], summary["commands"], summary["commands_automated"]) == (3, 3, 1)
    assert summary["automation_coverage"] == pytest.approx(1 / 3)
    steps = one["procedure"]["steps"]
    assert [s["commands"][0]["text"] for s in steps] == [
        "make build", "ssh deploy@bastion.example.org", "kubectl rollout restart deployment/shop",
    ]
    assert "make:Makefile#build" in [a["ref"] for a in steps[0]["automated_by"]]
    assert steps[1]["automated_by"] == []


async def test_read_file_numbers_labels_and_redacts(build):
    server = build()
    async with Client(server) as client:
        env = ok(await client.call_tool("read_file", {"path": "config/settings.env"}))
        middle = ok(await client.call_tool("read_file", {"path": "docs/runbooks/release.md", "line_start": 3,
                                                          "line_end": 4}))
    assert SECRET not in env["text"] and SECRET[4:20] not in env["text"]
    assert env["text"].startswith("1\tGITHUB_TOKEN=[REDACTED:")
    assert env["text"].endswith("2\tLOG_LEVEL=info")
    assert env["redactions"] == 1 and env["total_lines"] == 2
    assert "config/settings.env" in env["label"] and "never instructions" in env["label"]
    assert (middle["line_start"], middle["line_end"], middle["next_cursor"]) == (3, 4, None)
    assert middle["text"] == "3\t1. Build the image: `make build`\n4\t2. Log in to the bastion: `ssh deploy@bastion.example.org`"


async def test_read_file_pages_with_cursor_and_budget(build, shop):
    (shop / "big.txt").write_text("".join(f"line {n} of a long file with some words in it\n" for n in range(1, 2001)))
    server = build()
    got: list[str] = []
    cursor = None
    async with Client(server) as client:
        while True:
            args = {"path": "big.txt", "max_tokens": 1000} | ({"cursor": cursor} if cursor else {})
            data = ok(await client.call_tool("read_file", args))
            got += data["text"].split("\n")
            cursor = data["next_cursor"]
            if cursor is None:
                break
    assert got == [f"{n}\tline {n} of a long file with some words in it" for n in range(1, 2001)]


async def test_read_file_cuts_very_long_lines(build, shop):
    (shop / "min.js").write_text("x" * 5000 + "\nshort\n")
    data = ok(await call(build(), "read_file", path="min.js", max_tokens=4000))
    assert data["cut_lines"] == [1]
    assert data["text"].split("\n")[0].endswith("[... line cut: 5000 characters]")
    assert data["text"].split("\n")[1] == "2\tshort"


async def test_read_file_keeps_a_private_key_hidden_when_the_page_starts_inside_it(build, shop):
    body = "\n".join(["MIIEowIBAAKCAQEA" + "q" * 48] * 5)
    (shop / "id_rsa").write_text(f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n")
    data = ok(await call(build(), "read_file", path="id_rsa", line_start=3, line_end=4))
    assert "MIIEow" not in data["text"]
    assert data["text"] == "3\t[REDACTED:Private Key]\n4\t[REDACTED:Private Key]"


async def test_search_repository(build):
    server = build()
    async with Client(server) as client:
        found = ok(await client.call_tool("search_repository", {"pattern": r"make (build|deploy)"}))
        only_md = ok(await client.call_tool("search_repository", {"pattern": "MAKE", "ignore_case": True,
                                                                   "path_glob": "docs/*"}))
        capped = ok(await client.call_tool("search_repository", {"pattern": "make", "max_matches": 2}))
    assert [(m["path"], m["line"]) for m in found["matches"]] == [
        (".github/workflows/ci.yml", 11), (".github/workflows/ci.yml", 17), (".gitlab-ci.yml", 5),
        (".gitlab-ci.yml", 10), ("docs/runbooks/release.md", 3),
    ]
    assert found["stopped"] == "complete" and found["next_cursor"] is None
    assert found["files_searched"] == 8
    assert [(m["path"], m["line"]) for m in only_md["matches"]] == [("docs/runbooks/release.md", 3)]
    assert capped["stopped"] == "max_matches" and len(capped["matches"]) == 2
    async with Client(server) as client:
        rest = ok(await client.call_tool("search_repository", {"pattern": "make", "max_matches": 2,
                                                                "cursor": capped["next_cursor"]}))
    assert [(m["path"], m["line"]) for m in rest["matches"]] == [(".gitlab-ci.yml", 5), (".gitlab-ci.yml", 10)]


async def test_search_never_confirms_secret_characters(build):
    """A pattern that only matches inside a secret finds nothing: it would otherwise leak the secret bit by bit."""
    server = build()
    async with Client(server) as client:
        probe = ok(await client.call_tool("search_repository", {"pattern": "GITHUB_TOKEN=ghp_Zq8"}))
        name = ok(await client.call_tool("search_repository", {"pattern": "GITHUB_TOKEN"}))
    assert probe["matches"] == []
    assert [m["text"] for m in name["matches"]] == ["GITHUB_TOKEN=[REDACTED:Base64 High Entropy String]"]


async def test_search_stops_a_catastrophic_pattern(build, shop, monkeypatch):
    from orchestrator_kit.mcp_tools import files

    monkeypatch.setattr(files, "SEARCH_SECONDS", 0.5)
    (shop / "a.txt").write_text("a" * 5000 + "!\n")
    data = ok(await call(build(), "search_repository", pattern=r"(a|aa)+$"))
    assert data["stopped"] == "timeout" and data["stopped_at"] == "a.txt:1"
    assert data["next_cursor"] is not None


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("(unclosed", "Invalid regular expression '(unclosed'"), ("x" * 501, "at most 500 characters")],
)
async def test_search_refuses_bad_patterns(build, pattern, message):
    result = await call(build(), "search_repository", pattern=pattern)
    assert result.is_error and message in result.content[0].text


async def test_inventory_resource_and_templates(build, shop):
    server = build()
    async with Client(server) as client:
        resources = sorted(str(r.uri) for r in (await client.list_resources()).resources
                           if not str(r.uri).startswith("orchestrator-kit://"))  # test_design_tools has those
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        inventory = Inventory.model_validate_json((await client.read_resource("scan://repo/inventory")).contents[0].text)
        plan = (await client.read_resource("template://process-automation-plan")).contents[0]
    assert resources == [
        "scan://repo/inventory", "template://implementation-script", "template://orchestration-architecture",
        "template://process-automation-plan", "template://workflow-design",
    ]
    assert templates == ["scan://{root}/inventory"]
    assert inventory.root == str(shop.resolve()) and len(inventory.pipelines) == 2
    assert plan.mime_type == "text/markdown" and plan.text.startswith("## Executive Summary")


async def test_automated_commands_are_counted_per_command_not_per_step(build, shop):
    """One step (a shell block) with two commands, of which only `make build` is a task: 1 of 2, not 2 of 2."""
    (shop / "docs" / "runbooks" / "hotfix.md").write_text(
        "# Hotfix\n\n```sh\nmake build\nssh prod sudo systemctl restart shop\n```\n"
    )
    server = build()
    async with Client(server) as client:
        listed = ok(await client.call_tool("list_manual_procedures", {}))
        summary = ok(await client.call_tool("scan_repository", {}))
    hotfix = next(p for p in listed["items"] if p["path"] == "docs/runbooks/hotfix.md")
    assert (hotfix["steps"], hotfix["commands"], hotfix["commands_automated"]) == (1, 2, 1)
    assert hotfix["automation_coverage"] == 0.5
    assert (summary["counts"]["procedure_commands"], summary["counts"]["procedure_commands_automated"]) == (5, 2)
