"""Where one agent run happens, and what it left: a copy of the built sample in a sandbox folder, the runner's own
files beside it (`runs/`), and the outcome read back after the run (report, tool calls, changed files).

    sandbox/
      repo/    the repository the agent works on (the MCP server's only root)
      runs/    the runner's .orchestrator-kit/runs/<id>/ (transcript, state, report): outside the root on purpose

Anything else that appears in `sandbox/` after the run was written outside the root.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...agent.store import read_events
from .cases import AgentCase
from .graders import Outcome, ToolCall

IGNORED = (".git", ".orchestrator-kit")
MAX_WRITTEN_BYTES = 1_000_000


class SampleCache:
    """Each sample built once (git history and all) per process, then copied for every run."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="orchestrator-kit-samples-"))
        self.built: dict[str, Path] = {}

    def get(self, case: AgentCase) -> Path:
        from ...samples import build_sample_repo

        if case.repo not in self.built:
            self.built[case.repo] = build_sample_repo(case.sample, self.folder / case.repo).path
        return self.built[case.repo]


@dataclass
class Sandbox:
    folder: Path

    @property
    def repo(self) -> Path:
        return self.folder / "repo"

    @property
    def runs(self) -> Path:
        return self.folder / "runs"

    @classmethod
    def create(cls, built: Path, parent: Path | None = None) -> Sandbox:
        folder = Path(tempfile.mkdtemp(prefix="agent-eval-", dir=parent))
        shutil.copytree(built, folder / "repo", symlinks=True)
        (folder / "runs").mkdir()
        return cls(folder)

    def snapshot(self) -> dict[str, str]:
        return snapshot(self.repo)

    def outside(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir() if p.name not in ("repo", "runs"))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under `root` (symlinks by their target text), .git and .orchestrator-kit aside."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in IGNORED or (path.is_dir() and not path.is_symlink()):
            continue
        data = str(path.readlink()).encode() if path.is_symlink() else path.read_bytes()
        found[rel.as_posix()] = hashlib.sha256(data).hexdigest()
    return found


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def tool_calls(transcript: Path) -> list[ToolCall]:
    """Every tool call of a run's transcript, with its result text."""
    calls = []
    for event in read_events(transcript):
        if event.get("type") != "turn":
            continue
        for call in event.get("tool_calls") or []:
            if isinstance(call, dict):
                given, output = call.get("input"), call.get("result")
                arguments: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
                calls.append(ToolCall(name=str(call.get("name")), arguments=arguments,
                                      result=output if isinstance(output, str) else "",
                                      is_error=bool(call.get("is_error"))))
    return calls


def collect(case: AgentCase, sandbox: Sandbox, before: dict[str, str], run_dir: Path, report_json: str | None,
            status: str) -> Outcome:
    """The outcome of one finished run: its report, its tool calls, and what changed in and around the root."""
    report = ""
    if report_json and Path(report_json).is_file():
        report = str(json.loads(Path(report_json).read_text(encoding="utf-8")).get("markdown") or "")
    transcript = run_dir / "transcript.jsonl"
    calls = tool_calls(transcript) if transcript.is_file() else []
    paths = changed(before, sandbox.snapshot())
    written = {}
    for rel in paths:
        file = sandbox.repo / rel
        if file.is_file() and not file.is_symlink() and file.stat().st_size <= MAX_WRITTEN_BYTES:
            written[rel] = file.read_text(encoding="utf-8", errors="replace")
    errors: list[str] = []
    if written and case.allow_writes:
        from ...automation import validate_automation

        result = validate_automation(sandbox.repo, sorted(written))
        errors = [f"{f.path}:{f.line}: {f.message}" for r in result.reports for f in r.findings
                  if f.severity == "error"]
    return Outcome(agent=case.agent, report=report, status=status, tool_calls=calls, changed=paths,
                   written=written, outside=sandbox.outside(), validation_errors=errors)
