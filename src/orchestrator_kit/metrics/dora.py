"""DORA's four keys as proxies from git alone: release tags stand for deployments.

Sources of the definitions (four-keys / DevLake, as summarized in the project's REFERENCE): deployment
frequency is read from the median number of days with a deployment per week (>= 3 daily, >= 1 weekly) or per
month (>= 1 monthly, else yearly); lead time is the median of (deploy time - commit time); change failure rate
is the share of deployments followed by a failure; time to restore is the time from a failure to its fix.

Deploy events are release tags of ONE series, the product's: version tags (`v1.2.3`, `1.2.3`, two-part `1.0`
and `v0.10`, four-part `1.2.3.4`, underscore-joined `1_2_3`) are grouped by their prefix (`module/path/v1.2.3`
and `api/v1.2.3` are module series, `web@1.2.3` a package's, `jenkins-2.440` the series `jenkins-`; no prefix,
or `release-`, is the root series). The series is chosen among those with a release in the window that are
still current (last release at most STALE_SERIES_DAYS older than the newest release of any series): the root
series when it is one of them, otherwise the one with the most releases (`series.reason` says which and why).
Pre-releases (`v1.2.3-rc.1`, `jenkins-2.568.3-rc`, `1.2.3rc1`),
tags that are not versions, tags of other series, tags before the window and tags on a history that shares no commit
with HEAD's (an orphan branch such as gh-pages: the caller sets those apart, see `history._unrelated`) are listed in
`skipped_tags` with the reason; none is dropped silently. A tag is timed by its date (the tagger date of an
annotated tag, the commit date of a lightweight one); a tag of a tag is followed to its commit. Without any
release tag, and when a deploy pipeline runs on pushes to a branch, each first-parent commit of HEAD stands for
one deployment (an upper bound: a push may carry several).

The first release of the series contains the whole prehistory; only the commits after a stated start (its
time minus FIRST_RELEASE_LOOKBACK_DAYS, or the window's start when that is later) count as shipped by it, for
lead time and for what it changed; the others are counted in `commits_before_start`.

Change failure (a proxy; each failure says why, `not_counted` says why a signal was not counted):
* a release shipped a commit that a later commit reverts (`This reverts commit <sha>`, after the release);
* the next release of the series ships a hotfix (a tag or a merged branch named `hotfix`, a commit whose
  subject starts with `hotfix`, or it is itself tagged on a hotfix branch that a `Merge ... hotfix...` brought in);
* the next release is a patch release of the same major.minor line, within HOTFIX_WINDOW_DAYS, that changes a
  file the release itself changed (release bookkeeping such as changelogs and version files left out, and so are
  changes added and reverted between the two releases: they shipped nothing). Files are compared under their
  current names (renames followed, as everywhere in the history pass).
A patch release without one of these is routine maintenance, not a failure.

"First release containing a commit": release commits are visited in deploy-time order; from each, a walk over
parents marks every commit not marked yet. A commit marked by an earlier release has all its ancestors marked
too, so the walk stops there, and every commit is visited once: O(commits + parent links) for all releases.
The commits are rows of a `commits.CommitTable` (compact columns), and the marks one array of 4-byte numbers.
"""

from __future__ import annotations

import itertools
import re
import statistics
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from ..models import Diagnostic
from .models import (
    ChangeFailure,
    DeploymentFrequency,
    DeploySignal,
    DoraProxies,
    FailedRelease,
    LeadTime,
    NotCounted,
    Release,
    ReleaseSeries,
    Revert,
    SeriesChoice,
    SkippedTag,
    TimeToRestore,
)

if TYPE_CHECKING:
    from .commits import CommitTable

# A version with an optional `v` and an optional series prefix ending in / @ _ or - (monorepo modules and packages,
# and `<name>-<version>` shapes such as `jenkins-2.440`): two to four numeric parts joined by dots, or by
# underscores (`jenkins-1_396`, `RELEASE_1_2_3`; one separator throughout), then an optional pre-release: semver's
# `-suffix` (`-rc.1`, `-beta-2`, `-SNAPSHOT`) or PEP 440's attached one (`1.2.3rc1`, `1.2b2`, `1.2.3.dev0`).
SEMVER = re.compile(
    r"^(?P<prefix>.*?[/@_-])??[vV]?(?P<major>0|[1-9]\d*)(?P<sep>[._])(?P<minor>0|[1-9]\d*)"
    r"(?:(?P=sep)(?P<patch>0|[1-9]\d*))?(?:(?P=sep)(?:0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+)|\.?(?P<pep440>(?i:a|b|c|rc|alpha|beta|pre|preview|dev)(?:0|[1-9]\d*)?))?"
    r"(?:\+[0-9A-Za-z.-]+)?$"
)
NOT_A_VERSION = "not a version (2 to 4 numeric parts, optional prefix and v)"
# SEMVER tries every `-`, `_`, `/` or `@` as the prefix's end and may read the rest to the end each time: quadratic
# in the name. A hostile tag (git takes a 32,000-character name from packed-refs) cost 5.4 s of CPU. No release tag
# is this long (git's own loose refs stop at 255 bytes a component), so a longer name is not tried: at most
# about 0.6 ms a tag.
MAX_VERSION_TAG = 256
TOO_LONG = f"not a version (longer than {MAX_VERSION_TAG} characters)"
# A series whose last release is this much older than the newest release of any series has stopped: its tags
# continue under another name (jenkinsci/jenkins: `1.396` in 2011, then `jenkins-1.397` ... `jenkins-2.578`).
STALE_SERIES_DAYS = 365.0
PRE_RELEASE = "pre-release"
ROOT_PREFIXES = frozenset({"", "release-", "release/", "release_", "rel-", "version-", "releases/"})
FIRST_RELEASE_LOOKBACK_DAYS = 30.0
HOTFIX_WINDOW_DAYS = 14.0
HOTFIX = re.compile(r"hotfix|hot-fix", re.IGNORECASE)
# Files every release touches: a shared one says nothing about a fix.
BOOKKEEPING = re.compile(
    r"(?:^|/)(?:CHANGELOG|CHANGES|HISTORY|NEWS|RELEASE[-_ ]?NOTES|RELEASES|VERSION)(?:\.[A-Za-z]+)?$|"
    r"(?:^|/)(?:version\.txt|_version\.py|version\.py|package\.json|package-lock\.json|pyproject\.toml|setup\.cfg|"
    r"setup\.py|Cargo\.toml|Cargo\.lock|Chart\.yaml|pom\.xml|gradle\.properties|\.bumpversion\.cfg)$",
    re.IGNORECASE)
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
    series: tuple[str, int, int] | None = None  # (series prefix, major, minor) for version tags
    patch: int = 0


def iso(ts: int | float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def series_prefix(prefix: str | None) -> str:
    """The series a tag prefix names: '' (the root series) for none or a generic `release-`."""
    return "" if (prefix or "").lower() in ROOT_PREFIXES else prefix or ""


def release_events(tags: Iterable[TagRef]) -> tuple[list[Event], list[SkippedTag]]:
    """Version tags of every series as deploy events, sorted by time (then version); the rest with the reason."""
    events: list[Event] = []
    skipped: list[SkippedTag] = []
    for tag in tags:
        if len(tag.name) > MAX_VERSION_TAG:
            skipped.append(SkippedTag(name=tag.name, reason=TOO_LONG))
            continue
        match = SEMVER.match(tag.name)
        if match is None:
            skipped.append(SkippedTag(name=tag.name, reason=NOT_A_VERSION))
            continue
        pre = match.group("pre") or match.group("pep440")
        if pre:
            skipped.append(SkippedTag(name=tag.name, reason=f"{PRE_RELEASE} ({pre})"))
            continue
        major, minor, patch = int(match.group("major")), int(match.group("minor")), int(match.group("patch") or 0)
        events.append(Event(tag.name, tag.commit, tag.time, (series_prefix(match.group("prefix")), major, minor),
                            patch))
    events.sort(key=lambda e: (e.time, e.series or ("", 0, 0), e.patch, e.name))
    return events, skipped


def choose_series(events: Sequence[Event], since: int | None = None, until: int | None = None) -> SeriesChoice:
    """The product's release series, among the series with a release at or after `since` (the window's start,
    when the window is limited; every series when none has one) that are current (their last release at most
    STALE_SERIES_DAYS older than the newest release): the root one when it is among them, else the one with the
    most releases there (ties: the first by name). Every series is listed.

    A release dated after `until` (the newest commit read) counts as made at `until` when the series are compared:
    one tag of a module dated 2099 (a wrong clock, or a forged tagger date) made every other series 'stopped' and
    hid the root series' releases (6 deployments -> 1)."""
    groups: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.series is not None:
            groups[event.series[0]].append(event)
    listed = [ReleaseSeries(prefix=prefix, releases=len(members), first=members[0].name, last=members[-1].name)
              for prefix, members in sorted(groups.items())]
    formula = ("among the series with a release in the window whose last release is at most "
               f"{STALE_SERIES_DAYS:g} days older than the newest release: the root series (tags without a module "
               "prefix) when it is one of them, else the one with the most releases in the window")
    if not groups:
        return SeriesChoice(formula=formula, chosen=None, reason="no release tag", series=listed)
    recent = {p: [e for e in members if e.time >= since] for p, members in groups.items()} if since is not None \
        else dict(groups)
    candidates = {p: members for p, members in recent.items() if members} or dict(groups)
    def last(members: list[Event]) -> int:
        return members[-1].time if until is None else min(members[-1].time, until)

    newest = max(last(members) for members in candidates.values())
    current = {p: members for p, members in candidates.items()
               if newest - last(members) <= STALE_SERIES_DAYS * 86400}
    if "" in current:
        others = len(groups) - 1
        reason = "the root series (tags without a module prefix)" + (
            f"; {others} module series are releases of parts, not of the product" if others else "")
        return SeriesChoice(formula=formula, chosen="", reason=reason, series=listed)
    chosen = min(current, key=lambda p: (-len(current[p]), p))
    counted = f"({len(current[chosen])} of {sum(len(g) for g in current.values())})"
    if "" not in groups:
        reason = f"no root series; '{chosen}' has the most releases {counted}"
    elif "" not in candidates:
        reason = f"the root series has no release in the window; '{chosen}' has the most releases there {counted}"
    else:
        reason = (f"the root series stopped at {groups[''][-1].name} ({iso(groups[''][-1].time)[:10]}), more than "
                  f"{STALE_SERIES_DAYS:g} days before the newest release; '{chosen}' has the most releases of the "
                  f"current series {counted}")
    return SeriesChoice(formula=formula, chosen=chosen, reason=reason, series=listed)


def first_parent_events(head: str | None, table: CommitTable) -> list[Event]:
    """Each first-parent commit of HEAD within the commits read, oldest first."""
    events: list[Event] = []
    seen: set[int] = set()
    current = table.read(head) if head else None
    while current is not None and current not in seen:
        seen.add(current)
        sha = table.shas[current]
        events.append(Event(sha[:12], sha, table.time[current]))
        parent = table.first_parent(current)
        current = parent if parent is not None and table.state[parent] == 1 else None
    events.reverse()
    return events


def first_release(starts: Sequence[int | None], table: CommitTable) -> array[int]:
    """row -> index (in `starts`, the release commits' rows in deploy-time order) of the first release containing
    the commit, -1 for none; see the module docstring."""
    owner = array("i", [-1]) * len(table.shas)
    parent_at, parent_n, parent_rows = table.parent_at, table.parent_n, table.parent_rows
    for index, start in enumerate(starts):
        if start is None or owner[start] >= 0:
            continue
        owner[start] = index
        stack = [start]
        while stack:
            row = stack.pop()
            at = parent_at[row]
            for parent in parent_rows[at:at + parent_n[row]]:
                if owner[parent] < 0:
                    owner[parent] = index
                    stack.append(parent)
    return owner


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _p90(values: Sequence[float]) -> float | None:
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
    table: CommitTable,
    reverts: Sequence[Revert],
    names: Sequence[str],
    tags: Sequence[TagRef],
    window: tuple[int, int] | None,
    window_limited: bool,
    head: str | None,
    deploy_signals: Sequence[DeploySignal] = (),
    first_parent_ok: bool = True,
    skipped: Sequence[SkippedTag] = (),
    lookback_days: float = FIRST_RELEASE_LOOKBACK_DAYS,
    hotfix_window_days: float = HOTFIX_WINDOW_DAYS,
) -> tuple[DoraProxies, list[Diagnostic]]:
    """The four proxies over the commits read (`table`: rows in git log's order, with their parent links for
    containment; `reverts`: the revert commits among them; `names`: file id -> path); `skipped` lists tags already
    set aside by the caller (e.g. tags of trees), to be reported with the rest."""
    diagnostics: list[Diagnostic] = []
    all_events, skipped_tags = release_events(tags)
    skipped_tags = [*skipped, *skipped_tags]
    choice = choose_series(all_events, window[0] if window is not None and window_limited else None,
                           window[1] if window is not None else None)
    events: list[Event] = []
    for event in all_events:
        if window is not None and window_limited and event.time < window[0]:
            skipped_tags.append(SkippedTag(name=event.name, reason="before the history window"))
        elif event.series is not None and event.series[0] != choice.chosen:
            skipped_tags.append(SkippedTag(
                name=event.name, reason=f"series '{event.series[0]}', not the product's series "
                                        f"'{choice.chosen or '(root)'}'"))
        else:
            events.append(event)
    source = "release-tags"
    corroborated = sorted({s.pipeline for s in deploy_signals if s.on_tags})
    if not events:
        push_deploys = [s for s in deploy_signals if s.on_push_branches]
        if push_deploys and first_parent_ok:
            events = first_parent_events(head, table)
            source = "first-parent-pushes"
            corroborated = sorted({s.pipeline for s in push_deploys})
        else:
            source = "none"
            corroborated = []
    owner = first_release([table.index.get(e.commit) for e in events], table)
    start = _start(events, window if window_limited else None, lookback_days)

    # Lead time: committer time (when the change landed) to the first deploy event containing it.
    lead_hours = array("d")
    unreleased = before_start = 0
    shipped: dict[int, list[int]] = defaultdict(list)
    times = table.time
    for row in table.order:
        index = owner[row]
        if index < 0:
            unreleased += 1
            continue
        if index == 0 and start is not None and times[row] < start:
            before_start += 1
            continue
        shipped[index].append(row)
        lead_hours.append(max(0.0, (events[index].time - times[row]) / HOUR))
    lead = LeadTime(
        formula="median over commits of (time of the first deploy event containing the commit - committer time); "
                "p90 by nearest rank; commits no deploy event contains are counted as unreleased; the first "
                f"release counts only commits after its stated start (its time - {lookback_days:g} days, or the "
                "window's start when later)",
        proxy=True, commits_measured=len(lead_hours), commits_unreleased=unreleased,
        median_hours=_round(_median(lead_hours)), p90_hours=_round(_p90(lead_hours)),
        first_release_start=iso(start) if start is not None else None, commits_before_start=before_start,
    )
    failures, fixes, not_counted, inputs = _change_failures(
        events, source, reverts, table, names, owner, shipped, hotfix_window_days)
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
        formula="failed deployments / deployments (a proxy): a deployment failed when a commit it shipped was later "
                "reverted, when the next release of its series ships a hotfix, or when the next release is a patch "
                f"of its major.minor line within {hotfix_window_days:g} days that changes a file it changed "
                "(changelogs and version files left out); a routine patch release is not a failure",
        proxy=True, failed=len(failed_list), deployments=len(events),
        rate=_round(len(failed_list) / len(events), 4) if events else None, failures=failed_list,
        not_counted=not_counted, inputs=inputs,
    )
    restore = TimeToRestore(
        formula="median over failed deployments of (time of the first fix - deployment time); the fix is the "
                "release that follows (hotfix or patch), or the deployment that ships the revert (the revert commit "
                "itself while it is unreleased)",
        proxy=True, incidents=len(restore_hours), median_hours=_round(_median(restore_hours)),
    )
    begin, end = window if window is not None else (0, 0)
    frequency = deployment_frequency(events, (begin, end), source)
    pre_releases = sum(1 for tag in skipped_tags if tag.reason.startswith(PRE_RELEASE))
    if pre_releases:
        frequency.notes.append(f"{pre_releases} pre-release tag(s) (-rc, -beta, -alpha, ...; see skipped_tags) are "
                               "not deployments")
    releases = [
        Release(name=e.name, commit=e.commit, time=iso(e.time), series=e.series[0] if e.series else None,
                version=(f"{e.series[1]}.{e.series[2]}.{e.patch}" if e.series else None),
                patch_release=bool(e.series and e.patch > 0), commits_shipped=len(shipped.get(i, ())))
        for i, e in enumerate(events)
    ]
    if source == "first-parent-pushes" and len(releases) > 200:
        releases = releases[-200:]  # the list is evidence, not the measure: keep it bounded
    proxies = DoraProxies(
        releases=releases, series=choice, skipped_tags=skipped_tags, reverts=list(reverts),
        deployment_frequency=frequency, lead_time=lead, change_failure=change_failure, time_to_restore=restore,
        corroborated_by=corroborated,
    )
    return proxies, diagnostics


def _start(events: Sequence[Event], window: tuple[int, int] | None, lookback_days: float) -> int | None:
    """The stated start of the first release: its time minus the lookback, or the window's start when later."""
    if not events:
        return None
    start = int(events[0].time - lookback_days * 86400)
    return max(start, window[0]) if window is not None else start


def _changed(rows: Iterable[int], cancelled: set[int], table: CommitTable, names: Sequence[str],
             bookkeeping: dict[int, bool]) -> set[int]:
    """Files (ids) a release changed: its commits' files, without bookkeeping files and without commits that a
    revert in the same release cancelled (a change added and reverted between two releases shipped nothing).
    `bookkeeping` caches the test of each file id's name."""
    changed = {f for row in rows if row not in cancelled for f in table.files(row)}
    for fid in changed - bookkeeping.keys():
        bookkeeping[fid] = BOOKKEEPING.search(names[fid]) is not None
    return {fid for fid in changed if not bookkeeping[fid]}


def _hotfix_branch_commits(table: CommitTable) -> set[int]:
    """Commits of hotfix branches, seen through the merges that brought them (`Merge branch 'hotfix/...'`): the
    first-parent line of each merge's other parents, up to a commit on the merged-into line."""
    found: set[int] = set()

    def read_parent(row: int | None) -> int | None:
        return row if row is not None and table.state[row] == 1 else None

    merges = [row for row in table.order if row in table.subjects] if table.subjects else []
    for merge in merges:  # in git log's order; only commits whose subject mentions a hotfix
        parents = table.parents(merge)
        if len(parents) < 2 or table.state[merge] != 1:
            continue
        line: set[int] = set()
        current = read_parent(parents[0])
        while current is not None and current not in line:
            line.add(current)
            current = read_parent(table.first_parent(current))
        for side in parents[1:]:
            current = read_parent(side)
            while current is not None and current not in line and current not in found:
                found.add(current)
                current = read_parent(table.first_parent(current))
    return found


def _hotfix_commit(rows: Iterable[int], table: CommitTable) -> int | None:
    subjects = table.subjects
    for row in rows:
        subject = subjects.get(row)
        if subject is not None and (subject.lower().startswith(("hotfix", "hot-fix")) or (
                subject.startswith("Merge") and HOTFIX.search(subject))):
            return row
    return None


def _change_failures(
    events: Sequence[Event], source: str, reverts: Sequence[Revert], table: CommitTable, names: Sequence[str],
    owner: array[int], shipped: Mapping[int, list[int]], window_days: float,
) -> tuple[dict[int, FailedRelease], dict[int, list[tuple[int, str]]], list[NotCounted], dict[str, float]]:
    """Failed releases (with reasons and fixes), the signals not counted, and the inputs (module docstring)."""
    failures: dict[int, FailedRelease] = {}
    fixes: dict[int, list[tuple[int, str]]] = defaultdict(list)  # failed index -> (fix time, fix name)
    not_counted: list[NotCounted] = []
    hotfixes = patches = patch_failures = 0
    cancelled: set[int] = set()
    resolved: list[tuple[Revert, int, int | None]] = []  # (revert, its row, the reverted commit's row)
    for revert in reverts:
        row = table.index[revert.commit]
        target = _resolve(revert.reverts, table)
        resolved.append((revert, row, target))
        if target is not None and owner[target] >= 0 and owner[target] == owner[row]:
            cancelled.update((target, row))
    on_hotfix_branch = _hotfix_branch_commits(table) if source == "release-tags" else set()
    bookkeeping: dict[int, bool] = {}
    changed_by: dict[int, set[int]] = {}

    def changed(index: int) -> set[int]:
        files = changed_by.get(index)
        if files is None:
            files = changed_by[index] = _changed(shipped.get(index, ()), cancelled, table, names, bookkeeping)
        return files

    if source == "release-tags":
        for earlier, later in itertools.pairwise(range(len(events))):
            before, after = events[earlier], events[later]
            hotfix = _hotfix_commit(shipped.get(later, ()), table)
            after_row = table.index.get(after.commit)
            if HOTFIX.search(after.name) or hotfix is not None or after_row in on_hotfix_branch:
                hotfixes += 1
                what = f"hotfix commit {table.shas[hotfix][:12]} ({table.subjects[hotfix]})" if hotfix is not None \
                    else "a hotfix tag" if HOTFIX.search(after.name) else \
                    f"a commit of a hotfix branch ({after.commit[:12]}, merged by a hotfix merge)"
                _fail(failures, events, earlier, f"the next release {after.name} ships {what}")
                fixes[earlier].append((after.time, after.name))
                continue
            if before.series is None or after.series is None or after.series != before.series or \
                    after.patch <= before.patch:
                continue
            patches += 1
            days = (after.time - before.time) / 86400
            # A release's files are needed only within the window, and then twice (as `later`, then as `earlier`).
            common = sorted(names[f] for f in changed(earlier) & changed(later)) if days <= window_days else []
            if common:
                patch_failures += 1
                shown = ", ".join(common[:3]) + (f" and {len(common) - 3} more" if len(common) > 3 else "")
                _fail(failures, events, earlier, f"patch release {after.name} {days:.1f} days later changes what it "
                                                 f"changed ({shown})")
                fixes[earlier].append((after.time, after.name))
            else:
                why = f"{days:.1f} days later, over the {window_days:g}-day window" if days > window_days else \
                    "changes nothing the previous release changed (changelogs and version files left out)"
                not_counted.append(NotCounted(release=after.name, reason=f"routine patch release: {why}"))
    released_reverts = 0
    for revert, row, target in resolved:
        if target is None:
            continue
        shipped_in = owner[target]
        if (shipped_in < 0 or owner[row] == shipped_in
                or table.time[row] <= events[shipped_in].time):
            continue  # reverted before it shipped (or in the same release): no deployment failed
        released_reverts += 1
        _fail(failures, events, shipped_in,
              f"its commit {table.shas[target][:12]} was reverted by {revert.commit[:12]} ({revert.subject})")
        fixed_in = owner[row]
        if fixed_in >= 0:
            fixes[shipped_in].append((events[fixed_in].time, events[fixed_in].name))
        else:
            fixes[shipped_in].append((table.time[row], f"revert {revert.commit[:12]} (not yet released)"))
    inputs = {"deployments": float(len(events)), "reverts": float(len(reverts)),
              "reverts_of_released_commits": float(released_reverts), "hotfix_releases": float(hotfixes),
              "patch_releases": float(patches), "patch_releases_counted_as_fixes": float(patch_failures),
              "hotfix_window_days": window_days}
    return failures, fixes, not_counted, inputs


def _fail(failures: dict[int, FailedRelease], events: Sequence[Event], index: int, reason: str) -> None:
    if index not in failures:
        failures[index] = FailedRelease(release=events[index].name, time=iso(events[index].time), reasons=[])
    failures[index].reasons.append(reason)


def _resolve(sha: str | None, table: CommitTable) -> int | None:
    """The row of a (possibly abbreviated) reverted sha: any commit known by its full id, else the one commit read
    whose id starts with it."""
    if not sha:
        return None
    found = table.index.get(sha)
    if found is not None:
        return found
    matches = [row for row in table.order if table.shas[row].startswith(sha)]
    return matches[0] if len(matches) == 1 else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)
