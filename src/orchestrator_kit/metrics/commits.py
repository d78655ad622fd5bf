"""The commit graph the DORA proxies need, kept as compact columns instead of one object per commit.

Release containment ("the first release containing this commit"), lead time (its commit time) and change
failure (the files each release changed, hotfix subjects, reverts) need a few facts per commit; everything else
the history pass computes is summed per file, author and week as the stream goes by (`history._Aggregator`).

A commit is a row number. Per row this keeps: its id (one `str`, shared with the `index` dict), its commit time
(8 bytes), its parents (row numbers, 4 bytes each) and the ids of the files it changed (4 bytes per file change);
subjects only for commits that look like hotfixes, and reverts as they are met. That is about 200 bytes per
commit plus 4 per file change, against several kilobytes for a commit object with its message, paths and file
tuples: bounded by the size of the history read, at a fraction of its text.

A parent that was not read (outside the window, or past a shallow boundary) is a placeholder row: its id is
known, nothing else. `add_graph` adds commits read by a separate `git rev-list --parents` (state GRAPH): their
parents, no time and no files.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

PLACEHOLDER, READ, GRAPH = 0, 1, 2


class CommitTable:
    """Rows of commits: see the module docstring. `order` lists the rows read, in git log's order."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.shas: list[str] = []
        self.state = bytearray()
        self.time = array("q")
        self.parent_at = array("i")
        self.parent_n = array("i")
        self.parent_rows = array("i")
        self.file_at = array("i")
        self.file_n = array("i")
        self.file_ids = array("i")
        self.order = array("i")
        self.subjects: dict[int, str] = {}  # only commits whose subject mentions a hotfix

    def __len__(self) -> int:
        return len(self.order)

    def row(self, sha: str) -> int:
        """The row of `sha`, a new placeholder when it was not met before."""
        found = self.index.get(sha)
        if found is not None:
            return found
        number = self.index[sha] = len(self.shas)
        self.shas.append(sha)
        self.state.append(PLACEHOLDER)
        self.time.append(0)
        self.parent_at.append(0)
        self.parent_n.append(0)
        self.file_at.append(0)
        self.file_n.append(0)
        return number

    def set_parents(self, number: int, parents: list[str]) -> None:
        self.parent_at[number] = len(self.parent_rows)
        self.parent_n[number] = len(parents)
        index = self.index
        for parent in parents:
            found = index.get(parent)
            self.parent_rows.append(found if found is not None else self.row(parent))

    def add(self, sha: str, parents: list[str], commit_time: int, files: list[int] | None) -> int:
        """A commit read from the log (newest first); `files`: the ids of the files it changed."""
        number = self.row(sha)
        self.state[number] = READ
        self.time[number] = commit_time
        self.set_parents(number, parents)
        if files:
            self.file_at[number] = len(self.file_ids)
            self.file_n[number] = len(files)
            self.file_ids.extend(files)
        self.order.append(number)
        return number

    def add_graph(self, sha: str, parents: list[str]) -> None:
        """Parent links from `git rev-list --parents` (they replace the log's, which a path filter may have cut)."""
        number = self.row(sha)
        if self.state[number] == PLACEHOLDER:
            self.state[number] = GRAPH
        self.set_parents(number, parents)

    def parents(self, number: int) -> array[int]:
        start = self.parent_at[number]
        return self.parent_rows[start:start + self.parent_n[number]]

    def first_parent(self, number: int) -> int | None:
        return self.parent_rows[self.parent_at[number]] if self.parent_n[number] else None

    def files(self, number: int) -> array[int]:
        start = self.file_at[number]
        return self.file_ids[start:start + self.file_n[number]]

    def read(self, sha: str) -> int | None:
        """The row of a commit read from the log, else None."""
        number = self.index.get(sha)
        return number if number is not None and self.state[number] == READ else None

    def rows_read(self) -> Iterator[int]:
        return iter(self.order)
