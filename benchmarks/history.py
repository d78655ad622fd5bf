"""Benchmark: the history metrics pass against a raw `git log --numstat` stream and against per-commit GitPython.

    python benchmarks/history.py [--commits 20000] [--runs 3] [--repo PATH]

Builds (once, with `git fast-import`, cached under benchmarks/.cache/) a repository of --commits commits: 400
files in 40 folders, one to four files changed per commit, five authors, a rename every 97 commits, a revert
every 151, and a release tag every 250. `--repo PATH` measures an existing repository instead.

Prints, all in this one process, medians over --runs interleaved runs:

* ours / raw (wall clock, and CPU seconds of Python plus the git processes): `history_metrics(repo)` (the
  full pass: log stream, tags, rev-list when needed, hotspots, DORA) over the same
  `git log -z --numstat -M --diff-merges=off` stream read with subprocess and parsed minimally (records and
  numstat fields split, numbers summed). Target <= 1.25.
* GitPython per commit / ours per commit: `Repo.iter_commits(max_count=2000)` + `Commit.stats` (one `git diff`
  per commit) over our full pass, per commit; and over our pass on the same first 2,000 commits. Target >= 10.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from orchestrator_kit.metrics.history import history_metrics
from orchestrator_kit.repo import git_command, git_env

CACHE = Path(__file__).resolve().parent / ".cache"
AUTHORS = [("Ann Lee", "ann@example.com"), ("Bo Chan", "bo@example.com"), ("Cy Diaz", "cy@example.com"),
           ("Di Eze", "di@example.com"), ("Ed Fox", "ed@example.com")]


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


def raw_stream(repo: Path) -> tuple[int, int]:
    """The floor: the same log stream, read and split, numbers summed; nothing else."""
    args = git_command(repo, "log", "-z", "--numstat", "-M", "--diff-merges=off", "--no-ext-diff", "--no-textconv",
                       "--no-show-signature",
                       "--format=%x1e%H%x1f%P%x1f%at%x1f%ct%x1f%aE%x1f%aN%x1f%B%x1f", "HEAD")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=git_env())
    assert proc.stdout is not None
    commits = lines = 0
    buffer = b""
    while chunk := proc.stdout.read1(1 << 20):
        buffer += chunk
        records = buffer.split(b"\x1e")
        buffer = records.pop()
        for record in records:
            if not record:
                continue
            commits += 1
            for entry in record.split(b"\x00"):
                added, _, rest = entry.partition(b"\t")
                if rest and added.strip().isdigit():
                    lines += int(added)
    proc.wait()
    return commits + (1 if buffer else 0), lines


def gitpython_stats(repo: Path, count: int) -> int:
    import git

    total = 0
    for commit in git.Repo(repo).iter_commits("HEAD", max_count=count):
        total += commit.stats.total["lines"]
    return total


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def cpu_timed(fn, *args):
    """(wall seconds, CPU seconds of this process and the git processes it waited for, result)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn(*args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = time.process_time() - cpu + (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return time.perf_counter() - wall, used, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gitpython-commits", type=int, default=2000)
    parser.add_argument("--repo", type=Path)
    args = parser.parse_args()
    repo = args.repo
    if repo is None:
        repo = CACHE / f"history-{args.commits}"
        if not (repo / ".git").is_dir():
            print(f"building {args.commits} commits with git fast-import in {repo} ...", flush=True)
            start = time.perf_counter()
            build(repo, args.commits)
            print(f"built in {time.perf_counter() - start:.1f} s", flush=True)
    os.environ.setdefault("ORCHESTRATOR_KIT_CACHE_DIR", str(CACHE / "okit-cache"))
    history_metrics(repo, max_commits=10)  # warm up imports
    ours, raw, ours_cpu, raw_cpu = [], [], [], []
    result = None
    for _ in range(args.runs):
        seconds, cpu, result = cpu_timed(history_metrics, repo)
        ours.append(seconds)
        ours_cpu.append(cpu)
        seconds, cpu, (raw_commits, _lines) = cpu_timed(raw_stream, repo)
        raw.append(seconds)
        raw_cpu.append(cpu)
    assert result is not None
    ours_s, raw_s = statistics.median(ours), statistics.median(raw)
    print(f"repository: {repo} ({result.commits} commits, {len(result.dora.releases)} release tags, "
          f"{result.churn.files_total} files changed; raw stream saw {raw_commits} commits)")
    print(f"ours (full history pass):      {ours_s:8.2f} s  ({result.commits / ours_s:,.0f} commits/s)")
    print(f"raw git log --numstat stream:  {raw_s:8.2f} s  ({raw_commits / raw_s:,.0f} commits/s)")
    print(f"RATIO ours / raw stream:       {ours_s / raw_s:8.3f}  (target <= 1.25; wall clock)")
    print(f"RATIO ours / raw, CPU seconds: {statistics.median(ours_cpu) / statistics.median(raw_cpu):8.3f}  "
          f"(python + git processes; steadier than wall clock on a busy machine)")
    count = min(args.gitpython_commits, result.commits)
    gp_s, _ = timed(gitpython_stats, repo, count)
    same = [timed(lambda: history_metrics(repo, max_commits=count))[0] for _ in range(args.runs)]
    same_s = statistics.median(same)
    print(f"GitPython iter_commits + Commit.stats, first {count} commits: {gp_s:8.2f} s "
          f"({count / gp_s:,.0f} commits/s)")
    print(f"ours on the same first {count} commits:  {same_s:8.2f} s ({count / same_s:,.0f} commits/s)")
    print(f"RATIO GitPython / ours per commit (ours over the full history): "
          f"{(gp_s / count) / (ours_s / result.commits):8.1f}  (target >= 10)")
    print(f"RATIO GitPython / ours per commit (same {count} commits):        "
          f"{(gp_s / count) / (same_s / count):8.1f}  (target >= 10)")


if __name__ == "__main__":
    main()
