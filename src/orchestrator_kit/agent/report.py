"""The agent's final answer as data: the report templates as pydantic models, parsed from the Markdown the model wrote.

The templates are the ones in `orchestrator_kit/prompts/templates/` (process automation plan, orchestration
architecture, implementation script, workflow design report). The Markdown is split into a tree of headings (fenced
code is never read as a heading); each template section is found by its heading title, ignoring case, numbering and
punctuation, and kept as Markdown text (lists as lists of items; the opportunity matrix and the state machine as
table rows, each cell under its header). A template section the report lacks is named in
`missing_sections`, so a partial report says what it is missing instead of failing to parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from .grounding import FENCE, GroundingResult

HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")  # the closing #s are stripped in code (no backtracking)
BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
FIELD_LINE = re.compile(r"^\s*\**(?P<name>Current State|Proposed State|Expected Benefits|Current state|Issues found|"
                        r"Design decisions|Design)\**\s*:\s*\**\s*(?P<value>.*)$", re.IGNORECASE)


@dataclass
class Node:
    """A heading and what follows it up to the next heading of the same or a higher level."""

    title: str
    level: int
    body: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    @property
    def key(self) -> str:
        return normalize(self.title)

    def text(self) -> str:
        """The body and every sub-section, as Markdown."""
        parts = ["\n".join(self.body).strip()]
        for child in self.children:
            parts.append(f"{'#' * child.level} {child.title}\n{child.text()}".strip())
        return "\n\n".join(p for p in parts if p)

    def walk(self) -> Iterator[Node]:
        for child in self.children:
            yield child
            yield from child.walk()

    def find(self, *keys: str) -> Node | None:
        return next((n for n in self.walk() if any(n.key.startswith(k) for k in keys)), None)

    def items(self) -> list[str]:
        """The top-level list items of the body and of its sub-sections."""
        found = [m.group(1).strip() for line in self.body if (m := BULLET.match(line)) and not line.startswith("  ")]
        for child in self.children:
            found.extend(child.items())
        return found


def normalize(title: str) -> str:
    """'## 3. State Machine' -> 'state machine'; 'Quick Wins (by the tool)' -> 'quick wins (by the tool)'."""
    title = re.sub(r"^[\d.\s]+", "", title.strip().strip("*_`"))
    return re.sub(r"\s+", " ", title).strip().lower()


def parse_tree(markdown: str) -> Node:
    """The heading tree of `markdown` (the root has level 0 and holds the text before the first heading)."""
    root = Node("", 0)
    stack = [root]
    fence: str | None = None
    for line in markdown.splitlines():
        opening = FENCE.match(line)
        if opening:
            marker = opening.group(1)[0] * 3
            fence = marker if fence is None else (None if marker == fence else fence)
        heading = HEADING.match(line) if fence is None and not opening else None
        if heading is None:
            stack[-1].body.append(line)
            continue
        node = Node(heading.group(2).rstrip().rstrip("#").strip(), len(heading.group(1)))
        while stack[-1].level >= node.level:
            stack.pop()
        stack[-1].children.append(node)
        stack.append(node)
    return root


# ---------------------------------------------------------------- the templates


class Recommendation(BaseModel):
    name: str
    body: str


class WorkflowSteps(BaseModel):
    name: str
    steps: list[str]


class TableRow(BaseModel):
    """One row of a Markdown table: its first cell, and every cell by its header (lower case)."""

    first: str
    cells: dict[str, str]


class ProcessAutomationPlan(BaseModel):
    """templates/process-automation-plan.md"""

    current_state: str | None = None
    proposed_state: str | None = None
    expected_benefits: str | None = None
    workflows: list[WorkflowSteps] = Field(default_factory=list)
    pain_points: list[str] = Field(default_factory=list)
    opportunity_matrix: list[TableRow] = Field(default_factory=list)
    quick_wins: list[Recommendation] = Field(default_factory=list)
    medium_term: list[Recommendation] = Field(default_factory=list)
    long_term: list[Recommendation] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class OrchestrationArchitecture(BaseModel):
    """templates/orchestration-architecture.md"""

    workflow: str
    architecture_overview: str | None = None
    components: str | None = None
    error_handling: str | None = None


class ImplementationScript(BaseModel):
    """templates/implementation-script.md"""

    automation: str
    prerequisites: str | None = None
    installation: str | None = None
    configuration: str | None = None
    usage: str | None = None
    monitoring: str | None = None
    validation: str | None = None


class StateRow(BaseModel):
    state: str
    cells: list[str]


class WorkflowDesignReport(BaseModel):
    """templates/workflow-design.md"""

    workflow_analysis: str | None = None
    proposed_solution: str | None = None
    state_machine: list[StateRow] = Field(default_factory=list)
    error_handling: str | None = None
    implementation_plan: str | None = None
    monitoring: str | None = None
    testing_strategy: str | None = None
    sources: list[str] = Field(default_factory=list)


AgentName = Literal["process-orchestrator", "workflow-orchestrator"]
ReportStatus = Literal["complete", "partial"]


class AgentReport(BaseModel):
    """What `orchestrator-kit run` saves: the Markdown as written, the templates parsed from it, and the checks."""

    agent: AgentName
    run_id: str
    model: str
    status: ReportStatus
    stopped_by: str | None = Field(default=None, description="The budget (or interruption) that ended the run early.")
    markdown: str = Field(description="The report as the model wrote it.")
    process_automation_plan: ProcessAutomationPlan | None = None
    orchestration_architectures: list[OrchestrationArchitecture] = Field(default_factory=list)
    implementation_scripts: list[ImplementationScript] = Field(default_factory=list)
    workflow_design: WorkflowDesignReport | None = None
    missing_sections: list[str] = Field(default_factory=list)
    grounding: GroundingResult | None = None
    revised: bool = Field(default=False, description="True when a revision turn rewrote the report.")


PLAN_SECTIONS = ("executive summary", "current process analysis", "pain points", "automation opportunity matrix",
                 "automation recommendations", "sources")
DESIGN_SECTIONS = ("workflow analysis", "proposed solution", "state machine", "error handling",
                   "implementation plan", "monitoring", "testing strategy", "sources")


def _fields(node: Node | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in node.body if node else []:
        match = FIELD_LINE.match(line)
        if match:
            found[match.group("name").lower()] = match.group("value").strip()
    return found


def _recommendations(node: Node | None) -> list[Recommendation]:
    if node is None:
        return []
    found: list[Recommendation] = []
    for line in node.body:
        match = BULLET.match(line)
        if match and not line.startswith(" "):
            name = match.group(1).strip().strip("*").strip()
            found.append(Recommendation(name=name, body=""))
        elif found and line.strip():
            found[-1].body = (found[-1].body + "\n" + line.strip()).strip()
    return found


def table_rows(node: Node | None) -> list[TableRow]:
    """The rows of the first Markdown table in `node`'s body (header and separator rows left out)."""
    header: list[str] = []
    rows: list[TableRow] = []
    for line in node.body if node else []:
        if not line.strip().startswith("|"):
            if header and rows:
                break  # the table ended
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = [c.lower() for c in cells]
        elif not set("".join(cells)) <= set("-: "):
            rows.append(TableRow(first=cells[0], cells=dict(zip(header, cells, strict=False))))
    return rows


def _text(node: Node | None) -> str | None:
    return node.text() if node is not None else None


def parse_process_plan(tree: Node) -> tuple[ProcessAutomationPlan | None, list[str]]:
    present = {n.key.split(" (")[0] for n in tree.walk()}
    if not any(s in present for s in PLAN_SECTIONS[:5]):
        return None, list(PLAN_SECTIONS)
    summary = _fields(tree.find("executive summary"))
    analysis = tree.find("current process analysis")
    workflows = [
        WorkflowSteps(name=n.title.split(":", 1)[-1].strip(), steps=n.items())
        for n in (analysis.walk() if analysis else []) if n.key.startswith("workflow")
    ]
    plan = ProcessAutomationPlan(
        current_state=summary.get("current state"), proposed_state=summary.get("proposed state"),
        expected_benefits=summary.get("expected benefits"), workflows=workflows,
        pain_points=(tree.find("pain points") or Node("", 0)).items(),
        opportunity_matrix=table_rows(tree.find("automation opportunity matrix")),
        quick_wins=_recommendations(tree.find("quick wins")),
        medium_term=_recommendations(tree.find("medium-term", "medium term")),
        long_term=_recommendations(tree.find("long-term", "long term")),
        sources=(tree.find("sources") or Node("", 0)).items(),
    )
    return plan, [s for s in PLAN_SECTIONS if s not in present]


def parse_architectures(tree: Node) -> list[OrchestrationArchitecture]:
    found = []
    for node in tree.walk():
        keys = {c.key for c in node.children}
        if node.key.startswith("workflow") and ("architecture overview" in keys or "components" in keys):
            found.append(OrchestrationArchitecture(
                workflow=node.title.split(":", 1)[-1].strip(), architecture_overview=_text(node.find("architecture")),
                components=_text(node.find("components")), error_handling=_text(node.find("error handling"))))
    return found


def parse_scripts(tree: Node) -> list[ImplementationScript]:
    found = []
    for node in tree.walk():
        if node.key.startswith("automation:"):
            found.append(ImplementationScript(
                automation=node.title.split(":", 1)[-1].strip(), prerequisites=_text(node.find("prerequisites")),
                installation=_text(node.find("installation")), configuration=_text(node.find("configuration")),
                usage=_text(node.find("usage")), monitoring=_text(node.find("monitoring")),
                validation=_text(node.find("validation"))))
    return found


def parse_workflow_design(tree: Node) -> tuple[WorkflowDesignReport | None, list[str]]:
    present = {n.key for n in tree.walk()}
    if not any(s in present for s in DESIGN_SECTIONS[:3]):
        return None, list(DESIGN_SECTIONS)
    machine = tree.find("state machine")
    rows = []
    for line in machine.body if machine else []:
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.strip().startswith("|") else []
        if len(cells) > 1 and not set(cells[0]) <= set("-: ") and cells[0].lower() != "state":
            rows.append(StateRow(state=cells[0], cells=cells[1:]))
    design = WorkflowDesignReport(
        workflow_analysis=_text(tree.find("workflow analysis")),
        proposed_solution=_text(tree.find("proposed solution")),
        state_machine=rows, error_handling=_text(tree.find("error handling")),
        implementation_plan=_text(tree.find("implementation plan")), monitoring=_text(tree.find("monitoring")),
        testing_strategy=_text(tree.find("testing strategy")), sources=(tree.find("sources") or Node("", 0)).items(),
    )
    return design, [s for s in DESIGN_SECTIONS if s not in present]


def parse_report(markdown: str, *, agent: AgentName, run_id: str, model: str, status: ReportStatus = "complete",
                 stopped_by: str | None = None) -> AgentReport:
    """Parse the model's Markdown into the templates of `agent`."""
    tree = parse_tree(markdown)
    report = AgentReport(agent=agent, run_id=run_id, model=model, status=status, stopped_by=stopped_by,
                         markdown=markdown)
    if agent == "process-orchestrator":
        report.process_automation_plan, report.missing_sections = parse_process_plan(tree)
        report.orchestration_architectures = parse_architectures(tree)
        report.implementation_scripts = parse_scripts(tree)
    else:
        report.workflow_design, report.missing_sections = parse_workflow_design(tree)
    return report


def render_markdown(report: AgentReport) -> str:
    """The saved Markdown: a header with the run's facts, the report as written, and the grounding check."""
    head = [f"<!-- orchestrator-kit run {report.run_id}: {report.agent}, model {report.model} -->"]
    if report.status == "partial":
        head.append(f"> **Partial report**: the run stopped early ({report.stopped_by}); what follows is the last "
                    "answer the model gave before it stopped.")
    body = [*head, "", report.markdown.strip(), ""]
    grounding = report.grounding
    if grounding is not None:
        verdict = "grounded" if grounding.grounded else "NOT grounded"
        body += [
            "## Grounding check",
            f"{verdict}: {grounding.claims} claims, {grounding.supported} supported by tool results, "
            f"{grounding.labelled} labelled (assumption, estimate, goal, not measured), "
            f"{grounding.unsupported} unsupported" + (" (after one revision turn)." if report.revised else "."),
        ]
        for claim in grounding.unsupported_claims:
            body.append(f"- unsupported {claim.kind} `{claim.text}` (line {claim.line}): {claim.sentence}")
        body.append("")
    return "\n".join(body)
