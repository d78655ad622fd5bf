"""`orchestrator-kit eval tools`, run as a user runs it: real sample builds, real scans, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator_kit import discovery
from orchestrator_kit.cli import app
from orchestrator_kit.samples import build_sample_repo

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "evals" / "cases" / "acme-shop.yaml"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator_kit", "eval", "tools", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_a_sample_scores_and_passes_as_json_table_and_markdown(tmp_path):
    done = cli("--cases", str(ACME), "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "pass"
    assert result["repos"][0]["repo"] == "acme-shop" and result["repos"][0]["discovery"]["recall"] == 1.0
    table = cli("--cases", str(ACME), "-o", str(tmp_path / "t.txt"))
    assert table.returncode == 0 and "acme-shop" in (tmp_path / "t.txt").read_text()
    markdown = cli("--cases", str(ACME), "-f", "markdown")
    assert "| acme-shop | 1.00/1.00 |" in markdown.stdout


def test_a_broken_detector_fails_the_suite(monkeypatch):
    """The GitHub Actions detector, broken to drop the last job of each workflow it reads, must make `eval tools`
    exit 1 and name the misses."""
    from orchestrator_kit.discovery import base, load_detectors

    load_detectors()
    index = next(i for i, d in enumerate(base.DETECTORS) if d.name == "github-actions")
    real = base.DETECTORS[index]

    def drop_last_job(ctx, file):  # type: ignore[no-untyped-def]
        before = len(ctx.findings.pipelines)
        real.detect(ctx, file)
        for pipeline in ctx.findings.pipelines[before:]:
            del pipeline.jobs[-1:]

    broken = list(base.DETECTORS)
    broken[index] = replace(real, detect=drop_last_job)
    monkeypatch.setattr(base, "DETECTORS", broken)
    monkeypatch.setattr("orchestrator_kit.discovery.DETECTORS", broken)
    result = CliRunner().invoke(app, ["eval", "tools", "--cases", str(ACME), "-f", "markdown"])
    assert result.exit_code == 1, result.output
    assert "acme-shop: job recall 0.50 < 0.95: FAIL" in result.output
    assert "| acme-shop | 0.9" in result.output and "FAIL |" in result.output


def test_known_failures_are_shown_and_do_not_fail(tmp_path, monkeypatch):
    real = discovery.discover
    monkeypatch.setattr(discovery, "discover",
                        lambda *a, **k: real(*a, **k).model_copy(update={"infrastructure": []}))
    limits = tmp_path / "thresholds.yaml"
    limits.write_text("known_failing:\n  - {repo: acme-shop, check: infrastructure, reason: 'issue 99'}\n")
    result = CliRunner().invoke(app, ["eval", "tools", "--cases", str(ACME), "--thresholds", str(limits),
                                      "-f", "markdown"])
    assert result.exit_code == 0, result.output
    assert "acme-shop: infrastructure recall 0.00 < 0.95: known failing (issue 99)" in result.output


def test_a_users_own_checkout_with_its_truth(tmp_path):
    built = build_sample_repo(ROOT / "evals" / "repos" / "acme-shop", tmp_path / "mine")
    done = cli("--repo", str(built.path), "--truth", str(ACME), "-f", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["repos"][0]["opportunities"]["recall"] == 1.0


@pytest.mark.parametrize(("args", "message"), [
    (["--repo", "."], "--repo and --truth go together"),
    (["--repo", ".", "--truth", "x.yaml", "--cases", "y"], "either --cases or --repo/--truth"),
    (["--cases", "no/such/case.yaml"], "neither a truth file nor a folder"),
    (["--repo", "no-such-dir", "--truth", str(ACME)], "is not a directory"),
    (["--cases", str(ACME), "--thresholds", "missing.yaml"], "cannot be read"),
])
def test_bad_arguments_are_one_error_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["eval", "tools", *args])
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and message in result.output


@pytest.mark.parametrize(("text", "message"), [
    ("recall: 2\n", "recall: Input should be less than or equal to 1"),
    ("known_failing: [{repo: a, check: vibes, reason: r}]\n", "unknown check(s) vibes"),
    ("[1, 2\n", "invalid YAML"),
])
def test_bad_thresholds_files(tmp_path, text, message):
    (tmp_path / "t.yaml").write_text(text)
    result = CliRunner().invoke(app, ["eval", "tools", "--cases", str(ACME), "--thresholds", str(tmp_path / "t.yaml")])
    assert result.exit_code == 2 and message in result.output


def test_a_truth_whose_sample_is_missing(tmp_path):
    (tmp_path / "ghost.yaml").write_text("repo: ghost\nsample: ../../nowhere\n")
    result = CliRunner().invoke(app, ["eval", "tools", "--cases", str(tmp_path / "ghost.yaml")])
    assert result.exit_code == 2 and "is not a sample repository" in result.output


def test_a_thresholds_file_whose_known_failures_were_all_removed(tmp_path):
    (tmp_path / "t.yaml").write_text("recall: 0.95\nknown_failing:\n")
    result = CliRunner().invoke(app, ["eval", "tools", "--cases", str(ACME), "--thresholds", str(tmp_path / "t.yaml"),
                                      "-f", "json"])
    assert result.exit_code == 0, result.output
