"""Whether git may read a folder's history: its git directory must be the folder's own, or one around it.

A folder's content can point git at another repository on the same machine without running anything: a `.git` file
(`gitdir: /elsewhere/.git`), a `.git` symlink, a `commondir` file inside its `.git` folder, or an
`objects/info/alternates` entry. Git then reads that repository's commits, authors and paths as if they were the
folder's own, and our history metrics would report them. `refusal_reason` accepts exactly the layouts git itself
creates for the user:

1. **The folder's own git directory**: the git directory and the common directory lie inside the folder, and so do
   the object stores it borrows from (`alternates`), since everything there came with the folder.
2. **A repository around the folder**: the folder is a subfolder (or a submodule) of a repository whose `.git`
   folder is a real directory in one of the folder's ancestors, and both directories lie inside that `.git`. The
   folder's content cannot create a directory above itself, so an ancestor's `.git` was made by the user.
3. **A linked worktree** (`git worktree add`): the git directory is `<common>/worktrees/<name>`, outside the folder,
   and its `gitdir` back-link (written by git into the common directory, where the folder cannot write) names the
   `.git` file of this folder or of one of its ancestors.

Anything else is refused: git is then run as in a folder without git, and the reason is reported. Reasons name the
mechanism, never the target path (an error must not tell a repository's author what exists on the machine).
"""

from __future__ import annotations

import os
from pathlib import Path

_BACKLINK_MAX = 4096  # bytes of a worktree's `gitdir` file read; git writes one path


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _ancestors(folder: str) -> list[str]:
    """`folder`'s parents, nearest first, up to the file system root."""
    out: list[str] = []
    current = folder
    while True:
        parent = os.path.dirname(current)
        if parent == current:
            return out
        out.append(parent)
        current = parent


def _alternates(common_dir: str) -> list[str]:
    """The real paths of the object stores `common_dir` borrows from (`objects/info/alternates`, one per line,
    relative to the objects folder; `#` lines are comments)."""
    objects = os.path.join(common_dir, "objects")
    try:
        with open(os.path.join(objects, "info", "alternates"), "rb") as handle:
            text = handle.read(1 << 16).decode("utf-8", "replace")
    except OSError:
        return []
    lines = (line.strip() for line in text.splitlines())
    return [os.path.realpath(os.path.join(objects, line)) for line in lines if line and not line.startswith("#")]


def _worktree_owner(git_dir: str, common_dir: str) -> str | None:
    """The folder a linked worktree's git directory belongs to (the parent of the `.git` file its back-link names),
    or None when `git_dir` is not `<common_dir>/worktrees/<name>`."""
    if os.path.dirname(git_dir) != os.path.join(common_dir, "worktrees"):
        return None
    try:
        with open(os.path.join(git_dir, "gitdir"), "rb") as handle:
            link = handle.read(_BACKLINK_MAX).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not link:
        return None
    return os.path.dirname(os.path.realpath(os.path.join(git_dir, link)))


def refusal_reason(root: str | Path, git_dir: str | Path, common_dir: str | Path) -> str | None:
    """None when git may read `root`'s history from `git_dir`/`common_dir` (the three layouts in the module text);
    otherwise why not, in one sentence. All paths are made real (symlinks resolved) before they are compared."""
    folder = os.path.realpath(root)
    gdir, cdir = os.path.realpath(git_dir), os.path.realpath(common_dir)
    if _inside(gdir, folder) and _inside(cdir, folder):
        borrowed = [alt for alt in _alternates(cdir) if not _inside(alt, folder)]
        if borrowed:
            return ("its git directory borrows objects from outside the folder (objects/info/alternates), which "
                    "could show another repository's history")
        return None
    if _inside(gdir, folder):
        return ("its git directory names a common directory outside the folder (commondir), which could show "
                "another repository's history")
    for ancestor in _ancestors(folder):
        dot_git = os.path.join(ancestor, ".git")
        if os.path.isdir(dot_git) and not os.path.islink(dot_git):
            home = os.path.realpath(dot_git)
            if _inside(gdir, home) and _inside(cdir, home):
                return None
    owner = _worktree_owner(gdir, cdir)
    if owner is not None and (owner == folder or owner in _ancestors(folder)):
        return None
    return ("its .git points outside the folder to a repository that is neither around it nor one of its "
            "worktrees (a .git file or symlink), which could show another repository's history")
