"""Generated automation keeps the runbook's meaning (acme-shop's RELEASING.md): a manual step of a workflow a person
starts is a required confirmation input, and the run stops when it is not ticked; it is never a bare notice."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator_kit.automation import generate_automation
from orchestrator_kit.samples import build_sample_repo

SAMPLE = Path(__file__).resolve().parents[2] / "evals" / "repos" / "acme-shop"
RELEASE = "RELEASING.md#releasing-acme-shop/cutting-a-release"


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    acme = build_sample_repo(SAMPLE, tmp_path_factory.mktemp("meaning") / "acme-shop").path
    result = generate_automation(acme, "procedure", {"procedure": RELEASE, "target": "github-workflow"})
    [artifact] = result.artifacts
    data = yaml.safe_load(artifact.text)
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def test_every_manual_step_is_a_required_confirmation_or_an_approval(workflow):
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    # RELEASING.md's hand steps: 1 (main green) and 2 (bump the version) come before anything runs: required inputs.
    assert inputs["confirm_step_2"] == {
        "description": "Done by hand: Bump the version in pyproject.toml and add a section to CHANGELOG.md.",
        "required": True, "type": "boolean", "default": False}
    assert {k for k in inputs if k.startswith("confirm_step_")} == {"confirm_step_1", "confirm_step_2"}
    # Step 6 (dashboard and announcement) comes after the deploy: ticking it when the run starts would be a lie, so
    # it opens a job that waits for the environment's approval, after the deploying job.
    second = workflow["jobs"]["cutting-a-release-2"]
    assert second["needs"] == ["cutting-a-release"] and second["environment"] == "production"
    assert second["permissions"] == {"contents": "read", "actions": "read"}
    [hand] = [s for s in second["steps"] if s.get("name", "").startswith("Check the dashboard")]
    assert "/approvals" in hand["run"] and '-lt 2 ]' in hand["run"]  # the deploy job's approval, then this one
    assert hand["env"] == {"GH_TOKEN": "${{ github.token }}"}


def test_the_run_stops_before_tagging_when_the_bump_is_not_confirmed(workflow):
    job = workflow["jobs"]["cutting-a-release"]
    assert job["env"]["CONFIRM_STEP_2"] == "${{ inputs.confirm_step_2 }}"
    names = [step.get("name") for step in job["steps"]]
    bump = names.index("Bump the version in pyproject.toml and add a section to CHANGELOG.md.")
    assert bump < names.index("Commit and tag the release")
    run = job["steps"][bump]["run"]
    assert 'if [ "${CONFIRM_STEP_2}" != "true" ]; then' in run and "exit 1" in run
    assert not any("::notice::Manual step" in step.get("run", "") for step in job["steps"])


def test_a_conditional_step_runs_only_when_asked(workflow):
    """Step 4, "Build and push the image manually if the release workflow failed", must not run every time."""
    assert workflow["on"]["workflow_dispatch"]["inputs"]["run_step_1"] == {
        "description": "Run this step only if: release workflow failed", "required": False, "type": "boolean",
        "default": False}
    job = workflow["jobs"]["cutting-a-release"]
    step = next(s for s in job["steps"] if s.get("name", "").startswith("Build and push the image"))
    assert step["if"] == "${{ inputs.run_step_1 }}"
    deploy = next(s for s in job["steps"] if s.get("name") == "Deploy to production")
    assert "if" not in deploy  # an unconditional step stays unconditional


@pytest.mark.parametrize(("text", "condition"), [
    ("Build and push the image manually if the release workflow failed:", "release workflow failed"),
    ("Deploy to production:", None), ("Restore the backup if `pg_dump` failed.", "pg_dump failed"), ("", None),
])
def test_condition_words(text, condition):
    from orchestrator_kit.automation.procedure import _condition

    assert _condition(text) == condition


@pytest.mark.parametrize(("approvals", "code"), [("2", 0), ("1", 1), ("0", 1), ("", 1)])
def test_the_approval_check_runs_for_real(workflow, tmp_path, approvals, code):
    """The hand step's check with a stand-in `gh` that prints the count the API query would give: fewer approvals
    than jobs in the environment (reviewers not configured, so nothing waited) stops the job."""
    import subprocess

    [hand] = [s for s in workflow["jobs"]["cutting-a-release-2"]["steps"]
              if s.get("name", "").startswith("Check the dashboard")]
    fake = tmp_path / "gh"
    fake.write_text(f"#!/bin/sh\nprintf '%s' '{approvals}'\n")
    fake.chmod(0o755)
    proc = subprocess.run(["bash", "-eo", "pipefail", "-c", hand["run"]], capture_output=True, text=True, timeout=30,
                          env={"PATH": f"{tmp_path}:/usr/bin:/bin", "GITHUB_REPOSITORY": "acme/shop",
                               "GITHUB_RUN_ID": "1"})
    assert proc.returncode == code, proc.stderr
    if code:
        assert "::error::No approval of the environment production" in proc.stdout
    else:
        assert "::notice::Done by hand, approved before this job: Check the dashboard" in proc.stdout


def test_hotfix_keeps_no_example_version_hard_coded(tmp_path_factory):
    """RELEASING.md's hotfix branches hotfix/v1.4.1 from v1.4.0: both examples become parameters (the base tag would
    otherwise stay v1.4.0 for every hotfix), and a branch made on the runner and never pushed is called out."""
    acme = build_sample_repo(SAMPLE, tmp_path_factory.mktemp("hotfix") / "acme-shop").path
    result = generate_automation(acme, "procedure", {"procedure": "RELEASING.md#releasing-acme-shop/hotfix",
                                                     "target": "github-workflow"})
    data = yaml.safe_load(result.artifacts[0].text)
    inputs = data[True]["workflow_dispatch"]["inputs"]
    assert inputs["version"]["description"] == "The version (the runbook's example: v1.4.1)"
    assert inputs["version_2"]["description"] == "Another version the runbook names (the runbook's example: v1.4.0)"
    [job] = data["jobs"].values()
    branch = next(s for s in job["steps"] if s["name"].startswith("Branch from the release tag"))
    assert 'git checkout -b hotfix/"${VERSION}" "${VERSION_2}"' in branch["run"] and "v1.4.0" not in branch["run"]
    assert any("no step pushes it: the change is lost when the job ends" in n for n in result.notes)
    release = generate_automation(acme, "procedure", {"procedure": RELEASE, "target": "github-workflow"})
    assert not any("no step pushes it" in n for n in release.notes)  # the release pushes with --tags
