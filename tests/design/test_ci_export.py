"""Designs exported to GitHub Actions and GitLab CI: the job graph, approvals, retries, timeouts and compensation
jobs checked against what we work out by hand, the files checked by the real validators (check-jsonschema's bundled
schemas, zizmor, ShellCheck), and designs without a faithful CI form refused by name."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from orchestrator_kit import InputError
from orchestrator_kit.design import export_workflow_ci

from .helpers import base, example_text, retry, state, task


def release() -> dict[str, Any]:
    """build -> checks (parallel: unit, lint) -> approve (release-managers) -> tag (undone by untag) -> publish
    (undone by unpublish) -> done; failures run the compensations."""
    design = base()
    design["name"] = "Release train"
    design["start_at"] = "build"
    design["states"] = [
        task("build", "checks", timeout_seconds=600, retry=[retry(2, errors=["States.TaskFailed"])]),
        {"name": "checks", "type": "parallel", "transitions": [{"target": "approve"}], "branches": [
            {"name": "unit", "start_at": "unit", "states": [task("unit", "unit_ok"), {"name": "unit_ok", "type": "succeed"}]},
            {"name": "lint", "start_at": "lint", "states": [task("lint", "lint_ok"), {"name": "lint_ok", "type": "succeed"}]},
        ]},
        {"name": "approve", "type": "human_task", "owner": "release managers", "deadline_seconds": 86400,
         "escalation": {"after_seconds": 3600, "to": "cto"}, "transitions": [{"event": "approved", "target": "tag"}]},
        task("tag", "publish", side_effect={"description": "tag pushed", "compensation": "untag"},
             catch=[{"errors": ["States.ALL"], "target": "untag"}]),
        task("publish", "done", side_effect={"description": "package published", "compensation": "unpublish"},
             catch=[{"errors": ["States.ALL"], "target": "unpublish"}]),
        task("unpublish", "untag", idempotency={"natural": True}, retry=[retry(3, errors=["States.ALL"])]),
        task("untag", "failed", idempotency={"natural": True}),
        {"name": "done", "type": "succeed"},
        {"name": "failed", "type": "fail", "error": "ReleaseFailed"},
    ]
    return design


def test_github_workflow_jobs_needs_approvals_and_compensations():
    export = export_workflow_ci(release(), target="github-actions")
    assert export.valid, export.findings  # check-jsonschema's workflow schema, zizmor, ShellCheck on run blocks
    assert export.checked == ["yaml", "schema (vendor.github-workflows)", "zizmor", "shellcheck (run: blocks)"]
    assert export.path == ".github/workflows/release-train.yml"
    workflow = yaml.safe_load(export.text)
    jobs = workflow["jobs"]
    assert list(jobs) == ["build", "unit", "lint", "approve", "tag", "publish", "unpublish", "untag"]
    assert [jobs[j].get("needs", []) for j in ("build", "unit", "lint", "approve", "tag", "publish")] == [
        [], ["build"], ["build"], ["unit", "lint"], ["approve"], ["tag"]]
    assert jobs["approve"]["environment"] == "release-managers"
    # build: 3 tries of 600 s with waits 1 and 2 s, plus a minute for the checkout: ceil(1863 / 60) = 32 minutes.
    assert jobs["build"]["timeout-minutes"] == 32
    run = jobs["build"]["steps"][1]["run"]
    assert "for delay in 0 1 2; do" in run and "timeout 600 ./scripts/workflow/build.sh" in run
    # Compensations: the last commit's undo first; each only when its step's job succeeded and something failed.
    assert jobs["unpublish"]["needs"][-1] == "untag" or jobs["untag"]["needs"][-1] == "unpublish"
    assert jobs["untag"]["needs"][-1] == "unpublish"
    assert "needs.publish.result == 'success'" in jobs["unpublish"]["if"]
    assert "contains(needs.*.result, 'failure')" in jobs["untag"]["if"]
    assert workflow["permissions"] == {} and workflow["concurrency"]["cancel-in-progress"] is False
    assert "scripts/workflow/tag.sh" in export.scripts and "scripts/workflow/untag.sh" in export.scripts
    assert any("required reviewers" in n for n in export.notes)


def test_gitlab_pipeline_stages_manual_approval_and_on_failure_undos():
    export = export_workflow_ci(release(), target="gitlab-ci")
    assert export.valid, export.findings  # the bundled GitLab CI schema
    assert export.checked == ["yaml", "schema (vendor.gitlab-ci)"]
    pipeline = yaml.safe_load(export.text)
    assert pipeline["stages"] == ["step-1", "step-2", "step-3", "step-4", "step-5", "undo-1", "undo-2"]
    assert pipeline["approve"]["when"] == "manual" and pipeline["approve"]["allow_failure"] is False
    assert pipeline["approve"]["environment"] == {"name": "release-managers"}
    assert (pipeline["unpublish"]["stage"], pipeline["untag"]["stage"]) == ("undo-1", "undo-2")
    assert pipeline["untag"]["when"] == "on_failure"
    assert pipeline["unit"]["needs"] == ["build"] and pipeline["approve"]["needs"] == ["unit", "lint"]


def test_the_order_example_exports_and_says_what_it_leaves_out():
    export = export_workflow_ci(example_text("order-fulfilment"), target="github-actions")
    assert export.valid, export.findings
    assert any("manual_fulfilment" in n for n in export.notes)  # a catch that continues the run has no CI form


def test_a_long_design_name_gives_a_file_name_the_file_system_takes():
    # the name has no length limit; its file was 'File name too long' when validated: "Internal error", exit 70
    text = example_text("order-fulfilment")
    short = export_workflow_ci(text, target="github-actions")
    long_name = "Order " * 50  # 300 characters
    document = yaml.safe_load(text)
    document["name"] = long_name
    export = export_workflow_ci(yaml.safe_dump(document, sort_keys=False), target="github-actions")
    assert export.valid, export.findings
    stem = export.path.removeprefix(".github/workflows/").removesuffix(".yml")
    assert len(stem) == 200 and stem.startswith("order-order-") and stem[-7] == "-"
    assert short.path == ".github/workflows/order-fulfilment.yml"  # a short name keeps its whole stem


@pytest.mark.parametrize(
    ("example", "named"),
    [("deployment-pipeline", "'canary_healthy' (a decision)"), ("document-approval", "'revise' (a wait for events)")],
)
def test_designs_without_a_ci_form_are_refused_by_name(example, named):
    with pytest.raises(InputError) as info:
        export_workflow_ci(example_text(example), target="gitlab-ci")
    assert named in str(info.value) and "ASL or XState" in str(info.value)


def test_a_loop_is_refused():
    design = base()
    state(design, "ship")["transitions"] = [{"target": "charge"}]
    with pytest.raises(InputError, match="loops"):
        export_workflow_ci(design)


def test_run_inputs_and_concurrency_become_dispatch_inputs_and_a_group():
    design = release()
    design["inputs"] = [{"name": "version", "description": "the version to release"},
                        {"name": "channel", "type": "choice", "options": ["stable", "beta"]}]
    design["concurrency"] = {"key": "$.inputs.channel"}
    export = export_workflow_ci(design)
    assert export.valid, export.findings
    workflow = yaml.safe_load(export.text)
    # PyYAML reads the `on` key as True (YAML 1.1); GitHub reads it as "on".
    inputs = workflow[True]["workflow_dispatch"]["inputs"]
    assert inputs["version"] == {"description": "the version to release", "required": True, "type": "string"}
    assert inputs["channel"]["type"] == "choice" and inputs["channel"]["options"] == ["stable", "beta"]
    assert workflow["concurrency"] == {"group": "${{ github.workflow }}-${{ inputs.channel }}",
                                       "cancel-in-progress": False}
    gitlab = export_workflow_ci(design, target="gitlab-ci")
    assert gitlab.valid, gitlab.findings
    assert yaml.safe_load(gitlab.text)["variables"]["CHANNEL"] == {
        "description": "channel", "value": "stable", "options": ["stable", "beta"]}
