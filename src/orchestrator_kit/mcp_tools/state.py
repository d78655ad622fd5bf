"""What one running server knows: its roots, its scan cache, whether it may write, and the size cap for reads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..limits import DEFAULT_MAX_FILE_BYTES
from .cache import CachedScan, CheckFn, ProgressFn, ScanCache
from .redacted import RedactedFiles
from .roots import Root, Roots

if TYPE_CHECKING:
    from ..repo import Workspace  # imported by the first call that reads (a server starts without it)


@dataclass
class Work:
    """Hooks of a long call: `progress(done, total)` while scanning; `check()` raises when the caller gave up;
    `heartbeat(seconds, message)` says that work without a known total (a history pass) is still going on."""

    progress: ProgressFn | None = None
    check: CheckFn | None = None
    heartbeat: Callable[[float, str], None] | None = None


NO_WORK = Work()
T = TypeVar("T")


class ResultCache:
    """Results of costly computations (history passes, token counts, generated plans, simulations), keyed by
    everything they depend on, so that paging through one result does not compute it again per page.

    Thread-safe; the least recently used entries go first. Two threads asking for the same missing key may both
    compute it (the results are equal): simpler than a lock per key, and these keys are rarely raced."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._guard = threading.Lock()
        self.computed = 0

    def peek(self, key: Hashable) -> Any | None:
        """The value under `key` if it is kept (and mark it recently used), else None; computes nothing."""
        with self._guard:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._guard:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]  # type: ignore[no-any-return]
        value = compute()
        with self._guard:
            self.computed += 1
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


@dataclass
class ServerState:
    """The state every tool of one server shares (the cache is thread-safe; the rest is read-only)."""

    roots: Roots
    read_only: bool = False
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    cache: ScanCache = field(default_factory=ScanCache)
    results: ResultCache = field(default_factory=ResultCache)
    redacted: RedactedFiles = field(default_factory=RedactedFiles)
    # Designs a design tool has seen, by handle, so a model can pass `design:<digest>` instead of the whole text.
    designs: ResultCache = field(default_factory=lambda: ResultCache(size=256))

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
        from ..repo import Workspace

        root, folder = self.folder(repository)
        # Opened beneath the root: the folder cannot have been swapped for a symlink to elsewhere since `folder`.
        return root, Workspace(folder, max_file_bytes=self.max_file_bytes, within=root.path)

    def scan(
        self, repository: str, *, refresh: bool = False, work: Work = NO_WORK, include_fixtures: bool | None = None
    ) -> tuple[Root, Path, CachedScan]:
        """The (cached) inventory of a repository argument; `include_fixtures` None keeps the cached choice."""
        root, folder = self.folder(repository)
        return root, folder, self.cache.get(folder, refresh=refresh, progress=work.progress, check=work.check,
                                            include_fixtures=include_fixtures, within=root.path)
