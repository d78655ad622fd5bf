"""RELEASING.md becomes a script and a workflow that both validate clean; the service functions and the CLI:
generate writes nothing, apply needs the reviewed hash and a clean validation (or force), undo reverses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_kit.automation import (
    apply_automation,
    generate_automation,
    spec_for_procedure,
    undo_automation,
)
from orchestrator_kit.errors import InputError

from ..conftest import git
from .conftest import tool

RELEASE = "RELEASING.md#releasing-acme-shop/cutting-a-release"


def test_releasing_md_becomes_a_script_and_a_workflow_that_validate_clean(acme, tmp_path):
    for name in ("shellcheck", "zizmor", "check-jsonschema"):
        tool(name)
    script = generate_automation(acme, "procedure", {"procedure": RELEASE, "target": "shell-script"})
    workflow = generate_automation(acme, "procedure", {"procedure": RELEASE, "target": "github-workflow"})
    for result in (script, workflow):
        assert result.valid
    assert [f for r in script.validation for f in r.findings] == []
    # The deploy step's kubeconfig is the one thing left to fill: a placeholder secret the validator flags.
    assert [(f.rule, f.message.split(": ")[-1].split(" ")[0]) for r in workflow.validation for f in r.findings] == [
        ("unfilled-placeholder", "CHANGE_ME_KUBECONFIG")]
    text = script.artifacts[0].text
    # RELEASING.md has 6 steps; steps 3-5 hold 6 commands (lines 12-14, 20-21, 27), the rest are manual.
    assert text.count("\nstep_") == 6 and text.count("  run ") == 6 and text.count("  manual ") == 3
    assert "run git tag -a \"${VERSION}\" -m \"${VERSION}\"" in text
    assert "if ! already_done git rev-parse -q --verify refs/tags/\"${VERSION}\"; then" in text
    workflow_text = workflow.artifacts[0].text
    assert "environment: production" in workflow_text and "contents: write" in workflow_text
    assert "packages: write" in workflow_text and "VERSION: ${{ inputs.version }}" in workflow_text

    # Run the script for real in --dry-run: it prints every command, runs none, and checks its parameter.
    path = tmp_path / "scripts" / "release.sh"
    path.parent.mkdir()
    path.write_text(text)
    env = {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run(["bash", str(path), "--dry-run", "--version", "v2.0.0"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "dry-run: git tag -a v2.0.0 -m v2.0.0" in proc.stderr
    assert "dry-run: make deploy ENV=production VERSION=v2.0.0" in proc.stderr
    assert proc.stderr.count("MANUAL STEP") == 3 and proc.stderr.rstrip().endswith("done")
    missing = subprocess.run(["bash", str(path), "--dry-run"], capture_output=True, text=True, env=env, timeout=30)
    assert missing.returncode == 1 and "--version is required" in missing.stderr
    bad = subprocess.run(["bash", str(path), "-n", "--version", "1.0; rm -rf /"], capture_output=True, text=True,
                         env=env, timeout=30)
    assert bad.returncode == 1 and "must match" in bad.stderr
    # Without a terminal and without --yes, a manual step stops the real run before anything is executed.
    stop = subprocess.run(["bash", str(path), "--version", "v2.0.0"], capture_output=True, text=True,
                          env={**env, "KUBECONFIG": "/nonexistent/kubeconfig"}, timeout=30, stdin=subprocess.DEVNULL,
                          cwd=tmp_path)
    assert stop.returncode == 1 and "needs a person" in stop.stderr and "run:" not in stop.stderr
    # Step 5 deploys with kubectl: without KUBECONFIG naming the cluster, the real run stops before step 1.
    unset = subprocess.run(["bash", str(path), "--yes", "--version", "v2.0.0"], capture_output=True, text=True,
                           env=env, timeout=30, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert unset.returncode == 1 and "KUBECONFIG is not set: step(s) 5 need" in unset.stderr
    assert "step 1/" not in unset.stderr


def deploy_runbook(tmp_path: Path, steps: str) -> Path:
    """A repository whose docs/RUNBOOK.md holds a "Deploy" procedure with `steps` under its "Steps" heading."""
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "RUNBOOK.md").write_text("# Deploy\n\n## Steps\n\n" + steps)
    return root


def test_procedure_with_shell_operators_is_refused_or_kept_manual(tmp_path):
    root = deploy_runbook(
        tmp_path, "1. Deploy by hand:\n\n   ```bash\n   ssh prod 'sudo systemctl restart app' && "
        "curl -fsS https://x/healthz\n   kubectl rollout restart deploy/app\n   ```\n")
    with pytest.raises(InputError, match="cannot be converted safely"):
        generate_automation(root, "procedure", {"procedure": "docs/RUNBOOK.md#deploy/steps"})
    result = generate_automation(root, "procedure", {"procedure": "docs/RUNBOOK.md#deploy/steps", "skip_unsafe": True})
    assert "run kubectl rollout restart deploy/app" in result.artifacts[0].text
    assert "manual 'run by hand: ssh prod" in result.artifacts[0].text
    with pytest.raises(InputError, match="No procedure"):
        generate_automation(root, "procedure", {"procedure": "nope"})


@pytest.mark.parametrize("target", ["github-workflow", "shell-script"])
def test_a_runbook_step_holding_a_ci_expression_is_skipped_with_skip_unsafe_and_never_copied(tmp_path, target):
    """A step whose own text holds `${{` (its name, or a command kept by hand) cannot be written into a generated
    file: without skip_unsafe the refusal says so with one period before 'Remedy'; with it, that step stays a
    manual step that only points to the runbook, a note says why, and the other steps are converted."""
    root = deploy_runbook(
        tmp_path,
        "1. Note the ref ${{ github.ref }} in the ticket.\n"
        "2. Print the commit: `echo ${{ github.sha }}`\n"
        "3. Roll out: `kubectl rollout restart deploy/app`\n")
    spec = {"procedure": "docs/RUNBOOK.md#deploy/steps", "target": target}
    with pytest.raises(InputError) as refused:
        generate_automation(root, "procedure", spec)
    message = str(refused.value)
    assert "Step 1 of the procedure (docs/RUNBOOK.md:5)" in message and "instead. Remedy:" in message, message
    assert ".." not in message
    result = generate_automation(root, "procedure", {**spec, "skip_unsafe": True})
    text = result.artifacts[0].text
    assert "github.sha" not in text and "Note the ref" not in text and "Print the commit" not in text
    assert "kubectl rollout restart deploy/app" in text
    assert "do step 1 of docs/RUNBOOK.md (docs/RUNBOOK.md:5) by hand" in text
    assert "do step 2 of docs/RUNBOOK.md (docs/RUNBOOK.md:6) by hand" in text
    skipped = [n for n in result.notes if "was skipped" in n]
    assert [n.split(" (", 1)[0] for n in skipped] == ["Step 1", "Step 2"], result.notes
    assert all(".." not in n for n in skipped)
    assert all(report.ok for report in result.validation), result.validation


@pytest.mark.parametrize("target", ["github-workflow", "shell-script"])
def test_a_runbook_command_with_an_inline_credential_is_refused_in_one_line_and_never_copied(tmp_path, target):
    """The secret is redacted before the command reaches the generator; the refusal names that, on one line per
    command (pydantic's 'For further information visit ...' footer was shown instead), and --skip-unsafe keeps the
    command as a manual step without the secret."""
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    password, token = "Sup3rS3cretPassw0rd!", "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1234"
    (root / "docs" / "deploy.md").write_text(
        "# Deploy\n\n## Steps\n\n"
        f"1. Log in: `docker login -u deploybot -p '{password}' registry.example.com`\n"
        f'2. Start: `curl -H "Authorization: Bearer {token}" https://api.example.com/deploy`\n'
        "3. Roll out: `kubectl rollout restart deploy/app`\n")
    spec = {"procedure": "docs/deploy.md#deploy/steps", "target": target}
    with pytest.raises(InputError) as refused:
        generate_automation(root, "procedure", spec)
    lines = str(refused.value).splitlines()
    assert [line.split(": ", 1)[0].strip() for line in lines[1:3]] == ["docs/deploy.md:5", "docs/deploy.md:6"]
    assert all("holds a redacted secret" in line for line in lines[1:3]), lines
    assert "pydantic" not in str(refused.value) and password not in str(refused.value)
    result = generate_automation(root, "procedure", {**spec, "skip_unsafe": True})
    everything = json.dumps(result.model_dump(mode="json"))
    assert password not in everything and token not in everything and "pydantic" not in everything
    assert "kubectl rollout restart deploy/app" in result.artifacts[0].text
    manual = [line for line in result.artifacts[0].text.splitlines() if "run by hand: docker login" in line]
    assert manual and all("<secret>" in line for line in manual)  # a person sees where the secret goes


def test_spec_for_procedure_returns_an_editable_spec(acme):
    spec = spec_for_procedure(acme, RELEASE, "github-workflow")
    assert spec["kind"] == "github-workflow" and spec["params"][0]["name"] == "version"
    assert generate_automation(acme, "github-workflow", spec).valid


def test_generate_writes_nothing_and_apply_needs_the_reviewed_hash(acme):
    spec = {"name": "lint-all", "description": "Lint", "commands": ["ruff check src tests"]}
    before = git(acme, "status", "--porcelain")
    result = generate_automation(acme, "make-target", spec)
    assert git(acme, "status", "--porcelain") == before
    with pytest.raises(InputError, match="plan_hash"):
        apply_automation(acme, "make-target", spec, "")
    with pytest.raises(InputError, match="does not match"):
        apply_automation(acme, "make-target", spec, "0" * 64)
    applied = apply_automation(acme, "make-target", spec, result.plan.plan_hash)
    assert [c.path for c in applied.applied] == ["Makefile"]
    assert "lint-all: ## Lint\n\truff check src tests\n" in (acme / "Makefile").read_text()
    # The same spec again: the target exists now, so it is refused rather than written twice.
    with pytest.raises(InputError, match="already exists"):
        apply_automation(acme, "make-target", spec, result.plan.plan_hash)
    undo_automation(acme)
    assert git(acme, "status", "--porcelain") == before


def test_a_change_to_the_file_between_review_and_apply_is_refused(acme):
    spec = {"name": "lint-all", "commands": ["ruff check"]}
    result = generate_automation(acme, "make-target", spec)
    with (acme / "Makefile").open("a") as fh:
        fh.write("\n# edited meanwhile\n")
    with pytest.raises(InputError, match="does not match"):
        apply_automation(acme, "make-target", spec, result.plan.plan_hash)


def test_validation_errors_block_apply_unless_forced(acme):
    spec = {"schedule": "0 3 * * *", "command": {"argv": ["/opt/x.sh"]}, "file": "ops/broken-crontab"}
    (acme / "ops" / "broken-crontab").write_text("61 * * * * /opt/bad.sh\n")
    git(acme, "add", "-A")
    result = generate_automation(acme, "crontab-line", spec)
    # The existing line 1 is broken: reported, but as existing content it does not block this change.
    assert result.valid and any("existing content" in f.message for r in result.validation for f in r.findings)
    shell = {"name": "bad", "steps": [{"name": "s", "commands": [{"argv": ["bash", "-c", "x"]}]}]}
    ok = generate_automation(acme, "shell-script", shell)
    assert ok.valid


def test_forced_apply_records_it(acme, monkeypatch):
    from orchestrator_kit.automation import generate as gen_module
    from orchestrator_kit.automation.results import Finding

    real = gen_module.validate_artifacts

    def failing(artifacts):
        reports = real(artifacts)
        bad = Finding(validator="test", severity="error", message="planted", path=reports[0].path, line=1)
        return [reports[0].model_copy(update={"findings": [bad], "ok": False})]

    monkeypatch.setattr(gen_module, "validate_artifacts", failing)
    spec = {"name": "x", "steps": [{"name": "s", "commands": ["echo hi"]}]}
    result = generate_automation(acme, "shell-script", spec)
    assert not result.valid
    with pytest.raises(InputError, match="Validation found 1 error"):
        apply_automation(acme, "shell-script", spec, result.plan.plan_hash)
    assert not (acme / "scripts" / "x.sh").exists()
    applied = apply_automation(acme, "shell-script", spec, result.plan.plan_hash, force=True)
    assert applied.forced and applied.validation_errors == 1 and (acme / "scripts" / "x.sh").exists()


def test_from_opportunity(acme):
    from orchestrator_kit.opportunities import opportunities

    matrix = opportunities(str(acme))
    procedure = next(o for o in matrix.opportunities if o.kind == "manual-procedure" and RELEASE in o.related)
    result = generate_automation(acme, "shell-script", opportunity=procedure.id)
    assert result.artifacts[0].path == "scripts/cutting-a-release.sh" and result.valid
    task = next(o for o in matrix.opportunities if o.kind == "unautomated-task")
    workflow = generate_automation(acme, "github-workflow", opportunity=task.id)
    assert "workflow_dispatch:" in workflow.artifacts[0].text and workflow.valid
    cache = next(o for o in matrix.opportunities if o.kind == "repeated-ci-work" and o.generate_with)
    with pytest.raises(InputError, match="generate ci-cache from it, not github-workflow"):
        generate_automation(acme, "github-workflow", opportunity=cache.id)
    repeated = next(o for o in matrix.opportunities if o.kind == "repeated-ci-work" and not o.generate_with)
    with pytest.raises(InputError, match="is advice only: running a command once"):
        generate_automation(acme, "ci-cache", opportunity=repeated.id)
    with pytest.raises(InputError, match="No opportunity"):
        generate_automation(acme, "github-workflow", opportunity="opp-0000000000")


# ------------------------------------------------------------------ the CLI, as a user runs it


def cli(*args, cwd=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "orchestrator_kit", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, input=stdin)


def test_cli_generate_apply_validate_undo(acme, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: lint-all\ndescription: Lint everything\ncommands:\n  - ruff check src tests\n")
    shown = cli("generate", "make-target", "--spec", str(spec), "--repo", str(acme))
    assert shown.returncode == 0, shown.stderr
    assert "+lint-all: ## Lint everything" in shown.stdout and "Nothing written" in shown.stdout
    assert "lint-all" not in (acme / "Makefile").read_text()
    plan_hash = shown.stdout.split("plan hash: ")[1].split()[0]
    applied = cli("generate", "make-target", "--spec", str(spec), "--repo", str(acme), "--apply",
                  "--plan-hash", plan_hash)
    assert applied.returncode == 0, applied.stderr and "Applied 1 change" in applied.stdout
    checked = cli("validate", "Makefile", "scripts/backup-db.sh", "--repo", str(acme), "--format", "json")
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout)["ok"] is True
    undone = cli("undo", "--repo", str(acme))
    assert undone.returncode == 0 and "Reversed: Makefile (restored" in undone.stdout
    assert "lint-all" not in (acme / "Makefile").read_text()


def test_cli_validate_gate(acme):
    tool("zizmor")
    workflows = cli("validate", ".github/workflows/ci.yml", "--repo", str(acme), "--fail-on", "never")
    assert workflows.returncode == 0 and "unpinned-uses" in workflows.stdout
    stale = cli("generate", "make-target", "--spec", "-", "--repo", str(acme), "--apply", "--plan-hash", "f" * 64,
                stdin="name: x\ncommands: [echo]\n")
    assert stale.returncode == 2 and "Error: The plan hash does not match" in stale.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "make-target", "--spec", "/nonexistent.yaml"], "Cannot read the spec"),
        (["generate", "make-target"], "Give exactly one of"),
        (["generate", "make-target", "--spec", "-"], "not valid YAML or JSON"),
        (["generate", "make-target", "--from-procedure", "x"], "--from-procedure makes"),
        (["validate", "/etc/passwd"], "outside the repository"),
        (["validate", "README.md"], "Cannot tell"),
        (["undo"], "Nothing to undo"),
        (["undo", "--last", "0"], "Invalid value"),
    ],
)
def test_cli_bad_input_gets_a_clear_message(acme, args, message):
    proc = cli(*args, "--repo", str(acme), cwd=acme, stdin="name: [unclosed\n" if "-" in args else "kind: nope\n")
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_apply_without_a_plan_hash_writes_nothing_without_a_person(acme, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: lint-all\ndescription: Lint everything\ncommands:\n  - ruff check src tests\n")
    before = (acme / "Makefile").read_text()
    refused = cli("generate", "make-target", "--spec", str(spec), "--repo", str(acme), "--apply")
    assert refused.returncode == 2 and "not a terminal" in refused.stderr and "--plan-hash " in refused.stderr
    assert (acme / "Makefile").read_text() == before


def test_apply_without_a_plan_hash_asks_at_a_terminal(acme, tmp_path):
    """A pseudo-terminal: the diff is shown, the question asked, and only 'y' writes."""
    import os
    import pty

    spec = tmp_path / "spec.yaml"
    spec.write_text("name: lint-all\ndescription: Lint everything\ncommands:\n  - ruff check src tests\n")
    before = (acme / "Makefile").read_text()

    def run(answer: bytes) -> str:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the CLI on the terminal
            os.execv(sys.executable, [sys.executable, "-m", "orchestrator_kit", "generate", "make-target", "--spec",  # noqa: S606
                                      str(spec), "--repo", str(acme), "--apply"])
        seen = b""
        while b"change(s) to" not in seen:
            chunk = os.read(fd, 4096)
            assert chunk, seen
            seen += chunk
        os.write(fd, answer + b"\r")
        try:
            while chunk := os.read(fd, 4096):
                seen += chunk
        except OSError:
            pass
        os.waitpid(pid, 0)
        return seen.decode(errors="replace")

    declined = run(b"n")
    assert "+lint-all: ## Lint everything" in declined and "Nothing written." in declined
    assert (acme / "Makefile").read_text() == before
    accepted = run(b"y")
    assert "Applied 1 change" in accepted and "lint-all:" in (acme / "Makefile").read_text()


def test_validate_expands_quoted_globs_in_the_repository(acme, tmp_path):
    # Run from a folder without the repository's files, as the README's example does.
    proc = subprocess.run([sys.executable, "-m", "orchestrator_kit", "validate", ".github/workflows/*.yml",
                           "scripts/*.sh", "--repo", str(acme), "--format", "json", "--fail-on", "never"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    paths = sorted(r["path"] for r in json.loads(proc.stdout)["reports"])
    expected = sorted([p.relative_to(acme).as_posix() for p in (acme / ".github" / "workflows").glob("*.yml")]
                      + [p.relative_to(acme).as_posix() for p in (acme / "scripts").glob("*.sh")])
    assert paths == expected and len(paths) >= 3
    none = cli("validate", "nothing/*.yml", "--repo", str(acme))
    assert none.returncode == 2 and "no file in the repository" in none.stderr and "matches 'nothing/*.yml'" in none.stderr


def test_every_remedy_an_error_suggests_has_a_flag(acme, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: test\ndescription: Run the tests\ncommands:\n  - pytest -q\n")
    clash = cli("generate", "make-target", "--spec", str(spec), "--repo", str(acme))
    assert clash.returncode == 2 and "on_conflict: rename" in clash.stderr  # acme's Makefile has `test`
    renamed = cli("generate", "make-target", "--spec", str(spec), "--repo", str(acme), "--on-conflict", "rename")
    assert renamed.returncode == 0, renamed.stderr
    assert "+test-2: ## Run the tests" in renamed.stdout


def test_the_procedure_kind_takes_a_procedure_id(acme):
    proc = cli("generate", "procedure", "--from-procedure", "RELEASING.md#releasing-acme-shop/cutting-a-release",
               "--repo", str(acme))
    assert proc.returncode in (0, 1), proc.stderr
    assert "+++ b/scripts/" in proc.stdout and "plan hash: " in proc.stdout
    missing = cli("generate", "procedure", "--repo", str(acme))
    assert missing.returncode == 2 and "needs --from-procedure ID" in missing.stderr


def test_cli_validate_lists_a_repeated_finding_once_with_its_lines(make_repo):
    """shellcheck reports SC2086 once per unquoted use: the text names it once, with every line (each once)."""
    tool("shellcheck")
    body = "".join(f"echo $A $A{n}\n" for n in range(12))  # lines 3-14: two unquoted uses on each
    root = make_repo({"scripts/x.sh": "#!/bin/bash\nA=1\n" + body})
    proc = cli("validate", "scripts/x.sh", "--repo", str(root))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "SC2086" in line]
    assert lines == ["  info: scripts/x.sh:3,4,5,6,7,8,9,10 (+4 more): shellcheck [SC2086]: Double quote to prevent "
                     "globbing and word splitting."]
    data = json.loads(cli("validate", "scripts/x.sh", "--repo", str(root), "-f", "json").stdout)
    assert sum(f["rule"] == "SC2086" for f in data["reports"][0]["findings"]) == 12  # the JSON keeps each one


@pytest.mark.parametrize("target", ["github-workflow", "shell-script"])
def test_nothing_of_a_skipped_step_reaches_the_file_through_a_parameter_or_a_login(tmp_path, target):
    """A skipped step's example version became a required parameter described by it ('the runbook's example:
    v9.8.7-leak'), and the host it logs in to was named in the next step ('on deploy@leakhost: ...'). Now the
    version comes only from the converted steps, and the next step names the skipped step instead of its host
    (its commands are still a hand step there, never run on the runner)."""
    root = deploy_runbook(
        tmp_path,
        "1. Tag it for ${{ github.actor }}: `git tag v9.8.7-leak`\n"
        "2. Log in as ${{ secrets.USER }}: `ssh deploy@leakhost.example`\n"
        "3. Then `systemctl restart app`\n"
        "4. Roll out: `kubectl rollout restart deploy/app`\n")
    result = generate_automation(root, "procedure", {"procedure": "docs/RUNBOOK.md#deploy/steps", "target": target,
                                                     "skip_unsafe": True})
    text = result.artifacts[0].text
    assert "leak" not in text and "9.8.7" not in text
    assert "on the host step 2 logs in to: systemctl restart app" in text
    assert "kubectl rollout restart deploy/app" in text
    assert not any("version" in note for note in result.notes), result.notes
    assert all(report.ok for report in result.validation), result.validation


def test_a_procedure_id_scan_gives_under_a_long_heading_is_taken(tmp_path):
    from orchestrator_kit import scan

    from ..conftest import git, write_files

    heading = " ".join(["rotate the database credentials"] * 40)  # its slug alone was 1,279 characters
    write_files(tmp_path, {"ops/RUNBOOK.md": f"# {heading}\n1. ssh db1\n2. `sudo systemctl restart db`\n"})
    git(tmp_path, "init", "-q", "-b", "main")
    (procedure,) = scan(tmp_path).procedures
    assert len(procedure.id) <= len("ops/RUNBOOK.md#") + 200
    proc = cli("generate", "procedure", "--from-procedure", procedure.id, "--repo", str(tmp_path))
    assert proc.returncode in (0, 1), proc.stderr
    assert "+++ b/scripts/" in proc.stdout
