"""Fixtures for runner tests: the shipped sample repository built once, and the fake Messages API in the environment."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator_kit.samples import build_sample_repo
from orchestrator_kit.testing.fake_messages_api import FakeMessagesAPI, Step

SAMPLE = Path(__file__).parents[2] / "evals" / "repos" / "acme-shop"


@pytest.fixture(scope="session")
def built_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_repo(SAMPLE, tmp_path_factory.mktemp("sample") / "acme-shop").path


@pytest.fixture
def shop(built_shop: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built sample (git history included) that a test may write into."""
    return Path(shutil.copytree(built_shop, tmp_path / "acme-shop", symlinks=True))


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[list[Step]], FakeMessagesAPI]]:
    """Start the fake Messages API with a script and point the SDK at it (ANTHROPIC_BASE_URL, a dummy key)."""
    started: list[FakeMessagesAPI] = []

    def start(script: list[Step]) -> FakeMessagesAPI:
        api = FakeMessagesAPI(script).start()
        started.append(api)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        return api

    yield start
    for api in started:
        api.stop()
