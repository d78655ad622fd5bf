"""`orchestrator-kit run` (Claude drives an agent over our MCP server) and `orchestrator-kit check-report`.

Exit codes of `run`: 0 a grounded report; 1 a report saved ungrounded, or partial because a budget stopped the run;
2 usage or input error, no API key, or an API error after the SDK's retries (the run is saved: resume it); 130
interrupted (the run is saved; the resume command is printed). `check-report`: 0 grounded, 1 unsupported claims, 2 bad
input. Both import the anthropic SDK and the MCP client only inside the command.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import OrchestratorError
from .common import TextFormat, echo, fail

if TYPE_CHECKING:
    from ..agent import RunResult


class Agent(StrEnum):
    process_orchestrator = "process-orchestrator"
    workflow_orchestrator = "workflow-orchestrator"


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("check-report")(check_report)


def run(
    agent: Annotated[Agent, typer.Argument(metavar="AGENT", help="process-orchestrator or workflow-orchestrator.")],
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The repository the agent works on.")],
    task: Annotated[str | None, typer.Option(help="What to do (default: the agent's whole process).")] = None,
    model: Annotated[str | None, typer.Option(help="Model id (default: $ORCHESTRATOR_KIT_MODEL, else "
                                              "the documented default).")] = None,
    max_turns: Annotated[int | None, typer.Option(min=1, help="Stop after this many model answers.")] = None,
    max_tokens_total: Annotated[int | None, typer.Option(min=1, help="Stop once input + output + cache tokens "
                                                         "reach this total.")] = None,
    max_cost_usd: Annotated[float | None, typer.Option(min=0.0001, help="Stop once the estimated cost reaches "
                                                       "this many US dollars.")] = None,
    allow_writes: Annotated[bool, typer.Option("--allow-writes", help="Serve the writing tools (apply_automation, "
                                               "undo_automation); without it the MCP server is read-only.")] = False,
    resume: Annotated[str | None, typer.Option(metavar="RUN_ID", help="Continue a stopped, interrupted or killed "
                                               "run from its last complete turn.")] = None,
    output: Annotated[Path | None, typer.Option(metavar="DIR", help="Save report.md and report.json here "
                                                "(default: the run's folder).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live view (for CI).")] = False,
    output_format: Annotated[TextFormat, typer.Option("--format", help="json prints the result object on "
                                                        "standard output.")] = TextFormat.text,
) -> None:
    """Let Claude run an agent on PATH with this project's MCP tools: phases, a grounded report, checkpoints in
    .orchestrator-kit/runs/<run id>/. Needs ANTHROPIC_API_KEY (ANTHROPIC_BASE_URL for another endpoint)."""
    from ..agent import Limits, RunOptions, run_agent

    options = RunOptions(
        agent=agent.value, repository=path, task=task, model=model, allow_writes=allow_writes, resume=resume,
        output=output, limits=Limits(max_turns=max_turns, max_tokens_total=max_tokens_total,
                                     max_cost_usd=max_cost_usd),
    )
    try:
        if quiet:
            result = run_agent(options)
        else:
            from ..agent.view import LiveView

            with LiveView() as view:
                options.observer = view
                result = run_agent(options)
    except OrchestratorError as exc:
        fail(str(exc))
    if output_format is TextFormat.json:
        echo(result.model_dump_json(indent=2))
    _summary(result)
    raise typer.Exit(result.exit_code)


def _summary(result: RunResult) -> None:
    usage = result.usage
    lines = [f"Run {result.run_id}: {result.status} at stage {result.stage} after {result.turns} turns; tokens "
             f"{usage.total:,} (cached read {usage.cache_read_input_tokens:,}), ${usage.cost_usd:.4f} "
             f"({result.cost_note})."]
    if result.stopped_by is not None:
        lines.append(f"Stopped: {result.stopped_by.describe()}; a partial report was saved.")
    if result.error:
        lines.append(f"Error: {result.error}")
    if result.report_markdown:
        verdict = "grounded" if result.grounded else f"NOT grounded ({result.unsupported} unsupported claims)"
        lines.append(f"Report ({verdict}, {result.claims} claims): {result.report_markdown}")
    if result.resume_command:
        lines.append(f"Resume with: {result.resume_command}")
    echo("\n".join(lines), err=True)


def check_report(
    report: Annotated[Path, typer.Argument(metavar="REPORT", help="A report (Markdown, or the report.json a run "
                                           "saved).")],
    transcript: Annotated[Path, typer.Option(metavar="FILE", help="The run's transcript.jsonl.")],
    output_format: Annotated[TextFormat, typer.Option("--format", help="json prints every claim.")] = (
        TextFormat.text
    ),
) -> None:
    """Check that every number and path:line of REPORT appears in a tool result of the transcript, or is labelled an
    assumption, estimate, goal or "not measured". Exit 1 when a claim is unsupported."""
    from ..agent import check_report_file

    try:
        result = check_report_file(report, transcript)
    except (OrchestratorError, ValueError) as exc:
        fail(str(exc))
    if output_format is TextFormat.json:
        echo(result.model_dump_json(indent=2))
    else:
        verdict = "grounded" if result.grounded else "NOT grounded"
        echo(f"{verdict}: {result.claims} claims, {result.supported} supported, {result.labelled} labelled, "
                   f"{result.unsupported} unsupported (against {result.tool_results} tool results)")
        for claim in result.unsupported_claims:
            echo(f"line {claim.line}: unsupported {claim.kind} {claim.text!r}: {claim.sentence}")
    raise typer.Exit(0 if result.grounded else 1)
