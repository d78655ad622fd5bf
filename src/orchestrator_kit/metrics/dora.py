"""DORA's four keys as proxies from git alone: release tags stand for deployments.

Sources of the definitions (four-keys / DevLake, as summarized in the project's REFERENCE): deployment
frequency is read from the median number of days with a deployment per week (>= 3 daily, >= 1 weekly) or per
month (>= 1 monthly, else yearly); lead time is the median of (deploy time - commit time); change failure rate
is the share of deployments followed by a failure; time to restore is the time from a failure to its fix.

Deploy events are semver release tags (`v1.2.3`, `1.2.3`, `api/v1.2.3`, `web@1.2.3`; pre-releases such as
`v1.2.3-rc.1` are not deployments), timed by the tag's date (the tagger date of an annotated tag, the
commit date of a lightweight one). Without any release tag, and when a deploy pipeline runs on pushes to a
branch, each first-parent commit of HEAD stands for one deployment (an upper bound: a push may carry several).

"First release containing a commit": release commits are visited in deploy-time order; from each, a walk over
parents marks every commit not marked yet. A commit marked by an earlier release has all its ancestors marked
too, so the walk stops there, and every commit is visited once: O(commits + parent links) for all releases.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..models import Diagnostic
from .gitlog import CommitRecord
from .models import (
    ChangeFailure,
    DeploymentFrequency,
    DeploySignal,
    DoraProxies,
    FailedRelease,
    LeadTime,
    Release,
    Revert,
    SkippedTag,
    TimeToRestore,
)

# semver.org 2.0.0 with an optional `v`, and an optional component prefix ending in / @ _ or - (monorepos).
SEMVER = re.compile(
    r"^(?P<prefix>.*[/@_-])?v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
REVERT_BODY = re.compile(r"This reverts commit ([0-9a-f]{7,64})")
HOUR = 3600.0


@dataclass(frozen=True)
class TagRef:
    name: str
    commit: str
    time: int


@dataclass(frozen=True)
class Event:
    name: str
    commit: str
    time: int
    series: tuple[str, int, int] | None = None  # (prefix, major, minor) for semver tags
    patch: int = 0


def iso(ts: int | float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def release_events(tags: Iterable[TagRef]) -> tuple[list[Event], list[SkippedTag]]:
    """Semver release tags as deploy events, sorted by time (then version); the rest with the reason skipped."""
    events: list[Event] = []
    skipped: list[SkippedTag] = []
    for tag in tags:
        match = SEMVER.match(tag.name)
        if match is None:
            skipped.append(SkippedTag(name=tag.name, reason="not a semver version"))
            continue
        if match.group("pre"):
            skipped.append(SkippedTag(name=tag.name, reason="pre-release"))
            continue
        major, minor, patch = int(match.group("major")), int(match.group("minor")), int(match.group("patch"))
        events.append(Event(tag.name, tag.commit, tag.time, (match.group("prefix") or "", major, minor), patch))
    events.sort(key=lambda e: (e.time, e.series or ("", 0, 0), e.patch, e.name))
    return events, skipped


def first_parent_events(head: str | None, commits: Mapping[str, CommitRecord]) -> list[Event]:
    """Each first-parent commit of HEAD within the commits read, oldest first."""
    events: list[Event] = []
    seen: set[str] = set()
    current = head
    while current and current in commits and current not in seen:
        seen.add(current)
        record = commits[current]
        events.append(Event(current[:12], current, record.commit_time))
        current = record.parents[0] if record.parents else None
    events.reverse()
    return events


def first_release(events: Sequence[Event], parents: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """commit -> index (in `events`) of the first event whose commit contains it; see the module docstring."""
    owner: dict[str, int] = {}
    for index, event in enumerate(events):
        stack = [event.commit]
        while stack:
            commit = stack.pop()
            if commit in owner:
                continue
            owner[commit] = index
            stack.extend(p for p in parents.get(commit, ()) if p not in owner)
    return owner


def find_reverts(commits: Iterable[CommitRecord]) -> list[Revert]:
    reverts: list[Revert] = []
    for commit in commits:
        if b"evert" not in commit.raw_message:
            continue  # most commits: no decoding, no regular expression
        match = REVERT_BODY.search(commit.message)
        if match or commit.subject.startswith('Revert "'):
            reverts.append(Revert(commit=commit.sha, time=iso(commit.commit_time), subject=commit.subject,
                                  reverts=match.group(1) if match else None))
    return reverts


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile: the value at rank ceil(0.9 n) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-9 * len(ordered) // 10)  # ceil(0.9 n) without floats
    return ordered[rank - 1]


def _weeks(start: date, end: date) -> list[tuple[int, int]]:
    first = start.isocalendar()
    last = end.isocalendar()
    weeks: list[tuple[int, int]] = []
    current = date.fromisocalendar(first.year, first.week, 1)
    stop = date.fromisocalendar(last.year, last.week, 1)
    while current <= stop:
        iso_week = current.isocalendar()
        weeks.append((iso_week.year, iso_week.week))
        current = date.fromordinal(current.toordinal() + 7)
    return weeks


def _months(start: date, end: date) -> list[tuple[int, int]]:
    months: list[tuple[int, int]] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def deployment_frequency(events: Sequence[Event], window: tuple[int, int], source: str) -> DeploymentFrequency:
    start, end = window
    formula = (
        "deploy days per ISO week (UTC) over every week of the window, including weeks without one; "
        "category = daily if median >= 3, weekly if median >= 1, else monthly if the median number of deploy days "
        "per calendar month >= 1, else yearly (four-keys); per_week = deployments / (window days / 7)"
    )
    result = DeploymentFrequency(formula=formula, proxy=True, source=source)  # type: ignore[arg-type]
    if source == "release-tags":
        result.notes.append("release tags (semver, not pre-release) stand for deployments; a tag's time is its "
                            "tagger date (annotated) or commit date (lightweight)")
    elif source == "first-parent-pushes":
        result.notes.append("no release tags; a deploy pipeline runs on pushes, so each first-parent commit of HEAD "
                            "stands for one deployment (an upper bound: one push may carry several commits)")
    result.deployments = len(events)
    if not events:
        result.category = "none"
        return result
    start_day = datetime.fromtimestamp(start, UTC).date()
    end_day = datetime.fromtimestamp(max(end, *(e.time for e in events)), UTC).date()
    days = {datetime.fromtimestamp(e.time, UTC).date() for e in events}
    per_week: dict[tuple[int, int], int] = defaultdict(int)
    per_month: dict[tuple[int, int], int] = defaultdict(int)
    for day in days:
        iso_week = day.isocalendar()
        per_week[(iso_week.year, iso_week.week)] += 1
        per_month[(day.year, day.month)] += 1
    weeks = _weeks(start_day, end_day)
    months = _months(start_day, end_day)
    week_median = statistics.median([per_week.get(w, 0) for w in weeks])
    month_median = statistics.median([per_month.get(m, 0) for m in months])
    window_days = max((end_day - start_day).days + 1, 1)
    result.per_week = round(len(events) / (window_days / 7), 3)
    result.median_deploy_days_per_week = week_median
    result.median_deploy_days_per_month = month_median
    if week_median >= 3:
        result.category = "daily"
    elif week_median >= 1:
        result.category = "weekly"
    elif month_median >= 1:
        result.category = "monthly"
    else:
        result.category = "yearly"
    return result


def dora_proxies(
    *,
    commits: Sequence[CommitRecord],
    tags: Sequence[TagRef],
    parents: Mapping[str, Sequence[str]],
    window: tuple[int, int] | None,
    window_limited: bool,
    head: str | None,
    deploy_signals: Sequence[DeploySignal] = (),
    first_parent_ok: bool = True,
) -> tuple[DoraProxies, list[Diagnostic]]:
    """The four proxies over `commits` (the window read); `parents` is the commit graph used for containment."""
    diagnostics: list[Diagnostic] = []
    events, skipped = release_events(tags)
    source = "release-tags"
    if window is not None and window_limited:
        events = [e for e in events if e.time >= window[0]]
    corroborated = sorted({s.pipeline for s in deploy_signals if s.on_tags})
    if not events:
        push_deploys = [s for s in deploy_signals if s.on_push_branches]
        if push_deploys and first_parent_ok:
            by_sha = {c.sha: c for c in commits}
            events = first_parent_events(head, by_sha)
            source = "first-parent-pushes"
            corroborated = sorted({s.pipeline for s in push_deploys})
        else:
            source = "none"
            corroborated = []
    reverts = find_reverts(commits)
    owner = first_release(events, parents)
    by_sha = {c.sha: c for c in commits}

    # Lead time: committer time (when the change landed) to the first deploy event containing it.
    lead_hours: list[float] = []
    unreleased = 0
    shipped: dict[int, int] = defaultdict(int)
    for commit in commits:
        index = owner.get(commit.sha)
        if index is None:
            unreleased += 1
            continue
        shipped[index] += 1
        lead_hours.append(max(0.0, (events[index].time - commit.commit_time) / HOUR))
    lead = LeadTime(
        formula="median over commits of (time of the first deploy event containing the commit - committer time); "
                "p90 by nearest rank; commits no deploy event contains are counted as unreleased",
        proxy=True, commits_measured=len(lead_hours), commits_unreleased=unreleased,
        median_hours=_round(_median(lead_hours)), p90_hours=_round(_p90(lead_hours)),
    )

    # Change failure: a release followed by a patch release of the same line, or whose shipped change was reverted.
    failures: dict[int, FailedRelease] = {}
    fixes: dict[int, list[tuple[int, str]]] = defaultdict(list)  # failed index -> (fix time, fix name)
    if source == "release-tags":
        lines: dict[tuple[str, int, int], list[int]] = defaultdict(list)
        for index, event in enumerate(events):
            if event.series is not None:
                lines[event.series].append(index)
        for members in lines.values():
            for earlier, later in itertools.pairwise(members):
                if events[later].patch > events[earlier].patch:
                    _fail(failures, events, earlier, f"followed by patch release {events[later].name}")
                    fixes[earlier].append((events[later].time, events[later].name))
    for revert in reverts:
        target = _resolve(revert.reverts, by_sha, owner)
        if target is None:
            continue
        shipped_in = owner.get(target)
        revert_commit = by_sha.get(revert.commit)
        if (shipped_in is None or revert_commit is None or owner.get(revert.commit) == shipped_in
                or revert_commit.commit_time <= events[shipped_in].time):
            continue  # reverted before it shipped (or in the same release): no deployment failed
        _fail(failures, events, shipped_in,
              f"its commit {target[:12]} was reverted by {revert.commit[:12]} ({revert.subject})")
        fixed_in = owner.get(revert.commit)
        if fixed_in is not None:
            fixes[shipped_in].append((events[fixed_in].time, events[fixed_in].name))
        else:
            fixes[shipped_in].append((revert_commit.commit_time, f"revert {revert.commit[:12]} (not yet released)"))
    restore_hours: list[float] = []
    for index, failure in failures.items():
        if fixes.get(index):
            when, name = min(fixes[index])
            failure.restored_by = name
            failure.restore_hours = _round(max(0.0, (when - events[index].time) / HOUR))
            if failure.restore_hours is not None:
                restore_hours.append(failure.restore_hours)
    failed_list = [failures[i] for i in sorted(failures)]
    change_failure = ChangeFailure(
        formula="failed deployments / deployments; a deployment failed when the next release of its "
                "major.minor line is a patch release, or when a commit it shipped was later reverted "
                "('This reverts commit <sha>' after the deployment)",
        proxy=True, failed=len(failed_list), deployments=len(events),
        rate=_round(len(failed_list) / len(events), 4) if events else None, failures=failed_list,
    )
    restore = TimeToRestore(
        formula="median over failed deployments of (time of the first fix - deployment time); the fix is the "
                "patch release that follows, or the deployment that ships the revert (the revert commit itself "
                "while it is unreleased)",
        proxy=True, incidents=len(restore_hours), median_hours=_round(_median(restore_hours)),
    )
    start, end = window if window is not None else (0, 0)
    frequency = deployment_frequency(events, (start, end), source)
    releases = [
        Release(name=e.name, commit=e.commit, time=iso(e.time),
                version=(f"{e.series[1]}.{e.series[2]}.{e.patch}" if e.series else None),
                patch_release=bool(e.series and e.patch > 0), commits_shipped=shipped.get(i, 0))
        for i, e in enumerate(events)
    ]
    if source == "first-parent-pushes" and len(releases) > 200:
        releases = releases[-200:]  # the list is evidence, not the measure: keep it bounded
    proxies = DoraProxies(
        releases=releases, skipped_tags=skipped, reverts=reverts, deployment_frequency=frequency,
        lead_time=lead, change_failure=change_failure, time_to_restore=restore, corroborated_by=corroborated,
    )
    return proxies, diagnostics


def _fail(failures: dict[int, FailedRelease], events: Sequence[Event], index: int, reason: str) -> None:
    if index not in failures:
        failures[index] = FailedRelease(release=events[index].name, time=iso(events[index].time), reasons=[])
    failures[index].reasons.append(reason)


def _resolve(sha: str | None, by_sha: Mapping[str, CommitRecord], owner: Mapping[str, int]) -> str | None:
    """A full commit id for a (possibly abbreviated) reverted sha, among the commits known."""
    if not sha:
        return None
    if sha in by_sha or sha in owner:
        return sha
    matches = [full for full in by_sha if full.startswith(sha)]
    return matches[0] if len(matches) == 1 else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)
