"""`orchestrator-kit run` and `check-report` from the command line: no key, bad and hostile input, the check on files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator_kit.cli import app

TOOL_RESULT = json.dumps({"counts": {"pipelines": 3}, "evidence": {"path": "Makefile", "line_start": 4, "line_end": 9}})


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # nothing listens: no test may reach it


def test_no_key_is_a_clear_error_and_nothing_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    outcome = invoke("run", "process-orchestrator", str(tmp_path))
    assert outcome.exit_code == 2
    assert "Error: ANTHROPIC_API_KEY is not set" in outcome.stderr and "Traceback" not in outcome.stderr
    assert not (tmp_path / ".orchestrator-kit").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["run", "process-orchestrator", "/nonexistent/repo"], "is not a folder"),
    (["run", "process-orchestrator", ".", "--resume", "../../etc/passwd"], "is not a run id"),
    (["run", "process-orchestrator", ".", "--resume", "20261206T051700-a1b2c3"], "No run"),
    (["run", "process-orchestrator", ".", "--task", "x" * 30_000], "at most 20,000"),
    (["run", "process-orchestrator", ".", "--model", "no-such-model", "--max-cost-usd", "1"], "No price"),
    (["run", "process-orchestrator", ".", "--output", "/proc/no/such/dir"], "for the report"),
])
def test_bad_input_is_one_error_line(keyed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
                                     message: str) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = invoke(*args)
    assert outcome.exit_code == 2, outcome.output
    assert outcome.stderr.startswith("Error: ") and message in outcome.stderr and "Traceback" not in outcome.stderr


@pytest.mark.parametrize("args", [
    ["run", "release-manager", "."],
    ["run", "process-orchestrator", ".", "--max-turns", "0"],
    ["run", "process-orchestrator", ".", "--max-cost-usd", "-1"],
])
def test_usage_errors(keyed: None, args: list[str]) -> None:
    assert invoke(*args).exit_code == 2


def test_resume_with_another_agent_or_repository_is_refused(keyed: None, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator_kit.agent.store import RunState, RunStore

    monkeypatch.chdir(tmp_path)
    state = RunState(run_id="20261206T051700-a1b2c3", agent="process-orchestrator", repository=str(tmp_path),
                     model="m", stage="discovery", started_at="t", updated_at="t")
    store = RunStore.create(tmp_path, state)
    store.checkpoint(state)
    store.unlock()
    outcome = invoke("run", "workflow-orchestrator", str(tmp_path), "--resume", state.run_id)
    assert outcome.exit_code == 2 and "same agent and repository" in outcome.stderr


def write_run(folder: Path, report: str) -> tuple[Path, Path]:
    transcript = folder / "transcript.jsonl"
    lines = [{"seq": 1, "type": "run"},
             {"seq": 2, "type": "turn", "tool_calls": [{"name": "scan_repository", "result": TOOL_RESULT}]}]
    transcript.write_text("".join(json.dumps(line) + "\n" for line in lines))
    path = folder / "report.md"
    path.write_text(report)
    return path, transcript


def test_check_report_on_files(tmp_path: Path) -> None:
    good, transcript = write_run(tmp_path, "There are 3 pipelines (Makefile:5).\n")
    outcome = invoke("check-report", str(good), "--transcript", str(transcript))
    assert outcome.exit_code == 0 and outcome.stdout.startswith("grounded: 2 claims, 2 supported")
    bad = tmp_path / "bad.md"
    bad.write_text("There are 3 pipelines.\nDeploys take 17 minutes (Makefile:12).\n")
    outcome = invoke("check-report", str(bad), "--transcript", str(transcript))
    assert outcome.exit_code == 1
    assert "line 2: unsupported number '17'" in outcome.stdout and "unsupported location 'Makefile:12'" in outcome.stdout
    data = json.loads(invoke("check-report", str(bad), "--transcript", str(transcript), "--format", "json").stdout)
    assert data["unsupported"] == 2 and data["claims"] == 3
    saved = tmp_path / "report.json"  # a report.json saved by a run is read through its markdown field
    saved.write_text(json.dumps({"markdown": "Deploys take 17 minutes."}))
    assert invoke("check-report", str(saved), "--transcript", str(transcript)).exit_code == 1


@pytest.mark.parametrize(("name", "content", "message"), [
    ("report.json", "{not json", "not valid JSON"),
    ("report.json", "[1]", "no `markdown` field"),
    ("report.json", "[" * 100_000 + "]" * 100_000, "not valid JSON: nested too deeply to read"),
    ("report.md", b"\xff\xfe\x00bad", "not UTF-8"),
    ("missing.md", None, "Cannot read"),
])
def test_check_report_bad_files(tmp_path: Path, name: str, content: str | bytes | None, message: str) -> None:
    _good, transcript = write_run(tmp_path, "x")
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    outcome = invoke("check-report", str(path), "--transcript", str(transcript))
    assert outcome.exit_code == 2 and message in outcome.stderr and "Traceback" not in outcome.stderr


def test_check_report_hostile_transcripts(tmp_path: Path) -> None:
    report, _transcript = write_run(tmp_path, "There are 3 pipelines.\n")
    assert "not a file" in invoke("check-report", str(report), "--transcript", str(tmp_path)).stderr
    torn = tmp_path / "torn.jsonl"  # a torn line ends the reading: nothing after it counts as evidence
    torn.write_text('{"seq": 1, "type": "turn", "tool_calls": [{"result": "7"}]}\n{"seq": 2, "ty\n'
                    '{"seq": 3, "type": "turn", "tool_calls": [{"result": "3"}]}\n')
    assert invoke("check-report", str(report), "--transcript", str(torn)).exit_code == 1
    odd = tmp_path / "odd.jsonl"  # wrong shapes are skipped, not crashed on
    odd.write_text('{"seq": 1, "type": "turn", "tool_calls": "nope"}\n{"type": "turn", "tool_calls": [1, null]}\n')
    assert invoke("check-report", str(report), "--transcript", str(odd)).exit_code == 1
    huge = tmp_path / "huge.md"
    huge.write_text("1 " * 1_100_000)
    outcome = invoke("check-report", str(huge), "--transcript", str(odd))
    assert outcome.exit_code == 2 and "at most" in outcome.stderr


def test_a_run_from_the_command_line_shows_its_turns_and_how_it_ended(shop: Path, tmp_path: Path, fake_api) -> None:
    import os
    import subprocess
    import sys

    from orchestrator_kit.testing.fake_messages_api import Step, reply, tool_use

    api = fake_api([Step(respond=reply(tool_use("list_roots", {}))), Step(respond=reply("Discovery: one root."))])
    env = {**os.environ, "ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "test-key"}
    done = subprocess.run([sys.executable, "-m", "orchestrator_kit", "run", "process-orchestrator", str(shop),
                           "--max-turns", "2"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[:3] == ["process-orchestrator stage discovery (turn 0)", "  turn 1: -> list_roots",
                         "  turn 2: Discovery: one root."]
    assert "Stopped: budget max-turns reached: 2 of 2 turns; a partial report was saved." in lines
    assert any(line.startswith("Resume with: orchestrator-kit run process-orchestrator") for line in lines)
