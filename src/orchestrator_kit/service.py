"""The capabilities, as plain functions: the CLI, the MCP server and the agent all call these."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .discovery import discover
from .excludes import check_excludes
from .models import Inventory
from .repo import DEFAULT_MAX_FILE_BYTES, Workspace

ProgressFn = Callable[[int, int], None]


def scan(
    path: str | os.PathLike[str] | Workspace,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    detectors: set[str] | None = None,
    progress: ProgressFn | None = None,
    include_fixtures: bool = False,
    exclude: Sequence[str] = (),
    remember: bool = True,
) -> Inventory:
    """Discover how the repository at `path` is built, tested, released, scheduled and operated.

    Reads files only (nothing in the repository is executed); raises `InputError` when `path` is not a
    readable directory; every per-file problem becomes a `Diagnostic` in the result. What test fixtures and
    copies of other projects hold is counted in `skipped_fixtures` and left out unless `include_fixtures`.
    `remember`: reuse what the last scan of this folder found in the documents, manifests and Terraform folders
    that did not change since (kept in the user's cache folder; the result is the same either way).
    """
    workspace = path if isinstance(path, Workspace) else Workspace(path, max_file_bytes=max_file_bytes)
    return discover(workspace, only=detectors, progress=progress, include_fixtures=include_fixtures,
                    exclude=check_excludes(exclude), remember=remember)
