"""Progress and cancellation for sync tools, which the SDK runs in a worker thread.

The scan calls `progress(done, total)` from that thread. Each call first asks anyio whether the request's task was
cancelled (the client sent `notifications/cancelled`, or gave up): `anyio.from_thread.check_cancelled()` raises the
cancellation exception in the thread, which ends the scan at once (nothing is cached). Then, at most every
`INTERVAL` seconds and on the last file, it hands `ctx.report_progress` to the event loop with
`anyio.from_thread.run`, so notifications leave in order while the scan goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .state import Work

INTERVAL = 0.1
log = logging.getLogger(__name__)


def work_for(ctx: Any) -> Work:
    """Hooks for the current request (`ctx` is the tool's MCP Context); no-ops outside an anyio worker thread."""
    import anyio.from_thread
    from anyio import NoEventLoopError

    try:
        anyio.from_thread.check_cancelled()
    except (NoEventLoopError, RuntimeError):
        return Work()  # called directly, not by the server: nothing to report to, nothing to cancel

    last = [0.0]
    lock = threading.Lock()

    def check() -> None:
        anyio.from_thread.check_cancelled()

    def progress(done: int, total: int) -> None:
        check()
        now = time.monotonic()
        with lock:
            if done < total and now - last[0] < INTERVAL:
                return
            last[0] = now
        try:
            anyio.from_thread.run(ctx.report_progress, done, total, f"scanned {done} of {total} files")
        except Exception:  # progress is best effort (the client may be gone); cancellation is not an Exception
            log.debug("progress notification not sent", exc_info=True)

    return Work(progress=progress, check=check)
