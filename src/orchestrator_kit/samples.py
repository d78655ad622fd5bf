"""Build a sample repository (a `files/` tree plus a `history.yaml` script) into a real, deterministic git repo.

history.yaml:

    branch: main
    authors: {alice: "Alice Example <alice@example.com>"}
    commits:
      - id: init                       # optional, for `revert`
        author: alice
        date: "2026-01-05T09:00:00+00:00"
        message: Initial commit
        add: ["pyproject.toml", "src/**"]   # globs over files/; copied as they are there
        write: {"CHANGELOG.md": "text"}    # inline content (replaces the file)
        append: {"CHANGELOG.md": "more"}   # inline content added at the end
        delete: ["old.txt"]
        rename: {"old/path": "new/path"}
        tag: v1.0.0                        # optional lightweight tag on this commit
      - revert: init                       # `git revert` of an earlier commit id
        author: bob
        date: ...
      - branch: feature/cache              # commit on this branch (created from the current HEAD if new)
        message: Cache carts
        add: ["src/cache.py"]
      - merge: feature/cache               # `git merge --no-ff` into `into` (default: the main branch)
        message: "Merge branch 'feature/cache'"

Every entry without `branch` commits on the main branch. A file added only on a branch that is never merged is
not in the final tree.

Files of `files/` that no commit adds are added by a last commit "Add remaining files", so the final tree is
always `files/` plus the inline edits. Dates, identities and config are fixed, so the same spec always gives
the same commit ids.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import InputError
from .gitsafe import builder_command
from .yamlsrc import YamlError, load_yaml


@dataclass(frozen=True)
class BuiltSample:
    path: Path
    commits: int
    tags: int


def _safe_rel(rel: str, what: str) -> PurePosixPath:
    pure = PurePosixPath(rel)
    if not rel or pure.is_absolute() or ".." in pure.parts or (pure.parts and pure.parts[0] == ".git"):
        raise InputError(f"{what} '{rel}' must be a relative path inside the repository (and not under .git).")
    return pure


def _git(dest: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(builder_command(dest, *args), capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise InputError(f"git {' '.join(args[:2])} failed while building the sample: {proc.stderr.strip()}")
    return proc.stdout


def build_sample_repo(spec_dir: str | os.PathLike[str], dest: str | os.PathLike[str]) -> BuiltSample:
    """Create the git repository described by `spec_dir` at `dest`; see the module docstring for the format."""
    spec_path = Path(spec_dir)
    files_dir = spec_path / "files"
    history_file = spec_path / "history.yaml"
    if not files_dir.is_dir() or not history_file.is_file():
        raise InputError(f"'{spec_dir}' is not a sample repository: it needs files/ and history.yaml.")
    try:
        spec = load_yaml(history_file.read_text(encoding="utf-8"))
    except (YamlError, UnicodeDecodeError) as exc:
        raise InputError(f"{history_file}: {exc}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("commits"), list):
        raise InputError(f"{history_file}: expected a mapping with a 'commits' list.")
    target = Path(dest)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"Destination '{dest}' exists and is not an empty directory.")
    target.mkdir(parents=True, exist_ok=True)

    all_files = sorted(
        p.relative_to(files_dir).as_posix() for p in files_dir.rglob("*") if p.is_file() or p.is_symlink()
    )
    authors: dict[str, str] = {str(k): str(v) for k, v in (spec.get("authors") or {}).items()}
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "TZ": "UTC",
    }
    main = str(spec.get("branch") or "main")
    _git(target, base_env, "init", "-q", "-b", main)
    branches = _Branches(target, base_env, main)
    added: set[str] = set()
    ids: dict[str, str] = {}
    commits = tags = 0
    last_env = base_env
    for number, entry in enumerate(spec["commits"], start=1):
        if not isinstance(entry, dict):
            raise InputError(f"{history_file}: commit {number} is not a mapping.")
        env = _identity(base_env, entry, authors, number)
        last_env = env
        if "merge" in entry:
            branches.switch(str(entry.get("into") or main))
            message = str(entry.get("message") or f"Merge branch '{entry['merge']}'")
            _git(target, env, "merge", "-q", "--no-ff", "-m", message, branches.known(str(entry["merge"]), number))
        elif "revert" in entry:
            branches.switch(str(entry.get("branch") or main))
            sha = ids.get(str(entry["revert"]))
            if sha is None:
                raise InputError(f"{history_file}: commit {number} reverts unknown id '{entry['revert']}'.")
            _git(target, env, "revert", "--no-edit", sha)
        else:
            branches.switch(str(entry.get("branch") or main))
            _apply_changes(entry, files_dir, target, all_files, added, number)
            _git(target, env, "add", "-A")
            message = str(entry.get("message") or f"Commit {number}")
            _git(target, env, "commit", "-q", "--allow-empty", "-m", message)
        commits += 1
        head = _git(target, env, "rev-parse", "HEAD").strip()
        if "id" in entry:
            ids[str(entry["id"])] = head
        if entry.get("tag"):
            _git(target, env, "tag", str(entry["tag"]))
            tags += 1
    branches.switch(main)
    remaining = [f for f in all_files if f not in added]
    if remaining:
        for rel in remaining:
            _copy(files_dir, target, rel)
        _git(target, last_env, "add", "-A")
        _git(target, last_env, "commit", "-q", "-m", "Add remaining files")
        commits += 1
    return BuiltSample(path=target, commits=commits, tags=tags)


class _Branches:
    """The branch checked out while building: switch to a branch, creating it from HEAD the first time."""

    def __init__(self, target: Path, env: dict[str, str], main: str) -> None:
        self.target, self.env, self.current = target, env, main
        self.created = {main}

    def switch(self, name: str) -> None:
        if name == self.current:
            return
        if not name or name.startswith("-") or ".." in name:
            raise InputError(f"history.yaml: '{name}' is not a usable branch name.")
        if name in self.created:
            _git(self.target, self.env, "switch", "-q", name)
        else:
            _git(self.target, self.env, "switch", "-q", "-c", name)
            self.created.add(name)
        self.current = name

    def known(self, name: str, number: int) -> str:
        if name not in self.created:
            raise InputError(f"history.yaml: commit {number} merges unknown branch '{name}'.")
        return name


def _identity(base_env: dict[str, str], entry: dict[str, Any], authors: dict[str, str], number: int) -> dict[str, str]:
    who = authors.get(str(entry.get("author", "")), str(entry.get("author") or "Sample Author <sample@example.com>"))
    name, _, email = who.partition("<")
    date = str(entry.get("date") or f"2026-01-01T00:00:{number % 60:02d}+00:00")
    return {
        **base_env,
        "GIT_AUTHOR_NAME": name.strip() or "Sample Author",
        "GIT_AUTHOR_EMAIL": email.rstrip(">").strip() or "sample@example.com",
        "GIT_COMMITTER_NAME": name.strip() or "Sample Author",
        "GIT_COMMITTER_EMAIL": email.rstrip(">").strip() or "sample@example.com",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }


def _apply_changes(
    entry: dict[str, Any], files_dir: Path, target: Path, all_files: list[str], added: set[str], number: int
) -> None:
    for pattern in entry.get("add") or []:
        matched = [f for f in all_files if fnmatch.fnmatchcase(f, str(pattern)) or f == pattern]
        if not matched:
            raise InputError(f"history.yaml: commit {number} adds '{pattern}', which matches nothing in files/.")
        for rel in matched:
            _copy(files_dir, target, rel)
            added.add(rel)
    for rel, content in (entry.get("write") or {}).items():
        path = target / _safe_rel(str(rel), "write path")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(content), encoding="utf-8")
    for rel, content in (entry.get("append") or {}).items():
        path = target / _safe_rel(str(rel), "append path")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(str(content))
    for rel in entry.get("delete") or []:
        path = target / _safe_rel(str(rel), "delete path")
        if path.is_file():
            path.unlink()
    for old, new in (entry.get("rename") or {}).items():
        source = target / _safe_rel(str(old), "rename source")
        destination = target / _safe_rel(str(new), "rename target")
        destination.parent.mkdir(parents=True, exist_ok=True)
        source.rename(destination)


def _copy(files_dir: Path, target: Path, rel: str) -> None:
    destination = target / _safe_rel(rel, "file")
    destination.parent.mkdir(parents=True, exist_ok=True)
    source = files_dir / rel
    shutil.copy2(source, destination, follow_symlinks=False)
