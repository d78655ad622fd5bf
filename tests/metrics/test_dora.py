"""DORA proxy building blocks: which tags are releases, and which release first contains a commit."""

from __future__ import annotations

import pytest

from orchestrator_kit.metrics.commits import CommitTable
from orchestrator_kit.metrics.dora import Event, TagRef, _p90, choose_series, first_release, release_events


@pytest.mark.parametrize(
    ("tag", "series", "reason"),
    [
        ("v1.2.3", "", None),
        ("1.2.3", "", None),
        ("api/v1.2.3", "api/", None),
        ("module/path/v1.2.3", "module/path/", None),
        ("web@1.2.3", "web@", None),
        ("release-1.2.3", "", None),  # a generic prefix names the root series
        ("v1.2.3+build.7", "", None),
        ("v1.2", "", None),  # two-part versions
        ("0.10", "", None),
        ("tools/cli/0.10", "tools/cli/", None),
        ("v1.2.3-rc.1", None, "pre-release (rc.1)"),
        ("1.0.0-alpha", None, "pre-release (alpha)"),
        ("v01.2.3", None, "not a version (2 to 4 numeric parts, optional prefix and v)"),  # no leading zeros
        ("nightly", None, "not a version (2 to 4 numeric parts, optional prefix and v)"),
        ("v1.2.3.4.5", None, "not a version (2 to 4 numeric parts, optional prefix and v)"),
        ("v1.2.3.4", "", None),  # four parts (.NET, Java)
        ("jenkins-2.440", "jenkins-", None),  # <name>-<version>
        ("jenkins-2.440.1", "jenkins-", None),
        ("jenkins-1_396", "jenkins-", None),  # underscores throughout (CVS-era tags)
        ("RELEASE_1_2_3", "", None),
        ("1_2_3", "", None),  # no prefix: not '1_' + '2_3'
        ("builds/123", None, "not a version (2 to 4 numeric parts, optional prefix and v)"),
        ("1.2_3", None, "not a version (2 to 4 numeric parts, optional prefix and v)"),  # mixed separators
        ("jenkins-2.568.3-rc", None, "pre-release (rc)"),
        ("jenkins-2.4-beta-1", None, "pre-release (beta-1)"),
        ("v1.2.3-RC1", None, "pre-release (RC1)"),
        ("1.2.3rc1", None, "pre-release (rc1)"),  # PEP 440
        ("1.2b2", None, "pre-release (b2)"),
        ("1.2.3.dev0", None, "pre-release (dev0)"),
        ("m/" * 125 + "v1.2.3", "m/" * 125, None),  # 256 characters: still tried
        ("m/" * 125 + "v1.2.30", None, "not a version (longer than 256 characters)"),
        ("1.1-" * 8000 + "!", None, "not a version (longer than 256 characters)"),  # 5.4 s of CPU before
    ],
)
def test_release_tags(tag, series, reason):
    events, skipped = release_events([TagRef(tag, "c" * 40, 100)])
    assert [e.series[0] for e in events if e.series] == ([] if series is None else [series])
    assert [s.reason for s in skipped] == ([] if reason is None else [reason])


def test_two_part_versions_are_patch_zero():
    events, _ = release_events([TagRef("v0.10", "a", 100), TagRef("v0.10.1", "b", 200)])
    assert [(e.series, e.patch) for e in events] == [(("", 0, 10), 0), (("", 0, 10), 1)]


@pytest.mark.parametrize(
    ("names", "chosen", "reason"),
    [
        (["api/v1.0.0", "v1.0.0", "web/v2.0.0", "web/v2.1.0"], "",
         "the root series (tags without a module prefix); 2 module series are releases of parts, not of the product"),
        (["api/v1.0.0", "web/v2.0.0", "web/v2.1.0"], "web/", "no root series; 'web/' has the most releases (2 of 3)"),
        (["b/v1.0", "a/v1.0"], "a/", "no root series; 'a/' has the most releases (1 of 2)"),
        ([], None, "no release tag"),
    ],
)
def test_the_products_series(names, chosen, reason):
    events, _ = release_events([TagRef(n, n, i) for i, n in enumerate(names)])
    choice = choose_series(events)
    assert (choice.chosen, choice.reason) == (chosen, reason)
    assert sum(s.releases for s in choice.series) == len(names)


def test_release_order_is_by_time_then_version():
    events, _ = release_events([TagRef("v1.0.1", "b", 200), TagRef("v1.0.0", "a", 100), TagRef("api/v2.0.0", "c", 100)])
    assert [e.name for e in events] == ["v1.0.0", "api/v2.0.0", "v1.0.1"]  # prefix "" sorts before "api/"
    assert events[1].series == ("api/", 2, 0)


def test_first_release_containing_each_commit_on_a_dag():
    #   a - b - c ------- m - f      (main)       releases: r1 at c, r2 at d (a release branch), r3 at f
    #        \           /
    #         d - e ----              d is released first (on its branch), e only with r3 via the merge m
    parents = {"a": (), "b": ("a",), "c": ("b",), "d": ("b",), "e": ("d",), "m": ("c", "e"), "f": ("m",)}
    table = CommitTable()
    for time, sha in enumerate(["f", "m", "e", "d", "c", "b", "a"]):  # git log's order, newest first
        table.add(sha, list(parents[sha]), 100 - time, None)
    table.row("x")  # a commit met only as an id (e.g. a parent outside the window): no release contains it
    owner = first_release([table.index[sha] for sha in ("c", "d", "f")], table)
    assert {sha: owner[row] for sha, row in table.index.items()} == {
        "a": 0, "b": 0, "c": 0, "d": 1, "e": 2, "m": 2, "f": 2, "x": -1}


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1.0], 1.0), ([1.0, 2.0], 2.0), ([float(v) for v in range(1, 11)], 9.0), ([float(v) for v in range(1, 21)], 18.0)],
)
def test_p90_is_nearest_rank(values, expected):
    assert _p90(values) == expected


def test_a_release_dated_after_the_history_counts_as_made_at_its_end():
    day = 86400
    events = [Event("v1.0.0", "a", 100 * day, ("", 1, 0)), Event("v1.1.0", "b", 130 * day, ("", 1, 1)),
              Event("mod/v0.1", "c", 9000 * day, ("mod/", 0, 1))]
    assert choose_series(events).chosen == "mod/"  # taken at its word, the root series stopped long before
    assert choose_series(events, until=140 * day).chosen == ""
