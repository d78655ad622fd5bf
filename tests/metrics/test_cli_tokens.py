"""`orchestrator-kit tokens PATH`: per file, per directory and total, cached by git blob id; the real CLI in-process
(Typer's runner) and in a real process for the exit code of bad input."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest

from ..conftest import git
from .test_cli_metrics import cli, process


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "main.py").write_text("def main():\n    return 'hello world'\n" * 20)
    (root / "src" / "util.py").write_text("x = 1\n")
    (root / "README.md").write_text("# Title\n\nSome words here.\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def test_tokens_per_file_directory_and_total(repo: Path) -> None:
    result = cli("tokens", str(repo), "--format", "json", "--dir-depth", "1")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    files = {f["path"]: f["tokens"] for f in report["top_files"]}
    assert set(files) == {"src/app/main.py", "src/util.py", "README.md"}
    assert report["total_tokens"] == sum(files.values()) and report["files_counted"] == 3
    assert files["src/app/main.py"] > files["src/util.py"] > 0
    directories = {d["path"]: d["tokens"] for d in report["directories"]}
    assert directories["src"] == files["src/app/main.py"] + files["src/util.py"]
    assert report["cache_misses"] == 3


def test_warm_run_reads_no_file_content(repo: Path) -> None:
    first = json.loads(cli("tokens", str(repo), "--format", "json").stdout)
    # The second run must answer from the cache by blob id: reading any file would raise.
    with mock.patch("orchestrator_kit.metrics.tokens._read", side_effect=AssertionError("a file was read")):
        result = cli("tokens", str(repo), "--format", "json")
    assert result.returncode == 0, result.stderr
    second = json.loads(result.stdout)
    assert second["cache_hits"] == 3 and second["cache_misses"] == 0
    assert second["total_tokens"] == first["total_tokens"]


def test_changed_file_is_recounted(repo: Path) -> None:
    cli("tokens", str(repo), "--format", "json")
    (repo / "src" / "util.py").write_text("x = 1\ny = 2\nz = 3\n")
    report = json.loads(cli("tokens", str(repo), "--format", "json").stdout)
    assert report["cache_misses"] == 1 and report["cache_hits"] == 2


def test_table_and_markdown(repo: Path) -> None:
    table = cli("tokens", str(repo))
    assert table.returncode == 0 and "src/app/main.py" in table.stdout and "Tokens per directory" in table.stdout
    markdown = cli("tokens", str(repo), "--format", "markdown", "--no-cache")
    assert markdown.stdout.startswith("# Tokens") and "| src/app/main.py |" in markdown.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("tokens", "/nonexistent/orchestrator-kit-test"),
        ("tokens", ".", "--top", "0"),
        ("tokens", ".", "--dir-depth", "100000"),
        ("tokens", "x" * 5000),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...]) -> None:
    proc = process(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "Error" in proc.stderr
