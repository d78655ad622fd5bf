"""Candidates a person does by hand: documented procedures (`manual-procedure`) and operational tasks that
nothing runs (`unautomated-task`, `unscheduled-recurring-work`).

A procedure is **already automated** (left out, listed in `excluded` with the reason) when every command it
gives is run by CI with the same arguments: through `metrics.pipelines.procedure_duplicates` (the same command,
or a task both run), or through `same_command`: the same words once the script path is compared by its tail
(`./core-repo/scripts/x.sh` and `scripts/x.sh`) and an interpreter prefix is dropped (`bash x.sh` and `./x.sh`).
A procedure with some steps automated keeps only the others in its duration. Risk counts irreversible steps the
procedure's own text warns about (`scoring.IRREVERSIBLE`).

A section **addressed to AI assistants** (a prompt injection: "ignore previous instructions", "note for automated
assistants") is not a procedure for people: it is listed in `excluded`, without repeating its text.

A task CI runs through a runner prefix (`bundle exec rake x` runs `rake x`) is automated, and a task named for a
developer's own machine (`restore-local`, `seed-dev`) is not operational work.

A procedure that only **points at tasks** (at most MAX_POINTER_STEPS steps, every step a command that runs a
task, e.g. a README line "deploy with `make deploy HOST=...`") is that task's documentation: the task is the
candidate, and the procedure is listed in `excluded`.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Sequence

from .. import shellwords
from ..config import OpportunitySettings
from ..discovery.automation_links import normalize, script_lines
from ..metrics.models import Estimate, Excluded, PipelineMetrics
from ..metrics.pipelines import ci_task_runs
from ..models import Inventory, ManualProcedure, Task
from .context import Context
from .scoring import Candidate, assumed, clamp, risk_of

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
INTERPRETERS = {"bash", "sh", "zsh", "source", ".", "python", "python3", "node", "ruby", "perl", "pwsh"}
WRAPPERS = {"sudo", "env", "time", "exec"}
# Runners that run the rest of the line as the command: `bundle exec rake x` runs `rake x`.
RUNNER_PREFIXES = (("bundle", "exec"), ("poetry", "run"), ("pipenv", "run"), ("uv", "run"), ("pdm", "run"),
                   ("npx",), ("pnpm", "exec"), ("yarn", "exec"))
# A task for a developer's own machine (restore-local, db:seed-dev) is not operational work to automate.
DEVELOPER_ONLY = re.compile(r"(?:^|[-_:./])(?:local|dev|devel|development)(?:$|[-_:./])", re.IGNORECASE)
MAX_POINTER_STEPS = 2
ADDRESSED_TO_AI = re.compile(
    r"ignore (?:all )?(?:the )?(?:previous|prior|above) instructions|(?:note|notice|message|instructions?) (?:for|to) "
    r"(?:any )?(?:automated|ai|llm) (?:assistants?|agents?|reviewers?|models?)|(?:ai|llm) (?:assistants?|agents?) "
    r"(?:must|should|reading)|\bas an ai\b|system notice to any ai", re.IGNORECASE)

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


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ------------------------------------------------------------------ command matching


def command_words(text: str) -> list[str]:
    """A command's words for comparison: no assignments before it, no sudo/env, no interpreter in front of a
    script, and a script path without its leading `./`."""
    try:
        words = shellwords.split(normalize(text))
    except ValueError:
        words = normalize(text).split()
    while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]) or words[0] in WRAPPERS):
        words = words[1:]
    for prefix in RUNNER_PREFIXES:
        if tuple(words[:len(prefix)]) == prefix and len(words) > len(prefix):
            words = words[len(prefix):]
            break
    if len(words) > 1 and words[0] in INTERPRETERS and not words[1].startswith("-"):
        words = words[1:]
    if words:
        words[0] = words[0].removeprefix("./")
    return words


def _same_path(a: str, b: str) -> bool:
    """Two script paths name the same file when one is the other's tail (`core/scripts/x.sh`, `scripts/x.sh`)."""
    if a == b:
        return True
    if "/" not in a and "/" not in b:
        return False
    return a.endswith("/" + b) or b.endswith("/" + a)


def same_command(by_hand: str, in_ci: str) -> bool:
    """Whether a procedure's command and a CI command line run the same thing with the same arguments."""
    a, b = command_words(by_hand), command_words(in_ci)
    if not a or not b or len(a) != len(b):
        return False
    return _same_path(a[0], b[0]) and a[1:] == b[1:]


def ci_command_lines(inventory: Inventory) -> list[tuple[str, str]]:
    """(pipeline id / job id, command line) of every shell step of every pipeline."""
    lines: list[tuple[str, str]] = []
    for pipeline in inventory.pipelines:
        for job in pipeline.jobs:
            for step in job.steps:
                if step.kind in ("run", "script") and step.command:
                    lines.extend((f"{pipeline.id}/{job.id}", line) for line in script_lines(step.command))
    return lines


def _automated_commands(procedure: ManualProcedure, pipelines: PipelineMetrics,
                        ci_lines: Sequence[tuple[str, str]]) -> dict[str, str]:
    """command text -> how CI already runs it (same arguments only)."""
    done: dict[str, str] = {}
    differing = {d.step_command for d in pipelines.procedure_duplicates if d.procedure == procedure.id
                 and not d.same_arguments}
    for dup in pipelines.procedure_duplicates:
        if dup.procedure == procedure.id and dup.same_arguments and dup.step_command not in differing:
            done.setdefault(dup.step_command, f"`{dup.step_command}` is what {dup.automation} runs "
                                              f"(`{dup.ci_command}`)")
    for step in procedure.steps:
        for command in step.commands:
            if command.text in done or command.text in differing:
                continue
            job = next((job for job, line in ci_lines if same_command(command.text, line)), None)
            if job is not None:
                done[command.text] = f"`{command.text}` is what {job} runs"
    return done


# ------------------------------------------------------------------ procedures


def procedure_kind(procedure: ManualProcedure) -> str:
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


CADENCE = {"daily": 365.0, "nightly": 365.0, "weekly": 52.0, "fortnightly": 26.0, "biweekly": 26.0,
           "monthly": 12.0, "quarterly": 4.0, "yearly": 1.0, "annual": 1.0}
_CADENCE = re.compile(r"\b(" + "|".join(CADENCE) + r")\b", re.IGNORECASE)


def stated_cadence(title: str, s: OpportunitySettings) -> Estimate | None:
    """A cadence the procedure's own title states ("Monthly sales report"): that many runs a year."""
    match = _CADENCE.search(title)
    if match is None:
        return None
    value = CADENCE[match.group(1).lower()]
    return Estimate(value=value, low=value, high=value, assumption=False,
                    basis=f"the procedure's title says '{match.group(1)}': {value:g} runs a year")


def procedure_frequency(kind: str, ctx: Context) -> Estimate:
    s, rates = ctx.settings, ctx.rates
    if kind in ("release", "deploy"):
        return rates.estimate("release tags", "one run per release", s.release_runs_per_year,
                              f"{s.release_runs_per_year:g} releases a year", s)
    if kind == "hotfix":
        return rates.estimate("failed releases (change-failure proxy)", "one hotfix per failed release",
                              s.hotfix_runs_per_year, f"{s.hotfix_runs_per_year:g} hotfixes a year", s)
    if kind == "rollback":
        return rates.estimate("failed releases (change-failure proxy)", "one run per failed release",
                              s.incident_runs_per_year, f"{s.incident_runs_per_year:g} rollbacks a year", s)
    if kind == "incident":
        return assumed(s.incident_runs_per_year,
                       f"an incident runbook is followed {s.incident_runs_per_year:g} times a year", s)
    return assumed(s.procedure_runs_per_year,
                   f"a documented procedure is followed {s.procedure_runs_per_year:g} times a year", s)


def _first_word(command: str) -> str:
    words = command_words(command)
    return posixpath.basename(words[0].lstrip("$ ")) if words else ""


def points_at_tasks(procedure: ManualProcedure) -> list[str]:
    """The task ids a pointer procedure runs (see the module docstring), else an empty list."""
    steps = procedure.steps
    if not steps or len(steps) > MAX_POINTER_STEPS:
        return []
    tasks: list[str] = []
    for step in steps:
        refs = [r.ref for r in step.automated_by if r.kind == "task" and r.match == "invokes"]
        if not step.commands or len(refs) < len(step.commands):
            return []
        tasks.extend(refs)
    return list(dict.fromkeys(tasks))


def procedure_candidates(inventory: Inventory, pipelines: PipelineMetrics, ctx: Context
                         ) -> tuple[list[Candidate], list[Excluded]]:
    s = ctx.settings
    ci_lines = ci_command_lines(inventory)
    found: list[Candidate] = []
    excluded: list[Excluded] = []
    for procedure in inventory.procedures:
        kind = procedure_kind(procedure)
        title = " › ".join(procedure.heading_path) if procedure.heading_path else procedure.title
        if ADDRESSED_TO_AI.search("\n".join([title, *ctx.section_text(procedure.evidence)])):
            excluded.append(Excluded(
                kind="manual-procedure", title="A section addressed to AI assistants",
                reason="its text addresses automated assistants (a prompt injection), not people: not a procedure",
                evidence=[procedure.evidence]))
            continue
        pointed = points_at_tasks(procedure)
        if pointed:
            excluded.append(Excluded(
                kind="manual-procedure", title=f"Automate '{title}'",
                reason=f"it only says how to run {', '.join(pointed)}: the task is assessed on its own",
                evidence=[procedure.evidence]))
            continue
        done = _automated_commands(procedure, pipelines, ci_lines)
        all_commands = [c.text for st in procedure.steps for c in st.commands]
        if all_commands and all(c in done for c in all_commands):
            excluded.append(Excluded(
                kind="manual-procedure", title=f"Automate '{title}'",
                reason="already automated: every command is run by CI with the same arguments (" +
                       "; ".join(done[c] for c in dict.fromkeys(all_commands)) + ")",
                evidence=[procedure.evidence]))
            continue
        steps = [st for st in procedure.steps if not (st.commands and all(c.text in done for c in st.commands))]
        notes = [f"step at {st.evidence} is already automated: {done[st.commands[0].text]}"
                 for st in procedure.steps if st not in steps]
        notes += [f"`{d.step_command}` differs from what {d.automation} runs (`{d.ci_command}`: "
                  f"{'; '.join(d.differences)})" for d in pipelines.procedure_duplicates
                  if d.procedure == procedure.id and not d.same_arguments]
        if not steps:
            continue
        commands = [c.text for st in steps for c in st.commands]
        with_commands = sum(1 for st in steps if st.commands)
        without = len(steps) - with_commands
        minutes = s.minutes_per_command * len(commands) + s.minutes_per_step_without_command * without
        tools = sorted({_first_word(c) for c in commands} - {""})
        texts = [*commands, *(st.text for st in steps), *ctx.section_text(procedure.evidence)]
        production = bool(PRODUCTION.search("\n".join(texts)))
        complexity = clamp(1 + math.ceil(len(tools) / 2) + production)
        potential = (with_commands + 0.5 * without) / len(steps)
        risk, risk_basis = risk_of(texts)
        frequency = stated_cadence(title, s) or procedure_frequency(kind, ctx)
        why = (f"{plural(len(steps), 'step')} done by hand ({with_commands} with commands, "
               f"{plural(len(commands), 'command')}); hand-work markers: {', '.join(procedure.markers) or 'none'}")
        if notes:
            why += ". " + ". ".join(dict.fromkeys(notes))
        duration = Estimate(
            value=minutes, low=round(minutes * s.low_factor, 2), high=round(minutes * s.high_factor, 2),
            assumption=True,
            basis=f"{s.minutes_per_command:g} min per command x {len(commands)} + "
                  f"{s.minutes_per_step_without_command:g} min per step without a command x {without} "
                  f"(assumptions; bounds x{s.low_factor:g} .. x{s.high_factor:g})")
        found.append(Candidate(
            kind="manual-procedure", anchor=procedure.id, title=f"Automate '{title}'", why=why,
            suggestion=SUGGESTIONS[kind], frequency=frequency, duration=duration, complexity=complexity,
            complexity_basis=f"1 + ceil({len(tools)} tools ({', '.join(tools) or 'none'}) / 2)"
                             + (" + 1 production" if production else ""),
            potential=potential,
            potential_basis=f"({with_commands} steps with commands + 0.5 x {without} without) / {len(steps)} steps",
            risk=risk, risk_basis=risk_basis, saves="person-time",
            evidence=[procedure.evidence, *(st.evidence for st in steps)],
            git_query=ctx.rates.query if not frequency.assumption else None, related=[procedure.id],
        ))
    return found, excluded


# ------------------------------------------------------------------ tasks


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


def with_dependencies(inventory: Inventory, tasks: set[str]) -> set[str]:
    """`tasks` and every task they depend on, transitively (by name within the same file)."""
    automated = set(tasks)
    by_name = {(t.path, t.name): t.id for t in inventory.tasks}
    changed = True
    while changed:
        changed = False
        for task in inventory.tasks:
            if task.id not in automated:
                continue
            for dep in task.depends_on:
                dep_id = by_name.get((task.path, dep))
                if dep_id and dep_id not in automated:
                    automated.add(dep_id)
                    changed = True
    return automated


def _automated_tasks(inventory: Inventory) -> set[str]:
    """Tasks a CI job or a schedule runs, and the tasks they depend on."""
    scheduled = {t.id for t in inventory.tasks if any(_schedule_covers(s.target, t) for s in inventory.schedules)}
    lines = [line for _, line in ci_command_lines(inventory)]
    wrapped = {t.id for t in inventory.tasks if t.invocation and any(same_command(t.invocation, line)
                                                                      for line in lines)}
    return with_dependencies(inventory, set(ci_task_runs(inventory)) | scheduled | wrapped)


def task_candidates(inventory: Inventory, ctx: Context) -> list[Candidate]:
    s = ctx.settings
    automated = _automated_tasks(inventory)
    in_procedures = {ref.ref for p in inventory.procedures if not points_at_tasks(p)
                     for st in p.steps for ref in st.automated_by}
    found: list[Candidate] = []
    for task in inventory.tasks:
        if task.id in automated or task.id in in_procedures or not OPERATIONAL.search(task.name):
            continue
        if DEVELOPER_ONLY.search(task.name):
            continue  # a developer's local convenience (restore-local), not operations
        text = " ".join([task.name, task.description or "", *(c.text for c in task.commands)])
        upkeep = bool(UPKEEP.search(task.name))
        rollback = bool(ROLLBACK.search(task.name))
        if upkeep:
            frequency = assumed(s.upkeep_runs_per_year, f"recurring upkeep, {s.upkeep_runs_per_year:g} times a year",
                                s)
        elif rollback:
            frequency = procedure_frequency("rollback", ctx)
        elif RELEASE.search(task.name) or DEPLOY.search(task.name):
            frequency = procedure_frequency("release", ctx)
        else:
            frequency = assumed(s.task_runs_per_year, f"an operational task is run {s.task_runs_per_year:g} times "
                                                      "a year", s)
        commands = max(1, len(task.commands))
        minutes = s.minutes_per_command * commands + s.minutes_per_step_without_command
        risk, risk_basis = risk_of([text])
        found.append(Candidate(
            kind="unscheduled-recurring-work" if upkeep else "unautomated-task", anchor=task.id,
            title=f"Schedule `{task.invocation}`" if upkeep else f"Run `{task.invocation}` from CI",
            why=f"{task.runner} task '{task.name}' ({task.description or 'no description'}) is operational work that "
                "no CI job, schedule or documented procedure runs: someone runs it by hand",
            suggestion="a scheduled job (CI schedule or Kubernetes CronJob) with alerting on failure" if upkeep else
                       "a CI job started by hand (workflow_dispatch/manual job) that runs it with logs and an audit "
                       "trail" + (", or an automatic rollback on a failed health check" if rollback else ""),
            frequency=frequency,
            duration=assumed(minutes, f"{s.minutes_per_command:g} min x {plural(commands, 'command')} + "
                                      f"{s.minutes_per_step_without_command:g} min to decide and check", s),
            complexity=2 if commands > 2 else 1,
            complexity_basis="the commands are already scripted in the task: 1, or 2 with more than 2 commands",
            potential=1.0 if upkeep else 0.5,
            potential_basis="fully schedulable upkeep" if upkeep else
                            "0.5: the commands are scripted, but a person still decides when to run them",
            risk=risk, risk_basis=risk_basis, saves="person-time", evidence=[task.evidence],
            git_query=ctx.rates.query if not frequency.assumption else None, related=[task.id],
        ))
    return found
