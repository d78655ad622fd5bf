"""The shell-script and GitLab targets keep the runbook's meaning: a step done only `if ...` runs only when asked
(--run-step-N / RUN_STEP_N), never by default, and a manual step stops a run until a person confirms it (the
script asks; GitLab runs the rest only after a person runs the step's manual job)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from orchestrator_kit.automation import generate_automation
from orchestrator_kit.errors import InputError

from .conftest import tool

SPEC = {"name": "release", "steps": [
    {"name": "Build", "commands": [{"argv": ["printf", "%s\\n", "built"]}]},
    {"name": "Push by hand", "commands": [{"argv": ["printf", "%s\\n", "pushed"]}],
     "only_if": "the release workflow failed"},
    {"name": "Bump", "manual": "Bump the version in pyproject.toml."},
]}


def _script(acme_template: Path, acme_inventory, tmp_path: Path, spec: dict = SPEC) -> Path:
    result = generate_automation(acme_template, "shell-script", spec, inventory=acme_inventory)
    script = tmp_path / "scripts" / "release.sh"
    script.parent.mkdir()
    script.write_text(result.artifacts[0].text)
    return script


def _run(script: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, cwd=script.parent,
                          timeout=30, stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", **(env or {})})


def test_a_conditional_step_is_skipped_unless_its_flag_is_given(acme_template, acme_inventory, tmp_path):
    script = _script(acme_template, acme_inventory, tmp_path)
    default = _run(script, "--yes")
    assert default.returncode == 0, default.stderr
    assert default.stdout == "built\n"  # step 2 did not run
    assert "skip step 2/3: Push by hand (only if the release workflow failed; pass --run-step-2" in default.stderr
    asked = _run(script, "--yes", "--run-step-2")
    assert asked.stdout == "built\npushed\n", asked.stderr
    by_env = _run(script, "--yes", env={"RUN_STEP_2": "1"})
    assert by_env.stdout == "built\npushed\n", by_env.stderr
    assert "--run-step-2  Also run step 2, done only if the release workflow failed" in _run(script, "--help").stdout


def test_a_manual_step_stops_a_run_without_a_person(acme_template, acme_inventory, tmp_path):
    script = _script(acme_template, acme_inventory, tmp_path)
    unattended = _run(script)
    assert unattended.returncode == 1
    assert "MANUAL STEP: Bump the version in pyproject.toml." in unattended.stderr
    assert "this step needs a person" in unattended.stderr


def test_the_guarded_script_passes_shellcheck(acme_template, acme_inventory):
    tool("shellcheck")
    result = generate_automation(acme_template, "shell-script", SPEC, inventory=acme_inventory)
    assert result.valid
    assert not [f for r in result.validation for f in r.findings if f.severity in ("error", "warning")]


def test_a_parameter_may_not_take_a_step_flag_name(acme_template, acme_inventory):
    spec = {**SPEC, "params": [{"name": "run_step_2"}]}
    with pytest.raises(InputError, match="reserved by the script's --run-step-N flags"):
        generate_automation(acme_template, "shell-script", spec, inventory=acme_inventory)


def _jobs(text: str) -> dict:
    """The generated GitLab jobs, by name, in the file's order."""
    return {k: v for k, v in yaml.safe_load(text).items() if isinstance(v, dict) and "script" in v}


def _run_job(job: dict, **env: str) -> subprocess.CompletedProcess[str]:
    """The job's script lines as the runner runs them: one shell, stop at the first failure."""
    body = "set -e\n" + "\n".join(job["script"]) + "\n"
    return subprocess.run(["bash", "-c", body], capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin", **env})


def test_a_gitlab_job_keeps_conditional_steps_and_makes_manual_steps_manual_jobs(acme_template, acme_inventory):
    """A conditional step runs only when RUN_STEP_1 is set; the hand step is a blocking manual job that needs the
    job before it (not a CONFIRM_STEP_N variable to set when the pipeline starts)."""
    tool("check-jsonschema")
    spec = {**SPEC, "name": "release", "stage": "deploy", "when": "manual"}
    result = generate_automation(acme_template, "gitlab-ci-job", spec, inventory=acme_inventory)
    assert result.valid and any("schema" in c for r in result.validation for c in r.checked), result.validation
    assert any("RUN_STEP_1" in note for note in result.notes)
    assert any("manual jobs (release:confirm-1)" in note for note in result.notes), result.notes
    text = result.artifacts[0].text
    assert "CONFIRM_STEP" not in text
    jobs = _jobs(text)
    assert list(jobs) == ["release", "release:confirm-1"]
    confirm = jobs["release:confirm-1"]
    assert confirm["needs"] == ["release"] and confirm["allow_failure"] is False
    assert confirm["rules"] == [{"when": "manual"}] and confirm["stage"] == "deploy"
    assert _run_job(confirm).stdout.splitlines() == ["Confirmed by hand: Bump the version in pyproject.toml."]
    default = _run_job(jobs["release"])
    assert default.returncode == 0, default.stderr
    assert default.stdout.splitlines() == [
        "built", "skip: Push by hand runs only if the release workflow failed (set RUN_STEP_1=true)"]
    asked = _run_job(jobs["release"], RUN_STEP_1="true")
    assert asked.returncode == 0 and asked.stdout.splitlines() == ["built", "pushed"], asked.stderr


def test_a_gitlab_hand_step_between_automated_steps_holds_the_rest(acme_template, acme_inventory):
    """The steps after a hand step are a job that needs its manual job, and runs in the same pipelines as the
    first part (the branch rule kept, `when: on_success`)."""
    tool("check-jsonschema")
    spec = {"name": "ship", "stage": "deploy", "when": "push", "branch": "main", "steps": [
        {"name": "Build", "commands": [{"argv": ["printf", "%s\\n", "built"]}]},
        {"name": "Check", "manual": "Check the staging site."},
        {"name": "Also", "manual": "Tell the team."},
        {"name": "Publish", "commands": [{"argv": ["printf", "%s\\n", "published"]}]}]}
    result = generate_automation(acme_template, "gitlab-ci-job", spec, inventory=acme_inventory)
    assert result.valid and any("schema" in c for r in result.validation for c in r.checked), result.validation
    jobs = _jobs(result.artifacts[0].text)
    assert list(jobs) == ["ship", "ship:confirm-1", "ship:confirm-2", "ship:2"]
    branch = '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "main"'
    assert "needs" not in jobs["ship"] and jobs["ship"]["rules"] == [{"if": branch}]
    assert "allow_failure" not in jobs["ship"]
    assert [jobs[n]["needs"] for n in list(jobs)[1:]] == [["ship"], ["ship:confirm-1"], ["ship:confirm-2"]]
    assert jobs["ship:confirm-2"]["rules"] == [{"if": branch, "when": "manual"}]
    assert jobs["ship:confirm-2"]["allow_failure"] is False
    assert jobs["ship:2"]["rules"] == [{"if": branch, "when": "on_success"}]
    assert _run_job(jobs["ship:2"]).stdout.splitlines() == ["published"]
    assert result.artifacts[0].text.splitlines()[0].endswith("jobs ship, ship:confirm-1, ship:confirm-2, ship:2.")


def test_a_long_gitlab_job_name_never_collides_with_its_own_parts(acme_template, acme_inventory):
    """The parts were named from the first 80 characters of the name: an 82-character name ending in ':2' (valid
    for the spec) named its own third part, which replaced the first job in the file (the build step was lost and
    the remaining job needed a job that needed it)."""
    tool("check-jsonschema")
    name = "a" * 80 + ":2"
    spec = {"name": name, "stage": "deploy", "when": "push", "steps": [
        {"name": "Build", "commands": [{"argv": ["printf", "%s\\n", "built"]}]},
        {"name": "Check", "manual": "Check the staging site."},
        {"name": "Publish", "commands": [{"argv": ["printf", "%s\\n", "published"]}]}]}
    result = generate_automation(acme_template, "gitlab-ci-job", spec, inventory=acme_inventory)
    assert result.valid, result.validation
    jobs = _jobs(result.artifacts[0].text)
    assert list(jobs) == [name, f"{name}:confirm-1", f"{name}:2"]
    assert _run_job(jobs[name]).stdout.splitlines() == ["built"]
    assert [jobs[n]["needs"] for n in list(jobs)[1:]] == [[name], [f"{name}:confirm-1"]]


def test_a_part_name_already_in_the_file_renames_the_job_with_on_conflict_rename(acme):
    """The file has a job `ship:2`; a job `ship` with a hand step in the middle would add another `ship:2`. It was
    refused even with on_conflict: rename; now the whole job takes the next free name, parts included."""
    tool("check-jsonschema")
    ci = acme / ".gitlab-ci.yml"
    existing = ci.read_text() if ci.exists() else ""
    ci.write_text(existing + "\nship:2:\n  stage: deploy\n  script:\n    - echo old\n")
    spec = {"name": "ship", "stage": "deploy", "when": "manual", "steps": [
        {"name": "Build", "commands": [{"argv": ["printf", "%s\\n", "built"]}]},
        {"name": "Check", "manual": "Check the staging site."},
        {"name": "Publish", "commands": [{"argv": ["printf", "%s\\n", "published"]}]}]}
    with pytest.raises(InputError, match="on_conflict: rename"):
        generate_automation(acme, "gitlab-ci-job", spec)
    result = generate_automation(acme, "gitlab-ci-job", {**spec, "on_conflict": "rename"})
    assert result.valid, result.validation
    assert result.artifacts[0].action == "append"
    assert list(_jobs(result.artifacts[0].text)) == ["ship-2", "ship-2:confirm-1", "ship-2:2"]
    assert any("'ship:2' (a part of job 'ship') already exists; this one is named 'ship-2'" in n
               for n in result.notes), result.notes


def test_the_hand_part_of_a_conditional_gitlab_step_says_its_condition(acme_template, acme_inventory):
    """A conditional step's commands run only with RUN_STEP_1; its hand part is a manual job, which read as a step to
    do every time (the condition was dropped). The shell script skips both parts unless asked."""
    tool("check-jsonschema")
    spec = {"name": "ship", "stage": "deploy", "when": "manual", "steps": [
        {"name": "Build", "commands": [{"argv": ["printf", "%s\\n", "built"]}]},
        {"name": "Push by hand", "commands": [{"argv": ["printf", "%s\\n", "pushed"]}],
         "only_if": "the release workflow failed", "manual": "Tell the team."}]}
    result = generate_automation(acme_template, "gitlab-ci-job", spec, inventory=acme_inventory)
    assert result.valid, result.validation
    jobs = _jobs(result.artifacts[0].text)
    assert _run_job(jobs["ship:confirm-1"]).stdout.splitlines() == [
        "Confirmed by hand: only if the release workflow failed: Tell the team. (if not, run this job to go on)"]
