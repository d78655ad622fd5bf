"""`tokens PATH --format json` without Typer or pydantic (`cli.fasttokens`, `TokenCounts.json`): it prints what the
Typer command prints, byte for byte, cold and warm, on a repository with every kind of entry; it takes only the
arguments it can run exactly as Typer would, and leaves the others to Typer."""

from __future__ import annotations

import gc
import io
import json
import os
import sys
from pathlib import Path

import pytest
from pydantic_core import PydanticSerializationError

from orchestrator_kit.cli import fasttokens
from orchestrator_kit.cli.fasttokens import Request, parse
from orchestrator_kit.metrics.tokens import DETECTOR, TokenCounts

from ..conftest import git
from .test_cli_metrics import cli, process


@pytest.fixture
def varied(tmp_path: Path) -> Path:
    """Tracked text in folders, a non-ASCII name, a name with a newline, a quote and a tab, a binary file, a
    symlink; then a changed file and an untracked one (both read and hashed, not taken from the index)."""
    root = tmp_path / "repo"
    (root / "src" / "app").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "src" / "app" / "main.py").write_text("def main():\n    return 'hello world'\n" * 30)
    (root / "src" / "util.py").write_text("x = 1\n")
    (root / "docs" / "naïve café.md").write_text("# Café\n\nUnicode text: ünïcödé, 日本語, emoji 🚀.\n")
    (root / 'odd\nname "q"\t.txt').write_text("odd\n")
    (root / "image.bin").write_bytes(b"\x89PNG\x00\x01\x02" * 50)
    os.symlink("src", root / "link")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    (root / "src" / "util.py").write_text("x = 1\ny = 2\n")
    (root / "new.txt").write_text("untracked words\n")
    return root


ARGS = ("--top", "4", "--dir-depth", "1")


def test_fast_path_prints_what_typer_prints_cold_and_warm(varied: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(cache))
    args = ("tokens", str(varied), "--format", "json", *ARGS)
    fast_cold = process(*args)
    (cache / "tokens-v1.sqlite3").unlink()  # Typer's run starts as cold as the fast one did
    typer_cold = cli(*args)
    assert fast_cold.returncode == typer_cold.returncode == 0, fast_cold.stderr
    assert fast_cold.stdout == typer_cold.stdout
    fast_warm = process(*args)
    typer_warm = cli(*args)
    assert fast_warm.stdout == typer_warm.stdout
    cold, warm = json.loads(fast_cold.stdout), json.loads(fast_warm.stdout)
    assert cold["cache_misses"] > 0 and warm["cache_misses"] == 0 and warm["cache_hits"] == cold["cache_misses"]
    assert {s["reason"] for s in warm["skipped"]} == {"binary", "symlink"}
    assert warm["files_counted"] == 5  # main.py, util.py (changed), the two odd names, new.txt (untracked)
    assert warm["total_tokens"] == cold["total_tokens"] > 0
    no_cache = ("tokens", str(varied), "--format", "json", "--no-cache", "--quiet")
    assert process(*no_cache).stdout == cli(*no_cache).stdout


def test_fast_path_prints_diagnostics_as_typer_does(varied: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(blocker / "cache"))  # the cache cannot be made
    args = ("tokens", str(varied), "--format=json", "-q")
    fast = process(*args)
    assert fast.returncode == 0, fast.stderr
    assert fast.stdout == cli(*args).stdout
    assert any("token cache disabled" in d["reason"] for d in json.loads(fast.stdout)["diagnostics"])


@pytest.mark.parametrize("path", ["/nonexistent/orchestrator-kit-test", "x" * 5000])
def test_fast_path_errors_are_typers(path: str) -> None:
    fast = process("tokens", path, "--format", "json")
    typer = cli("tokens", path, "--format", "json")
    assert (fast.returncode, fast.stderr, fast.stdout) == (typer.returncode, typer.stderr, typer.stdout)
    assert fast.returncode == 2 and fast.stderr.startswith("Error: ")


def test_json_is_pydantics_json() -> None:
    counts = TokenCounts(
        root="/r/é", encoder="cl100k_base", label="L \"quoted\"", formula="f", total_tokens=7, total_bytes=30,
        files_counted=2, files_skipped=2, cache_hits=1, cache_misses=1, cache=None,
        top_files=[("a\nb\t\x01\x7f\u2028日本.py", 5, 20), ("c", 2, 10)], directories=[("(root)", 2, 7, 30)],
        skipped=[("bin", "binary"), ("l", "symlink")], skipped_by_reason={"binary": 1, "symlink": 1},
        diagnostics=[(".", "token cache disabled (x: y)")],
    )
    assert counts.json() == counts.model().model_dump_json(indent=2)
    assert json.loads(counts.json())["diagnostics"][0]["detector"] == DETECTOR
    with_cache = TokenCounts(**{**counts.__dict__, "cache": "/c/tokens-v1.sqlite3", "top_files": []})
    assert with_cache.json() == with_cache.model().model_dump_json(indent=2)
    # A non-UTF-8 file name (a lone surrogate) fails as pydantic fails, not with text pydantic would not write.
    broken = TokenCounts(**{**counts.__dict__, "top_files": [("bad\udcff", 1, 1)]})
    with pytest.raises(PydanticSerializationError):
        broken.json()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["repo", "--format", "json"], Request(path="repo", format="json")),
        (["--format=json", "repo"], Request(path="repo", format="json")),
        (["-f", "json", "repo", "--top", "5", "--dir-depth=3", "--no-cache", "--wide", "-q"],
         Request(path="repo", format="json", top=5, dir_depth=3, cache=False, wide=True, quiet=True)),
        (["repo", "-f", "json", "--top", "100000", "--dir-depth", "64", "--no-cache", "--cache", "--top", "7"],
         Request(path="repo", format="json", top=7, dir_depth=64)),  # the last value wins, as in Click
    ],
)
def test_the_arguments_the_fast_path_takes(args: list[str], expected: Request) -> None:
    assert parse(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["repo"],  # a table: Rich
        ["repo", "--format", "markdown"],
        ["repo", "--format", "JSON"],  # Typer refuses it
        ["repo", "--format"],
        ["repo", "--format", "json", "--output", "out.json"],
        ["repo", "--format", "json", "-o", "out.json"],
        ["repo", "--format", "json", "--help"],
        ["repo", "--format", "json", "--top", "0"],
        ["repo", "--format", "json", "--top", "100001"],
        ["repo", "--format", "json", "--top", "+5"],
        ["repo", "--format", "json", "--top", "٣"],  # a digit Python's int() takes; Typer says what it does
        ["repo", "--format", "json", "--dir-depth", "65"],
        ["repo", "--format", "json", "--top"],
        ["repo", "other", "--format", "json"],
        ["--format", "json"],
        ["", "--format", "json"],
        ["--", "repo", "--format", "json"],
        ["-fjson", "repo"],
        ["repo", "--format", "json", "--unknown"],
        ["repo", "--format", "json", "-qf", "json"],
    ],
)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert parse(args) is None


def test_at_a_terminal_the_progress_display_starts_only_when_a_file_is_counted(
    varied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown: list[str] = []

    class Display:  # stands for cli.progress.LiveProgress, recording what the command asks of it
        def __init__(self, show: bool) -> None:
            assert show
            self.hooks = self

        def stage(self, label: str) -> None:
            shown.append(label)

        def close(self) -> None:
            shown.append("closed")

    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("orchestrator_kit.cli.progress.LiveProgress", Display)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert fasttokens.run([str(varied), "--format", "json"]) == 0  # cold: files are counted
    assert shown == ["counting tokens", "closed"]
    cold = json.loads(capsys.readouterr().out)
    assert fasttokens.run([str(varied), "--format", "json"]) == 0  # warm: nothing to count, no display
    assert fasttokens.run([str(varied), "--format", "json", "--quiet", "--no-cache"]) == 0  # quiet: none either
    assert shown == ["counting tokens", "closed"]
    warm = json.loads(capsys.readouterr().out.split("\n}\n")[0] + "\n}")
    assert cold["cache_misses"] > 0 and warm["cache_misses"] == 0 and warm["total_tokens"] == cold["total_tokens"]
    assert fasttokens.run(["/nonexistent/orchestrator-kit-test", "--format", "json", "--quiet"]) == 2
    assert gc.isenabled()  # the collector, off while the command runs, is on again for a caller that goes on
