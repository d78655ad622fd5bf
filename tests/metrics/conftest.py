"""Fixtures for the metrics tests: the token cache in tmp, and git histories scripted commit by commit.

`Scripted(root).commit(...)` runs the `git` helper of tests/conftest.py with this commit's author and its fixed
GIT_AUTHOR_DATE / GIT_COMMITTER_DATE (the helper's GIT_ENV is patched for the duration of the call).
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest

from ..conftest import GIT_ENV, git

AUTHORS = {
    "alice": ("Alice Example", "alice@example.com"),
    "bob": ("Bob Example", "bob@example.com"),
    "carol": ("Carol Example", "carol@example.com"),
}


@pytest.fixture(autouse=True)
def token_cache_in_tmp(tmp_path_factory, monkeypatch):
    """No test writes to ~/.cache: the token cache lives in a fresh tmp folder."""
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(tmp_path_factory.mktemp("okit-cache")))


class Scripted:
    """A git repository whose history a test writes commit by commit, with fixed identities and dates."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "-q", "-b", branch)
        self.shas: dict[str, str] = {}

    @contextlib.contextmanager
    def identity(self, author: str, when: str) -> Iterator[None]:
        name, email = AUTHORS.get(author, (author, f"{author}@example.com"))
        with mock.patch.dict(GIT_ENV, {
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
        }):
            yield

    def write(self, files: dict[str, str | bytes]) -> None:
        for rel, content in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content), encoding="utf-8")

    def append(self, rel: str, text: str) -> None:
        with (self.root / rel).open("a", encoding="utf-8") as fh:
            fh.write(text)

    def commit(
        self, name: str, when: str, author: str = "alice", message: str | None = None, *,
        files: dict[str, str | bytes] | None = None, append: dict[str, str] | None = None,
        delete: tuple[str, ...] = (), rename: dict[str, str] | None = None,
    ) -> str:
        """Write the changes, commit them as `author` at `when`, and remember the sha as `name`."""
        self.write(files or {})
        for rel, text in (append or {}).items():
            self.append(rel, text)
        for rel in delete:
            git(self.root, "rm", "-q", rel)
        for old, new in (rename or {}).items():
            (self.root / new).parent.mkdir(parents=True, exist_ok=True)
            git(self.root, "mv", old, new)
        git(self.root, "add", "-A")
        with self.identity(author, when):
            git(self.root, "commit", "-q", "--allow-empty", "-m", message or name)
        return self._remember(name)

    def revert(self, name: str, target: str, when: str, author: str = "alice") -> str:
        with self.identity(author, when):
            git(self.root, "revert", "--no-edit", self.shas[target])
        return self._remember(name)

    def merge(self, name: str, branch: str, when: str, author: str = "alice") -> str:
        with self.identity(author, when):
            git(self.root, "merge", "-q", "--no-ff", "-m", f"Merge branch '{branch}'", branch)
        return self._remember(name)

    def tag(self, tag: str, target: str, *, annotated_at: str | None = None, author: str = "alice") -> None:
        if annotated_at is None:
            git(self.root, "tag", tag, self.shas[target])
        else:
            with self.identity(author, annotated_at):
                git(self.root, "tag", "-a", tag, "-m", tag, self.shas[target])

    def _remember(self, name: str) -> str:
        sha = git(self.root, "rev-parse", "HEAD").strip()
        self.shas[name] = sha
        return sha


def lines(count: int, prefix: str = "line") -> str:
    return "".join(f"{prefix} {i}\n" for i in range(1, count + 1))


def build_h1(root: Path) -> Scripted:
    """The main scripted history (12 commits, 3 authors, 5 tags, a rename, a revert, a merge, a binary file).

        c1  2026-01-05 10:00 alice  add src/app.py (10), src/util.py (4), README.md (2), logo.png (binary)
        c2  2026-01-07 10:00 bob    src/app.py +5; add docs/guide.md (3)
        c3  2026-01-09 10:00 alice  add CHANGELOG.md (1)                        tag v1.0.0 (lightweight)
        c4  2026-01-12 10:00 carol  rename src/util.py -> src/helpers.py (unchanged)
        c5  2026-01-13 10:00 bob    src/helpers.py +1
        c6  2026-01-14 10:00 alice  CHANGELOG.md +1             tag v1.1.0 (annotated, tagger date 01-14 12:00)
        c7  2026-01-15 09:00 carol  revert c5 (src/helpers.py -1)
        c8  2026-01-15 15:00 alice  CHANGELOG.md +1                             tag v1.1.1 (lightweight)
        c9  2026-01-20 10:00 bob    (branch feature) src/app.py +3
        c10 2026-01-21 10:00 alice  (main) docs/guide.md +3                     tag nightly-build
        c11 2026-01-22 10:00 alice  merge feature (--no-ff)                     tag v2.0.0-rc.1
        c14 2026-02-02 10:00 bob    logo.png changed (binary)
    """
    repo = Scripted(root)
    repo.commit("c1", "2026-01-05T10:00:00+00:00", "alice", "Initial commit", files={
        "src/app.py": lines(10), "src/util.py": lines(4, "util"), "README.md": "# Demo\nhello\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01",
    })
    repo.commit("c2", "2026-01-07T10:00:00+00:00", "bob", "Add feature",
                append={"src/app.py": lines(5, "feature")}, files={"docs/guide.md": lines(3, "guide")})
    repo.commit("c3", "2026-01-09T10:00:00+00:00", "alice", "Release 1.0.0", files={"CHANGELOG.md": "- 1.0.0\n"})
    repo.tag("v1.0.0", "c3")
    repo.commit("c4", "2026-01-12T10:00:00+00:00", "carol", "Rename util", rename={"src/util.py": "src/helpers.py"})
    repo.commit("c5", "2026-01-13T10:00:00+00:00", "bob", "Break things", append={"src/helpers.py": "broken\n"})
    repo.commit("c6", "2026-01-14T10:00:00+00:00", "alice", "Release 1.1.0", append={"CHANGELOG.md": "- 1.1.0\n"})
    repo.tag("v1.1.0", "c6", annotated_at="2026-01-14T12:00:00+00:00")
    repo.revert("c7", "c5", "2026-01-15T09:00:00+00:00", "carol")
    repo.commit("c8", "2026-01-15T15:00:00+00:00", "alice", "Release 1.1.1", append={"CHANGELOG.md": "- 1.1.1\n"})
    repo.tag("v1.1.1", "c8")
    git(root, "checkout", "-q", "-b", "feature")
    repo.commit("c9", "2026-01-20T10:00:00+00:00", "bob", "Feature work", append={"src/app.py": lines(3, "more")})
    git(root, "checkout", "-q", "main")
    repo.commit("c10", "2026-01-21T10:00:00+00:00", "alice", "Docs", append={"docs/guide.md": lines(3, "docs")})
    repo.tag("nightly-build", "c10")
    repo.merge("c11", "feature", "2026-01-22T10:00:00+00:00", "alice")
    repo.tag("v2.0.0-rc.1", "c11")
    repo.commit("c14", "2026-02-02T10:00:00+00:00", "bob", "Update logo",
                files={"logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x02\x00"})
    return repo


@pytest.fixture(scope="session")
def h1_template(tmp_path_factory) -> Scripted:
    return build_h1(tmp_path_factory.mktemp("h1") / "repo")


@pytest.fixture
def h1(h1_template, tmp_path) -> Scripted:
    """A private copy of the main scripted history (tests may damage it)."""
    import shutil

    copy = Scripted.__new__(Scripted)
    copy.root = tmp_path / "h1"
    shutil.copytree(h1_template.root, copy.root, symlinks=True)
    copy.shas = dict(h1_template.shas)
    return copy


class Stop(Exception):
    """Raised by the progress hook of `stopping_at`."""


def stopping_at(count: int) -> tuple[Callable[[int], None], list[int]]:
    """A progress hook for `history_metrics` that records every count it is given and raises Stop at `count`,
    and the list it records into."""
    seen: list[int] = []

    def hook(commits: int) -> None:
        seen.append(commits)
        if commits == count:
            raise Stop

    return hook, seen
