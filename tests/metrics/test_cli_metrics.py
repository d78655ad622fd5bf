"""`metrics`, `opportunities` and `scan --metrics/--opportunities`: the real CLI, mostly in-process through Typer's
runner (fast), and in a real process for the exit code and the absence of tracebacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator_kit.metrics.models import Metrics, OpportunityMatrix, ScanReport
from orchestrator_kit.models import Inventory
from orchestrator_kit.samples import build_sample_repo

from ..conftest import require_tool

SAMPLE = Path(__file__).resolve().parents[2] / "evals" / "repos" / "acme-shop"


def process(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "orchestrator_kit", *args], capture_output=True, text=True,
                          timeout=120, env=env)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Result:
    """The CLI app in this process (same commands, same output; a fresh Typer runner per call)."""
    from typer.testing import CliRunner

    from orchestrator_kit.cli import app

    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, list(args), prog_name="orchestrator-kit")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    return build_sample_repo(SAMPLE, tmp_path_factory.mktemp("cli") / "acme-shop").path


def test_metrics_json(acme):
    proc = process("metrics", str(acme), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    metrics = Metrics.model_validate_json(proc.stdout)
    # v1.0.1 is a routine patch release: it changes nothing v1.0.0 changed (the reverted cart cache never shipped).
    assert metrics.history.commits == 13 and metrics.history.dora.change_failure.failed == 0
    [routine] = metrics.history.dora.change_failure.not_counted
    assert routine.release == "v1.0.1" and routine.reason.startswith("routine patch release: changes nothing")
    assert metrics.tokens is not None and metrics.tokens.files_counted == 20


def test_metrics_markdown_has_charts_and_formulas(acme):
    proc = cli("metrics", str(acme), "--format", "markdown", "--no-tokens")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("```mermaid\nxychart-beta") == 2
    assert 'bar [3, 2, 4, 0, 1, 1, 1, 0, 1]' in out  # commits per week W32..W40 of history.yaml
    assert "| Change failure rate | 0% (0 of 3) |" in out
    assert "Not counted as failures: `v1.0.1` (routine patch release" in out
    assert "## Token budget" not in out


def test_metrics_table_options(acme):
    proc = cli("metrics", str(acme), "--since", "2026-09-01", "--max-commits", "3", "--path", ".github",
               "--no-renames", "--no-tokens", "--top", "5")
    assert proc.returncode == 0, proc.stderr
    assert "Git history: 2 commits" in proc.stdout  # nightly.yml (09-01) and release.yml (09-15)


def test_opportunities_json_and_table(acme, tmp_path):
    proc = cli("opportunities", str(acme), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    matrix = OpportunityMatrix.model_validate_json(proc.stdout)
    assert len(matrix.opportunities) == 7
    target = tmp_path / "opps.txt"
    proc = cli("opportunities", str(acme), "--output", str(target))
    assert proc.returncode == 0 and proc.stdout == ""
    text = target.read_text()
    assert "Cache dependencies in 'CI'" in text and "pip install -e .[dev]" in text  # `[dev]` is not rich markup
    assert "\x1b[" not in text


def test_scan_adds_the_summary_and_the_matrix_to_people_formats(acme):
    proc = cli("scan", str(acme), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert "## Git history" in proc.stdout and "## Automation opportunities" in proc.stdout
    assert "xychart-beta" in proc.stdout and "flowchart LR" in proc.stdout
    table = cli("scan", str(acme))
    assert "Automation opportunities" in table.stdout and "DORA proxies" in table.stdout
    bare = cli("scan", str(acme), "--format", "markdown", "--no-metrics", "--no-opportunities")
    assert "## Git history" not in bare.stdout and "## Automation opportunities" not in bare.stdout


def test_scan_json_stays_an_inventory_unless_asked(acme):
    plain = cli("scan", str(acme), "--format", "json")
    Inventory.model_validate_json(plain.stdout)
    asked = cli("scan", str(acme), "--format", "json", "--metrics", "--opportunities")
    report = ScanReport.model_validate_json(asked.stdout)
    assert report.metrics is not None and report.metrics.tokens is None  # scan never loads tiktoken
    assert report.opportunities is not None and report.inventory.pipelines
    only = ScanReport.model_validate_json(cli("scan", str(acme), "--format", "json", "--opportunities").stdout)
    assert only.metrics is None and only.opportunities is not None


def test_scan_of_a_folder_without_git_still_works(tmp_path):
    (tmp_path / "Makefile").write_text("deploy:\n\tkubectl apply -f k8s/\n")
    proc = cli("scan", str(tmp_path), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert "No git history was read: not a git work tree" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["metrics", "/definitely/not/here"], "Error: Path '/definitely/not/here' does not exist."),
        (["metrics", ".", "--since", "someday"], "Error: --since 'someday' is neither a date"),
        (["metrics", ".", "--max-commits", "0"], "Invalid value for '--max-commits'"),
        (["metrics", ".", "--path", "../x"], "is outside the repository"),
        (["metrics", ".", "--format", "xml"], "Invalid value for '--format'"),
        (["opportunities", "/definitely/not/here"], "Error: Path '/definitely/not/here' does not exist."),
        (["opportunities"], "Missing argument 'PATH'."),
    ],
)
def test_bad_input_exits_2_without_traceback(args, message):
    proc = cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_a_real_process_exits_2_without_traceback():
    proc = process("metrics", ".", "--since", "someday")
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: --since 'someday' is neither a date")
    assert "Traceback" not in proc.stderr + proc.stdout


def test_unwritable_output(acme, tmp_path):
    proc = cli("opportunities", str(acme), "--format", "json", "--output", str(tmp_path / "no" / "dir" / "x.json"))
    assert proc.returncode == 2 and proc.stderr.startswith("Error: cannot write")


@pytest.mark.external_tool("mmdc")
def test_the_charts_render_with_mermaid(acme, tmp_path):
    mmdc = require_tool("mmdc", os.environ.get("MMDC"))
    config = os.environ.get("MMDC_PUPPETEER_CONFIG")
    out = cli("metrics", str(acme), "--format", "markdown", "--no-tokens").stdout
    charts = re.findall(r"```mermaid\n(xychart-beta.*?)```", out, re.S)
    assert len(charts) == 2
    source = tmp_path / "charts.md"  # one mmdc run (one browser) renders every block of a Markdown file
    source.write_text("".join(f"```mermaid\n{chart}```\n\n" for chart in charts))
    args = [mmdc, "-i", str(source), "-o", str(tmp_path / "out.md"), "-q"]
    if config:
        args[1:1] = ["-p", config]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    svgs = sorted(tmp_path.glob("out-*.svg"))
    assert len(svgs) == 2 and all("<svg" in svg.read_text() for svg in svgs)


def test_opportunities_json_is_deterministic(acme):
    first = json.loads(cli("opportunities", str(acme), "--format", "json").stdout)
    second = json.loads(cli("opportunities", str(acme), "--format", "json").stdout)
    assert first == second


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_window_without_commits_says_so_instead_of_none(acme, fmt):
    """`--path` that no commit touched: the history is read but empty, and no date is known to print."""
    result = cli("metrics", str(acme), "--path", "no/such/folder", "--no-tokens", "-f", fmt)
    assert result.returncode == 0, result.stderr
    assert "None" not in result.stdout
    assert "0 commits" in result.stdout and "(none in the window read: --since, --max-commits, --path)" in result.stdout


# ---------------------------------------------------------------- metrics --only: one part, no other work


def refuse(name: str):
    def refused(*args, **kwargs):
        raise AssertionError(f"{name} ran, but the part it serves was not asked for")
    return refused


@pytest.fixture(scope="module")
def full(acme):
    proc = cli("metrics", str(acme), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return Metrics.model_validate_json(proc.stdout)


def test_only_history_runs_no_scan_and_no_token_count(acme, full, monkeypatch):
    monkeypatch.setattr("orchestrator_kit.discovery.discover", refuse("the scan"))
    monkeypatch.setattr("orchestrator_kit.metrics.tokens.token_report", refuse("the token count"))
    proc = cli("metrics", str(acme), "--only", "history", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    metrics = Metrics.model_validate_json(proc.stdout)
    assert json.loads(proc.stdout)["pipelines"] is None and json.loads(proc.stdout)["tokens"] is None  # not zeros
    assert metrics.history is not None and full.history is not None
    assert metrics.history.commits == full.history.commits == 13
    assert metrics.history.churn == full.history.churn and metrics.history.hotspots == full.history.hotspots
    assert metrics.history.pipeline_runs == []
    parts = {n.part for n in metrics.not_computed}
    assert {"pipelines", "tokens", "history.dora.corroborated_by", "history.pipeline_runs"} <= parts
    assert any("release tags only" in note for note in metrics.history.dora.deployment_frequency.notes)


def test_only_pipelines_runs_the_ci_detectors_and_nothing_else(acme, full, monkeypatch):
    from orchestrator_kit import discovery
    from orchestrator_kit.discovery._coverage import CI_DETECTORS

    real = discovery.discover
    asked: list[set[str] | None] = []

    def discover(workspace, *, only=None, **kwargs):
        asked.append(only)
        return real(workspace, only=only, **kwargs)

    monkeypatch.setattr("orchestrator_kit.discovery.discover", discover)
    monkeypatch.setattr("orchestrator_kit.metrics.history.history_metrics", refuse("the history pass"))
    monkeypatch.setattr("orchestrator_kit.metrics.tokens.token_report", refuse("the token count"))
    proc = cli("metrics", str(acme), "--only", "pipelines", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    metrics = Metrics.model_validate_json(proc.stdout)
    assert asked == [set(CI_DETECTORS)] and "github-actions" in CI_DETECTORS and "make" not in CI_DETECTORS
    assert metrics.history is None and metrics.tokens is None and metrics.pipelines is not None
    assert full.pipelines is not None and metrics.pipelines.pipelines == full.pipelines.pipelines
    assert metrics.pipelines.deploy_signals == full.pipelines.deploy_signals
    assert {"history", "tokens", "pipelines.procedure_duplicates"} <= {n.part for n in metrics.not_computed}


def test_only_tokens_reads_no_history_and_runs_no_scan(acme, full, monkeypatch):
    monkeypatch.setattr("orchestrator_kit.discovery.discover", refuse("the scan"))
    monkeypatch.setattr("orchestrator_kit.metrics.history.history_metrics", refuse("the history pass"))
    proc = cli("metrics", str(acme), "--only", "tokens", "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert "## Token budget" in proc.stdout and "## Git history" not in proc.stdout
    assert "## Pipeline metrics" not in proc.stdout
    assert "- history: not asked for (--only tokens)" in proc.stdout
    assert "- pipelines: not asked for (--only tokens)" in proc.stdout


def test_only_table_names_what_was_not_computed(acme):
    proc = cli("metrics", str(acme), "--only", "history", "--only", "tokens")
    assert proc.returncode == 0, proc.stderr
    assert "Not computed: pipelines: not asked for (--only history --only tokens)" in proc.stdout
    assert "Pipelines (estimated" not in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--only", "deploys"), "'deploys' is not one of 'history', 'pipelines', 'tokens'"),
    (("--only", ""), "is not one of"),
    (("--only", "tokens", "--no-tokens"), "--only tokens and --no-tokens contradict each other"),
    (("--only", "history" * 2000), "is not one of"),
])
def test_bad_only_values_are_usage_errors(acme, args, message):
    proc = cli("metrics", str(acme), *args)
    assert proc.returncode == 2
    assert message in proc.stderr.replace("\n", " ") or message in proc.stdout.replace("\n", " ")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("parts", [[], ["bogus"], ["history", "opportunities"]])
def test_measure_refuses_unknown_or_no_parts(acme, parts):
    from orchestrator_kit.assessment import measure
    from orchestrator_kit.errors import InputError

    with pytest.raises(InputError, match="parts must be one or more of history, pipelines, tokens"):
        measure(acme, parts=parts)
