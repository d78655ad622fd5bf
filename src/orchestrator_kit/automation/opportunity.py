"""From an opportunity of the matrix (`orchestrator_kit.opportunities`) to a spec a generator takes.

Each opportunity carries its route (`opportunities.routes`): the kinds `generate` makes from it (`generate_with`),
or why it is advice only (`advice_only`), which `generate --from-opportunity` gives back as the error:

| opportunity kind | spec |
|---|---|
| manual-procedure | the procedure converted (see `procedure`), unsafe commands kept as manual steps |
| unautomated-task | a job started by hand that runs the task's invocation |
| unscheduled-recurring-work | a scheduled job that runs the task |
| repeated-ci-work (a cache, GitHub) | `ci-cache`: the workflow's jobs that install without a cache get one |

A scheduled job runs weekly, Sunday 03:00 UTC: an assumption (the matrix's upkeep frequency); edit it.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..opportunities.routes import ROUTES
from .context import RepoContext
from .credentials import deploy_environment, needs
from .github import slug
from .shellsafe import UnsafeCommand, split_command

UPKEEP_CRON = "0 3 * * 0"  # weekly, matching the matrix's upkeep assumption (52 runs a year)

# Opportunity kind -> the kinds `generate` makes from it (the variants' routes are in `opportunities.routes`).
GENERATORS: dict[str, list[str]] = {kind: list(way.generate_with) for kind, way in ROUTES.items()}


def spec_from_opportunity(ctx: RepoContext, opportunity_id: str, kind: str
                          ) -> tuple[str, dict[str, Any], list[str]]:
    """(kind to generate, spec mapping) for the opportunity `opportunity_id` of this repository, from the matrix
    `assessment.assess` builds (the one `opportunities` and the MCP tool show)."""
    from ..assessment import assess
    from ..opportunities import opportunity_by_id

    assessment = assess(ctx.workspace.root, inventory=ctx.inventory)
    opportunity = opportunity_by_id(assessment.matrix, opportunity_id)
    if opportunity.advice_only is not None:
        raise InputError(f"Opportunity {opportunity_id} ({opportunity.title}) is advice only: "
                         f"{opportunity.advice_only}. Its suggestion: {opportunity.suggestion}.")
    if kind not in opportunity.generate_with:
        raise InputError(f"Opportunity {opportunity_id} is a {opportunity.kind.replace('-', ' ')}: generate "
                         f"{' or '.join(opportunity.generate_with)} from it, not {kind}.")
    if opportunity.kind == "manual-procedure":
        # skip_unsafe: a command the converter cannot split safely stays a manual step (listed in the notes), so an
        # opportunity that offers generate_with always generates; a spec without it refuses such commands instead.
        return "procedure", {"procedure": opportunity.related[0], "target": kind, "skip_unsafe": True}, []
    if opportunity.kind in ("unautomated-task", "unscheduled-recurring-work"):
        notes: list[str] = []
        spec = _task_spec(ctx, opportunity.related[0], kind, notes, scheduled=opportunity.kind != "unautomated-task")
        return kind, spec, notes
    if kind == "ci-cache":
        pipeline_id = opportunity.related[0]
        pipelines = assessment.metrics.pipelines
        jobs = [m.job for m in (pipelines.missing_caches if pipelines else []) if m.pipeline == pipeline_id]
        return kind, _cache_spec(ctx, pipeline_id, jobs), []
    raise InputError(f"Opportunity {opportunity_id} ({opportunity.kind}) has no generator for {kind}.")


def _cache_spec(ctx: RepoContext, pipeline_id: str, missing: list[str]) -> dict[str, Any]:
    pipeline = next((p for p in ctx.inventory.pipelines if p.id == pipeline_id), None)
    if pipeline is None:
        raise InputError(f"Pipeline {pipeline_id} of the opportunity is not in the inventory any more; scan again.")
    jobs = list(dict.fromkeys(missing))
    if not jobs:
        raise InputError(f"Every job of {pipeline.path} caches its dependencies now; nothing to add.")
    return {"file": pipeline.path, "jobs": jobs}


def _task_spec(ctx: RepoContext, task_id: str, kind: str, notes: list[str], *, scheduled: bool) -> dict[str, Any]:
    task = next((t for t in ctx.inventory.tasks if t.id == task_id), None)
    if task is None:
        raise InputError(f"Task {task_id} of the opportunity is not in the inventory any more; scan again.")
    try:
        env, argv = split_command(task.invocation)
    except UnsafeCommand as exc:
        raise InputError(f"The task's invocation cannot be used as a command: {exc}") from None
    name = slug(f"{'scheduled' if scheduled else 'run'}-{task.name}")
    step = {"name": task.invocation, "commands": [{"argv": argv, "env": env, "source": str(task.evidence)}]}
    found = needs(ctx, [[*(f"{k}={v}" for k, v in env.items()), *argv]])
    environment: dict[str, str] = {}
    if found.deploys:  # a deploy or rollback runs in an environment: its approval rule and its secrets
        environment["environment"], why, placeholder = deploy_environment(ctx, found)
        notes.append(f"Fill in: environment {environment['environment']} ({why})." if placeholder else
                     f"The job runs in the environment '{environment['environment']}': {why}.")
    if kind == "github-workflow":
        triggers: dict[str, Any] = {"workflow_dispatch": True}
        if scheduled:
            triggers["schedule"] = [UPKEEP_CRON]
        return {"name": f"{'Scheduled' if scheduled else 'Run'} {task.invocation}"[:100], "triggers": triggers,
                "jobs": [{"id": slug(task.name) if slug(task.name)[0].isalpha() else f"job-{slug(task.name)}",
                          "steps": [step], **environment}]}
    if kind == "gitlab-ci-job":
        return {"name": name, "stage": "deploy" if not scheduled else "test",
                "when": "schedule" if scheduled else "manual", "steps": [step], **environment}
    raise InputError(f"A task opportunity becomes a github-workflow or a gitlab-ci-job, not {kind}.")
