"""The shell-script and GitLab targets keep the runbook's meaning: a step done only `if ...` runs only when asked
(--run-step-N / RUN_STEP_N), never by default, and a manual step stops a run until a person confirms it."""

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


def _job_script(text: str) -> str:
    """The generated GitLab job's script lines as the runner runs them: one shell, stop at the first failure."""
    data = yaml.safe_load(text)
    [job] = [v for k, v in data.items() if isinstance(v, dict) and "script" in v]
    return "set -e\n" + "\n".join(job["script"]) + "\n"


def test_a_gitlab_job_keeps_conditional_and_manual_steps(acme_template, acme_inventory):
    spec = {**SPEC, "name": "release", "stage": "deploy", "when": "manual"}
    result = generate_automation(acme_template, "gitlab-ci-job", spec, inventory=acme_inventory)
    assert result.valid
    assert any("CONFIRM_STEP_1" in note and "RUN_STEP_1" in note for note in result.notes)
    body = _job_script(result.artifacts[0].text)

    def run(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", body], capture_output=True, text=True, timeout=30,
                              env={"PATH": "/usr/bin:/bin", **env})

    unconfirmed = run()
    assert unconfirmed.returncode == 1
    assert unconfirmed.stdout.splitlines() == [
        "built", "skip: Push by hand runs only if the release workflow failed (set RUN_STEP_1=true)",
        "Manual step not confirmed (set CONFIRM_STEP_1=true once done): Bump the version in pyproject.toml."]
    confirmed = run(CONFIRM_STEP_1="true", RUN_STEP_1="true")
    assert confirmed.returncode == 0, confirmed.stderr
    assert confirmed.stdout.splitlines() == ["built", "pushed", "Confirmed by hand: Bump the version in pyproject.toml."]
