"""Reads stay inside the root while the tree changes under them: a folder on the path is swapped for a symlink to
a folder outside, in a loop, during many reads, walks and real MCP calls; no byte from outside may come back."""

from __future__ import annotations

import errno
import os
import threading
from collections import Counter
from pathlib import Path

import pytest

from orchestrator_kit import beneath
from orchestrator_kit.errors import ConfinementError, InputError, ReadError
from orchestrator_kit.repo import Workspace

SECRET = "OUTSIDE-SECRET-7f3a"


@pytest.fixture(params=["openat2", "walk"])
def resolver(request):
    """Each test runs with the kernel's RESOLVE_BENEATH and with the component-by-component walk."""
    if request.param == "openat2":
        beneath.use_openat2(None)
        if not beneath._openat2_usable():
            pytest.skip("openat2 is not available on this kernel")
    else:
        beneath.use_openat2(False)
    yield request.param
    beneath.use_openat2(None)


@pytest.fixture
def tree(tmp_path) -> tuple[Path, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "sub" / "f.txt").write_text("INSIDE\n")
    (root / "sub" / "Makefile").write_text("insidetarget:\n\techo in\n")
    (outside / "f.txt").write_text(f"{SECRET}\n")
    (outside / "Makefile").write_text(f"outsidetarget:\n\techo {SECRET}\n")
    (outside / "only-outside.txt").write_text(f"{SECRET}\n")
    return root, outside


class Swapper:
    """Swaps root/sub for a symlink to `outside` and back, as fast as it can, until stopped; counts the swaps."""

    def __init__(self, root: Path, outside: Path) -> None:
        self.sub, self.real, self.outside = root / "sub", root / ".sub-real", outside
        self.stop = threading.Event()
        self.swaps = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            os.rename(self.sub, self.real)
            os.symlink(self.outside, self.sub)
            os.unlink(self.sub)
            os.rename(self.real, self.sub)
            self.swaps += 1
            self.stop.wait(0.0005)  # stay real a moment, so that some reads get through whole

    def __enter__(self) -> Swapper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def test_reads_never_return_outside_bytes_while_a_folder_is_swapped(tree, resolver):
    root, outside = tree
    workspace = Workspace(root)
    outcomes: Counter[str] = Counter()
    with Swapper(root, outside) as swapper:
        for _ in range(3000):
            try:
                text = workspace.read_text("sub/f.txt").text
            except (ConfinementError, ReadError):
                outcomes["refused"] += 1
                continue
            outcomes["leaked" if SECRET in text else "inside"] += 1
    assert outcomes["leaked"] == 0, outcomes
    assert outcomes["inside"] > 0 and swapper.swaps > 0, outcomes


def test_a_walk_never_lists_outside_files_while_a_folder_is_swapped(tree, resolver):
    root, outside = tree
    leaked = 0
    with Swapper(root, outside):
        for _ in range(300):
            files = Workspace(root).listing().files  # no git here: the walk
            leaked += any("only-outside" in f for f in files)
    assert leaked == 0


def test_a_workspace_opened_within_a_root_is_never_redirected(tree, resolver):
    root, outside = tree
    outcomes: Counter[str] = Counter()
    with Swapper(root, outside):
        for _ in range(500):
            try:
                workspace = Workspace(root / "sub", within=root)
                text = workspace.read_text("f.txt").text
            except (ConfinementError, InputError, ReadError):
                outcomes["refused"] += 1
                continue
            outcomes["leaked" if SECRET in text else "inside"] += 1
    assert outcomes["leaked"] == 0, outcomes
    assert outcomes["inside"] > 0, outcomes


def test_a_symlink_leaving_the_root_is_refused_without_naming_its_target(tree, resolver):
    root, outside = tree
    (root / "link.txt").symlink_to(outside / "f.txt")
    (root / "dirlink").symlink_to(outside)
    workspace = Workspace(root)
    for rel in ("link.txt", "dirlink/f.txt"):
        with pytest.raises(ConfinementError) as caught:
            workspace.read_text(rel)
        assert str(outside) not in str(caught.value) and "outside" not in str(caught.value).replace(
            "outside the repository", "")
        with pytest.raises(ConfinementError) as resolved:
            workspace.resolve(rel)
        assert str(outside) not in str(resolved.value)
    (root / "sub" / "inner").symlink_to("../sub/f.txt")  # a link that stays inside is followed
    assert workspace.read_text("sub/inner").text == "INSIDE\n"


@pytest.mark.anyio
async def test_mcp_calls_never_return_outside_bytes_while_a_folder_is_swapped(tree):
    from mcp import Client, StdioServerParameters

    from ..mcp_server.conftest import spawn_command

    root, outside = tree
    (root / "escape.txt").symlink_to(outside / "f.txt")  # a file that always leads out: search skips it
    command = spawn_command(root, extra=("--read-only",))
    calls = [
        ("read_file", {"path": "sub/f.txt"}), ("read_file", {"repository": "sub", "path": "f.txt"}),
        ("search_repository", {"pattern": "OUTSIDE|INSIDE"}), ("search_repository", {"repository": "sub",
                                                                                   "pattern": "."}),
        ("scan_repository", {"repository": "sub", "refresh": True}), ("list_tasks", {"repository": "sub"}),
    ]
    texts: list[str] = []
    outcomes: Counter[str] = Counter()
    async with Client(StdioServerParameters(command=command[0], args=command[1:])) as client:
        search = await client.call_tool("search_repository", {"pattern": "INSIDE"})
        assert not search.is_error and search.structured_content["files_skipped"] >= 1, search.content
        with Swapper(root, outside):
            for _round in range(25):
                for name, arguments in calls:
                    result = await client.call_tool(name, arguments)
                    outcomes["error" if result.is_error else "ok"] += 1
                    texts.append(str(result.content) + str(result.structured_content))
    leaked = [t for t in texts if SECRET in t or "outsidetarget" in t or "only-outside" in t]
    assert leaked == [], (len(leaked), outcomes)
    assert outcomes["ok"] > 0, outcomes


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_open_beneath_gives_each_call_its_own_flags_and_error(tmp_path, resolver):
    """The kernel path keeps one `open_how` per set of flags and reads errno only on failure: calls alternating
    flags still open what they ask for, and each failure carries its own errno, with either resolver."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "file.txt").write_text("inside")
    (tmp_path / "leaves").symlink_to("/etc")
    (tmp_path / "loop").symlink_to("loop")
    root = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(2):
            fd = beneath.open_beneath(root, "dir", os.O_RDONLY | os.O_DIRECTORY)
            assert os.listdir(fd) == ["file.txt"]
            os.close(fd)
            fd = beneath.open_beneath(root, "dir/file.txt", os.O_RDONLY)
            assert os.read(fd, 10) == b"inside"
            os.close(fd)
            for rel, flags, code in [("dir/file.txt", os.O_RDONLY | os.O_DIRECTORY, errno.ENOTDIR),
                                     ("dir/missing", os.O_RDONLY, errno.ENOENT),
                                     ("leaves/passwd", os.O_RDONLY, errno.EXDEV),
                                     ("loop", os.O_RDONLY, errno.ELOOP)]:
                with pytest.raises(OSError) as info:
                    beneath.open_beneath(root, rel, flags)
                assert info.value.errno == code, (rel, resolver)
    finally:
        os.close(root)
