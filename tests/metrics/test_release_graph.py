"""The release graph read after the log: a tag on a branch HEAD does not contain is placed by `git rev-list --parents`,
which runs while the summaries are computed (history._graph), with the same result however it is read.

    c1 - c2 ----- c3 - c4          main (HEAD)        v1.0.0 at c1, v2.1.0 at c4
          \\
           b0 - b1                 release-2 (never merged)   v2.0.0 at b1

The log reads main only. v2.0.0's commits come from the rev-list: b1 -> b0 -> c2, so c2 ships first in v2.0.0, and
v2.1.0 ships c3 and c4. Without the rev-list's links c2 would count for v2.1.0 (3 commits).
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from orchestrator_kit.metrics import history as history_module
from orchestrator_kit.metrics.history import history_metrics

from ..conftest import git
from .conftest import Scripted


@pytest.fixture(scope="module")
def branched(tmp_path_factory) -> Scripted:
    repo = Scripted(tmp_path_factory.mktemp("graph") / "repo")
    repo.commit("c1", "2026-03-02T10:00:00+00:00", files={"app.py": "one\n"})
    repo.tag("v1.0.0", "c1")
    repo.commit("c2", "2026-03-03T10:00:00+00:00", append={"app.py": "two\n"})
    git(repo.root, "checkout", "-q", "-b", "release-2")
    repo.commit("b0", "2026-03-04T10:00:00+00:00", files={"fix.py": "fix\n"})
    repo.commit("b1", "2026-03-05T10:00:00+00:00", append={"fix.py": "again\n"})
    repo.tag("v2.0.0", "b1")
    git(repo.root, "checkout", "-q", "main")
    repo.commit("c3", "2026-03-06T10:00:00+00:00", append={"app.py": "three\n"})
    repo.commit("c4", "2026-03-07T10:00:00+00:00", append={"app.py": "four\n"})
    repo.tag("v2.1.0", "c4")
    return repo


def shipped(root: Path) -> dict[str, int]:
    result = history_metrics(root)
    assert result.commits == 4  # main's commits: the release branch is not in HEAD's history
    return {release.name: release.commits_shipped for release in result.dora.releases}


def test_a_tag_off_heads_history_is_placed_by_the_graph(branched):
    assert shipped(branched.root) == {"v1.0.0": 1, "v2.0.0": 1, "v2.1.0": 2}


def test_without_room_for_temporary_files_git_writes_into_a_pipe(branched, monkeypatch):
    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_room)
    assert shipped(branched.root) == {"v1.0.0": 1, "v2.0.0": 1, "v2.1.0": 2}


def test_a_failing_rev_list_is_reported_and_the_commits_read_still_count(branched, tmp_path):
    root = tmp_path / "damaged"
    shutil.copytree(branched.root, root, symlinks=True)
    b0 = branched.shas["b0"]
    (root / ".git" / "objects" / b0[:2] / b0[2:]).unlink()  # b1 is there, its parent is not: the walk fails at b1
    result = history_metrics(root)
    failed = [d.reason for d in result.diagnostics if "rev-list over the tags failed" in d.reason]
    assert len(failed) == 1, result.diagnostics
    assert failed[0].startswith("git rev-list over the tags failed (fatal: ")  # git's own last line, then ours
    assert failed[0].endswith("); release containment uses only the commits read")
    releases = {release.name: release.commits_shipped for release in result.dora.releases}
    assert releases["v1.0.0"] == 1 and releases["v2.1.0"] == 3  # c2 no longer reaches v2.0.0


def _children() -> list[str]:
    found: list[str] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children = task / "children"
        if children.exists():
            found += children.read_text().split()
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc to list child processes")
def test_a_failure_in_the_summaries_leaves_no_git_and_no_open_file(branched, monkeypatch):
    history_metrics(branched.root)  # warm: threads and files of a first pass are not counted below
    children, fds = _children(), len(os.listdir("/proc/self/fd"))

    def broken(*args, **kwargs):
        raise RuntimeError("summaries failed")

    monkeypatch.setattr(history_module, "_finish", broken)
    with pytest.raises(RuntimeError, match="summaries failed"):
        history_metrics(branched.root)
    assert _children() == children
    assert len(os.listdir("/proc/self/fd")) == fds


def _with_orphan_history(root: Path) -> Scripted:
    """main: c1 (v1.0.0), c2, c3 (v1.2.0); an orphan branch gh-pages (o1, o2) whose o2 is tagged v1.1.0."""
    repo = Scripted(root)
    repo.commit("c1", "2026-03-02T10:00:00+00:00", files={"app.py": "one\n"})
    repo.tag("v1.0.0", "c1")
    repo.commit("c2", "2026-03-03T10:00:00+00:00", append={"app.py": "two\n"})
    git(repo.root, "checkout", "-q", "--orphan", "gh-pages")
    git(repo.root, "rm", "-q", "--cached", "-r", ".")
    (repo.root / "app.py").unlink()
    repo.commit("o1", "2026-03-04T10:00:00+00:00", files={"index.html": "x\n"})
    repo.commit("o2", "2026-03-05T10:00:00+00:00", files={"index.html": "y\n"})
    repo.tag("v1.1.0", "o2")
    git(repo.root, "checkout", "-q", "-f", "main")
    repo.commit("c3", "2026-03-06T10:00:00+00:00", append={"app.py": "three\n"})
    repo.tag("v1.2.0", "c3")
    return repo


def test_a_tag_on_a_history_unrelated_to_heads_is_no_release(tmp_path):
    repo = _with_orphan_history(tmp_path / "repo")
    dora = history_metrics(repo.root).dora
    assert [(r.name, r.commits_shipped) for r in dora.releases] == [("v1.0.0", 1), ("v1.2.0", 2)]
    assert dora.deployment_frequency.deployments == 2
    assert [(t.name, t.reason) for t in dora.skipped_tags] == [("v1.1.0", history_module.UNRELATED_HISTORY)]


def test_a_release_branch_cut_by_a_shallow_clone_still_counts(branched, tmp_path):
    # release-2 (b0 - b1, tagged v2.0.0) forks from c2; a depth-1 clone holds b1 without its parent: git cannot
    # tell its history joins HEAD's, so it is not called unrelated
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{branched.root}", str(clone))
    assert git(clone, "tag", "--list", "v2.0.0").strip() == "v2.0.0"
    dora = history_metrics(clone).dora
    assert "v2.0.0" in {r.name for r in dora.releases}
    assert all(t.reason != history_module.UNRELATED_HISTORY for t in dora.skipped_tags)


def _orphan_after_a_window(root: Path) -> Scripted:
    """main: c1 (v1.0.0), c2, c3; then an orphan o1, newer than c3, tagged v1.1.0. Read with max_commits=1 (c3
    only), the window holds no tag the log read: the tags' graph does not reach HEAD's history, git is asked."""
    repo = Scripted(root)
    repo.commit("c1", "2026-03-02T10:00:00+00:00", files={"app.py": "one\n"})
    repo.tag("v1.0.0", "c1")
    repo.commit("c2", "2026-03-03T10:00:00+00:00", append={"app.py": "two\n"})
    repo.commit("c3", "2026-03-04T10:00:00+00:00", append={"app.py": "three\n"})
    git(repo.root, "checkout", "-q", "--orphan", "gh-pages")
    git(repo.root, "rm", "-q", "--cached", "-r", ".")
    (repo.root / "app.py").unlink()
    repo.commit("o1", "2026-03-05T10:00:00+00:00", files={"index.html": "x\n"})
    repo.tag("v1.1.0", "o1")
    git(repo.root, "checkout", "-q", "-f", "main")
    return repo


def test_without_a_tag_read_in_the_window_git_tells_the_unrelated_history(tmp_path, monkeypatch):
    repo = _orphan_after_a_window(tmp_path / "repo")
    asked: list[tuple[str, ...]] = []
    real = history_module.run_git
    monkeypatch.setattr(history_module, "run_git", lambda root, *args, **kw: asked.append(args) or real(root, *args, **kw))
    dora = history_metrics(repo.root, max_commits=1).dora
    assert [(t.name, t.reason) for t in dora.skipped_tags if t.name == "v1.1.0"] == [
        ("v1.1.0", history_module.UNRELATED_HISTORY)]
    assert any("--boundary" in args for args in asked)


def test_with_a_tag_read_the_graph_tells_it_and_git_is_not_asked(tmp_path, monkeypatch):
    repo = _with_orphan_history(tmp_path / "repo")
    asked: list[tuple[str, ...]] = []
    real = history_module.run_git
    monkeypatch.setattr(history_module, "run_git", lambda root, *args, **kw: asked.append(args) or real(root, *args, **kw))
    dora = history_metrics(repo.root).dora
    assert [t.name for t in dora.skipped_tags] == ["v1.1.0"] and not any("--boundary" in args for args in asked)


def test_when_git_cannot_tell_every_tag_counts(tmp_path, monkeypatch):
    repo = _orphan_after_a_window(tmp_path / "repo")
    real = history_module.run_git
    monkeypatch.setattr(history_module, "run_git",
                        lambda root, *args, **kw: real(root, "rev-list", "no-such-revision") if "--boundary" in args
                        else real(root, *args, **kw))
    dora = history_metrics(repo.root, max_commits=1).dora
    assert "v1.1.0" in [r.name for r in dora.releases]  # as before this check existed
