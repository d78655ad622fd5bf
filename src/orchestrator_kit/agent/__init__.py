"""`orchestrator-kit run`: Claude drives the process-orchestrator or workflow-orchestrator over our MCP server.

`check_grounding(report, tool_results)` is the grounding check (a grader
for the evals too), and `check_report_file(report, transcript)` runs it on saved files.
"""

from __future__ import annotations

from .budget import BudgetStop as BudgetStop
from .budget import Limits as Limits
from .grounding import Claim as Claim
from .grounding import GroundingResult as GroundingResult
from .grounding import check_grounding as check_grounding
from .report import AgentReport as AgentReport
from .settings import DEFAULT_MODEL as DEFAULT_MODEL
from .settings import resolve_model as resolve_model


def check_report_file(report: str, transcript: str) -> GroundingResult:
    """The grounding check of a saved report (Markdown, or the JSON `orchestrator-kit run` saves) against the tool
    results of a transcript.jsonl."""
    from .checkfiles import check_report_file as check

    result: GroundingResult = check(report, transcript)
    return result


__all__ = [
    "DEFAULT_MODEL", "AgentReport", "BudgetStop", "Claim", "GroundingResult", "Limits", "check_grounding",
    "check_report_file", "resolve_model",
]
