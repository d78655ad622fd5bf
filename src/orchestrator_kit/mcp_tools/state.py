"""What one running server knows: its roots, its scan cache, whether it may write, and the size cap for reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..repo import DEFAULT_MAX_FILE_BYTES, Workspace
from .cache import CachedScan, CheckFn, ProgressFn, ScanCache
from .roots import Root, Roots


@dataclass
class Work:
    """Hooks of a long call: `progress(done, total)` while scanning; `check()` raises when the caller gave up."""

    progress: ProgressFn | None = None
    check: CheckFn | None = None


NO_WORK = Work()


@dataclass
class ServerState:
    """The state every tool of one server shares (the cache is thread-safe; the rest is read-only)."""

    roots: Roots
    read_only: bool = False
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    cache: ScanCache = field(default_factory=ScanCache)

    @classmethod
    def create(
        cls, roots: Sequence[str | Path] = (), *, read_only: bool = False, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> ServerState:
        return cls(
            roots=Roots(list(roots)),
            read_only=read_only,
            max_file_bytes=max_file_bytes,
            cache=ScanCache(max_file_bytes=max_file_bytes),
        )

    def folder(self, repository: str) -> tuple[Root, Path]:
        """The root and the real folder a `repository` argument names (confined; see `Roots.repository`)."""
        return self.roots.repository(repository)

    def workspace(self, repository: str) -> tuple[Root, Workspace]:
        root, folder = self.folder(repository)
        return root, Workspace(folder, max_file_bytes=self.max_file_bytes)

    def scan(self, repository: str, *, refresh: bool = False, work: Work = NO_WORK) -> tuple[Root, Path, CachedScan]:
        """The (cached) inventory of a repository argument."""
        root, folder = self.folder(repository)
        return root, folder, self.cache.get(folder, refresh=refresh, progress=work.progress, check=work.check)
