"""`Background`: one function run in a thread, its value (or exception) handed to whoever asks for it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class Background(Generic[T]):
    """`fn(*args)` run in a daemon thread; `result()` waits for it and returns its value or raises its exception."""

    def __init__(self, name: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the caller of result()
                self._error = exc

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
