"""The per-call time budget of detectors: the watchdog thread is woken only when a deadline comes sooner."""

from __future__ import annotations

import threading
import time

import pytest

from orchestrator_kit.discovery import _watchdog
from orchestrator_kit.discovery._watchdog import DetectorTimeout


class CountingCondition(threading.Condition):
    def __init__(self, lock: threading.Lock) -> None:
        super().__init__(lock)
        self.notified = 0

    def notify(self, n: int = 1) -> None:
        self.notified += 1
        super().notify(n)


def fresh_watchdog() -> tuple[_watchdog._Watchdog, CountingCondition]:
    watchdog = _watchdog._Watchdog()
    wake = CountingCondition(watchdog._lock)  # type: ignore[arg-type]
    watchdog._wake = wake
    return watchdog, wake


def test_many_calls_under_the_same_budget_wake_the_thread_once():
    watchdog, wake = fresh_watchdog()
    for _ in range(500):
        watchdog.disarm(watchdog.arm(20.0))
    assert wake.notified == 1  # 500 before: one GIL hand-off per detector call


def test_a_sooner_deadline_wakes_the_thread_and_fires():
    watchdog, wake = fresh_watchdog()
    for _ in range(3):
        watchdog.disarm(watchdog.arm(20.0))  # finished calls, still in the heap until their deadline
    token = watchdog.arm(0.2)
    assert wake.notified == 2
    assert stopped_by_the_watchdog(watchdog, token)


def stopped_by_the_watchdog(watchdog: _watchdog._Watchdog, token: int) -> bool:
    """Spin until DetectorTimeout arrives (at most 15 s); whether the watchdog reports it as fired."""
    give_up = time.monotonic() + 15
    try:
        with pytest.raises(DetectorTimeout):
            while time.monotonic() < give_up:
                pass
    finally:
        fired = watchdog.disarm(token)
    return fired


def test_a_call_armed_after_the_heap_emptied_still_fires():
    watchdog, _ = fresh_watchdog()
    watchdog.disarm(watchdog.arm(0.05))
    time.sleep(0.2)  # the thread pops the finished entry and waits on an empty heap
    assert stopped_by_the_watchdog(watchdog, watchdog.arm(0.1))
