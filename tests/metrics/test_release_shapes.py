"""Release tags of the `<name>-<version>` shape (jenkinsci/jenkins: `1.385`, then `jenkins-1.397` ... `jenkins-2.578`)
count as deployments, on a real git repository; pre-releases and tags that are not versions do not."""

from __future__ import annotations

import pytest

from orchestrator_kit.metrics.history import history_metrics

from .conftest import Scripted


@pytest.fixture(scope="module")
def renamed_series(tmp_path_factory) -> Scripted:
    """Root-series releases in 2010, then four years later the same product tagged `jenkins-X.Y`, with release
    candidates, CI build tags and a change-number tag around them.

        o1 2010-01-04  tag 1.300        o2 2010-02-01  tag 1.301, 1.302-rc
        n1 2014-03-03  tag jenkins-1.397, builds/17    n2 2014-03-10  tag jenkins-1.398-rc, changes/171
        n3 2014-03-17  tag jenkins-1.398               n4 2014-03-24  tag jenkins-1.398.1 (annotated)
        n5 2014-03-31  tag jenkins-2.0-beta-1
    """
    repo = Scripted(tmp_path_factory.mktemp("renamed-series"))
    repo.commit("o1", "2010-01-04T10:00:00+00:00", files={"core/a.txt": "a\n"})
    repo.tag("1.300", "o1")
    repo.commit("o2", "2010-02-01T10:00:00+00:00", append={"core/a.txt": "b\n"})
    repo.tag("1.301", "o2")
    repo.tag("1.302-rc", "o2")
    for name, day in (("n1", "03"), ("n2", "10"), ("n3", "17"), ("n4", "24"), ("n5", "31")):
        repo.commit(name, f"2014-03-{day}T10:00:00+00:00", append={"core/a.txt": f"{name}\n"})
    repo.tag("jenkins-1.397", "n1")
    repo.tag("builds/17", "n1")
    repo.tag("jenkins-1.398-rc", "n2")
    repo.tag("changes/171", "n2")
    repo.tag("jenkins-1.398", "n3")
    repo.tag("jenkins-1.398.1", "n4", annotated_at="2014-03-24T12:00:00+00:00")
    repo.tag("jenkins-2.0-beta-1", "n5")
    return repo


def test_a_window_without_root_releases_counts_the_named_series(renamed_series):
    dora = history_metrics(renamed_series.root, max_commits=5).dora  # n1..n5: the 2010 releases are before it
    assert [r.name for r in dora.releases] == ["jenkins-1.397", "jenkins-1.398", "jenkins-1.398.1"]
    assert dora.deployment_frequency.deployments == 3
    assert dora.series.chosen == "jenkins-"
    assert dora.series.reason == ("the root series has no release in the window; 'jenkins-' has the most releases "
                                  "there (3 of 3)")
    skipped = dict((t.name, t.reason) for t in dora.skipped_tags)
    assert skipped["jenkins-1.398-rc"] == "pre-release (rc)"
    assert skipped["jenkins-2.0-beta-1"] == "pre-release (beta-1)"
    assert skipped["1.302-rc"] == "pre-release (rc)"
    assert skipped["builds/17"].startswith("not a version")
    assert skipped["changes/171"].startswith("not a version")
    assert skipped["1.300"] == skipped["1.301"] == "before the history window"
    assert "3 pre-release tag(s) (-rc, -beta, -alpha, ...; see skipped_tags) are not deployments" in \
        dora.deployment_frequency.notes
    # jenkins-1.398.1 is a patch of the 1.398 line, in the same series
    assert [(r.version, r.patch_release) for r in dora.releases][-1] == ("1.398.1", True)


def test_a_root_series_that_stopped_long_ago_gives_way(renamed_series):
    dora = history_metrics(renamed_series.root).dora  # the whole history: the root series has two releases
    assert [r.name for r in dora.releases] == ["jenkins-1.397", "jenkins-1.398", "jenkins-1.398.1"]
    assert dora.series.chosen == "jenkins-"
    assert dora.series.reason.startswith("the root series stopped at 1.301 (2010-02-01), more than 365 days before")
    skipped = dict((t.name, t.reason) for t in dora.skipped_tags)
    assert skipped["1.300"] == "series '', not the product's series 'jenkins-'"


def test_a_hostile_tag_name_from_packed_refs_is_skipped_unread(tmp_path):
    """git takes a 32,000-character tag name from packed-refs; SEMVER, quadratic in the name, spent 5.4 s of CPU
    on it. Now it is skipped as too long to be a version, and the release beside it still counts."""
    repo = Scripted(tmp_path / "repo")
    repo.commit("c1", "2024-01-01T10:00:00+00:00", files={"a.txt": "a\n"})
    repo.tag("v1.0.0", "c1")
    refs = repo.root / ".git" / "packed-refs"
    commit = (repo.root / ".git" / "refs" / "tags" / "v1.0.0").read_text().strip()
    hostile = "1.1-" * 8000 + "!"
    with refs.open("a") as out:
        out.write(f"{commit} refs/tags/{hostile}\n")
    dora = history_metrics(repo.root).dora
    assert [r.name for r in dora.releases] == ["v1.0.0"]
    assert {t.name: t.reason for t in dora.skipped_tags}[hostile] == "not a version (longer than 256 characters)"


def test_one_future_dated_module_tag_does_not_hide_the_root_series(tmp_path):
    """A module tag dated 2099 (a wrong clock, or a forged tagger date) was the 'newest release', so the root series,
    released monthly up to the last commit, was 'stopped' and the product became the module: 6 deployments -> 1."""
    repo = Scripted(tmp_path / "repo")
    for month in range(1, 7):
        repo.commit(f"c{month}", f"2024-0{month}-01T10:00:00+00:00", append={"a.txt": f"{month}\n"})
        repo.tag(f"v1.{month}.0", f"c{month}")
    repo.commit("c7", "2024-07-01T10:00:00+00:00", append={"a.txt": "7\n"})
    repo.tag("tools/cli/v0.1", "c7", annotated_at="2099-01-01T00:00:00+00:00")
    dora = history_metrics(repo.root).dora
    assert dora.series.chosen == ""
    assert [r.name for r in dora.releases] == [f"v1.{m}.0" for m in range(1, 7)]
    assert dora.deployment_frequency.deployments == 6
