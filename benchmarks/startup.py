"""Benchmark: what a user waits for before any work, against a bare interpreter start in the same run.

    python benchmarks/startup.py [--runs 7] [--repo PATH [--no-scan]] [--compare SRC]

Each row runs the installed console entry (`python -m orchestrator_kit ...`, a fresh process each time) interleaved
with the anchor `python -c pass` (same interpreter, same venv), and prints medians of the wall time and of the CPU
time (user + system of the process and the git processes it waited for), and the difference over the anchor (goal
for --version and --help: within 0.05 s; --help is measured with its help cache filled by a first run, whose own
time is printed apart). With `--repo PATH` it adds the whole `tokens PATH` command with a warm token cache (goal:
0.3 s whole) and `scan PATH`, the latter against `git ls-files` + reading the same files in this process.
`--compare SRC` runs every row a third time, interleaved, with PYTHONPATH=SRC (another checkout's `src`, e.g. the
code before a change): paired before/after figures. The machine may be loaded: compare the differences and ratios
(CPU times vary least), not the absolute times.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and the children it waited for) of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def read_listed(repo: Path) -> float:
    """`git ls-files` plus reading every listed file: the floor for anything that reads the repository."""
    start = time.perf_counter()
    names = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], capture_output=True, check=True).stdout
    for name in names.split(b"\0"):
        if name:
            with contextlib.suppress(OSError):  # a file deleted since the listing costs nothing to read
                (repo / os.fsdecode(name)).read_bytes()
    return time.perf_counter() - start


GOALS = {"--version": ("difference", 0.05), "--help": ("difference", 0.05), "tokens PATH (warm)": ("whole", 0.3)}


def verdict(label: str, wall: float, difference: float) -> str:
    kind, goal = GOALS.get(label, ("", 0.0))
    if not kind:
        return ""
    value = difference if kind == "difference" else wall
    return f"  goal {'+' if kind == 'difference' else ''}{goal:.2f} s: {'met' if value <= goal else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--repo", type=Path)
    parser.add_argument("--compare", type=Path, metavar="SRC", help="also run each row with PYTHONPATH=SRC")
    parser.add_argument("--no-scan", action="store_true", help="leave out the scan PATH row")
    args = parser.parse_args()
    env = {**os.environ, "ORCHESTRATOR_KIT_CACHE_DIR": tempfile.mkdtemp(prefix="okit-bench-cache-")}
    sides = {"ours": env}
    if args.compare is not None:
        sides["compared"] = {**env, "PYTHONPATH": str(args.compare.resolve())}
    ours = [sys.executable, "-m", "orchestrator_kit"]
    rows: list[tuple[str, list[str]]] = [("--version", ["--version"]), ("--help", ["--help"])]
    first_help = {name: timed([*ours, "--help"], side) for name, side in sides.items()}  # fills the help cache
    if args.repo is not None:
        repo = str(args.repo.resolve())
        for side in sides.values():
            timed([*ours, "tokens", repo, "--format", "json"], side)  # fill the token cache: the rows below are warm
        rows.append(("tokens PATH (warm)", ["tokens", repo, "--format", "json"]))
        if not args.no_scan:
            rows.append(("scan PATH", ["scan", repo, "--format", "json", "--no-metrics", "--no-opportunities"]))
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"medians of {args.runs} interleaved runs (wall / CPU)")
    for name, (wall, cpu) in first_help.items():
        print(f"--help, first run ({name}, renders with Typer and fills the help cache): {wall:.3f} s / {cpu:.3f} s")
    for label, extra in rows:
        anchor_runs: list[tuple[float, float]] = []
        side_runs: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        read_times: list[float] = []
        for _ in range(args.runs):
            anchor_runs.append(timed([sys.executable, "-c", "pass"], env))
            for name, side in sides.items():
                side_runs[name].append(timed([*ours, *extra], side))
            if args.repo is not None and label.startswith("scan"):
                read_times.append(read_listed(args.repo))
        anchor_wall, anchor_cpu = medians(anchor_runs)
        for name in sides:
            wall, cpu = medians(side_runs[name])
            line = (f"{label:20} {name:8} {wall:7.3f} s / {cpu:6.3f} s   bare python {anchor_wall:6.3f} s / "
                    f"{anchor_cpu:6.3f} s   difference {wall - anchor_wall:+.3f} s / {cpu - anchor_cpu:+.3f} s")
            if read_times:
                floor = anchor_wall + statistics.median(read_times)
                line += f"   over start + ls-files + reads ({floor:.3f} s): {wall / floor:.1f}x"
            print(line + verdict(label, wall, wall - anchor_wall))


if __name__ == "__main__":
    main()
