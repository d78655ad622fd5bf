"""Validators on existing and broken files: structured findings with the right lines, nothing executed."""

from __future__ import annotations

import pytest

from orchestrator_kit.automation import validate_automation
from orchestrator_kit.automation.validate import detect_kind, validate_text
from orchestrator_kit.errors import ConfinementError, InputError, OrchestratorError

from .conftest import tool


def lines_of(report, validator=None, severity=None):
    return [(f.line, f.rule) for f in report.findings
            if (validator is None or f.validator == validator) and (severity is None or f.severity == severity)]


@pytest.mark.parametrize(
    ("path", "kind"),
    [(".github/workflows/ci.yml", "github-workflow"), (".gitlab-ci.yml", "gitlab-ci"), ("ci/.gitlab/x.yml", "gitlab-ci"),
     ("Makefile", "makefile"), ("build/rules.mk", "makefile"), ("justfile", "justfile"), ("x.just", "justfile"),
     ("scripts/a.sh", "shell"), ("ops/crontab", "crontab"), ("etc/cron.d/backup", "crontab"),
     ("ops/a.service", "systemd-unit"), ("ops/a.timer", "systemd-unit"), (".pre-commit-config.yaml", "pre-commit-config"),
     ("README.md", None), ("workflows/ci.yml", None)],
)
def test_detect_kind(path, kind):
    assert detect_kind(path) == kind


def test_detect_kind_reads_a_shebang():
    assert detect_kind("bin/deploy", "#!/usr/bin/env bash\necho hi\n") == "shell"


def test_invalid_yaml_reports_the_parser_line():
    report = validate_text(".github/workflows/x.yml", "name: x\non: push\njobs:\n  a: [\n")
    assert not report.ok
    assert report.findings[0].validator == "yaml" and report.findings[0].line == 5


def test_duplicate_keys_are_errors_with_their_line():
    text = "name: x\non: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a}]\n  a:\n    runs-on: y\n"
    report = validate_text(".github/workflows/x.yml", text)
    assert (7, "duplicate-key") in lines_of(report, "yaml", "error")


def test_github_schema_errors_point_at_the_job_line():
    tool("check-jsonschema")
    text = ("name: x\n"
            "on: push\n"
            "permissions: {}\n"
            "jobs:\n"
            "  good:\n"
            "    runs-on: ubuntu-latest\n"
            "    steps:\n"
            "      - run: echo ok\n"
            "  bad:\n"
            "    steps:\n"
            "      - run: 3\n")
    report = validate_text(".github/workflows/x.yml", text)
    schema = [f for f in report.findings if f.validator == "schema"]
    assert schema and all(f.severity == "error" for f in schema)
    assert {f.line for f in schema} <= {9, 10, 11}  # inside job "bad"


def test_zizmor_findings_on_the_sample_ci_workflow(acme_template):
    tool("zizmor")
    result = validate_automation(acme_template, [".github/workflows/ci.yml"])
    report = result.reports[0]
    # acme's ci.yml uses actions/checkout@v4 on lines 20, 35, 46, 55 and setup-python@v5 on 21, 36 (counted by hand).
    assert sorted(line for line, rule in lines_of(report, "zizmor", "error") if rule == "unpinned-uses") == [
        20, 21, 35, 36, 46, 55]
    assert sorted(line for line, rule in lines_of(report, "zizmor", "warning") if rule == "artipacked") == [
        20, 35, 46, 55]
    assert not result.ok and result.errors == 6


def test_shellcheck_runs_on_run_blocks_with_workflow_lines():
    tool("shellcheck")
    text = ("name: x\n"
            "on: push\n"
            "permissions: {}\n"
            "jobs:\n"
            "  a:\n"
            "    runs-on: ubuntu-latest\n"
            "    steps:\n"
            "      - run: |\n"
            "          echo start\n"
            "          rm -rf $DIR/build\n"
            "      - run: echo ${{ github.sha }} $X\n")  # has an expression: skipped
    report = validate_text(".github/workflows/x.yml", text)
    assert (10, "SC2086") in lines_of(report, "shellcheck")
    assert all(line != 11 for line, _ in lines_of(report, "shellcheck"))


def test_gitlab_schema_error():
    tool("check-jsonschema")
    report = validate_text(".gitlab-ci.yml", "stages: [test]\nbuild:\n  stage: test\n  script: 42\n")
    assert not report.ok and any(f.validator == "schema" and f.line in (2, 4) for f in report.findings)


def test_precommit_local_hook_needs_an_entry():
    tool("check-jsonschema")
    bad = "repos:\n  - repo: local\n    hooks:\n      - id: x\n        name: x\n        language: system\n"
    report = validate_text(".pre-commit-config.yaml", bad)
    assert not report.ok and any("entry" in f.message for f in report.findings)
    good = bad + "        entry: ruff check\n"
    assert validate_text(".pre-commit-config.yaml", good).ok


def test_shell_syntax_error_and_shellcheck_warning_lines():
    tool("shellcheck")
    report = validate_text("s.sh", "#!/usr/bin/env bash\nset -eu\nif true; then\n  echo $1\n")
    assert not report.ok
    assert any(f.validator == "bash" and f.severity == "error" for f in report.findings)
    warn = validate_text("s.sh", "#!/usr/bin/env bash\nx=1\ncd /tmp\necho $1 $x\n")
    assert (3, "SC2164") in lines_of(warn, "shellcheck", "warning")
    assert (4, "SC2086") in lines_of(warn, "shellcheck", "info")


def test_make_reports_the_line_of_a_syntax_error():
    report = validate_text("Makefile", "all:\n\techo ok\n\nbroken\n    echo no tab\n")
    assert not report.ok
    assert any(f.validator == "make" and f.line == 4 and "separator" in f.message for f in report.findings)


def test_make_is_never_run_outside_a_sandbox(monkeypatch):
    from orchestrator_kit.automation import sandbox

    monkeypatch.setattr(sandbox, "_probe", (None, "no sandbox: bubblewrap (bwrap) is not installed"))
    report = validate_text("Makefile", "all:\n\techo ok\n\nbroken\n", make_target="all")
    assert report.checked == ["make (static)"]
    assert [(s.validator, "bwrap" in s.reason) for s in report.skipped] == [("make -n", True)]
    assert [(f.line, f.message) for f in report.findings] == [(4, "missing separator")]


def test_just_parse_error_line():
    tool("just")
    report = validate_text("justfile", "a:\n\techo a\n b\n")
    assert not report.ok and report.findings[0].line == 3
    assert validate_text("justfile", "x := `touch pwned`\nbuild:\n    echo {{x}}\n").ok


def test_crontab_lines():
    tool("shellcheck")
    text = ("# comment\n"
            "MAILTO=ops@example.com\n"
            "0 3 * * * /opt/backup.sh\n"
            "61 * * * * /opt/x.sh\n"
            "5 4 * * * date +%Y-%m-%d > /tmp/x\n"
            "@daily /opt/y.sh\n"
            "not a line\n")
    report = validate_text("ops/crontab", text)
    assert (4, None) in lines_of(report, "cron", "error")
    assert (5, None) in lines_of(report, "cron", "warning")
    assert (7, None) in lines_of(report, "cron", "error")
    assert not any(f.line in (3, 6) for f in report.findings)


def test_systemd_checks():
    tool("systemd-analyze")
    timer = "[Unit]\nDescription=x\n[Timer]\nOnCalendar=every tuesday\nUnit=x.service\n"
    report = validate_text("ops/x.timer", timer)
    assert (4, None) in lines_of(report, "systemd", "error")
    service = "[Unit]\nDescription=x\n[Service]\nType=oneshot\n"
    assert "ExecStart" in validate_text("ops/x.service", service).findings[0].message


def test_validate_automation_refuses_paths_outside_and_unknown_kinds(acme_template):
    with pytest.raises(ConfinementError):
        validate_automation(acme_template, ["../x.yml"])
    with pytest.raises(ConfinementError):
        validate_automation(acme_template, ["/etc/passwd"])
    with pytest.raises(InputError, match="Cannot tell"):
        validate_automation(acme_template, ["README.md"])
    with pytest.raises(InputError):
        validate_automation(acme_template, [])


def test_validate_automation_on_binary_and_huge_files(tmp_path):
    (tmp_path / "bin.sh").write_bytes(b"#!/bin/sh\n\x00\x01")
    (tmp_path / "huge.sh").write_text("#!/bin/sh\n" + "echo x\n" * 400_000)
    for name in ("bin.sh", "huge.sh"):
        with pytest.raises(OrchestratorError):
            validate_automation(tmp_path, [name])


def test_findings_are_capped_with_a_total():
    text = "#!/usr/bin/env bash\n" + "".join(f"echo $v{i}\n" for i in range(300))
    report = validate_text("many.sh", text)
    if "shellcheck" not in report.checked:
        pytest.skip("shellcheck missing")
    # Two findings a line: SC2154 ($vN is never assigned) and SC2086 (unquoted): 600, of which 200 are kept.
    assert report.findings_total == 600 and len(report.findings) == 200


def test_the_repositorys_own_zizmor_config_applies(tmp_path):
    """A team that allows ref-pinned actions in its zizmor.yml gets no unpinned-uses error for `@v4` (an info line
    says its policy allowed it); without the file the same workflow fails. The config is data: copied beside the
    scratch copy and passed explicitly, never discovered."""
    tool("zizmor")
    workflow = (
        "name: ci\non: push\npermissions: {}\njobs:\n  test:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
        "    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n"
        "      - run: echo ok\n"
    )
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(workflow)
    strict = validate_automation(tmp_path, [".github/workflows/ci.yml"])
    assert any(f.rule == "unpinned-uses" for r in strict.reports for f in r.findings)
    (tmp_path / "zizmor.yml").write_text(
        "rules:\n  unpinned-uses:\n    config:\n      policies:\n        actions/*: ref-pin\n")
    relaxed = validate_automation(tmp_path, [".github/workflows/ci.yml"])
    (report,) = relaxed.reports
    assert "zizmor policy: the repository's zizmor.yml" in report.checked and report.ok, report.findings
    # Nothing is silenced: what the team's policy allows stays visible as info.
    (allowed,) = [f for f in report.findings if f.rule == "unpinned-uses"]
    assert allowed.severity == "info" and allowed.message.startswith("allowed by the repository's zizmor.yml: ")
