"""History metrics from ONE streamed `git log --numstat` pass (see `gitlog`), plus `for-each-ref` for the tags
and, only when the pass's own commit graph cannot answer "which release first contained this commit", one
`git rev-list --parents` over the release tags.

What is counted, and how (each section of the result repeats its formula):

* **Window**: HEAD's history, newest first, optionally limited by `since` (committer date, as git does) and
  `max_commits`, and by path filters (literal paths, or globs with `*`, `?`, `[`). When the workspace is a
  sub-folder of a repository, only that folder's history is read (`--relative`).
* **Renames** (`renames=True`, the default): `git log -M` pairs a deleted and an added file that are at least
  50% similar; the change is one modification of the new path, and the old path's earlier history is
  counted under the new name. With `renames=False` (`--no-renames`) a rename is a deletion of every line of
  the old path plus an addition of every line of the new one, so churn grows by the size of each renamed file
  (the project's measurements on real repositories saw about 20% more churn).
* **Merges** show no diff (`--diff-merges=off`): they count as commits, not as changes to files.
* **Binary files** count as revisions with no lines.
* **Shallow clones**: the boundary commits' diffs (their whole tree, shown as added) are not counted, and the
  result is marked partial: history before the boundary is not in the clone.
* Activity (commit frequency, authors) is bucketed by author time in UTC; DORA proxies use committer time.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain, combinations
from pathlib import Path
from typing import IO, Literal, TypeVar

from ..discovery._fixtures import FixtureFilter
from ..errors import InputError, OrchestratorError, ReadError
from ..excludes import check_excludes, exclude_pathspecs
from ..gitsafe import git_command, git_env, refusal, run_git
from ..models import Diagnostic, Pipeline
from ..repo import Workspace
from .aggregate import COUPLING_MAX_CHANGESET, Aggregator, AuthorAcc, DirAcc, FileAcc, Week
from .commits import CommitTable
from .dora import TagRef, dora_proxies, iso
from .generated import GeneratedFiles, attribute_marks
from .gitlog import LogRequest, RecordSink, read_log
from .identities import Merged, author_names, merge_identities, remap
from .models import (
    AuthorShare,
    AuthorStats,
    AuthorSummary,
    BusFactorSummary,
    ChurnSummary,
    CommitFrequency,
    CouplingPair,
    CouplingSummary,
    DeploySignal,
    DirectoryBusFactor,
    DirectoryChurn,
    FileChurn,
    FileFragmentation,
    FragmentationSummary,
    HistoryMetrics,
    HistoryOptions,
    Hotspot,
    HotspotSummary,
    MergedAuthor,
    SkippedTag,
    WeekCount,
)
from .paths import directory_of as directory_of
from .triggers import pipeline_runs, read_history

T = TypeVar("T")
DETECTOR = "metrics.history"
DAY = 86400
# code-maat's defaults for logical coupling (code-maat, src/code_maat/analysis/coupling_algos.clj and
# app/app.clj): min revisions 5 (of the pair's average), min shared revisions 5, min degree 30%, changesets
# larger than 30 entities dropped.
COUPLING_MIN_REVS = 5
COUPLING_MIN_SHARED = 5
COUPLING_MIN_DEGREE = 30
BUS_FACTOR_SHARE = 0.5
ACTIVE_DAYS = 90
_RELATIVE = re.compile(r"^(\d{1,5})\s*(d|days?|w|weeks?|m|months?|y|years?)(?:\s+ago)?$")
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}

RENAMES_ON = ("-M (git's rename detection, >= 50% similar): a rename counts as one change of the new path, and the "
              "old path's earlier history is counted under the new name")
RENAMES_OFF = ("--no-renames: a rename counts as deleting every line of the old path and adding every line of the "
               "new one, so churn grows by the size of each renamed file; histories are not joined")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO date or time (UTC when no offset is given), or a period back from now: `90 days`, `12w`, `6 months`,
    `1y` (a month is 30 days, a year 365). Raises InputError otherwise."""
    value = text.strip()
    match = _RELATIVE.match(value.lower())
    if match:
        days = int(match.group(1)) * _UNIT_DAYS[match.group(2)[0]]
        return (now or datetime.now(UTC)) - timedelta(days=days)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--since '{text}' is neither a date (YYYY-MM-DD, or an ISO 8601 time) nor a period such as "
            "'90 days', '12w', '6 months' or '1y'."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def pathspecs(workspace: Workspace, paths: Iterable[str]) -> list[str]:
    """Git pathspecs for path filters, each confined to the workspace: literal paths (checked with
    `Workspace.resolve`), or globs (`*` within a folder, `**` across folders) when they contain `*`, `?` or `[`."""
    specs: list[str] = []
    for raw in paths:
        if not raw or "\x00" in raw:
            raise InputError("A path filter is empty or contains a NUL character.")
        posix = raw.replace("\\", "/").strip()
        if posix.startswith(":"):
            raise InputError(f"Path filter '{raw}' starts with ':' (git pathspec magic is not accepted).")
        if posix.startswith("/") or ".." in posix.split("/"):
            raise InputError(f"Path '{raw}' is outside the repository '{workspace.root}'.")
        if posix.startswith("-"):
            raise InputError(f"Path filter '{raw}' starts with '-' and could be read as an option.")
        posix = posix.rstrip("/") or "."
        if posix in (".", "./"):
            specs.append(".")
        elif any(ch in posix for ch in "*?["):
            specs.append(f":(glob){posix}")
        else:
            workspace.resolve(posix)  # ConfinementError when it leaves the root (e.g. through a symlink)
            specs.append(f":(literal){posix}")
    return specs


def history_metrics(
    path: str | Path | Workspace,
    *,
    since: str | None = None,
    max_commits: int | None = None,
    paths: Sequence[str] = (),
    renames: bool = True,
    top: int = 20,
    dir_depth: int = 2,
    deploy_signals: Sequence[DeploySignal] = (),
    pipelines: Sequence[Pipeline] = (),
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    exclude: Sequence[str] = (),
    include_generated: bool = False,
    include_fixtures: bool = False,
    jobs: int | None = None,
) -> HistoryMetrics:
    """Commit frequency, authors, churn, hotspots, coupling, fragmentation, bus factor and DORA proxies of the
    history of `path` (see the module docstring). Never raises for repository problems: an empty repository, a
    folder without git, a shallow clone or missing objects give a (partial) result with Diagnostics. Raises
    InputError for bad options. With `pipelines`, one more pass over the branches counts how often each
    pipeline's triggers fired (`pipeline_runs`, see `metrics.triggers`). `progress(commits_read)` is called
    for every commit; an exception it raises stops the pass (the git process is killed) and propagates: that is
    how a caller cancels. Hotspots and coupling leave out generated files (lock files, linguist-generated, vendored
    and generated paths: `metrics.generated`) unless `include_generated`, and coupling leaves out pairs of two test
    fixtures (`discovery._fixtures`) unless `include_fixtures`; each says how many it left out and why. A long
    history is read by up to `jobs` git processes at once (None: the CPUs this process may use; `gitlog.read_log`),
    with the same result as one."""
    workspace = path if isinstance(path, Workspace) else Workspace(path)
    if max_commits is not None and max_commits < 1:
        raise InputError(f"--max-commits must be at least 1 (got {max_commits}).")
    if jobs is not None and jobs < 1:
        raise InputError(f"jobs must be at least 1 (got {jobs}).")
    if top < 1 or dir_depth < 1:
        raise InputError("top and dir_depth must be at least 1.")
    since_time = parse_since(since, now) if since else None
    specs = pathspecs(workspace, paths)
    if exclude:  # git needs a positive pathspec next to exclusions
        specs = [*(specs or ["."]), *exclude_pathspecs(check_excludes(exclude))]
    options = HistoryOptions(
        since=since_time.isoformat().replace("+00:00", "Z") if since_time else None, max_commits=max_commits,
        paths=list(paths), renames=renames, rename_handling=RENAMES_ON if renames else RENAMES_OFF, top=top,
        dir_depth=dir_depth, include_generated=include_generated, include_fixtures=include_fixtures,
    )
    result = _empty(str(workspace.root), options)
    info = workspace.git_info()
    if info is None:
        refused = refusal(workspace.root)
        result.diagnostics.append(Diagnostic(
            path=".", severity="warning" if refused else "info", detector=DETECTOR,
            reason=f"git history not read: {refused}" if refused else "not a git work tree: history metrics need git"))
        return result
    if info.empty or not info.head:
        result.diagnostics.append(Diagnostic(path=".", severity="info", detector=DETECTOR,
                                             reason="empty repository: HEAD has no commit yet"))
        return result
    layout = _layout(workspace.root)
    relative = bool(layout.prefix)
    if relative and not specs:
        specs = ["."]
    revisions = ["HEAD"]
    if since_time is not None:
        revisions.insert(0, f"--since={since_time.isoformat()}")
    if max_commits is not None:
        revisions.insert(0, f"--max-count={max_commits}")
    request = LogRequest(revisions=tuple(revisions), renames=renames, relative=relative, pathspecs=tuple(specs))
    boundary = _shallow_boundary(layout.shallow_file) if info.shallow else frozenset()
    aggregate = Aggregator(renames=renames, dir_depth=dir_depth)
    sink: RecordSink = aggregate
    if progress is not None:
        report = progress

        def sink(records: list[bytes], end: bytes) -> tuple[int, bytes]:
            handed, last = 0, b""
            for record in records:  # one at a time: the hook sees every commit, and can stop the pass at any
                count, sha = aggregate([record], end)
                if count:
                    handed, last = handed + count, sha
                    report(aggregate.commits)
            return handed, last

    # While the log streams: lines at HEAD (for hotspots) counted by a second git process, the files listed and the
    # tags read (each a short git process that would otherwise start, and wait for a CPU, after the stream).
    lines_at_head = _in_background(lambda: head_lines(workspace.root, relative, specs, info.head or "HEAD"))
    listed = _in_background(lambda: _listed(workspace))
    tag_list = _in_background(lambda: _tags(workspace.root))
    log = read_log(workspace.root, request, sink, boundary=boundary, jobs=jobs, head=info.head)
    # Names per identity come from the commits read; only when the log did not hand on every commit of the window
    # does a diff-less git log of its own count them (the names would otherwise miss the commits not read).
    names_read = aggregate.author_names() if log.complete else None

    def identity_names() -> dict[str, Counter[str]] | None:
        return names_read if log.complete else author_names(workspace.root, request)
    result.query = request.display()
    result.available = True
    result.diagnostics.extend(log.diagnostics)
    result.partial_reasons.extend(log.partial_reasons)
    if info.shallow:
        result.partial_reasons.append("shallow clone: history before the shallow boundary is not in the clone, "
                                      "and the boundary commits' diffs (their whole tree) are not counted")
        result.diagnostics.append(Diagnostic(
            path=".", detector=DETECTOR,
            reason=f"shallow clone: only the {aggregate.commits} fetched commits were read "
                   f"({len(boundary)} boundary commit(s)); run `git fetch --unshallow` for the whole history"))
    if not aggregate.commits or aggregate.first_commit_time is None or aggregate.last_commit_time is None:
        lines_at_head(), listed(), tag_list(), identity_names()
        result.diagnostics.append(Diagnostic(path=".", severity="info", detector=DETECTOR,
                                             reason="no commit matches the window and path filters"))
    else:
        tags, not_commits, tag_problem = tag_list()
        if tag_problem:
            result.diagnostics.append(tag_problem)
        window = (aggregate.first_commit_time, aggregate.last_commit_time)
        limited = since_time is not None or max_commits is not None
        # A release before the window ships none of its commits: dora_proxies lists it as skipped.
        in_window = [t for t in tags if t.time >= window[0]] if limited else tags
        unread = sorted({t.commit for t in in_window if aggregate.table.read(t.commit) is None})
        # Which of those lie on a history unrelated to HEAD's: told by the tags' graph when it reaches down to
        # HEAD's (`_unrelated_in_graph`); otherwise one more git process, started now (`_unrelated`).
        by_graph = not specs and (not limited or len(unread) < len({t.commit for t in in_window}))
        unrelated = _in_background(lambda: frozenset() if by_graph else _unrelated(
            workspace.root, unread, info.head, boundary))
        read_graph = _graph(workspace.root, aggregate.table, in_window, need_full=bool(specs))  # git starts here
        try:
            _finish(result, aggregate, workspace, lines_at_head(), listed(), identity_names())
        finally:  # git is waited for, and its file closed, whatever the summaries did
            try:
                graph_problem = read_graph()
            finally:
                apart = unrelated()
        if by_graph and unread:
            apart = _unrelated_in_graph(aggregate.table, unread, boundary)
        if graph_problem:
            result.diagnostics.append(graph_problem)
        result.dora, problems = dora_proxies(
            table=aggregate.table, reverts=aggregate.reverts, names=aggregate.names,
            tags=[t for t in tags if t.commit not in apart], window=window, window_limited=limited, head=info.head,
            deploy_signals=deploy_signals, first_parent_ok=not specs,
            skipped=[*not_commits, *(SkippedTag(name=t.name, reason=UNRELATED_HISTORY) for t in tags
                                     if t.commit in apart)],
        )
        result.diagnostics.extend(problems)
        if pipelines:
            runs_history, problems = read_history(
                workspace.root, pipelines, [(t.name, t.time) for t in tags], window[0] if limited else None,
                info.head)
            result.pipeline_runs = pipeline_runs(pipelines, runs_history)
            result.diagnostics.extend(problems)
    result.partial = bool(result.partial_reasons)
    return result


# ------------------------------------------------------------------ repository layout


@dataclass(frozen=True)
class _Layout:
    prefix: str
    shallow_file: Path | None


def _layout(root: Path) -> _Layout:
    proc = run_git(root, "rev-parse", "--show-prefix", "--git-path", "shallow")
    if proc.returncode != 0:
        return _Layout(prefix="", shallow_file=None)
    lines = proc.stdout.decode("utf-8", "replace").split("\n")
    prefix = lines[0].strip() if lines else ""
    shallow = Path(root) / lines[1].strip() if len(lines) > 1 and lines[1].strip() else None
    return _Layout(prefix=prefix, shallow_file=shallow)


def _shallow_boundary(shallow_file: Path | None) -> frozenset[str]:
    """The commits listed in `.git/shallow` (git metadata, not repository content; read with a size cap)."""
    if shallow_file is None:
        return frozenset()
    try:
        with shallow_file.open("rb") as fh:
            data = fh.read(16 * 1024 * 1024)
    except OSError:
        return frozenset()
    return frozenset(line.strip().decode("ascii", "replace") for line in data.splitlines() if line.strip())


def _tags(root: Path) -> tuple[list[TagRef], list[SkippedTag], Diagnostic | None]:
    """Tags pointing at a commit (directly, through an annotated tag, or through tags of tags), with the date of
    the tag itself; tags of trees or blobs, and tags whose target is missing, with the reason they are skipped."""
    proc = run_git(root, "for-each-ref", "--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)%00"
                                         "%(*objecttype)%00%(*objectname)%00%(creatordate:unix)", "refs/tags")
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return [], [], Diagnostic(path=".", detector=DETECTOR,
                                  reason=f"cannot list tags ({reason[-1] if reason else 'git failed'}); no DORA "
                                         "proxies")
    tags: list[TagRef] = []
    skipped: list[SkippedTag] = []
    nested: list[tuple[str, str, int]] = []  # (name, outer tag object, time): a tag of a tag
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\x00")
        if len(parts) != 6:
            continue
        name, kind, sha, peeled_kind, peeled, when = parts
        if kind not in ("commit", "tag") or (kind == "tag" and peeled_kind not in ("commit", "tag")):
            skipped.append(SkippedTag(name=name, reason=f"points at a {peeled_kind or kind}, not a commit"))
            continue
        if not when.strip().lstrip("-").isdigit():
            skipped.append(SkippedTag(name=name, reason="the tag has no date"))
            continue
        if kind == "commit" or (kind == "tag" and peeled_kind == "commit"):
            tags.append(TagRef(name=name, commit=sha if kind == "commit" else peeled, time=int(when)))
        else:
            nested.append((name, sha, int(when)))
    if nested:
        tags_of_tags, problems = _peel(root, nested)
        tags.extend(tags_of_tags)
        skipped.extend(problems)
    return tags, skipped, None


MAX_NESTED_TAGS = 200  # tags of tags are rare; each is peeled with one `git rev-parse`


def _peel(root: Path, nested: list[tuple[str, str, int]]) -> tuple[list[TagRef], list[SkippedTag]]:
    """Follow tags of tags to the commit they finally point at (`git rev-parse --verify <tag>^{commit}`)."""
    tags: list[TagRef] = []
    skipped: list[SkippedTag] = []
    for index, (name, sha, when) in enumerate(nested):
        if index >= MAX_NESTED_TAGS:
            skipped.append(SkippedTag(name=name, reason=f"a tag of a tag past the first {MAX_NESTED_TAGS} (not "
                                                        "followed)"))
            continue
        proc = run_git(root, "rev-parse", "--verify", "-q", f"{sha}^{{commit}}")
        peeled = proc.stdout.decode("ascii", "replace").strip() if proc.returncode == 0 else ""
        if len(peeled) >= 40:
            tags.append(TagRef(name=name, commit=peeled, time=when))
        else:
            skipped.append(SkippedTag(name=name, reason="a tag of a tag that does not end at a commit"))
    return tags, skipped


def _graph(root: Path, table: CommitTable, tags: Sequence[TagRef], *,
           need_full: bool) -> Callable[[], Diagnostic | None]:
    """Parent links for containment. The log pass's own links do for every tag whose commit was read (when no path
    filter cut the history); one `git rev-list --parents` adds the commits of the other tags (on branches not
    merged into HEAD) down to the history of the tags read (`--not` those). With a path filter the log skipped
    commits, so the rev-list walks the tags' whole history.

    git starts now and writes into a temporary file while the caller computes the summaries (git's walk took
    0.1 s on terraform's newest 10,000 commits, the summaries 0.2 s); the function returned waits for git and
    streams the file into `table`, so the table is never changed while the summaries read it. It returns the
    problem to report, if any."""
    tag_commits = sorted({t.commit for t in tags})
    read = [] if need_full else [t for t in tag_commits if table.read(t) is not None]
    if len(read) == len(tag_commits):
        return lambda: None
    known = set(read)
    stdin_lines = [t for t in tag_commits if t not in known] + [f"^{t}" for t in read]  # ^X: not X's history
    import subprocess
    import tempfile

    output: IO[bytes] | None
    errors: IO[bytes] | None
    output = errors = None
    try:  # files, not pipes: git writes while the summaries run, and never waits on a reader
        output = tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish)
        errors = tempfile.TemporaryFile()  # noqa: SIM115
    except OSError:  # no room for temporary files: git writes into a pipe, read once the summaries are done
        if output is not None:
            output.close()
        output = errors = None
    try:
        proc = subprocess.Popen(
            git_command(root, "rev-list", "--parents", "--stdin"), stdin=subprocess.PIPE,
            stdout=output or subprocess.PIPE, stderr=errors or subprocess.PIPE,
            env={**git_env(), "GIT_NO_LAZY_FETCH": "1"},
        )
    except OSError as exc:
        for file in (output, errors):
            if file is not None:
                file.close()
        problem = Diagnostic(path=".", detector=DETECTOR, reason=f"git rev-list failed: {exc}")
        return lambda: problem
    stderr_read: list[bytes] = []
    drain: threading.Thread | None = None
    if errors is None and proc.stderr is not None:  # drained as it comes: a full stderr pipe would stop git
        pipe = proc.stderr
        drain = threading.Thread(target=lambda: stderr_read.append(pipe.read()), daemon=True)
        drain.start()
    try:
        # rev-list reads all of --stdin before it prints anything: no deadlock with a stdout pipe.
        if proc.stdin is not None:
            proc.stdin.write(("\n".join(stdin_lines) + "\n").encode())
            proc.stdin.close()
    except OSError:
        pass  # git died first: its exit status says why

    def finish() -> Diagnostic | None:
        try:
            lines = proc.stdout if output is None else None
            if output is not None:
                proc.wait()
                output.seek(0)
                lines = output
            add = table.add_graph
            for line in lines or ():  # streamed: the graph goes into the compact table, never into a list of lines
                shas = line.decode("ascii", "replace").split()
                if shas:
                    add(shas[0], shas[1:])
            status = proc.wait()
            if status == 0:
                return None
            if errors is not None:
                errors.seek(0)
                stderr_read.append(errors.read(64 * 1024))
            elif drain is not None:
                drain.join(timeout=30)
            reason = b"".join(stderr_read).decode("utf-8", "replace").strip().splitlines()
            return Diagnostic(
                path=".", detector=DETECTOR,
                reason=f"git rev-list over the tags failed ({reason[-1] if reason else 'no message'}); release "
                       "containment uses only the commits read")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for file in (output, errors):
                if file is not None:
                    file.close()

    return finish


UNRELATED_HISTORY = ("on a history that shares no commit with HEAD's (an orphan branch such as gh-pages, or another "
                     "project's history): not a release of this product")


def _unrelated(root: Path, commits: Sequence[str], head: str | None, shallow: frozenset[str]) -> frozenset[str]:
    """Those of `commits` (tag commits the log did not read) on a history that shares no commit with HEAD's.

    One `git rev-list --parents --boundary <commits> --not HEAD`: a commit it does not list is in HEAD's history; a
    boundary commit (`-` first) is one of HEAD's that a listed commit has as parent. A listed commit joins HEAD's
    history when one of its parents is a boundary commit, is not listed (not in the output for another reason: git
    knows better), or joins it; one that only reaches root commits does not. A commit at the shallow boundary of a
    shallow clone counts as joining (its parents are not in the clone). Empty when there is nothing to ask, and
    when git fails (then every tag counts, as before)."""
    if not commits or head is None:
        return frozenset()
    try:
        proc = run_git(root, "rev-list", "--parents", "--boundary", "--stdin", timeout=600,
                       stdin=("\n".join([*commits, f"^{head}"]) + "\n").encode())
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    if proc.returncode != 0:
        return frozenset()
    parents: dict[str, list[str]] = {}
    boundary: set[str] = set()
    for line in proc.stdout.decode("ascii", "replace").splitlines():
        shas = line.split()
        if shas and shas[0].startswith("-"):
            boundary.add(shas[0][1:])
        elif shas:
            parents[shas[0]] = shas[1:]
    joins: dict[str, bool] = {}
    for start in commits:
        if start not in parents:
            continue
        stack = [start]  # depth first, each commit decided once: parents before the commits above them
        while stack:
            commit = stack[-1]
            if commit in joins:
                stack.pop()
                continue
            pending = [p for p in parents[commit] if p in parents and p not in joins]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            joins[commit] = commit in shallow or any(
                p in boundary or p not in parents or joins[p] for p in parents[commit])
    return frozenset(c for c in commits if c in parents and not joins[c])


def _unrelated_in_graph(table: CommitTable, commits: Sequence[str], shallow: frozenset[str]) -> frozenset[str]:
    """`_unrelated` from the tags' graph (`_graph`) instead of git, when that graph reaches HEAD's history: the
    caller asks only without a path filter, and when the log read every commit of HEAD (no window) or read a tag
    commit of the window (the rev-list then stops at that tag's history, which holds HEAD's roots).

    A commit the rev-list did not print (a placeholder row, or a row read by the log) is in HEAD's history; a
    printed one joins it when a parent does, or when it sits at a shallow boundary. A printed root commit does
    not join it. Every commit is decided once (depth first); a failed rev-list printed nothing, and nothing is
    then unrelated."""
    from .commits import GRAPH

    state, index = table.state, table.index
    joins: dict[int, bool] = {}
    for commit in commits:
        start = index.get(commit)
        if start is None or state[start] != GRAPH:
            continue
        stack = [start]
        while stack:
            row = stack[-1]
            if row in joins:
                stack.pop()
                continue
            parents = table.parents(row)
            pending = [p for p in parents if state[p] == GRAPH and p not in joins]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            joins[row] = table.shas[row] in shallow or any(state[p] != GRAPH or joins[p] for p in parents)
    return frozenset(c for c in commits if not joins.get(index.get(c, -1), True))


def _in_background(compute: Callable[[], T]) -> Callable[[], T]:
    """Run `compute` in a thread now; the function returned waits for its result."""
    box: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            box.append(compute())
        except BaseException as exc:  # handed to the caller, who decides
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        if failure:
            raise failure[0]
        return box[0]

    return result


# ------------------------------------------------------------------ summaries


def _listed(workspace: Workspace) -> dict[str, str]:
    """The files of the workspace, keyed by the history's form of their names. The history names a file as git
    printed it, decoded with U+FFFD for bytes that are not UTF-8; the workspace keeps such bytes as surrogates
    (surrogateescape). Keyed by the history's form, so 'exists' and the working-tree fallback of the hotspots find
    a file whose name is not UTF-8."""
    return {name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"): name for name in workspace.files()}


def _finish(result: HistoryMetrics, aggregate: Aggregator, workspace: Workspace,
            lines_at_head: dict[str, int | None] | None, listed: dict[str, str],
            identity_names: dict[str, Counter[str]] | None = None) -> None:
    """The summaries from the sums (each bounded by the files, authors and weeks of the window)."""
    options = result.options
    first, last = aggregate.first_author_time or 0, aggregate.last_author_time or 0  # set: a commit was read
    result.commits = aggregate.commits
    result.merges = aggregate.merges
    result.first_commit, result.last_commit = iso(first), iso(last)
    result.window_days = round((last - first) / DAY, 2)
    identities = aggregate.author_accs()
    people = merge_identities(identities, identity_names)
    names = {key: a.name for key, a in people.authors.items()}
    files = aggregate.files()
    weeks = aggregate.iso_weeks()
    canonical = people.canonical if people.folded else None
    if canonical is not None:  # one person's identities summed under their main key (per file and per week)
        for acc in files.values():
            acc.author_revs = remap(acc.author_revs, canonical)
        for week in weeks.values():
            week.authors = {canonical.get(a, a) for a in week.authors}
    dirs = aggregate.directories(files, canonical)
    result.commit_frequency = _frequency(weeks)
    result.authors = _authors(people, identities, last, options.top)
    generated = _generated(workspace, files, listed)
    result.churn = _churn(files, dirs, listed, options.top, generated, options.include_generated)
    result.hotspots = _hotspots(files, listed, workspace, options.top, lines_at_head, generated,
                                options.include_generated)
    result.coupling = _coupling(aggregate, options.top, generated, options.include_generated,
                                FixtureFilter(list(listed)), options.include_fixtures)
    result.fragmentation = _fragmentation(files, names, options.top)
    result.bus_factor = _bus_factor(dirs, names, options.top)


def _frequency(weeks: dict[tuple[int, int], Week]) -> CommitFrequency:
    keys = sorted(weeks)
    series: list[WeekCount] = []
    current = date.fromisocalendar(keys[0][0], keys[0][1], 1)
    stop = date.fromisocalendar(keys[-1][0], keys[-1][1], 1)
    while current <= stop:
        iso_week = current.isocalendar()
        bucket = weeks.get((iso_week.year, iso_week.week))
        series.append(WeekCount(
            week=f"{iso_week.year}-W{iso_week.week:02d}", start=current.isoformat(),
            commits=bucket.commits if bucket else 0, authors=len(bucket.authors) if bucket else 0,
        ))
        current += timedelta(days=7)
    counts = [w.commits for w in series]
    return CommitFrequency(
        formula="commits per ISO week (UTC, by author time), every week from the first to the last commit "
                "including weeks without commits; mean and median over those weeks; merges included",
        weeks=series, mean_per_week=round(sum(counts) / len(counts), 3),
        median_per_week=float(statistics.median(counts)), active_weeks=sum(1 for c in counts if c),
    )


def _authors(people: Merged, identities: dict[str, AuthorAcc], newest: int, top: int) -> AuthorSummary:
    authors = people.authors
    ranked = sorted(authors.values(), key=lambda a: (-a.commits, a.email.lower()))
    active = sum(1 for a in authors.values() if a.last >= newest - ACTIVE_DAYS * DAY)
    summary = AuthorSummary(
        formula="people = distinct author identities (e-mail, case-insensitive, after git applied .mailmap), merged "
                "when two have the same normalised name (two words or more, or a handle of 8+ characters; "
                "placeholders such as 'root' never) or are GitHub noreply addresses of the same login; "
                f"active = authored a commit in the {ACTIVE_DAYS} days before the newest commit; lines from numstat "
                "(binary files add none); bus factor, fragmentation and authors per week count people",
        total=len(authors), identities=len(identities), identities_merged=people.folded, active_last_90_days=active,
        merged=[MergedAuthor(name=authors[keys[0]].name,
                             emails=[identities[k].email for k in keys],
                             names=sorted({identities[k].name for k in keys}))
                for keys in people.groups[:top]],
        top=[AuthorStats(name=a.name, email=a.email, commits=a.commits, lines_added=a.added,
                         lines_deleted=a.deleted, first=iso(a.first), last=iso(a.last)) for a in ranked[:top]],
    )
    note = people.note()
    if note:
        summary.notes.append(note)
    return summary


def _churn(files: dict[str, FileAcc], dirs: dict[str, DirAcc], listed: dict[str, str], top: int,
           generated: GeneratedFiles | None = None, include_generated: bool = False) -> ChurnSummary:
    """Files and directories by churn. The file list leaves out generated files (a lock file rewritten by every
    dependency bump tops it otherwise) unless `include_generated`, counting them per reason; the totals and the
    directories count every file."""
    ranked = sorted(files.items(), key=lambda kv: (-(kv[1].added + kv[1].deleted), -kv[1].revisions, kv[0]))
    ranked_dirs = sorted(dirs.items(), key=lambda kv: (-(kv[1].added + kv[1].deleted), -kv[1].revisions, kv[0]))
    reason = generated.reason if generated is not None else (lambda path: None)
    left_out: Counter[str] = Counter()
    shown: list[FileChurn] = []
    for path, acc in ranked:
        why = reason(path)
        if why and not include_generated:
            left_out[why] += 1
            continue
        if len(shown) < top:
            shown.append(FileChurn(path=path, revisions=acc.revisions, lines_added=acc.added,
                                   lines_deleted=acc.deleted, churn=acc.added + acc.deleted,
                                   authors=len(acc.author_revs), binary=acc.binary, exists=path in listed,
                                   generated=why))
        elif include_generated:
            break  # nothing left to count
    return ChurnSummary(
        formula="churn = lines added + lines deleted (git numstat), summed over the commits of the window; "
                "revisions = commits that changed the file; a directory's revisions count each commit once; "
                "generated files (lock files, .gitattributes linguist-generated/linguist-vendored, vendored paths, "
                "generated names) are left out of the file list unless asked for, and counted in the totals and "
                "directories",
        files_total=len(files), lines_added=sum(f.added for f in files.values()),
        lines_deleted=sum(f.deleted for f in files.values()),
        files=shown,
        directories=[DirectoryChurn(path=p, files=len(d.files), revisions=d.revisions, lines_added=d.added,
                                    lines_deleted=d.deleted, churn=d.added + d.deleted) for p, d in ranked_dirs[:top]],
        generated_included=include_generated,
        left_out=dict(sorted(left_out.items())),
    )


def count_lines(data: bytes) -> int:
    """Lines of a text: newline characters, plus one for a last line without a newline."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def head_lines(root: Path, relative: bool, specs: Sequence[str], head: str = "HEAD") -> dict[str, int | None] | None:
    """Lines of every file at `head` (HEAD, or the commit it named when the pass began) from one `git diff-tree
    --numstat <empty tree> <head>` (None for a binary file); None when git cannot say (e.g. blobs missing in a
    partial clone)."""
    import subprocess

    env = {**git_env(), "GIT_NO_LAZY_FETCH": "1"}
    try:
        empty = subprocess.run(git_command(root, "hash-object", "-t", "tree", "--stdin"), input=b"",
                               capture_output=True, env=env, timeout=60, check=False)
        if empty.returncode != 0:
            return None
        proc = subprocess.run(
            # diff-tree compares two trees (never the work tree, so no clean filter can run).
            git_command(root, "diff-tree", "-r", "-z", "--numstat", "--no-renames", "--no-ext-diff", "--no-textconv",
                        "--no-show-signature", "--no-color", *(["--relative"] if relative else []),
                        empty.stdout.decode().strip(), head, "--", *specs),
            capture_output=True, env=env, timeout=600, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    found: dict[str, int | None] = {}
    for entry in proc.stdout.split(b"\x00"):
        added, tab1, rest = entry.partition(b"\t")
        _deleted, tab2, path = rest.partition(b"\t")
        if tab1 and tab2 and path:
            found[path.decode("utf-8", "replace")] = int(added) if added.isdigit() else None
    return found


def _generated(workspace: Workspace, files: dict[str, FileAcc], listed: dict[str, str]) -> GeneratedFiles:
    """The generated-file test, with the repository's linguist attributes when it has a `.gitattributes` file (one
    `git check-attr` over the files of the window; skipped when there is none)."""
    has_attributes = any(name == ".gitattributes" or name.endswith("/.gitattributes") for name in listed)
    return GeneratedFiles(attribute_marks(workspace.root, files) if has_attributes else None)


def _hotspots(
    files: dict[str, FileAcc], listed: dict[str, str], workspace: Workspace, top: int,
    lines_at_head: dict[str, int | None] | None, generated: GeneratedFiles | None = None,
    include_generated: bool = False,
) -> HotspotSummary:
    # Rows as tuples, sorted, and a model built only for the rows shown: a model per file of a long window cost
    # more than the sort (7,437 files on terraform's newest 10,000 commits).
    rows: list[tuple[int, int, str, int, str | None]] = []  # (score, revisions, path, lines, generated)
    reason = generated.reason if generated is not None else None
    for name, acc in files.items():
        if acc.binary:
            continue
        if lines_at_head is not None:
            lines = lines_at_head.get(name)
            if lines is None:
                continue  # deleted since, or binary now
        else:  # git could not count: read the working-tree file through the Workspace
            if name not in listed:
                continue
            try:
                data = workspace.read_bytes(listed[name])
            except (ReadError, OrchestratorError):
                continue  # too big, unreadable or outside the root: no size to multiply by
            if b"\x00" in data[:8192]:
                continue
            lines = count_lines(data)
        rows.append((acc.revisions * lines, acc.revisions, name, lines, reason(name) if reason is not None else None))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    left_out = [r for r in rows if r[4]] if not include_generated else []
    if left_out:
        rows = [r for r in rows if not r[4]]

    def hotspot(row: tuple[int, int, str, int, str | None]) -> Hotspot:
        score, revisions, name, lines, why = row
        return Hotspot(path=name, revisions=revisions, lines=lines, score=score, generated=why)

    source = "at HEAD (git diff-tree --numstat against the empty tree)" if lines_at_head is not None else \
        "in the working tree"
    return HotspotSummary(
        formula=f"score = revisions in the window x lines of the file {source} (Tornhill's hotspot with lines as "
                "the complexity measure); files deleted since and binary files are left out, and so are generated "
                "files (lock files, .gitattributes linguist-generated/linguist-vendored, vendored paths, generated "
                "names) unless asked for",
        items=[hotspot(r) for r in rows[:top]], generated_included=include_generated,
        left_out=dict(sorted(Counter(r[4] for r in left_out if r[4]).items())),
        left_out_items=[hotspot(r) for r in left_out[:top]],
    )


def _coupling(aggregate: Aggregator, top: int, generated: GeneratedFiles | None = None,
              include_generated: bool = False, fixture: Callable[[str], bool] | None = None,
              include_fixtures: bool = False) -> CouplingSummary:
    """Revisions over the commits kept were counted as the stream went by (`Aggregator.coupling_revs`); this pass
    counts the shared revisions of eligible files over the commits kept with two or more files. Pairs that meet the
    thresholds are then left out (and counted per reason) when a file is generated, or when both are test
    fixtures; the thresholds and the revisions are those of code-maat, over every file of the commits kept."""
    table, names, counts = aggregate.table, aggregate.names, aggregate.coupling_revs
    # A pair can only reach the shared-revision minimum if both files have at least that many revisions.
    eligible = sorted((fid for fid, count in enumerate(counts) if count >= COUPLING_MIN_SHARED), key=names.__getitem__)
    rank = {fid: position for position, fid in enumerate(eligible)}  # by name: pairs come out in name order
    shared: Counter[tuple[int, int]] = Counter()
    file_at, file_n, file_ids = table.file_at, table.file_n, table.file_ids

    def changesets() -> Iterator[Iterator[tuple[int, int]]]:
        for row in table.order:
            n = file_n[row]
            if n < 2:
                continue
            files = file_ids[file_at[row]:file_at[row] + n]
            if n > COUPLING_MAX_CHANGESET and len(set(files)) > COUPLING_MAX_CHANGESET:
                continue
            members = sorted({rank[f] for f in files if f in rank})
            if len(members) > 1:
                yield combinations(members, 2)

    # One update over every commit's pairs: an update per commit paid Counter's isinstance(Mapping) test each time.
    shared.update(chain.from_iterable(changesets()))
    revs = {names[fid]: counts[fid] for fid in eligible}
    skipped = aggregate.coupling_skipped
    pairs: list[CouplingPair] = []
    for (first_rank, second_rank), count in shared.items():
        first, second = names[eligible[first_rank]], names[eligible[second_rank]]
        average = (revs[first] + revs[second]) / 2
        degree = count / average * 100
        if average >= COUPLING_MIN_REVS and count >= COUPLING_MIN_SHARED and degree >= COUPLING_MIN_DEGREE:
            pairs.append(CouplingPair(path=first, coupled=second, degree=int(degree), shared_revisions=count,
                                      revisions=revs[first], coupled_revisions=revs[second],
                                      average_revisions=round(average, 2)))
    pairs.sort(key=lambda p: (-p.degree, -p.average_revisions, p.path, p.coupled))
    left_out: Counter[str] = Counter()
    kept: list[CouplingPair] = []
    for pair in pairs:
        if not include_generated and generated is not None and (
                generated.reason(pair.path) or generated.reason(pair.coupled)):
            left_out["a generated file"] += 1
        elif not include_fixtures and fixture is not None and fixture(pair.path) and fixture(pair.coupled):
            left_out["both test fixtures"] += 1
        else:
            kept.append(pair)
    return CouplingSummary(
        formula="degree = shared revisions / mean(revisions of A, revisions of B) x 100, truncated (code-maat's "
                "logical coupling); kept when mean revisions >= 5, shared revisions >= 5 and degree >= 30; commits "
                "touching more than 30 files are left out, and revisions are counted over the commits kept; pairs "
                "with a generated file, and pairs of two test fixtures (testdata/, fixtures/, ...), are left out "
                "unless asked for",
        commits_skipped_as_too_large=skipped, generated_included=include_generated,
        fixtures_included=include_fixtures, pairs_left_out=dict(sorted(left_out.items())), pairs=kept[:top],
    )


def _fragmentation(files: dict[str, FileAcc], names: dict[str, str], top: int) -> FragmentationSummary:
    values: list[float] = []
    rows: list[tuple[float, int, str, dict[str, int]]] = []  # (fragmentation rounded, revisions, path, counts)
    for path, acc in files.items():
        n = sum(acc.author_revs.values())
        value = 1 - sum((count / n) ** 2 for count in acc.author_revs.values())
        values.append(value)
        if len(acc.author_revs) > 1:  # only files with more than one author are listed
            rows.append((round(value, 4), n, path, acc.author_revs))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    items: list[FileFragmentation] = []
    for fragmentation, n, path, author_revs in rows[:top]:  # a model only for the files shown
        main, main_count = max(author_revs.items(), key=lambda kv: (kv[1], kv[0]))
        items.append(FileFragmentation(path=path, authors=len(author_revs), revisions=n, fragmentation=fragmentation,
                                       main_author=names.get(main, main), main_author_share=round(main_count / n, 4)))
    return FragmentationSummary(
        formula="fragmentation = 1 - sum over authors of (a_i / n)^2, a_i = the author's revisions of the file, "
                "n = all its revisions (0: one author; towards 1: many authors with equal shares); mean over all "
                "files changed in the window; the list shows files with more than one author",
        mean=round(statistics.fmean(values), 4) if values else None, files=items,
    )


def _bus_factor(dirs: dict[str, DirAcc], names: dict[str, str], top: int) -> BusFactorSummary:
    # (churn, path, bus factor, authors, measure, the five largest shares, total): a model only for those shown.
    rows: list[tuple[int, str, int, int, Literal["lines", "revisions"], list[tuple[str, int]], int]] = []
    for path, acc in dirs.items():
        use_lines = sum(acc.author_lines.values()) > 0
        weights = acc.author_lines if use_lines else acc.author_revs
        total = sum(weights.values())
        if total <= 0:
            continue
        ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
        covered, factor = 0, 0
        for _author, weight in ranked:
            covered += weight
            factor += 1
            if covered / total > BUS_FACTOR_SHARE:
                break
        rows.append((acc.added + acc.deleted, path, factor, len(ranked), "lines" if use_lines else "revisions",
                     ranked[:5], total))
    rows.sort(key=lambda r: (-r[0], r[1]))
    shown = [
        DirectoryBusFactor(
            path=path, bus_factor=factor, authors=authors, measure=measure,
            top_authors=[AuthorShare(author=names.get(a, a), share=round(w / total, 4)) for a, w in top5])
        for _churn, path, factor, authors, measure, top5, total in rows[:top]
    ]
    return BusFactorSummary(
        formula="bus factor of a directory = the smallest number of authors who together made more than 50% of "
                "its churn (lines added + deleted in the window; its files' revisions when it only has binary "
                "changes); 1 means one person made most of it. Directories by churn, most active first",
        directories=shown,
    )


def _empty(root: str, options: HistoryOptions) -> HistoryMetrics:
    dora, _ = dora_proxies(table=CommitTable(), reverts=[], names=[], tags=[], window=None, window_limited=False,
                           head=None)
    return HistoryMetrics(
        root=root, available=False, options=options,
        commit_frequency=CommitFrequency(formula="commits per ISO week (UTC, by author time)"),
        authors=AuthorSummary(formula="distinct author emails"),
        churn=ChurnSummary(formula="churn = lines added + lines deleted"),
        hotspots=HotspotSummary(formula="score = revisions x lines"),
        coupling=CouplingSummary(formula="degree = shared revisions / mean revisions x 100"),
        fragmentation=FragmentationSummary(formula="1 - sum((a_i / n)^2)"),
        bus_factor=BusFactorSummary(formula="smallest number of authors with more than 50% of the churn"),
        dora=dora,
    )
