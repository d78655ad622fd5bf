"""Ctrl-C reaches a run whichever of its threads the kernel hands the signal to.

A process-directed SIGINT goes to any thread that does not block it: the main thread, or one of the threads the run
has besides (asyncio's child watcher waiting on the MCP server, the SDK's). CPython's C handler only notes the
signal there; the Python handler (asyncio.Runner's, which cancels the run) waits until the main thread runs
bytecode again, and the main thread sleeps in the event loop's select until its next timer: with a model request
in flight that is the SDK's read timeout, minutes away. Ctrl-C then looked ignored (a CI run hung for 180 s).

asyncio's own `add_signal_handler` avoids this with a wakeup fd, but asyncio.Runner installs its SIGINT handler with
`signal.signal`, which sets none. `signals_wake_the_loop` sets one for the length of the run: the C handler writes
the signal's number into a socket the loop watches, whichever thread it runs in, so the loop wakes and the main
thread runs the Python handler at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def signals_wake_the_loop(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """For the block: a signal delivered to any thread wakes `loop` (see the module docstring). Does nothing off
    the main thread (only it may set a wakeup fd, and only it runs Python signal handlers), nor when a wakeup fd
    is already set (then something already wakes a loop)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)  # the C handler must never block on a full socket
    try:
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except (ValueError, OSError):
        reader.close()
        writer.close()
        yield
        return
    if previous != -1:  # someone else's: put it back and leave it in charge
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()
        yield
        return

    def drain() -> None:  # the bytes only wake the loop; the handler runs as the main thread resumes
        with contextlib.suppress(OSError):
            while reader.recv(4096):
                pass

    loop.add_reader(reader.fileno(), drain)
    try:
        yield
    finally:
        signal.set_wakeup_fd(-1)
        loop.remove_reader(reader.fileno())
        reader.close()
        writer.close()
