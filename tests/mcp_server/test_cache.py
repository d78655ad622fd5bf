"""The scan cache: reused while nothing changed, invalidated by every kind of change, safe across threads."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from orchestrator_kit.errors import InputError
from orchestrator_kit.mcp_tools.cache import ScanCache
from orchestrator_kit.service import scan

from ..conftest import git
from .conftest import commit_all


def _bump_mtime(path) -> None:
    """Move the mtime forward explicitly, so a test never depends on the clock's granularity."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


CHANGES = {
    "edit a tracked file": lambda root: (root / "Makefile").write_text("build:\n\ttrue\n"),
    "add an untracked file": lambda root: (root / "ops" / "new.sh").write_text("#!/bin/sh\n"),
    "add a file in a new folder": lambda root: (root / "newdir" / "deep").mkdir(parents=True)
    or (root / "newdir" / "deep" / "x.yml").write_text("a: 1\n"),
    "delete a tracked file": lambda root: (root / "Dockerfile").unlink(),
    "commit": lambda root: (root / "src" / "app.py").write_text("# changed\n") or commit_all(root, "change"),
    "amend without content change": lambda root: git(root, "commit", "-q", "--amend", "-m", "reworded"),
    "switch branch": lambda root: git(root, "checkout", "-q", "-b", "feature"),
    "stage a change": lambda root: (root / "Makefile").write_text("x:\n\ttrue\n") or git(root, "add", "Makefile"),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_each_change_invalidates_and_no_change_reuses(shop, change):
    cache = ScanCache()
    folder = shop.resolve()
    first = cache.get(folder)
    again = cache.get(folder)
    assert (first.cached, again.cached, again.version) == (False, True, first.version)
    time.sleep(0.01)
    CHANGES[change](shop)
    after = cache.get(folder)
    assert after.cached is False and after.version != first.version
    assert cache.stats.scans == 2 and cache.stats.hits == 1


def test_a_second_edit_of_an_already_modified_file_invalidates(shop):
    """git status does not change between the two edits; the size and mtime in the fingerprint do."""
    cache = ScanCache()
    folder = shop.resolve()
    (shop / "Makefile").write_text("build:\n\ttrue\n")
    first = cache.get(folder)
    (shop / "Makefile").write_text("build:\n\tfalse\n")
    _bump_mtime(shop / "Makefile")
    second = cache.get(folder)
    assert second.cached is False and second.version != first.version
    assert second.inventory.tasks[0].commands[0].text == "false"


def test_ignored_files_do_not_invalidate(shop):
    (shop / ".gitignore").write_text("*.log\n")
    commit_all(shop, "ignore logs")
    cache = ScanCache()
    first = cache.get(shop.resolve())
    (shop / "build.log").write_text("noise\n")
    assert cache.get(shop.resolve()).version == first.version


def test_a_folder_without_git_uses_sizes_and_mtimes(make_repo):
    root = make_repo({"Makefile": "build:\n\ttrue\n", "docs/x.md": "# x\n"})
    cache = ScanCache()
    folder = root.resolve()
    first = cache.get(folder)
    assert cache.get(folder).cached is True
    (root / "Makefile").write_text("build:\n\tfalse\n")
    _bump_mtime(root / "Makefile")
    assert cache.get(folder).version != first.version
    (root / "new.txt").write_text("x")
    assert cache.get(folder).cached is False


def test_concurrent_calls_scan_once(shop):
    """Eight threads ask at once: one scans (slowly), the others wait for it and reuse its result."""
    calls: list[int] = []

    def slow_scan(folder, **options):
        calls.append(threading.get_ident())
        time.sleep(0.3)
        return scan(folder, **options)

    cache = ScanCache(scanner=slow_scan)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: cache.get(shop.resolve()), range(8)))
    assert len(calls) == 1
    assert sum(not r.cached for r in results) == 1
    assert len({id(r.inventory) for r in results}) == 1
    assert cache.stats.scans == 1 and cache.stats.hits == 7


def test_different_folders_scan_in_parallel(tmp_path):
    folders = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "Makefile").write_text("x:\n\ttrue\n")
        folders.append(folder.resolve())
    inside = []

    def slow_scan(folder, **options):
        inside.append(folder)
        deadline = time.monotonic() + 5
        while len(inside) < 2 and time.monotonic() < deadline:  # waits for the other folder's scan to start
            time.sleep(0.01)
        return scan(folder, **options)

    cache = ScanCache(scanner=slow_scan)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(cache.get, folders))
    assert sorted(inside) == sorted(folders)
    assert cache.stats.scans == 2


def test_a_failed_or_cancelled_scan_stores_nothing(shop):
    class Cancelled(BaseException):
        pass

    def cancel(done: int, total: int) -> None:
        raise Cancelled

    cache = ScanCache()
    with pytest.raises(Cancelled):
        cache.get(shop.resolve(), progress=cancel)
    assert cache.stats.cancelled == 1
    assert cache.get(shop.resolve()).cached is False  # nothing was stored by the cancelled scan

    def broken(folder, **options):
        raise InputError("boom")

    failing = ScanCache(scanner=broken)
    with pytest.raises(InputError):
        failing.get(shop.resolve())
    assert failing.stats.failed == 1
