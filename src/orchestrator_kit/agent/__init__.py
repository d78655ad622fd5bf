"""`orchestrator-kit run`: Claude drives the process-orchestrator or workflow-orchestrator over our MCP server.

The library entry point is `run_agent(RunOptions(...))`, which the CLI and the evals both call; it imports the
anthropic SDK and the MCP client only when it runs. `check_grounding(report, tool_results)` is the grounding check (a
grader for the evals too), and `check_report_file(report, transcript)` runs it on saved files.
"""

from __future__ import annotations

from .budget import BudgetStop as BudgetStop
from .budget import Limits as Limits
from .checkfiles import check_report_file as check_report_file
from .grounding import Claim as Claim
from .grounding import GroundingResult as GroundingResult
from .grounding import check_grounding as check_grounding
from .report import AgentReport as AgentReport
from .runner import Observer as Observer
from .runner import RunOptions as RunOptions
from .runner import RunResult as RunResult
from .runner import run_agent as run_agent
from .runner import run_agent_async as run_agent_async
from .settings import DEFAULT_MODEL as DEFAULT_MODEL
from .settings import resolve_model as resolve_model

__all__ = [
    "DEFAULT_MODEL",
    "AgentReport",
    "BudgetStop",
    "Claim",
    "GroundingResult",
    "Limits",
    "Observer",
    "RunOptions",
    "RunResult",
    "check_grounding",
    "check_report_file",
    "resolve_model",
    "run_agent",
    "run_agent_async",
]
