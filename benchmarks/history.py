"""Benchmark: the history pass against the raw `git log --numstat` stream, per-commit libraries, and its memory.

    python benchmarks/history.py [--commits 5500 [--commits 35800]] [--repo DIR ...] [--runs 3]
        [--per-commit 2000] [--pydriller-python PY] [--per-commit-only] [--before-src DIR]

Repositories: `--repo DIR` (any local clone, repeatable), or synthetic ones of `--commits` commits (repeatable;
default 5,500) built once with `git fast-import` under benchmarks/.cache/: 400 files in 40 folders, one to four
files changed per commit, five authors, a rename every 97 commits, a revert every 151, a release tag every 250.

Prints, all in this one run, medians over --runs interleaved runs:

* ours / raw, wall clock and CPU seconds (Python plus every git process), for the pass as it runs by default
  (several git processes when the history is long and keeps git busy: gitlog "Several git processes") and held to
  one git process (`jobs=1`): `history_metrics(repo)` (the whole pass:
  log stream, tags, rev-list when needed, lines at HEAD, DORA), each run in a fresh worker process after a
  warm-up (so imports are not counted), against the raw stream over the same commits: the same `git log -z
  --numstat -M --diff-merges=off` with the same format, read and thrown away. When objects are missing (`fatal:
  unable to read`), the raw stream resumes after the unreadable commit as the pass does, so both read the same
  readable commits. Targets <= 1.25 (5.5k commits), <= 1.15 (35.8k).
* per-commit libraries / ours, per commit: GitPython `Repo.iter_commits(max_count=N)` + `Commit.stats` (one `git
  diff` per commit), and PyDriller's `Repository(..., order="reverse").traverse_commits()` + `insertions`/`deletions`
  on the same first N commits, newest first (`--pydriller-python` names a Python that has pydriller, e.g. a
  scratch venv; skipped with a message otherwise), against ours on the same commits (`max_commits=N`). Target >= 10.
* peak memory of the pass: Python's tracemalloc peak (a separate traced run) and the worker's ru_maxrss, and git
  log's own peak (one run under /usr/bin/time).
* `--before-src DIR` (a `src/` folder of another version of the package, e.g. `git archive <commit> src | tar -x
  -C DIR`) adds that version's pass to the same interleaved runs: before -> after from paired runs.

The anchor reads git's pipe as the pass did before 2026-12-06 (blocking 256 KiB reads, which wake for every commit
git flushes); a second row puts the pass against the same stream read as the pass now reads it (`paced`: a widened
pipe and 20 ms pauses, gitlog.PAUSE). Pacing cuts git's CPU as well as the reader's (git's writes no longer wake
anyone), so the paced anchor is the stricter one.

Measured 2026-12-06 (`python benchmarks/history.py --commits 35800 --commits 77000 --runs 3 --before-src DIR`, DIR
= src/ of 9740a37^, the pass before this session; terraform: `--repo /tmp/terraform`, 6 of its commits unreadable;
medians of 3 paired, interleaved runs, 2 shared CPUs at load 2.5-5), CPU seconds (Python + every git process),
before -> after:

| repository | pass | raw stream, blocking reads | ratio | raw stream, paced | ratio |
|---|---|---|---|---|---|
| synthetic 35,800 commits | 4.25 -> 3.44 s | 3.34 s | 1.27x -> 1.03x | 2.89 s | 1.47x -> 1.19x |
| synthetic 77,000 commits | 8.98 -> 7.09 s | 7.39 s | 1.21x -> 0.96x | 6.14 s | 1.46x -> 1.15x |
| hashicorp/terraform, 35,847 commits | 26.61 -> 24.75 s | 21.76 s | 1.22x -> 1.14x | 21.57 s | 1.23x -> 1.15x |

What changed: the paced reads (0.25 s of reader CPU on 35.8k commits, and git's own wake-ups), one loop per read for
the records (Aggregator.__call__), one (file, author) entry per file change, and no second git log for the authors'
names (Aggregator.author_names). Left over the paced stream on 35.8k commits: about 0.5 s of Python (the loop ~0.24 s,
the end of the pass: coupling, DORA, summaries) and the short git processes (files, tags, lines at HEAD). On
terraform git's per-commit work dominates (pacing saves little there) and about 3 s remain over the raw stream, not
yet broken down: its 6 unreadable commits each cost the pass a retried `git log --no-walk --stdin` over the remaining
commits (the raw stream resumes without retrying), the 27,179 files' sums, and lines at HEAD (0.2 s).

Runs in parallel, measured 2026-12-07 00:05-00:35 UTC on 2 otherwise idle CPUs (load 1.0-1.5, this benchmark's
own), wall seconds, one git process (jobs=1) -> the default, and the raw stream:

* hashicorp/terraform, 35,847 commits (`--runs 1`): 22.90 -> 13.34 s (CPU 24.03 -> 23.88 s); raw 20.36 s.
* hashicorp/terraform, newest 10,000 (`--per-commit 10000 --per-commit-only --runs 3`): 6.38 -> 4.23 s (CPU 6.69
  -> 7.10 s); GitPython 40.55 s (6.4x -> 9.6x faster), PyDriller 48.18 s (7.6x -> 11.4x).
* synthetic 35,800 commits (`--runs 3`): 2.71 -> 2.11 s (CPU 3.05 -> 3.43 s); raw 2.80 s.
* synthetic 77,000 commits (`--runs 3`): 6.75 -> 4.41 s (CPU 7.81 -> 7.67 s); raw 7.04 s. Its first 10,000
  commits take 0.8 s either way (fewer than 2 s of walking left: no split): GitPython 24.0x.
* pallets/flask, 5,531 commits: the walk is kept (fewer than 2 s of walking left after 0.5 s).

Less after the log, measured 2026-12-07 03:57-04:10 UTC on 2 otherwise idle CPUs (load 0.0-1.3), wall seconds: the
tags' `rev-list --parents` runs while the summaries are computed, a model is built only for the rows shown, the
directories' sums come straight from the (file, author) entries, DORA computes each release's files once, and the
rev-list the split needs is started 0.25 s into the walk instead of at the decision.

* hashicorp/terraform, newest 10,000: paired with the pass at db47cf6 (5 interleaved runs each, medians), 4.25 ->
  3.96 s (CPU 7.14 -> 6.90 s). `--per-commit 10000 --per-commit-only --runs 3 --pydriller-python PY`: ours 3.89 s
  (CPU 6.86 s), one git process 6.31 s; GitPython 42.13 s (10.8x faster), PyDriller 42.91 s (11.0x). A run two
  minutes earlier, while another job still held a CPU, gave 4.59 s against 44.98 s (9.8x): the split needs an
  idle CPU.
* hashicorp/terraform, 35,847 commits (`--runs 1 --per-commit 0`): 13.83 s (CPU 25.91 s), one git process 25.21
  s; raw 21.99 s (0.63x; one git process 1.15x). Python's peak 55 MiB (was 83), the process 110 MiB.
* pallets/flask (`--runs 3`): 0.92 s (CPU 1.06 s), one git process 0.94 s; raw 0.89 s (1.03x); GitPython on the
  newest 2,000: 15.2x.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

CACHE = Path(__file__).resolve().parent / ".cache"
AUTHORS = [("Ann Lee", "ann@example.com"), ("Bo Chan", "bo@example.com"), ("Cy Diaz", "cy@example.com"),
           ("Di Eze", "di@example.com"), ("Ed Fox", "ed@example.com")]
FORMAT = "--format=%x1e%H%x1f%P%x1f%at%x1f%ct%x1f%aE%x1f%aN%x1f%B%x1f"
LOG = ["log", "-z", "--numstat", "-M", "--diff-merges=off", "--no-ext-diff", "--no-textconv", "--no-show-signature",
       "--no-color", "--encoding=UTF-8", FORMAT]


def build(path: Path, commits: int) -> None:
    """A repository of `commits` commits written by one `git fast-import` stream."""
    rng = random.Random(20261121)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    proc = subprocess.Popen(["git", "-C", str(path), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    out = proc.stdin
    files: dict[str, list[str]] = {}
    names = [f"pkg{d:02d}/module_{f:02d}.py" for d in range(40) for f in range(10)]
    when = 1_700_000_000
    for number in range(1, commits + 1):
        when += rng.randint(600, 7200)
        name, email = AUTHORS[rng.randrange(len(AUTHORS))]
        changes: list[bytes] = []
        if number % 97 == 0 and files:
            old = rng.choice(sorted(files))
            new = old.replace(".py", f"_r{number}.py")
            files[new] = files.pop(old)
            names[names.index(old)] = new
            changes.append(f"R {old} {new}\n".encode())
            message = f"Rename {old}"
        else:
            message = f"Change {number}" if number % 151 else f'Revert "Change {number - 1}"'
        for target in rng.sample(names, rng.randint(1, 4)):
            content = files.setdefault(target, [])
            for _ in range(rng.randint(1, 6)):
                content.insert(rng.randint(0, len(content)), f"value_{rng.randrange(10**6)} = {number}\n")
            if len(content) > 60:
                del content[: rng.randint(5, 20)]
            data = "".join(content).encode()
            changes.append(f"M 100644 inline {target}\ndata {len(data)}\n".encode() + data + b"\n")
        msg = message.encode()
        out.write(f"commit refs/heads/main\nmark :{number}\nauthor {name} <{email}> {when} +0000\n"
                  f"committer {name} <{email}> {when} +0000\ndata {len(msg)}\n".encode() + msg + b"\n")
        if number > 1:
            out.write(f"from :{number - 1}\n".encode())
        out.writelines(changes)
        out.write(b"\n")
        if number % 250 == 0:
            version = f"v1.{number // 2500}.{(number // 250) % 10}"
            out.write(f"reset refs/tags/{version}\nfrom :{number}\n\n".encode())
    out.close()
    if proc.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True)


def raw_stream(repo: Path, paced: bool = False) -> int:
    """The anchor: the same log stream, read and thrown away (records counted by their marker). On a missing object
    git dies part-way: the stream resumes after the unreadable commit (`--no-walk=unsorted --stdin` with the
    commits `git rev-list` lists after it), as the pass does. Blocking reads of 256 KiB (the anchor of the numbers
    before 2026-12-06), or `paced`: read as the pass reads (a widened pipe, a pause when it was less than a quarter
    full: gitlog.PAUSE), which wakes the reader about 50 times a second instead of once per commit."""
    from orchestrator_kit.metrics.gitlog import PAUSE, _widen
    from orchestrator_kit.repo import git_command, git_env

    env = {**git_env(), "GIT_NO_LAZY_FETCH": "1"}
    args, stdin, order = [*LOG, "HEAD", "--"], None, None
    records = 0
    while True:
        proc = subprocess.Popen(git_command(repo, *args), stdin=subprocess.PIPE if stdin else None,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        if stdin is not None and proc.stdin is not None:
            proc.stdin.write(stdin)
            proc.stdin.close()
        assert proc.stdout is not None and proc.stderr is not None
        tail = b""
        fd = proc.stdout.fileno()
        size = _widen(fd) if paced else 1 << 18
        while chunk := (os.read(fd, size) if paced else proc.stdout.read(size)):
            records += chunk.count(b"\x1e")
            tail = (tail + chunk)[-4096:]
            if paced and len(chunk) < size >> 2:
                time.sleep(PAUSE)
        stderr = proc.stderr.read()
        if proc.wait() == 0 or (b"unable to read" not in stderr and b"missing" not in stderr):
            return records
        failed = tail[tail.rfind(b"\x1e") + 1:][:40].decode()  # the commit whose diff died
        if order is None:
            order = subprocess.run(git_command(repo, "rev-list", "HEAD"), capture_output=True, env=env,
                                   check=True).stdout.decode().split()
        rest = order[order.index(failed) + 1:] if failed in order else []
        if not rest:
            return records
        args, stdin = [*LOG, "--no-walk=unsorted", "--stdin", "--"], ("\n".join(rest) + "\n").encode()


def gitpython_stats(repo: Path, count: int) -> tuple[int, int]:
    """(commits whose stats GitPython read, commits it could not read: objects missing from the clone)."""
    import git

    read = unreadable = 0
    for commit in git.Repo(repo).iter_commits("HEAD", max_count=count):
        try:
            commit.stats.total["lines"]
        except git.exc.GitCommandError:  # "unable to read <blob>": a partial clone; its time still counts
            unreadable += 1
        else:
            read += 1
    return read, unreadable


PYDRILLER = """
import sys, time
from pydriller import Repository
count, n, start = int(sys.argv[2]), 0, time.perf_counter()
unreadable = 0
for commit in Repository(sys.argv[1], order="reverse").traverse_commits():  # newest first, as git log
    try:
        commit.insertions, commit.deletions
    except Exception:  # objects missing from a partial clone; its time still counts
        unreadable += 1
    n += 1
    if n >= count:
        break
print(n, unreadable, time.perf_counter() - start)
"""


def pydriller_seconds(python: str, repo: Path, count: int) -> tuple[int, int, float]:
    """(commits walked, of which unreadable, seconds)."""
    out = subprocess.run([python, "-c", PYDRILLER, str(repo), str(count)], capture_output=True, text=True, check=True)
    commits, unreadable, seconds = out.stdout.split()
    return int(commits), int(unreadable), float(seconds)


def unread(count: int) -> str:
    return f" ({count} commits it could not read: objects missing)" if count else ""


def cpu_timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process and the processes it waited for, result)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = time.process_time() - cpu + (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return time.perf_counter() - wall, used, result


def worker(repo: Path, max_commits: int | None, trace: bool, jobs: int | None) -> None:
    """One pass in this fresh process, after a warm-up; prints its numbers as JSON (see `ours`)."""
    from orchestrator_kit.metrics.history import history_metrics

    history_metrics(repo, max_commits=10)
    if trace:
        tracemalloc.start()
    options: dict[str, Any] = {"jobs": jobs} if jobs else {}  # an older version (--before-src) has no jobs
    wall, cpu, result = cpu_timed(lambda: history_metrics(repo, max_commits=max_commits, **options))
    print(json.dumps({
        "wall": wall, "cpu": cpu, "commits": result.commits, "files": result.churn.files_total,
        "releases": len(result.dora.releases), "partial": result.partial,
        "traced_peak": tracemalloc.get_traced_memory()[1] if trace else None,
        "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


def git_peak(repo: Path) -> int | None:
    """git log's own peak resident memory (bytes), from one run under /usr/bin/time (a child's ru_maxrss would
    count the forking Python's pages too); None without /usr/bin/time."""
    from orchestrator_kit.repo import git_command, git_env

    if not Path("/usr/bin/time").exists():
        return None
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *git_command(repo, *LOG, "HEAD", "--")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=git_env(), check=False)
    last = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
    return int(last[0]) * 1024 if last and last[0].isdigit() else None


def ours(repo: Path, src: str | None, max_commits: int | None = None, trace: bool = False,
         jobs: int | None = None) -> dict[str, Any]:
    """The pass in a fresh worker process (`src`: another version's src/ folder first on the path; `jobs`: git
    processes, None for the pass's default)."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    args = [sys.executable, __file__, "--worker", str(repo)]
    if max_commits:
        args += ["--max-commits", str(max_commits)]
    if trace:
        args.append("--trace")
    if jobs:
        args += ["--jobs", str(jobs)]
    out = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def measure(repo: Path, args: argparse.Namespace) -> None:
    from orchestrator_kit.metrics.gitlog import workers_available

    total = args.per_commit
    if args.per_commit_only:
        print(f"\n## {repo}: the per-commit comparison only; medians of {args.runs}")
        print("| measure | ours | anchor | ratio | goal |")
        print("|---|---|---|---|---|")
    else:
        # name: (src folder, jobs); "one" is this version held to one git process (the pass before it had several)
        versions: dict[str, tuple[str | None, int | None]] = {
            "ours": (None, None), "one": (None, 1), **({"before": (args.before_src, None)} if args.before_src else {})}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in [*versions, "raw", "paced"]}
        for _ in range(args.runs):
            for name, (src, jobs) in versions.items():
                runs[name].append(ours(repo, src, jobs=jobs))
                for anchor in ("raw", "paced"):
                    wall, cpu, records = cpu_timed(partial(raw_stream, repo, paced=anchor == "paced"))
                    runs[anchor].append({"wall": wall, "cpu": cpu, "commits": records})
        first = runs["ours"][0]
        raw_wall, raw_cpu = median(runs["raw"], "wall"), median(runs["raw"], "cpu")
        paced_cpu = median(runs["paced"], "cpu")
        print(f"\n## {repo}: {first['commits']:,} commits read ({runs['raw'][0]['commits']:,} in the raw stream), "
              f"{first['files']:,} files changed, {first['releases']} releases"
              f"{', partial (missing objects)' if first['partial'] else ''}; medians of {args.runs}, interleaved")
        print("| measure | ours | anchor | ratio | goal |")
        print("|---|---|---|---|---|")
        for name in versions:
            wall, cpu = median(runs[name], "wall"), median(runs[name], "cpu")
            label = {"ours": f"history pass ({workers_available()} git processes at most)",
                     "one": "history pass, one git process (jobs=1)"}.get(name, "history pass, before (--before-src)")
            print(f"| {label}, wall | {wall:.2f} s | raw `git log --numstat` {raw_wall:.2f} s | "
                  f"{wall / raw_wall:.2f}x | <= 1.25x (5.5k), <= 1.15x (35.8k) |")
            print(f"| {label}, CPU (Python + git) | {cpu:.2f} s | {raw_cpu:.2f} s | {cpu / raw_cpu:.2f}x | |")
            print(f"| {label}, CPU, against the paced raw stream | {cpu:.2f} s | {paced_cpu:.2f} s (read as the pass "
                  f"reads) | {cpu / paced_cpu:.2f}x | |")
        peak = git_peak(repo)
        for name, (src, jobs) in versions.items():
            traced = ours(repo, src, trace=True, jobs=jobs)
            label = {"ours": "peak memory", "one": "peak memory, one git process"}.get(name, "peak memory, before")
            print(f"| {label} | Python {mib(traced['traced_peak'])} (tracemalloc), process "
                  f"{mib(median(runs[name], 'maxrss'))} (ru_maxrss) | git log {mib(peak) if peak else 'not measured'} "
                  "(/usr/bin/time) | | bounded by files |")
        total = first["commits"]
    count = min(args.per_commit, total)
    if count < 1:
        print("| per-commit libraries | not measured (--per-commit 0) | | | |")
        return
    same: list[dict[str, Any]] = []
    one: list[dict[str, Any]] = []
    for _ in range(args.runs):
        same.append(ours(repo, None, max_commits=count))
        one.append(ours(repo, None, max_commits=count, jobs=1))
    gp_wall, _, (_, gp_unreadable) = cpu_timed(lambda: gitpython_stats(repo, count))
    libraries = [("GitPython `Commit.stats`", count, gp_unreadable, gp_wall)]
    if args.pydriller_python:
        commits, pd_unreadable, seconds = pydriller_seconds(args.pydriller_python, repo, count)
        libraries.append(("PyDriller `insertions`/`deletions`", commits, pd_unreadable, seconds))
    for library, commits, unreadable, seconds in libraries:
        for label, timed in (("ours", same), ("ours, one git process", one)):
            wall, cpu = median(timed, "wall"), median(timed, "cpu")
            print(f"| {library}, first {commits:,} commits{unread(unreadable)} | {label} {wall:.2f} s (CPU "
                  f"{cpu:.2f} s) | {seconds:.2f} s | {seconds / commits / (wall / count):.1f}x faster (CPU: "
                  f"{seconds / commits / (cpu / count):.1f}x) | >= 10x |")
    if not args.pydriller_python:
        print("| PyDriller | skipped: pass --pydriller-python PY (a Python with pydriller installed) | | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, action="append", help="synthetic repository sizes (repeatable)")
    parser.add_argument("--repo", type=Path, action="append", help="an existing local clone (repeatable)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-commit", type=int, default=2000,
                        help="commits for the per-commit libraries (0: no per-commit comparison)")
    parser.add_argument("--pydriller-python", help="a Python interpreter that can import pydriller")
    parser.add_argument("--per-commit-only", action="store_true",
                        help="only the per-commit comparison (GitPython, PyDriller), not the whole pass")
    parser.add_argument("--before-src", help="another version's src/ folder, measured in the same runs")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--max-commits", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.per_commit < 0 or args.runs < 1:
        parser.error("--per-commit must be 0 or more and --runs at least 1")
    if args.per_commit == 0 and args.per_commit_only:
        parser.error("--per-commit-only needs --per-commit N with N >= 1")
    os.environ.setdefault("ORCHESTRATOR_KIT_CACHE_DIR", str(CACHE / "okit-cache"))
    if args.worker:
        worker(args.worker, args.max_commits, args.trace, args.jobs)
        return
    repos = list(args.repo or [])
    for commits in args.commits or ([] if repos else [5500]):
        repo = CACHE / f"history-{commits}"
        if not (repo / ".git").is_dir():
            print(f"building {commits} commits with git fast-import in {repo} ...", flush=True)
            start = time.perf_counter()
            build(repo, commits)
            print(f"built in {time.perf_counter() - start:.1f} s", flush=True)
        repos.append(repo)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}")
    for repo in repos:
        measure(repo, args)


if __name__ == "__main__":
    main()
