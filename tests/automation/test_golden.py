"""Golden tests: each generator against the acme-shop sample, and every golden output passes its validators.

The golden files were read line by line when they were written (they are what a reviewer would get); to
regenerate after an intended change: ORCHESTRATOR_KIT_UPDATE_GOLDEN=1 pytest tests/automation/test_golden.py,
then review the diff of tests/automation/golden/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator_kit.automation import generate_automation

from .conftest import tool

GOLDEN = Path(__file__).parent / "golden"
RELEASE = "RELEASING.md#releasing-acme-shop/cutting-a-release"

CASES = {
    "github-workflow": {
        "name": "Nightly checks",
        "triggers": {"schedule": ["30 3 * * 1-5"], "workflow_dispatch": True, "pull_request": True},
        "jobs": [
            {"id": "lint", "steps": [{"name": "Lint", "commands": ["make lint"]}], "timeout_minutes": 10},
            {"id": "unit", "needs": ["lint"], "matrix": {"python": ["3.11", "3.12"]},
             "steps": [{"name": "Test", "commands": [{"argv": ["make", "test"]}]}]},
            {"id": "deploy", "needs": ["unit"], "branch": "main", "environment": "staging",
             "permissions": {"contents": "read", "deployments": "write"},
             "steps": [{"name": "Deploy to staging", "commands": ["make deploy ENV=staging"]}]},
        ],
    },
    "gitlab-ci-job": {"name": "nightly-integration", "stage": "test", "when": "schedule",
                      "steps": [{"name": "Integration tests", "commands": ["make integration-test"]}]},
    "make-target": {"name": "release", "description": "Cut a release",
                    "params": [{"name": "version", "pattern": "^v[0-9]+\\.[0-9]+\\.[0-9]+$"}],
                    "prerequisites": ["lint"],
                    "commands": [{"argv": ["./scripts/release.sh", "--version", {"template": "{version}"}]}]},
    "just-recipe": {"name": "release", "description": "Cut a release", "params": [{"name": "version"}],
                    "commands": [{"argv": ["./scripts/release.sh", "--version", {"template": "{version}"}]}]},
    "shell-script": {"name": "rotate-and-backup", "description": "Rotate logs, then back up the database",
                     "params": [{"name": "target", "default": "production", "required": False}],
                     "steps": [{"name": "Rotate logs", "commands": ["./scripts/rotate-logs.sh"]},
                               {"name": "Back up", "commands": [{"argv": ["./scripts/backup-db.sh",
                                                                          {"template": "{target}"}]}]}]},
    "crontab-line": {"schedule": "15 2 * * *", "comment": "rotate logs nightly",
                     "command": {"argv": ["/opt/acme/scripts/rotate-logs.sh", "--keep", "14"]},
                     "lock_file": "/tmp/rotate-logs.lock", "log_file": "/var/log/acme/rotate-logs.log"},
    "systemd-timer": {"name": "acme-backup", "description": "Back up the shop database",
                      "command": {"argv": ["/opt/acme/scripts/backup-db.sh", "production"]},
                      "schedule": "0 3 * * 1-5", "user": "acme", "working_directory": "/opt/acme"},
    "pre-commit-hook": {"id": "ruff", "name": "ruff", "command": {"argv": ["ruff", "check", "--fix"]},
                        "types": ["python"], "pass_filenames": True},
    "procedure-script": {"procedure": RELEASE, "target": "shell-script"},
    "procedure-workflow": {"procedure": RELEASE, "target": "github-workflow"},
}
VALIDATORS = {
    "github-workflow": {"yaml", "schema (vendor.github-workflows)", "zizmor", "cron", "shellcheck (run: blocks)"},
    "gitlab-ci-job": {"yaml", "schema (vendor.gitlab-ci)"},
    "make-target": {"make -n release"},
    "just-recipe": {"just --summary"},
    "shell-script": {"bash -n", "shellcheck"},
    "crontab-line": {"cron", "shellcheck (commands)"},
    "systemd-timer": {"systemd (static)", "systemd-analyze verify"},
    "pre-commit-hook": {"yaml", "schema (pre-commit)"},
    "procedure-script": {"bash -n", "shellcheck"},
    "procedure-workflow": {"yaml", "schema (vendor.github-workflows)", "zizmor", "shellcheck (run: blocks)"},
}
TOOLS = {"github-workflow": ["check-jsonschema", "zizmor", "shellcheck"], "gitlab-ci-job": ["check-jsonschema"],
         "make-target": ["bwrap"],  # make -n runs only in the sandbox
         "just-recipe": ["just"], "shell-script": ["shellcheck"], "crontab-line": ["shellcheck"],
         "systemd-timer": ["systemd-analyze"], "pre-commit-hook": ["check-jsonschema"],
         "procedure-script": ["shellcheck"], "procedure-workflow": ["check-jsonschema", "zizmor", "shellcheck"]}


def golden_name(case: str, path: str) -> str:
    return f"{case}__{path.replace('/', '_')}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_generator_matches_golden_and_passes_its_validators(case, acme_template, acme_inventory):
    for name in TOOLS.get(case, []):
        tool(name)
    kind = "procedure" if case.startswith("procedure") else case
    result = generate_automation(acme_template, kind, CASES[case], inventory=acme_inventory)
    update = os.environ.get("ORCHESTRATOR_KIT_UPDATE_GOLDEN") == "1"
    for artifact in result.artifacts:
        golden = GOLDEN / golden_name(case, artifact.path)
        if update:
            golden.write_text(artifact.text, encoding="utf-8")
        assert artifact.text == golden.read_text(encoding="utf-8"), f"{golden.name} differs (see module docstring)"
    for report in result.validation:
        assert report.ok, [f.model_dump() for f in report.findings]
        assert not [f for f in report.findings if f.severity == "error"]
        assert VALIDATORS[case] <= set(report.checked), report.skipped
        # A credential the steps need is a named placeholder (CHANGE_ME_KUBECONFIG): one warning per use, nothing else.
        text = next(a.text for a in result.artifacts if a.path == report.path)
        placeholders = [f for f in report.findings if f.rule == "unfilled-placeholder"]
        assert len(placeholders) == text.count("CHANGE_ME") + text.count("CHANGE-ME")
        unexpected = [f for f in report.findings if not (case == "systemd-timer" and "lives on the host" in f.message)
                      and f not in placeholders]
        assert unexpected == [], [f.model_dump() for f in unexpected]
    assert result.valid
    assert result.plan.plan_hash and result.plan.changes


def test_generation_is_deterministic(acme_template, acme_inventory):
    first = generate_automation(acme_template, "github-workflow", CASES["github-workflow"], inventory=acme_inventory)
    second = generate_automation(acme_template, "github-workflow", CASES["github-workflow"], inventory=acme_inventory)
    assert first.plan.plan_hash == second.plan.plan_hash
