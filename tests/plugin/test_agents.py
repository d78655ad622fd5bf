"""The subagent files: generated from the package prompts, in sync, least privilege, and our own lint of what Claude
Code does not check (it silently skips or ignores bad agent files)."""

from __future__ import annotations

import re

import pytest

from orchestrator_kit.mcp_tools.prompts import prompt_text
from orchestrator_kit.plugin.__main__ import main as regenerate
from orchestrator_kit.plugin.agents import (
    AGENTS,
    agent,
    lint_agent,
    plugin_tool_prefix,
    render_agent,
    server_tool_prefix,
    split_agent_file,
)
from orchestrator_kit.plugin.files import plugin_files, stale_files
from orchestrator_kit.server import registry

from .conftest import REPO

PREFIX = plugin_tool_prefix()
SERVER_TOOLS = set(registry.names())
WRITING_TOOLS = SERVER_TOOLS - set(registry.names(read_only=True))
# Tools the workflow-orchestrator's prompt names but leaves to the process-orchestrator ("only through the
# process-orchestrator's reviewed path"): not granted to it.
WORKFLOW_DELEGATES = {"generate_automation", "apply_automation"}


def lint(text: str, prefix: str = PREFIX, plugin: bool = True) -> list[str]:
    return lint_agent(
        text,
        known_tools={prefix + t for t in SERVER_TOOLS},
        writing_tools={prefix + t for t in WRITING_TOOLS},
        plugin=plugin,
    )


def test_generated_files_are_in_sync_with_the_package():
    assert stale_files(REPO) == [], "run: python -m orchestrator_kit.plugin"
    assert regenerate(["--check", str(REPO)]) == 0


def test_check_reports_a_drifted_agent(tmp_path):
    for rel, content in plugin_files().items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content, encoding="utf-8")
    assert regenerate(["--check", str(tmp_path)]) == 0
    drifted = tmp_path / "agents" / "process-orchestrator.md"
    drifted.write_text(drifted.read_text(encoding="utf-8") + "\nOne more rule.\n", encoding="utf-8")
    assert stale_files(tmp_path) == ["agents/process-orchestrator.md"]
    assert regenerate(["--check", str(tmp_path)]) == 1
    assert regenerate([str(tmp_path)]) == 0
    assert stale_files(tmp_path) == []


@pytest.mark.parametrize("spec", AGENTS, ids=lambda s: s.name)
def test_shipped_agent_files_lint_clean(spec):
    text = (REPO / "agents" / f"{spec.name}.md").read_text(encoding="utf-8")
    assert lint(text) == []
    front, body = split_agent_file(text)
    assert body == prompt_text(spec.name)
    assert (front["name"], front["model"], front["color"]) == (spec.name, "inherit", spec.color)
    assert set(front) == {"name", "description", "tools", "model", "color"}
    assert "Examples:" in front["description"]


@pytest.mark.parametrize("spec", AGENTS, ids=lambda s: s.name)
def test_tools_are_exactly_what_the_prompt_calls(spec):
    """Every MCP tool the prompt names is granted (bar the workflow's delegated ones) and nothing else."""
    named = set(re.findall(r"`([a-z_]+)`", prompt_text(spec.name))) & SERVER_TOOLS
    expected = named - WORKFLOW_DELEGATES if spec.name == "workflow-orchestrator" else named
    assert set(spec.mcp_tools) == expected
    assert len(spec.mcp_tools) == len(set(spec.mcp_tools))


def test_least_privilege_for_the_workflow_orchestrator():
    workflow = agent("workflow-orchestrator")
    assert not set(workflow.mcp_tools) & WRITING_TOOLS
    assert WRITING_TOOLS  # the server has writing tools, so the check above means something
    assert set(agent("process-orchestrator").mcp_tools) >= WRITING_TOOLS


def test_installed_names_use_the_chosen_server():
    text = render_agent(agent("process-orchestrator"), server_tool_prefix("okit"))
    assert "mcp__okit__scan_repository" in text
    assert "mcp__plugin_" not in text
    assert lint(text, prefix="mcp__okit__", plugin=False) == []
    assert lint(text) != []  # plugin names expected: the installed form does not pass as a plugin agent


GOOD = render_agent(agent("workflow-orchestrator"), PREFIX)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (GOOD.replace("model: inherit", "model: gpt-4"), "'model' must be"),
        (GOOD.replace("color: purple", "color: mauve"), "'color' must be"),
        (GOOD.replace("tools:", "allowed-tools:"), "unknown front-matter field 'allowed-tools'"),
        (GOOD.replace("color: purple", "color: purple\nhooks: {}"), "ignored for plugin agents"),
        (GOOD.replace("tools: Read,", "tools: Read, Write,"), "writing tool 'Write'"),
        (GOOD.replace("tools: Read,", f"tools: Read, {PREFIX}apply_automation,"), "writing tool"),
        (GOOD.replace("tools: Read,", f"tools: Read, {PREFIX}no_such_tool,"), "no_such_tool' is neither"),
        (GOOD.replace("tools: Read,", "tools: Read, mcp__other__scan_repository,"), "is neither"),
        (GOOD + "\nAn extra line.\n", "body differs"),
        (GOOD.replace("name: workflow-orchestrator", "name: Workflow Orchestrator"), "'name' must be"),
        (GOOD.replace("name: workflow-orchestrator", "name: nobody"), "no package prompt"),
        ("no front matter at all", "does not start with"),
        ("---\nname: [unclosed\n---\n\nbody", "not valid YAML"),
        ("---\n- a list\n---\n\nbody", "not a mapping"),
    ],
)
def test_lint_catches_what_claude_code_ignores(text, fragment):
    problems = lint(text)
    assert any(fragment in p for p in problems), problems


def test_lint_refuses_a_huge_file_and_odd_yaml_without_crashing():
    huge = GOOD.replace("color: purple", "color: purple\n" + "x" * 2_000_000 + ": 1")
    assert any("over the" in p for p in lint(huge))
    long_key = GOOD.replace("color: purple", "color: purple\n" + "x" * 5_000 + ": 1")
    assert lint(long_key)  # YAML refuses keys this long: reported, not raised
    aliases = "---\na: &a [1]\nb: [*a, *a, *a]\nname: x\n---\n\nbody"
    assert lint(aliases)


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "x" * 65, "../etc", "名前"])
def test_server_names_are_checked(bad):
    from orchestrator_kit.errors import InputError

    with pytest.raises(InputError, match="Server name"):
        server_tool_prefix(bad)


def test_readme_lists_each_agents_tools():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Claude Code", 1)[1].split("\n## ", 1)[0]
    process_row = next(line for line in section.splitlines() if line.startswith("| process-orchestrator |"))
    assert re.findall(r"`([a-z_]+)`", process_row) == list(agent("process-orchestrator").mcp_tools)
    workflow_row = next(line for line in section.splitlines() if line.startswith("| workflow-orchestrator |"))
    from orchestrator_kit.plugin.agents import DISCOVERY_TOOLS

    workflow_only = [t for t in agent("workflow-orchestrator").mcp_tools if t not in DISCOVERY_TOOLS]
    assert re.findall(r"`([a-z_]+)`", workflow_row) == [DISCOVERY_TOOLS[-1], *workflow_only]
