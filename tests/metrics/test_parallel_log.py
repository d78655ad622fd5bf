"""The history pass read by several git processes (`gitlog.read_log` with jobs > 1) gives what one git log gives.

The thresholds are lowered here so that the walk of the 12-commit scripted history (`conftest.build_h1`: a rename,
a revert, a merge, a binary file, tags) hands its commits to runs of one to three commits: every run boundary falls
somewhere in it. Expected numbers are those of the one-process tests in test_history.py, worked out by hand there.
"""

from __future__ import annotations

import subprocess

import pytest

from orchestrator_kit.errors import InputError
from orchestrator_kit.metrics import gitlog
from orchestrator_kit.metrics.history import history_metrics

from ..conftest import git
from .conftest import Scripted, Stop, lines, stopping_at
from .test_history import _delete_blob


@pytest.fixture
def chunked(monkeypatch):
    """Hand the walk over to runs at its first look (before any commit: with 7-byte reads the first records seen
    are the empty one before the first marker), for any two commits left, in runs of at least one commit."""
    monkeypatch.setattr(gitlog, "SPLIT_AFTER", 0.0)
    monkeypatch.setattr(gitlog, "SPLIT_WORTH", 0.0)
    monkeypatch.setattr(gitlog, "GIT_BOUND", 10.0)
    monkeypatch.setattr(gitlog, "PARALLEL_MIN_COMMITS", 2)
    monkeypatch.setattr(gitlog, "MIN_CHUNK", 1)
    monkeypatch.setattr(gitlog, "READ_CHUNK", 7)
    monkeypatch.setattr(gitlog, "spare_jobs", lambda jobs, since: jobs)  # whatever else runs on this machine


@pytest.fixture
def started(monkeypatch):
    """Every git process the pass starts for a run (`_Prefetcher`), to check how many and that they ended."""
    procs: list[subprocess.Popen[bytes]] = []
    real = gitlog._Prefetcher._start

    def recording(self: gitlog._Prefetcher, index: int, commits: list[str]) -> None:
        real(self, index, commits)
        procs.append(self.segments[index][-1].proc)

    monkeypatch.setattr(gitlog._Prefetcher, "_start", recording)
    return procs


def _same(a, b) -> None:
    assert a.model_dump(exclude={"generated_at"}) == b.model_dump(exclude={"generated_at"})


@pytest.mark.parametrize(("jobs", "runs"), [(2, 4), (3, 6), (7, 12)])
def test_runs_in_several_processes_give_the_result_of_one(h1_template, chunked, started, jobs, runs):
    one = history_metrics(h1_template.root, jobs=1)
    assert not started  # jobs=1: the one walking git log, as before (it does not go through _Prefetcher)
    several = history_metrics(h1_template.root, jobs=jobs)
    # jobs * CHUNKS_PER_JOB (2) runs asked for, at most one per commit, of equal size: 2 jobs make 4 runs of 3
    # commits, 3 jobs 6 runs of 2, 7 jobs 12 runs of one commit each
    assert len(started) == runs
    assert all(proc.returncode == 0 for proc in started)
    _same(one, several)
    assert several.commits == 12
    helpers = next(f for f in several.churn.files if f.path == "src/helpers.py")
    assert helpers.revisions == 4  # the rename (c4) is followed across the run boundaries


def test_filters_and_windows_give_the_same_commits(h1_template, chunked):
    for options in ({"paths": ["src"]}, {"max_commits": 7}, {"since": "2026-01-13"}, {"renames": False},
                    {"paths": ["docs", "CHANGELOG.md"], "max_commits": 5}):
        _same(history_metrics(h1_template.root, jobs=1, **options), history_metrics(h1_template.root, jobs=4,
                                                                                     **options))


def test_a_walk_hands_over_after_the_commits_it_read(h1_template, chunked, started, monkeypatch):
    real = gitlog._Reader.watched

    def after_five(self: gitlog._Reader, records: list[bytes]) -> None:
        if self.handed < 5:  # 7-byte reads: one record at a time; the sixth is counted, then the rest handed over
            return self.counted(records)
        return real(self, records)

    monkeypatch.setattr(gitlog._Reader, "watched", after_five)
    one = history_metrics(h1_template.root, jobs=1)
    several = history_metrics(h1_template.root, jobs=2)
    assert len(started) == 3  # the 6 commits left: min(2 jobs x 2, 6) = 4 runs asked, of ceil(6 / 4) = 2 commits
    _same(one, several)


def test_no_runs_for_a_short_history_a_busy_reader_a_busy_machine_or_a_fast_walk(h1_template, started,
                                                                                   monkeypatch):
    real_spare_jobs = gitlog.spare_jobs
    monkeypatch.setattr(gitlog, "SPLIT_AFTER", 0.0)
    monkeypatch.setattr(gitlog, "READ_CHUNK", 7)
    monkeypatch.setattr(gitlog, "spare_jobs", lambda jobs, since: jobs)
    monkeypatch.setattr(gitlog, "SPLIT_WORTH", 0.0)
    result = history_metrics(h1_template.root, jobs=4)  # 12 commits < PARALLEL_MIN_COMMITS (2,000)
    assert result.commits == 12 and not started
    monkeypatch.setattr(gitlog, "PARALLEL_MIN_COMMITS", 2)
    monkeypatch.setattr(gitlog, "GIT_BOUND", -1.0)  # the reader counts as busy whatever it did
    result = history_metrics(h1_template.root, jobs=4)
    assert result.commits == 12 and not started
    monkeypatch.setattr(gitlog, "GIT_BOUND", 10.0)
    real_watched = gitlog._Reader.watched

    def after_five(self: gitlog._Reader, records: list[bytes]) -> None:
        if self.handed < 5:  # weighed once some commits give the walk's pace
            return self.counted(records)
        return real_watched(self, records)

    monkeypatch.setattr(gitlog._Reader, "watched", after_five)
    monkeypatch.setattr(gitlog, "SPLIT_WORTH", 10.0**9)  # the walk would end long before the runs paid off
    result = history_metrics(h1_template.root, jobs=4)
    assert result.commits == 12 and not started
    monkeypatch.setattr(gitlog._Reader, "watched", real_watched)
    monkeypatch.setattr(gitlog, "SPLIT_WORTH", 0.0)
    monkeypatch.setattr(gitlog, "spare_jobs", real_spare_jobs)
    ticks = iter(range(100, 10**9, 100))
    monkeypatch.setattr(gitlog, "cpu_times", lambda: (0, next(ticks)))  # a busy machine: no CPU is ever idle
    result = history_metrics(h1_template.root, jobs=4)
    assert result.commits == 12 and not started
    monkeypatch.setattr(gitlog, "spare_jobs", lambda jobs, since: jobs)
    monkeypatch.setattr(gitlog, "SPLIT_AFTER", 3600.0)  # the walk ends long before it would be weighed
    result = history_metrics(h1_template.root, jobs=4)
    assert result.commits == 12 and not started
    monkeypatch.setattr(gitlog, "SPLIT_AFTER", 0.0)  # control: with nothing in the way, it does split
    history_metrics(h1_template.root, jobs=4)
    assert started


def test_a_missing_blob_in_a_later_run_is_resumed_within_it(h1, chunked, started, monkeypatch):
    _delete_blob(h1, f"{h1.shas['c5']}:src/helpers.py")  # c5 and c7 cannot be diffed (test_history)
    one = history_metrics(h1.root, jobs=1)
    live: list[list[str] | None] = []
    real_stream = gitlog._stream

    def counting(root, args, env, nonce, stdin, sink):
        live.append(stdin)
        return real_stream(root, args, env, nonce, stdin, sink)

    monkeypatch.setattr(gitlog, "_stream", counting)
    several = history_metrics(h1.root, jobs=3)
    assert any(proc.returncode != 0 for proc in started)  # some run did meet the missing blob
    # The walk (stopped at once), then no git run by the reader: each failed run was continued by the runs
    # themselves, beyond the six first runs of two commits each
    assert live == [None] and len(started) > 6
    _same(one, several)  # same gaps, same "reading went on with the N commits after it", same sums
    gaps = [d.reason for d in several.diagnostics if "could not be read" in d.reason]
    assert [g[:19] for g in gaps] == [f"commit {h1.shas['c7'][:12]}", f"commit {h1.shas['c5'][:12]}"]
    helpers = next(f for f in several.churn.files if f.path == "src/helpers.py")
    assert (helpers.revisions, helpers.lines_added, helpers.lines_deleted) == (2, 4, 0)
    assert several.partial and several.commits == 12


def test_hostile_git_config_runs_nothing_in_any_run(h1, chunked, started, tmp_path):
    marker = tmp_path / "pwned"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\ncat \"$1\" 2>/dev/null\n")
    script.chmod(0o755)
    for key, value in [("diff.external", str(script)), ("gpg.program", str(script)), ("log.showSignature", "true"),
                       ("diff.py.textconv", str(script)), ("core.fsmonitor", str(script)), ("core.pager", str(script)),
                       ("diff.renames", "false")]:
        git(h1.root, "config", key, value)
    (h1.root / ".gitattributes").write_text("*.py diff=py\n")
    result = history_metrics(h1.root, jobs=3)
    assert started and not marker.exists()
    helpers = next(f for f in result.churn.files if f.path == "src/helpers.py")
    assert result.commits == 12 and helpers.revisions == 4


def test_a_stopped_pass_leaves_no_git_running(tmp_path, chunked, started):
    repo = Scripted(tmp_path / "many")
    for number in range(40):
        repo.commit(f"n{number}", f"2026-03-01T{number // 4:02d}:{number % 4 * 15:02d}:00+00:00", "alice",
                    f"change {number}", files={"f.txt": lines(number + 1)})

    stop_at_ten, seen = stopping_at(10)
    with pytest.raises(Stop):
        history_metrics(repo.root, progress=stop_at_ten, jobs=3)
    assert seen == list(range(1, 11))
    assert started and all(proc.returncode is not None for proc in started)  # each ended (or was killed)
    counts: list[int] = []
    history_metrics(repo.root, progress=counts.append, jobs=3)
    assert counts == list(range(1, 41))  # the hook sees every commit, in order, across the runs


@pytest.mark.parametrize("min_chunk", [6, 12])
def test_runs_that_meet_several_missing_objects_are_continued_by_the_runs(h1, chunked, started, monkeypatch,
                                                                          min_chunk):
    # Runs of 6 commits (c7 ends the first, c5 is third in the second) or one run of 12 (c7, then c5: a
    # continuation of a continuation); either way the reader itself runs no git after the walk
    _delete_blob(h1, f"{h1.shas['c5']}:src/helpers.py")
    monkeypatch.setattr(gitlog, "MIN_CHUNK", min_chunk)
    one = history_metrics(h1.root, jobs=1)
    live: list[list[str] | None] = []
    real_stream = gitlog._stream
    monkeypatch.setattr(gitlog, "_stream", lambda *args: live.append(args[4]) or real_stream(*args))
    several = history_metrics(h1.root, jobs=2)
    _same(one, several)
    assert live == [None] and len(started) >= 12 // min_chunk + 1


def test_a_commit_landing_during_the_pass_is_not_half_read(h1, chunked, started, monkeypatch):
    # The commit lands between the walk's start and the rev-list that cuts the runs: every git process of the pass
    # (the walk, rev-list, the runs, the lines at HEAD that the pass counts in the background) reads from the HEAD
    # the pass began with, so it is not counted (before: the walk's and the runs' views mixed; and CI once saw the
    # background line count read the new HEAD: src/app.py 19 lines instead of 18)
    import threading

    from orchestrator_kit.metrics import history

    before = history_metrics(h1.root, jobs=1)
    real_rev_list, real_head_lines = gitlog._rev_list, history.head_lines
    made = threading.Event()

    def commit_first(*args):
        if not made.is_set():
            h1.commit("late", "2026-03-01T10:00:00+00:00", "bob", "Late change", append={"src/app.py": "late\n"})
            made.set()
        return real_rev_list(*args)

    def lines_after_the_commit(*args):
        made.wait(timeout=30)  # the background line count runs after the commit, the order CI once met
        return real_head_lines(*args)

    monkeypatch.setattr(gitlog, "_rev_list", commit_first)
    monkeypatch.setattr(history, "head_lines", lines_after_the_commit)
    during = history_metrics(h1.root, jobs=3)
    assert started and "late" in h1.shas
    _same(before, during)
    assert history_metrics(h1.root, jobs=1).commits == 13  # the next pass sees it


def test_a_run_that_fails_for_another_reason_is_read_again_by_the_reader(h1_template, chunked, started,
                                                                          monkeypatch):
    # A run's git that dies writing its file (a full disk, a quota) leaves a cut-off file and a non-zero status
    one = history_metrics(h1_template.root, jobs=1)
    real_hand = gitlog._Prefetcher._hand

    def disk_full(self, index, number, sink):
        status, stderr, trailing = real_hand(self, index, number, sink)
        return (128, "fatal: unable to write to standard output: No space left on device", trailing) \
            if index == 1 else (status, stderr, trailing)

    monkeypatch.setattr(gitlog._Prefetcher, "_hand", disk_full)
    _same(one, history_metrics(h1_template.root, jobs=3))


def test_a_run_that_cannot_start_later_leaves_the_rest_to_one_git_log(h1, chunked, monkeypatch):
    _delete_blob(h1, f"{h1.shas['c5']}:src/helpers.py")  # failed runs to continue as well
    one = history_metrics(h1.root, jobs=1)
    real_start = gitlog._Prefetcher._start
    calls = []

    def third_fails(self, index, commits):
        calls.append(index)
        if len(calls) == 3:
            raise OSError(11, "Resource temporarily unavailable")
        real_start(self, index, commits)

    monkeypatch.setattr(gitlog._Prefetcher, "_start", third_fails)
    _same(one, history_metrics(h1.root, jobs=3))
    assert len(calls) >= 3


def test_continuations_stop_at_the_resume_budget(h1, chunked, started, monkeypatch):
    _delete_blob(h1, f"{h1.shas['c5']}:src/helpers.py")
    monkeypatch.setattr(gitlog, "MIN_CHUNK", 12)  # one run of 12 commits, continued after c7 and after c5
    one = history_metrics(h1.root, jobs=1)
    monkeypatch.setattr(gitlog, "MAX_RESUMES", 1)
    several = history_metrics(h1.root, jobs=2)
    assert len(started) == 2  # the run and one continuation; the reader stopped at its budget of one resume
    assert several.partial and any("unreadable commits" in reason for reason in several.partial_reasons)
    assert several.commits < one.commits


def test_without_room_for_the_runs_files_one_git_log_reads_the_rest(h1_template, chunked, started, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    one = history_metrics(h1_template.root, jobs=1)
    monkeypatch.setattr(gitlog.tempfile, "TemporaryDirectory", full)
    _same(one, history_metrics(h1_template.root, jobs=3))
    assert not started


def test_a_run_that_cannot_start_leaves_no_git_behind(h1_template, chunked, monkeypatch):
    procs: list[subprocess.Popen[bytes]] = []
    real = gitlog._Prefetcher._start

    def second_fails(self: gitlog._Prefetcher, index: int, commits: list[str]) -> None:
        if index == 1:
            raise OSError(11, "Resource temporarily unavailable")  # fork failed
        real(self, index, commits)
        procs.append(self.segments[index][-1].proc)

    monkeypatch.setattr(gitlog._Prefetcher, "_start", second_fails)
    one = history_metrics(h1_template.root, jobs=1)
    _same(one, history_metrics(h1_template.root, jobs=3))  # one git log read them all instead
    assert len(procs) == 1 and procs[0].returncode is not None  # the run started first was stopped


def test_jobs_below_one_is_an_input_error(h1_template):
    with pytest.raises(InputError, match="jobs must be at least 1"):
        history_metrics(h1_template.root, jobs=0)


def test_a_machine_busy_at_first_is_weighed_again(h1_template, monkeypatch):
    for name, value in [("SPLIT_AFTER", 0.0), ("SPLIT_WORTH", 0.0), ("GIT_BOUND", 10.0), ("PARALLEL_MIN_COMMITS", 2),
                        ("MIN_CHUNK", 1), ("READ_CHUNK", 7), ("workers_available", lambda: 4)]:
        monkeypatch.setattr(gitlog, name, value)
    monkeypatch.setattr(gitlog.os, "cpu_count", lambda: 4)
    # (idle, total) ticks: the walk starts, is weighed busy (no idle tick), starts a new window, then finds all
    # 4 CPUs idle
    clock = iter([(0, 100), (0, 200), (0, 300), (100, 400)])
    monkeypatch.setattr(gitlog, "cpu_times", lambda: next(clock, (100, 400)))
    real_start = gitlog._Prefetcher._start
    runs: list[int] = []
    monkeypatch.setattr(gitlog._Prefetcher, "_start", lambda self, i, c: runs.append(i) or real_start(self, i, c))
    several = history_metrics(h1_template.root, jobs=2)
    assert runs  # weighed again, and split
    _same(history_metrics(h1_template.root, jobs=1), several)


def test_spare_jobs_are_the_walks_cpu_plus_the_idle_ones(monkeypatch):
    monkeypatch.setattr(gitlog, "workers_available", lambda: 4)
    monkeypatch.setattr(gitlog.os, "cpu_count", lambda: 4)
    # 4 CPUs, 400 ticks gone by: idle CPUs = 4 x idle ticks / 400, jobs = 1 + int(idle CPUs + 0.75), at most 4
    for idle_ticks, expected in [(0, 1), (20, 1), (25, 2), (120, 2), (125, 3), (225, 4), (400, 4)]:
        monkeypatch.setattr(gitlog, "cpu_times", lambda idle=idle_ticks: (1000 + idle, 5400))
        assert gitlog.spare_jobs(8, (1000, 5000)) == expected
    assert gitlog.spare_jobs(2, (1000, 5000)) == 2  # never more than asked for
    monkeypatch.setattr(gitlog, "cpu_times", lambda: None)  # no /proc/stat: the load average stands in
    for load, expected in [(0.0, 4), (1.0, 4), (1.5, 3), (3.2, 1), (40.0, 1)]:
        monkeypatch.setattr(gitlog.os, "getloadavg", lambda load=load: (load, 0.0, 0.0))
        assert gitlog.spare_jobs(8, None) == expected


def test_cpu_times_read_this_machine():
    first = gitlog.cpu_times()
    if first is None:
        assert not __import__("pathlib").Path("/proc/stat").exists()
        return
    sum(range(200_000))  # some work, so that the clock ticks
    second = gitlog.cpu_times()
    assert second is not None and second[1] >= first[1] and second[0] >= first[0] and first[0] <= first[1]


def test_workers_available_is_the_affinity_capped(monkeypatch):
    monkeypatch.setattr(gitlog.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert gitlog.workers_available() == gitlog.MAX_JOBS
    monkeypatch.setattr(gitlog.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert gitlog.workers_available() == 1


class _Clock:
    """`gitlog.time` with a perf_counter that moves `step` seconds per call (the walk's own clock, made
    deterministic); thread_time and sleep are the real ones."""

    def __init__(self, step: float) -> None:
        import time

        self.now, self.step = 0.0, step
        self.thread_time, self.sleep = time.thread_time, time.sleep

    def perf_counter(self) -> float:
        self.now += self.step
        return self.now


def test_the_split_takes_the_rev_list_started_ahead(h1_template, started, monkeypatch):
    for name, value in [("SPLIT_WORTH", 0.0), ("GIT_BOUND", 10.0), ("PARALLEL_MIN_COMMITS", 2), ("MIN_CHUNK", 1),
                        ("READ_CHUNK", 7), ("spare_jobs", lambda jobs, since: jobs)]:
        monkeypatch.setattr(gitlog, name, value)
    real_command, real_rev_list = gitlog._rev_list_command, gitlog._rev_list
    commands: list[list[str]] = []
    foreground: list[str] = []
    monkeypatch.setattr(gitlog, "_rev_list_command", lambda *a: commands.append(real_command(*a)) or commands[-1])
    monkeypatch.setattr(gitlog, "_rev_list", lambda *a: foreground.append("rev-list") or real_rev_list(*a))
    # Looked at 0.2 s into the walk (nothing yet), at 0.4 s (PRELIST_AFTER 0.25: the rev-list starts), at 0.6 s
    # (SPLIT_AFTER 0.5: the walk is weighed and split, with the commits listed ahead)
    monkeypatch.setattr(gitlog, "time", _Clock(0.2))
    several = history_metrics(h1_template.root, jobs=2)
    assert len(commands) == 1 and foreground == []  # one rev-list, the one started ahead, none asked again
    assert started and all(proc.returncode == 0 for proc in started)
    _same(history_metrics(h1_template.root, jobs=1), several)


def test_a_rev_list_started_ahead_and_never_used_has_ended_with_the_pass(h1_template, started, monkeypatch):
    import threading

    for name, value in [("GIT_BOUND", 10.0), ("READ_CHUNK", 7), ("spare_jobs", lambda jobs, since: jobs),
                        ("SPLIT_AFTER", 10.0**9)]:  # listed ahead at 0.4 s; never weighed
        monkeypatch.setattr(gitlog, name, value)
    threads: list[threading.Thread] = []
    real_list_ahead = gitlog._Reader._list_ahead

    def recording(self: gitlog._Reader) -> None:
        real_list_ahead(self)
        assert self.listing is not None
        threads.append(self.listing)

    monkeypatch.setattr(gitlog._Reader, "_list_ahead", recording)
    monkeypatch.setattr(gitlog, "time", _Clock(0.2))
    result = history_metrics(h1_template.root, jobs=2)
    assert len(threads) == 1 and not threads[0].is_alive()  # waited for: its git ended with the pass
    assert result.commits == 12 and not started


def test_a_canceled_pass_stops_the_rev_list_started_ahead_instead_of_waiting(h1_template, monkeypatch):
    import signal

    for name, value in [("GIT_BOUND", 10.0), ("READ_CHUNK", 7), ("spare_jobs", lambda jobs, since: jobs),
                        ("SPLIT_AFTER", 10.0**9)]:  # listed ahead at 0.4 s; never weighed
        monkeypatch.setattr(gitlog, name, value)
    # A rev-list that would take a minute: the pass must not wait for it once it is canceled
    monkeypatch.setattr(gitlog, "_rev_list_command", lambda root, request: ["sleep", "60"])
    readers: list[gitlog._Reader] = []
    real_list_ahead = gitlog._Reader._list_ahead

    def recording(self: gitlog._Reader) -> None:
        real_list_ahead(self)
        readers.append(self)

    monkeypatch.setattr(gitlog._Reader, "_list_ahead", recording)
    monkeypatch.setattr(gitlog, "time", _Clock(0.2))

    class Canceled(Exception):
        pass

    def progress(commits: int) -> None:
        if readers:
            raise Canceled

    with pytest.raises(Canceled):
        history_metrics(h1_template.root, jobs=2, progress=progress)
    (reader,) = readers
    assert reader.listing_proc is not None and reader.listing_proc.returncode == -signal.SIGKILL
    assert reader.listing is not None and not reader.listing.is_alive()
