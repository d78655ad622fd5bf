"""Deploy and rollback jobs name the environment and the credentials they need (acme-shop's runbooks and Makefile):
the environment the repository shows, or a CHANGE-ME placeholder; each credential a named placeholder secret; the
validator flags every placeholder, and once they are filled the file validates clean."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from orchestrator_kit.automation import generate_automation
from orchestrator_kit.automation.generate import load_context
from orchestrator_kit.automation.validate import validate_text
from orchestrator_kit.opportunities import opportunities

from ..conftest import git
from .conftest import tool

RELEASE = "RELEASING.md#releasing-acme-shop/cutting-a-release"
RESTORE = "docs/runbooks/restore-database.md#restore-the-production-database/steps"


def _workflow(text: str) -> dict:
    data = yaml.safe_load(text)
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def _placeholder_lines(result) -> list[tuple[int | None, str]]:
    return [(f.line, f.message.rsplit(": ", 1)[-1].split(" ")[0]) for r in result.validation for f in r.findings
            if f.rule == "unfilled-placeholder"]


def _lines_with(text: str, word: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1) if word in line]


def _clean(path: str, text: str, kind: str) -> list[str]:
    report = validate_text(path, text, kind)  # type: ignore[arg-type]
    return [f"{f.validator}:{f.rule}:{f.message}" for f in report.findings]


@pytest.fixture(scope="module")
def validators():
    for name in ("zizmor", "check-jsonschema", "shellcheck"):
        tool(name)


def test_release_workflow_deploys_in_production_with_a_named_kubeconfig_secret(acme_template, validators):
    result = generate_automation(acme_template, "procedure", {"procedure": RELEASE, "target": "github-workflow"})
    [artifact] = result.artifacts
    job = _workflow(artifact.text)["jobs"]["cutting-a-release"]
    assert job["environment"] == "production"  # RELEASING.md:27 runs `make deploy ENV=production`
    deploy = next(s for s in job["steps"] if s["name"] == "Deploy to production")
    assert deploy["env"] == {"KUBECONFIG_CONTENT": "${{ secrets.CHANGE_ME_KUBECONFIG }}"}
    assert 'export KUBECONFIG="${RUNNER_TEMP}/kubeconfig"' in deploy["run"]
    assert deploy["run"].index("export KUBECONFIG") < deploy["run"].index("make deploy ENV=production")
    # The image push logs in to ghcr.io with the workflow's own token: no secret to invent, packages: write granted.
    push = next(s for s in job["steps"] if s["name"].startswith("Build and push the image"))
    assert push["env"] == {"REGISTRY_USERNAME": "${{ github.actor }}", "REGISTRY_PASSWORD": "${{ github.token }}"}
    assert "docker login ghcr.io" in push["run"] and job["permissions"]["packages"] == "write"
    # Secrets live in the step that uses them, never in the job's env that every step (and action) sees.
    assert not any("secrets." in str(v) for v in job["env"].values())
    # The validator flags the one placeholder, on its line; the notes say what to fill and where.
    assert _placeholder_lines(result) == [(n, "CHANGE_ME_KUBECONFIG")
                                          for n in _lines_with(artifact.text, "CHANGE_ME")]
    assert len(_placeholder_lines(result)) == 1
    fill = [n for n in result.notes if n.startswith("Fill in:")]
    assert len(fill) == 1 and "CHANGE_ME_KUBECONFIG" in fill[0] and "environment 'production'" in fill[0]
    assert "kubectl config use-context acme-production" in fill[0]  # the Makefile recipe it came from
    filled = artifact.text.replace("CHANGE_ME_KUBECONFIG", "PRODUCTION_KUBECONFIG")
    assert _clean(artifact.path, filled, "github-workflow") == []


def test_rollback_job_from_the_opportunity_uses_the_environment_the_pipelines_use(acme_template, validators):
    matrix = opportunities(str(acme_template))
    [rollback] = [o for o in matrix.opportunities if o.related == ["make:Makefile#rollback"]]
    result = generate_automation(acme_template, "github-workflow", None, opportunity=rollback.id)
    [artifact] = result.artifacts
    [job] = _workflow(artifact.text)["jobs"].values()
    # `make rollback` acts on shop-$(ENV), ENV ?= staging in the Makefile; ci.yml's deploy-staging job uses the
    # environment 'staging': evidence, so no placeholder for the environment.
    assert job["environment"] == "staging"
    assert any("ci.yml:49-56" in n for n in result.notes)
    step = job["steps"][-1]
    assert step["env"] == {"KUBECONFIG_CONTENT": "${{ secrets.CHANGE_ME_KUBECONFIG }}"} and "make rollback" in step["run"]
    assert [w for _, w in _placeholder_lines(result)] == ["CHANGE_ME_KUBECONFIG"]
    assert "kubectl rollout undo deployment/shop -n shop-staging" in " ".join(result.notes)
    filled = artifact.text.replace("CHANGE_ME_KUBECONFIG", "STAGING_KUBECONFIG")
    assert _clean(artifact.path, filled, "github-workflow") == []

    gitlab = generate_automation(acme_template, "gitlab-ci-job", None, opportunity=rollback.id)
    [block] = gitlab.artifacts
    job = next(iter(yaml.safe_load(block.text).values()))
    assert job["environment"] == {"name": "staging"}
    assert job["variables"] == {"KUBECONFIG": "$CHANGE_ME_KUBECONFIG"}
    assert job["before_script"][0].startswith('if [ -z "${KUBECONFIG:-}" ]; then echo')
    assert [w for _, w in _placeholder_lines(gitlab)] == ["CHANGE_ME_KUBECONFIG"]
    assert any(n.startswith("Fill in: CI/CD variable CHANGE_ME_KUBECONFIG (type File)") for n in gitlab.notes)
    assert _clean(block.path, block.text.replace("$CHANGE_ME_KUBECONFIG", "$STAGING_KUBECONFIG"), "gitlab-ci") == []


def test_a_rollback_with_no_evidence_of_its_environment_gets_a_placeholder(tmp_path, validators):
    root = tmp_path / "svc"
    root.mkdir()
    (root / "Makefile").write_text(".PHONY: rollback\nrollback:\n\thelm rollback web 0 --namespace web\n")
    git(root, "init", "-q")
    result = generate_automation(root, "github-workflow", {
        "name": "Roll back", "triggers": {"workflow_dispatch": True},
        "jobs": [{"id": "rollback", "environment": "CHANGE-ME-production",
                  "steps": [{"name": "Roll back", "commands": ["make rollback"]}]}]})
    text = result.artifacts[0].text
    assert [w for _, w in _placeholder_lines(result)] == ["CHANGE-ME-production", "CHANGE_ME_KUBECONFIG"]
    filled = text.replace("CHANGE-ME-production", "production").replace("CHANGE_ME_KUBECONFIG", "KUBECONFIG_PROD")
    assert _clean(result.artifacts[0].path, filled, "github-workflow") == []

    from orchestrator_kit.automation.credentials import deploy_environment, needs

    ctx = load_context(root)
    found = needs(ctx, [["make", "rollback"]])
    assert found.deploys and [c.key for c in found.credentials] == ["kubeconfig"]
    environment, why, placeholder = deploy_environment(ctx, found)
    assert (environment, placeholder) == ("CHANGE-ME-production", True) and "do not say" in why


def test_cron_line_placeholder_is_flagged_then_clean_once_filled(acme_template):
    result = generate_automation(acme_template, "crontab-line",
                                 {"schedule": "15 2 * * *", "command": "make backup-db"})
    [artifact] = result.artifacts
    line = artifact.text.splitlines()[-1]
    assert line == "15 2 * * * cd /CHANGE-ME/path/to/checkout && make backup-db"
    existing = (acme_template / "ops" / "crontab").read_text()
    content = existing + "\n" + artifact.text  # appended after one blank line
    assert _placeholder_lines(result) == [(len(content.splitlines()), "CHANGE-ME/path/to/checkout")]
    filled = content.replace("/CHANGE-ME/path/to/checkout", "/srv/acme-shop")
    assert _clean(artifact.path, filled, "crontab") == []


def test_restore_runbook_keeps_the_remote_steps_by_hand(acme_template):
    """Step 2 is an interactive `ssh ops@db1...`: step 3's commands run on that host, so they must not run where
    the script runs (a pg_restore on the wrong machine); the kubectl steps stay automated, behind KUBECONFIG."""
    result = generate_automation(acme_template, "procedure", {"procedure": RESTORE, "skip_unsafe": True})
    [artifact] = result.artifacts
    text = artifact.text
    assert artifact.path == "scripts/restore-the-production-database.sh"
    assert "run ssh" not in text and "run pg_restore" not in text and "run aws" not in text
    assert "manual 'log in to ops@db1.acme.internal" in text
    assert "manual 'on ops@db1.acme.internal: aws s3 ls s3://acme-backups/postgres/ | tail -n 1; aws s3 cp" in text
    assert text.count("  run kubectl scale deployment/shop") == 2
    # The script refuses to act on whatever kube context is the default.
    path = Path(str(os.environ.get("TMPDIR", "/tmp"))) / f"restore-{os.getpid()}.sh"
    path.write_text(text)
    try:
        proc = subprocess.run(["bash", str(path), "--yes"], capture_output=True, text=True, timeout=30,
                              env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL)
        dry = subprocess.run(["bash", str(path), "--dry-run"], capture_output=True, text=True, timeout=30,
                             env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL)
    finally:
        path.unlink()
    assert proc.returncode == 1 and "KUBECONFIG is not set: step(s) 1, 4 need" in proc.stderr
    assert "step 1/4" not in proc.stderr
    assert dry.returncode == 0 and "warning: KUBECONFIG is not set" in dry.stderr


def test_the_kubeconfig_setup_lines_run_for_real(acme_template, tmp_path):
    """The lines a deploy step runs first: an empty secret stops with a clear error; a set one becomes a private file
    that KUBECONFIG names."""
    result = generate_automation(acme_template, "procedure", {"procedure": RELEASE, "target": "github-workflow"})
    job = _workflow(result.artifacts[0].text)["jobs"]["cutting-a-release"]
    run = next(s for s in job["steps"] if s["name"] == "Deploy to production")["run"]
    setup = run[: run.index("make deploy")] + 'printf "%s" "$KUBECONFIG" > "$RUNNER_TEMP/where"\n'
    env = {"PATH": "/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path)}
    empty = subprocess.run(["bash", "-eo", "pipefail", "-c", setup], capture_output=True, text=True, env=env, timeout=30)
    assert empty.returncode == 1 and "::error::kubeconfig" in empty.stdout
    assert not (tmp_path / "kubeconfig").exists()
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", setup], capture_output=True, text=True, timeout=30,
                          env={**env, "KUBECONFIG_CONTENT": "apiVersion: v1\nkind: Config\n"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "kubeconfig").read_text() == "apiVersion: v1\nkind: Config\n\n"
    assert (tmp_path / "kubeconfig").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "where").read_text() == str(tmp_path / "kubeconfig")


@pytest.mark.parametrize(("command", "keys"), [
    (["kubectl", "apply", "-f", "k8s/"], ["kubeconfig"]),
    (["helm", "upgrade", "--install", "web", "chart/"], ["kubeconfig"]),
    (["aws", "s3", "cp", "a", "s3://b/a"], ["aws"]),
    (["gcloud", "run", "deploy", "web"], ["gcloud"]),
    (["terraform", "apply", "-auto-approve"], ["terraform"]),
    (["terraform", "fmt"], []),
    (["ssh", "deploy@web1", "systemctl", "restart", "web"], ["ssh"]),
    (["rsync", "-a", "dist/", "web1:/srv/www"], ["ssh"]),
    (["rsync", "-a", "dist/", "/srv/www"], []),
    (["docker", "push", "registry.example.com/team/web:1"], ["registry"]),
    (["docker", "build", "-t", "web", "."], []),
    (["gh", "release", "create", "v1"], ["gh"]),
    (["sudo", "env", "A=1", "kubectl", "get", "pods"], ["kubeconfig"]),
    (["echo", "kubectl"], []),
    (["make", "deploy", "ENV=production"], ["kubeconfig"]),  # acme-shop's Makefile recipe runs kubectl
    (["make", "docker-push"], ["registry"]),  # and its prerequisite docker-build
    (["./scripts/backup-db.sh", "production"], ["aws"]),  # the script task's own commands upload with aws
])
def test_credentials_are_found_from_commands_and_recipes(acme_template, command, keys):
    from orchestrator_kit.automation.credentials import needs

    ctx = load_context(acme_template)
    assert [c.key for c in needs(ctx, [command]).credentials] == keys


def test_registry_host_decides_the_login(acme_template):
    from orchestrator_kit.automation.credentials import needs

    ctx = load_context(acme_template)
    [ghcr] = needs(ctx, [["make", "docker-push", "VERSION=v1"]]).credentials  # IMAGE := ghcr.io/acme/shop
    assert ghcr.placeholders == () and ghcr.github_env["REGISTRY_PASSWORD"] == "${{ github.token }}"
    [other] = needs(ctx, [["docker", "push", "quay.io/acme/shop:1"]]).credentials
    assert other.placeholders == ("CHANGE_ME_REGISTRY_USERNAME", "CHANGE_ME_REGISTRY_PASSWORD")
    assert "docker login quay.io" in other.github_setup[0]


@pytest.mark.parametrize("command", [
    ["kubectl", "'unbalanced"], ["x" * 100_000], ["make"] + ["deploy"] * 5000, ["$(rm -rf /)", "`id`"],
    ["make", "deploy", "ENV=$(IMAGE)"], [""],
])
def test_hostile_and_huge_commands_are_only_read(acme_template, command):
    from orchestrator_kit.automation.credentials import needs

    ctx = load_context(acme_template)
    found = needs(ctx, [command])  # nothing runs: words are matched, never executed
    assert all(re.fullmatch(r"[a-z]+", c.key) for c in found.credentials)


def test_restore_workflow_waits_for_approval_before_the_hand_steps(acme_template, validators):
    """The shop is scaled to 0 first; the restore on the database host is done by hand after that, so it is an
    approval of the next job, never a box ticked when the run starts (which would come before the scale-down)."""
    result = generate_automation(acme_template, "procedure", {"procedure": RESTORE, "target": "github-workflow",
                                                              "skip_unsafe": True})
    data = _workflow(result.artifacts[0].text)
    assert data["name"] == "Restore the production database"
    assert data["on"]["workflow_dispatch"] is None  # no inputs: nothing is confirmed up front
    first, second = data["jobs"].values()
    assert [s["name"] for s in first["steps"]][-1].startswith("Announce the incident")
    names = [s["name"] for s in second["steps"]]
    assert names[-3:] == ["Log in to the database host", "Find the latest backup and restore it",
                          "Scale the shop back up: kubectl scale deployment/shop --replicas=3 -n shop-production"]
    assert second["needs"] == [next(iter(data["jobs"]))] and second["environment"] == "production"
    assert all("/approvals" in s["run"] for s in second["steps"][-3:-1])
    assert result.valid and [w for _, w in _placeholder_lines(result)] == ["CHANGE_ME_KUBECONFIG"] * 2
