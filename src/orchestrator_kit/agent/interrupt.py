"""Ctrl-C reaches a run whichever of its threads the kernel hands the signal to.

A process-directed SIGINT goes to any thread that does not block it: the main thread, or one of the threads the run
has besides (asyncio's child watcher waiting on the MCP server, the SDK's). CPython's C handler only notes the
signal there; the Python handler (asyncio.Runner's, which cancels the run) waits until the main thread runs
bytecode again, and the main thread sleeps in the event loop's select until its next timer: with a model request
in flight that is the SDK's read timeout, minutes away. Ctrl-C then looked ignored.

asyncio's own `add_signal_handler` avoids this with a wakeup fd, but asyncio.Runner installs its SIGINT handler with
`signal.signal`, which sets none. `signals_wake_the_loop` sets one while a run lasts: the C handler writes the
signal's number into a socket the loop watches, whichever thread it runs in, so the loop wakes and the main thread
runs the Python handler at once. Runs that overlap on one loop (the evals run several samples at once) share one
socket, kept until the last of them ends; a wakeup fd set by someone else (asyncio's, for `add_signal_handler`) is
left alone, at entry and at exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class _Wakeup:
    loop: asyncio.AbstractEventLoop
    reader: socket.socket
    writer: socket.socket
    runs: int = 1


_active: list[_Wakeup] = []  # at most one: the socket of the runs now going on the main thread's loop


@contextlib.contextmanager
def signals_wake_the_loop(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """For the block: a signal delivered to any thread wakes `loop` (see the module docstring). Does nothing off
    the main thread (only it may set a wakeup fd, and only it runs Python signal handlers), when a wakeup fd of
    someone else's is set, or when the socket cannot be made; a run then works as before, Ctrl-C included when
    it reaches the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _active and _active[0].loop is loop:
        wakeup = _active[0]
        wakeup.runs += 1
    else:
        made = _start(loop)
        if made is None:
            yield
            return
        wakeup = made
    try:
        yield
    finally:
        wakeup.runs -= 1
        if wakeup.runs == 0:
            _stop(wakeup)


def _start(loop: asyncio.AbstractEventLoop) -> _Wakeup | None:
    try:
        reader, writer = socket.socketpair()
    except OSError:  # no file descriptor to spare: nothing is changed
        return None
    try:
        reader.setblocking(False)
        writer.setblocking(False)  # the C handler must never block on a full socket
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        if previous != -1:  # someone else's: put it back and leave it in charge
            signal.set_wakeup_fd(previous)
            raise _NotOurs
        try:
            loop.add_reader(reader.fileno(), _drain, reader)
        except BaseException:
            signal.set_wakeup_fd(-1)
            raise
    except (_NotOurs, OSError, ValueError, NotImplementedError):
        reader.close()
        writer.close()
        return None
    except BaseException:
        reader.close()
        writer.close()
        raise
    wakeup = _Wakeup(loop, reader, writer)
    _active.append(wakeup)
    return wakeup


def _stop(wakeup: _Wakeup) -> None:
    _active.remove(wakeup)
    current = signal.set_wakeup_fd(-1)
    if current != wakeup.writer.fileno():  # someone set theirs meanwhile (add_signal_handler): it stays
        signal.set_wakeup_fd(current)
    with contextlib.suppress(Exception):  # a loop already closed has no reader left to remove
        wakeup.loop.remove_reader(wakeup.reader.fileno())
    wakeup.reader.close()
    wakeup.writer.close()


def _drain(reader: socket.socket) -> None:
    """The bytes only wake the loop; the handler runs as the main thread resumes."""
    with contextlib.suppress(OSError):
        while reader.recv(4096):
            pass


class _NotOurs(Exception):
    """A wakeup fd of someone else's is set."""
