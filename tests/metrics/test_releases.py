"""Release series and the change-failure proxy on a history scripted here and labelled by hand.

    c0  2025-12-01 src/app.py (prehistory, 63 days before the first release)
    c1  2026-02-02 src/app.py, CHANGELOG.md          tag v1.0 (two-part version)
    c2  2026-02-04 src/app.py
    c3  2026-02-05 CHANGELOG.md                      tag v1.0.1   -> v1.0 FAILED: a patch 3 days later changing
                                                                     src/app.py, which v1.0 changed
    c4  2026-02-10 src/feature.py                    tag v1.1.0 (annotated), tag api/v9.0.0 (a module series)
    c5  2026-02-20 docs/x.md
    c6  2026-03-10 CHANGELOG.md, docs/x.md           tag v1.1.1   -> routine: 27.9 days after v1.1.0's tag
    c7  2026-03-12 src/feature.py "Break feature"    tag v1.2.0
    c8  2026-03-13 revert c7
    c9  2026-03-13 CHANGELOG.md                      tag v1.2.1   -> v1.2.0 FAILED: c7 reverted after it shipped,
                                                                     and a patch 1 day later changing src/feature.py
    h1  2026-03-20 (branch hotfix/login) src/login.py
    m1  2026-03-21 merge hotfix/login                tag v1.3.0   -> v1.2.1 FAILED: the next release ships a hotfix
    c10 2026-03-25 src/app.py                        tag build-42 (annotated), and v1.4.0: a tag of that tag
                                                     tag tree-tag: a tag of a tree (skipped)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator_kit.metrics import history_metrics

from ..conftest import git
from .conftest import Scripted


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    repo = Scripted(tmp_path_factory.mktemp("releases") / "repo")
    repo.commit("c0", "2025-12-01T10:00:00+00:00", files={"src/app.py": "v0\n"})
    repo.commit("c1", "2026-02-02T10:00:00+00:00", files={"src/app.py": "v1\n", "CHANGELOG.md": "- 1.0\n"})
    repo.tag("v1.0", "c1")
    repo.commit("c2", "2026-02-04T10:00:00+00:00", append={"src/app.py": "fix\n"})
    repo.commit("c3", "2026-02-05T10:00:00+00:00", append={"CHANGELOG.md": "- 1.0.1\n"})
    repo.tag("v1.0.1", "c3")
    repo.commit("c4", "2026-02-10T10:00:00+00:00", files={"src/feature.py": "feature\n"})
    repo.tag("v1.1.0", "c4", annotated_at="2026-02-10T12:00:00+00:00")
    repo.tag("api/v9.0.0", "c4")
    repo.commit("c5", "2026-02-20T10:00:00+00:00", files={"docs/x.md": "x\n"})
    repo.commit("c6", "2026-03-10T10:00:00+00:00", append={"CHANGELOG.md": "- 1.1.1\n", "docs/x.md": "y\n"})
    repo.tag("v1.1.1", "c6")
    repo.commit("c7", "2026-03-12T10:00:00+00:00", "alice", "Break feature", append={"src/feature.py": "bug\n"})
    repo.tag("v1.2.0", "c7")
    repo.revert("c8", "c7", "2026-03-13T09:00:00+00:00")
    repo.commit("c9", "2026-03-13T10:00:00+00:00", append={"CHANGELOG.md": "- 1.2.1\n"})
    repo.tag("v1.2.1", "c9")
    git(repo.root, "checkout", "-q", "-b", "hotfix/login")
    repo.commit("h1", "2026-03-20T10:00:00+00:00", "bob", "Fix login", files={"src/login.py": "ok\n"})
    git(repo.root, "checkout", "-q", "main")
    repo.merge("m1", "hotfix/login", "2026-03-21T10:00:00+00:00")
    repo.tag("v1.3.0", "m1")
    repo.commit("c10", "2026-03-25T10:00:00+00:00", append={"src/app.py": "more\n"})
    repo.tag("build-42", "c10", annotated_at="2026-03-25T11:00:00+00:00")
    with repo.identity("alice", "2026-03-25T12:00:00+00:00"):
        git(repo.root, "tag", "-a", "v1.4.0", "build-42", "-m", "v1.4.0")  # a tag of a tag
        git(repo.root, "tag", "tree-tag", "HEAD^{tree}")
    return repo, history_metrics(repo.root).dora


def test_series_two_part_versions_and_tags_of_tags(labelled):
    repo, dora = labelled
    assert [r.name for r in dora.releases] == [
        "v1.0", "v1.0.1", "v1.1.0", "v1.1.1", "v1.2.0", "v1.2.1", "v1.3.0", "v1.4.0"]
    v14 = dora.releases[-1]
    assert v14.commit == repo.shas["c10"] and v14.time == "2026-03-25T12:00:00Z"  # followed to the commit
    assert dora.releases[0].version == "1.0.0" and not dora.releases[0].patch_release
    assert dora.series.chosen == "" and [(s.prefix, s.releases) for s in dora.series.series] == [("", 8), ("api/", 1)]
    assert sorted((t.name, t.reason) for t in dora.skipped_tags) == [
        ("api/v9.0.0", "series 'api/', not the product's series '(root)'"),
        ("build-42", "not a version (2 to 4 numeric parts, optional prefix and v)"),
        ("tree-tag", "points at a tree, not a commit"),
    ]


def test_the_first_release_counts_from_its_stated_start(labelled):
    _repo, dora = labelled
    lead = dora.lead_time
    assert lead.first_release_start == "2026-01-03T10:00:00Z"  # v1.0 minus 30 days
    assert lead.commits_before_start == 1  # c0
    assert dora.releases[0].commits_shipped == 1  # c1 only


def test_change_failures_match_the_hand_labels(labelled):
    repo, dora = labelled
    failure = dora.change_failure
    assert failure.proxy and (failure.failed, failure.deployments, failure.rate) == (3, 8, 0.375)
    reasons = {f.release: f.reasons for f in failure.failures}
    assert reasons["v1.0"] == ["patch release v1.0.1 3.0 days later changes what it changed (src/app.py)"]
    assert reasons["v1.2.0"][0] == "patch release v1.2.1 1.0 days later changes what it changed (src/feature.py)"
    assert reasons["v1.2.0"][1].startswith(f"its commit {repo.shas['c7'][:12]} was reverted by {repo.shas['c8'][:12]}")
    assert reasons["v1.2.1"] == [f"the next release v1.3.0 ships hotfix commit {repo.shas['m1'][:12]} "
                                 "(Merge branch 'hotfix/login')"]
    assert [(n.release, n.reason) for n in failure.not_counted] == [
        ("v1.1.1", "routine patch release: 27.9 days later, over the 14-day window")]
    assert failure.inputs == {
        "deployments": 8, "reverts": 1, "reverts_of_released_commits": 1, "hotfix_releases": 1,
        "patch_releases": 3, "patch_releases_counted_as_fixes": 2, "hotfix_window_days": 14}
    restored = {f.release: (f.restored_by, f.restore_hours) for f in failure.failures}
    assert restored == {"v1.0": ("v1.0.1", 72.0), "v1.2.0": ("v1.2.1", 24.0), "v1.2.1": ("v1.3.0", 192.0)}
    assert dora.time_to_restore.median_hours == 72.0


SAMPLES = Path(__file__).resolve().parents[2] / "evals" / "repos"


# Labelled by reading each sample's history.yaml: which release failed, and which patch releases were routine.
@pytest.mark.parametrize(("sample", "failed", "routine"), [
    # v1.0.1 follows v1.0.0 a week later; the cart cache added after v1.0.0 was reverted before v1.0.1 shipped.
    ("acme-shop", {}, ["v1.0.1"]),
    # The pivot fast path was added after v1.0.0 and reverted before v1.0.1: v1.0.1 shipped nothing of it.
    ("tidyframe", {}, ["v1.0.1"]),
    # v2.1.0 shipped "restart services in parallel"; it was reverted the next morning and v2.1.1 cut from that.
    ("go-ssh-service", {"v2.1.0": "v2.1.1"}, []),
    # v4.1.1 is tagged on the hotfix/4.1.1 branch ("Fix rounding of order totals"), two days after v4.1.0.
    ("jenkins-shop", {"v4.1.0": "v4.1.1"}, []),
])
def test_change_failures_on_the_eval_histories(tmp_path, sample, failed, routine):
    from orchestrator_kit.samples import build_sample_repo

    root = build_sample_repo(SAMPLES / sample, tmp_path / sample).path
    failure = history_metrics(root).dora.change_failure
    assert {f.release: f.restored_by for f in failure.failures} == failed
    assert [n.release for n in failure.not_counted] == routine
