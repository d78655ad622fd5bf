"""Pipeline metrics, statically, from the Inventory: what each pipeline's shape costs and where it repeats work.

Nothing here runs a pipeline: durations are estimates from the kinds of steps (`STEP_MINUTES`, assumptions, not
measurements; CI run logs would give real ones). Step kinds come from the step itself (checkout, cache,
approval) or, for shell steps, from each command line (install, build, test, lint, deploy) by the patterns
below; a multi-line script adds up its lines.

* job graph: `jobgraph.layering` (topological levels; jobs on a cycle and needs naming no job are reported);
* critical path by job count: the longest chain of needs; by minutes: the chain with the largest sum of job
  estimates (job estimate = JOB_OVERHEAD + the step minutes; a matrix's instances run side by side, so one
  instance counts). A path through a job that waits for a person (a manual job, an approval hold; or, maybe, a
  deploy to a production environment whose reviewers the CI system's settings hold) is labelled so: its minutes
  are CI time only, the wait is not measured, and the automated critical path (manual jobs cut the chain) is
  given beside it;
* maximum parallel width: the most jobs on one topological level (and job instances, matrix fan-out counted);
* jobs without a timeout (the CI system's default then applies: `TIMEOUT_DEFAULTS`), pipelines without
  concurrency control (for the systems whose detector reads it), jobs that install dependencies without a
  cache, install/build commands repeated across jobs, manual gates, schedules with runs per year, deploy jobs
  and their triggers, and CI jobs that already run what a manual procedure step asks a person to do.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Mapping
from functools import lru_cache

from ..cron import CronError, runs_per_year
from ..discovery.automation_links import AutomationIndex, invoked, normalize, script_lines
from ..jobgraph import layering
from ..models import Evidence, Inventory, Job, Pipeline, Schedule, Step
from .models import (
    DanglingNeed,
    DeploySignal,
    JobEstimate,
    JobRef,
    ManualGate,
    MatrixFanOut,
    MissingCache,
    PathGate,
    PipelineGraph,
    PipelineMetrics,
    ProcedureDuplicate,
    RepeatedStep,
    ScheduleInfo,
)

# Minutes per step kind: assumptions (typical small-service CI), not measurements.
STEP_MINUTES: dict[str, float] = {
    "checkout": 0.5, "setup": 0.5, "cache": 0.5, "install": 2.0, "lint": 1.0, "test": 5.0, "build": 3.0,
    "deploy": 3.0, "command": 0.5, "action": 1.0, "approval": 0.0, "no-steps": 5.0, "opaque": 0.0,
}
JOB_OVERHEAD = 0.5  # runner start and teardown, minutes (assumption)

# Defaults when a job sets no timeout, from each system's documentation: GitHub Actions `timeout-minutes`
# (360), GitLab's project default job timeout (60), Azure Pipelines `timeoutInMinutes` (60), Bitbucket
# `max-time` (120), CircleCI `no_output_timeout` (10, without output), Jenkins (none).
TIMEOUT_DEFAULTS: dict[str, float | None] = {
    "github-actions": 360, "gitlab-ci": 60, "azure-pipelines": 60, "bitbucket-pipelines": 120, "circleci": 10,
    "jenkins": None,
}
# The systems whose detector reads concurrency control (GitHub `concurrency`, GitLab `resource_group`,
# Jenkins `disableConcurrentBuilds`).
CONCURRENCY_READ = frozenset({"github-actions", "gitlab-ci", "jenkins"})

_W = r"(?:^|[\s;&|(])"  # a command word starts a line or follows a separator
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("deploy", re.compile(
        _W + r"(?:kubectl\s+(?:apply|set\s+image|rollout\s+restart|replace|create)|helm\s+(?:upgrade|install)|"
        r"terraform\s+apply|pulumi\s+up|cdk\s+deploy|serverless\s+deploy|sls\s+deploy|flyctl\s+deploy|"
        r"ansible-playbook|docker\s+push|(?:gcloud|az|aws)\s+\S.*\bdeploy|make\s+(?:\S+\s+)*?\S*deploy\S*|"
        r"make\s+(?:\S+\s+)*?\S*(?:publish|release|push)\S*|twine\s+upload|npm\s+publish|gh\s+release\s+create)")),
    ("test", re.compile(
        _W + r"(?:pytest|tox|nox|go\s+test|cargo\s+test|(?:npm|yarn|pnpm|bun)\s+(?:run\s+)?test|jest|vitest|rspec|"
        r"phpunit|dotnet\s+test|ctest|mvn\s+(?:\S+\s+)*?(?:test|verify)|\./gradlew\s+(?:\S+\s+)*?test|"
        r"gradle\s+(?:\S+\s+)*?test|make\s+(?:\S+\s+)*?\S*test\S*|python\s+-m\s+(?:pytest|unittest))")),
    ("build", re.compile(
        _W + r"(?:docker\s+(?:buildx\s+)?build|(?:npm|yarn|pnpm|bun)\s+(?:run\s+)?build|go\s+build|cargo\s+build|"
        r"mvn\s+(?:\S+\s+)*?(?:package|install)|\./gradlew\s+(?:\S+\s+)*?(?:build|assemble)|"
        r"gradle\s+(?:\S+\s+)*?(?:build|assemble)|python\s+-m\s+build|dotnet\s+(?:build|publish)|bazel\s+build|"
        r"packer\s+build|make\s+(?:\S+\s+)*?\S*build\S*|make\s*$)")),
    ("install", re.compile(
        _W + r"(?:pip3?\s+install|python\s+-m\s+pip\s+install|uv\s+(?:sync|pip\s+install)|poetry\s+install|"
        r"pipenv\s+(?:install|sync)|pdm\s+(?:install|sync)|npm\s+(?:ci|install|i)\b|yarn(?:\s+install)?\s*$|"
        r"yarn\s+install|pnpm\s+(?:i|install)\b|bun\s+install|bundle\s+install|go\s+mod\s+download|"
        r"composer\s+install|cargo\s+fetch|dotnet\s+restore|conda\s+(?:env\s+)?(?:create|install)|"
        r"apt-get\s+(?:-\S+\s+)*install|apk\s+add|make\s+(?:\S+\s+)*?(?:install|deps|bootstrap)\b)")),
    ("lint", re.compile(
        _W + r"(?:ruff|flake8|pylint|mypy|black\s+--check|isort\s+--check|eslint|prettier\s+--check|"
        r"golangci-lint|shellcheck|hadolint|tflint|rubocop|(?:npm|yarn|pnpm)\s+(?:run\s+)?lint|"
        r"make\s+(?:\S+\s+)*?\S*lint\S*|pre-commit\s+run)")),
]
_INSTALL = dict(PATTERNS)["install"]
DEPLOY_ACTIONS = re.compile(r"deploy|docker/build-push-action|release-action|publish", re.IGNORECASE)
BUILD_ACTIONS = re.compile(r"docker/build-push-action|build", re.IGNORECASE)
PRODUCTION = re.compile(r"\bprod(?:uction)?\b", re.IGNORECASE)


def line_kind(line: str) -> str:
    """The kind of one shell command line: deploy, test, build, install, lint, or `command`."""
    return _line_kind(" ".join(line.split()))


@lru_cache(maxsize=4096)
def _line_kind(line: str) -> str:
    # A line that starts by installing is an install, whatever it installs (`pip install tox` is not a test run).
    if _INSTALL.match(line):
        return "install"
    for kind, pattern in PATTERNS:
        if pattern.search(line):
            return kind
    return "command"


def step_kinds(step: Step) -> list[tuple[str, str | None]]:
    """(kind, command line) for each unit of work in a step: one per command line of a shell step."""
    if step.kind in ("checkout", "cache", "approval"):
        return [(step.kind, None)]
    if step.kind in ("run", "script") and step.command:
        lines = script_lines(step.command)
        return [(line_kind(line), line) for line in lines] or [("command", None)]
    if step.uses:
        name = step.uses.split("@", 1)[0].lower()
        if "setup-" in name or name.endswith("/setup") or "install" in name:
            return [("setup", None)]
        if BUILD_ACTIONS.search(name) and not DEPLOY_ACTIONS.search(name):
            return [("build", None)]
        if DEPLOY_ACTIONS.search(name):
            return [("deploy", None)]
        return [("action", None)]
    return [("command", None)]


def job_estimate(job: Job, minutes: Mapping[str, float]) -> JobEstimate:
    kinds: dict[str, int] = defaultdict(int)
    total = JOB_OVERHEAD
    if not job.steps and job.uses:
        # An orb job or a reusable workflow: its steps are not in this repository, so no guess enters a critical
        # path; `opaque` in step_kinds says the job's minutes are unknown, not zero.
        kinds["opaque"] += 1
        total += minutes["opaque"]
    elif not job.steps and job.manual:
        # An approval hold runs nothing: no runner starts, and the person's wait is not CI time.
        kinds["approval"] += 1
        total = 0.0
    elif not job.steps:
        kinds["no-steps"] += 1
        total += minutes["no-steps"]
    for step in job.steps:
        for kind, _line in step_kinds(step):
            kinds[kind] += 1
            total += minutes.get(kind, minutes["command"])
    instances = job.matrix.fan_out if job.matrix and job.matrix.fan_out else 1
    return JobEstimate(id=job.id, minutes=round(total, 2), step_kinds=dict(kinds), instances=instances,
                       timeout_minutes=job.timeout_minutes, manual=job.manual, evidence=job.evidence)


def _longest(order: list[str], needs: Mapping[str, list[str]], weight: Mapping[str, float]) -> tuple[float, list[str]]:
    """The heaviest chain in a DAG given in topological `order` (ties: the first job in file order)."""
    best: dict[str, tuple[float, list[str]]] = {}
    for job in order:
        prior = max((best[n] for n in needs.get(job, []) if n in best), key=lambda b: b[0], default=(0.0, []))
        best[job] = (prior[0] + weight[job], [*prior[1], job])
    if not best:
        return 0.0, []
    return max(best.values(), key=lambda b: b[0])


def gate_of(job: Job) -> tuple[PathGate, bool | None] | None:
    """How `job` waits for a person, if it does (and whether later jobs wait for it): a manual job or approval hold
    waits; a deploy to a production environment may wait for reviewers the repository does not show."""
    if job.manual:
        blocks = ("blocks the jobs after it until a person acts" if job.blocking else
                  "does not block later jobs" if job.blocking is False else "whether it blocks is not known")
        return PathGate(job=job.id, kind="manual-job", waits="yes", note=blocks), job.blocking
    if job.environment and PRODUCTION.search(job.environment):
        return PathGate(job=job.id, kind="environment", waits="maybe",
                        note=f"deploys to environment '{job.environment}': its protection rules (required "
                             "reviewers) live in the CI system's settings, not in the repository"), None
    return None


def _path_label(graph: PipelineGraph, pipeline: Pipeline) -> None:
    """Label the critical paths that go through a person's wait, and give the automated critical path beside them."""
    jobs = {job.id: job for job in pipeline.jobs}
    on_path = list(dict.fromkeys([*graph.critical_path_by_minutes, *graph.critical_path]))
    gates: list[PathGate] = []
    for job_id in on_path:
        found = gate_of(jobs[job_id]) if job_id in jobs else None
        if found is not None:
            gates.append(found[0])
    graph.critical_path_gates = gates
    graph.critical_path_waits_for_people = ("yes" if any(g.waits == "yes" for g in gates) else
                                            "maybe" if gates else "no")
    if not gates:
        graph.automated_critical_path_minutes = graph.critical_path_minutes
        graph.automated_critical_path = list(graph.critical_path_by_minutes)
        return
    minutes = {e.id: e.minutes for e in graph.job_estimates}
    manual = {j.id for j in pipeline.jobs if j.manual}
    order = [j for level in graph.levels for j in level if j not in manual]
    needs = {j.id: [n for n in j.needs if n not in manual] for j in pipeline.jobs}
    total, chain = _longest(order, needs, {j: minutes.get(j, 0.0) for j in order})
    graph.automated_critical_path_minutes, graph.automated_critical_path = round(total, 2), chain
    names = ", ".join(f"{g.job} ({'waits for a person' if g.waits == 'yes' else 'may wait for reviewers'})"
                      for g in gates)
    graph.critical_path_note = (
        f"The critical path goes through {names}: its {graph.critical_path_minutes:g} estimated minutes are CI time "
        f"only; the wait for a person is not measured and not in them. The longest chain of jobs that wait for "
        f"no manual action: {total:g} min ({' → '.join(chain) or 'none'}).")


def pipeline_graph(pipeline: Pipeline, minutes: Mapping[str, float]) -> PipelineGraph:
    shape = layering(pipeline)
    order = [job for level in shape.levels for job in level]
    acyclic = set(order)
    needs = {job.id: [n for n in job.needs if n in acyclic] for job in pipeline.jobs if job.id in acyclic}
    estimates = {job.id: job_estimate(job, minutes) for job in pipeline.jobs}
    by_count = _longest(order, needs, {j: 1.0 for j in order})
    by_minutes = _longest(order, needs, {j: estimates[j].minutes for j in order})
    instances = {job.id: estimates[job.id].instances for job in pipeline.jobs}
    if pipeline.system not in CONCURRENCY_READ:
        concurrency = "not-read"
    elif pipeline.concurrency:
        concurrency = "pipeline"
    elif any(job.concurrency for job in pipeline.jobs):
        concurrency = "jobs"
    else:
        concurrency = "none"
    graph = PipelineGraph(
        pipeline=pipeline.id, name=pipeline.name, system=pipeline.system, path=pipeline.path, jobs=len(pipeline.jobs),
        instances=sum(instances.values()), levels=shape.levels, cycles=shape.cyclic,
        dangling_needs=[DanglingNeed(job=j, missing=m) for j, m in shape.dangling],
        critical_path=by_count[1], critical_path_minutes=round(by_minutes[0], 2),
        critical_path_by_minutes=by_minutes[1],
        max_parallel_width=max((len(level) for level in shape.levels), default=0),
        max_parallel_instances=max((sum(instances[j] for j in level) for level in shape.levels), default=0),
        concurrency_control=concurrency,  # type: ignore[arg-type]
        job_estimates=list(estimates.values()), evidence=pipeline.evidence,
    )
    _path_label(graph, pipeline)
    return graph


def _install_lines(job: Job) -> list[tuple[str, Evidence]]:
    return [(line, step.evidence) for step in job.steps for kind, line in step_kinds(step)
            if kind == "install" and line]


def _triggers(pipeline: Pipeline) -> tuple[list[str], bool, list[str]]:
    """(trigger events, whether tags start it, branches whose pushes start it: '*' for any)."""
    events = [t.event for t in pipeline.triggers]
    on_tags = any(t.kind == "tag" or (t.kind == "push" and t.filters.get("tags")) or t.kind == "release"
                  for t in pipeline.triggers)
    branches: list[str] = []
    for trig in pipeline.triggers:
        if trig.kind != "push":
            continue
        only_tags = bool(trig.filters.get("tags")) and not trig.filters.get("branches")
        if not only_tags:
            branches.extend(trig.filters.get("branches") or ["*"])
    return events, on_tags, sorted(set(branches))


def pipeline_metrics(inventory: Inventory, *, step_minutes: Mapping[str, float] | None = None) -> PipelineMetrics:
    """Job graphs, critical paths, width, fan-out, timeouts, concurrency, caching, repeated work, manual gates,
    schedules, deploy jobs and procedure duplicates of every pipeline in `inventory` (see the module docstring)."""
    minutes = {**STEP_MINUTES, **(step_minutes or {})}
    result = PipelineMetrics(
        formulas={
            "job_minutes": f"{JOB_OVERHEAD} (runner overhead) + sum of the assumed minutes of each step's kind "
                           "(step_minutes_assumed); a shell step adds one kind per command line; an orb job or "
                           "reusable workflow (steps not in the repository) is `opaque`: 0 minutes, unknown; an "
                           "approval hold (a manual job without steps) is 0: no runner, and a wait is not CI time",
            "critical_path": "the longest chain of `needs` by number of jobs (jobs on a cycle left out)",
            "critical_path_minutes": "the chain of `needs` with the largest sum of job minutes (an estimate; "
                                     "matrix instances run side by side, so one counts); a wait for a person "
                                     "is never in it (`critical_path_waits_for_people`)",
            "automated_critical_path_minutes": "the same over the jobs that wait for no person (manual jobs cut "
                                               "the chain)",
            "max_parallel_width": "the most jobs on one topological level; instances: sum of matrix fan-outs",
            "missing_cache": "a job with an install command and no cache (cache step, cache keyword, or a setup "
                             "action's cache input)",
            "repeated_steps": "the same install/build command (normalized) in more than one job; instances = "
                              "sum of the jobs' matrix fan-outs",
            "runs_per_year": "cron firing times in a 365-day year (cron.runs_per_year)",
        },
        step_minutes_assumed=minutes | {"job-overhead": JOB_OVERHEAD},
        timeout_defaults_minutes=dict(TIMEOUT_DEFAULTS),
    )
    repeated: dict[tuple[str, str], list[tuple[str, int, Evidence]]] = defaultdict(list)
    for pipeline in inventory.pipelines:
        graph = pipeline_graph(pipeline, minutes)
        result.pipelines.append(graph)
        if pipeline.kind != "pipeline":
            continue  # composite actions and templates run inside other jobs
        if graph.concurrency_control == "none":
            result.pipelines_without_concurrency.append(pipeline.id)
        events, on_tags, branches = _triggers(pipeline)
        for job in pipeline.jobs:
            instances = job.matrix.fan_out if job.matrix and job.matrix.fan_out else 1
            if job.matrix is not None:
                result.matrices.append(MatrixFanOut(
                    pipeline=pipeline.id, job=job.id, fan_out=job.matrix.fan_out, dynamic=job.matrix.dynamic,
                    dimensions={k: len(v) for k, v in job.matrix.dimensions.items()}, evidence=job.evidence))
            if job.timeout_minutes is None and not job.manual and (job.steps or not job.uses):
                default = TIMEOUT_DEFAULTS.get(pipeline.system)
                note = f"the default applies: {default:g} minutes" if default else "no default limit"
                if pipeline.system == "circleci":  # CircleCI's 10 minutes bound silence, not the job's length
                    note = (f"no job time limit; each step is stopped after {default:g} minutes without output "
                            "(CircleCI's default no_output_timeout)")
                result.jobs_without_timeout.append(JobRef(
                    pipeline=pipeline.id, job=job.id, evidence=job.evidence, note=note))
            installs = _install_lines(job)
            if installs and not job.caches:
                result.missing_caches.append(MissingCache(
                    pipeline=pipeline.id, job=job.id, install_commands=[line for line, _ in installs],
                    instances=instances, evidence=[ev for _, ev in installs]))
            for step in job.steps:
                for kind, line in step_kinds(step):
                    if kind in ("install", "build") and line:
                        repeated[(kind, normalize(line))].append((f"{pipeline.id}/{job.id}", instances, step.evidence))
            gate = gate_of(job)
            if gate is not None:
                result.manual_gates.append(ManualGate(pipeline=pipeline.id, job=job.id, blocking=gate[1],
                                                      kind=gate[0].kind, note=gate[0].note, evidence=job.evidence))
            if _deploys(job):
                result.deploy_signals.append(DeploySignal(
                    pipeline=pipeline.id, job=job.id, environment=job.environment, triggers=events, on_tags=on_tags,
                    on_push_branches=branches, evidence=job.evidence))
    for (kind, command), uses in sorted(repeated.items()):
        jobs = sorted({job for job, _, _ in uses})
        if len(jobs) > 1:
            result.repeated_steps.append(RepeatedStep(
                command=command, kind=kind, jobs=jobs, instances=sum(n for _, n, _ in uses),  # type: ignore[arg-type]
                evidence=[ev for _, _, ev in uses]))
    result.schedules = [_schedule(s) for s in inventory.schedules]
    result.procedure_duplicates = procedure_duplicates(inventory)
    return result


def _deploys(job: Job) -> bool:
    if job.environment:
        return True
    # An orb job or reusable workflow named deploy* (`aws-ecs/deploy_service_update (circleci/aws-ecs@4.0.0)`): its
    # steps are opaque, its name is the signal.
    if job.uses and re.match(r"deploy", job.uses.split(" ", 1)[0].rsplit("/", 1)[-1], re.IGNORECASE):
        return True
    return any(kind == "deploy" for step in job.steps for kind, _ in step_kinds(step))


def _schedule(schedule: Schedule) -> ScheduleInfo:
    try:
        runs = runs_per_year(schedule.expression) if schedule.source != "systemd-timer" else None
    except CronError:
        runs = None
    return ScheduleInfo(source=schedule.source, expression=schedule.expression, explanation=schedule.explanation,
                        runs_per_year=runs, target=schedule.target, evidence=schedule.evidence)


def ci_task_runs(inventory: Inventory) -> dict[str, list[tuple[str, Evidence, str]]]:
    """task id -> the CI jobs (pipeline id / job id, step evidence, command line) whose commands run that task."""
    index = AutomationIndex.build(inventory.tasks, [])
    runs: dict[str, list[tuple[str, Evidence, str]]] = defaultdict(list)
    for pipeline in inventory.pipelines:
        for job in pipeline.jobs:
            for step in job.steps:
                if step.kind not in ("run", "script") or not step.command:
                    continue
                for line in script_lines(step.command):
                    for ref in invoked(index, line, ""):
                        runs[ref.ref].append((f"{pipeline.id}/{job.id}", step.evidence, line))
    return runs


def _assignments(command: str) -> tuple[list[str], dict[str, str]]:
    """The words of a command without `NAME=value` arguments, and those assignments."""
    words, assigned = [], {}
    for word in normalize(command).split():
        name, eq, value = word.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            assigned[name] = value
        else:
            words.append(word)
    return words, assigned


def argument_differences(step_command: str, ci_command: str) -> list[str]:
    """Variables both commands set to different literal values (`ENV=production` by hand, `ENV=staging` in CI).
    A CI value with `$` is a parameter (e.g. `VERSION=${GITHUB_REF_NAME}`), so it matches any value by hand."""
    _, by_hand = _assignments(step_command)
    _, in_ci = _assignments(ci_command)
    return [f"{name}: '{by_hand[name]}' by hand, '{in_ci[name]}' in CI" for name in sorted(by_hand)
            if name in in_ci and in_ci[name] != by_hand[name] and "$" not in in_ci[name]]


def procedure_duplicates(inventory: Inventory) -> list[ProcedureDuplicate]:
    """Procedure steps whose commands a CI job already runs: directly (the same command), or through a task that
    both the step and the job run (the step says `make docker-push`, a workflow runs `make docker-push`).
    `same_arguments` is False when the two set a variable to different values (see `argument_differences`)."""
    task_index = AutomationIndex.build(inventory.tasks, [])
    task_runs = ci_task_runs(inventory)
    found: list[ProcedureDuplicate] = []
    seen: set[tuple[str, str, str, str]] = set()
    for procedure in inventory.procedures:
        doc_dir = posixpath.dirname(procedure.path)
        for step in procedure.steps:
            job_refs = [r for r in step.automated_by if r.kind == "job"]
            for command in step.commands:
                targets: list[tuple[str, Evidence, str, str]] = []  # job, evidence, via, CI command
                for ref in job_refs:
                    targets.append((ref.ref, ref.evidence, "same-command", command.text))
                for ref in invoked(task_index, command.text, doc_dir):
                    targets.extend((job, ev, ref.ref, line) for job, ev, line in task_runs.get(ref.ref, []))
                for job, evidence, via, ci_command in targets:
                    key = (procedure.id, command.text, job, via)
                    if key in seen:
                        continue
                    seen.add(key)
                    differences = argument_differences(command.text, ci_command)
                    found.append(ProcedureDuplicate(
                        procedure=procedure.id, step=step.text, step_evidence=step.evidence, automation=job, via=via,
                        step_command=command.text, ci_command=ci_command, same_arguments=not differences,
                        differences=differences, evidence=evidence))
    return found
