"""The per-call time budget of detectors: the watchdog thread is woken only when a deadline comes sooner."""

from __future__ import annotations

import threading

from orchestrator_kit.discovery import _watchdog


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
