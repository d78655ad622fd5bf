"""The plugin inside the real Claude Code CLI (.ci/setup.d/claude.sh installs it): strict validation, a local
marketplace install, and the proof run: `claude -p` in a built sample repository delegates to our subagent, which
calls our MCP tools and gets the real scan back. Locally a missing CLI skips; in CI it fails."""

from __future__ import annotations

import json

import pytest

from orchestrator_kit.mcp_tools.prompts import prompt_text
from orchestrator_kit.plugin.agents import agent, plugin_tool_prefix, tool_names
from orchestrator_kit.testing.fake_messages_api import system_text, tool_result_text, tool_results
from orchestrator_kit.testing.fake_messages_api import tool_names as offered_tools

from .conftest import (
    DEFERRED_PLACEHOLDER,
    FINAL_TEXT,
    SUBAGENT_TEXT,
    ProofRun,
    claude_cli,
    claude_env,
    proof_script,
    run_claude,
    run_proof,
)

pytestmark = pytest.mark.external_tool("claude")

MARKETPLACE = "orchestrator-kit"
PLUGIN = "orchestrator-kit@orchestrator-kit"
SAMPLE_PIPELINES = ["CI", "Nightly integration", "Release"]  # .github/workflows of evals/repos/acme-shop


@pytest.fixture(autouse=True)
def _cli() -> None:
    claude_cli()


def install_plugin(plugin_source, home, cwd) -> None:
    env = claude_env(home)
    for args in (["plugin", "marketplace", "add", str(plugin_source)], ["plugin", "install", PLUGIN]):
        result = run_claude(args, env=env, cwd=cwd)
        assert result.returncode == 0, (args, result.stdout, result.stderr)


def test_plugin_validates_strictly(plugin_source, tmp_path):
    result = run_claude(["plugin", "validate", str(plugin_source), "--strict"], env=claude_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation passed" in result.stdout
    assert "agents: orchestrator-kit:process-orchestrator" in result.stdout


def test_validation_fails_on_a_broken_manifest(plugin_source, tmp_path):
    """The validator is a real check: a manifest that is not JSON fails it (on a copy)."""
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(plugin_source / ".claude-plugin", broken / ".claude-plugin")
    (broken / ".claude-plugin" / "plugin.json").write_text("{not json", encoding="utf-8")
    result = run_claude(["plugin", "validate", str(broken), "--strict"], env=claude_env(tmp_path), cwd=tmp_path)
    assert result.returncode != 0


def test_local_marketplace_install_lists_agents_and_server(plugin_source, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    install_plugin(plugin_source, home, tmp_path)
    details = run_claude(["plugin", "details", PLUGIN], env=claude_env(home), cwd=tmp_path)
    assert details.returncode == 0, details.stderr
    assert "process-orchestrator, workflow-orchestrator" in details.stdout
    assert "MCP servers (1)  orchestrator-kit" in details.stdout
    installed = json.loads((home / ".claude" / "plugins" / "installed_plugins.json").read_text(encoding="utf-8"))
    (entry,) = installed["plugins"][PLUGIN]
    assert (entry["scope"], entry["version"]) == ("user", json.loads(
        (plugin_source / ".claude-plugin" / "plugin.json").read_text(encoding="utf-8"))["version"])


def assert_proof(run: ProofRun, prefix: str, repo) -> None:
    """What the fake received proves the delegation: our prompt, our tools, the real scan, the final text."""
    result = run.result
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    assert run.api.unused_steps() == [], [(r.answered_by, r.status) for r in run.api.requests]
    assert FINAL_TEXT in result.stdout

    spec = agent("process-orchestrator")
    subagent = [r for r in run.api.messages_requests() if r.answered_by.startswith("subagent-")]
    assert len(subagent) == 3
    body = prompt_text(spec.name)
    for request in subagent:
        assert body in system_text(request.body)  # the agent file's body is the subagent's system prompt
        assert "cc_is_subagent=true" in system_text(request.body)
    # The tools offered over the subagent's requests (MCP tools arrive once the server is connected) are exactly
    # the ones the agent declares, under the name Claude Code gives them.
    offered = {name for r in subagent for name in offered_tools(r.body)} - {DEFERRED_PLACEHOLDER}
    assert offered == set(tool_names(spec, prefix))

    # The tool results that came back are the real scan of the sample repository.
    (scan_result,) = tool_results(run.answered_by("subagent-pipelines")[0].body)
    scan = json.loads(tool_result_text(scan_result))
    assert scan["repository"] == str(repo.resolve())
    assert scan["counts"]["pipelines"] == len(SAMPLE_PIPELINES)
    (pipelines_result,) = tool_results(run.answered_by("subagent-final")[0].body)
    pipelines = json.loads(tool_result_text(pipelines_result))
    assert sorted(item["name"] for item in pipelines["items"]) == SAMPLE_PIPELINES

    # The subagent's report went back to the main loop as the Agent tool's result.
    (agent_result,) = tool_results(run.answered_by("main-final")[0].body)
    assert SUBAGENT_TEXT in tool_result_text(agent_result)


def test_proof_process_orchestrator_inside_claude_code_via_the_plugin(plugin_source, sample_repo, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    install_plugin(plugin_source, home, sample_repo)
    prefix = plugin_tool_prefix()
    spec = agent("process-orchestrator")
    steps = proof_script(spec, prefix, "orchestrator-kit:process-orchestrator", prompt_text(spec.name)[:200])
    run = run_proof(sample_repo, claude_env(home), steps, prefix)
    assert_proof(run, prefix, sample_repo)
    counts = {label: len(run.answered_by(label)) for label in sorted({r.answered_by for r in run.api.requests})}
    print("proof (plugin) requests:", counts)


@pytest.mark.parametrize("scope", ["user", "project"])
def test_proof_process_orchestrator_inside_claude_code_via_install(sample_repo, tmp_path, scope):
    """The same proof with `orchestrator-kit install --client claude-code` instead of the plugin, under a chosen
    server name, so the agent's tools are named mcp__okit__<tool>."""
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = claude_env(home)
    installed = subprocess.run(
        [sys.executable, "-m", "orchestrator_kit", "install", "--client", "claude-code", "--scope", scope,
         "--server-name", "okit"],
        cwd=sample_repo, env={**env, "PYTHONPATH": ""}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    extra: tuple[str, ...] = ()
    if scope == "project":  # a project's .mcp.json servers need the user's approval: -p cannot ask
        extra = ("--mcp-config", str(sample_repo / ".mcp.json"))
    prefix = "mcp__okit__"
    spec = agent("process-orchestrator")
    steps = proof_script(spec, prefix, "process-orchestrator", prompt_text(spec.name)[:200])
    run = run_proof(sample_repo, env, steps, prefix, extra)
    assert_proof(run, prefix, sample_repo)
