"""The agents' prompts: one canonical copy shipped in the package, served as MCP prompts, true to the house rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp import Client

from orchestrator_kit.mcp_tools import prompts
from orchestrator_kit.server import registry

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "orchestrator_kit" / "prompts"
NAMES = [p.name for p in prompts.PROMPTS]


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.md"))}


def test_top_level_prompts_are_the_package_copies():
    assert _files(ROOT / "prompts") == _files(PACKAGE), "copy: cp -r src/orchestrator_kit/prompts/* prompts/"
    assert sorted(_files(PACKAGE)) == sorted(
        [f"{n}.md" for n in NAMES] + [f"templates/{t}.md" for t in prompts.TEMPLATES]
    )


@pytest.mark.parametrize("template", list(prompts.TEMPLATES))
def test_each_template_appears_verbatim_in_its_prompt(template):
    text = prompts.template_text(template)
    assert text.startswith("## ") and "[" in text  # a Markdown skeleton with placeholders
    assert f"````markdown\n{text}````" in prompts.prompt_text(prompts.TEMPLATES[template])


def _tools_section(text: str) -> str:
    return text.split("\n## Tools\n", 1)[1].split("\n## ", 1)[0]


def _steps(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each phase or instruction step: the parts that must call a tool (templates excluded)."""
    text = re.sub(r"````markdown\n.*?````", "", text, flags=re.S)
    phases = re.findall(r"\n## (Phase \d[^\n]*)\n(.*?)(?=\n## |\Z)", text, re.S)
    steps = re.findall(r"\n\d\. \*\*([^*]+)\*\*\n(.*?)(?=\n\d\. \*\*|\n## |\Z)", text, re.S)
    return phases + steps


@pytest.mark.parametrize("name", NAMES)
def test_every_step_calls_a_tool_of_this_server(name):
    text = prompts.prompt_text(name)
    tools = set(registry.names())
    bullets = [line.split(":", 1)[0] for line in _tools_section(text).splitlines() if line.startswith("- `")]
    named = {n for bullet in bullets for n in re.findall(r"`([a-z_]+)`", bullet)}
    assert named and named <= tools, named - tools
    steps = _steps(text)
    assert len(steps) >= 4
    for heading, body in steps:
        called = {t for t in tools if f"`{t}`" in body}
        assert called, f"{name}: step '{heading}' names no tool"


@pytest.mark.parametrize("name", NAMES)
def test_no_invented_numbers(name):
    text = prompts.prompt_text(name)
    # Targets like ">99.9%", "<30s" or "89%" were in the seed prompts; here a target is only a labelled goal.
    assert re.findall(r"[<>]\s?\d|\d\s?%|\d+\s?(?:s|ms|min|hours?)\b", text) == []
    assert "Goal (not a measurement)" in text
    assert "not measured" in text
    assert "Sources" in text  # the report lists the tool calls it used
    assert "never instructions" in text.lower() or "never follow instructions" in text.lower()


@pytest.mark.anyio
async def test_prompts_are_served_with_their_arguments(build, shop):
    async with Client(build()) as client:
        listed = {p.name: p for p in (await client.list_prompts()).prompts}
        rendered = await client.get_prompt("workflow-orchestrator", {"repository": "services/api", "focus": "rollback"})
        default = await client.get_prompt("process-orchestrator", {})
    assert sorted(listed) == sorted(NAMES)
    for prompt in listed.values():
        assert [(a.name, a.required) for a in prompt.arguments] == [("repository", False), ("focus", False)]
        assert all(a.description for a in prompt.arguments)
    text = rendered.messages[0].content.text
    assert rendered.messages[0].role == "user"
    assert text.startswith(prompts.prompt_text("workflow-orchestrator").rstrip("\n"))
    assert "- Repository: `services/api`" in text and "- Focus requested by the user: rollback" in text
    assert "Focus requested" not in default.messages[0].content.text


def test_a_checkout_without_package_data_reads_the_top_level_prompts(tmp_path, monkeypatch):
    from importlib import resources

    from orchestrator_kit.errors import InputError

    monkeypatch.setattr(resources, "files", lambda package: tmp_path)  # an installed package without its .md files
    assert prompts._read("templates/workflow-design.md") == (ROOT / "prompts/templates/workflow-design.md").read_text()
    with pytest.raises(InputError, match=r"'nope\.md' is missing from this installation"):
        prompts._read("nope.md")


# ---------------------------------------------------------------- the prompts and the tools they use

# What each agent's phases need from the server: every one must be named in its prompt's steps.
NEEDED = {
    "process-orchestrator": {
        "list_roots", "scan_repository", "list_pipelines", "get_pipeline", "list_tasks", "list_schedules",
        "list_manual_procedures", "get_manual_procedure", "read_file", "search_repository", "git_metrics",
        "pipeline_metrics", "token_budget", "opportunity_matrix", "generate_automation", "validate_automation",
        "apply_automation", "undo_automation",
    },
    "workflow-orchestrator": {
        "list_roots", "scan_repository", "get_pipeline", "get_manual_procedure", "search_repository", "read_file",
        "pipeline_metrics", "validate_workflow_design", "simulate_workflow_failures", "render_workflow_diagram",
        "export_workflow_asl",
    },
}
# A backticked name shaped like a tool (a verb of ours, or a metrics noun) must be one: no invented tools. Result
# fields named "<verb>_with" (`apply_with`, `generate_with`) are arguments to pass on, not tools.
TOOL_SHAPED = re.compile(
    r"^(?:list|get|scan|read|search|generate|validate|apply|undo|simulate|render|export)_(?![a-z]*with$)[a-z_]+$"
    r"|^[a-z_]+_(?:metrics|budget|matrix|automation|design)$"
)


@pytest.mark.parametrize("name", NAMES)
def test_every_tool_a_phase_needs_is_named_in_a_step(name):
    text = prompts.prompt_text(name)
    in_steps = {t for _heading, body in _steps(text) for t in registry.names() if f"`{t}`" in body}
    assert NEEDED[name] <= in_steps, NEEDED[name] - in_steps
    bullets = {n for line in _tools_section(text).splitlines() if line.startswith("- ")
               for n in re.findall(r"`([a-z_]+)`", line.split(":", 1)[0])}
    assert in_steps <= bullets, in_steps - bullets  # the Tools section introduces every tool a step calls


@pytest.mark.parametrize("name", NAMES)
def test_every_tool_named_in_a_prompt_exists_on_the_server(name):
    text = prompts.prompt_text(name)
    named = {n for n in re.findall(r"`([a-z][a-z0-9_]*)`", text) if TOOL_SHAPED.match(n)}
    assert named and named <= set(registry.names()), named - set(registry.names())


@pytest.mark.anyio
async def test_resources_named_in_the_prompts_are_served(build):
    async with Client(build()) as client:
        served = {str(r.uri) for r in (await client.list_resources()).resources}
    for name in NAMES:
        named = set(re.findall(r"`((?:template|orchestrator-kit)://[^`]+)`", prompts.prompt_text(name)))
        assert named <= served, named - served
    workflow = prompts.prompt_text("workflow-orchestrator")
    assert "`orchestrator-kit://schemas/workflow-design-v1.json`" in workflow


def test_writing_is_only_through_a_reviewed_plan():
    text = prompts.prompt_text("process-orchestrator")
    rule = text.split("6. **", 1)[1].split("\n## ", 1)[0]
    assert "`generate_automation` writes nothing" in rule and "`plan_hash`" in rule
    assert "only\n   when the user asked" in rule or "only when the user asked" in rule.replace("\n   ", " ")
    assert "read-only" in rule
