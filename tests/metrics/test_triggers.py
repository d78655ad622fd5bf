"""Run counts from what triggers each pipeline, on a history scripted here. Every expected number is worked out
by hand from the table below and the rules in metrics/triggers.py's docstring.

    m1  2026-03-02 main     .github/workflows/*, src/a.py, README.md
    m2  2026-03-03 main     docs/guide.md
    m3  2026-03-03 main     src/a.py                       subject "Add b (#12)": a squash-merged pull request
    m4  2026-03-05 main     README.md
    f1  2026-03-06 feature  src/b.py
    f2  2026-03-07 feature  docs/b.md
    m5  2026-03-09 main     merge feature (changes against main: src/b.py, docs/b.md)
    r1  2026-03-10 release/1.0 (from m5)  src/a.py        tag v1.0.0, tag docs-snapshot
    m6  2026-04-20 main     docs/x.md
"""

from __future__ import annotations

import pytest

from orchestrator_kit import scan
from orchestrator_kit.metrics import collect_metrics
from orchestrator_kit.metrics.triggers import condition_reach, matches, paths_selected

from ..conftest import git
from .conftest import Scripted

WORKFLOWS = {
    ".github/workflows/docs.yml": """\
        name: Docs
        on:
          push:
            branches: [main]
            paths: ['docs/**']
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: echo docs
        """,
    ".github/workflows/ci.yml": """\
        name: CI
        on:
          push:
            branches: [main, 'release/**']
            paths-ignore: ['docs/**', '*.md']
          pull_request:
            branches: [main]
          workflow_dispatch:
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - run: pytest
        """,
    ".github/workflows/release.yml": """\
        name: Release
        on:
          push:
            tags: ['v*']
        jobs:
          publish:
            runs-on: ubuntu-latest
            steps:
              - run: echo publish
        """,
    ".github/workflows/deploy.yml": """\
        name: Deploy
        on: [push, pull_request]
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - run: pytest
          production:
            needs: test
            if: github.ref == 'refs/heads/main'
            environment: production
            runs-on: ubuntu-latest
            steps:
              - run: make deploy
        """,
    ".github/workflows/caller.yml": """\
        name: Caller
        on:
          push:
            branches: [main]
        jobs:
          call:
            uses: ./.github/workflows/reusable.yml
        """,
    ".github/workflows/reusable.yml": """\
        name: Reusable
        on: workflow_call
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: make build
        """,
    ".github/workflows/monthly.yml": """\
        name: Monthly
        on:
          schedule:
            - cron: '0 3 1 * 1'
        jobs:
          sweep:
            runs-on: ubuntu-latest
            steps:
              - run: echo sweep
        """,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    repo = Scripted(tmp_path_factory.mktemp("triggers") / "repo")
    repo.commit("m1", "2026-03-02T10:00:00+00:00", files={**WORKFLOWS, "src/a.py": "a = 1\n", "README.md": "# x\n"})
    repo.commit("m2", "2026-03-03T10:00:00+00:00", files={"docs/guide.md": "guide\n"})
    repo.commit("m3", "2026-03-03T12:00:00+00:00", message="Add b (#12)", append={"src/a.py": "b = 2\n"})
    repo.commit("m4", "2026-03-05T10:00:00+00:00", append={"README.md": "more\n"})
    git(repo.root, "checkout", "-q", "-b", "feature")
    repo.commit("f1", "2026-03-06T10:00:00+00:00", files={"src/b.py": "b\n"})
    repo.commit("f2", "2026-03-07T10:00:00+00:00", files={"docs/b.md": "b\n"})
    git(repo.root, "checkout", "-q", "main")
    repo.merge("m5", "feature", "2026-03-09T10:00:00+00:00")
    git(repo.root, "checkout", "-q", "-b", "release/1.0")
    repo.commit("r1", "2026-03-10T10:00:00+00:00", append={"src/a.py": "c = 3\n"})
    repo.tag("v1.0.0", "r1")
    repo.tag("docs-snapshot", "r1")
    git(repo.root, "checkout", "-q", "main")
    repo.commit("m6", "2026-04-20T10:00:00+00:00", files={"docs/x.md": "x\n"})
    metrics = collect_metrics(repo.root, inventory=scan(repo.root), tokens=False)
    return {r.pipeline.rsplit(":", 1)[-1]: r for r in metrics.history.pipeline_runs}


def trigger(runs, workflow, event):
    return next(t for t in runs[f".github/workflows/{workflow}"].triggers if t.event == event)


def test_push_with_a_branch_and_a_path_filter(runs):
    docs = trigger(runs, "docs.yml", "push")
    # First-parent commits of main touching docs/**: m2, m5 (the merge brings docs/b.md), m6.
    assert (docs.low, docs.expected, docs.high) == (3, 3, 4)  # high adds f2, reachable from main
    assert docs.measure == "git" and not docs.per_year
    assert docs.window_days == 49.0  # 2026-03-02 10:00 .. 2026-04-20 10:00
    assert "3 first-parent commits on matching branches (main)" in docs.basis


def test_push_with_branch_globs_and_paths_ignore(runs):
    ci = trigger(runs, "ci.yml", "push")
    # main: m1, m3, m5 (m2, m4, m6 only touch ignored paths); release/1.0 adds r1. Days: 03-02, 03-03, 03-09, 03-10.
    # Reachable from both branches and not all ignored: m1, m3, f1, m5, r1.
    assert (ci.low, ci.expected, ci.high) == (4, 4, 5)
    assert "main, release/1.0" in ci.basis


def test_pull_requests_seen_through_their_merges(runs):
    pr = trigger(runs, "ci.yml", "pull_request")
    # main's first-parent chain: one merge bringing f1 and f2, the squash-merged m3, and m1 m2 m4 m6 (pushed
    # directly, as far as git can tell: only in the high bound).
    assert (pr.low, pr.expected, pr.high) == (2, 3, 7)


def test_tags_manual_dispatch_and_cron(runs):
    release = trigger(runs, "release.yml", "push")
    assert (release.low, release.expected, release.high) == (1, 1, 1)  # v1.0.0; docs-snapshot does not match v*
    manual = trigger(runs, "ci.yml", "workflow_dispatch")
    assert manual.measure == "unknown" and manual.expected is None
    monthly = trigger(runs, "monthly.yml", "schedule")
    # The 1st of a month OR a Monday, in a 365-day year starting on a Monday: 53 Mondays + 12 firsts - 2 firsts
    # that are Mondays (January and October).
    assert monthly.measure == "cron" and monthly.per_year and monthly.expected == 63
    assert monthly.basis.endswith("(day of month and day of week both restricted: either one matching fires it)")


def test_a_gate_counts_only_the_runs_that_reach_it(runs):
    deploy = runs[".github/workflows/deploy.yml"]
    push = next(t for t in deploy.triggers if t.event == "push")
    # Every branch: main's six first-parent commits, plus f1 f2 (feature) and r1 (release/1.0).
    assert push.expected == 9
    [gate] = deploy.gates
    assert gate.job == "production" and gate.condition == "github.ref == 'refs/heads/main'"
    # Only pushes to main reach it (a pull request's ref is never refs/heads/main): m1..m6.
    assert [(t.event, t.expected) for t in gate.triggers] == [("push", 6)]
    assert "branches ['main']" in gate.basis


def test_a_reusable_workflow_runs_as_often_as_its_callers(runs):
    from orchestrator_kit.config import OpportunitySettings
    from orchestrator_kit.opportunities.frequency import Rates, pipeline_frequency

    caller, reusable = runs[".github/workflows/caller.yml"], runs[".github/workflows/reusable.yml"]
    assert caller.only_calls_others and not reusable.only_calls_others
    assert reusable.called_by == [caller.pipeline]
    assert [t.measure for t in reusable.triggers] == ["called"]
    by_id = {r.pipeline: r for r in runs.values()}
    settings = OpportunitySettings()
    rates = Rates(None, {}, None, None)
    called = pipeline_frequency(reusable.pipeline, by_id, rates, settings)
    # The caller runs on main's six first-parent commits in 49 days.
    assert called.value == round(6 * 365 / 49, 2) and not called.assumption
    assert called.basis == f"called by {caller.pipeline}: {round(6 * 365 / 49, 2):g}/year"


@pytest.mark.parametrize(("condition", "branches", "tags", "kinds"), [
    (None, None, False, None),
    ("github.ref == 'refs/heads/main'", ("main",), False, {"push", "schedule", "manual"}),
    ("startsWith(github.ref, 'refs/tags/v')", None, True, {"push", "tag", "release"}),
    ("github.event_name == 'push' && github.ref_name == 'release'", ("release",), False, {"push"}),
    ('rules: if $CI_COMMIT_TAG -> manual | if $CI_COMMIT_BRANCH == "main" -> never; when: manual', None, True,
     {"push", "tag", "release"}),
    ("rules: if $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", ("main",), False, {"push", "schedule", "manual"}),
    ("only: main, tags", ("main",), True, {"push", "schedule", "manual", "tag", "release"}),
])
def test_job_conditions(condition, branches, tags, kinds):
    reach = condition_reach(condition, "main")
    assert (reach.branches, reach.tags, set(reach.kinds) if reach.kinds is not None else None) == (
        branches, tags, kinds)


def test_a_condition_not_understood_lets_everything_through():
    reach = condition_reach("always() && inputs.go", "main")
    assert not reach.understood and reach.branches is None and reach.kinds is None


@pytest.mark.parametrize(("name", "patterns", "expected"), [
    ("docs/a/b.md", ["docs/**"], True),
    ("docs.md", ["docs/**"], False),
    ("README.md", ["*.md"], True),
    ("docs/README.md", ["*.md"], False),
    ("docs/README.md", ["**.md"], True),
    ("release/1.0", ["release/**"], True),
    ("release/1.0", ["release/*", "!release/1.*"], False),
    ("src/x.py", ["**/x.py"], True),
    ("x.py", ["**/x.py"], True),
    ("a[b", ["a[b"], True),
])
def test_glob_matching(name, patterns, expected):
    assert matches(name, patterns) is expected


@pytest.mark.parametrize("pattern", ["a[]b", "[", "]", "(", "a{1,", "\\", "[^]", "*" * 5000, "?[!x]" * 200])
def test_hostile_patterns_never_raise(pattern):
    assert matches(pattern, [pattern]) in (True, False)
    assert matches("src/x.py", [pattern, "!" + pattern]) in (True, False)


def test_path_filters_on_an_empty_commit():
    assert paths_selected([], None, None)
    assert not paths_selected([], ["src/**"], None)
    assert not paths_selected(["docs/a.md"], None, ["docs/**"])
    assert paths_selected(["docs/a.md", "src/a.py"], None, ["docs/**"])


def test_separator_bytes_in_file_names_and_subjects_forge_no_commit(tmp_path):
    # A file name may hold RS and US: 'x<RS><sha><US><time><US><subject><US>' read as a commit of its own, and a
    # US in a subject moved the subject's tail into the file list.
    import os
    import subprocess

    from orchestrator_kit.metrics.triggers import read_commits

    root = tmp_path / "forged"
    root.mkdir()
    git(root, "init", "-q")
    forged = "x\x1e" + "f" * 40 + "\x1f1700000000\x1fFake (#9)\x1fdeploy.yml"
    (root / forged).write_text("1\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    (root / "b.txt").write_text("2\n")
    git(root, "add", "-A")
    subprocess.run(["git", "-C", str(root), "commit", "-qm", "two\x1fdeploy.yml (#3)"], check=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "a",
                        "GIT_COMMITTER_EMAIL": "a@x", "HOME": str(tmp_path)})
    head = git(root, "rev-parse", "HEAD").strip()
    commits, problem = read_commits(root, [head], None)
    assert problem is None
    # The reference: git's own list of commits and of each one's files (NUL-separated).
    assert set(commits) == set(git(root, "rev-list", "HEAD").split())
    for sha, commit in commits.items():
        names = git(root, "show", "-z", "--name-only", "--no-renames", "--format=", sha).split("\x00")
        assert set(commit.files) == {n.strip("\n") for n in names if n.strip("\n")}
