"""Deadlines for calls in any thread (`deadlines.Watchdog`): what fires, when the thread wakes, and that an exception
raised for a call lands in that call and leaves the interpreter as it found it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from orchestrator_kit import deadlines
from orchestrator_kit.deadlines import Watchdog


class Late(BaseException):
    pass


def spin(seconds: float) -> None:
    """Run Python code for up to `seconds` (the exception lands at one of its checks)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_call_past_its_deadline_gets_the_exception_inside_it():
    watchdog = Watchdog(Late, name="test")
    reached_the_end = False
    with pytest.raises(Late), watchdog.within(0.05):
        spin(15)
        reached_the_end = True
    assert not reached_the_end


def test_a_call_within_its_deadline_is_left_alone():
    watchdog = Watchdog(Late, name="test")
    with watchdog.within(5):
        spin(0.01)
    spin(0.1)  # nothing pending lands afterwards
    assert not watchdog._running and not watchdog._fired


def test_many_calls_under_the_same_budget_wake_the_thread_once():
    watchdog = Watchdog(Late, name="test")
    for _ in range(500):
        with watchdog.within(20.0):
            pass
    assert watchdog.wakeups == 1  # 500 before: one hand-off of the interpreter lock per detector call


def test_a_sooner_deadline_wakes_the_thread_and_fires():
    watchdog = Watchdog(Late, name="test")
    for _ in range(3):
        with watchdog.within(20.0):
            pass  # finished calls, still in the heap until their deadline
    with pytest.raises(Late), watchdog.within(0.2):
        spin(15)
    assert watchdog.wakeups == 2


def test_a_call_made_after_every_other_finished_still_fires():
    watchdog = Watchdog(Late, name="test")
    with watchdog.within(0.05):
        pass
    time.sleep(0.2)  # the thread wakes at that deadline, drops the finished call and sleeps with nothing to watch
    with pytest.raises(Late), watchdog.within(0.1):
        spin(15)


def test_a_swallowed_exception_is_raised_again_and_the_call_still_ends_as_late():
    watchdog = Watchdog(Late, name="test", refire_seconds=0.05)
    swallowed = 0
    with pytest.raises(Late), watchdog.within(0.05):
        while swallowed < 3:
            try:
                spin(15)
            except Late:  # a library's `except BaseException`
                swallowed += 1
        spin(15)
    assert swallowed == 3


def test_a_call_that_swallows_the_exception_and_returns_still_leaves_late():
    watchdog = Watchdog(Late, name="test", refire_seconds=60)
    with pytest.raises(Late), watchdog.within(0.05), contextlib.suppress(Late):
        spin(15)
    spin(0.1)


def test_finished_calls_do_not_pile_up_in_the_heap():
    watchdog = Watchdog(Late, name="test")
    for _ in range(3 * deadlines._COMPACT_AT):
        with watchdog.within(60.0):
            pass
    assert len(watchdog._heap) <= deadlines._COMPACT_AT + 1


def test_calls_in_many_threads_each_get_their_own_deadline():
    watchdog = Watchdog(Late, name="test")
    outcome: dict[str, str] = {}

    def call(name: str, seconds: float, work: float) -> None:
        try:
            with watchdog.within(seconds):
                spin(work)
            outcome[name] = "done"
        except Late:
            outcome[name] = "late"

    threads = [threading.Thread(target=call, args=(f"slow{i}", 0.1, 20)) for i in range(3)]
    threads += [threading.Thread(target=call, args=(f"quick{i}", 30, 0.05)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcome == {**{f"slow{i}": "late" for i in range(3)}, **{f"quick{i}": "done" for i in range(3)}}


LATER_TRACED_CALL = textwrap.dedent("""
    import sys
    from orchestrator_kit.deadlines import Watchdog

    class Late(BaseException):
        pass

    watchdog = Watchdog(Late, name="test")
    for body in ("landed", "swallowed"):
        try:
            with watchdog.within(0.05):
                try:
                    while True:
                        sum(range(10))
                except Late:
                    if body == "landed":
                        raise
        except Late:
            pass

    events = []
    def tracer(frame, event, arg):
        events.append(event)
        return tracer
    def traced():
        return 1
    sys.settrace(tracer)
    traced()
    sys.settrace(None)
    print(events.count("call"))
""")


def test_after_a_timeout_the_interpreter_still_runs_traced_code():
    """Clearing a pending exception with PyThreadState_SetAsyncExc(thread, NULL) left CPython 3.11's pending-work flag
    set, and the next traced call spun forever at its entry (a fresh-clone CI run hung in the work-counting tests)."""
    run = subprocess.run([sys.executable, "-c", LATER_TRACED_CALL], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "1"


def _late_in_child(queue) -> None:  # type: ignore[no-untyped-def]
    watchdog = _FORKED
    try:
        with watchdog.within(0.05):
            spin(15)
        queue.put("not stopped")
    except Late:
        queue.put("late")


_FORKED = Watchdog(Late, name="test")


def test_a_forked_child_gets_a_watchdog_of_its_own():
    import multiprocessing

    with _FORKED.within(30):  # the parent's thread runs, and holds a call, when the child is forked
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_late_in_child, args=(queue,))
        child.start()
        outcome = queue.get(timeout=30)
        child.join(30)
    assert outcome == "late"


class Outer(BaseException):
    pass


def test_another_watchdogs_exception_landing_while_leaving_leaves_nothing_registered():
    """An exception may land at the entry of any Python function, before that function's own `try`. The MCP call
    budget's CallTimeout landing as a detector budget was being left (at the entry of the old `_leave`) left the
    detector call registered; 20 s later the detector watchdog fired into whatever the worker thread ran then, and
    again every second. Here a trace function raises `Outer` at the entry of every function the leaving calls."""
    inner = Watchdog(Late, name="inner")
    body_done = [False]

    def tracer(frame, event, arg):
        if event == "call" and body_done[0] and frame.f_back is not None and frame.f_back.f_code.co_name == "within":
            raise Outer()
        return None

    sys.settrace(tracer)
    try:
        with contextlib.suppress(Outer), inner.within(20.0):
            body_done[0] = True
    finally:
        sys.settrace(None)
    assert not inner._running


def test_an_outer_budget_firing_into_inner_calls_never_leaves_one_registered():
    """Nested watchdogs as in the MCP server (a call budget around detector budgets): the outer exception lands
    wherever the inner calls are; none of them may stay registered (before: 2 to 4 in 300)."""
    outer, inner = Watchdog(Outer, name="outer"), Watchdog(Late, name="inner")
    with outer.within(20.0), inner.within(20.0):
        pass  # both threads started before the first firing (a thread being started shares its parent's id)
    left = 0
    for _ in range(300):
        with contextlib.suppress(Outer), outer.within(0.002):
            while True:
                with inner.within(20.0):
                    pass
        left += bool(inner._running)
        inner._running.clear()
    assert left == 0


@pytest.mark.parametrize("seconds", [1e10, float("inf")])
def test_a_budget_too_far_away_to_wait_for_does_not_stop_the_watchdog(seconds):
    """Sleeping towards a deadline 1e10 s away (or `inf`, which ORCHESTRATOR_KIT_CALL_SECONDS accepts) raised
    OverflowError in the watchdog's thread, which died: every later budget went unwatched."""
    watchdog = Watchdog(Late, name="test")
    with watchdog.within(seconds):
        spin(0.05)
    time.sleep(0.05)
    assert watchdog._thread is not None and watchdog._thread.is_alive()
    with pytest.raises(Late), watchdog.within(0.05):
        spin(15)


def test_a_nan_budget_is_refused():
    watchdog = Watchdog(Late, name="test")
    with pytest.raises(ValueError, match="NaN"), watchdog.within(float("nan")):
        pass
    assert not watchdog._running


STARTING_THREADS = textwrap.dedent("""
    import contextlib, threading
    from orchestrator_kit.deadlines import Watchdog

    class Late(BaseException):
        pass

    watchdog = Watchdog(Late, name="test")
    with watchdog.within(20.0):
        pass
    died = []
    threading.excepthook = died.append
    for _ in range(100):
        with contextlib.suppress(Late), watchdog.within(0.002):
            while True:
                thread = threading.Thread(target=lambda: None)
                thread.start()
                thread.join()
    print("done", len(died))
""")


def test_a_call_that_starts_threads_ends_at_its_deadline_and_never_hangs():
    """A thread being started has its starter's id for a moment: the exception raised for the starter landed in
    both, the new thread died before reporting that it started, and the starter waited for it forever (the first
    of these trials hung). Firing now waits while a thread is starting."""
    try:
        run = subprocess.run([sys.executable, "-c", STARTING_THREADS], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("a call starting threads hung after its deadline")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["done", "0"], (run.stdout, run.stderr)
