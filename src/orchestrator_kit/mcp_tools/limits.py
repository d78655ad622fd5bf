"""Time and memory budgets for tool calls: a call that runs too long or asks for too much memory ends with a tool
error, and the server goes on serving.

**Time.** Every tool call runs under `budgeted(seconds)`: a `deadlines.Watchdog` raises `CallTimeout` in the call's
own thread when it runs past its deadline (and again every second while it goes on, in case a handler swallowed it),
which unwinds it like any exception: `finally` blocks run, a child process started with `subprocess.run` is killed.
The exception lands when the thread next runs Python code, so a call blocked inside one C function (a single regex
match, which has its own timeout) ends when that function returns. An exception raised for a call always lands
inside that call's `budgeted`, never in the worker thread's next call (see `deadlines`).

**Memory.** `limit_memory(mb)` sets the soft `RLIMIT_DATA` of the server process (the real server does it at
start): the kernel then refuses any allocation that would take the process's private writable memory over the
limit, so the call that asked for it gets `MemoryError` (turned into a tool error) instead of the whole server being
killed by the out-of-memory killer. Address space merely reserved (`PROT_NONE`, as V8 and the Go and GHC runtimes
do) does not count, so the validators the server starts, which inherit the limit, run normally.

Defaults: `DEFAULT_CALL_SECONDS` and `DEFAULT_MEMORY_MB`, overridden by the `mcp` command's `--call-timeout` and
`--memory-limit` options or the environment variables `ORCHESTRATOR_KIT_CALL_SECONDS` and
`ORCHESTRATOR_KIT_MEMORY_MB` (0 turns a budget off).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from ..deadlines import Watchdog

DEFAULT_CALL_SECONDS = 300.0
DEFAULT_MEMORY_MB = 4096
CALL_SECONDS_ENV = "ORCHESTRATOR_KIT_CALL_SECONDS"
MEMORY_MB_ENV = "ORCHESTRATOR_KIT_MEMORY_MB"


class CallTimeout(BaseException):
    """Raised inside a call that ran past its time budget. A BaseException, so `except Exception` in library code
    cannot swallow it."""


_WATCHDOG = Watchdog(CallTimeout, name="orchestrator-kit call budget")
_configured: dict[str, float] = {}


def configure(*, seconds: float | None = None) -> None:
    """Set this process's call time budget (the `mcp` command's `--call-timeout`), over the environment's."""
    if seconds is not None:
        _configured["seconds"] = seconds


def call_seconds() -> float:
    """The time budget of one call, in seconds (0: none)."""
    if "seconds" in _configured:
        return _configured["seconds"]
    return _env_number(CALL_SECONDS_ENV, DEFAULT_CALL_SECONDS)


def memory_mb() -> int:
    """The memory budget of the server process, in MiB (0: none)."""
    return int(_env_number(MEMORY_MB_ENV, DEFAULT_MEMORY_MB))


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 else default


@contextmanager
def budgeted(seconds: float) -> Iterator[None]:
    """Run the body under a deadline `seconds` from now (no deadline when `seconds` <= 0)."""
    if seconds <= 0:
        yield
        return
    with _WATCHDOG.within(seconds):
        yield


def limit_memory(mb: int) -> str | None:
    """Set the process's soft RLIMIT_DATA to `mb` MiB (keeping the hard limit). Returns why it could not, or None."""
    if mb <= 0:
        return None
    try:
        import resource
    except ImportError:
        return "resource limits are not available on this platform"
    wanted = mb * 1024 * 1024
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY and hard < wanted:
            wanted = hard
        resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
    except (ValueError, OSError) as exc:
        return f"could not set the memory limit: {exc}"
    return None


def release_memory() -> None:
    """Hand freed heap memory back to the system after a call failed for lack of it (glibc keeps freed blocks for
    reuse otherwise, and the process would look as big as its worst call). Best effort; a no-op elsewhere."""
    import gc

    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
