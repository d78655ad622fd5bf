"""DORA proxy building blocks: which tags are releases, and which release first contains a commit."""

from __future__ import annotations

import pytest

from orchestrator_kit.metrics.dora import Event, TagRef, _p90, first_release, release_events


@pytest.mark.parametrize(
    ("tag", "counted", "reason"),
    [
        ("v1.2.3", True, None),
        ("1.2.3", True, None),
        ("api/v1.2.3", True, None),
        ("web@1.2.3", True, None),
        ("release-1.2.3", True, None),
        ("v1.2.3+build.7", True, None),
        ("v1.2.3-rc.1", False, "pre-release"),
        ("1.0.0-alpha", False, "pre-release"),
        ("v1.2", False, "not a semver version"),
        ("v01.2.3", False, "not a semver version"),  # semver forbids leading zeros
        ("nightly", False, "not a semver version"),
        ("v1.2.3.4", False, "not a semver version"),
    ],
)
def test_release_tags(tag, counted, reason):
    events, skipped = release_events([TagRef(tag, "c" * 40, 100)])
    assert (len(events) == 1) is counted
    assert [s.reason for s in skipped] == ([] if counted else [reason])


def test_release_order_is_by_time_then_version():
    events, _ = release_events([TagRef("v1.0.1", "b", 200), TagRef("v1.0.0", "a", 100), TagRef("api/v2.0.0", "c", 100)])
    assert [e.name for e in events] == ["v1.0.0", "api/v2.0.0", "v1.0.1"]  # prefix "" sorts before "api/"
    assert events[1].series == ("api/", 2, 0)


def test_first_release_containing_each_commit_on_a_dag():
    #   a - b - c ------- m - f      (main)       releases: r1 at c, r2 at d (a release branch), r3 at f
    #        \           /
    #         d - e ----              d is released first (on its branch), e only with r3 via the merge m
    parents = {"a": (), "b": ("a",), "c": ("b",), "d": ("b",), "e": ("d",), "m": ("c", "e"), "f": ("m",)}
    events = [Event("r1", "c", 10), Event("r2", "d", 20), Event("r3", "f", 30)]
    owner = first_release(events, parents)
    assert owner == {"a": 0, "b": 0, "c": 0, "d": 1, "e": 2, "m": 2, "f": 2}


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1.0], 1.0), ([1.0, 2.0], 2.0), ([float(v) for v in range(1, 11)], 9.0), ([float(v) for v in range(1, 21)], 18.0)],
)
def test_p90_is_nearest_rank(values, expected):
    assert _p90(values) == expected
