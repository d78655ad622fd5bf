"""A time budget per detector call: a call that runs over it is stopped and becomes a Diagnostic.

Every parser is meant to be linear in its input (tests/security/test_linear_detectors.py), so the budget is a
backstop for what a test did not foresee, not a limit a normal file comes near. One daemon thread holds the
deadlines; when one passes, it raises `DetectorTimeout` in the thread running that call
(`PyThreadState_SetAsyncExc`), which works in any thread (the MCP server scans in worker threads, where signals
cannot be used). Python delivers it at the next bytecode boundary, so a single long C call (one regex match)
finishes first; the parsers keep such calls linear.

`DetectorTimeout` derives from BaseException, so a detector's own `except Exception` cannot swallow it. A timeout
that fires just as the call returns is cleared, so it can never surface later in unrelated code.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

FILE_SECONDS = 20.0  # per detector and file; a linear parser reads a 2 MB file (the size cap) in well under a second


class DetectorTimeout(BaseException):
    """Raised inside a detector call that ran over its time budget."""


class _Watchdog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heap: list[tuple[float, int]] = []
        self._active: dict[int, int] = {}  # token -> thread id
        self._fired: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> int:
        with self._lock:
            token = next(self._tokens)
            self._active[token] = threading.get_ident()
            deadline = time.monotonic() + seconds
            # The thread sleeps until the earliest deadline in the heap (finished calls are popped only then), so
            # it needs waking only when this deadline comes sooner. Budgets are equal in practice, so that is
            # once per budget, not once per detector call: each wake-up cost a GIL hand-off (about 0.3 ms).
            wake = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, token))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="orchestrator-kit-watchdog", daemon=True)
                self._thread.start()
            if wake:
                self._wake.notify()
            return token

    def disarm(self, token: int) -> bool:
        """Stop watching `token`; True when its timeout fired (a still-pending one is cleared here)."""
        with self._lock:
            thread_id = self._active.pop(token, None)
            fired = token in self._fired
            self._fired.discard(token)
        if fired and thread_id is not None:
            _set_async_exc(thread_id, None)  # the call may have returned before the exception was delivered
        return fired

    def _run(self) -> None:
        with self._lock:
            while True:
                while self._heap and self._heap[0][1] not in self._active:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, token = self._heap[0]
                now = time.monotonic()
                if now < deadline:
                    self._wake.wait(deadline - now)
                    continue
                heapq.heappop(self._heap)
                self._fired.add(token)
                _set_async_exc(self._active[token], DetectorTimeout)


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)


_WATCHDOG = _Watchdog()


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Run the body under a budget of `seconds`; DetectorTimeout is raised inside it when the budget runs out."""
    token = _WATCHDOG.arm(seconds)
    try:
        yield
    finally:
        _WATCHDOG.disarm(token)


def run_within(seconds: float, call: Callable[[], None]) -> bool:
    """Run `call` under the budget; False when it was stopped for running over."""
    try:
        with time_budget(seconds):
            call()
    except DetectorTimeout:
        return False
    return True
