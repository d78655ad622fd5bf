"""Candidates in the CI pipelines: caches (`repeated-ci-work`), work repeated across jobs, slow critical paths
(`slow-ci`), manual gates (`manual-gate`) and kinds of work no job does (`missing-ci-stage`).

* A cache is advised only for installs a cache can save: project dependencies (a lock or requirements file, the
  project itself, `npm ci`, ...), not a tool the runner already has (`PREINSTALLED`) and not the installer
  upgrading itself (`pip install --upgrade pip`).
* Slow CI is judged on the critical path WITHOUT the jobs that wait for a person: a path through a human
  approval is waiting, not CI time. Pipelines whose jobs only call other pipelines are judged in the callee.
* "Add a stage" only when no job does that kind of work: step commands, actions (`ACTION_KINDS`), tasks a job
  runs, and job names all count as doing it.
* A manual gate's frequency is the runs that reach it (`frequency.gate_frequency`).
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..metrics.models import Excluded, MissingCache, PipelineMetrics
from ..metrics.pipelines import STEP_MINUTES, ci_task_runs, line_kind, step_kinds
from ..models import Evidence, Inventory
from .context import Context
from .frequency import gate_frequency, pipeline_frequency
from .procedures import procedure_frequency, with_dependencies
from .scoring import Candidate, assumed

# Tools GitHub's and GitLab's standard Linux images already carry: installing them again costs next to nothing.
PREINSTALLED = frozenset({
    "jq", "curl", "wget", "git", "zip", "unzip", "tar", "make", "gcc", "g++", "shellcheck", "rsync", "openssh-client",
    "ca-certificates", "gnupg", "python3", "python3-pip", "python3-venv", "nodejs", "npm", "yamllint", "parallel",
    "file", "sudo", "xz-utils", "bzip2", "gzip", "pip", "setuptools", "wheel", "virtualenv", "pipx",
})
PROJECT_INSTALL = re.compile(
    r"(?:pip3?|python\s+-m\s+pip|uv\s+pip)\s+install\s+(?:.*\s)?(?:-r\s*\S+|--requirement|-e\s*\S+|--editable|"
    r"\.(?:\[[^\]]*\])?(?:\s|$)|\S*requirements\S*\.txt|-c\s*\S+)|uv\s+sync|poetry\s+install|pipenv\s+(?:install|sync)|"
    r"pdm\s+(?:install|sync)|npm\s+(?:ci|install|i)\s*$|npm\s+(?:ci|install|i)\s+(?:--\S+\s*)*$|yarn(?:\s+install)?"
    r"(?:\s+--\S+)*\s*$|pnpm\s+(?:i|install)(?:\s+--\S+)*\s*$|bun\s+install|bundle\s+install|go\s+mod\s+download|"
    r"composer\s+install|cargo\s+fetch|dotnet\s+restore|conda\s+env\s+create|make\s+(?:install|deps|bootstrap)\b",
    re.IGNORECASE)
# Actions and orbs that do a kind of work (what a step's `uses` tells).
ACTION_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("lint", re.compile(r"lint|ruff|flake8|eslint|prettier|pre-commit|super-linter|hadolint|shellcheck|mypy|"
                        r"codeql|black", re.IGNORECASE)),
    ("test", re.compile(r"test|pytest|jest|coverage|codecov", re.IGNORECASE)),
    ("build", re.compile(r"build|docker/build-push|goreleaser|setup-buildx|bake", re.IGNORECASE)),
    ("deploy", re.compile(r"deploy|publish|release|upload|push|pypi", re.IGNORECASE)),
]
JOB_NAME_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("lint", re.compile(r"lint|check|style|format|static", re.IGNORECASE)),
    ("test", re.compile(r"test|spec|check", re.IGNORECASE)),
    ("build", re.compile(r"build|compile|package|image|docker", re.IGNORECASE)),
    ("deploy", re.compile(r"deploy|publish|release|rollout", re.IGNORECASE)),
]
GATE_KINDS = ("manual-job", "environment")


def project_installs(missing: MissingCache) -> list[str]:
    """The install lines a cache would save (see the module docstring)."""
    kept = []
    for line in missing.install_commands:
        words = set(re.split(r"[\s=<>]+", line.lower()))
        if PROJECT_INSTALL.search(line):
            kept.append(line)
        elif re.search(r"apt-get|apk\s+add|brew\s+install|(?:pip3?|npm)\s+install\s+(?:-g\s+)?[a-z]", line) and \
                words & PREINSTALLED and not (words - PREINSTALLED - _INSTALL_WORDS):
            continue  # only preinstalled tools, or the installer itself
        elif re.search(r"--upgrade\s+pip|-U\s+pip|install\s+pip\b", line):
            continue
        else:
            kept.append(line)
    return kept


_INSTALL_WORDS = {"apt-get", "apt", "install", "-y", "-q", "-qq", "--yes", "--no-install-recommends", "sudo", "apk",
                  "add", "--no-cache", "pip", "pip3", "npm", "-g", "--global", "brew", "--upgrade", "-u", "update",
                  "&&", "--quiet", "python", "python3", "-m", ""}


def cache_candidates(inventory: Inventory, pipelines: PipelineMetrics, ctx: Context
                     ) -> tuple[list[Candidate], list[Excluded]]:
    s = ctx.settings
    by_id = {p.id: p for p in inventory.pipelines}
    grouped: dict[str, list[tuple[MissingCache, list[str]]]] = defaultdict(list)
    excluded: list[Excluded] = []
    for missing in pipelines.missing_caches:
        kept = project_installs(missing)
        if kept:
            grouped[missing.pipeline].append((missing, kept))
        else:
            excluded.append(Excluded(
                kind="repeated-ci-work", title=f"Cache dependencies in job '{missing.job}'",
                reason="a cache would save nothing: the job only installs tools the runner already has or upgrades "
                       f"the installer ({'; '.join(missing.install_commands)})", evidence=missing.evidence))
    found: list[Candidate] = []
    for pipeline_id, items in grouped.items():
        pipeline = by_id.get(pipeline_id)
        if pipeline is None:
            continue
        installs = sum(len(kept) * m.instances for m, kept in items)
        frequency = pipeline_frequency(pipeline_id, ctx.runs, ctx.rates, s)
        minutes = STEP_MINUTES["install"] * installs
        found.append(Candidate(
            kind="repeated-ci-work", anchor=f"cache\x00{pipeline_id}", title=f"Cache dependencies in '{pipeline.name}'",
            why=f"{', '.join(m.job for m, _ in items)} install project dependencies on every run without a cache "
                f"({installs} install command(s) per run, matrix counted: "
                f"{'; '.join(dict.fromkeys(k for _, kept in items for k in kept))})",
            suggestion="a dependency cache keyed on the lock file (e.g. setup-python/setup-node `cache:`, "
                       "actions/cache, GitLab `cache:`)",
            frequency=frequency,
            duration=assumed(minutes, f"{STEP_MINUTES['install']:g} min per install x {installs}", s),
            complexity=1, complexity_basis="a few lines of CI configuration", potential=s.cache_saving,
            potential_basis=f"assumption: a warm cache saves {s.cache_saving:.0%} of install time",
            risk=1, risk_basis="1 base (a cache miss only costs time)", saves="ci-time",
            evidence=[ev for m, _ in items for ev in m.evidence],
            git_query=ctx.rates.query if not frequency.assumption else None, related=[pipeline_id],
        ))
    return found, excluded


def repeated_candidates(inventory: Inventory, pipelines: PipelineMetrics, ctx: Context) -> list[Candidate]:
    s = ctx.settings
    by_id = {p.id: p for p in inventory.pipelines}
    found: list[Candidate] = []
    for repeated in pipelines.repeated_steps:
        per_pipeline: dict[str, list[str]] = {}
        for job in repeated.jobs:
            pipeline_id = next((p for p in by_id if job.startswith(p + "/")), None)
            if pipeline_id:
                per_pipeline.setdefault(pipeline_id, []).append(job[len(pipeline_id) + 1:])
        for pipeline_id, jobs in per_pipeline.items():
            pipeline = by_id[pipeline_id]
            instances = sum((j.matrix.fan_out if j.matrix and j.matrix.fan_out else 1)
                            for j in pipeline.jobs if j.id in jobs)
            if instances < 2:
                continue
            frequency = pipeline_frequency(pipeline_id, ctx.runs, ctx.rates, s)
            minutes = STEP_MINUTES[repeated.kind] * (instances - 1)
            found.append(Candidate(
                kind="repeated-ci-work", anchor=f"repeat\x00{pipeline_id}\x00{repeated.command}",
                title=f"Run `{repeated.command}` once per '{pipeline.name}' run",
                why=f"{instances} job instances ({', '.join(jobs)}) each run `{repeated.command}`",
                suggestion="build once and share the result (an artifact, a prebuilt CI image, or a composite action "
                           "with a cache)",
                frequency=frequency,
                duration=assumed(minutes, f"{STEP_MINUTES[repeated.kind]:g} min per {repeated.kind} x "
                                          f"{instances - 1} repeats", s),
                complexity=2, complexity_basis="a shared artifact or image, and jobs that use it",
                potential=s.shared_saving, potential_basis=f"assumption: sharing saves {s.shared_saving:.0%} of the "
                                                           "repeats",
                risk=1, risk_basis="1 base", saves="ci-time",
                evidence=[ev for ev in repeated.evidence if ev.path == pipeline.path],
                git_query=ctx.rates.query if not frequency.assumption else None, related=[pipeline_id],
            ))
    return found


def slow_candidates(inventory: Inventory, pipelines: PipelineMetrics, ctx: Context
                    ) -> tuple[list[Candidate], list[Excluded]]:
    s = ctx.settings
    by_id = {p.id: p for p in inventory.pipelines}
    found: list[Candidate] = []
    excluded: list[Excluded] = []
    for graph in pipelines.pipelines:
        pipeline = by_id.get(graph.pipeline)
        if pipeline is None or pipeline.kind != "pipeline" or graph.critical_path_minutes < s.slow_pipeline_minutes:
            continue
        runs = ctx.runs.get(graph.pipeline)
        if runs is not None and runs.only_calls_others:
            continue
        minutes, chain = graph.automated_critical_path_minutes, graph.automated_critical_path
        if minutes < s.slow_pipeline_minutes:
            excluded.append(Excluded(
                kind="slow-ci", title=f"Shorten the critical path of '{graph.name}'",
                reason=f"the {graph.critical_path_minutes:g}-minute path goes through a job that waits for a person; "
                       f"without it the longest automated chain is {minutes:g} min ({' → '.join(chain)})",
                evidence=[graph.evidence]))
            continue
        frequency = pipeline_frequency(graph.pipeline, ctx.runs, ctx.rates, s)
        found.append(Candidate(
            kind="slow-ci", anchor=f"slow\x00{graph.pipeline}", title=f"Shorten the critical path of '{graph.name}'",
            why=f"estimated critical path {minutes:g} min through {' → '.join(chain)} (step-kind estimate, jobs "
                "that wait for a person left out)",
            suggestion="split long jobs, run independent jobs in parallel (drop needless `needs`), cache, and "
                       "shard tests",
            frequency=frequency,
            duration=assumed(minutes, "the estimated automated critical path (step-minute assumptions)", s),
            complexity=3, complexity_basis="restructuring jobs and their dependencies", potential=s.parallel_saving,
            potential_basis=f"assumption: {s.parallel_saving:.0%} of the critical path", risk=1, risk_basis="1 base",
            saves="ci-time", evidence=[graph.evidence], related=[graph.pipeline],
        ))
    return found, excluded


def gate_candidates(inventory: Inventory, pipelines: PipelineMetrics, ctx: Context) -> list[Candidate]:
    s = ctx.settings
    by_id = {p.id: p for p in inventory.pipelines}
    found: list[Candidate] = []
    for gate in pipelines.manual_gates:
        if gate.kind != "manual-job":
            continue
        pipeline = by_id.get(gate.pipeline)
        if pipeline is None:
            continue
        frequency = gate_frequency(gate.pipeline, gate.job, ctx.runs, ctx.rates, s)
        found.append(Candidate(
            kind="manual-gate", anchor=f"gate\x00{gate.pipeline}/{gate.job}",
            title=f"Replace the manual gate '{gate.job}' in '{pipeline.name}' with automated checks",
            why=f"job '{gate.job}' waits for a person ({gate.note})",
            suggestion="automated promotion checks (tests, smoke tests, error budgets) with a person only for "
                       "exceptions, or keep the gate where policy requires it",
            frequency=frequency,
            duration=assumed(s.gate_minutes, f"{s.gate_minutes:g} min of a person's attention per approval", s),
            complexity=2, complexity_basis="automated checks to replace a person's judgement",
            potential=0.5, potential_basis="0.5: some approvals are required by policy",
            risk=3 if gate.blocking else 2, risk_basis="a gate guards what follows it", saves="person-time",
            evidence=[gate.evidence], git_query=ctx.rates.query if not frequency.assumption else None,
            related=[gate.pipeline],
        ))
    return found


def ci_work_kinds(inventory: Inventory, pipelines: PipelineMetrics) -> dict[str, str]:
    """kind of work -> how CI is known to do it (a step command, an action, a task a job runs, a job's name)."""
    kinds: dict[str, str] = {}
    for graph in pipelines.pipelines:
        for estimate in graph.job_estimates:
            for kind in estimate.step_kinds:
                kinds.setdefault(kind, f"a step of {graph.pipeline}/{estimate.id}")
    tasks = {t.id: t for t in inventory.tasks}
    runs = ci_task_runs(inventory)
    for task_id in sorted(with_dependencies(inventory, set(runs))):
        task = tasks.get(task_id)
        if task is None:
            continue
        how = f"task {task.invocation} run by {runs[task_id][0][0]}" if task_id in runs else \
            f"task {task.invocation}, a dependency of a task CI runs"
        for kind in {line_kind(c.text) for c in task.commands} | {line_kind(task.invocation)}:
            kinds.setdefault(kind, how)
    for pipeline in inventory.pipelines:
        for job in pipeline.jobs:
            for step in job.steps:
                if step.uses:
                    for kind, pattern in ACTION_KINDS:
                        if pattern.search(step.uses.split("@", 1)[0]):
                            kinds.setdefault(kind, f"action {step.uses} in {pipeline.id}/{job.id}")
                for kind, _line in step_kinds(step):
                    kinds.setdefault(kind, f"a step of {pipeline.id}/{job.id}")
            for kind, pattern in JOB_NAME_KINDS:
                if pattern.search(job.id) or (job.name and pattern.search(job.name)):
                    kinds.setdefault(kind, f"job {pipeline.id}/{job.id}")
    return kinds


def missing_stage_candidates(inventory: Inventory, pipelines: PipelineMetrics, ctx: Context) -> list[Candidate]:
    s = ctx.settings
    done = ci_work_kinds(inventory, pipelines)
    wanted: dict[str, list[Evidence]] = {}
    for task in inventory.tasks:
        kinds = {line_kind(c.text) for c in task.commands} | {line_kind(task.invocation)}
        for kind in kinds & {"test", "lint", "build", "deploy"}:
            wanted.setdefault(kind, []).append(task.evidence)
    dockerfiles = [i.evidence for i in inventory.infrastructure if i.kind == "dockerfile"]
    if dockerfiles:
        wanted.setdefault("build", []).extend(dockerfiles)
    found: list[Candidate] = []
    for kind, evidence in sorted(wanted.items()):
        if kind in done:
            continue
        if kind == "deploy":  # done by hand once per release, not once per push
            frequency = procedure_frequency("release", ctx)
        elif not inventory.pipelines:
            frequency = assumed(s.pushes_per_year, f"{s.pushes_per_year:g} pushes a year (no CI yet)", s)
        else:
            frequency = ctx.rates.estimate("commits", "one run per commit", s.pushes_per_year,
                                           f"{s.pushes_per_year:g} pushes a year", s)
        found.append(Candidate(
            kind="missing-ci-stage", anchor=f"stage\x00{kind}", title=f"Add a {kind} stage to CI",
            why=f"the repository has {kind} work ({len(evidence)} place(s)) but no CI job, action or task run by CI "
                "does that kind of work",
            suggestion=f"a CI job that runs the {kind} task on every push and pull request"
                       + (" (deploys behind an environment approval)" if kind == "deploy" else ""),
            frequency=frequency,
            duration=assumed(STEP_MINUTES[kind], f"{STEP_MINUTES[kind]:g} min per {kind} run done by hand", s),
            complexity=3 if kind == "deploy" else 1,
            complexity_basis="deploy needs credentials and environments" if kind == "deploy" else
                             "one job calling an existing task",
            potential=1.0, potential_basis="the task already exists; CI only has to run it",
            risk=3 if kind == "deploy" else 1,
            risk_basis="deploys change running systems" if kind == "deploy" else "1 base", saves="person-time",
            evidence=evidence[:10], git_query=ctx.rates.query if not frequency.assumption else None,
        ))
    return found
