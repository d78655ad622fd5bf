"""A folder's content cannot point git at another repository's history: a `.git` file or symlink, a `commondir` or
an `alternates` entry naming a repository elsewhere on the machine is refused (the folder is read as one without
git, and the reason is reported); the layouts git makes for the user (its own `.git`, a subfolder, a submodule, a
linked worktree) keep their history.

Every case is a real repository built here. The "private" repository stands for one the user has elsewhere: its
author's address must never appear in what our entry points return for the hostile folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_kit import gitsafe
from orchestrator_kit.metrics import history_metrics
from orchestrator_kit.repo import Workspace

from ..conftest import GIT_ENV, git, write_files

PRIVATE_AUTHOR = "private-author@example.invalid"


@pytest.fixture
def private(tmp_path) -> Path:
    """A repository the hostile folder must not be able to read: two commits by PRIVATE_AUTHOR."""
    repo = tmp_path / "private"
    repo.mkdir()
    write_files(repo, {"secret-plan.md": "# plan\n"})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    _commit_as_private(repo, "private one")
    (repo / "secret-plan.md").write_text("# plan\nmore\n")
    _commit_as_private(repo, "private two", "-a")
    return repo


def _commit_as_private(repo: Path, message: str, *flags: str) -> None:
    identity = {"GIT_AUTHOR_EMAIL": PRIVATE_AUTHOR, "GIT_COMMITTER_EMAIL": PRIVATE_AUTHOR}
    subprocess.run(["git", "-C", str(repo), "commit", "-q", *flags, "-m", message], check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV, **identity})


def _hostile_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "downloaded"
    folder.mkdir()
    write_files(folder, {"Makefile": "build:\n\techo build\n", "README.md": "# hi\n"})
    return folder


def _own_repo(tmp_path: Path, name: str = "own") -> Path:
    repo = tmp_path / name
    repo.mkdir()
    write_files(repo, {"Makefile": "build:\n\techo build\n", "sub/README.md": "# sub\n"})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "own one")
    return repo


def _assert_refused(folder: Path) -> None:
    reason = gitsafe.refusal(folder)
    assert reason and "another repository's history" in reason
    history = history_metrics(folder)
    assert not history.available and history.commits == 0
    assert any("git history not read" in d.reason for d in history.diagnostics)
    assert PRIVATE_AUTHOR not in history.model_dump_json()
    workspace = Workspace(folder)
    assert workspace.git_info() is None  # git fails as in a folder without git
    assert "Makefile" in workspace.files()  # the folder is still read, by a walk
    assert any("git not used" in problem for _, problem in workspace.listing().problems)
    assert "secret-plan.md" not in workspace.files()


def test_a_gitdir_file_naming_another_repository_is_refused(tmp_path, private):
    folder = _hostile_folder(tmp_path)
    (folder / ".git").write_text(f"gitdir: {private / '.git'}\n")
    # Control: plain git follows the file and reads the private history.
    plain = subprocess.run(["git", "-C", str(folder), "log", "--format=%ae"], capture_output=True, text=True,
                           check=False)
    assert PRIVATE_AUTHOR in plain.stdout
    _assert_refused(folder)


def test_a_relative_gitdir_file_is_refused(tmp_path, private):
    folder = _hostile_folder(tmp_path)
    (folder / ".git").write_text("gitdir: ../private/.git\n")
    _assert_refused(folder)


def test_a_git_symlink_to_another_repository_is_refused(tmp_path, private):
    folder = _hostile_folder(tmp_path)
    os.symlink(private / ".git", folder / ".git")
    _assert_refused(folder)


def test_a_gitdir_file_naming_another_repositorys_worktree_is_refused(tmp_path, private):
    git(private, "worktree", "add", "-q", str(tmp_path / "private-wt"))
    folder = _hostile_folder(tmp_path)
    (folder / ".git").write_text(f"gitdir: {private / '.git' / 'worktrees' / 'private-wt'}\n")
    _assert_refused(folder)


def test_a_commondir_outside_the_folder_is_refused(tmp_path, private):
    folder = _own_repo(tmp_path, "downloaded")
    (folder / ".git" / "commondir").write_text(str(private / ".git") + "\n")
    _assert_refused(folder)


def test_alternates_outside_the_folder_are_refused(tmp_path, private):
    """A repository that borrows another's object store could name that repository's commits in its own refs."""
    folder = _own_repo(tmp_path, "downloaded")
    (folder / ".git" / "objects" / "info" / "alternates").write_text(str(private / ".git" / "objects") + "\n")
    private_head = git(private, "rev-parse", "HEAD").strip()
    (folder / ".git" / "refs" / "heads" / "main").write_text(private_head + "\n")
    plain = subprocess.run(["git", "-C", str(folder), "log", "--format=%ae"], capture_output=True, text=True,
                           check=False)
    assert PRIVATE_AUTHOR in plain.stdout  # control: plain git shows the borrowed history
    _assert_refused(folder)


def test_the_folders_own_repository_keeps_its_history(tmp_path):
    repo = _own_repo(tmp_path)
    assert gitsafe.refusal(repo) is None
    assert history_metrics(repo).commits == 1


def test_a_git_symlink_inside_the_folder_keeps_its_history(tmp_path):
    repo = _own_repo(tmp_path)
    (repo / ".git").rename(repo / "store")
    os.symlink("store", repo / ".git")
    assert gitsafe.refusal(repo) is None
    assert history_metrics(repo).commits == 1


def test_a_subfolder_of_a_repository_keeps_its_history(tmp_path):
    repo = _own_repo(tmp_path)
    assert gitsafe.refusal(repo / "sub") is None
    assert history_metrics(repo / "sub").available


def test_a_linked_worktree_and_its_subfolder_keep_their_history(tmp_path):
    repo = _own_repo(tmp_path)
    worktree = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(worktree))
    assert (worktree / ".git").is_file()
    for folder in (worktree, worktree / "sub"):
        assert gitsafe.refusal(folder) is None
        assert history_metrics(folder).commits == 1


def test_a_submodule_keeps_its_history(tmp_path):
    library = _own_repo(tmp_path, "library")
    superproject = _own_repo(tmp_path, "super")
    git(superproject, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendor/library")
    module = superproject / "vendor" / "library"
    assert (module / ".git").is_file()
    assert gitsafe.refusal(module) is None
    history = history_metrics(module)
    assert history.available and history.commits == 1


def test_a_refusal_is_recomputed_when_the_git_entry_changes(tmp_path, private):
    folder = _own_repo(tmp_path, "downloaded")
    assert gitsafe.refusal(folder) is None
    (folder / ".git").rename(tmp_path / "moved-away")
    (folder / ".git").write_text(f"gitdir: {private / '.git'}\n")
    assert gitsafe.refusal(folder) is not None


def test_a_huge_or_garbled_worktree_backlink_is_refused_without_reading_it_all(tmp_path, private):
    """The back-link file lives where git writes it; a folder cannot plant one there, but a damaged one must not
    be trusted or read whole."""
    git(private, "worktree", "add", "-q", str(tmp_path / "private-wt"))
    backlink = private / ".git" / "worktrees" / "private-wt" / "gitdir"
    backlink.write_bytes(b"\xff" * 10_000_000)
    folder = _hostile_folder(tmp_path)
    (folder / ".git").write_text(f"gitdir: {private / '.git' / 'worktrees' / 'private-wt'}\n")
    _assert_refused(folder)


def test_the_cli_reports_the_refusal_and_no_private_history(tmp_path, private):
    folder = _hostile_folder(tmp_path)
    (folder / ".git").write_text(f"gitdir: {private / '.git'}\n")
    proc = subprocess.run([sys.executable, "-m", "orchestrator_kit", "metrics", str(folder), "--format", "json"],
                          capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert data["history"]["available"] is False
    assert PRIVATE_AUTHOR not in proc.stdout
    assert str(private) not in proc.stdout  # reasons name the mechanism, not the target
    assert "git history not read" in proc.stdout


@pytest.mark.anyio
async def test_git_metrics_over_the_real_client_reports_the_refusal(tmp_path, private):
    from mcp import Client, StdioServerParameters

    from ..mcp_server.conftest import spawn_command

    folder = _hostile_folder(tmp_path)
    (folder / ".git").write_text(f"gitdir: {private / '.git'}\n")
    command = spawn_command(folder)
    async with Client(StdioServerParameters(command=command[0], args=command[1:])) as client:
        result = await client.call_tool("git_metrics", {})
    text = "".join(getattr(part, "text", "") for part in result.content)
    assert not result.is_error, text
    assert "git history not read" in text
    assert PRIVATE_AUTHOR not in text and str(private) not in text
