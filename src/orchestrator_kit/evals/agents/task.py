"""The inspect-ai tasks of the agent evals: one sample per case (per case and scripted variant offline), solved by
our runner through the bridge (`bridge.InspectTransport`), scored by the code graders (`graders`).

Two tasks, because their graders differ: `process_agent_eval` (findings, quick_wins, grounding, safety, writes,
structure) and `workflow_agent_eval` (design, grounding, safety, writes, structure). Each also has `all`: 1 when
every grader passes; epochs reduce it (and each grader) with inspect's `mean`, `pass_at(k)` and `pass_k(k)` (pass^k).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, get_model
from inspect_ai.scorer import Score, Scorer, ScoreReducer, Target, mean, mean_score, pass_at, pass_k, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from ...agent.budget import Limits
from .cases import AgentCase
from .graders import GRADERS, Grade, Outcome, ToolCall
from .sandbox import SampleCache, Sandbox, collect
from .scripted import ACTIVE, GOOD, Script, variants

OUTCOME_KEY = "agent_eval_outcome"
PROCESS_GRADERS = ("findings", "quick_wins", "grounding", "safety", "writes", "structure")
DESIGN_GRADERS = ("design", "grounding", "safety", "writes", "structure")
# A real run is bounded: no case needs more (a full run of the process-orchestrator is about 20-40 turns).
EVAL_LIMITS = Limits(max_turns=60, max_tokens_total=3_000_000)


def runner_model() -> str:
    """The model id our runner records and prices: the eval model's name without its provider ('claude-...')."""
    return get_model().name


@solver
def run_case(cases: dict[str, AgentCase], samples: SampleCache, scripted: bool = False) -> Solver:
    """Build the case's sample in a fresh sandbox, run our runner on it (through the bridge), collect the outcome."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        import httpx2
        from inspect_ai.agent import agent_bridge

        from ...agent import RunOptions, run_agent_async
        from .bridge import InspectTransport

        case = cases[str(state.metadata["case"])]
        sandbox = Sandbox.create(samples.get(case))
        before = sandbox.snapshot()
        token = ACTIVE.set(Script(case, str(state.metadata.get("variant", GOOD)))) if scripted else None
        try:
            async with agent_bridge() as bridge:
                client = httpx2.AsyncClient(transport=InspectTransport(bridge), base_url="http://inspect-bridge.invalid")
                options = RunOptions(agent=case.agent, repository=sandbox.repo, task=case.task, model=runner_model(),
                                     allow_writes=case.allow_writes, base_dir=sandbox.runs, limits=EVAL_LIMITS,
                                     max_retries=0)
                result = await run_agent_async(options, api_key="inspect-bridge", http_client=client)
            outcome = collect(case, sandbox, before, Path(result.run_dir), result.report_json, result.status)
        finally:
            if token is not None:
                ACTIVE.reset(token)
            sandbox.remove()
        state.store.set(OUTCOME_KEY, dataclasses.asdict(outcome))
        state.metadata["run"] = {"status": result.status, "error": result.error, "turns": result.turns,
                                 "usage": result.usage.model_dump(), "grounded": result.grounded}
        state.output = ModelOutput.from_content(model=get_model().name, content=outcome.report or "(no report)")
        state.completed = True
        return state

    return solve


def outcome_of(state: TaskState) -> Outcome:
    data: dict[str, Any] = dict(state.store.get(OUTCOME_KEY) or {})
    if not data:
        return Outcome(agent="process-orchestrator", report="", status="failed")
    data["tool_calls"] = [ToolCall(**c) for c in data.get("tool_calls", [])]
    return Outcome(**data)


def _score(grade: Grade) -> Score:
    return Score(value=1.0 if grade.passed else 0.0, explanation=grade.explanation,
                 metadata={"value": grade.value, **grade.details})


def grader_scorer(name: str, cases: dict[str, AgentCase]) -> Scorer:
    @scorer(metrics=[mean()], name=name)
    def make() -> Scorer:
        async def score(state: TaskState, target: Target) -> Score:
            return _score(GRADERS[name](cases[str(state.metadata["case"])], outcome_of(state)))

        return score

    return make()


def all_scorer(names: tuple[str, ...], cases: dict[str, AgentCase]) -> Scorer:
    @scorer(metrics=[mean()], name="all")
    def make() -> Scorer:
        async def score(state: TaskState, target: Target) -> Score:
            case, outcome = cases[str(state.metadata["case"])], outcome_of(state)
            failed = [f"{n}: {g.explanation}" for n in names if not (g := GRADERS[n](case, outcome)).passed]
            return Score(value=0.0 if failed else 1.0, explanation="; ".join(failed) or "every grader passes")

        return score

    return make()


def agent_tasks(cases: list[AgentCase], *, scripted: bool = False, epochs: int = 1,
                samples: SampleCache | None = None) -> list[Task]:
    """The process and workflow tasks over `cases` (a task with no case is left out). Scripted: one sample per case
    and variant (good, then each failure mode), for the mockllm model with `scripted_model_outputs`."""
    cache = samples or SampleCache()
    tasks = []
    for name, agent, graders in (("process_agent_eval", "process-orchestrator", PROCESS_GRADERS),
                                 ("workflow_agent_eval", "workflow-orchestrator", DESIGN_GRADERS)):
        chosen = {c.id: c for c in cases if c.agent == agent}
        if not chosen:
            continue
        dataset = [
            Sample(id=f"{case.id}--{variant}" if scripted else case.id, input=case.task,
                   metadata={"case": case.id, "variant": variant, "repo": case.repo, "agent": agent})
            for case in chosen.values() for variant in (variants(case) if scripted else [GOOD])
        ]
        reducers: list[ScoreReducer] = [mean_score(), pass_at(epochs), pass_k(epochs)]
        tasks.append(Task(
            name=name, dataset=dataset, solver=run_case(chosen, cache, scripted),
            scorer=[grader_scorer(g, chosen) for g in graders] + [all_scorer(graders, chosen)],
            epochs=Epochs(epochs, reducers),
        ))
    return tasks
