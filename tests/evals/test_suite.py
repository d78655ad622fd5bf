"""The shipped suite: every sample builds deterministically, every case meets its thresholds (known failures
aside), and README.md shows the current table."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator_kit.evals.readme import current_block, table_block
from orchestrator_kit.evals.suite import SuiteResult, load_thresholds, run_suite
from orchestrator_kit.samples import build_sample_repo

from ..conftest import git

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(p for p in (ROOT / "evals" / "repos").iterdir() if (p / "history.yaml").is_file())


@pytest.fixture(scope="module")
def suite() -> SuiteResult:
    return run_suite([ROOT / "evals" / "cases"], load_thresholds(ROOT / "evals" / "thresholds.yaml"))


def test_every_sample_has_a_truth_file_and_every_truth_file_a_sample():
    cases = {p.stem for p in (ROOT / "evals" / "cases").glob("*.yaml")}
    assert cases == {p.name for p in SAMPLES}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_builds_to_the_same_commits_twice(sample, tmp_path):
    first = build_sample_repo(sample, tmp_path / "one")
    second = build_sample_repo(sample, tmp_path / "two")
    refs = git(first.path, "show-ref", "--head")
    assert refs == git(second.path, "show-ref", "--head") and refs.strip()
    assert git(first.path, "status", "--porcelain") == ""


def test_the_suite_meets_its_thresholds(suite):
    unexpected = [f"{f.repo}: {f.what}" for f in suite.failures if f.known is None]
    assert unexpected == [] and suite.status == "pass"


def test_every_known_failure_still_fails(suite):
    """A known failure the scanner has since fixed must leave the thresholds file (so the README stays true)."""
    failing = {(f.repo, f.check) for f in suite.failures}
    stale = [f"{k.repo}/{k.check}" for k in suite.thresholds.known_failing if (k.repo, k.check) not in failing]
    assert stale == [], "remove these from evals/thresholds.yaml: " + ", ".join(stale)


def test_readme_shows_the_current_table(suite):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert current_block(readme) == table_block(suite), "run: python -m orchestrator_kit.evals.readme README.md"
