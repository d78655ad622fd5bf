"""The run as a small state machine: the agent's phases, then the report, then (at most once) its revision.

    process-orchestrator:  discovery -> assessment -> design -> implementation -> report [-> revision] -> done
    workflow-orchestrator: context -> analysis -> design -> reliability -> documentation -> report [-> revision]
                           -> done

Each stage starts with one user message (its kickoff, below) and lasts as long as the model keeps calling tools; the
first answer without a tool call ends it. `report` asks for the final report in the prompt's templates; `revision` is
entered only when the grounding check found unsupported claims, and only once. A run can leave any stage for
`stopped` (a budget), `interrupted` (Ctrl-C) or `failed` (an API error after the SDK's retries); all three keep the
checkpoint, so `--resume` continues from the stage and turn they left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InputError
from .report import AgentName

RunStatus = Literal["running", "done", "stopped", "interrupted", "failed"]
AGENTS: tuple[AgentName, ...] = ("process-orchestrator", "workflow-orchestrator")
REPORT, REVISION, DONE = "report", "revision", "done"


@dataclass(frozen=True)
class Phase:
    name: str
    goal: str


PHASES: dict[AgentName, tuple[Phase, ...]] = {
    "process-orchestrator": (
        Phase("discovery", "Phase 1, process discovery: list the roots, scan the repository, list its pipelines, "
              "tasks, schedules, infrastructure and manual procedures, and measure it with git_metrics and "
              "pipeline_metrics."),
        Phase("assessment", "Phase 2, automation opportunity assessment: call opportunity_matrix and categorize each "
              "candidate (fully automatable, augmentable, must remain manual) with its evidence and risk."),
        Phase("design", "Phase 3, orchestration design: design the target workflow for the best candidates, reusing "
              "the pipelines and tasks the tools found; check each decision against the files with read_file."),
        Phase("implementation", "Phase 4, implementation: generate the automation with generate_automation (diff, "
              "validators' findings, plan_hash) and check every name it relies on with search_repository. Apply only "
              "what the task asks to apply, with apply_automation and the plan_hash of the reviewed plan."),
    ),
    "workflow-orchestrator": (
        Phase("context", "Step 1, establish the context: list the roots, scan the repository, and find the process "
              "to orchestrate with list_pipelines, list_manual_procedures and search_repository."),
        Phase("analysis", "Step 2, analyze the current workflows: job graphs, procedures, existing error handling, "
              "transaction boundaries, bottlenecks and failure points, each with evidence."),
        Phase("design", "Step 3, design the orchestration as a WorkflowDesign following the schema resource, and "
              "check it with validate_workflow_design until it has no errors."),
        Phase("reliability", "Step 4, reliability: run simulate_workflow_failures on the design and fix what leaves "
              "an inconsistent end state; render it with render_workflow_diagram."),
        Phase("documentation", "Step 5, documentation: collect what the report needs (diagrams, exports, the "
              "validation and simulation results) with the tools."),
    ),
}


def stages(agent: AgentName) -> list[str]:
    """Every stage of `agent`'s run, in order (revision included; it is skipped when the report is grounded)."""
    return [p.name for p in PHASES[agent]] + [REPORT, REVISION]


def check_agent(name: str) -> AgentName:
    if name not in AGENTS:
        raise InputError(f"Unknown agent '{name}'; choose process-orchestrator or workflow-orchestrator.")
    return name


def next_stage(agent: AgentName, stage: str, *, grounded: bool | None = None, revised: bool = False) -> str:
    """The stage after `stage`. After `report` the run is done when the report is grounded (or was revised
    already), else it goes to `revision`; after `revision` it is done."""
    order = stages(agent)
    if stage not in order:
        raise InputError(f"'{stage}' is not a stage of {agent} (stages: {', '.join(order)}).")
    if stage == REPORT:
        return DONE if grounded or revised else REVISION
    if stage == REVISION:
        return DONE
    return order[order.index(stage) + 1]


def kickoff(agent: AgentName, stage: str, *, repository: str, task: str | None, allow_writes: bool) -> str:
    """The user message that starts `stage` (not used for `revision`, whose message lists the failed claims)."""
    phases = PHASES[agent]
    names = [p.name for p in phases]
    if stage == names[0]:
        writes = ("The server may write: apply only what the task asks for, after generate_automation showed the "
                  "diff." if allow_writes else "The server is read-only: the diffs are the deliverable.")
        return (
            f"Repository: {repository}\nTask: {task or 'Run your whole process on this repository.'}\n\n"
            f"This is a headless run with {len(phases)} phases, then the report. {writes} Work on one phase at a "
            "time: call the tools it needs, and when the phase is done answer with a short summary of what the "
            "tools showed (with path:line evidence) and no tool call.\n\n" + phases[0].goal
        )
    if stage in names:
        return f"Continue with the next phase. {phases[names.index(stage)].goal}"
    if stage == REPORT:
        return ("All phases are done. Write the final report now, in the output templates of your instructions, "
                "with every number and path:line taken from the tool results above, or labelled as an assumption, "
                "an estimate, a goal or \"not measured\". End with the Sources section. Answer with the report only.")
    raise InputError(f"The stage '{stage}' has no kickoff message.")
