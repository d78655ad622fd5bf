"""The real Claude Code CLI (installed by .ci/setup.d/claude.sh, path in CLAUDE_CLI) on temp HOMEs, and the scripted
proof run: Claude Code's main loop delegates to our subagent through its `Agent` tool, the subagent calls our MCP
tools, and the fake Messages API records what Claude Code sent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator_kit.plugin.agents import AgentSpec
from orchestrator_kit.samples import build_sample_repo
from orchestrator_kit.testing.fake_messages_api import (
    FakeMessagesAPI,
    RecordedRequest,
    Step,
    has_tool_results,
    offers_tool,
    reply,
    system_contains,
    tool_use,
)

from ..conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "evals" / "repos" / "acme-shop"
CLAUDE_TIMEOUT = 240  # seconds for one CLI call: the proof run takes about 5 s here; a hang must not stall CI
DEFERRED_PLACEHOLDER = "DeferredToolPlaceholder"  # Claude Code's never-callable marker of deferred tool loading


def claude_cli() -> str:
    found = os.environ.get("CLAUDE_CLI") or shutil.which("claude")
    return require_tool("Claude Code CLI (CLAUDE_CLI)", found if found and os.path.exists(found) else None)


def claude_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: HOME in a temp folder (no user settings, plugins or credentials), no telemetry, the
    plugin server served by this test run's interpreter (so nothing is installed), and any `extra`."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "ORCHESTRATOR_KIT_PLUGIN_PYTHON": sys.executable,
        "ORCHESTRATOR_KIT_CACHE_DIR": str(home / "okit-cache"),
    }
    env.update(extra)
    return env


def run_claude(args: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [claude_cli(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=CLAUDE_TIMEOUT, check=False
    )


def copy_plugin_source(dest: Path) -> Path:
    """The repository's tracked files (and new ones not ignored) copied to `dest`: what a clone holds. A marketplace
    added from a folder copies that folder whole, so adding the work tree would copy its virtualenv too."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for rel in filter(None, listed):
        source = REPO / rel
        if source.is_file() and not source.is_symlink():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


@pytest.fixture(scope="session")
def plugin_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_plugin_source(tmp_path_factory.mktemp("plugin-source") / "orchestrator-kit")


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    build_sample_repo(SAMPLE, tmp_path / "acme-shop")
    return tmp_path / "acme-shop"


@dataclass
class ProofRun:
    api: FakeMessagesAPI
    result: subprocess.CompletedProcess[str]

    def answered_by(self, label: str) -> list[RecordedRequest]:
        return self.api.messages_requests(answered_by=label)


FINAL_TEXT = "PROOF-FINAL: the process-orchestrator answered"
SUBAGENT_TEXT = "PROOF-SUBAGENT: scanned and listed the pipelines"


def proof_script(spec: AgentSpec, prefix: str, subagent_type: str, agent_body_marker: str) -> list[Step]:
    """Main loop: one `Agent` call naming our subagent (in the foreground), then the final text. Subagent (known by
    its system prompt, our agent's body): `scan_repository`, then `list_pipelines`, then its report."""
    in_subagent = system_contains(agent_body_marker)

    def main_loop(body: object) -> bool:
        return offers_tool("Agent")(body) and not in_subagent(body)

    delegate = {
        "description": "Map the repository",
        "prompt": "Map how this repository is built, tested and released.",
        "subagent_type": subagent_type,
        "run_in_background": False,
    }
    return [
        Step(
            reply(tool_use(prefix + "scan_repository", {"repository": "."})),
            match=lambda b: in_subagent(b) and not has_tool_results(b),
            name="subagent-scan",
        ),
        Step(
            reply(tool_use(prefix + "list_pipelines", {"repository": "."})),
            match=lambda b: in_subagent(b) and has_tool_results(b),
            name="subagent-pipelines",
        ),
        Step(reply(SUBAGENT_TEXT), match=lambda b: in_subagent(b) and has_tool_results(b), name="subagent-final"),
        Step(
            reply(tool_use("Agent", delegate)),
            match=lambda b: main_loop(b) and not has_tool_results(b),
            name="main-delegate",
        ),
        Step(reply(FINAL_TEXT), match=lambda b: main_loop(b) and has_tool_results(b), name="main-final"),
    ]


def run_proof(
    repo: Path, env: dict[str, str], steps: list[Step], prefix: str, extra_args: tuple[str, ...] = ()
) -> ProofRun:
    """`claude -p` in `repo` against the fake, with our two tools allowed (in -p mode nothing can ask the user)."""
    api = FakeMessagesAPI(steps)
    with api:
        run_env = {**env, "ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "test-key-not-secret"}
        prompt = "Use the process-orchestrator agent to map how this repository is built, tested and released."
        allowed = [prefix + "scan_repository", prefix + "list_pipelines"]
        result = run_claude(["-p", prompt, "--allowedTools", *allowed, *extra_args], env=run_env, cwd=repo)
    return ProofRun(api=api, result=result)
