"""The automation opportunity matrix: every candidate found in the Inventory, scored with stated formulas.

Candidates (one kind each):

* `manual-procedure`: a documented procedure a person follows (steps a CI job already runs with the same
  arguments are left out of its duration);
* `unautomated-task`: an operational Makefile/justfile/script/... task (deploy, release, rollback, backup, ...)
  that no CI job, schedule or documented procedure runs;
* `missing-ci-stage`: the repository has tests, linters, a Dockerfile or deploy tasks, and no CI job runs
  that kind of work;
* `slow-ci`: a pipeline whose estimated critical path is long (`SLOW_PIPELINE_MINUTES`);
* `repeated-ci-work`: one install/build command run by several jobs of the same pipeline run;
  and jobs that install dependencies without a cache (also `repeated-ci-work`: the same download every run);
* `unscheduled-recurring-work`: a task named for recurring upkeep (backup, rotate, prune, ...) that nothing
  schedules;
* `manual-gate`: a CI job that waits for a person.

Scores (`FORMULAS`, repeated in every result): frequency per year comes from git (release tags, patch
releases, failed releases and commits, annualized over the history window), from cron schedules, or from a
labelled assumption; durations come from step counts and the pipeline step-minute assumptions. Every
assumption is a named constant below and is listed in the result's `assumptions`.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InputError
from .metrics.models import (
    Estimate,
    HistoryMetrics,
    Metrics,
    Opportunity,
    OpportunityKind,
    OpportunityMatrix,
    PipelineMetrics,
)
from .metrics.pipelines import STEP_MINUTES, ci_task_runs, line_kind
from .models import Evidence, Inventory, ManualProcedure, Pipeline, Task

# ------------------------------------------------------------------ assumptions (labelled in every result)
MINUTES_PER_COMMAND = 2.0  # a person typing/pasting and checking one command
MINUTES_PER_STEP_WITHOUT_COMMAND = 5.0  # a check, an announcement, a decision
PROCEDURE_RUNS_PER_YEAR = 12.0  # a documented procedure with no other signal: monthly
INCIDENT_RUNS_PER_YEAR = 2.0  # restore/recover/incident runbooks: twice a year
TASK_RUNS_PER_YEAR = 12.0  # an operational task with no other signal: monthly
UPKEEP_RUNS_PER_YEAR = 52.0  # recurring upkeep (backup, rotate, prune) that nothing schedules: weekly
MANUAL_PIPELINE_RUNS_PER_YEAR = 12.0  # a pipeline started only by hand
GATE_MINUTES = 5.0  # a person's attention per manual approval (waiting time not counted)
EFFORT_HOURS_PER_COMPLEXITY = 2.0  # writing and reviewing the automation, per complexity point
CACHE_SAVING = 0.75  # share of dependency-install time a warm cache saves
SHARED_SAVING = 0.5  # share of a repeated install/build saved by doing it once and sharing the result
PARALLEL_SAVING = 0.3  # share of a long critical path that splitting/parallelizing typically saves
SLOW_PIPELINE_MINUTES = 30.0
MIN_WINDOW_DAYS = 28.0  # git counts are annualized only over at least four weeks of history
DAYS_PER_YEAR = 365.0

FORMULAS = {
    "hours_saved_per_year": "frequency_per_year x duration_minutes / 60 x automation_potential",
    "effort_hours": f"{EFFORT_HOURS_PER_COMPLEXITY:g} x complexity (assumption)",
    "payback_months": "effort_hours / (hours_saved_per_year / 12); none when nothing is saved",
    "priority_score": "hours_saved_per_year / effort_hours (hours saved per hour invested, per year)",
    "priority": "high when payback <= 6 months, medium when <= 18 months, else low; risk >= 4 with potential "
                ">= 0.5 raises low to medium (automation removes error-prone hand work)",
    "quick_win": "effort_hours <= 4 and risk <= 2 and payback <= 12 months",
    "complexity": "1 + ceil(distinct tools / 2) + 1 if it touches production, clamped to 1..5 (procedures); "
                  "stated per candidate otherwise",
    "automation_potential": "(steps with commands + 0.5 x steps without) / steps (procedures); stated per candidate "
                            "otherwise",
    "risk": "1 + 1 if production + 2 if destructive (restore, delete, drop, --force, scale to 0, rollout undo) + 1 "
            "for remote shell access (ssh/scp), clamped to 1..5",
    "frequency_from_git": "events in the history window x 365 / window days (windows under 28 days are not "
                          "annualized)",
}
ASSUMPTIONS = {
    "minutes_per_command": f"{MINUTES_PER_COMMAND:g}",
    "minutes_per_step_without_command": f"{MINUTES_PER_STEP_WITHOUT_COMMAND:g}",
    "procedure_runs_per_year": f"{PROCEDURE_RUNS_PER_YEAR:g} (no git or schedule signal)",
    "incident_runbook_runs_per_year": f"{INCIDENT_RUNS_PER_YEAR:g}",
    "operational_task_runs_per_year": f"{TASK_RUNS_PER_YEAR:g}",
    "upkeep_runs_per_year": f"{UPKEEP_RUNS_PER_YEAR:g}",
    "manual_pipeline_runs_per_year": f"{MANUAL_PIPELINE_RUNS_PER_YEAR:g}",
    "minutes_per_manual_approval": f"{GATE_MINUTES:g}",
    "effort_hours_per_complexity_point": f"{EFFORT_HOURS_PER_COMPLEXITY:g}",
    "cache_saving_share": f"{CACHE_SAVING:g}",
    "shared_build_saving_share": f"{SHARED_SAVING:g}",
    "parallelization_saving_share": f"{PARALLEL_SAVING:g}",
    "slow_pipeline_minutes": f"{SLOW_PIPELINE_MINUTES:g}",
    "ci_step_minutes": ", ".join(f"{k} {v:g}" for k, v in STEP_MINUTES.items()),
    "push_pipeline_runs": "one run per commit in the history window (an upper bound for pushes; pull-request "
                          "runs not counted)",
}

HOTFIX = re.compile(r"hotfix|hot-fix|patch release|cherry-pick", re.IGNORECASE)
INCIDENT = re.compile(r"restore|recover|incident|outage|failover|disaster|emergency|on-call|runbook", re.IGNORECASE)
ROLLBACK = re.compile(r"rollback|roll back|roll-back|revert", re.IGNORECASE)
RELEASE = re.compile(r"releas|publish|\btag\b|version bump|bump", re.IGNORECASE)
DEPLOY = re.compile(r"deploy|rollout|promote", re.IGNORECASE)
OPERATIONAL = re.compile(
    r"deploy|release|publish|rollback|roll-back|backup|restore|migrat|rotate|cleanup|clean-up|prune|purge|"
    r"provision|promote|upload|sync|seed|vacuum|renew|expire|archive|reindex|failover|scale", re.IGNORECASE)
UPKEEP = re.compile(r"backup|rotate|prune|purge|vacuum|renew|expire|archive|reindex|cleanup|clean-up", re.IGNORECASE)
PRODUCTION = re.compile(r"\bprod(?:uction)?\b", re.IGNORECASE)
DESTRUCTIVE = re.compile(
    r"pg_restore|--clean\b|\bdrop\s|\bdelete\b|\brm\s+-[a-z]*r|truncate|destroy|--force\b|\s-f\s|"
    r"--replicas=0|rollout\s+undo|\brestore\b", re.IGNORECASE)
REMOTE = re.compile(r"(?:^|\s)(?:ssh|scp|rsync)\s", re.IGNORECASE)


# ------------------------------------------------------------------ rates from git and schedules


@dataclass(frozen=True)
class Rates:
    """Counts from the history window and their yearly rates (None when there is no usable window)."""

    window_days: float | None
    counts: dict[str, int]
    per_year_factor: float | None
    query: str | None

    @classmethod
    def from_history(cls, history: HistoryMetrics | None) -> Rates:
        if history is None or not history.available or not history.window_days:
            return cls(None, {}, None, None)
        dora = history.dora
        tags = dora.deployment_frequency.source == "release-tags"
        counts = {"commits": history.commits}
        if tags:
            counts["release tags"] = len(dora.releases)
            counts["patch releases"] = sum(1 for r in dora.releases if r.patch_release)
            counts["failed releases (change-failure proxy)"] = dora.change_failure.failed
        days = history.window_days
        factor = DAYS_PER_YEAR / days if days >= MIN_WINDOW_DAYS else None
        return cls(days, counts, factor, history.query)

    def per_year(self, what: str) -> float | None:
        if self.per_year_factor is None or what not in self.counts:
            return None
        return self.counts[what] * self.per_year_factor

    @property
    def commits(self) -> float | None:
        return self.per_year("commits")


def _git_estimate(what: str, meaning: str, rates: Rates, fallback: float, fallback_text: str) -> Estimate:
    value = rates.per_year(what)
    if value is not None:
        return Estimate(value=round(value, 2), assumption=False,
                        basis=f"git: {rates.counts[what]} {what} in {rates.window_days:g} days of history x 365 / "
                              f"{rates.window_days:g} ({meaning})")
    return Estimate(value=fallback, assumption=True, basis=f"assumption: {fallback_text}")


def pipeline_runs(pipeline: Pipeline, rates: Rates, schedules: dict[str, int]) -> Estimate:
    """Runs per year of a pipeline: its cron triggers, plus one run per commit when pushes start it, plus one
    per release when tags start it; a pipeline started only by hand uses the assumption."""
    runs = 0.0
    parts: list[str] = []
    assumption = False
    for trigger in pipeline.triggers:
        if trigger.kind == "schedule" and trigger.cron:
            count = schedules.get(trigger.cron)
            if count:
                runs += count
                parts.append(f"cron '{trigger.cron}': {count}/year")
    kinds = {t.kind for t in pipeline.triggers}
    tag_push = any(t.kind == "push" and t.filters.get("tags") and not t.filters.get("branches")
                   for t in pipeline.triggers)
    if ("push" in kinds and not tag_push) or "pull_request" in kinds:
        if rates.commits is not None:
            runs += rates.commits
            parts.append(f"git: {rates.commits:.1f} commits/year (one run per commit, an upper bound)")
        else:
            runs += MANUAL_PIPELINE_RUNS_PER_YEAR * 4
            assumption = True
            parts.append("assumption: 48 pushes/year (no usable history window)")
    if tag_push or "tag" in kinds or "release" in kinds:
        releases = rates.per_year("release tags")
        if releases is not None:
            runs += releases
            parts.append(f"git: {releases:.1f} releases/year")
        else:
            runs += PROCEDURE_RUNS_PER_YEAR
            assumption = True
            parts.append(f"assumption: {PROCEDURE_RUNS_PER_YEAR:g} releases/year")
    if runs == 0:
        runs = MANUAL_PIPELINE_RUNS_PER_YEAR
        assumption = True
        parts.append(f"assumption: {MANUAL_PIPELINE_RUNS_PER_YEAR:g} runs/year (started by hand or unknown)")
    return Estimate(value=round(runs, 2), basis="; ".join(parts), assumption=assumption)


# ------------------------------------------------------------------ scoring


def opportunity_id(kind: str, anchor: str) -> str:
    """opp-<first 10 hex of sha1(kind NUL anchor)>: the same candidate gets the same id on every run."""
    return "opp-" + hashlib.sha1(f"{kind}\x00{anchor}".encode()).hexdigest()[:10]  # noqa: S324 - an id, not security


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _clamp(value: float, low: int = 1, high: int = 5) -> int:
    return int(max(low, min(high, value)))


def score(
    *, kind: OpportunityKind, anchor: str, title: str, why: str, suggestion: str, frequency: Estimate,
    duration: Estimate, complexity: int, complexity_basis: str, potential: float, potential_basis: str, risk: int,
    risk_basis: str, saves: str, evidence: list[Evidence], git_query: str | None = None,
    related: Iterable[str] = (),
) -> Opportunity:
    """An Opportunity with hours saved, effort, payback, priority and quick-win computed by `FORMULAS`."""
    hours = frequency.value * duration.value / 60 * potential
    effort = EFFORT_HOURS_PER_COMPLEXITY * complexity
    payback = effort / (hours / 12) if hours > 0 else None
    priority = "high" if payback is not None and payback <= 6 else "medium" if payback is not None and payback <= 18 \
        else "low"
    if priority == "low" and risk >= 4 and potential >= 0.5:
        priority = "medium"
    return Opportunity(
        id=opportunity_id(kind, anchor), kind=kind, title=title, why=why, suggestion=suggestion,
        frequency_per_year=frequency, duration_minutes=duration, complexity=complexity,
        complexity_basis=complexity_basis, automation_potential=round(potential, 2), potential_basis=potential_basis,
        risk=risk, risk_basis=risk_basis, hours_saved_per_year=round(hours, 2),
        saves=saves,  # type: ignore[arg-type]
        effort_hours=effort, payback_months=round(payback, 1) if payback is not None else None,
        priority=priority,  # type: ignore[arg-type]
        priority_score=round(hours / effort, 3) if effort else 0.0,
        quick_win=effort <= 4 and risk <= 2 and payback is not None and payback <= 12,
        evidence=evidence, git_query=git_query, related=list(related),
    )


def _first_word(command: str) -> str:
    words = [w for w in command.split() if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w) and w not in ("sudo", "env")]
    return posixpath.basename(words[0].lstrip("$ ")) if words else ""


def risk_of(texts: Iterable[str]) -> tuple[int, str]:
    joined = "\n".join(texts)
    reasons = []
    value = 1
    if PRODUCTION.search(joined):
        value += 1
        reasons.append("touches production (+1)")
    if DESTRUCTIVE.search(joined):
        value += 2
        reasons.append("destructive or restoring commands (+2)")
    if REMOTE.search(joined):
        value += 1
        reasons.append("remote shell access (+1)")
    return _clamp(value), "1 base" + "".join(f", {r}" for r in reasons)


# ------------------------------------------------------------------ candidates


def _procedure_kind(procedure: ManualProcedure) -> str:
    title = " ".join(procedure.heading_path or [procedure.title])
    markers = " ".join(procedure.markers)
    if HOTFIX.search(title) or (HOTFIX.search(markers) and not RELEASE.search(title)):
        return "hotfix"
    if ROLLBACK.search(title):
        return "rollback"
    if INCIDENT.search(title) or INCIDENT.search(procedure.path):
        return "incident"
    if RELEASE.search(title) or "release" in procedure.markers:
        return "release"
    if DEPLOY.search(title) or "deploy" in procedure.markers:
        return "deploy"
    return "other"


def _procedure_frequency(kind: str, rates: Rates) -> Estimate:
    if kind in ("release", "deploy"):
        return _git_estimate("release tags", "one run per release", rates, PROCEDURE_RUNS_PER_YEAR,
                             f"{PROCEDURE_RUNS_PER_YEAR:g} releases a year (no release tags in a usable window)")
    if kind == "hotfix":
        return _git_estimate("patch releases", "one run per patch release", rates,
                             PROCEDURE_RUNS_PER_YEAR / 3, "4 hotfixes a year (no release tags in a usable window)")
    if kind == "rollback":
        return _git_estimate("failed releases (change-failure proxy)", "one run per failed release", rates,
                             INCIDENT_RUNS_PER_YEAR, f"{INCIDENT_RUNS_PER_YEAR:g} rollbacks a year")
    if kind == "incident":
        return Estimate(value=INCIDENT_RUNS_PER_YEAR, assumption=True,
                        basis=f"assumption: an incident runbook is followed {INCIDENT_RUNS_PER_YEAR:g} times a year")
    return Estimate(value=PROCEDURE_RUNS_PER_YEAR, assumption=True,
                    basis=f"assumption: a documented procedure is followed {PROCEDURE_RUNS_PER_YEAR:g} times a year")


SUGGESTIONS = {
    "release": "a release pipeline started by a tag (or a release-please/semantic-release PR) that checks CI, "
               "builds and publishes the artifact and deploys it, with a required approval for production",
    "deploy": "a deploy job in CI, started by a merge or a tag, with an environment approval for production",
    "hotfix": "a hotfix workflow: branch from the tag, cherry-pick, and reuse the release pipeline with a patch "
              "version",
    "rollback": "a manually started (workflow_dispatch) rollback job, or an automatic rollback on a failed health "
                "check after deploy",
    "incident": "a scripted, parameterized runbook (a CI job or a small CLI with dry-run) that a person starts and "
                "that logs every step",
    "other": "a script or CI job that runs these steps, started by hand or on a schedule",
}


def procedure_candidates(inventory: Inventory, pipelines: PipelineMetrics, rates: Rates) -> list[Opportunity]:
    duplicated: dict[str, list[str]] = {}
    differing: dict[str, list[str]] = {}
    for dup in pipelines.procedure_duplicates:
        key = f"{dup.procedure}\x00{dup.step_evidence}"
        (duplicated if dup.same_arguments else differing).setdefault(key, []).append(
            f"`{dup.step_command}` is what {dup.automation} runs (`{dup.ci_command}`)" if dup.same_arguments else
            f"`{dup.step_command}` differs from what {dup.automation} runs (`{dup.ci_command}`: "
            f"{'; '.join(dup.differences)})")
    found: list[Opportunity] = []
    for procedure in inventory.procedures:
        kind = _procedure_kind(procedure)
        steps = []
        notes: list[str] = []
        for step in procedure.steps:
            key = f"{procedure.id}\x00{step.evidence}"
            if key in duplicated and len(duplicated[key]) >= len(step.commands) > 0 and key not in differing:
                notes.append(f"step at {step.evidence} is already automated: {duplicated[key][0]}")
                continue
            if key in differing:
                notes.append(f"step at {step.evidence}: {differing[key][0]}")
            steps.append(step)
        if not steps:
            continue
        commands = [c.text for s in steps for c in s.commands]
        with_commands = sum(1 for s in steps if s.commands)
        minutes = sum(MINUTES_PER_COMMAND * len(s.commands) if s.commands else MINUTES_PER_STEP_WITHOUT_COMMAND
                      for s in steps)
        tools = sorted({_first_word(c) for c in commands} - {""})
        texts = [*commands, *(s.text for s in steps)]
        production = bool(PRODUCTION.search("\n".join(texts)))
        complexity = _clamp(1 + math.ceil(len(tools) / 2) + production)
        potential = (with_commands + 0.5 * (len(steps) - with_commands)) / len(steps)
        risk, risk_basis = risk_of(texts)
        frequency = _procedure_frequency(kind, rates)
        title = " › ".join(procedure.heading_path) if procedure.heading_path else procedure.title
        why = (f"{_plural(len(steps), 'step')} done by hand ({with_commands} with commands, "
               f"{_plural(len(commands), 'command')}); "
               f"hand-work markers: {', '.join(procedure.markers) or 'none'}")
        if notes:
            why += ". " + ". ".join(notes)
        found.append(score(
            kind="manual-procedure", anchor=procedure.id, title=f"Automate '{title}'", why=why,
            suggestion=SUGGESTIONS[kind], frequency=frequency,
            duration=Estimate(value=minutes, assumption=True,
                              basis=f"{MINUTES_PER_COMMAND:g} min per command x {len(commands)} + "
                                    f"{MINUTES_PER_STEP_WITHOUT_COMMAND:g} min per step without a command x "
                                    f"{len(steps) - with_commands} (assumptions)"),
            complexity=complexity,
            complexity_basis=f"1 + ceil({len(tools)} tools ({', '.join(tools) or 'none'}) / 2)"
                             + (" + 1 production" if production else ""),
            potential=potential,
            potential_basis=f"({with_commands} steps with commands + 0.5 x {len(steps) - with_commands} without) / "
                            f"{len(steps)} steps",
            risk=risk, risk_basis=risk_basis, saves="person-time",
            evidence=[procedure.evidence, *(s.evidence for s in steps)],
            git_query=rates.query if not frequency.assumption else None, related=[procedure.id],
        ))
    return found


def _schedule_covers(target: str, task: Task) -> bool:
    """Whether a schedule's target runs this task: its invocation, its script (by file name), or one of its
    commands (normalized) appears in the target."""
    text = " ".join(target.split())
    if task.invocation and " ".join(task.invocation.split()) in text:
        return True
    names = {posixpath.basename(task.path)} if task.runner == "script" else set()
    for command in task.commands:
        first = command.text.split()[0] if command.text.split() else ""
        if "/" in first or first.endswith((".sh", ".py")):
            names.add(posixpath.basename(first))
        if len(command.text) > 8 and " ".join(command.text.split()) in text:
            return True
    words = {posixpath.basename(w) for w in text.split()}
    return bool(names & words)


def task_candidates(inventory: Inventory, pipelines: PipelineMetrics, rates: Rates) -> list[Opportunity]:
    runs = ci_task_runs(inventory)
    in_procedures = {ref.ref for p in inventory.procedures for s in p.steps for ref in s.automated_by}
    scheduled = {t.id for t in inventory.tasks if any(_schedule_covers(s.target, t) for s in inventory.schedules)}
    automated = set(runs) | scheduled
    # A task that an automated task depends on runs with it.
    by_name = {(t.path, t.name): t.id for t in inventory.tasks}
    changed = True
    while changed:
        changed = False
        for task in inventory.tasks:
            if task.id in automated:
                for dep in task.depends_on:
                    dep_id = by_name.get((task.path, dep))
                    if dep_id and dep_id not in automated:
                        automated.add(dep_id)
                        changed = True
    found: list[Opportunity] = []
    for task in inventory.tasks:
        text = " ".join([task.name, task.description or "", *(c.text for c in task.commands)])
        if task.id in automated or task.id in in_procedures or not OPERATIONAL.search(task.name):
            continue
        upkeep = bool(UPKEEP.search(task.name))
        rollback = bool(ROLLBACK.search(task.name))
        if upkeep:
            frequency = Estimate(value=UPKEEP_RUNS_PER_YEAR, assumption=True,
                                 basis=f"assumption: recurring upkeep, {UPKEEP_RUNS_PER_YEAR:g} times a year")
        elif rollback:
            frequency = _procedure_frequency("rollback", rates)
        elif RELEASE.search(task.name) or DEPLOY.search(task.name):
            frequency = _procedure_frequency("release", rates)
        else:
            frequency = Estimate(value=TASK_RUNS_PER_YEAR, assumption=True,
                                 basis=f"assumption: an operational task is run {TASK_RUNS_PER_YEAR:g} times a year")
        commands = max(1, len(task.commands))
        risk, risk_basis = risk_of([text])
        kind: OpportunityKind = "unscheduled-recurring-work" if upkeep else "unautomated-task"
        found.append(score(
            kind=kind, anchor=task.id,
            title=f"Schedule `{task.invocation}`" if upkeep else f"Run `{task.invocation}` from CI",
            why=f"{task.runner} task '{task.name}' ({task.description or 'no description'}) is operational work that "
                "no CI job, schedule or documented procedure runs: someone runs it by hand",
            suggestion="a scheduled job (CI schedule or Kubernetes CronJob) with alerting on failure" if upkeep else
                       "a CI job started by hand (workflow_dispatch/manual job) that runs it with logs and an audit "
                       "trail" + (", or an automatic rollback on a failed health check" if rollback else ""),
            frequency=frequency,
            duration=Estimate(value=MINUTES_PER_COMMAND * commands + MINUTES_PER_STEP_WITHOUT_COMMAND, assumption=True,
                              basis=f"{MINUTES_PER_COMMAND:g} min x {_plural(commands, 'command')} + "
                                    f"{MINUTES_PER_STEP_WITHOUT_COMMAND:g} min to decide and check (assumptions)"),
            complexity=2 if commands > 2 else 1,
            complexity_basis="the commands are already scripted in the task: 1, or 2 with more than 2 commands",
            potential=1.0 if upkeep else 0.5,
            potential_basis="fully schedulable upkeep" if upkeep else
                            "0.5: the commands are scripted, but a person still decides when to run them",
            risk=risk, risk_basis=risk_basis, saves="person-time", evidence=[task.evidence],
            git_query=rates.query if not frequency.assumption else None, related=[task.id],
        ))
    return found


def ci_candidates(inventory: Inventory, pipelines: PipelineMetrics, rates: Rates) -> list[Opportunity]:
    schedules = {s.expression: s.runs_per_year or 0 for s in pipelines.schedules}
    by_id = {p.id: p for p in inventory.pipelines}
    found: list[Opportunity] = []
    # Dependency installs without a cache, grouped by pipeline.
    grouped: dict[str, list] = {}
    for missing in pipelines.missing_caches:
        grouped.setdefault(missing.pipeline, []).append(missing)
    for pipeline_id, items in grouped.items():
        pipeline = by_id.get(pipeline_id)
        if pipeline is None:
            continue
        installs = sum(len(m.install_commands) * m.instances for m in items)
        frequency = pipeline_runs(pipeline, rates, schedules)
        found.append(score(
            kind="repeated-ci-work", anchor=f"cache\x00{pipeline_id}",
            title=f"Cache dependencies in '{pipeline.name}'",
            why=f"{', '.join(m.job for m in items)} install dependencies on every run without a cache "
                f"({_plural(installs, 'install command')} per run, matrix counted)",
            suggestion="a dependency cache keyed on the lock file (e.g. setup-python/setup-node `cache:`, "
                       "actions/cache, GitLab `cache:`)",
            frequency=frequency,
            duration=Estimate(value=STEP_MINUTES["install"] * installs, assumption=True,
                              basis=f"{STEP_MINUTES['install']:g} min per install (assumption) x {installs}"),
            complexity=1, complexity_basis="a few lines of CI configuration", potential=CACHE_SAVING,
            potential_basis=f"assumption: a warm cache saves {CACHE_SAVING:.0%} of install time",
            risk=1, risk_basis="1 base (a cache miss only costs time)", saves="ci-time",
            evidence=[ev for m in items for ev in m.evidence],
            git_query=rates.query if rates.commits is not None else None, related=[pipeline_id],
        ))
    # The same install/build command in several jobs of one pipeline run.
    for repeated in pipelines.repeated_steps:
        per_pipeline: dict[str, list[str]] = {}
        for job in repeated.jobs:
            pipeline_id = next((p for p in by_id if job.startswith(p + "/")), None)
            if pipeline_id:
                per_pipeline.setdefault(pipeline_id, []).append(job[len(pipeline_id) + 1:])
        for pipeline_id, jobs in per_pipeline.items():
            pipeline = by_id[pipeline_id]
            instances = sum(
                (j.matrix.fan_out if j.matrix and j.matrix.fan_out else 1) for j in pipeline.jobs if j.id in jobs)
            if instances < 2:
                continue
            frequency = pipeline_runs(pipeline, rates, schedules)
            minutes = STEP_MINUTES[repeated.kind] * (instances - 1)
            found.append(score(
                kind="repeated-ci-work", anchor=f"repeat\x00{pipeline_id}\x00{repeated.command}",
                title=f"Run `{repeated.command}` once per '{pipeline.name}' run",
                why=f"{instances} job instances ({', '.join(jobs)}) each run `{repeated.command}`",
                suggestion="build once and share the result (an artifact, a prebuilt CI image, or a composite action "
                           "with a cache)",
                frequency=frequency,
                duration=Estimate(value=minutes, assumption=True,
                                  basis=f"{STEP_MINUTES[repeated.kind]:g} min per {repeated.kind} (assumption) x "
                                        f"{instances - 1} repeats"),
                complexity=2, complexity_basis="a shared artifact or image, and jobs that use it",
                potential=SHARED_SAVING,
                potential_basis=f"assumption: sharing saves {SHARED_SAVING:.0%} of the repeats",
                risk=1, risk_basis="1 base", saves="ci-time",
                evidence=[ev for ev in repeated.evidence if ev.path == pipeline.path],
                git_query=rates.query if rates.commits is not None else None, related=[pipeline_id],
            ))
    # Long critical paths.
    for graph in pipelines.pipelines:
        pipeline = by_id.get(graph.pipeline)
        if pipeline is None or pipeline.kind != "pipeline" or graph.critical_path_minutes < SLOW_PIPELINE_MINUTES:
            continue
        frequency = pipeline_runs(pipeline, rates, schedules)
        found.append(score(
            kind="slow-ci", anchor=f"slow\x00{graph.pipeline}", title=f"Shorten the critical path of '{graph.name}'",
            why=f"estimated critical path {graph.critical_path_minutes:g} min through "
                f"{' → '.join(graph.critical_path_by_minutes)} (step-kind estimate)",
            suggestion="split long jobs, run independent jobs in parallel (drop needless `needs`), cache, and "
                       "shard tests",
            frequency=frequency,
            duration=Estimate(value=graph.critical_path_minutes, assumption=True,
                              basis="the estimated critical path (step-minute assumptions)"),
            complexity=3, complexity_basis="restructuring jobs and their dependencies", potential=PARALLEL_SAVING,
            potential_basis=f"assumption: {PARALLEL_SAVING:.0%} of the critical path", risk=1, risk_basis="1 base",
            saves="ci-time", evidence=[graph.evidence], related=[graph.pipeline],
        ))
    # Manual gates.
    for gate in pipelines.manual_gates:
        if gate.kind != "manual-job":
            continue
        pipeline = by_id.get(gate.pipeline)
        if pipeline is None:
            continue
        frequency = pipeline_runs(pipeline, rates, schedules)
        found.append(score(
            kind="manual-gate", anchor=f"gate\x00{gate.pipeline}/{gate.job}",
            title=f"Replace the manual gate '{gate.job}' in '{pipeline.name}' with automated checks",
            why=f"job '{gate.job}' waits for a person ({gate.note})",
            suggestion="automated promotion checks (tests, smoke tests, error budgets) with a person only for "
                       "exceptions, or keep the gate where policy requires it",
            frequency=frequency,
            duration=Estimate(value=GATE_MINUTES, assumption=True,
                              basis=f"assumption: {GATE_MINUTES:g} min of a person's attention per approval"),
            complexity=2, complexity_basis="automated checks to replace a person's judgement",
            potential=0.5, potential_basis="0.5: some approvals are required by policy",
            risk=3 if gate.blocking else 2, risk_basis="a gate guards what follows it", saves="person-time",
            evidence=[gate.evidence], related=[gate.pipeline],
        ))
    found.extend(_missing_stages(inventory, pipelines, rates))
    return found


def _missing_stages(inventory: Inventory, pipelines: PipelineMetrics, rates: Rates) -> list[Opportunity]:
    ci_kinds: set[str] = set()
    for graph in pipelines.pipelines:
        for job in graph.job_estimates:
            ci_kinds.update(job.step_kinds)
    wanted: dict[str, list[Evidence]] = {}
    for task in inventory.tasks:
        kinds = {line_kind(c.text) for c in task.commands} | {line_kind(task.invocation)}
        for kind in kinds & {"test", "lint", "build", "deploy"}:
            wanted.setdefault(kind, []).append(task.evidence)
    if any(item.kind == "dockerfile" for item in inventory.infrastructure):
        wanted.setdefault("build", []).extend(i.evidence for i in inventory.infrastructure if i.kind == "dockerfile")
    found: list[Opportunity] = []
    if not inventory.pipelines and not wanted:
        return found
    for kind, evidence in sorted(wanted.items()):
        if kind in ci_kinds:
            continue
        frequency = (
            Estimate(value=round(rates.commits, 2), assumption=False,
                     basis=f"git: one run per commit ({rates.commits:.1f}/year over {rates.window_days:g} days)")
            if rates.commits is not None else
            Estimate(value=48, assumption=True, basis="assumption: 48 pushes a year")
        )
        found.append(score(
            kind="missing-ci-stage", anchor=f"stage\x00{kind}", title=f"Add a {kind} stage to CI",
            why=f"the repository has {kind} work ({len(evidence)} place(s)) but no CI job runs it",
            suggestion=f"a CI job that runs the {kind} task on every push and pull request"
                       + (" (deploys behind an environment approval)" if kind == "deploy" else ""),
            frequency=frequency,
            duration=Estimate(value=STEP_MINUTES[kind], assumption=True,
                              basis=f"assumption: {STEP_MINUTES[kind]:g} min per {kind} run done by hand"),
            complexity=3 if kind == "deploy" else 1,
            complexity_basis="deploy needs credentials and environments" if kind == "deploy" else
                             "one job calling an existing task",
            potential=1.0, potential_basis="the task already exists; CI only has to run it",
            risk=3 if kind == "deploy" else 1, risk_basis="deploys change running systems" if kind == "deploy" else
            "1 base", saves="person-time", evidence=evidence[:10],
            git_query=rates.query if rates.commits is not None else None,
        ))
    return found


# ------------------------------------------------------------------ the matrix


PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def opportunity_matrix(
    inventory: Inventory, pipelines: PipelineMetrics, history: HistoryMetrics | None = None
) -> OpportunityMatrix:
    """Every candidate, scored (see the module docstring and `FORMULAS`), best first: priority, then score."""
    rates = Rates.from_history(history)
    candidates = [
        *procedure_candidates(inventory, pipelines, rates),
        *task_candidates(inventory, pipelines, rates),
        *ci_candidates(inventory, pipelines, rates),
    ]
    unique: dict[str, Opportunity] = {}
    for candidate in candidates:
        unique.setdefault(candidate.id, candidate)
    ordered = sorted(unique.values(), key=lambda o: (PRIORITY_ORDER[o.priority], -o.priority_score, o.title))
    assumptions = dict(ASSUMPTIONS)
    if rates.window_days is not None and rates.window_days < MIN_WINDOW_DAYS:
        assumptions["history_window"] = (f"only {rates.window_days:g} days of history: git counts were not "
                                         "annualized; assumptions used instead")
    return OpportunityMatrix(
        root=inventory.root, formulas=dict(FORMULAS), assumptions=assumptions, opportunities=ordered,
        hours_saved_per_year=round(sum(o.hours_saved_per_year for o in ordered), 2),
        diagnostics=list(history.diagnostics) if history is not None else [],
    )


def opportunities(
    path: str, *, since: str | None = None, max_commits: int | None = None, metrics: Metrics | None = None,
    inventory: Inventory | None = None,
) -> OpportunityMatrix:
    """Scan `path` (or use the given inventory and metrics) and score its automation opportunities."""
    from .metrics import collect_metrics
    from .service import scan

    inventory = inventory or scan(path)
    metrics = metrics or collect_metrics(path, inventory=inventory, since=since, max_commits=max_commits, tokens=False)
    return opportunity_matrix(inventory, metrics.pipelines, metrics.history)


def opportunity_by_id(matrix: OpportunityMatrix, opportunity: str) -> Opportunity:
    """The opportunity with this id (e.g. for `generate --from-opportunity ID`); InputError naming the known ids."""
    for item in matrix.opportunities:
        if item.id == opportunity:
            return item
    known = ", ".join(o.id for o in matrix.opportunities) or "none"
    raise InputError(f"No opportunity '{opportunity}' in {matrix.root} (known: {known}).")
