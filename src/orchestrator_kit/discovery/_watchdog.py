"""A time budget per detector call: a call that runs over it is stopped and becomes a Diagnostic.

Every parser is meant to be linear in its input (tests/security/test_linear_detectors.py), so the budget is a
backstop for what a test did not foresee, not a limit a normal file comes near. The deadlines are kept by a
`deadlines.Watchdog`, which raises `DetectorTimeout` inside the detector call that runs over (in any thread: the MCP
server scans in worker threads) and makes sure it lands in that call and nowhere else.

`DetectorTimeout` derives from BaseException, so a detector's own `except Exception` cannot swallow it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..deadlines import Watchdog

FILE_SECONDS = 20.0  # per detector and file; a linear parser reads a 2 MB file (the size cap) in well under a second


class DetectorTimeout(BaseException):
    """Raised inside a detector call that ran over its time budget."""


WATCHDOG = Watchdog(DetectorTimeout, name="orchestrator-kit detector budget")


def run_within(seconds: float, call: Callable[[], None]) -> bool:
    """Run `call` under the budget; False when it was stopped for running over."""
    try:
        with WATCHDOG.within(seconds):
            call()
    except DetectorTimeout:
        return False
    return True
