"""`agent.interrupt.signals_wake_the_loop`: a signal handed to another thread than the main one still wakes the event
loop; overlapping runs share one wakeup fd; someone else's wakeup fd is left alone; a failed setup changes nothing.
(The real CLI under tgkill: tests/agent/test_resume.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

from orchestrator_kit.agent import interrupt
from orchestrator_kit.agent.interrupt import signals_wake_the_loop

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX threads' signals")


def _wakeup_fd() -> int:
    fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(fd)
    return fd


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()


def test_a_signal_handed_to_another_thread_wakes_the_loop():
    ready, done = threading.Event(), threading.Event()
    other = threading.Thread(target=lambda: (ready.set(), done.wait(60)), daemon=True)
    other.start()
    ready.wait(10)

    async def main() -> str:
        task = asyncio.current_task()
        assert task is not None
        previous = signal.signal(signal.SIGUSR1, lambda *_: task.cancel())  # as asyncio.Runner's SIGINT handler
        try:
            with signals_wake_the_loop(asyncio.get_running_loop()):
                asyncio.get_running_loop().call_later(0.05, signal.pthread_kill, other.ident, signal.SIGUSR1)
                try:
                    await asyncio.sleep(30)  # a model request in flight: nothing else would wake the loop
                except asyncio.CancelledError:
                    return "cancelled by the signal"
                return "slept on"
        finally:
            signal.signal(signal.SIGUSR1, previous)

    try:
        assert asyncio.run(main()) == "cancelled by the signal"
    finally:
        done.set()
    assert _wakeup_fd() == -1


def test_overlapping_runs_share_one_wakeup_fd_until_the_last_ends():
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        first, second = signals_wake_the_loop(loop), signals_wake_the_loop(loop)  # two runs of the evals, say
        first.__enter__()
        seen = [_wakeup_fd()]
        second.__enter__()
        seen.append(_wakeup_fd())
        first.__exit__(None, None, None)  # the run that began first ends first
        seen.append(_wakeup_fd())  # the second still needs it
        second.__exit__(None, None, None)
        seen.append(_wakeup_fd())
        return seen

    first, both, second_alone, after = asyncio.run(main())
    assert first != -1 and both == first and second_alone == first and after == -1


def test_a_wakeup_fd_set_by_asyncio_during_the_run_is_left_in_charge():
    fired: list[int] = []

    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        with signals_wake_the_loop(loop):
            loop.add_signal_handler(signal.SIGUSR2, fired.append, 1)  # sets asyncio's own wakeup fd
            asyncio_fd = _wakeup_fd()
        left = _wakeup_fd()
        signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR2)
        await asyncio.sleep(0.05)
        await asyncio.sleep(0)
        loop.remove_signal_handler(signal.SIGUSR2)
        return asyncio_fd, left

    asyncio_fd, left = asyncio.run(main())
    assert left == asyncio_fd != -1 and fired == [1]


def test_a_wakeup_fd_set_before_is_kept_and_nothing_is_added():
    reader, writer = __import__("socket").socketpair()
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno())
    try:
        async def main() -> int:
            with signals_wake_the_loop(asyncio.get_running_loop()):
                return _wakeup_fd()

        assert asyncio.run(main()) == writer.fileno()
        assert _wakeup_fd() == writer.fileno() and not interrupt._active
    finally:
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()


class _NoReaders:
    """A loop that cannot watch a file descriptor (as Windows' proactor loop)."""

    def add_reader(self, *args: object) -> None:
        raise NotImplementedError


def test_a_loop_that_cannot_watch_the_socket_changes_nothing():
    before = _fds()
    with signals_wake_the_loop(_NoReaders()):  # type: ignore[arg-type]
        assert _wakeup_fd() == -1
    assert _wakeup_fd() == -1 and _fds() == before and not interrupt._active


def test_off_the_main_thread_nothing_is_set():
    seen: list[int] = []

    def run() -> None:
        async def main() -> None:
            with signals_wake_the_loop(asyncio.get_running_loop()):
                seen.append(len(interrupt._active))

        asyncio.run(main())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert seen == [0] and _wakeup_fd() == -1
