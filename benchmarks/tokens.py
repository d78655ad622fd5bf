"""Benchmark: token budgets, cold and warm, against raw tiktoken on the same files.

    python benchmarks/tokens.py [--megabytes 8] [--runs 3] [--repo PATH]

The corpus (built once under benchmarks/.cache/, a git repository with one commit) is real code: the Python
standard library's `.py` files, copied until --megabytes. `--repo PATH` measures an existing repository instead.

Prints medians over --runs interleaved runs, in this one process, with the encoder loaded before timing:

* cold / raw: `token_report(repo)` with an empty cache (listing, blob ids, reads through Workspace, counting,
  writing the cache) over reading the same files with plain `open()` and `encode_ordinary_batch` on them (same
  encoder, same threads). Target <= 1.3.
* cold / warm: the same `token_report` with the cache filled by the cold run. Target >= 10.
* cold / repomix (when `--repomix PATH` or /tmp/repomix/node_modules/.bin/repomix exists, e.g. after
  `npm install --prefix /tmp/repomix repomix`): `repomix DIR --token-count-encoding cl100k_base -o FILE --quiet`,
  a separate Node process that packs and counts the same repository; ours is timed in this process (the encoder
  already loaded), so add about 0.2 s of start-up to compare with a command. Target <= 0.5. Skipped with a message
  when repomix or Node is absent.
* cold command / repomix (with repomix): the whole `python -m orchestrator_kit tokens DIR --format json` in a fresh
  process with an empty cache folder, interleaved with repomix: what a user compares. Target <= 0.5.

Also prints the load average and this process's peak resident memory.

Measured 2026-12-06 on hashicorp/terraform (5,425 files counted, 25.0 MB, 6,726,544 tokens before and after), 2 CPUs
shared with other jobs (load 11-20), 4 paired rounds of 1 run, before = one encode_ordinary_batch per 4 MiB batch
after reading it, after = a pool of worker threads counting while the files are read (8 MiB in flight at most):

| row | before (4 rounds) | after (4 rounds) |
|---|---|---|
| cold / raw encode_ordinary_batch | 0.80, 1.68, 1.15, 0.99 | 0.95, 0.58, 0.89, 0.89 |
| cold in process / repomix | 0.48, 0.49, 0.60, 0.46 | 0.39, 0.33, 0.41, 0.36 |
| whole cold command / repomix | 0.44, 0.45, 0.52, 0.53 | 0.24, 0.53, 0.57, 0.48 |

Peak memory 158 MiB before and after. The whole-command row is within the load's noise here; it needs a quiet
machine to settle.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from orchestrator_kit.metrics.tokens import _threads, choose_encoder, token_report
from orchestrator_kit.repo import git_command, git_env

CACHE = Path(__file__).resolve().parent / ".cache"


def build(path: Path, megabytes: int) -> None:
    source = Path(sysconfig.get_paths()["stdlib"])
    budget = megabytes * 1024 * 1024
    path.mkdir(parents=True)
    total = 0
    for file in sorted(source.rglob("*.py")):
        if "site-packages" in file.parts or total >= budget:
            continue
        try:
            data = file.read_bytes()
        except OSError:
            continue
        target = path / file.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        total += len(data)
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "corpus"]):
        subprocess.run(["git", "-C", str(path), *args], check=True, env=env, capture_output=True)


def raw(repo: Path, encoding) -> int:
    listed = subprocess.run(git_command(repo, "ls-files", "-z"), capture_output=True, env=git_env(), check=True)
    texts = []
    for name in listed.stdout.split(b"\x00"):
        file = repo / os.fsdecode(name)
        if name and not file.is_symlink() and file.is_file():  # token_report skips symlinks and submodules too
            with open(file, "rb") as fh:
                texts.append(fh.read().decode("utf-8", "replace"))
    total = 0
    batch: list[str] = []
    size = 0
    for text in texts:  # the same batches as token_report (4 MiB), so that memory behaves the same
        batch.append(text)
        size += len(text)
        if size >= 4 * 1024 * 1024:
            total += sum(len(t) for t in encoding.encode_ordinary_batch(batch, num_threads=_threads()))
            batch, size = [], 0
    if batch:
        total += sum(len(t) for t in encoding.encode_ordinary_batch(batch, num_threads=_threads()))
    return total


def repomix_time(repomix: Path, repo: Path, out: Path) -> float:
    """Wall time of one `repomix` pack with cl100k_base token counts (the same encoder as ours)."""
    start = time.perf_counter()
    subprocess.run([str(repomix), str(repo), "--token-count-encoding", "cl100k_base", "-o", str(out), "--quiet"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def command_time(repo: Path, cache: Path) -> float:
    """Wall time of the whole cold `tokens` command: a fresh interpreter, an empty cache folder."""
    env = {**os.environ, "ORCHESTRATOR_KIT_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "orchestrator_kit", "tokens", str(repo), "--format", "json"], env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repo", type=Path)
    parser.add_argument("--repomix", type=Path,
                        default=Path(tempfile.gettempdir()) / "repomix/node_modules/.bin/repomix")
    args = parser.parse_args()
    repomix = args.repomix if args.repomix.is_file() and shutil.which("node") else None
    if repomix is None:
        print(f"repomix anchor skipped: {args.repomix} or node not found "
              "(npm install --prefix /tmp/repomix repomix)")
    repo = args.repo
    if repo is None:
        repo = CACHE / f"tokens-{args.megabytes}mb"
        if not (repo / ".git").is_dir():
            print(f"copying {args.megabytes} MB of the standard library into {repo} ...", flush=True)
            build(repo, args.megabytes)
    import tiktoken

    name, _ = choose_encoder()
    if name == "bytes/4":
        sys.exit("tiktoken cannot load cl100k_base here: nothing to compare")
    encoding = tiktoken.get_encoding(name)
    scratch = Path(tempfile.mkdtemp(prefix="okit-tokens-bench-"))
    try:
        token_report(repo, cache_directory=scratch / "warmup")  # loads the encoder in this process
        cold, warm, base, anchor, command = [], [], [], [], []
        report = None
        for run in range(args.runs):
            directory = scratch / f"run{run}"
            start = time.perf_counter()
            report = token_report(repo, cache_directory=directory)
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            warm_report = token_report(repo, cache_directory=directory)
            warm.append(time.perf_counter() - start)
            assert warm_report.total_tokens == report.total_tokens and warm_report.cache_misses == 0
            start = time.perf_counter()
            raw_total = raw(repo, encoding)
            base.append(time.perf_counter() - start)
            if repomix is not None:
                anchor.append(repomix_time(repomix, repo, scratch / "repomix-output.xml"))
                command.append(command_time(repo, scratch / f"command{run}"))
        assert report is not None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    cold_s, warm_s, raw_s = statistics.median(cold), statistics.median(warm), statistics.median(base)
    print(f"corpus: {repo} ({report.files_counted} files, {report.total_bytes / 1e6:.1f} MB, {report.files_skipped} "
          f"skipped; {report.total_tokens:,} tokens with {report.encoder}; raw counted {raw_total:,})")
    print(f"cold token_report:           {cold_s:7.3f} s  ({report.total_bytes / 1e6 / cold_s:.1f} MB/s)")
    print(f"raw encode_ordinary_batch:   {raw_s:7.3f} s  ({report.total_bytes / 1e6 / raw_s:.1f} MB/s)")
    print(f"warm token_report (cache):   {warm_s:7.3f} s")
    print(f"RATIO cold / raw:            {cold_s / raw_s:7.3f}  (target <= 1.3)")
    print(f"RATIO cold / warm:           {cold_s / warm_s:7.1f}  (target >= 10)")
    if anchor:
        repomix_s = statistics.median(anchor)
        print(f"repomix (cl100k_base):       {repomix_s:7.3f} s")
        print(f"RATIO cold / repomix:        {cold_s / repomix_s:7.3f}  (target <= 0.5)")
        command_s = statistics.median(command)
        print(f"cold `tokens` command:       {command_s:7.3f} s  (fresh process, empty cache)")
        print(f"RATIO command / repomix:     {command_s / repomix_s:7.3f}  (target <= 0.5)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; peak memory (this process, resident): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
