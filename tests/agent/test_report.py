"""The final answer parsed into the report templates, and rendered back with the grounding verdict."""

from __future__ import annotations

from orchestrator_kit.agent.grounding import check_grounding
from orchestrator_kit.agent.report import parse_report, render_markdown

PLAN = """## Executive Summary
Current State: 3 pipelines and 2 manual procedures (scan_repository).
Proposed State: the release runbook as a workflow.
Expected Benefits: not measured.

## Current Process Analysis
### Workflow: Release
1. **Step 1**: tag the release (Manual) - Evidence: docs/RELEASE.md:5 - Duration: not measured
2. **Step 2**: build the image (Automated) - Evidence: .github/workflows/ci.yml:10 - Duration: not measured

### Pain Points
- 🔴 Manual deploy - Evidence: docs/RELEASE.md:9

## Automation Opportunity Matrix
| Task | Evidence | Tool's priority | Judgement | Id |
|------|----------|-----------------|-----------|----|
| Automate 'Release' | docs/RELEASE.md:5 | high (payback 2.1 months) | agree | opp-1234567890 |
| Schedule 'backup' | Makefile:3 | low (payback never) | medium: the restore drill needs it | opp-abcdef0123 |

Formulas: priority from the expected payback.

## Automation Recommendations

### Quick Wins (rows with quick_win true)
1. **Release workflow**
   - What: run the runbook's commands on a tag
```yaml
# ## not a heading: inside a fence
on: push
```

### Medium-term (other rows the tool ranks high or medium)
1. **Nightly backup timer**

## Workflow: Release pipeline

### Architecture Overview
```
[Tag] -> [Build] -> [Deploy]
```

### Components
1. **Triggers**

### Error Handling
- Retry Policy: none today

## Automation: release.sh

### Prerequisites
- bash

### Validation
- shellcheck: no findings

## Sources
- scan_repository (repository=.): counts
- read_file (path=docs/RELEASE.md): the runbook
"""

DESIGN = """## 1. Workflow Analysis
Current state: one deploy job.

## 2. Proposed Solution
Design decisions: a saga.

## 3. State Machine
| State | Type (task/wait/choice/terminal) | On success | On failure | Timeout | Evidence |
|-------|----------------------------------|------------|------------|---------|----------|
| build | task | deploy | failed | Goal: 10 min | ci.yml:3 |
| deploy | task | done | rollback | Goal: 20 min | ci.yml:9 |

## 4. Error Handling
- Retries: build

## Sources
- validate_workflow_design: no errors
"""


def test_process_plan_architecture_and_scripts() -> None:
    report = parse_report(PLAN, agent="process-orchestrator", run_id="r", model="m")
    plan = report.process_automation_plan
    assert plan is not None
    assert plan.current_state and plan.current_state.startswith("3 pipelines")
    assert plan.expected_benefits == "not measured."
    assert [w.name for w in plan.workflows] == ["Release"] and len(plan.workflows[0].steps) == 2
    assert plan.pain_points == ["🔴 Manual deploy - Evidence: docs/RELEASE.md:9"]
    assert [(r.first, r.cells["id"], r.cells["judgement"]) for r in plan.opportunity_matrix] == [
        ("Automate 'Release'", "opp-1234567890", "agree"),
        ("Schedule 'backup'", "opp-abcdef0123", "medium: the restore drill needs it")]
    assert plan.opportunity_matrix[0].cells["tool's priority"] == "high (payback 2.1 months)"
    assert [r.name for r in plan.quick_wins] == ["Release workflow"]
    assert "on: push" in plan.quick_wins[0].body
    assert [r.name for r in plan.medium_term] == ["Nightly backup timer"] and plan.long_term == []
    assert len(plan.sources) == 2
    assert [a.workflow for a in report.orchestration_architectures] == ["Release pipeline"]
    assert "[Tag]" in (report.orchestration_architectures[0].architecture_overview or "")
    assert [s.automation for s in report.implementation_scripts] == ["release.sh"]
    assert report.missing_sections == []


def test_workflow_design_report() -> None:
    report = parse_report(DESIGN, agent="workflow-orchestrator", run_id="r", model="m")
    design = report.workflow_design
    assert design is not None
    assert [row.state for row in design.state_machine] == ["build", "deploy"]
    assert design.state_machine[1].cells[2] == "rollback"
    assert report.missing_sections == ["implementation plan", "monitoring", "testing strategy"]


def test_an_answer_that_is_no_report_is_kept_with_every_section_missing() -> None:
    report = parse_report("I could not finish.", agent="process-orchestrator", run_id="r", model="m",
                          status="partial", stopped_by="budget max-turns reached: 3 of 3 turns")
    assert report.process_automation_plan is None
    assert "executive summary" in report.missing_sections
    text = render_markdown(report)
    assert "Partial report" in text and "max-turns" in text and "I could not finish." in text


def test_rendered_markdown_carries_the_grounding_verdict() -> None:
    report = parse_report(PLAN, agent="process-orchestrator", run_id="r", model="m")
    report.grounding = check_grounding(PLAN, ['{"pipelines": 3, "procedures": 2}'])
    text = render_markdown(report)
    assert "## Grounding check" in text and "NOT grounded" in text
    assert "unsupported location `docs/RELEASE.md:5`" in text
