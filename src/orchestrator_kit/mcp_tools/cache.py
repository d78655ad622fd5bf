"""The scan cache: one `Inventory` per repository folder, reused until the folder changes.

A model calls many tools in a row (scan, list, get, read); each would otherwise rescan. The cache keys each
folder by a fingerprint of its state, taken before the scan so that a change made during a scan is seen next time:

* in a git work tree: HEAD's commit and branch, the size and mtime of the index (staging changes it), and the size
  and mtime of every file `git ls-files --cached --others --exclude-standard` lists (never `git status`, which
  runs a repository's clean filters: see `gitsafe`);
* elsewhere: the listing (a `.gitignore`-aware walk) with the size and mtime of every file.

Sync MCP tools run in worker threads, so the cache is shared between threads: a lock per folder makes two
concurrent calls for the same folder scan once (the second waits and gets the first's result), while different
folders scan in parallel. A scan that fails or is cancelled stores nothing.

Whether the scan kept what test fixtures hold (`include_fixtures`) is part of an entry: a call that asks for the
other choice scans again, and a call that does not say (None) takes the entry as it is (False for a new one), so
the list tools show what the last `scan_repository` chose.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..gitsafe import run_git
from ..limits import DEFAULT_MAX_FILE_BYTES

if TYPE_CHECKING:
    from ..models import Inventory  # loaded with the first scan, not with the server

ProgressFn = Callable[[int, int], None]
CheckFn = Callable[[], None]
MAX_ENTRIES = 32


@dataclass(frozen=True)
class CachedScan:
    """A scan result: the inventory, the `version` (short fingerprint digest) it belongs to, and how it was had."""

    inventory: Inventory
    version: str
    scanned_at: float
    scan_seconds: float
    cached: bool
    include_fixtures: bool = False


@dataclass
class CacheStats:
    scans: int = 0
    hits: int = 0
    failed: int = 0
    cancelled: int = 0


class ScanCache:
    """Inventories per repository folder, thread-safe, invalidated by the folder's fingerprint."""

    def __init__(
        self,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        scanner: Callable[..., Inventory] | None = None,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self._scanner = scanner
        self._entries: OrderedDict[Path, CachedScan] = OrderedDict()
        self._locks: dict[Path, threading.Lock] = {}
        self._toplevels: dict[Path, Path] = {}
        self._guard = threading.Lock()
        self.stats = CacheStats()

    def get(
        self,
        folder: Path,
        *,
        refresh: bool = False,
        progress: ProgressFn | None = None,
        check: CheckFn | None = None,
        include_fixtures: bool | None = None,
        within: Path | None = None,
    ) -> CachedScan:
        """The inventory of `folder` (a real, confined directory path), scanning only when it changed.

        `progress(done, total)` is passed to the scan; `check()` is called while waiting for another thread's
        scan of the same folder, and may raise to give up (cancellation). `within` (the server root holding the
        folder) makes the scan open the folder beneath it, so a folder swapped for a symlink cannot redirect it.
        """
        version = self.fingerprint(folder)
        with self._guard:
            lock = self._locks.setdefault(folder, threading.Lock())
        while not lock.acquire(timeout=0.05):
            if check is not None:
                check()
        try:
            with self._guard:
                entry = self._entries.get(folder)
                same_choice = include_fixtures is None or entry is None or entry.include_fixtures == include_fixtures
                if entry is not None and entry.version == version and not refresh and same_choice:
                    self._entries.move_to_end(folder)
                    self.stats.hits += 1
                    return replace(entry, cached=True)
            started = time.perf_counter()
            try:
                if include_fixtures is None:
                    include_fixtures = entry.include_fixtures if entry is not None else False
                inventory = self._scan(folder, progress, include_fixtures, within)
            except Exception:
                with self._guard:
                    self.stats.failed += 1
                raise
            except BaseException:  # cancellation (the client gave up), or an interrupt
                with self._guard:
                    self.stats.cancelled += 1
                raise
            entry = CachedScan(
                inventory=inventory,
                version=version,
                scanned_at=time.time(),
                scan_seconds=round(time.perf_counter() - started, 3),
                cached=False,
                include_fixtures=include_fixtures,
            )
            with self._guard:
                self.stats.scans += 1
                self._entries[folder] = entry
                self._entries.move_to_end(folder)
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
            return entry
        finally:
            lock.release()

    def _scan(self, folder: Path, progress: ProgressFn | None, include_fixtures: bool,
              within: Path | None = None) -> Inventory:
        extra: dict[str, Any] = {"include_fixtures": True} if include_fixtures else {}
        if self._scanner is not None:
            return self._scanner(folder, max_file_bytes=self.max_file_bytes, progress=progress, **extra)
        from ..repo import Workspace
        from ..service import scan  # imported on first use: discovery loads every detector module

        workspace = Workspace(folder, max_file_bytes=self.max_file_bytes, within=within)
        return scan(workspace, max_file_bytes=self.max_file_bytes, progress=progress, **extra)

    # ------------------------------------------------------------ fingerprints

    def fingerprint(self, folder: Path) -> str:
        """A short digest of the folder's state (see the module docstring)."""
        digest = hashlib.sha256()
        state = _git_state(folder) if self._toplevel(folder) is not None else None
        if state is not None:
            head, index, listed = state
            digest.update(b"git\x00" + head + _stat_key(index))
            for rel in listed:
                digest.update(_stat_key(folder / rel))
        else:
            from ..repo import Workspace

            digest.update(b"walk\x00")
            workspace = Workspace(folder, max_file_bytes=self.max_file_bytes)
            for rel in workspace.files():
                digest.update(_stat_key(folder / rel))
        return digest.hexdigest()[:16]

    def _toplevel(self, folder: Path) -> Path | None:
        with self._guard:
            known = self._toplevels.get(folder)
        if known is not None:
            return known
        top: Path | None = None
        try:
            proc = run_git(folder, "rev-parse", "--show-toplevel", timeout=30)
            if proc.returncode == 0 and proc.stdout.strip():
                top = Path(os.fsdecode(proc.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            top = None
        if top is not None:  # not cached when absent: the folder may become a work tree (git init) later
            with self._guard:
                self._toplevels[folder] = top
        return top


def _git_state(folder: Path) -> tuple[bytes, Path, list[str]] | None:
    """HEAD's commit and branch, the index file, and every listed file (tracked, or untracked and not ignored).

    `git status` would say the same more briefly, but it refreshes the index by reading changed files through
    the repository's clean filters, which run programs a hostile `.git/config` names; these commands never do.
    """
    try:
        head = run_git(folder, "rev-parse", "--git-path", "index", "HEAD", "--symbolic-full-name", "HEAD", timeout=30)
        listed = run_git(folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".",
                         timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if listed.returncode != 0 or not head.stdout.strip():
        return None
    index = folder / os.fsdecode(head.stdout.split(b"\n", 1)[0].strip())
    return head.stdout, index, sorted({os.fsdecode(p) for p in listed.stdout.split(b"\x00") if p})


def _stat_key(path: Path) -> bytes:
    try:
        st = os.lstat(path)
    except OSError:
        return f"{path}\x00missing\x00".encode("utf-8", "surrogateescape")
    return f"{path}\x00{st.st_size}\x00{st.st_mtime_ns}\x00".encode("utf-8", "surrogateescape")
