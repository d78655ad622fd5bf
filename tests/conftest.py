"""Shared fixtures: repositories written by the test, as plain folders or real git repositories."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings

from orchestrator_kit.discovery import discover
from orchestrator_kit.models import Inventory
from orchestrator_kit.repo import Workspace

# Property tests. "ci" (the default) is derandomized: the same examples on every run, so a test passes or fails by
# the code, never by the seed; examples and time per example are bounded so the suite stays fast. "deep"
# (HYPOTHESIS_PROFILE=deep, for nightly runs) draws many more random examples and keeps failures in the example
# database (.hypothesis/). A failure prints its reproduction blob in both (@reproduce_failure).
settings.register_profile(
    "ci", max_examples=50, deadline=timedelta(seconds=10), derandomize=True, database=None, print_blob=True,
)
settings.register_profile("deep", max_examples=2_000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "ci")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T12:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T12:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True, scope="session")
def _user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Caches (tool schemas, token counts) go to a folder of this test session, never to the user's own, so every
    run starts as on a fresh machine; server processes the tests start inherit it."""
    folder = tmp_path_factory.mktemp("user-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(folder))
        # The audit key (automation.auditkey) too: a test never signs with, or reads, the user's own key.
        patch.setenv("ORCHESTRATOR_KIT_STATE_DIR", str(tmp_path_factory.mktemp("user-state")))
        yield folder


def git(root: Path, *args: str) -> str:
    """Run git in `root` for a test, with a fixed identity and no user config."""
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=True)
    return proc.stdout


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write `files` (path -> text, dedented; or bytes as they are) under `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Build a repository under tmp_path: `make_repo({"Makefile": "..."}, git=True)`."""

    def build(files: dict[str, str | bytes], *, git_repo: bool = False, commit: bool = True) -> Path:
        root = tmp_path / "repo"
        root.mkdir(exist_ok=True)
        write_files(root, files)
        if git_repo:
            git(root, "init", "-q", "-b", "main")
            if commit and files:
                git(root, "add", "-A")
                git(root, "commit", "-q", "-m", "initial")
        return root

    return build


def run_detectors(root: Path, *names: str) -> Inventory:
    """Discover with only the named detectors (all when none is named)."""
    return discover(Workspace(root), only=set(names) or None)


def errors_of(inventory: Inventory) -> list[str]:
    """Diagnostics that report a detector bug: a test fixture must never cause one."""
    return [d.reason for d in inventory.diagnostics if "internal error" in d.reason]


def require_tool(name: str, found: str | None) -> str:
    """The path of an external program a test needs. Locally a missing one skips the test (with the reason);
    in CI (CI=true, where .ci/setup.d installs it) a missing one fails it, so CI never counts a skip as a pass."""
    if found:
        return found
    message = f"{name} is not installed (.ci/setup.d installs it for CI)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# Runs the console entry point (`orchestrator-kit ARGS`) in a fresh interpreter and writes the names in
# `sys.modules` to the path given first when it exits: what a command really imported (test_startup, the MCP
# server's lazy start).
_MODULES_PROBE = (
    "import atexit, sys\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write('\\n'.join(sys.modules)))\n"
    "from orchestrator_kit.cli import main\n"
    "main()\n"
)


def modules_probe(out: Path, *args: str) -> list[str]:
    """The command line that runs `orchestrator-kit ARGS` and lists its `sys.modules` into `out` at exit."""
    return [sys.executable, "-c", _MODULES_PROBE, str(out), *args]
