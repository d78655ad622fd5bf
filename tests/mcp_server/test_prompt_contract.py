"""What the prompts ask of a model, checked against what the code can give: the quick-win numbers are the scorer's, the
report layout parses with the runner's parser, and every field the workflow prompt names exists in the design schema
or in a tool's arguments or results."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from orchestrator_kit.agent.report import parse_report
from orchestrator_kit.design.model import json_schema
from orchestrator_kit.mcp_tools import prompts
from orchestrator_kit.opportunities import FORMULAS
from orchestrator_kit.opportunities.scoring import (
    QUICK_WIN_MAX_EFFORT_HOURS,
    QUICK_WIN_MAX_PAYBACK_MONTHS,
    QUICK_WIN_MAX_RISK,
)
from orchestrator_kit.server import registry

ROOT = Path(__file__).resolve().parents[2]
PROCESS = prompts.prompt_text("process-orchestrator")
WORKFLOW = prompts.prompt_text("workflow-orchestrator")

# ---------------------------------------------------------------- one definition of a quick win

QUICK = re.compile(r"quick[ _-]wins?", re.IGNORECASE)
BOUNDS = {
    "effort": re.compile(r"effort(?:_hours)?\s*<=\s*(\d+)"),
    "risk": re.compile(r"risk\s*<=\s*(\d+)"),
    "payback": re.compile(r"payback\s*<=\s*(\d+)\s*months"),
}
EXPECTED = {"effort": QUICK_WIN_MAX_EFFORT_HOURS, "risk": QUICK_WIN_MAX_RISK, "payback": QUICK_WIN_MAX_PAYBACK_MONTHS}


def _texts() -> dict[str, str]:
    """Every text a model or a reader meets that may define a quick win: prompts, templates, agents, README, the
    package's code (tool descriptions, graders, scripted transcripts) and the tests' report fixtures."""
    files = [*(ROOT / "src" / "orchestrator_kit").rglob("*.md"), *(ROOT / "src" / "orchestrator_kit").rglob("*.py"),
             *(ROOT / "prompts").rglob("*.md"), *(ROOT / "agents").glob("*.md"), ROOT / "README.md",
             *(ROOT / "tests" / "agent").glob("*.py"), *(ROOT / "tests" / "agentevals").glob("*.py")]
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in files}


def _definitions(text: str) -> list[dict[str, int]]:
    """The bounds stated within 200 characters after each mention of a quick win."""
    found = []
    for match in QUICK.finditer(text):
        window = text[match.start():match.start() + 200]
        bounds = {name: int(m.group(1)) for name, pattern in BOUNDS.items() if (m := pattern.search(window))}
        if bounds:
            found.append(bounds)
    return found


def test_the_quick_win_numbers_everywhere_are_the_scorers():
    texts = _texts()
    for path, text in texts.items():
        for bounds in _definitions(text):
            assert bounds == {k: EXPECTED[k] for k in bounds}, f"{path}: a quick win defined as {bounds}"
        # A tier heading that defines quick wins by a judged effort contradicts the scorer.
        assert not re.search(r"quick wins?\s*\(effort", text, re.IGNORECASE), path
    full = {k: EXPECTED[k] for k in BOUNDS}
    assert full in _definitions(PROCESS)  # the prompt states the whole rule
    assert _definitions("quick win: " + FORMULAS["quick_win"]) == [full]  # the formula every result states
    # The tool description the model reads states it too (server.py's opportunity_matrix docstring).
    assert full in _definitions(texts["src/orchestrator_kit/server.py"])


def test_the_quick_win_tier_is_the_tools_flag():
    template = prompts.template_text("process-automation-plan")
    heading = next(line for line in template.splitlines() if line.startswith("### Quick Wins"))
    assert "quick_win true" in heading
    assert "None: no row has quick_win true" in PROCESS and "never call another row a\n   quick win" in PROCESS


# ---------------------------------------------------------------- the report layout


def _layout_report() -> str:
    """A report laid out as the prompt says: the plan, one architecture, one implementation script, Sources last."""
    return "\n\n".join([
        prompts.template_text("process-automation-plan"), prompts.template_text("orchestration-architecture"),
        prompts.template_text("implementation-script"), "## Sources\n- scan_repository (repository=.): the counts\n",
    ])


def test_the_layout_the_prompt_describes_parses_with_the_runners_parser():
    report = parse_report(_layout_report(), agent="process-orchestrator", run_id="r", model="m")
    assert report.missing_sections == []
    plan = report.process_automation_plan
    assert plan is not None
    assert len(plan.opportunity_matrix) == 1
    row = plan.opportunity_matrix[0].cells
    assert {"task", "evidence", "tool's priority", "judgement", "id"} <= set(row)
    assert row["judgement"].startswith("[agree")
    assert [r.name for r in plan.quick_wins] == ["[Automation Name]** ([opportunity id])"]
    assert "Tool's priority:" in plan.quick_wins[0].body and "Judgement:" in plan.quick_wins[0].body
    assert plan.sources == ["scan_repository (repository=.): the counts"]
    assert [a.workflow for a in report.orchestration_architectures] == ["[Name]"]
    assert [s.automation for s in report.implementation_scripts] == ["[Name]"]
    # The layout names the headings the parser keys on, in that order.
    layout = PROCESS.split("## Output templates", 1)[1].split("### Process Automation Plan", 1)[0]
    order = [layout.index(h) for h in ("Automation\n   Opportunity Matrix", "`## Workflow: <name>`",
                                       "`## Automation: <name>`", "`## Sources`")]
    assert order == sorted(order)


def test_a_plan_without_its_matrix_is_missing_a_section():
    text = _layout_report().replace("## Automation Opportunity Matrix", "## Something else")
    report = parse_report(text, agent="process-orchestrator", run_id="r", model="m")
    assert report.missing_sections == ["automation opportunity matrix"]


def test_no_generator_and_new_names_are_spelled_out():
    phase4 = PROCESS.split("## Phase 4", 1)[1].split("\n## ", 1)[0]
    assert "CircleCI" in phase4 and "do not generate for another\nCI system" in phase4
    assert "never write that it was validated" in phase4
    assert '"(new)"' in phase4 and '"(new)"' in PROCESS.split("8. **", 1)[1].split("\n## ", 1)[0]
    assert 'marked "(new)"' in prompts.template_text("process-automation-plan")


# ---------------------------------------------------------------- the workflow prompt and the design schema


def _walk(node: Any, found: set[str], values: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in (node.get("properties") or {}).items():
            found.add(key)
            _walk(value, found, values)
        for key in ("const", "enum"):
            if key in node:
                values.update(str(v) for v in (node[key] if key == "enum" else [node[key]]))
        for key, value in node.items():
            if key != "properties":
                _walk(value, found, values)
    elif isinstance(node, list):
        for item in node:
            _walk(item, found, values)


SCHEMA = json_schema()
DESIGN_FIELDS: set[str] = set()
DESIGN_VALUES: set[str] = set()
_walk(SCHEMA, DESIGN_FIELDS, DESIGN_VALUES)


def _resolve(path: list[str], schema: dict[str, Any] = SCHEMA) -> bool:
    """Whether `a.b.c` is a chain of properties somewhere in the design schema (through $refs and unions)."""
    defs = schema["$defs"]

    def props(node: Any) -> list[dict[str, Any]]:
        if not isinstance(node, dict):
            return []
        if "$ref" in node:
            return props(defs[node["$ref"].rsplit("/", 1)[-1]])
        found = [node["properties"]] if "properties" in node else []
        for key in ("anyOf", "oneOf", "allOf"):
            for option in node.get(key, []):
                found += props(option)
        if "items" in node:
            found += props(node["items"])
        return found

    def holds(nodes: list[dict[str, Any]], rest: list[str]) -> bool:
        if not rest:
            return True
        return any(rest[0] in n and holds(props(n[rest[0]]), rest[1:]) for n in nodes)

    return any(holds([d["properties"]], path) for d in [*defs.values(), schema] if "properties" in d)


FIELD = re.compile(r"^[a-z][a-z_]*(?:\.[a-z_]+)*$")
SETTING = re.compile(r"^(?P<name>[a-z_]+): (?P<value>\S+)$")


def _design_paragraphs() -> str:
    """The parts of the workflow prompt that tell the model what to write into a design."""
    step3 = WORKFLOW.split("3. **Design the orchestration**", 1)[1].split("4. **", 1)[0]
    step4 = WORKFLOW.split("4. **Add reliability measures**", 1)[1].split("5. **", 1)[0]
    practices = WORKFLOW.split("## Best practices", 1)[1].split("\n## ", 1)[0]
    return step3 + step4 + practices


@pytest.mark.anyio
async def test_every_name_the_workflow_prompt_uses_exists(build):
    async with Client(build()) as client:
        tools = (await client.list_tools()).tools
    tool_fields: set[str] = set()
    for tool in tools:
        _walk(tool.input_schema, tool_fields, set())
        _walk(tool.output_schema or {}, tool_fields, set())
    names = set(registry.names())
    known = names | tool_fields | DESIGN_FIELDS | DESIGN_VALUES
    design_part = _design_paragraphs()
    checked = 0
    for token in re.findall(r"`([^`\n]+)`", WORKFLOW):
        setting = SETTING.match(token)
        if setting:
            assert setting.group("name") in DESIGN_FIELDS, token
            value = setting.group("value")
            assert value.startswith("$.") or value in DESIGN_VALUES, token
            checked += 1
            continue
        if not FIELD.match(token):
            continue
        checked += 1
        if "." in token:
            assert _resolve(token.split(".")), f"`{token}` is no path of the design schema"
            continue
        assert token in known, f"`{token}` is neither a tool, a tool's field nor a design field"
        if f"`{token}`" in design_part and token not in names:
            assert token in DESIGN_FIELDS | DESIGN_VALUES or token in tool_fields, token
    assert checked >= 30
    # What the design paragraphs ask to write into a design is a design field, never only a tool's result field.
    step3 = WORKFLOW.split("3. **Design the orchestration**", 1)[1].split("   - Place the design", 1)[0]
    step4 = WORKFLOW.split("4. **Add reliability measures**", 1)[1].split("   - Prove recovery", 1)[0]
    asked = set(re.findall(r"`([a-z_]+)`", step3 + step4)) - names
    assert asked and asked <= DESIGN_FIELDS | DESIGN_VALUES, asked - DESIGN_FIELDS - DESIGN_VALUES
    assert {"correlation_key", "audit", "concurrency", "approval", "inputs"} <= asked


def test_correlation_audit_and_concurrency_sit_where_the_schema_puts_them():
    defs = SCHEMA["$defs"]
    assert "correlation_key" in defs["WaitState"]["properties"]
    assert "`correlation_key` on a `wait` state with\n     `events`" in WORKFLOW
    audited = {name for name, d in defs.items() if "audit" in d.get("properties", {})}
    assert audited == {"TaskState", "HumanTaskState"}
    assert "`audit` on each `task` and\n     `human_task`" in WORKFLOW
    assert "audit records of every transition" not in WORKFLOW  # the schema has no audit on transitions
    assert set(defs["Concurrency"]["properties"]) == {"key", "limit", "on_conflict"}
    assert "`concurrency` (`key`, `limit`, `on_conflict`: queue or reject)" in WORKFLOW
    assert set(defs["Concurrency"]["properties"]["on_conflict"]["enum"]) == {"queue", "reject"}
    # A workflow has no owner field: the prompt names the owning team in the report instead.
    assert {name for name, d in defs.items() if "owner" in d.get("properties", {})} == {"HumanTaskState"}
    assert "owner" not in SCHEMA["properties"] and "`owner` only on human tasks" in WORKFLOW
    # A circuit breaker has no field: the prompt says to write it as prose.
    assert "circuit" not in str(SCHEMA).lower()
    breaker = WORKFLOW.lower().split("circuit breaker", 1)[1][:200]
    assert "as prose" in breaker


def test_the_state_types_of_the_report_template_are_the_schemas():
    template = prompts.template_text("workflow-design")
    listed = re.search(r"\| Type \(([^)]*)\)", template)
    assert listed is not None
    types = {t.strip() for t in listed.group(1).split(",")}
    mapping = SCHEMA["properties"]["states"]["items"]["discriminator"]["mapping"]
    assert types == set(mapping)


@pytest.mark.anyio
async def test_every_field_the_process_prompt_names_is_a_tools(build):
    async with Client(build()) as client:
        tools = (await client.list_tools()).tools
    known = set(registry.names())
    for tool in tools:
        _walk(tool.input_schema, known, set())
        _walk(tool.output_schema or {}, known, set())
    named = {t for t in re.findall(r"`([^`\n]+)`", PROCESS) if FIELD.match(t) and "." not in t}
    assert len(named) >= 30 and named <= known, named - known
