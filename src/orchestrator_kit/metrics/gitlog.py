"""ONE streamed `git log --numstat` pass, run through GitPython's git runner, parsed as it arrives (on a long
history that keeps git busy, its rest is read by several git processes: see "Several git processes" below).

The command is `repo.git_command(...)` (no pager, fsmonitor and untracked cache off) with the environment of
`repo.git_env()` plus `GIT_NO_LAZY_FETCH=1`, so a partial clone never goes to the network for a missing blob.
The diff options make a hostile `.git/config` harmless as well: `--no-ext-diff`, `--no-textconv` (both could
run a configured program), `--no-show-signature` (`log.showSignature` would run gpg), `--no-color`, and an
explicit `--diff-merges=off` and `-M`/`--no-renames`, so that config cannot change what is counted.

Output format (`-z`): each commit starts with `RS + nonce`, then hash, parents, author time and committer time
separated by US, then US, author email, NUL, author name (mailmap applied), NUL and the raw message, then
`US + nonce + US`, then
the numstat entries, each NUL-terminated: `added TAB deleted TAB path`, or for a rename `added TAB deleted TAB`
NUL `old` NUL `new`. Binary files show `-` for both counts. The random nonce makes a message that happens to
contain the separators harmless; a name or an email may hold US too (`git commit` keeps control characters), but
never NUL (a commit header is a C string), hence NUL around them.

The stream is handed on a block of raw records at a time (`RecordSink`: what one read brought, about a thousand
small commits), so the consumer splits and sums them in one loop of its own: the history pass keeps no object per
commit; `parse_record` builds a `CommitRecord` where one is wanted (tests).

Missing objects (a partial clone, a damaged repository) make `git log` die part-way with
`fatal: unable to read <sha>` (or `could not fetch ... from promisor remote`). Then every complete commit read
so far is kept; the commit whose diff failed is recorded without its file changes; and the walk resumes after
it: `git rev-list` with the same revision arguments gives the order, and `git log --no-walk=unsorted --stdin`
continues with the commits not yet read. Each such gap is one Diagnostic.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import NamedTuple

from ..gitsafe import git_command, git_env, run_git
from ..models import Diagnostic

# A damaged repository could fail at every commit; past this many resumes the pass stops and says so.
MAX_RESUMES = 50
# Several git processes (`read_log`'s jobs): on a long history the diffs git computes for --numstat are most of the
# pass (85% of it on hashicorp/terraform), and one git process uses one CPU. So when the walk has run SPLIT_AFTER
# seconds and its reader spent most of that time waiting for git (this thread's CPU under GIT_BOUND of the time
# gone by), `git rev-list` (a fraction of a second even for 36k commits) lists the commits; if at least
# PARALLEL_MIN_COMMITS are left, the walk is stopped and the rest is cut into runs of consecutive commits, and one
# `git log --no-walk=unsorted --stdin` per run prints the same records as the walk would (same diffs against the
# first parent, same order), jobs at a time, each into a file of its own; the runs are handed on in order, the
# first while git still writes it; as many processes as the walk's own CPU plus the CPUs that stayed idle while
# it ran (`spare_jobs`: a load average lags by a minute and counts the walk itself).
# Missing objects in a run resume within that run, as below. A short history, or
# one whose commits are cheap to diff (the Python side sets the pace), keeps the one walk and pays nothing.
SPLIT_AFTER = 0.5
GIT_BOUND = 0.5
# The rev-list the decision needs is started in the background once the walk has run PRELIST_AFTER seconds waiting
# on git, with a CPU to spare: it is ready when the walk is weighed, instead of holding the walk's stop for its
# whole run (0.13 s on hashicorp/terraform's newest 10,000 commits). A history that ends sooner never pays for it.
PRELIST_AFTER = 0.25
PARALLEL_MIN_COMMITS = 2000
# ... and only when the commits left would keep the walk going SPLIT_WORTH seconds more at its pace so far: each
# run's process costs about 0.1-0.15 s of CPU to start deep in the history, and the split throws away what git was
# writing. On pallets/flask (5.5k commits, about 2,700 left after 0.5 s, 0.45 s more of walking) runs took 1.02 ->
# 1.40 s of CPU and 0.97 -> 1.03 s of wall time: not worth it.
SPLIT_WORTH = 2.0
# Each process that starts deep in the history pays to map and inflate its part of the packs afresh (about 0.1 s of
# system time per process on pallets/flask): few long runs, but two per job, so that a run of expensive commits
# does not hold back the others.
CHUNKS_PER_JOB = 2
MIN_CHUNK = 1000
# A very long history is cut into more runs, of at most MAX_CHUNK commits: with at most 2 x jobs runs started past
# the one being read, the runs' files on disk hold about (2 x jobs + 1) x MAX_CHUNK commits' records at most
# (hashicorp/terraform's newest 10,000 commits: 3.5 MB).
MAX_CHUNK = 20000
MAX_JOBS = 8  # git's diffs share the disk cache and memory bandwidth: more processes gained nothing measurable
GAPS_LISTED = 20  # one Diagnostic per unreadable commit up to this many, then one that counts the rest
# Reading the pipe: git flushes its output after every commit (a few hundred bytes for a small one), and a reader
# that waits on the pipe wakes for each flush: 24,000 wake-ups over 35,800 small commits, about 0.25 s of CPU (a
# blocking `read(256 KiB)` loops over the same wake-ups inside). So the pipe is widened where Linux allows it
# (F_SETPIPE_SZ, up to PIPE_BYTES), and after a read that found the pipe less than a quarter full the reader
# sleeps PAUSE seconds while git fills it: about 50 wake-ups a second (0.05 s of CPU on those 35,800 commits).
# Git only waits when it writes faster than a quarter of the pipe per PAUSE (12 MB/s with 1 MiB); progress and
# cancellation still come within a fraction of a second.
PIPE_BYTES = 1 << 20
PAUSE = 0.02
READ_CHUNK = PIPE_BYTES  # bytes asked per read (at most the pipe's capacity)
_MISSING_OBJECT = re.compile(
    r"unable to read|could not fetch|bad object|missing blob|missing tree|invalid object|"
    r"not a valid object|loose object .* is corrupt|packfile .* cannot be accessed",
    re.IGNORECASE,
)
_DROPPED = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_CEILING_DIRECTORIES")


class FileChange(NamedTuple):
    """One numstat entry. `added`/`deleted` are None for a binary file; `old_path` is set for a rename.
    (The parser builds plain tuples of this shape: they compare equal, and cost less on big histories.)"""

    path: str
    added: int | None
    deleted: int | None
    old_path: str | None = None


@dataclass(slots=True)
class CommitRecord:
    sha: str
    parents: tuple[str, ...]
    author_time: int
    commit_time: int
    email: str
    name: str
    raw_message: bytes
    files: list[FileChange] = field(default_factory=list)

    @property
    def message(self) -> str:
        """The message, decoded when asked (most commits' messages are never read)."""
        return self.raw_message.decode("utf-8", "replace")

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()


# Commits as git printed them, and the end marker: each record is `header_format`'s header (sha, parents, author
# time, committer time, then author email, author name and raw message: see `header_fields`), the end marker, and
# its `-z --numstat` bytes (none when its changes are unknown), the begin marker removed. The sink returns how many
# records had a complete header (the others are skipped) and the sha of the last of them.
RecordSink = Callable[[list[bytes], bytes], tuple[int, bytes]]


@dataclass
class LogResult:
    commits: int  # how many commits were handed to the sink (no commit is kept here)
    diagnostics: list[Diagnostic]
    partial_reasons: list[str]
    # Every commit of the request was handed on (some perhaps without their changes): false when git could not
    # start, stopped early, or a commit's header could not be read either.
    complete: bool = True


@dataclass(frozen=True)
class LogRequest:
    """What to read: revision arguments (`HEAD`, `--since=...`, `--max-count=N`), diff options and pathspecs."""

    revisions: tuple[str, ...]
    renames: bool = True
    relative: bool = False
    pathspecs: tuple[str, ...] = ()

    def diff_options(self) -> list[str]:
        return [
            "-z", "--numstat", "--no-color", "--no-ext-diff", "--no-textconv", "--no-show-signature",
            "--diff-merges=off", "--encoding=UTF-8",
            "-M" if self.renames else "--no-renames",
            *(["--relative"] if self.relative else []),
        ]

    def display(self) -> str:
        """The command as a person would type it (the safety options and the output format left out)."""
        parts = ["git log --numstat", "-M" if self.renames else "--no-renames", "--diff-merges=off"]
        if self.relative:
            parts.append("--relative")
        parts.extend(self.revisions)
        if self.pathspecs:
            parts += ["--", *self.pathspecs]
        return " ".join(parts)


def header_format(nonce: str) -> str:
    return f"%x1e{nonce}%H%x1f%P%x1f%at%x1f%ct%x1f%aE%x00%aN%x00%B%x1f{nonce}%x1f"


def header_fields(head: bytes) -> list[bytes] | None:
    """The 7 header fields of `header_format`'s bytes (before the end marker); None when some are missing."""
    fields = head.split(b"\x1f", 4)
    if len(fields) != 5:
        return None
    people = fields.pop().split(b"\x00", 2)
    return fields + people if len(people) == 3 else None


def stream_env(root: Path) -> dict[str, str]:
    """`git_env()` for GitPython, which starts from `os.environ`: variables that git_env drops are pinned to
    this repository's own values instead (so an inherited GIT_DIR cannot point the pass at another repo)."""
    env = git_env()
    env["GIT_NO_LAZY_FETCH"] = "1"
    if any(name in os.environ for name in _DROPPED):
        proc = run_git(root, "rev-parse", "--absolute-git-dir", "--git-path", "objects", "--git-path", "index")
        lines = proc.stdout.decode("utf-8", "replace").splitlines() if proc.returncode == 0 else []
        if len(lines) == 3:
            git_dir = lines[0]
            env["GIT_DIR"] = git_dir
            env["GIT_OBJECT_DIRECTORY"] = str((Path(root) / lines[1]).resolve())
            env["GIT_INDEX_FILE"] = str((Path(root) / lines[2]).resolve())
            env["GIT_WORK_TREE"] = str(root)
            env["GIT_CEILING_DIRECTORIES"] = ""
    # Every other inherited GIT_* variable (GIT_CONFIG_PARAMETERS, GIT_EXTERNAL_DIFF, GIT_PAGER, ...) is emptied:
    # GitPython cannot remove a variable, and the empty value means "unset" to git for each of them.
    for name in os.environ:
        if name.startswith("GIT_") and name not in env:
            env[name] = "0" if name == "GIT_CONFIG_COUNT" else ""
    return env


def workers_available() -> int:
    """How many git processes the history pass may run at once: the CPUs this process may use, at most MAX_JOBS."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    return max(1, min(MAX_JOBS, count))


def cpu_times() -> tuple[int, int] | None:
    """(idle, total) clock ticks of all the machine's CPUs so far, from Linux's /proc/stat (idle counts iowait;
    total is user + nice + system + idle + iowait + irq + softirq + steal); None where there is no /proc/stat."""
    try:
        with open("/proc/stat", "rb") as stat:
            fields = stat.readline().split()
        ticks = [int(value) for value in fields[1:9]]
    except (OSError, ValueError):
        return None
    if fields[:1] != [b"cpu"] or len(ticks) < 5:
        return None
    return ticks[3] + ticks[4], sum(ticks)


def spare_jobs(jobs: int, since: tuple[int, int] | None) -> int:
    """At most `jobs` git processes, and no more than the walk's own CPU plus the CPUs that stayed idle since
    `since` (a `cpu_times()`): 1 + int(CPUs x idle ticks / all ticks + 0.75). A quarter of a CPU counts as one,
    because the pass's own short git processes (lines at HEAD, tags, the file list) share the first half second:
    on hashicorp/terraform, on 2 otherwise idle CPUs, 0.49-0.58 CPUs stay idle then; under another CPU-bound job,
    0-0.2. Without /proc/stat, the 1-minute load average stands in: CPUs + 1 - load (`make --load-average`)."""
    usable = workers_available()
    now = cpu_times()
    if since is not None and now is not None and now[1] > since[1]:
        idle = (os.cpu_count() or usable) * (now[0] - since[0]) / (now[1] - since[1])
        return max(1, min(jobs, usable, 1 + int(idle + 0.75)))
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not available here
        return jobs
    return max(1, min(jobs, usable, int(usable + 1 - load)))


def read_log(
    root: Path, request: LogRequest, sink: RecordSink, *, boundary: frozenset[str] = frozenset(),
    jobs: int | None = None, head: str | None = None,
) -> LogResult:
    """Hand every commit of `request` to `sink`, newest first (git's order), while git still works on the next
    ones; see the module docstring. Commits in `boundary` (a shallow clone's edge) are handed without changes:
    their diff shows the whole tree as added, which is not a change anyone made. `jobs` git processes at most
    (None: `workers_available()`; 1: one `git log`, as the pass always did); see "Several git processes".
    `head`: the commit HEAD named when the pass began; every git process of the pass reads from it (a commit
    made meanwhile would otherwise be seen by a later rev-list but not by the walk)."""
    if head:
        request = replace(request, revisions=tuple(head if revision == "HEAD" else revision
                                                   for revision in request.revisions))
    reader = _Reader(root, request, sink, boundary, workers_available() if jobs is None else max(1, jobs))
    try:
        reader.read(None)
    finally:
        reader.close()
    if reader.gaps > GAPS_LISTED:
        reader.diagnostics.append(Diagnostic(path=".", detector="metrics.history",
                                             reason=f"{reader.gaps - GAPS_LISTED} more commits could not be read "
                                                    "(not listed)"))
    return LogResult(commits=reader.handed, diagnostics=reader.diagnostics, partial_reasons=reader.partial,
                     complete=reader.complete)


# The outcome of one git log run: exit status, stderr, and the trailing record when git failed (see `_stream`).
Outcome = tuple[int, str, bytes]


class _Reader:
    """One `read_log` call: the commits handed on so far, and the resumption after missing objects."""

    def __init__(self, root: Path, request: LogRequest, sink: RecordSink, boundary: frozenset[str],
                 jobs: int) -> None:
        self.root, self.request, self.sink, self.jobs = root, request, sink, jobs
        self.nonce = secrets.token_hex(8)
        self.env = stream_env(root)
        self.end = b"\x1f" + self.nonce.encode() + b"\x1f"
        self.boundary = frozenset(sha.encode("ascii") for sha in boundary)
        self.handed = 0  # commits handed on
        self.last = b""  # the sha of the last one
        self.diagnostics: list[Diagnostic] = []
        self.partial: list[str] = []
        self.gaps = 0
        self.resumes = 0
        self.complete = True
        self.ordered: list[str] | None = None  # the request's commits in order, once rev-list was asked
        self.listing: threading.Thread | None = None  # the rev-list started ahead (PRELIST_AFTER), its reader
        self.listing_proc: subprocess.Popen[bytes] | None = None  # and its git
        self.listing_result: list[list[str]] = []
        self.later = 0  # commits of the chunks after the one being read
        self.split_decided = False  # the walk was weighed for runs (once)
        self.rest: list[str] = []  # the commits the runs take over from the walk
        self.walk_started = (0.0, 0.0)  # the walk's start: wall clock, this thread's CPU
        self.walk_ticks: tuple[int, int] | None = None  # and the machine's idle and total CPU ticks (cpu_times)
        self.walk_handed = 0  # and the commits handed on before it

    def counted(self, records: list[bytes]) -> None:
        if self.boundary:
            records = [_without_changes(r, self.end) if r[:r.find(b"\x1f")] in self.boundary else r for r in records]
        handed, sha = self.sink(records, self.end)
        if handed:
            self.handed += handed
            self.last = sha

    def args(self, listed: bool) -> list[str]:
        """The git log arguments: a walk of the request's revisions, or (`listed`) the commits given on stdin."""
        revisions = ["--no-walk=unsorted", "--stdin"] if listed else list(self.request.revisions)
        return ["log", *self.request.diff_options(), f"--format={header_format(self.nonce)}", *revisions,
                "--", *self.request.pathspecs]

    def watched(self, records: list[bytes]) -> None:
        """`counted`, and once the walk has run SPLIT_AFTER seconds waiting on git most of the time, the decision
        to hand the rest to several processes (raises _Split; see "Several git processes"). A busy machine is
        weighed again every SPLIT_AFTER seconds; a busy reader or a short rest decides for the whole walk."""
        self.counted(records)
        if self.split_decided:
            return
        started, cpu = self.walk_started
        elapsed = time.perf_counter() - started
        if elapsed < SPLIT_AFTER:
            if elapsed >= PRELIST_AFTER and self.listing is None and self.ordered is None \
                    and time.thread_time() - cpu <= GIT_BOUND * elapsed and spare_jobs(self.jobs, self.walk_ticks) > 1:
                self._list_ahead()
            return
        self.split_decided = True
        if time.thread_time() - cpu > GIT_BOUND * elapsed:
            return  # this thread was busy: the Python side sets the pace, more git processes would not help
        jobs = spare_jobs(self.jobs, self.walk_ticks)
        if jobs < 2:  # the machine is busy: more processes would only share the same CPUs; weigh it again later
            self.split_decided = False
            self._window()
            return
        ordered = self._listed()
        if not ordered:
            return
        try:
            position = ordered.index(self.last.decode("ascii", "replace")) + 1 if self.last else 0
        except ValueError:  # HEAD was rewritten since the walk began: go on walking
            return
        left = len(ordered) - position
        rate = (self.handed - self.walk_handed) / elapsed  # commits per second of the walk so far
        if left >= PARALLEL_MIN_COMMITS and left >= rate * SPLIT_WORTH:
            self.rest, self.jobs = ordered[position:], jobs
            raise _Split

    def _list_ahead(self) -> None:
        """Start the rev-list of the request (PRELIST_AFTER), read in a thread; `_listed` takes its result. Nothing
        is started when git cannot be (`_listed` then asks in the foreground, as without a rev-list ahead)."""
        try:
            proc = subprocess.Popen(_rev_list_command(self.root, self.request), stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=self.env)
        except OSError:
            return

        def run() -> None:
            try:
                out, _ = proc.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            self.listing_result.append(out.decode("ascii", "replace").split() if proc.returncode == 0 else [])

        self.listing_proc = proc
        self.listing = threading.Thread(target=run, name="okit-rev-list", daemon=True)
        self.listing.start()

    def _listed(self) -> list[str]:
        """The request's commits in git log's order (empty when rev-list failed; it is asked again next time),
        from the rev-list started ahead when there is one."""
        if self.ordered is None:
            if self.listing is not None:
                self.listing.join()
                self.listing = None
                ordered = self.listing_result.pop() if self.listing_result else []
            else:
                ordered = _rev_list(self.root, self.request, self.env)
            self.ordered = ordered or None
        return self.ordered or []

    def close(self) -> None:
        """End a rev-list started ahead and never used, so that no git outlives the pass: it is stopped, not waited
        for (a canceled pass on 77k commits waited 0.3-0.5 s for it before the cancellation went on)."""
        if self.listing is not None:
            if self.listing_proc is not None and self.listing_proc.poll() is None:
                self.listing_proc.kill()
            self.listing.join()

    def _window(self) -> None:
        """Start the span over which the walk is weighed."""
        self.walk_started = (time.perf_counter(), time.thread_time())
        self.walk_ticks, self.walk_handed = cpu_times(), self.handed

    def runs(self, commits: list[str]) -> list[list[str]]:
        """`commits` cut into runs of consecutive commits: CHUNKS_PER_JOB per job, MIN_CHUNK commits at least,
        MAX_CHUNK at most."""
        count = max(1, min(self.jobs * CHUNKS_PER_JOB, len(commits) // MIN_CHUNK), -(-len(commits) // MAX_CHUNK))
        size = -(-len(commits) // count)
        return [commits[start:start + size] for start in range(0, len(commits), size)]

    def read_chunks(self, chunks: list[list[str]], jobs: int) -> bool:
        """Run one git log per chunk, `jobs` at a time, each writing to a file of its own; hand the files' records
        on in order, the first while the others are still being written (see "Several git processes")."""
        with contextlib.ExitStack() as stack:
            try:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="okit-log-"))
                prefetch = stack.enter_context(_Prefetcher(self.root, self.args(True), self.env, chunks, jobs,
                                                           Path(folder), self.nonce))
            except OSError:  # no room for the runs' files, or no process to spare: one git log reads them all
                stack.close()
                return self.read([sha for chunk in chunks for sha in chunk])
            for index, chunk in enumerate(chunks):
                self.later = sum(len(rest) for rest in chunks[index + 1:])
                outcome = prefetch.outcome(index, self.counted)
                if outcome is None:  # the run could not start (no process, no file): one git log reads the rest
                    self.later = 0
                    return self.read([sha for rest in chunks[index:] for sha in rest])
                if not self.read(chunk, outcome, partial(prefetch.continuation, index, sink=self.counted)):
                    return False
        return True

    def read(self, listed: list[str] | None, first: Outcome | None = None,
             prepared: Callable[[list[str]], Outcome | None] | None = None) -> bool:
        """Read the request's walk (`listed` None) or the commits `listed`, resuming after missing objects (module
        docstring); `first` is the outcome of a run already made, and `prepared(commits)` that of a continuation
        already made (None: git is run here). False when reading had to stop."""
        args = self.args(listed is not None)
        stdin = listed
        order: dict[str, int] | None = None
        ordered = listed
        retried: str | None = None
        prepared_failed = False  # a run's own git failed for another reason than missing objects (disk full, ...)
        while True:
            from_file = first is not None
            if first is not None:
                (status, stderr, trailing), first = first, None
            else:
                watch = listed is None and self.jobs > 1 and not self.split_decided
                if watch:
                    self._window()
                try:
                    status, stderr, trailing = _stream(self.root, args, self.env, self.nonce, stdin,
                                                       self.watched if watch else self.counted)
                except _Split:  # git was stopped; the commits after the last one handed on go to the runs
                    return self.read_chunks(self.runs(self.rest), self.jobs)
                except OSError as exc:  # git missing, or cannot start
                    self.diagnostics.append(Diagnostic(path=".", reason=f"cannot run git log: {exc}",
                                                       detector="metrics.history"))
                    self.partial.append("git log could not start")
                    self.complete = False
                    return False
            if status == 0:
                return True
            message = _last_line(stderr)
            if not _MISSING_OBJECT.search(stderr) and from_file and not prepared_failed and ordered is not None:
                # A run's git (which wrote to a file) failed: the reader runs git itself for the rest of the run
                prepared_failed, prepared = True, None
                order = order or {sha: i for i, sha in enumerate(ordered)}
                args, stdin = self.args(True), ordered[self._after_last(order):]
                if not stdin:
                    return True
                continue
            if not _MISSING_OBJECT.search(stderr):
                self.diagnostics.append(Diagnostic(path=".", severity="error", detector="metrics.history",
                                                   reason=f"git log stopped after {self.handed} commits: {message}"))
                self.partial.append(f"git log stopped early ({message})")
                self.complete = False
                return False
            if self.resumes >= MAX_RESUMES:
                self.partial.append(f"stopped after {MAX_RESUMES} unreadable commits; later commits were not read")
                self.complete = False
                return False
            self.resumes += 1
            if ordered is None:
                ordered = self._listed()
            if order is None:
                order = {sha: i for i, sha in enumerate(ordered)}
            position = self._after_last(order)
            if not ordered or position >= len(ordered):
                self.diagnostics.append(Diagnostic(
                    path=".", severity="error", detector="metrics.history",
                    reason=f"git log stopped after {self.handed} commits ({message}) and the remaining commits "
                           "could not be listed"))
                self.partial.append(f"git log stopped early ({message})")
                self.complete = False
                return False
            failed_sha = ordered[position]
            trailing_sha = _record_sha(trailing, self.end)
            start, retried = _resume_from(ordered, position, trailing_sha, retried)
            if start == position:
                remaining = ordered[position:]
            else:
                header = (_without_changes(trailing, self.end) if trailing and trailing_sha == failed_sha
                          else _header_only(self.root, self.env, self.nonce, failed_sha))
                if header is not None:
                    self.counted([header])  # counted, without its file changes
                else:
                    self.complete = False
                remaining = ordered[position + 1:]
                self._gap(failed_sha, message, len(remaining) + self.later)
            if not remaining:
                return True
            args, stdin = self.args(True), remaining
            if prepared is not None:
                first = prepared(remaining)

    def _after_last(self, order: dict[str, int]) -> int:
        """The position in `order` of the commit after the last one handed on (0 when that one is not among them:
        an earlier run's, or none yet)."""
        return order.get(self.last.decode("ascii", "replace"), -1) + 1 if self.handed else 0

    def _gap(self, sha: str, message: str, remaining: int) -> None:
        self.gaps += 1
        if self.gaps <= GAPS_LISTED:
            self.diagnostics.append(Diagnostic(
                path=".", detector="metrics.history",
                reason=f"commit {sha[:12]}: its changes could not be read ({message}); counted without "
                       f"file changes; reading went on with the {remaining} commits after it",
            ))
        if self.gaps == 1:
            self.partial.append("missing objects: some commits are counted without their file changes")
            if _partial_clone(self.root, self.env):
                self.diagnostics.append(Diagnostic(
                    path=".", detector="metrics.history",
                    reason="partial clone: blobs missing here are fetched on demand, which a scan never does "
                           "(GIT_NO_LAZY_FETCH=1); fetch them first for full line counts"))


class _Split(Exception):
    """Raised through `_stream` (which then stops git) when the walk hands its remaining commits to runs."""


@dataclass
class _Segment:
    """One git process of a run: the commits it was given, its files, and whether it was read."""

    commits: list[str]
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path
    followed: bool = False  # its continuation (after missing objects) was started, or none is needed


class _Prefetcher:
    """Runs `git log --no-walk=unsorted --stdin` over each run, `jobs` processes at a time in run order, each
    writing its records to a file; `outcome(i)` hands run i's records on as they are written.

    A run whose git died on missing objects is continued at once, as `_Reader.read` would continue it (module
    docstring: the commit whose header was printed is read again once, else the commit after the last complete
    one is skipped), so that the continuation runs while earlier runs are still read; `continuation(i, commits)`
    hands it on when the reader asks for exactly those commits, and None otherwise (the reader then runs git)."""

    def __init__(self, root: Path, args: list[str], env: dict[str, str], chunks: list[list[str]], jobs: int,
                 folder: Path, nonce: str) -> None:
        self.command = git_command(root, *args)
        self.env, self.chunks, self.folder, self.jobs = env, chunks, folder, jobs
        self.begin = b"\x1e" + nonce.encode()
        self.end = b"\x1f" + nonce.encode() + b"\x1f"
        self.segments: dict[int, list[_Segment]] = {}
        self.read_upto: dict[int, int] = {}  # run -> segments already handed on
        self.retried: dict[int, str | None] = {}  # run -> the commit its last continuation reads again
        self.next = 0  # the next run to start
        self.reading = 0  # the run being handed on
        self.continued = 0  # continuations started (at most MAX_RESUMES, as the reader's own resumes)
        self.unstartable = False  # a start failed (no process, no room): no more runs start here
        self.files = 0
        self.lock = threading.Lock()
        self.closed = False

    def __enter__(self) -> _Prefetcher:
        try:
            with self.lock:
                while self.next < min(self.jobs, len(self.chunks)):
                    self._start(self.next, self.chunks[self.next])
                    self.next += 1
        except BaseException:
            self.__exit__()  # the processes already started do not outlive a failed start
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.closed = True
            procs = [segment.proc for segments in self.segments.values() for segment in segments]
        for proc in procs:  # a consumer that stopped early (cancelled, an error) leaves no git behind
            if proc.poll() is None:
                proc.kill()
            proc.wait()

    def _start(self, index: int, commits: list[str]) -> None:
        self.files += 1
        stem = self.folder / str(self.files)
        ids_path, out, err = stem.with_suffix(".in"), stem.with_suffix(".log"), stem.with_suffix(".err")
        ids_path.write_bytes(("\n".join(commits) + "\n").encode())
        segments = self.segments.setdefault(index, [])
        proc: subprocess.Popen[bytes] | None = None
        try:
            with open(ids_path, "rb") as ids, open(out, "wb") as stdout, open(err, "wb") as stderr:
                proc = subprocess.Popen(self.command, stdin=ids, stdout=stdout, stderr=stderr, env=self.env)
            segments.append(_Segment(commits, proc, out, err))
        except BaseException:  # an exception landing here (a call budget's) must not leave this git unwatched
            if proc is not None and not any(segment.proc is proc for segment in segments):
                proc.kill()
                proc.wait()
            raise
        with contextlib.suppress(OSError):
            ids_path.unlink()

    def _try_start(self, index: int, commits: list[str]) -> bool:
        """`_start`, and False instead of an OSError (then no more runs start: the reader falls back)."""
        try:
            self._start(index, commits)
        except OSError:
            self.unstartable = True
            return False
        return True

    def _finished(self) -> None:
        """Continue the runs whose git died on missing objects, and start the next runs in place of the processes
        that ended (called by the consumer as it waits)."""
        with self.lock:
            if self.closed:
                return
            running = 0
            for index, segments in list(self.segments.items()):
                last = segments[-1]
                if last.proc.poll() is None:
                    running += 1
                elif not last.followed:
                    last.followed = True
                    # Past MAX_RESUMES, or when a start fails, the reader continues the run itself (and stops
                    # where it must): continuation() finds no prepared part.
                    rest = self._rest(index, last) if self.continued < MAX_RESUMES and not self.unstartable else []
                    if rest and self._try_start(index, rest):
                        self.continued += 1
                        running += 1
            # Runs start in order, at most `jobs` at once and at most 2 x jobs runs past the one being read, so
            # that the files waiting on disk hold a bounded part of the history (see MAX_CHUNK).
            while (running < self.jobs and self.next < len(self.chunks) and not self.unstartable
                   and self.next <= self.reading + 2 * self.jobs):
                if not self._try_start(self.next, self.chunks[self.next]):
                    break
                self.next += 1
                running += 1

    def _rest(self, index: int, segment: _Segment) -> list[str]:
        """The commits `_Reader.read` will ask for after `segment` ended (none when it ended well, or for a reason
        other than missing objects)."""
        if segment.proc.returncode == 0:
            return []
        try:
            if not _MISSING_OBJECT.search(segment.err.read_bytes().decode("utf-8", "replace")):
                return []
            parts = segment.out.read_bytes().split(self.begin)
        except OSError:
            return []
        trailing = parts.pop()
        complete = [sha for part in parts if (sha := _record_sha(part, self.end)) is not None]
        commits = segment.commits
        position = commits.index(complete[-1]) + 1 if complete and complete[-1] in commits else 0
        if position >= len(commits):
            return []
        start, self.retried[index] = _resume_from(commits, position, _record_sha(trailing, self.end),
                                                  self.retried.get(index))
        return commits[start:]

    def outcome(self, index: int, sink: Callable[[list[bytes]], None]) -> Outcome | None:
        """Hand run `index`'s first records to `sink` as its git writes them; then its exit status, stderr and
        trailing record (as `_stream` returns them). None when the run could not be started."""
        self.reading = index
        self._finished()
        if not self.segments.get(index):
            return None
        return self._hand(index, 0, sink)

    def continuation(self, index: int, commits: list[str], sink: Callable[[list[bytes]], None]) -> Outcome | None:
        """The outcome of run `index`'s next part if it reads exactly `commits`, its records handed to `sink`."""
        self._finished()
        upto = self.read_upto.get(index, 0)
        segments = self.segments.get(index, [])
        if upto >= len(segments) or segments[upto].commits != commits:
            return None
        return self._hand(index, upto, sink)

    def _hand(self, index: int, number: int, sink: Callable[[list[bytes]], None]) -> Outcome:
        segment = self.segments[index][number]
        self.read_upto[index] = number + 1
        proc = segment.proc
        records = _Records(self.begin, sink)
        with open(segment.out, "rb") as stream:
            while True:
                chunk = stream.read(READ_CHUNK)
                if chunk:
                    records.add(chunk)
                    continue
                if proc.poll() is not None:
                    rest = stream.read()
                    if not rest:
                        break
                    records.add(rest)
                    continue
                self._finished()
                time.sleep(PAUSE)  # git is still writing this run
        self._finished()  # before the files go: a continuation is worked out from them
        status = proc.returncode
        stderr = segment.err.read_bytes().decode("utf-8", "replace")
        for path in (segment.out, segment.err):
            with contextlib.suppress(OSError):
                path.unlink()
        return status, stderr, records.finish(status)


def _stream(
    root: Path, args: Sequence[str], env: dict[str, str], nonce: str, stdin: list[str] | None,
    sink: Callable[[list[bytes]], None],
) -> tuple[int, str, bytes]:
    """Run one git log through GitPython, handing the complete records of each read to `sink` (the begin marker
    removed).

    Returns (exit status, stderr, the trailing record when git failed: a header whose changes may be cut short).
    """
    import git as gitpython  # GitPython: imported here, so that `scan` and `--help` never load it

    runner = gitpython.Git(str(root))
    try:
        handle = runner.execute(git_command(root, *args), as_process=True, env=env,
                                istream=subprocess.PIPE if stdin is not None else None)
    except gitpython.GitCommandNotFound as exc:
        raise OSError(str(exc)) from None
    proc: subprocess.Popen[bytes] = handle.proc  # type: ignore[assignment]
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
    drain.start()
    if stdin is not None:
        feeder = threading.Thread(target=_feed, args=(proc, stdin), daemon=True)
        feeder.start()
    records = _Records(b"\x1e" + nonce.encode(), sink)
    stdout = proc.stdout
    if stdout is None:  # never: execute() always opens stdout; this keeps the type checker honest
        return proc.wait(), "", b""
    try:
        fd = stdout.fileno()  # read with os.read: no buffered layer between git and the records
        size = min(_widen(fd), READ_CHUNK)
        read, sleep, add = os.read, time.sleep, records.add
        while True:
            chunk = read(fd, size)
            if not chunk:
                break
            if len(chunk) < size >> 2:
                sleep(PAUSE)  # let git fill the pipe: see PAUSE
            add(chunk)
    except BaseException:
        proc.kill()  # the consumer stopped (cancelled, or an error): git must not stay blocked on a full pipe
        proc.wait()
        drain.join(timeout=30)
        raise
    finally:
        status = proc.wait()
        drain.join(timeout=30)
    stderr = b"".join(errors).decode("utf-8", "replace")
    return status, stderr, records.finish(status)


class _Records:
    """A git log byte stream as it arrives (from a pipe or a run's file): its complete records are handed to `sink`
    (the begin marker removed) whenever a marker arrives; the last record waits, as it may not be complete yet."""

    def __init__(self, begin: bytes, sink: Callable[[list[bytes]], None]) -> None:
        self.begin, self.sink, self.buffer = begin, sink, b""

    def add(self, chunk: bytes) -> None:
        seen = len(self.buffer)
        self.buffer += chunk
        # Only split when a marker arrived (it may straddle the previous chunk's end).
        if self.buffer.find(self.begin, max(0, seen - len(self.begin))) >= 0:
            parts = self.buffer.split(self.begin)
            self.buffer = parts.pop()
            self.sink(parts)

    def finish(self, status: int) -> bytes:
        """Hand on what is left once git exited with `status`; when it failed, the last record is returned instead:
        a header whose changes may be cut short."""
        parts = self.buffer.split(self.begin)
        last = parts.pop()
        if status == 0 and last:
            parts.append(last)
            last = b""
        self.sink(parts)
        return last


def _record_sha(record: bytes, end: bytes) -> str | None:
    """The commit id of a record whose header is complete, else None."""
    fields = split_record(record, end) if record else None
    return fields[0][0].decode("ascii", "replace") if fields is not None else None


def _resume_from(commits: list[str], position: int, trailing_sha: str | None, retried: str | None
                 ) -> tuple[int, str | None]:
    """Where reading `commits` goes on after git died at `commits[position]`, and the commit read again so far.

    When git printed that commit's header before dying (`trailing_sha`), its changes may be complete or cut short:
    it is read again from the start, once (position). If it fails again there, or its header never came, it is the
    unreadable one and reading goes on after it (position + 1). One rule for the reader (`_Reader.read`) and for
    the runs' own continuations (`_Prefetcher._rest`), so that a prepared continuation is the one asked for."""
    failed = commits[position]
    if trailing_sha == failed and retried != failed:
        return position, failed
    return position + 1, retried


def _widen(fd: int) -> int:
    """The capacity of the pipe `fd` after asking Linux for PIPE_BYTES (64 KiB, Linux's default, elsewhere or when
    refused: past the per-user limit of pipe memory)."""
    try:
        import fcntl
    except ImportError:  # not on this system
        return 1 << 16
    set_size, get_size = getattr(fcntl, "F_SETPIPE_SZ", None), getattr(fcntl, "F_GETPIPE_SZ", None)
    if set_size is None or get_size is None:
        return 1 << 16
    with contextlib.suppress(OSError):  # refused: the pipe keeps the size it has
        fcntl.fcntl(fd, set_size, PIPE_BYTES)
    try:
        return max(int(fcntl.fcntl(fd, get_size)), 4096)
    except OSError:
        return 1 << 16


def _without_changes(record: bytes, end: bytes) -> bytes:
    """A record cut after its end marker: the commit without its file changes."""
    head, sep, _stats = record.partition(end)
    return head + sep


def _feed(proc: subprocess.Popen[bytes], revisions: list[str]) -> None:
    if proc.stdin is None:
        return
    try:
        proc.stdin.write(("\n".join(revisions) + "\n").encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError, ValueError):
        pass  # git died first; its exit status says why


def split_record(record: bytes, end: bytes) -> tuple[list[bytes], bytes] | None:
    """The 7 header fields and the numstat bytes of one record (the begin marker removed); None when the header
    is incomplete."""
    head, sep, stats = record.partition(end)
    if not sep:
        return None
    fields = header_fields(head)
    return (fields, stats) if fields is not None else None


def parse_record(record: bytes, end: bytes) -> CommitRecord | None:
    """One commit from its bytes (the begin marker removed); None when the header is incomplete."""
    split = split_record(record, end)
    if split is None:
        return None
    (sha, parents, author_time, commit_time, email, name, message), stats = split
    try:
        a_time, c_time = int(author_time), int(commit_time)
    except ValueError:
        return None
    commit = CommitRecord(
        sha=sha.decode("ascii", "replace"), parents=tuple(parents.decode("ascii", "replace").split()),
        author_time=a_time, commit_time=c_time, email=email.decode("utf-8", "replace"),
        name=name.decode("utf-8", "replace"), raw_message=message,
    )
    if stats:
        commit.files = parse_numstat(stats)
    return commit


# `added TAB deleted TAB path NUL`, or for a rename `added TAB deleted TAB NUL old NUL new NUL`; `-` for binary.
NUMSTAT = re.compile(rb"(\d+|-)\t(\d+|-)\t(?:([^\x00]+)\x00|\x00([^\x00]+)\x00([^\x00]+)\x00)")


def parse_numstat(stats: bytes) -> list[FileChange]:
    """The `-z --numstat` entries of one commit (bytes that match no entry, e.g. a cut-off rename, are skipped)."""
    files: list[FileChange] = []
    append = files.append
    for added, deleted, path, old, new in NUMSTAT.findall(stats):
        a = None if added == b"-" else int(added)
        d = None if deleted == b"-" else int(deleted)
        if path:
            append((path.decode("utf-8", "replace"), a, d, None))  # type: ignore[arg-type]
        else:
            append((new.decode("utf-8", "replace"), a, d, old.decode("utf-8", "replace")))  # type: ignore[arg-type]
    return files


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (fatal or lines or ["git exited with an error and no message"])[-1]


def _partial_clone(root: Path, env: dict[str, str]) -> bool:
    try:
        # A promisor remote (`remote.<name>.promisor`, set by `clone --filter`) or `extensions.partialClone`.
        pattern = r"^(remote\..*\.promisor|extensions\.partialclone)$"
        proc = subprocess.run(git_command(root, "config", "--get-regexp", pattern), capture_output=True, env=env,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


def _rev_list_command(root: Path, request: LogRequest) -> list[str]:
    return git_command(root, "rev-list", *request.revisions, "--", *request.pathspecs)


def _rev_list(root: Path, request: LogRequest, env: dict[str, str]) -> list[str]:
    """The commits of `request` in git log's order (rev-list walks the same way, without reading blobs)."""
    try:
        proc = subprocess.run(_rev_list_command(root, request), capture_output=True, env=env, timeout=600,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if proc.returncode != 0:
        return []
    return proc.stdout.decode("ascii", "replace").split()


def _header_only(root: Path, env: dict[str, str], nonce: str, sha: str) -> bytes | None:
    """A commit's record without its diff (reading it needs no blob), the begin marker removed."""
    try:
        proc = subprocess.run(
            git_command(root, "log", "-1", "--no-walk", "--no-ext-diff", "--no-textconv", "--no-show-signature",
                        "--encoding=UTF-8",
                        f"--format={header_format(nonce)}", sha, "--"),
            capture_output=True, env=env, timeout=60, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    data = proc.stdout
    begin = b"\x1e" + nonce.encode()
    if proc.returncode != 0 or not data.startswith(begin):
        return None
    end = b"\x1f" + nonce.encode() + b"\x1f"
    record = data[len(begin):]
    return _without_changes(record, end) if split_record(record, end) is not None else None
