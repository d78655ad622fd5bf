"""Generators fit the repository (toolchain, existing names) and refuse or rename on conflicts; hostile spec
values come out quoted and are never executed (proved by running the generated files)."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from orchestrator_kit.automation import generate_automation
from orchestrator_kit.automation.schedule import cron_to_on_calendar
from orchestrator_kit.errors import InputError

from ..conftest import write_files
from .conftest import tool

INJECTIONS = ["; rm -rf /", "$(touch pwned-subst)", "`touch pwned-tick`", "&& touch pwned-and", "|touch pwned-pipe",
              "'; touch pwned-quote; '", "$((0))touch$((0))pwned-arith", "%s", "a\tb"]
CI = {"name": "CI", "triggers": {"push_branches": ["main"]}, "jobs": [{"id": "test", "steps": [
    {"name": "Test", "commands": ["make test"]}]}]}


def make(tmp_path, files):
    root = tmp_path / "repo"
    root.mkdir()
    write_files(root, files)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"package.json": "{}", "package-lock.json": "{}"}, ["actions/setup-node@", "cache: npm", "run: npm ci"]),
        ({"package.json": "{}", "pnpm-lock.yaml": "", ".nvmrc": "20\n"},
         ["corepack enable", "node-version-file: .nvmrc", "cache: pnpm", "pnpm install --frozen-lockfile"]),
        ({"go.mod": "module x\n", "go.sum": ""}, ["actions/setup-go@", "go-version-file: go.mod", "go mod download"]),
        ({"Cargo.toml": "[package]\n", "Cargo.lock": ""}, ["actions/cache@", "hashFiles('**/Cargo.lock')", "cargo fetch"]),
        ({"pyproject.toml": "[project]\nname='x'\nrequires-python='>=3.10'\n", "poetry.lock": ""},
         ['python-version: "3.10"', "cache: poetry", "pipx install poetry", "poetry install --no-interaction"]),
        ({"requirements.txt": "flask\n"}, ['python-version: "3.12"', "cache: pip",
                                          "python -m pip install -r requirements.txt"]),
        ({"pom.xml": "<project/>"}, ["actions/setup-java@", "cache: maven"]),
        ({"Makefile": "install:\n\tpip install .\n", "requirements.txt": ""}, ["run: make install"]),
    ],
)
def test_workflow_setup_fits_the_toolchain(tmp_path, files, expected):
    root = make(tmp_path, files)
    text = generate_automation(root, "github-workflow", CI).artifacts[0].text
    for snippet in expected:
        assert snippet in text


def test_gitlab_job_fits_the_toolchain_and_existing_file(tmp_path):
    root = make(tmp_path, {"package.json": "{}", "package-lock.json": "{}",
                           ".gitlab-ci.yml": "stages: [build, test]\nbuild:\n  stage: build\n  script: [npm ci]\n"})
    spec = {"name": "unit", "stage": "test", "needs": ["build"], "steps": [{"name": "t", "commands": ["npm test"]}]}
    result = generate_automation(root, "gitlab-ci-job", spec)
    artifact = result.artifacts[0]
    assert artifact.action == "append" and "image: node:20" in artifact.text
    assert "npm ci --cache .npm --prefer-offline" in artifact.text and "- .npm/" in artifact.text
    with pytest.raises(InputError, match="Stage 'deploy' is not one of the stages"):
        generate_automation(root, "gitlab-ci-job", {**spec, "stage": "deploy"})
    with pytest.raises(InputError, match="needs \\['nope'\\]"):
        generate_automation(root, "gitlab-ci-job", {**spec, "needs": ["nope"]})
    with pytest.raises(InputError, match="already exists"):
        generate_automation(root, "gitlab-ci-job", {**spec, "name": "build"})
    renamed = generate_automation(root, "gitlab-ci-job", {**spec, "name": "build", "on_conflict": "rename"})
    assert renamed.artifacts[0].text.splitlines()[1] == "build-2:"


def test_a_gitlab_job_with_parameters_passes_the_gitlab_schema(tmp_path):
    """Job-level variables are plain values in GitLab's schema (`description` is for top-level ones only)."""
    root = make(tmp_path, {".gitlab-ci.yml": "stages: [build, deploy]\nbuild:\n  stage: build\n  script: [make]\n"})
    spec = {"name": "release", "stage": "deploy", "steps": [{"name": "t", "commands": ["git tag v{version}"]}],
            "params": [{"name": "version", "description": "Version to release", "default": "1.0.0"},
                       {"name": "channel", "description": "Where to publish"}]}
    result = generate_automation(root, "gitlab-ci-job", spec)
    findings = [f for report in result.validation for f in report.findings]
    assert result.valid and any("schema" in c for r in result.validation for c in r.checked), findings
    assert findings == []
    assert "    VERSION: 1.0.0\n" in result.artifacts[0].text and "CHANNEL:" not in result.artifacts[0].text
    assert any("reads VERSION, CHANNEL from pipeline variables" in note for note in result.notes)


def test_existing_make_targets_are_never_clobbered(acme_template, acme_inventory):
    spec = {"name": "deploy", "commands": ["echo hi"]}
    with pytest.raises(InputError, match="Target of Makefile 'deploy' already exists"):
        generate_automation(acme_template, "make-target", spec, inventory=acme_inventory)
    result = generate_automation(acme_template, "make-target", {**spec, "on_conflict": "rename"},
                                 inventory=acme_inventory)
    assert ".PHONY: deploy-2\ndeploy-2:" in result.artifacts[0].text
    assert any("'deploy' already exists" in note for note in result.notes)
    with pytest.raises(InputError, match="Prerequisites \\['nope'\\]"):
        generate_automation(acme_template, "make-target", {"name": "x", "prerequisites": ["nope"],
                                                           "commands": ["echo"]}, inventory=acme_inventory)


def test_existing_workflow_file_is_refused_or_renamed(acme_template, acme_inventory):
    spec = {**CI, "name": "Release", "file": ".github/workflows/release.yml"}
    with pytest.raises(InputError, match="already exists"):
        generate_automation(acme_template, "github-workflow", spec, inventory=acme_inventory)
    result = generate_automation(acme_template, "github-workflow", {**spec, "on_conflict": "rename"},
                                 inventory=acme_inventory)
    assert result.artifacts[0].path == ".github/workflows/release-2.yml"
    assert "name: Release 2" in result.artifacts[0].text


def test_precommit_hook_is_added_to_an_existing_config_with_its_indentation(tmp_path):
    config = "repos:\n- repo: https://github.com/x/y\n  rev: v1\n  hooks:\n  - id: ruff\n# trailing comment\n"
    root = make(tmp_path, {".pre-commit-config.yaml": config})
    spec = {"id": "mypy", "name": "mypy", "command": {"argv": ["mypy", "src"]}}
    result = generate_automation(root, "pre-commit-hook", spec)
    assert result.valid, result.validation
    with pytest.raises(InputError, match="already exists"):
        generate_automation(root, "pre-commit-hook", {**spec, "id": "ruff"})


@pytest.mark.parametrize(
    ("cron", "calendar"),
    [("0 3 * * *", "*-*-* 03:00:00"), ("*/15 * * * *", "*-*-* *:00/15:00"), ("30 4 * * 1-5", "Mon..Fri *-*-* 04:30:00"),
     ("0 0 1 JAN,JUL *", "*-1,7-1 00:00:00"), ("@weekly", "Sun *-*-* 00:00:00"), ("0 12 * * 0,6", "Sun,Sat *-*-* 12:00:00")],
)
def test_cron_to_on_calendar(cron, calendar):
    assert cron_to_on_calendar(cron) == calendar


@pytest.mark.parametrize("cron", ["0 3 1 * 1", "@reboot", "0 1-10/2 * * *", "H 3 * * *"])
def test_cron_without_an_exact_on_calendar_is_refused(cron):
    with pytest.raises(InputError):
        cron_to_on_calendar(cron)


# ------------------------------------------------------------------ injection, run for real


def spec_with(words):
    return {"argv": ["printf", "%s\\n", *words]}


def test_injection_in_a_script_is_printed_in_dry_run_and_literal_when_run(acme_template, acme_inventory, tmp_path):
    tool("shellcheck")
    spec = {"name": "inj", "steps": [{"name": "Print", "commands": [spec_with(INJECTIONS)]}]}
    result = generate_automation(acme_template, "shell-script", spec, inventory=acme_inventory)
    findings = [f for r in result.validation for f in r.findings]
    assert result.valid and not [f for f in findings if f.severity != "info"]
    # ShellCheck's only remark is SC2016 "expressions don't expand in single quotes": the proof they are quoted.
    assert {f.rule for f in findings} <= {"SC2016"}
    script = tmp_path / "scripts" / "inj.sh"
    script.parent.mkdir()
    script.write_text(result.artifacts[0].text)
    dry = subprocess.run(["bash", str(script), "--dry-run"], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == ""  # nothing ran
    assert "dry-run: printf" in dry.stderr
    real = subprocess.run(["bash", str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert real.returncode == 0, real.stderr
    assert real.stdout.split("\n")[:-1] == INJECTIONS
    assert not list(tmp_path.glob("pwned*")) and not list((tmp_path / "scripts").glob("pwned*"))


def test_a_parameter_expansion_in_a_word_is_refused_before_any_file_is_written(acme_template, acme_inventory):
    """`${IFS}`-style words are refused by the spec (a literal `${NAME}` is a spec mistake, issue 20), so they never
    reach a generated file; the other expansions above stay literal."""
    spec = {"name": "inj", "steps": [{"name": "Print", "commands": [spec_with(["${IFS}touch${IFS}pwned-ifs"])]}]}
    with pytest.raises(InputError, match="would be written literally"):
        generate_automation(acme_template, "shell-script", spec, inventory=acme_inventory)


def test_injection_in_a_make_target_stays_literal(acme_template, acme_inventory, tmp_path):
    spec = {"name": "inj", "commands": [spec_with(INJECTIONS)]}
    result = generate_automation(acme_template, "make-target", spec, inventory=acme_inventory)
    assert result.valid
    (tmp_path / "Makefile").write_text(result.artifacts[0].text)
    proc = subprocess.run(["make", "-s", "inj"], capture_output=True, text=True, cwd=tmp_path, timeout=30,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:-1] == INJECTIONS
    assert not list(tmp_path.glob("pwned*"))


def test_injection_in_workflow_cron_and_precommit_stays_literal(acme_template, acme_inventory, tmp_path):
    workflow = {**CI, "name": "Inj", "jobs": [{"id": "x", "setup_toolchain": False, "install": False,
                                                "steps": [{"name": "p", "commands": [spec_with(INJECTIONS)]}]}]}
    result = generate_automation(acme_template, "github-workflow", workflow, inventory=acme_inventory)
    assert result.valid
    import yaml

    run = yaml.safe_load(result.artifacts[0].text)["jobs"]["x"]["steps"][-1]["run"]
    proc = subprocess.run(["bash", "-e", "-c", run], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert proc.stdout.split("\n")[:-1] == INJECTIONS

    cron = {"schedule": "0 3 * * *", "command": {"argv": ["/usr/bin/printf", "%s\\n", *INJECTIONS]},
            "file": "ops/new-crontab"}
    line = generate_automation(acme_template, "crontab-line", cron, inventory=acme_inventory).artifacts[0].text
    command = line.splitlines()[1].split(" ", 5)[5].replace("\\%", "%")  # what cron hands to /bin/sh
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert proc.stdout.split("\n")[:-1] == INJECTIONS

    hook = {"id": "inj", "name": "inj", "command": {"argv": ["echo", *INJECTIONS]}}
    text = generate_automation(acme_template, "pre-commit-hook", hook, inventory=acme_inventory).artifacts[0].text
    assert shlex.split(yaml.safe_load(text)["repos"][0]["hooks"][0]["entry"]) == ["echo", *INJECTIONS]
    assert not list(tmp_path.glob("pwned*"))


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "x", "steps": [{"name": "s", "commands": ["echo hi; rm -rf /"]}]},
        {"name": "x", "steps": [{"name": "s", "commands": ["echo $(id)"]}]},
        {"name": "x", "steps": [{"name": "s", "commands": ["echo `id`"]}]},
        {"name": "x", "steps": [{"name": "s", "commands": [{"argv": ["echo", "${{ github.event.issue.title }}"]}]}]},
        {"name": "x", "steps": [{"name": "s\nnewline", "commands": ["echo"]}]},
        {"name": "../../etc/x", "steps": [{"name": "s", "commands": ["echo"]}]},
        {"name": "x", "path": "../outside.sh", "steps": [{"name": "s", "commands": ["echo"]}]},
        {"name": "x", "steps": []},
        {"name": "x", "steps": [{"name": "s", "commands": ["echo"]}], "unknown_field": 1},
        {"name": "x", "steps": [{"name": "s", "commands": [{"argv": ["x" * 5000]}]}]},
        {"name": "x", "steps": [{"name": "s", "commands": [{"argv": [{"template": "{undeclared}"}]}]}]},
        {"name": "x", "params": [{"name": "dry_run"}], "steps": [{"name": "s", "commands": [
            {"argv": [{"template": "{dry_run}"}]}]}]},
        ["not", "a", "mapping"],
    ],
)
def test_invalid_and_hostile_specs_are_refused_with_a_message(acme_template, acme_inventory, spec):
    with pytest.raises(InputError) as info:
        generate_automation(acme_template, "shell-script", spec, inventory=acme_inventory)
    assert str(info.value)


def test_unknown_kind_is_refused(acme_template, acme_inventory):
    with pytest.raises(InputError, match="Unknown automation kind"):
        generate_automation(acme_template, "terraform", {}, inventory=acme_inventory)


def test_huge_spec_lists_are_refused(acme_template, acme_inventory):
    spec = {"name": "x", "steps": [{"name": f"s{i}", "commands": ["echo"]} for i in range(101)]}
    with pytest.raises(InputError, match="at most 100"):
        generate_automation(acme_template, "shell-script", spec, inventory=acme_inventory)


def test_crlf_and_non_utf8_files_are_not_edited(tmp_path):
    root = make(tmp_path, {"Makefile": b"all:\r\n\techo\r\n"})
    with pytest.raises(InputError, match="CRLF"):
        generate_automation(root, "make-target", {"name": "x", "commands": ["echo"]})
    (root / "Makefile").write_bytes(b"all:\n\techo \xff\n")
    with pytest.raises(InputError, match="not UTF-8"):
        generate_automation(root, "make-target", {"name": "x", "commands": ["echo"]})
