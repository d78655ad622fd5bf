"""The user's cache folder, shared by every cache of the tool (token counts, MCP tool schemas, help screens).

`$ORCHESTRATOR_KIT_CACHE_DIR`, else `$XDG_CACHE_HOME/orchestrator-kit`, else `~/.cache/orchestrator-kit`. Of a
scanned repository only two things are written here: token counts keyed by content, and the findings of a folder's
last scan (`scan-memo/`, the scan's own output, redacted as it reports it; `discovery._memo`). No file text is kept;
every cache can be deleted at any time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CACHE_ENV = "ORCHESTRATOR_KIT_CACHE_DIR"


def cache_dir() -> Path:
    """Where caches live: $ORCHESTRATOR_KIT_CACHE_DIR, else $XDG_CACHE_HOME/orchestrator-kit, else ~/.cache/..."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "orchestrator-kit"


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write `content` (text as UTF-8, or bytes) to `path` through a temporary file `.<name>.*.tmp` (mode 0600) and a
    rename, so that a reader (another server starting at the same time) sees the old file or the new one, never half
    of one. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(content, str):
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(content)
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
