"""Helpers shared by the detector tests: a scan with only the detectors under test, and evidence line spans."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator_kit.models import Diagnostic, Inventory, Task

from ..conftest import errors_of, run_detectors


def scanner(*detectors: str) -> Callable[[Callable[..., Path], dict[str, Any]], Inventory]:
    """`scan(make_repo, files)` for a test module: the inventory the named detectors make of `files`, checked to
    hold no detector bug (an "internal error" diagnostic)."""

    def scan(make_repo: Callable[..., Path], files: dict[str, Any]) -> Inventory:
        inventory = run_detectors(make_repo(files), *detectors)
        assert errors_of(inventory) == []
        return inventory

    return scan


def lines(item: Any) -> tuple[int, int]:
    """The first and last line of an item's evidence."""
    return item.evidence.line_start, item.evidence.line_end


def task_scanner(
    *detectors: str, key: Callable[[Task], str], path: str | None = None
) -> Callable[..., tuple[dict[str, Task], list[Diagnostic]]]:
    """`scan(make_repo, files, path=path)` for a task-runner test module: the tasks of `path` (all when None), keyed
    by `key`, and the diagnostics."""
    scan = scanner(*detectors)

    def scan_tasks(
        make_repo: Callable[..., Path], files: dict[str, Any], path: str | None = path
    ) -> tuple[dict[str, Task], list[Diagnostic]]:
        inventory = scan(make_repo, files)
        tasks = {key(t): t for t in inventory.tasks if path is None or t.path == path}
        return tasks, list(inventory.diagnostics)

    return scan_tasks


def command_lines(task: Task) -> list[tuple[str, int, int]]:
    """Each command of a task with its first and last line."""
    return [(c.text, c.evidence.line_start, c.evidence.line_end) for c in task.commands]
