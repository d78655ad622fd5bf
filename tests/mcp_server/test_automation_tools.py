"""The automation tools through the protocol: generate (writes nothing), validate, apply (only the reviewed plan) and
undo, on the shop repository of conftest.py; refusals without or with a stale plan hash; read-only servers."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest
from mcp import Client

from orchestrator_kit.server import build_server

from ..conftest import require_tool
from .capability import all_pages, error, ok, run_git, smallest_budget

pytestmark = pytest.mark.anyio

SPEC = {"name": "release", "description": "Cut a release", "steps": [
    {"name": "Build", "commands": [{"argv": ["make", "build"]}]},
    {"name": "Roll out", "commands": ["kubectl rollout restart deployment/shop"]},
]}


def status(root) -> str:
    return run_git(root, "status", "--porcelain", "--untracked-files=all")


def added_text(diff_lines: list[str]) -> str:
    """The new file a creation's diff adds: every '+' line after the hunk header."""
    body = diff_lines[diff_lines.index(next(line for line in diff_lines if line.startswith("@@"))) + 1:]
    return "".join(line[1:] + "\n" for line in body if line.startswith("+"))


async def test_generate_shows_a_plan_and_writes_nothing(build, shop):
    async with Client(build()) as client:
        plan = await ok(client, "generate_automation", kind="shell-script", spec=SPEC, max_tokens=30_000)
    assert status(shop) == "" and not (shop / ".orchestrator-kit").exists()
    [change] = plan["plan"]["changes"]
    assert (change["path"], change["action"], change["old_sha256"], change["mode"]) == (
        "scripts/release.sh", "create", None, 0o755,  # the default path of a script named release; executable
    )
    lines = plan["diff_lines"]
    assert lines[0] == "diff --orchestrator-kit a/scripts/release.sh b/scripts/release.sh"
    content = added_text(lines)
    assert content.startswith("#!/usr/bin/env bash\n") and "make build" in content
    assert "kubectl rollout restart deployment/shop" in content
    # the plan's hashes are what its formulas say
    assert change["new_sha256"] == hashlib.sha256(content.encode()).hexdigest()
    assert change["size"] == len(content.encode())
    canonical = [str(shop.resolve()), [["scripts/release.sh", "create", None, change["new_sha256"], 0o755]]]
    expected_hash = hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
    assert plan["plan_hash"] == plan["plan"]["plan_hash"] == expected_hash
    assert plan["apply_with"] == {"repository": ".", "kind": "shell-script", "spec": SPEC, "opportunity": None,
                                  "plan_hash": expected_hash}
    assert plan["valid"] and plan["validation"][0]["path"] == "scripts/release.sh"
    assert "bash -n" in plan["validation"][0]["checked"]
    assert plan["spec"]["path"] == "scripts/release.sh"  # the effective spec fills in the default


async def test_apply_then_undo_round_trip(build, shop):
    async with Client(build()) as client:
        plan = await ok(client, "generate_automation", kind="shell-script", spec=SPEC)
        applied = await ok(client, "apply_automation", **plan["apply_with"])
        script = shop / "scripts" / "release.sh"
        assert script.is_file() and os.access(script, os.X_OK)
        assert hashlib.sha256(script.read_bytes()).hexdigest() == plan["plan"]["changes"][0]["new_sha256"]
        assert [(a["path"], a["action"]) for a in applied["applied"]] == [("scripts/release.sh", "create")]
        assert applied["audit_log"] == str(shop.resolve() / ".orchestrator-kit" / "audit.jsonl")
        entries = [json.loads(line) for line in (shop / ".orchestrator-kit" / "audit.jsonl").read_text().splitlines()]
        assert [(e["op"], e["path"], e["plan_hash"]) for e in entries] == [
            ("apply", "scripts/release.sh", plan["plan_hash"]),
        ]
        again = await error(client, "apply_automation", **plan["apply_with"])  # applying twice: the file exists now
        preview = await ok(client, "undo_automation", dry_run=True)
        assert script.is_file()
        undone = await ok(client, "undo_automation")
        nothing = await error(client, "undo_automation")
    assert "Script 'scripts/release.sh' already exists" in again
    assert preview["dry_run"] and [u["path"] for u in preview["undone"]] == ["scripts/release.sh"]
    assert [(u["path"], u["action"], u["entry"]) for u in undone["undone"]] == [
        ("scripts/release.sh", "removed", applied["applied"][0]["entry"]),
    ]
    assert not script.exists() and not (shop / "scripts").exists()
    assert status(shop) == ""  # the audit folder ignores itself
    assert "Nothing to undo" in nothing


@pytest.mark.parametrize(
    ("plan_hash", "message"),
    [
        ("", "plan_hash"),  # refused by the argument schema (min length 1)
        ("0" * 64, "The plan hash does not match"),
        ("not a hash", "The plan hash does not match"),
    ],
)
async def test_apply_without_the_reviewed_hash_writes_nothing(build, shop, plan_hash, message):
    async with Client(build()) as client:
        text = await error(client, "apply_automation", kind="shell-script", spec=SPEC, plan_hash=plan_hash)
        missing = await error(client, "apply_automation", kind="shell-script", spec=SPEC)
    assert message in text and "plan_hash" in missing
    assert status(shop) == "" and not (shop / ".orchestrator-kit").exists()


async def test_a_stale_plan_hash_is_refused_after_the_repository_or_spec_changed(build, shop):
    async with Client(build()) as client:
        plan = await ok(client, "generate_automation", kind="make-target",
                        spec={"name": "release", "commands": ["docker build -t shop ."]})
        assert plan["plan"]["changes"][0]["action"] == "update"  # appended to the existing Makefile
        (shop / "Makefile").write_text((shop / "Makefile").read_text() + "\nlint:\n\techo lint\n")
        changed_repo = await error(client, "apply_automation", **plan["apply_with"])
        other_spec = plan["apply_with"] | {"spec": {"name": "ship", "commands": ["docker build -t shop ."]}}
        changed_spec = await error(client, "apply_automation", **other_spec)
    for text in (changed_repo, changed_spec):
        assert "The plan hash does not match" in text and "Generate again" in text
    assert "release:" not in (shop / "Makefile").read_text()
    assert not (shop / ".orchestrator-kit").exists()


async def test_an_invalid_plan_is_written_only_with_force_and_undone_whole(build, shop):
    require_tool("systemd-analyze", shutil.which("systemd-analyze"))
    spec = {"name": "backup", "command": {"argv": ["/usr/local/bin/backup.sh"]}, "on_calendar": "Mon 25:00"}
    async with Client(build()) as client:
        plan = await ok(client, "generate_automation", kind="systemd-timer", spec=spec)
        errors = sum(1 for f in plan["findings"] if f["severity"] == "error")
        refused = await error(client, "apply_automation", **plan["apply_with"])
        assert not (shop / ".orchestrator-kit").exists()
        forced = await ok(client, "apply_automation", **plan["apply_with"], force=True)
        written = [shop / c["path"] for c in plan["plan"]["changes"]]
        assert all(p.is_file() for p in written)
        undone = await ok(client, "undo_automation", last=2)
    assert not plan["valid"] and errors >= 1  # hour 25 is no time of day
    assert any("Mon 25:00" in f["message"] for f in plan["findings"] if f["severity"] == "error")
    assert f"Validation found {errors} error" in refused and "nothing was written" in refused
    assert forced["forced"] and forced["validation_errors"] == errors
    assert sorted(p.suffix for p in written) == [".service", ".timer"]
    assert sorted(u["path"] for u in undone["undone"]) == sorted(c["path"] for c in plan["plan"]["changes"])
    assert not any(p.exists() for p in written) and status(shop) == ""


async def test_validate_existing_files(build, shop):
    (shop / "scripts").mkdir()
    (shop / "scripts" / "bad.sh").write_text("#!/bin/bash\nrm -rf $DIR/*\n")
    (shop / ".github" / "workflows" / "broken.yml").write_text("on: [push\njobs: {}\n")
    async with Client(build()) as client:
        data = await ok(client, "validate_automation",
                        paths=["scripts/bad.sh", ".github/workflows/broken.yml", ".github/workflows/ci.yml"])
        forced_kind = await ok(client, "validate_automation", paths=["ops/crontab"], kind="crontab")
    reports = {r["path"]: r for r in data["reports"]}
    assert [r["kind"] for r in data["reports"]] == ["shell", "github-workflow", "github-workflow"]
    assert all(r["findings"] == [] for r in data["reports"])  # moved to the flat list
    by_file = {}
    for f in data["findings"]:
        by_file.setdefault(f["path"], []).append(f)
    # ShellCheck: $DIR unquoted in line 2 (SC2086) and rm -rf "$DIR/*" may expand to /* (SC2115)
    shell = {(f["rule"], f["line"]) for f in by_file["scripts/bad.sh"] if f["validator"] == "shellcheck"}
    assert ("SC2115", 2) in shell or ("SC2086", 2) in shell, by_file["scripts/bad.sh"]
    assert any(f["validator"] == "yaml" and f["severity"] == "error" for f in by_file[".github/workflows/broken.yml"])
    assert not reports[".github/workflows/broken.yml"]["ok"] and not data["ok"]
    assert data["errors"] == sum(1 for f in data["findings"] if f["severity"] == "error")
    assert forced_kind["ok"] and forced_kind["reports"][0]["kind"] == "crontab"
    assert status(shop) == "?? .github/workflows/broken.yml\n?? scripts/bad.sh\n"  # validation wrote nothing


async def test_a_manual_procedure_opportunity_becomes_a_script(build, shop):
    async with Client(build()) as client:
        matrix = await ok(client, "opportunity_matrix", kind="manual-procedure", max_tokens=30_000)
        [opportunity] = matrix["matrix"]["opportunities"]
        plan = await ok(client, "generate_automation", kind="shell-script", opportunity=opportunity["id"],
                        max_tokens=30_000)
        wrong = await error(client, "generate_automation", kind="make-target", opportunity=opportunity["id"])
        both = await error(client, "generate_automation", kind="shell-script", opportunity=opportunity["id"],
                           spec=SPEC)
        unknown = await error(client, "generate_automation", kind="shell-script", opportunity="opp-0000000000")
    assert plan["kind"] == "procedure" and plan["valid"]
    assert [c["path"] for c in plan["plan"]["changes"]] == ["scripts/releasing.sh"]  # from the heading "Releasing"
    content = added_text(plan["diff_lines"])
    for command in ("make build", "ssh deploy@bastion.example.org", "kubectl rollout restart deployment/shop"):
        assert command in content
    assert plan["apply_with"]["opportunity"] == opportunity["id"] and plan["apply_with"]["spec"] is None
    assert "manual procedure" in wrong and "not make-target" in wrong
    assert "not both" in both
    assert "No opportunity 'opp-0000000000'" in unknown
    assert status(shop) == ""


@pytest.mark.parametrize(
    ("kind", "spec", "message"),
    [
        ("shell-script", {"name": "x", "steps": [{"name": "s", "commands": ["echo $(cat /etc/passwd)"]}]},
         "Invalid shell-script spec"),
        ("shell-script", {"name": "x", "steps": [{"name": "s", "commands": ["make build; rm -rf /"]}]},
         "Invalid shell-script spec"),
        ("shell-script", {"name": "x", "path": "../escape.sh", "steps": [{"name": "s", "commands": ["ls"]}]},
         "must be relative to the repository and stay inside it"),
        ("shell-script", {"name": "x", "path": ".git/hooks/pre-commit", "steps": [{"name": "s", "commands": ["ls"]}]},
         ".git"),
        ("shell-script", {"nme": "typo"}, "Invalid shell-script spec"),
        ("shell-script", None, "Give a spec"),
    ],
)
async def test_bad_specs_are_refused_with_their_location(build, shop, kind, spec, message):
    async with Client(build()) as client:
        text = await error(client, "generate_automation", kind=kind, **({"spec": spec} if spec is not None else {}))
    assert message in text
    assert status(shop) == ""


async def test_a_long_plan_pages_within_the_budget(build, shop):
    steps = [{"name": f"Step {i}", "commands": [{"argv": ["echo", f"step {i} of a long runbook"]}]} for i in range(30)]
    spec = {"name": "long", "steps": steps}
    async with Client(build()) as client:
        whole = await ok(client, "generate_automation", kind="shell-script", spec=spec, max_tokens=100_000)
        budget = await smallest_budget(client, "generate_automation", {"kind": "shell-script", "spec": spec})
        joined = await all_pages(client, "generate_automation", {"kind": "shell-script", "spec": spec}, budget, None)
        pages = await client.call_tool("generate_automation", {"kind": "shell-script", "spec": spec,
                                                               "max_tokens": budget})
    assert joined["diff_lines"] == whole["diff_lines"] and len(whole["diff_lines"]) > 200
    assert joined["plan.changes"] == whole["plan"]["changes"]
    assert pages.structured_content["plan_hash"] == whole["plan_hash"]  # on every page


async def test_read_only_servers_have_no_writing_tool(shop):
    async with Client(build_server([shop], read_only=True)) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        refused = await client.call_tool("apply_automation", {"kind": "shell-script", "spec": SPEC, "plan_hash": "x"})
        plan = await ok(client, "generate_automation", kind="shell-script", spec=SPEC)
    assert "apply_automation" not in listed and "undo_automation" not in listed
    assert all(t.annotations.read_only_hint for t in listed.values())
    assert refused.is_error and refused.content[0].text == "Unknown tool: apply_automation"
    assert plan["plan_hash"]  # reviewing still works; writing does not
    assert status(shop) == ""
