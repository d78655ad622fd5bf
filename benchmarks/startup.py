"""Benchmark: what a user waits for before any work, against a bare interpreter start in the same run.

    python benchmarks/startup.py [--runs 7] [--repo PATH]

Each row runs the installed console entry (`python -m orchestrator_kit ...`, a fresh process each time) interleaved
with the anchor `python -c pass` (same interpreter, same venv), and prints medians and the difference over the
anchor (goal for --version and --help: within 0.05 s). With `--repo PATH` it adds the whole `tokens PATH` command
with a warm cache (goal 0.3 s) and `scan PATH`, each against `git ls-files` + reading the same files in this
process. The machine may be loaded: compare the differences and ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def read_listed(repo: Path) -> float:
    """`git ls-files` plus reading every listed file: the floor for anything that reads the repository."""
    start = time.perf_counter()
    names = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], capture_output=True, check=True).stdout
    for name in names.split(b"\0"):
        if name:
            with contextlib.suppress(OSError):  # a file deleted since the listing costs nothing to read
                (repo / os.fsdecode(name)).read_bytes()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--repo", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "ORCHESTRATOR_KIT_CACHE_DIR": tempfile.mkdtemp(prefix="okit-bench-cache-")}
    ours = [sys.executable, "-m", "orchestrator_kit"]
    rows: list[tuple[str, list[str]]] = [("--version", ["--version"]), ("--help", ["--help"])]
    if args.repo is not None:
        repo = str(args.repo.resolve())
        timed([*ours, "tokens", repo, "--format", "json"], env)  # fill the cache: the rows below are warm
        rows += [("tokens PATH (warm)", ["tokens", repo, "--format", "json"]),
                 ("scan PATH", ["scan", repo, "--format", "json", "--no-metrics", "--no-opportunities"])]
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs; medians of {args.runs} interleaved runs")
    for label, extra in rows:
        anchor_times, our_times, read_times = [], [], []
        for _ in range(args.runs):
            anchor_times.append(timed([sys.executable, "-c", "pass"], env))
            our_times.append(timed([*ours, *extra], env))
            if args.repo is not None and label.startswith("scan"):
                read_times.append(read_listed(args.repo))
        anchor, ours_median = statistics.median(anchor_times), statistics.median(our_times)
        line = f"{label:20} {ours_median:7.3f} s  bare python {anchor:6.3f} s  difference {ours_median - anchor:+.3f} s"
        if read_times:
            floor = anchor + statistics.median(read_times)
            line += f"   over start + ls-files + reads ({floor:.3f} s): {ours_median / floor:.1f}x"
        print(line)


if __name__ == "__main__":
    main()
