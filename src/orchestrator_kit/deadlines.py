"""Deadlines for calls in any thread: a call still running at its deadline gets an exception raised inside it.

A `Watchdog` holds the deadlines of the calls running under it in a heap, and one daemon thread sleeps until the
earliest. When a deadline passes with its call still running, the thread raises the watchdog's exception type in
the thread running that call (CPython's `PyThreadState_SetAsyncExc`), and again every `refire_seconds` after that,
in case a handler (`except BaseException`) swallowed it. This works in any thread; the MCP server runs tools in
worker threads, where signals cannot be used. Python delivers the exception at the thread's next check for pending
work (after a call into C, a backward jump or a function entry), so one long C call (one regex match) finishes
first.

Two rules keep an exception from landing where nobody expects it:

* **A raised exception is always delivered, never cleared.** When the call leaves `within()` the watchdog stops
  watching it, then runs a few bytecodes (`_take_pending`); an exception raised for it but not yet delivered lands
  there, in `within()`'s own frame, and leaves as the timeout it is. Clearing it instead with
  `PyThreadState_SetAsyncExc(thread, NULL)` looks simpler but is broken on CPython 3.11: the interpreter's
  "pending work" flag stays set for good (only delivering an exception resets it), and from then on the first
  function called under `sys.settrace` (coverage, a debugger, our own work-counting tests) spins forever at its
  entry. `tests/test_deadlines.py` shows that in a subprocess.
* **The bookkeeping never half-happens.** The call's token is made before anything is registered, and leaving
  removes it before the first point where an exception can land (no Python function is called before the removal),
  so an exception landing inside the watchdog's own code (another watchdog's, or this one's at the deadline) cannot
  leave a registered call behind to fire later into unrelated code.

Sleeping: the thread sleeps until the earliest deadline in the heap, finished calls included (they are dropped when
it wakes at a deadline), and is woken only by a deadline sooner than the one it sleeps until. With equal budgets
that is about twice per budget, not once per call: each wake-up is a hand-off of the interpreter lock (about
0.3 ms), which the scan would otherwise pay on every detector call.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

REFIRE_SECONDS = 1.0
# The longest the thread sleeps at once. A lock's wait refuses a timeout past `threading.TIMEOUT_MAX` (and this
# platform's time_t) with OverflowError, which killed the thread for good: a budget of 1e10 s, or `inf` from
# ORCHESTRATOR_KIT_CALL_SECONDS, left every later budget unwatched. A farther deadline is slept towards in steps.
_MAX_SLEEP = 3600.0
# A thread being started (in `threading._limbo`, from Thread.start until it runs) has its starter's id for a moment:
# an exception raised for the starter then lands in both, the new thread dies before it reports that it started,
# and the starter waits for that report forever (a call that starts threads in a loop hung on its first timeout).
# While a thread is starting, firing waits _STARTING_RETRY at a time, for at most _STARTING_PATIENCE.
_STARTING_RETRY = 0.001
_STARTING_PATIENCE = 1.0
_COMPACT_AT = 4096  # drop finished calls from the heap when it holds this many more entries than running calls


class Watchdog:
    """Deadlines for calls in any thread; `exception` is raised in a call that runs past its own."""

    def __init__(self, exception: type[BaseException], *, name: str, refire_seconds: float = REFIRE_SECONDS) -> None:
        self.exception = exception
        self.name = name
        self.refire_seconds = refire_seconds
        self.wakeups = 0  # times the thread was woken early by a sooner deadline (`tests/test_deadlines.py`)
        self._tokens = itertools.count()
        self._start_afresh()
        # A forked child has no watchdog thread, and may have been forked while another thread held the lock.
        os.register_at_fork(after_in_child=self._start_afresh)

    def _start_afresh(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heap: list[tuple[float, int]] = []
        self._running: dict[int, int] = {}  # token -> id of the thread running the call
        self._fired: set[int] = set()
        self._held: dict[int, float] = {}  # token -> when firing it was first held back for a starting thread
        self._sleeping_until = math.inf
        self._thread: threading.Thread | None = None

    @contextmanager
    def within(self, seconds: float) -> Iterator[None]:
        """Run the body with a deadline `seconds` from now; past it, `self.exception` is raised inside the body.

        A body that returns after its deadline passed but before the exception landed still leaves with it: the
        call did run over, and an exception raised for it must land here, not later."""
        if math.isnan(seconds):  # NaN compares false both ways: it would break the heap's order
            raise ValueError("a deadline's seconds must be a number, not NaN")
        token = next(self._tokens)  # made before anything is registered: see "the bookkeeping never half-happens"
        landed = False
        try:
            self._arm(token, seconds)
            yield
        except self.exception:
            landed = True
            raise
        finally:
            # Inline, not in a method: an exception may land at the entry of any Python function called here,
            # before its own `try` (another watchdog's, such as the MCP call budget around a detector budget), and
            # that left the call registered, to be fired into whatever the thread ran next, every refire_seconds.
            # Here the only checks for pending work are after C calls, and the first one is after the pop.
            with self._lock:
                fired = token in self._fired
                self._running.pop(token, None)
                self._fired.discard(token)  # one skipped by an exception landing just above is pruned at a deadline
            if fired and not landed:
                _take_pending()  # raises the exception if it is still on its way
                raise self.exception()  # it landed while leaving, or a handler in the body swallowed it

    def _arm(self, token: int, seconds: float) -> None:
        with self._lock:
            deadline = time.monotonic() + seconds
            self._running[token] = threading.get_ident()
            heapq.heappush(self._heap, (deadline, token))
            if len(self._heap) > len(self._running) + _COMPACT_AT:
                self._heap = [entry for entry in self._heap if entry[1] in self._running]
                heapq.heapify(self._heap)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name=self.name, daemon=True)
                self._thread.start()
            if deadline < self._sleeping_until:
                self._sleeping_until = deadline
                self.wakeups += 1
                self._wake.notify()

    def _watch(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    self._fire_due(now)
                self._sleeping_until = self._heap[0][0] if self._heap else math.inf
                self._wake.wait(None if not self._heap else min(self._sleeping_until - now, _MAX_SLEEP))

    def _fire_due(self, now: float) -> None:
        """Raise the exception in every running call past its deadline, and drop every finished call (the heap is
        rebuilt only here, at a deadline, so a wake-up for a sooner deadline stays cheap)."""
        due = []
        while self._heap and self._heap[0][0] <= now:
            due.append(heapq.heappop(self._heap)[1])
        self._heap = [entry for entry in self._heap if entry[1] in self._running]
        self._fired &= self._running.keys()
        if self._held:
            self._held = {token: since for token, since in self._held.items() if token in self._running}
        for token in due:
            thread_id = self._running.get(token)
            if thread_id is None:
                continue
            if threading._limbo and now - self._held.setdefault(token, now) < _STARTING_PATIENCE:  # type: ignore[attr-defined]
                self._heap.append((now + _STARTING_RETRY, token))  # see _STARTING_RETRY
                continue
            self._held.pop(token, None)
            self._fired.add(token)
            _raise_in(thread_id, self.exception)
            self._heap.append((now + self.refire_seconds, token))
        heapq.heapify(self._heap)


def _raise_in(thread_id: int, exception: type[BaseException]) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exception))


def _take_pending() -> None:
    """Run a few bytecodes, so that an exception raised in this thread and not yet delivered lands here.

    Each loop turn checks for pending work, and the exception was set before the watchdog recorded the firing
    (both under its lock), so one turn is enough; the rest is margin. With nothing pending this costs about 2 µs."""
    for _ in range(64):
        time.monotonic()
