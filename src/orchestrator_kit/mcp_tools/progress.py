"""Progress and cancellation for sync tools, which the SDK runs in a worker thread.

The scan calls `progress(done, total)` from that thread. Each call first asks anyio whether the request's task was
cancelled (the client sent `notifications/cancelled`, or gave up): `anyio.from_thread.check_cancelled()` raises the
cancellation exception in the thread, which ends the scan at once (nothing is cached). Then, at most every
`INTERVAL` seconds and on the last file, it hands `ctx.report_progress` to the event loop with
`anyio.from_thread.run`, so notifications leave in order while the scan goes on.

Library functions without a progress hook (the git history pass, token counting, generating automation) run
through `in_background`: in a helper thread, while the tool's worker thread sends a heartbeat (seconds elapsed,
no total) every `HEARTBEAT` seconds and checks for cancellation. A cancelled call returns at once; the helper
thread finishes its work (a `git log` already started) in the background and its result is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .state import Work

INTERVAL = 0.1
HEARTBEAT = 0.5
T = TypeVar("T")
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

    def heartbeat(seconds: float, message: str) -> None:
        check()
        try:
            anyio.from_thread.run(ctx.report_progress, seconds, None, message)
        except Exception:  # best effort, as above
            log.debug("heartbeat not sent", exc_info=True)

    return Work(progress=progress, check=check, heartbeat=heartbeat)


def in_background(work: Work, fn: Callable[[], T], what: str, *, interval: float | None = None) -> T:
    """`fn()`, run in a helper thread while this thread sends heartbeats ("<what>: <n> s") and watches for
    cancellation (see the module docstring). Exceptions of `fn` are raised here; called outside a server (no
    hooks), it simply calls `fn`."""
    if work.check is None and work.heartbeat is None:
        return fn()
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            box["error"] = exc
        finally:
            done.set()

    started = time.monotonic()
    threading.Thread(target=run, name=f"orchestrator-kit {what}", daemon=True).start()
    while not done.wait(interval or HEARTBEAT):
        if work.check is not None:
            work.check()
        if work.heartbeat is not None:
            elapsed = round(time.monotonic() - started, 1)
            work.heartbeat(elapsed, f"{what}: {elapsed:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
