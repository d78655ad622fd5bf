"""The history pass's sums: what they keep is bounded by files, authors and weeks, not by commits.

Histories are written with `git fast-import` (hundreds of commits in a second): N commits, each changing one or two
of FILES files, by one of AUTHORS authors, one commit a day.
"""

from __future__ import annotations

import os
import subprocess
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from orchestrator_kit.metrics.aggregate import Aggregator
from orchestrator_kit.metrics.gitlog import LogRequest, read_log
from orchestrator_kit.metrics.history import history_metrics

from ..conftest import GIT_ENV

FILES = 6
AUTHORS = 3
START = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400


def fast_import(root: Path, commits: int) -> None:
    """`commits` commits: commit k changes file k % FILES (and file (k + 1) % FILES on every third commit)."""
    root.mkdir(parents=True)
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    lines: list[bytes] = []
    for k in range(commits):
        author = f"a{k % AUTHORS} <a{k % AUTHORS}@example.com> {START + k * DAY} +0000"
        message = f"change {k}".encode()
        lines.append(f"commit refs/heads/main\nmark :{k + 1}\nauthor {author}\ncommitter {author}\n"
                     f"data {len(message)}\n".encode() + message + b"\n")
        if k:
            lines.append(f"from :{k}\n".encode())
        for target in {k % FILES, (k + 1) % FILES} if k % 3 == 0 else {k % FILES}:
            data = f"line {k}\n".encode() * (1 + k % 4)
            lines.append(f"M 100644 inline f{target}.txt\ndata {len(data)}\n".encode() + data + b"\n")
        lines.append(b"\n")
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=b"".join(lines), check=True, env=env)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "main"], check=True, env=env)


def aggregate(root: Path) -> Aggregator:
    sums = Aggregator(renames=True, dir_depth=2)
    result = read_log(root, LogRequest(revisions=("HEAD",)), sums)
    assert result.diagnostics == []
    return sums


def retained_bytes(root: Path) -> tuple[int, Aggregator]:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        sums = aggregate(root)
        return tracemalloc.get_traced_memory()[0] - before, sums
    finally:
        tracemalloc.stop()


def test_the_sums_are_bounded_by_files_authors_and_weeks(tmp_path):
    fast_import(tmp_path / "r", 420)
    sums = aggregate(tmp_path / "r")
    assert sums.commits == 420 and len(sums.table) == 420
    weeks = len({(START + k * DAY) // (7 * DAY) for k in range(420)}) + 1  # a week boundary may split one
    # Every dict, list and set of the sums has at most one entry per file, (file, author), directory, author, identity
    # (e-mail and name: one per author here) or week.
    bounds = {"ids": FILES, "name_ids": FILES, "names": FILES,
              "binary": 0, "file_author": FILES * AUTHORS, "dir_ids": FILES, "dirs": 1, "dir_index": 1,
              "dir_revs": 1, "coupling_revs": FILES, "author_ids": AUTHORS, "key_ids": AUTHORS, "authors": AUTHORS, "keys": AUTHORS,
              "identities": AUTHORS, "identity_author": AUTHORS, "identity_commits": AUTHORS,
              "weeks": weeks, "reverts": 0}
    for name, value in vars(sums).items():
        if isinstance(value, list | dict | set):
            assert name in bounds, f"an unbounded container: {name}"
            assert len(value) <= bounds[name], name
    # Per commit, only the compact columns of the commit table grow (plus its id index, see commits.py).
    table = vars(sums.table)
    assert set(table) == {"index", "shas", "state", "time", "parent_at", "parent_n", "parent_rows", "file_at",
                          "file_n", "file_ids", "order", "subjects"}
    assert sums.table.subjects == {}


def test_memory_per_commit_is_a_few_hundred_bytes(tmp_path):
    """Retained memory (tracemalloc: counted bytes, not timed) grows by under 400 bytes per extra commit; a commit
    object with its message, paths and file tuples took several kilobytes."""
    fast_import(tmp_path / "small", 300)
    fast_import(tmp_path / "big", 1500)
    aggregate(tmp_path / "small")  # imports and caches first: they are not per commit
    small, _ = retained_bytes(tmp_path / "small")
    big, sums = retained_bytes(tmp_path / "big")
    assert sums.commits == 1500
    assert (big - small) / 1200 < 400


def test_the_sums_match_a_count_by_hand(tmp_path):
    fast_import(tmp_path / "r", 12)
    result = history_metrics(tmp_path / "r")
    # Commit k adds 1 + k % 4 lines to f{k % 6} (rewriting the file: its old lines are deleted); commits 0, 3, 6,
    # 9 also write f{(k + 1) % 6}. f0 is written by commits 0 (new, 1 line) and 6 (3 lines: +3 -1): revisions 2.
    files = {f.path: f for f in result.churn.files}
    assert (files["f0.txt"].revisions, files["f0.txt"].lines_added, files["f0.txt"].lines_deleted) == (2, 4, 1)
    # f1: commit 0 writes it (1 line), 1 (2 lines: +2 -1), 6 (3: +3 -2), 7 (4: +4 -3): revisions 4.
    assert (files["f1.txt"].revisions, files["f1.txt"].lines_added, files["f1.txt"].lines_deleted) == (4, 10, 6)
    assert result.commits == 12 and result.authors.total == AUTHORS
    assert [a.commits for a in result.authors.top] == [4, 4, 4]


@given(st.integers(min_value=-(10**10), max_value=10**10))
def test_the_week_number_is_the_iso_week(timestamp):
    sums = Aggregator(renames=True, dir_depth=2)
    assert sums([b"s\x1f\x1f" + str(timestamp).encode() + b"\x1f0\x1fe@x\x00E\x00m\x1fEND\x1f"], b"\x1fEND\x1f") == (1, b"s")
    expected = datetime.fromtimestamp(timestamp, UTC).isocalendar()
    assert list(sums.iso_weeks()) == [(expected.year, expected.week)]
