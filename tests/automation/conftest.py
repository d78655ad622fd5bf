"""Fixtures for the automation tests: the acme-shop sample repository (a real git repo), built once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from orchestrator_kit.automation.generate import load_context
from orchestrator_kit.automation.validate import find_tool
from orchestrator_kit.samples import build_sample_repo

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "evals" / "repos" / "acme-shop"


@pytest.fixture(scope="session")
def acme_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("acme") / "acme-shop"
    build_sample_repo(SAMPLE, dest)
    return dest


@pytest.fixture
def acme(acme_template: Path, tmp_path: Path) -> Path:
    """A private copy of acme-shop that a test may write into."""
    dest = tmp_path / "acme-shop"
    shutil.copytree(acme_template, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def acme_inventory(acme_template: Path):
    return load_context(acme_template).inventory


def tool(name: str) -> str:
    """An external validator the test needs (skips locally when absent, fails in CI)."""
    from tests.conftest import require_tool

    return require_tool(name, find_tool(name) if name != "just" else (os.environ.get("JUST") or find_tool("just")))
