"""Progress on long work: shown on stderr when it is a terminal (a real pseudo-terminal here), absent when piped or
with --quiet, and never on standard output (which stays a clean report)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from orchestrator_kit.assessment import Hooks, assess
from orchestrator_kit.samples import build_sample_repo

SAMPLE = Path(__file__).resolve().parents[1] / "evals" / "repos" / "acme-shop"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    return build_sample_repo(SAMPLE, tmp_path_factory.mktemp("progress") / "acme-shop").path


def run_on_pty(*args: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal and stdout on a pipe: (exit code, stdout, terminal text)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    for name in ("NO_COLOR", "CI", "TERM_PROGRAM"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator_kit", *args], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks: list[bytes] = []

    def pump() -> None:  # drain the terminal while the command runs, so it never blocks on a full buffer
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO once the child closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=pump)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    reader.join(10)
    os.close(master)
    return proc.returncode, out.decode(), ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def piped(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator_kit", *args], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", [["metrics", "--no-tokens"], ["opportunities"], ["scan", "--metrics", "--opportunities"]])
def test_progress_on_a_terminal_names_phases_and_counts(acme, command):
    code, out, terminal = run_on_pty(command[0], str(acme), *command[1:], "--format", "json")
    assert code == 0, terminal
    assert out.lstrip().startswith("{")  # the report on stdout is untouched by the display
    assert "scanning files" in terminal and "20/20" in terminal  # the sample has 20 files
    assert "reading git history" in terminal and "13/13" in terminal  # ... and 13 commits
    assert "scoring opportunities" in terminal


def test_scan_json_alone_reads_no_history_and_shows_only_the_file_phase(acme):
    code, _, terminal = run_on_pty("scan", str(acme), "--format", "json", "--no-metrics", "--no-opportunities")
    assert code == 0
    assert "scanning files" in terminal and "reading git history" not in terminal


@pytest.mark.parametrize("command", ["metrics", "opportunities", "scan"])
def test_quiet_silences_the_terminal(acme, command):
    code, out, terminal = run_on_pty(command, str(acme), "--format", "json", "--quiet")
    assert code == 0 and out.lstrip().startswith("{")
    assert terminal.strip() == ""


@pytest.mark.parametrize("command", ["metrics", "opportunities", "scan"])
def test_no_progress_when_piped(acme, command):
    proc = piped(command, str(acme), "--format", "json")
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_an_error_leaves_a_clean_error_line_on_the_terminal(tmp_path):
    code, _, terminal = run_on_pty("metrics", str(tmp_path / "missing"))
    assert code == 2
    assert terminal.strip().startswith("Error: ")


def test_assess_reports_phases_with_totals_in_order(acme):
    events: list[tuple[str, int | None]] = []
    read: list[int] = []
    assess(acme, hooks=Hooks(phase=lambda label, total: events.append((label, total)), commits=read.append))
    assert events == [("scanning files", None), ("reading git history", 13), ("scoring opportunities", None)]
    assert read == list(range(1, 14))


def test_commit_total_follows_the_bounds(acme):
    events: list[tuple[str, int | None]] = []
    assess(acme, max_commits=5, hooks=Hooks(phase=lambda label, total: events.append((label, total))))
    assert ("reading git history", 5) in events
    events.clear()
    assess(acme, paths=["src"], hooks=Hooks(phase=lambda label, total: events.append((label, total))))
    assert ("reading git history", None) in events  # a path filter: git cannot count cheaply, the bar spins


def test_generate_shows_its_phase_and_keeps_stdout_clean(acme):
    code, out, terminal = run_on_pty("generate", "shell-script", "--from-procedure",
                                     "RELEASING.md#releasing-acme-shop/hotfix", "-C", str(acme),
                                     "--format", "json")
    assert "scanning the repository, generating and validating" in terminal
    assert code == 2 or out.lstrip().startswith("{")  # whatever the outcome, the display never reaches stdout


def test_eval_tools_counts_cases_scored(tmp_path):
    cases = Path(__file__).resolve().parents[1] / "evals" / "cases" / "acme-shop.yaml"
    code, out, terminal = run_on_pty("eval", "tools", "--cases", str(cases), "--format", "json")
    assert code in (0, 1), terminal
    assert "building, scanning and scoring sample repositories" in terminal and "1/1" in terminal
    assert out.lstrip().startswith("{")


def test_validate_shows_its_phase_on_a_terminal_and_nothing_when_quiet(acme):
    code, out, terminal = run_on_pty("validate", "Makefile", "scripts/*.sh", "-C", str(acme))
    assert code == 0, terminal
    assert "validating 3 file(s)" in terminal and "validating" not in out
    assert "Makefile (makefile): ok" in out
    code, out, terminal = run_on_pty("validate", "Makefile", "-C", str(acme), "--quiet")
    assert code == 0 and "validating" not in terminal


def test_tokens_shows_its_phase_on_a_terminal_and_nothing_when_quiet(acme):
    code, out, terminal = run_on_pty("tokens", str(acme), "--no-cache", "--format", "json")
    assert code == 0 and "counting tokens" in terminal and out.lstrip().startswith("{")
    code, out, terminal = run_on_pty("tokens", str(acme), "--quiet", "--format", "json")
    assert code == 0 and "counting tokens" not in terminal
