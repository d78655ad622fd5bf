"""The command line, run as a user runs it: a real process, real exit codes, real output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_kit.models import Inventory

from .conftest import write_files

WORKFLOW = """\
name: CI
on:
  push:
  schedule:
    - cron: "0 2 * * *"
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make build
  "deploy \\"prod\\"":
    needs: build
    steps:
      - run: make deploy
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator_kit", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.fixture
def repo(make_repo):
    return make_repo({".github/workflows/ci.yml": WORKFLOW, ".github/workflows/bad.yml": "on: [\n"}, git_repo=True)


def test_json_is_a_valid_inventory(repo):
    proc = cli("scan", str(repo), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    inventory = Inventory.model_validate_json(proc.stdout)
    assert [j.id for j in inventory.pipelines[0].jobs] == ["build", 'deploy "prod"']
    assert inventory.schedules[0].expression == "0 2 * * *"
    assert any(d.path == ".github/workflows/bad.yml" for d in inventory.diagnostics)


def test_markdown_has_a_mermaid_flowchart_with_escaped_labels(repo):
    proc = cli("scan", str(repo), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "```mermaid\nflowchart LR\n" in out
    assert 'j1_deploy__prod_["deploy #quot;prod#quot;"]' in out
    assert "j0_build --> j1_deploy__prod_" in out
    assert "| schedule" not in out  # the schedule table has its own header
    assert "## Schedules" in out and "at 02:00 every day" in out
    assert "## Diagnostics" in out


def test_table_is_the_default_and_lists_pipelines_jobs_and_diagnostics(repo):
    proc = cli("scan", str(repo))
    assert proc.returncode == 0, proc.stderr
    for text in ("Pipelines", "Jobs", "Schedules", "Diagnostics", "build", "invalid YAML"):
        assert text in proc.stdout


@pytest.mark.parametrize("fmt", ["json", "markdown", "table"])
def test_output_file(repo, tmp_path, fmt):
    target = tmp_path / f"report.{fmt}"
    proc = cli("scan", str(repo), "--format", fmt, "--output", str(target))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    text = target.read_text()
    assert "build" in text
    if fmt == "json":
        json.loads(text)
    if fmt == "table":
        assert "\x1b[" not in text  # no terminal colour codes in a file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "/definitely/not/here"], "Error: Path '/definitely/not/here' does not exist."),
        (["scan", "--format", "xml", "."], "Invalid value for '--format'"),
        (["scan"], "Missing argument 'PATH'."),
        (["scan", ".", "--max-file-size", "0"], "Invalid value for '--max-file-size'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_and_input_errors_exit_2_without_traceback(args, message):
    proc = cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_scanning_a_file_is_an_input_error(tmp_path):
    write_files(tmp_path, {"Makefile": "all:\n"})
    proc = cli("scan", str(tmp_path / "Makefile"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"Error: Path '{tmp_path / 'Makefile'}' is not a directory."


def test_hostile_settings_files_do_not_end_the_scan(make_repo):
    # tomllib's RecursionError (.orchestrator-kit.toml) and ValueError (pyproject.toml, a 5,000-digit integer) went
    # through the settings read that every scan does: "Internal error ... This is a bug", exit 70
    root = make_repo({".orchestrator-kit.toml": "x = " + "[" * 3000 + "]" * 3000 + "\n",
                      "pyproject.toml": "[project]\nname = 'x'\nversion = " + "9" * 5000 + "\n"})
    proc = cli("scan", str(root), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    inventory = Inventory.model_validate_json(proc.stdout)
    assert [(d.path, d.line, d.reason) for d in inventory.diagnostics] == [
        ("pyproject.toml", 3, "invalid TOML: Integer of more than 4300 digits (at line 3, column 11)")]


def test_file_names_that_are_not_utf8_do_not_break_json_output(make_repo):
    # listed with surrogates, they reached the JSON encoder: "Internal error: PydanticSerializationError", exit 70
    root = make_repo({os.fsdecode(b".github/workflows/caf\xe9.yml"): WORKFLOW,
                      os.fsdecode(b"docs/r\xe9sum\xe9.txt"): "x\n"}, git_repo=True)
    for command in ("scan", "metrics", "tokens"):
        proc = cli(command, str(root), "--format", "json")
        assert proc.returncode == 0, (command, proc.stderr)
        json.loads(proc.stdout)
        assert command == "scan" or "docs/r\ufffdsum\ufffd.txt" in proc.stdout  # the history's spelling too
    inventory = Inventory.model_validate_json(cli("scan", str(root), "--format", "json").stdout)
    assert [p.path for p in inventory.pipelines] == [".github/workflows/caf\ufffd.yml"]


def test_json_escapes_of_lone_surrogates_do_not_break_json_output(make_repo):
    # json.loads keeps "\\ud800" as a lone surrogate, which the JSON encoder refused: "Internal error", exit 70
    root = make_repo({"package.json": r'{"name": "x", "scripts": {"t\ud800": "jest \udc00"}}',
                      "Dockerfile": 'FROM x\nCMD ["echo", "\\ud800"]\n'}, git_repo=True)
    proc = cli("scan", str(root), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    inventory = Inventory.model_validate_json(proc.stdout)
    assert [t.name for t in inventory.tasks if t.path == "package.json"] == ["t\ufffd"]


def test_unwritable_output_is_an_error(repo, tmp_path):
    proc = cli("scan", str(repo), "--format", "json", "--output", str(tmp_path / "missing" / "dir" / "x.json"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: cannot write")


def test_forced_progress_bar_goes_to_stderr(repo):
    proc = cli("scan", str(repo), "--format", "json", "--progress")
    assert proc.returncode == 0
    Inventory.model_validate_json(proc.stdout)  # stdout stays clean for machines
    assert "scanning" in proc.stderr


def test_version():
    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("orchestrator-kit ")


def test_scan_and_help_stay_light():
    """`--help` and `scan` must not import the heavy optional parts (mcp, anthropic, tiktoken)."""
    code = (
        "import sys, orchestrator_kit.cli as c\n"
        "from orchestrator_kit import scan\n"
        "scan('.')\n"
        "heavy = [m for m in ('mcp', 'anthropic', 'tiktoken', 'httpx') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_table_shows_repository_text_that_looks_like_rich_markup(make_repo, tmp_path):
    root = make_repo({"Makefile": "install: ## Install with [dev] extras\n\tpip install -e '.[dev]'\n"})
    report = tmp_path / "report.txt"
    proc = cli("scan", str(root), "--no-metrics", "--no-opportunities", "--output", str(report))
    assert proc.returncode == 0, proc.stderr
    assert "Install with [dev] extras" in report.read_text()
