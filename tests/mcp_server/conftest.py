"""Fixtures for the MCP server tests: a small real git repository with known contents, and clients to the server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import git, write_files

# A GitHub personal access token shape (ghp_ + 36 characters): detect-secrets' GitHub plugin reports it.
SECRET = "ghp_" + "Zq8vN3xK5mP7rT2wY9bC4dF6hJ1kL0sQ8uE3"

SHOP = {
    ".github/workflows/ci.yml": """\
        name: CI
        on:
          push:
            branches: [main]
          schedule:
            - cron: "30 4 * * 1"
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: make build
          deploy:
            needs: build
            runs-on: ubuntu-latest
            environment: production
            steps:
              - run: make deploy
        """,
    ".gitlab-ci.yml": """\
        stages: [build, deploy]
        build:
          stage: build
          script:
            - make build
        deploy_prod:
          stage: deploy
          when: manual
          script:
            - make deploy
        """,
    "Makefile": """\
        build:
        \tdocker build -t shop .

        deploy:
        \tkubectl apply -f k8s/
        """,
    "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
    "ops/crontab": "0 3 * * * /usr/local/bin/backup.sh\n",
    "docs/runbooks/release.md": """\
        # Releasing

        1. Build the image: `make build`
        2. Log in to the bastion: `ssh deploy@bastion.example.org`
        3. Roll out by hand: `kubectl rollout restart deployment/shop`
        """,
    "config/settings.env": f"GITHUB_TOKEN={SECRET}\nLOG_LEVEL=info\n",
    "src/app.py": "def main():\n    print('hello shop')\n",
}


@pytest.fixture
def shop(make_repo) -> Path:
    """The shop repository as a committed git repository."""
    return make_repo(SHOP, git_repo=True)


@pytest.fixture
def build(shop):
    """build(roots=None, **options) -> a fresh server over `shop` (or the given roots)."""
    from orchestrator_kit.server import build_server

    def make(roots: list[Path] | None = None, **options):
        return build_server(roots if roots is not None else [shop], **options)

    return make


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def spawn_command(*roots: Path, extra: tuple[str, ...] = ()) -> list[str]:
    """The argv that starts the real server: `python -m orchestrator_kit mcp --root ...`."""
    args = [sys.executable, "-m", "orchestrator_kit", "mcp"]
    for root in roots:
        args += ["--root", str(root)]
    return [*args, *extra]


def node_tool(env_var: str) -> str | None:
    """A JavaScript entry point installed by .ci/setup.d/mcp.sh (found through its environment variable)."""
    path = os.environ.get(env_var)
    return path if path and Path(path).is_file() else None


def node20() -> str | None:
    return shutil.which("node")


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL, **kwargs
    )


def run_all(commands: list[list[str]], **kwargs) -> list[subprocess.CompletedProcess[str]]:
    """Run several commands at once (each starts its own node and server process) and wait for all of them."""
    procs = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                         **kwargs)
        for c in commands
    ]
    results = []
    for command, proc in zip(commands, procs, strict=True):
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        results.append(subprocess.CompletedProcess(command, proc.returncode, out, err))
    return results


__all__ = ["SECRET", "SHOP", "commit_all", "free_port", "node20", "node_tool", "run", "run_all", "spawn_command", "write_files"]


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """An empty user cache folder for this test only."""
    folder = tmp_path / "okit-cache"
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(folder))
    return folder
