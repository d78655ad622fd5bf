"""A live progress display on stderr for the long commands, fed by `assessment.Hooks`.

Used by scan, metrics, opportunities, eval tools and generate. Shown only when stderr is a terminal (or when forced
with `--progress`), never with `--quiet` or when piped, so standard output and logs stay clean. One line per stage
("scanning files", "reading git history", ...): a bar with done of total when the stage knows its total (files found,
commits `git rev-list --count` finds within the bounds), a spinner and the count when it does not. The display is
transient at a terminal: it disappears when the work ends.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

from ..assessment import Hooks

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


def wanted(forced: bool | None, quiet: bool) -> bool:
    """Whether to show progress: never with --quiet or --no-progress, always with --progress, else only when
    stderr is a terminal."""
    if quiet or forced is False:
        return False
    return forced is True or sys.stderr.isatty()


class LiveProgress:
    """Context manager whose `hooks` drive a rich Progress on stderr; `hooks` are empty when not shown."""

    def __init__(self, show: bool, *, forced: bool = False) -> None:
        self.show = show
        self.forced = forced
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> LiveProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def hooks(self) -> Hooks:
        if not self.show:
            return Hooks()
        return Hooks(progress=self.count, phase=self.phase, commits=self.commits)

    def phase(self, label: str, total: int | None = None) -> None:
        """Start a stage: the previous one is marked finished, a new line shows `label`."""
        bar = self._bar()
        if self.task is not None:
            done = bar.tasks[-1]
            bar.update(self.task, total=done.total if done.total is not None else done.completed)
        self.task = bar.add_task(label, total=total)

    def count(self, done: int, total: int) -> None:
        """Units of the current stage done of total (files scanned, cases scored)."""
        if self.task is None:
            self.phase("scanning files", total)
        self._bar().update(self.task, completed=done, total=total)  # type: ignore[arg-type]

    def commits(self, read: int) -> None:
        if self.task is None:
            self.phase("reading git history")
        self._bar().update(self.task, completed=read)  # type: ignore[arg-type]

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def _bar(self) -> Progress:
        if self.bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            from ..terminal import safe_console

            self.bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=safe_console(stderr=True, force_terminal=self.forced or None),
                transient=not self.forced,
            )
            self.bar.start()
        return self.bar
