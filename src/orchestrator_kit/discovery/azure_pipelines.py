"""Azure Pipelines: `azure-pipelines.yml|yaml` anywhere, and YAML files under `.azure-pipelines/` or
`azure-pipelines/` folders that look like a pipeline (a top-level `trigger`, `pr`, `schedules`, `stages`, `jobs`,
`steps` or `extends`). Vendored folders are skipped: they describe someone else's project.

Read as the Azure Pipelines YAML schema reference (learn.microsoft.com/azure/devops/pipelines/yaml-schema) describes it:

* `trigger`: `none`, a branch list, or the full map (`batch`, `branches`/`paths`/`tags` with include/exclude).
  No `trigger` at all means a CI run on a push to any branch (the "implied YAML CI trigger"); that is reported
  as such, since an organization setting can turn it off;
* `pr` (`none`, a list or the map), `schedules` (cron in UTC, `displayName`, `branches`, `always`), which also
  become `Schedule` items, and pipeline-completion triggers from `resources.pipelines[].trigger`;
* `stages` (with `dependsOn` as a string, a list or `[]`, and `condition`), `jobs` (`job`, `deployment` with its
  `environment` and lifecycle-hook steps, and `template` entries kept as visible placeholders), or top-level
  `steps` (one implicit job named `job`);
* steps: `script` (kind script), `bash`/`pwsh`/`powershell` (kind run, with the shell), `task: Name@N` (uses;
  `Cache@2` is a cache; `ManualValidation@0`/`ManualIntervention@8` an approval that makes the job manual and
  blocking), `checkout`, `template`; `${{ if }}`/`${{ each }}` insertions are read through;
* `timeoutInMinutes`, `strategy.matrix` (one job per leg) or `strategy.parallel`, `pool` (`vmImage` or
  name; inherited from stage and pipeline), `container`, `continueOnError`;
* `extends: template:` and every `template:` reference are listed as includes. When a pipeline only extends a
  template and hands it its `stages` or `jobs` as parameters (the pattern of governed templates such as the
  1ES pipeline templates), those stages and jobs are read as the pipeline's own.

Dependencies follow Azure's defaults: a stage without `dependsOn` depends on the stage before it; a job without
`dependsOn` in its stage waits for every job of the stages its stage depends on (`needs_source="stage-order"`);
a job's own `dependsOn` names jobs of its stage (`declared`). Job ids are `<stage>.<job>` when there are stages.
Approvals and checks on environments are configured in Azure DevOps, not in the file, so a deployment job is
not claimed to be manual.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..cron import CronError, explain_cron
from ..models import Cache, Evidence, Job, Matrix, Schedule, Step, Trigger, TriggerKind
from ..repo import FileText
from ..yamlsrc import Span, YMap, YSeq, scalar_text, string_list, word_bool
from ._azure_templates import passed_parameters, single_job
from .base import DetectContext, Wants, basename, detector, finalizer, is_yaml

CANONICAL_NAMES = ("azure-pipelines.yml", "azure-pipelines.yaml")
PIPELINE_DIRS = (".azure-pipelines", "azure-pipelines")
# Trigger options that are booleans. Azure Pipelines reads a boolean from its text, quoted or not and in any casing:
# true/y/yes/on or false/n/no/off (YAML schema, "boolean": learn.microsoft.com/azure/devops/pipelines/yaml-schema/
# boolean; its parser's ReadBoolean upper-cases the scalar's value and compares it with TRUE/Y/YES/ON and
# FALSE/N/NO/OFF). Reported as true/false, as Azure reads them (`yamlsrc.word_bool`).
BOOLEAN_OPTIONS = frozenset({"batch", "drafts", "autoCancel", "always"})
PIPELINE_KEYS = ("trigger", "pr", "schedules", "stages", "jobs", "steps", "extends")
# Keys only a pipeline (never a stages/jobs/steps template) has at its top level.
PIPELINE_ONLY_KEYS = ("trigger", "pr", "schedules", "resources", "extends", "name", "pool", "lockBehavior")
SHELL_STEPS = ("bash", "pwsh", "powershell")
APPROVAL_TASKS = ("manualvalidation", "manualintervention")
# The built-in Cache task (and its beta name), and the restore/save pair of the pipeline-artifact caching extension.
CACHE_TASKS = ("cache", "cachebeta", "restorecache", "savecache")
# Lifecycle hooks of a deployment job strategy, in the order they run (Azure "jobs.deployment.strategy").
DEPLOYMENT_HOOKS = ("preDeploy", "deploy", "routeTraffic", "postRouteTraffic")
DEPLOYMENT_STRATEGIES = ("runOnce", "rolling", "canary")
MAX_INSERTION_DEPTH = 16
IMPLIED_CI = (
    "no 'trigger' key: Azure Pipelines runs the pipeline on a push to any branch "
    "(unless the 'Disable implied YAML CI trigger' setting is on)"
)


# Names and folders that suggest a pipeline file whatever it is called (`ci/build.yml`, `eng/pipelines/x.yml`,
# `release-pipeline.yaml`): these are read and kept when their content is Azure Pipelines' (see `_AZURE_SNIFF`).
HINT_DIRS = frozenset(
    {"pipelines", ".pipelines", "azure", ".azure", "azuredevops", ".azuredevops", "ado", ".ado", "vsts", ".vsts",
     "eng", "build", "builds", "ci", "cicd", "ci-cd", "devops", ".devops", "deploy", "release"}
)
HINT_GLOBS = ("*azure*.yml", "*azure*.yaml", "*pipeline*.yml", "*pipeline*.yaml")
# A top-level pipeline key, and a list item only Azure Pipelines writes (`- task:`, `- script:`, `- stage:`, ...).
_TOP_KEY = re.compile(r"^(?:trigger|pr|schedules|stages|jobs|steps|extends|pool)\s*:", re.M)
_AZURE_ITEM = re.compile(
    r"^\s*-\s+(?:task|script|bash|pwsh|powershell|checkout|stage|job|deployment|template)\s*:|^\s*vmImage\s*:", re.M
)


def _named_or_hinted(path: str) -> bool:
    if not is_yaml(path):
        return False
    parts = path.lower().split("/")
    return ".github" not in parts and ".gitlab" not in parts and "gitlab-ci" not in parts[-1]


# Named pipeline files anywhere, YAML files at any depth under a pipelines folder, and hinted YAML files whose content
# is Azure Pipelines' (not in vendored folders).
AZURE_FILES = Wants(names=frozenset(CANONICAL_NAMES), dirs=frozenset(PIPELINE_DIRS) | HINT_DIRS,
                    globs=HINT_GLOBS, refine=_named_or_hinted)


def _declared(path: str) -> bool:
    """A canonical name or a pipelines folder: the file is meant to be an Azure pipeline whatever it holds."""
    return basename(path) in CANONICAL_NAMES or not set(path.lower().split("/")[:-1]).isdisjoint(PIPELINE_DIRS)


@detector("azure-pipelines", wants=AZURE_FILES)
def detect_azure_pipeline(ctx: DetectContext, file: FileText) -> None:
    canonical = basename(file.path) in CANONICAL_NAMES
    if not _declared(file.path) and not (_TOP_KEY.search(file.text) and _AZURE_ITEM.search(file.text)):
        return  # a hinted name whose content is not Azure Pipelines' (a Kubernetes manifest in deploy/, ...)
    docs = ctx.yaml_documents(file)
    if docs is None:
        return
    doc = docs[0] if docs else None
    if not isinstance(doc, YMap) or not any(key in doc for key in PIPELINE_KEYS):
        # Files in a pipelines folder may be variable templates or other YAML: only a named pipeline file is wrong.
        if canonical:
            reason = "empty file" if doc is None else "the top level is not a mapping" if not isinstance(doc, YMap) \
                else "no trigger, pr, schedules, stages, jobs, steps or extends"
            ctx.diagnostic(file.path, f"not an Azure pipeline: {reason}", line=1)
        return
    _Reader(ctx, file.path, doc, template=_is_template(file.path, doc)).read(file.line_count)


@finalizer("azure-pipelines-templates", order=50)
def mark_referenced_templates(ctx: DetectContext) -> None:
    """A file another Azure pipeline pulls in with `template:` is a template, whatever it looks like alone: mark it
    so, and drop the implied CI trigger it was given. Template paths are relative to the including file's folder,
    or to the repository root when they start with `/`; `path@repo` names another repository."""
    pipelines = [p for p in ctx.findings.pipelines if p.system == "azure-pipelines"]
    by_path = {p.path: p for p in pipelines}
    for pipeline in pipelines:
        folder = posixpath.dirname(pipeline.path)
        for target in pipeline.includes:
            if "@" in target or "$" in target:
                continue
            rel = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            referenced = by_path.get(posixpath.normpath(rel))
            if referenced is not None and referenced is not pipeline and referenced.kind != "template":
                referenced.kind = "template"
                referenced.triggers = [t for t in referenced.triggers if "default" not in t.filters]


def _is_template(path: str, doc: YMap) -> bool:
    """A stages/jobs/steps template rather than a pipeline: no pipeline-only key, and declared `parameters` or
    a `template(s)` folder. The canonical file names are always pipelines."""
    if basename(path) in CANONICAL_NAMES or any(key in doc for key in PIPELINE_ONLY_KEYS):
        return False
    folders = [part.lower() for part in path.split("/")[:-1]]
    return "parameters" in doc or any(part in ("template", "templates") for part in folders)


@dataclass
class _Stage:
    """A stage as read: its jobs, and the stages it waits for (`declared` when `dependsOn` was written)."""

    name: str
    depends_on: list[str]
    declared: bool
    condition: str | None
    evidence: Evidence
    jobs: list[Job] = field(default_factory=list)


@dataclass
class _Reader:
    """Reads one pipeline (or template) document into a `Pipeline`, collecting template references as includes."""

    ctx: DetectContext
    path: str
    doc: YMap
    template: bool = False
    includes: list[str] = field(default_factory=list)

    def say(self, reason: str, line: int | None = None) -> None:
        self.ctx.diagnostic(self.path, reason, line=line)

    def evidence(self, span: Span) -> Evidence:
        return self.ctx.evidence(self.path, *span)

    def include(self, target: Any) -> None:
        text = scalar_text(target)
        if text and (text := self.ctx.redact(text, self.path)) not in self.includes:
            self.includes.append(text)

    def variable_templates(self, node: YMap) -> None:
        """`variables:` written as a list may pull in variable templates (`- template: vars.yml`)."""
        for item, _span in self.entries(node.get("variables"), "variables", quiet=True):
            if "template" in item:
                self.include(item["template"])

    # -------------------------------------------------------------- the pipeline

    def read(self, last_line: int) -> None:
        doc = self.doc
        name = self.path
        triggers = self.triggers(last_line)
        for trigger in triggers:
            if trigger.kind == "schedule" and trigger.cron:
                label = (trigger.filters.get("displayName") or [None])[0]
                self.ctx.add_schedule(Schedule(
                    source="azure-pipelines", expression=trigger.cron,
                    explanation=trigger.cron_explained or "invalid cron expression", timezone="UTC",
                    target=f"pipeline '{name}'" + (f" ({label})" if label else ""), evidence=trigger.evidence))
        self.variable_templates(doc)
        extends = doc.get("extends")
        if isinstance(extends, YMap):
            self.include(extends.get("template"))
        elif extends is not None:
            self.say("'extends' is not a mapping with a 'template'", line=doc.key_line("extends"))
        body = doc
        if not any(key in doc for key in ("stages", "jobs", "steps")) and isinstance(extends, YMap):
            # The "extends a governed template" pattern (e.g. 1ES pipeline templates): the pipeline's own stages
            # or jobs are passed to the template as parameters, which runs them.
            parameters = extends.get("parameters")
            if isinstance(parameters, YMap) and any(key in parameters for key in ("stages", "jobs")):
                body = parameters
        stages: list[_Stage] = []
        jobs: list[Job] = []
        pool = doc.get("pool", body.get("pool"))
        if "stages" in body:
            stages = self.stages(body["stages"], pool, body.key_line("stages"))
            jobs = [job for stage in stages for job in stage.jobs]
        elif "jobs" in body:
            jobs = self.jobs(body["jobs"], None, pool, None, body.key_line("jobs"))
            self.link_declared(jobs, None)
        elif "steps" in body:
            jobs = [self.job_from(body, "job", None, body.key_span("steps"), pool, None)]
        self.ctx.add_pipeline(DetectContext.pipeline(
            "azure-pipelines", self.path,
            kind="template" if self.template else "pipeline",
            name=name,
            triggers=triggers,
            stages=[stage.name for stage in stages],
            jobs=jobs,
            includes=self.includes,
            evidence=self.ctx.evidence(self.path, 1, last_line),
        ))

    # -------------------------------------------------------------- triggers

    def triggers(self, last_line: int) -> list[Trigger]:
        doc = self.doc
        triggers: list[Trigger] = []
        if "trigger" in doc:
            triggers.extend(self.push_triggers(doc["trigger"], self.evidence(doc.key_span("trigger"))))
        elif not self.template:
            triggers.append(Trigger(kind="push", event="trigger", filters={"default": [IMPLIED_CI]},
                                    evidence=self.ctx.evidence(self.path, 1, last_line)))
        if "pr" in doc:
            trigger = self.branch_trigger("pull_request", "pr", doc["pr"], self.evidence(doc.key_span("pr")))
            if trigger is not None:
                triggers.append(trigger)
        if "schedules" in doc:
            triggers.extend(self.schedule_triggers(doc["schedules"], doc.key_line("schedules")))
        resources = doc.get("resources")
        if isinstance(resources, YMap):
            triggers.extend(self.resource_triggers(resources))
        return triggers

    def push_triggers(self, value: Any, evidence: Evidence) -> list[Trigger]:
        """`trigger:` as push (branches, paths) and tag triggers; `none` disables CI runs."""
        if isinstance(value, YMap) and "tags" in value:
            tag = Trigger(kind="tag", event="trigger", evidence=evidence)
            self.filters(tag, value, ("tags",))
            triggers = [tag]
            if "branches" in value:
                push = Trigger(kind="push", event="trigger", evidence=evidence)
                self.filters(push, value, ("branches", "paths", "batch"))
                triggers.insert(0, push)
            return triggers
        trigger = self.branch_trigger("push", "trigger", value, evidence)
        return [trigger] if trigger is not None else []

    def branch_trigger(self, kind: TriggerKind, event: str, value: Any, evidence: Evidence) -> Trigger | None:
        """A `trigger`/`pr` value: `none`, a branch list (or one branch), or the full map."""
        if value is None or scalar_text(value) == "none":
            return None
        trigger = Trigger(kind=kind, event=event, evidence=evidence)
        if isinstance(value, YMap):
            self.filters(trigger, value, ("branches", "paths", "tags", "batch", "drafts", "autoCancel"))
            if word_bool(value.get("enabled")) is False:
                return None
        elif isinstance(value, list | str):
            trigger.filters["branches.include"] = [self.ctx.redact(b, self.path) for b in string_list(value)]
        else:
            self.say(f"'{event}' is neither none, a branch list nor a mapping", line=evidence.line_start)
        return trigger

    def filters(self, trigger: Trigger, value: YMap, keys: tuple[str, ...]) -> None:
        """Copy include/exclude filters (and scalar options) as written, keyed `branches.include` etc."""
        for key in keys:
            if key not in value:
                continue
            item = value[key]
            if isinstance(item, YMap):
                for sub in ("include", "exclude"):
                    if sub in item:
                        trigger.filters[f"{key}.{sub}"] = string_list(item[sub])
            elif isinstance(item, list):
                trigger.filters[f"{key}.include"] = string_list(item)
            elif key in BOOLEAN_OPTIONS and word_bool(item) is not None:
                trigger.filters[key] = ["true" if word_bool(item) else "false"]
            elif scalar_text(item) is not None:
                trigger.filters[key] = [scalar_text(item) or ""]

    def schedule_triggers(self, value: Any, line: int) -> list[Trigger]:
        if not isinstance(value, YSeq):
            self.say("'schedules' is not a list", line=line)
            return []
        triggers: list[Trigger] = []
        for index, entry in enumerate(value):
            span = value.item_span(index)
            cron = scalar_text(entry.get("cron")) if isinstance(entry, YMap) else None
            if not cron:
                self.say("schedule entry without a 'cron' string", line=span[0])
                continue
            try:
                explained: str | None = explain_cron(cron)
            except CronError as exc:
                explained = None
                self.say(f"invalid cron '{cron}': {exc}", line=span[0])
            trigger = Trigger(kind="schedule", event="schedules", cron=cron, cron_explained=explained,
                              evidence=self.evidence(span))
            self.filters(trigger, entry, ("branches", "always", "batch", "displayName"))
            triggers.append(trigger)
        return triggers

    def resource_triggers(self, resources: YMap) -> list[Trigger]:
        """Pipeline-completion triggers (`resources.pipelines[].trigger`, kind pipeline) and CI triggers on other
        repositories (`resources.repositories[].trigger`, kind other); the filter names the source."""
        triggers: list[Trigger] = []
        groups: tuple[tuple[str, str, str, TriggerKind], ...] = (
            ("pipelines", "pipeline", "source", "pipeline"), ("repositories", "repository", "name", "other"))
        for group, alias_key, source_key, kind in groups:
            entries = resources.get(group)
            if not isinstance(entries, YSeq):
                continue
            for index, entry in enumerate(entries):
                if not isinstance(entry, YMap) or not _trigger_enabled(entry.get("trigger")):
                    continue
                trigger = Trigger(kind=kind, event=f"resources.{group}",
                                  evidence=self.evidence(entries.item_span(index)))
                source = scalar_text(entry.get(source_key)) or scalar_text(entry.get(alias_key))
                if source:
                    trigger.filters[alias_key] = [source]
                value = entry["trigger"]
                if isinstance(value, YMap):
                    self.filters(trigger, value, ("branches", "tags", "stages", "paths"))
                elif isinstance(value, list):
                    trigger.filters["branches.include"] = string_list(value)
                triggers.append(trigger)
        return triggers

    # -------------------------------------------------------------- stages and jobs

    def entries(self, node: Any, what: str, line: int | None = None, depth: int = 0,
                quiet: bool = False) -> Iterator[tuple[YMap, Span]]:
        """Mapping items of a stages/jobs/steps list, reading through `${{ if }}`/`${{ each }}` insertions.
        `line` is where the list's key is written, for the diagnostic when it is not a list."""
        if not isinstance(node, YSeq):
            if node is not None and depth == 0 and not quiet:
                self.say(f"'{what}' is not a list", line=line)
            return
        for index, item in enumerate(node):
            span = node.item_span(index)
            if isinstance(item, YMap) and item and all(_is_expression(k) for k in item):
                if depth < MAX_INSERTION_DEPTH:
                    for value in item.values():
                        yield from self.entries(value, what, line, depth + 1, quiet)
            elif isinstance(item, YMap):
                yield item, span
            elif item is not None and not quiet:
                self.say(f"an entry of '{what}' is not a mapping", line=span[0])

    def stages(self, node: Any, pool: Any, line: int) -> list[_Stage]:
        stages: list[_Stage] = []
        for item, span in self.entries(node, "stages", line):
            evidence = self.evidence(span)
            if "template" in item:
                # The template's stages are not expanded: one visible placeholder keeps the order right.
                target = scalar_text(item.get("template")) or "?"
                self.include(target)
                name = f"template:{target}"
                stage = _Stage(name, [], False, None, evidence)
                stage.jobs.append(Job(id=name, name=f"stages template {target}", stage=name, uses=target,
                                      steps=[Step(kind="template", uses=target, evidence=evidence)],
                                      evidence=evidence))
            else:
                name = scalar_text(item.get("stage"))
                if not name:
                    self.say("stage entry without a 'stage' name", line=span[0])
                    continue
                declared = "dependsOn" in item
                depends = string_list(item.get("dependsOn")) if declared else []
                stage = _Stage(name, depends, declared, scalar_text(item.get("condition")), evidence)
                self.variable_templates(item)
                stage_pool = item.get("pool", pool)
                stage.jobs = self.jobs(item.get("jobs"), name, stage_pool, stage.condition, item.key_line("jobs"))
                if "jobs" not in item:
                    self.say(f"stage '{name}' has no jobs", line=span[0])
            if any(s.name == stage.name for s in stages):
                self.say(f"stage '{stage.name}' is defined twice", line=span[0])
            stages.append(stage)
        self.link_stages(stages)
        return stages

    def link_stages(self, stages: list[_Stage]) -> None:
        """Stage order: a stage without `dependsOn` follows the one before it; then jobs per stage."""
        known = {stage.name: stage for stage in stages}
        for index, stage in enumerate(stages):
            if not stage.declared:
                stage.depends_on = [stages[index - 1].name] if index > 0 else []
            for dep in stage.depends_on:
                if dep not in known:
                    self.say(f"stage '{stage.name}' depends on '{dep}', which is not a stage of this pipeline",
                             line=stage.evidence.line_start)
        for stage in stages:
            waits = [job.id for dep in stage.depends_on if dep in known for job in known[dep].jobs]
            self.link_declared(stage.jobs, stage.name)
            for job in stage.jobs:
                if job.needs_source == "none" and waits:
                    job.needs = list(waits)
                    job.needs_source = "stage-order"

    def link_declared(self, jobs: list[Job], stage: str | None) -> None:
        """Check declared `dependsOn` against the jobs of the same stage (ids already qualified)."""
        known = {job.id for job in jobs}
        for job in jobs:
            for need in job.needs:
                if need not in known:
                    where = f"stage '{stage}'" if stage else "this pipeline"
                    self.say(f"job '{job.id}' depends on '{need.split('.', 1)[-1] if stage else need}', "
                             f"which is not a job of {where}", line=job.evidence.line_start)

    def jobs(self, node: Any, stage: str | None, pool: Any, stage_condition: str | None, line: int) -> list[Job]:
        jobs: list[Job] = []
        prefix = f"{stage}." if stage else ""
        for item, span in self.entries(node, "jobs", line):
            if "template" in item and not ({"job", "deployment"} & set(item)):
                target = scalar_text(item.get("template")) or "?"
                self.include(target)
                evidence = self.evidence(span)
                passed = passed_parameters(item.get("parameters"))
                expanded = single_job(self.ctx, self.path, target, passed)
                timeout = _minutes(expanded.timeout) if expanded is not None else None
                parallel = _matrix(YMap({"parallel": _integer(expanded.parallel)})) if expanded is not None else None
                attributes = {"parameters": self.ctx.redact("; ".join(f"{k}={v}" for k, v in passed.items()),
                                                            self.path)} if passed else {}
                jobs.append(Job(id=f"{prefix}template:{target}", name=f"jobs template {target}", stage=stage,
                                uses=target, steps=[Step(kind="template", uses=target, evidence=evidence)],
                                timeout_minutes=timeout or None, matrix=parallel, attributes=attributes,
                                evidence=evidence))
                continue
            key = "deployment" if "deployment" in item else "job"
            if key not in item:
                self.say("job entry has neither 'job', 'deployment' nor 'template'", line=span[0])
                continue
            name = scalar_text(item.get(key)) or "job"
            job = self.job_from(item, prefix + name, stage, span, item.get("pool", pool), stage_condition)
            if any(j.id == job.id for j in jobs):
                self.say(f"job '{job.id}' is defined twice", line=span[0])
            jobs.append(job)
        return jobs

    def job_from(self, node: YMap, job_id: str, stage: str | None, span: Span, pool: Any,
                 stage_condition: str | None) -> Job:
        """One job (or the implicit job of a steps-only pipeline, or a deployment job)."""
        evidence = self.evidence(span)
        if node is not self.doc:
            self.variable_templates(node)
        depends = string_list(node.get("dependsOn"))
        prefix = f"{stage}." if stage else ""
        steps, caches = self.steps(self.step_lists(node))
        approval = any(step.kind == "approval" for step in steps)
        environment = node.get("environment") if "deployment" in node else None
        if isinstance(environment, YMap):
            environment = environment.get("name")
        container = node.get("container")
        if isinstance(container, YMap):
            container = container.get("image")
        timeout = _minutes(node.get("timeoutInMinutes"))
        conditions = [f"stage: {stage_condition}"] if stage_condition else []
        if scalar_text(node.get("condition")):
            conditions.append(scalar_text(node.get("condition")) or "")
        strategy = node.get("strategy")
        return Job(
            id=job_id,
            name=scalar_text(node.get("displayName")),
            stage=stage,
            needs=[prefix + d for d in depends],
            needs_source="declared" if depends else "none",
            runs_on=_pool(pool),
            image=scalar_text(container),
            environment=scalar_text(environment),
            # 0 means "the longest the agent allows", not a number of minutes.
            timeout_minutes=timeout if timeout else None,
            matrix=_matrix(strategy) if "deployment" not in node else None,
            condition=self.ctx.redact("; ".join(conditions), self.path) or None,
            manual=approval,
            blocking=True if approval else None,
            allow_failure=word_bool(node.get("continueOnError")) is True,
            caches=caches,
            steps=steps,
            evidence=evidence,
        )

    def step_lists(self, node: YMap) -> list[tuple[Any, int]]:
        """The step lists of a job (with the line of their key): `steps`, or a deployment strategy's lifecycle
        hooks in the order they run."""
        lists: list[tuple[Any, int]] = []
        if "steps" in node:
            lists.append((node["steps"], node.key_line("steps")))
        strategy = node.get("strategy") if "deployment" in node else None
        if isinstance(strategy, YMap):
            for name in DEPLOYMENT_STRATEGIES:
                flavour = strategy.get(name)
                if not isinstance(flavour, YMap):
                    continue
                for hook in DEPLOYMENT_HOOKS:
                    if isinstance(flavour.get(hook), YMap):
                        lists.append((flavour[hook].get("steps"), flavour[hook].key_line("steps")))
                outcome = flavour.get("on")
                if isinstance(outcome, YMap):
                    for hook in ("failure", "success"):
                        if isinstance(outcome.get(hook), YMap):
                            lists.append((outcome[hook].get("steps"), outcome[hook].key_line("steps")))
        return lists

    # -------------------------------------------------------------- steps

    def steps(self, lists: list[tuple[Any, int]]) -> tuple[list[Step], list[Cache]]:
        steps: list[Step] = []
        caches: list[Cache] = []
        for node, line in lists:
            for item, span in self.entries(node, "steps", line):
                step = self.step(item, self.evidence(span))
                if step is None:
                    continue
                steps.append(step)
                if step.kind == "cache":
                    caches.append(self.cache(item, step))
        return steps, caches

    def step(self, item: YMap, evidence: Evidence) -> Step | None:
        name = scalar_text(item.get("displayName"))
        for key in ("script", *SHELL_STEPS):
            if key in item:
                text = item[key]
                if isinstance(text, dict | list):
                    self.say(f"'{key}' step is not a string", line=evidence.line_start)
                    return None
                command = self.ctx.redact((scalar_text(text) or "").rstrip("\n"), self.path)
                if key == "script":
                    return Step(kind="script", name=name, command=command, evidence=evidence)
                return Step(kind="run", name=name, command=command, shell=key, evidence=evidence)
        if "task" in item:
            task = scalar_text(item["task"]) or ""
            # Contributed tasks are written with their extension's dotted prefix: compare the last part.
            short = task.split("@", 1)[0].strip().lower().rsplit(".", 1)[-1]
            kind = "approval" if short in APPROVAL_TASKS else "cache" if short in CACHE_TASKS else "uses"
            return Step(kind=kind, name=name, uses=task, evidence=evidence)
        if "checkout" in item:
            return Step(kind="checkout", name=name, uses=scalar_text(item["checkout"]), evidence=evidence)
        if "template" in item:
            target = scalar_text(item["template"])
            self.include(target)
            return Step(kind="template", name=name, uses=target, evidence=evidence)
        for key in ("download", "downloadBuild", "getPackage", "publish", "reviewApp", "restoreCache", "saveCache"):
            if key in item:
                return Step(kind="other", name=name or key, uses=f"{key}: {scalar_text(item[key]) or ''}".strip(),
                            evidence=evidence)
        self.say("step has none of script, bash, pwsh, powershell, task, checkout or template",
                 line=evidence.line_start)
        return Step(kind="other", name=name, evidence=evidence)

    def cache(self, item: YMap, step: Step) -> Cache:
        """A cache task: `key` and `path` inputs of `Cache@2` (Azure "Cache task"), or `keyfile` and
        `targetfolder` of the RestoreCache/SaveCache extension tasks."""
        inputs = item.get("inputs") if isinstance(item.get("inputs"), YMap) else YMap()
        key = scalar_text(inputs.get("key")) or scalar_text(inputs.get("keyfile"))
        path = scalar_text(inputs.get("path")) or scalar_text(inputs.get("targetfolder"))
        return Cache(via=step.uses or "Cache", key=self.ctx.redact(key, self.path) if key else None,
                     paths=[path] if path else [], evidence=step.evidence)


def _trigger_enabled(value: Any) -> bool:
    """A resource `trigger`: absent, `none` or `false` (or `enabled: false`) means no trigger."""
    if value is None or word_bool(value) is False or scalar_text(value) == "none":
        return False
    return not (isinstance(value, YMap) and word_bool(value.get("enabled")) is False)


def _minutes(value: Any) -> float | None:
    """`timeoutInMinutes` as a number (written as a number or a numeric string); None otherwise."""
    if isinstance(value, bool):
        return None
    try:
        minutes = float(scalar_text(value) or "")
    except ValueError:
        return None  # e.g. a template expression ${{ parameters.timeout }}
    return minutes if math.isfinite(minutes) and minutes >= 0 else None


def _integer(value: Any) -> Any:
    """A parallel count written as a number or substituted from a parameter (a string of digits)."""
    text = scalar_text(value)
    return int(text) if text is not None and text.isdigit() else value


def _is_expression(key: Any) -> bool:
    return isinstance(key, str) and key.strip().startswith("${{")


def _pool(value: Any) -> list[str]:
    """`pool:` as runner labels: the `vmImage`, else the pool name (a string pool is a name)."""
    if isinstance(value, YMap):
        labels = [s for s in (scalar_text(value.get("vmImage")), scalar_text(value.get("name"))) if s]
        return labels
    return string_list(value)


def _matrix(strategy: Any) -> Matrix | None:
    """`strategy.matrix` (one job per leg) or `strategy.parallel: N`; a runtime expression is dynamic."""
    if not isinstance(strategy, YMap):
        return None
    if "matrix" in strategy:
        legs = strategy["matrix"]
        if isinstance(legs, YMap):
            names = [str(leg) for leg in legs]
            return Matrix(dimensions={"leg": names}, fan_out=len(names))
        return Matrix(dynamic=True)  # e.g. $[ dependencies.setup.outputs['legs.matrix'] ]
    parallel = strategy.get("parallel")
    if isinstance(parallel, int) and not isinstance(parallel, bool):
        return Matrix(fan_out=parallel)
    return None
