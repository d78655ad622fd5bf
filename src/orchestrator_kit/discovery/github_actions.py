"""GitHub Actions: workflows under `.github/workflows/` and local composite actions (`action.yml`).

Read as GitHub documents the workflow syntax: `on` as a string, a list or a map (with `schedule` crons and
`workflow_dispatch`), jobs with `needs` (string or list), `runs-on` (string, list or `{group, labels}`),
`strategy.matrix` (with include/exclude), steps with `run` or `uses`, `timeout-minutes`, `concurrency`,
`environment`, `permissions`, and job-level `uses` for reusable workflows.
"""

from __future__ import annotations

from typing import Any

from ..cron import CronError, explain_cron
from ..models import Cache, Job, Matrix, Schedule, Step, StepKind, Trigger, TriggerKind
from ..repo import FileText
from ..yamlsrc import YMap, YSeq, scalar_text, string_list
from ._matrix import matrix_combinations, matrix_size
from .base import DetectContext, Wants, basename, detector, directory_of, is_yaml

EVENT_KINDS: dict[str, TriggerKind] = {
    "push": "push",
    "pull_request": "pull_request",
    "pull_request_target": "pull_request",
    "merge_group": "pull_request",
    "schedule": "schedule",
    "workflow_dispatch": "manual",
    "release": "release",
    "repository_dispatch": "api",
    "workflow_call": "reusable",
    "workflow_run": "pipeline",
}

# setup-* actions whose `cache` input turns on dependency caching, and the inputs that do it.
SETUP_CACHE_INPUTS = {
    "actions/setup-node": ("cache",),
    "actions/setup-python": ("cache",),
    "actions/setup-java": ("cache",),
    "actions/setup-dotnet": ("cache",),
    "actions/setup-go": ("cache",),
    "ruby/setup-ruby": ("bundler-cache",),
    "astral-sh/setup-uv": ("enable-cache",),
}
# setup-go v4+ caches unless told not to.
CACHE_BY_DEFAULT = {"actions/setup-go"}
# How an action reads its cache input. GitHub passes a `with:` value as text (a YAML 1.2 true as "true"; a plain
# `yes` stays "yes"). setup-go reads `cache` with core.getBooleanInput, which takes true/True/TRUE and
# false/False/FALSE only and fails the step on anything else (actions/setup-go src/main.ts; actions/toolkit
# core getBooleanInput); setup-ruby caches when `bundler-cache` is exactly "true" (ruby/setup-ruby index.js:
# inputs['bundler-cache'] === 'true'). The others name a package manager, or "false".
CACHE_INPUT_TRUE = {"actions/setup-go": frozenset({"true", "True", "TRUE"}), "ruby/setup-ruby": frozenset({"true"})}


WORKFLOWS = Wants(prefixes=(".github/workflows/",), refine=lambda p: p.count("/") == 2 and is_yaml(p))
LOCAL_ACTIONS = Wants(names=frozenset({"action.yml", "action.yaml"}))


@detector("github-actions", wants=WORKFLOWS)
def detect_workflow(ctx: DetectContext, file: FileText) -> None:
    """One workflow file (remembered across scans: what it holds depends on its path and text alone)."""
    ctx.remembered((file,), lambda: _read_workflow(ctx, file))


def _read_workflow(ctx: DetectContext, file: FileText) -> None:
    docs = ctx.yaml_documents(file)
    if docs is None:
        return
    if not docs or not isinstance(docs[0], YMap):
        ctx.diagnostic(file.path, "not a workflow: the top level is not a mapping")
        return
    doc: YMap = docs[0]
    path = file.path
    name = scalar_text(doc.get("name")) or basename(path)
    on_key = "on" if "on" in doc else (True if True in doc else None)
    if on_key is None:
        ctx.diagnostic(path, "workflow has no 'on' trigger; GitHub will not run it", line=doc.span[0])
    triggers = _triggers(ctx, path, doc, on_key)
    for trigger in triggers:
        if trigger.kind == "schedule" and trigger.cron:
            ctx.add_schedule(
                Schedule(
                    source="github-actions",
                    expression=trigger.cron,
                    explanation=trigger.cron_explained or "invalid cron expression",
                    timezone="UTC",
                    target=f"workflow '{name}' ({path})",
                    evidence=trigger.evidence,
                )
            )
    jobs_node = doc.get("jobs")
    jobs: list[Job] = []
    if isinstance(jobs_node, YMap):
        for job_id, job_node in jobs_node.items():
            if not isinstance(job_node, YMap):
                ctx.diagnostic(path, f"job '{job_id}' is not a mapping", line=jobs_node.key_line(job_id))
                continue
            jobs.append(_job(ctx, path, str(job_id), job_node, jobs_node.key_span(job_id)))
    elif jobs_node is not None or on_key is not None:
        ctx.diagnostic(path, "workflow has no 'jobs' mapping", line=doc.span[0])
    known = {job.id for job in jobs}
    for job in jobs:
        for need in job.needs:
            if need not in known:
                ctx.diagnostic(path, f"job '{job.id}' needs '{need}', which is not a job of this workflow",
                               line=job.evidence.line_start)
    ctx.add_pipeline(
        DetectContext.pipeline(
            "github-actions", path,
            name=name,
            triggers=triggers,
            jobs=jobs,
            concurrency=_concurrency(doc.get("concurrency")),
            permissions=_permissions(doc.get("permissions")),
            evidence=ctx.evidence(path, 1, file.line_count),
        )
    )


@detector("github-actions-composite", wants=LOCAL_ACTIONS)
def detect_composite_action(ctx: DetectContext, file: FileText) -> None:
    docs = ctx.yaml_documents(file)
    if not docs or not isinstance(docs[0], YMap):
        return
    doc: YMap = docs[0]
    runs = doc.get("runs")
    if not isinstance(runs, YMap) or scalar_text(runs.get("using")) != "composite":
        return  # JavaScript and Docker actions have no steps to map
    path = file.path
    directory = directory_of(path)
    steps = _steps(ctx, path, runs.get("steps"))
    job = Job(id="composite", name=scalar_text(doc.get("name")), steps=steps,
              evidence=ctx.evidence(path, *runs.span))
    ctx.add_pipeline(
        DetectContext.pipeline(
            "github-actions", path,
            kind="composite-action",
            name=scalar_text(doc.get("name")) or f"./{directory}",
            jobs=[job],
            evidence=ctx.evidence(path, 1, file.line_count),
        )
    )


def _triggers(ctx: DetectContext, path: str, doc: YMap, on_key: Any) -> list[Trigger]:
    if on_key is None:
        return []
    on = doc[on_key]
    span = doc.key_span(on_key)
    triggers: list[Trigger] = []
    if isinstance(on, str):
        triggers.append(_trigger(on, ctx.evidence(path, *span)))
    elif isinstance(on, YSeq):
        for index, event in enumerate(on):
            if isinstance(event, str):
                triggers.append(_trigger(event, ctx.evidence(path, *on.item_span(index))))
    elif isinstance(on, YMap):
        for event, config in on.items():
            event_span = on.key_span(event)
            if event == "schedule":
                entries = config if isinstance(config, YSeq) else []
                for index, entry in enumerate(entries):
                    cron = scalar_text(entry.get("cron")) if isinstance(entry, YMap) else None
                    if cron is None:
                        ctx.diagnostic(path, "schedule entry without a 'cron' string", line=entries.item_span(index)[0])
                        continue
                    try:
                        explained = explain_cron(cron)
                    except CronError as exc:
                        explained = None
                        ctx.diagnostic(path, f"invalid cron '{cron}': {exc}", line=entries.item_span(index)[0])
                    triggers.append(
                        Trigger(kind="schedule", event="schedule", cron=cron, cron_explained=explained,
                                evidence=ctx.evidence(path, *entries.item_span(index)))
                    )
                continue
            trigger = _trigger(str(event), ctx.evidence(path, *event_span))
            if isinstance(config, YMap):
                for key in ("branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore", "types"):
                    if key in config:
                        trigger.filters[key] = string_list(config[key])
                if isinstance(config.get("inputs"), YMap):
                    trigger.filters["inputs"] = [str(k) for k in config["inputs"]]
                if isinstance(config.get("workflows"), list):
                    trigger.filters["workflows"] = string_list(config["workflows"])
                if event == "push" and "tags" in config and not ({"branches", "branches-ignore"} & set(config)):
                    trigger.kind = "tag"
            triggers.append(trigger)
    else:
        ctx.diagnostic(path, "'on' is neither an event name, a list nor a map", line=span[0])
    return triggers


def _trigger(event: str, evidence: Any) -> Trigger:
    return Trigger(kind=EVENT_KINDS.get(event, "other"), event=event, evidence=evidence)


def _job(ctx: DetectContext, path: str, job_id: str, node: YMap, span: tuple[int, int]) -> Job:
    strategy = node.get("strategy")
    matrix = _matrix(strategy.get("matrix")) if isinstance(strategy, YMap) and "matrix" in strategy else None
    steps = _steps(ctx, path, node.get("steps"))
    caches = _caches(ctx, path, node.get("steps"))
    needs = string_list(node.get("needs"))
    environment = node.get("environment")
    if isinstance(environment, YMap):
        environment = environment.get("name")
    container = node.get("container")
    if isinstance(container, YMap):
        container = container.get("image")
    timeout = node.get("timeout-minutes")
    return Job(
        id=job_id,
        name=scalar_text(node.get("name")),
        needs=needs,
        needs_source="declared" if needs else "none",
        runs_on=_runs_on(node.get("runs-on")),
        image=scalar_text(container),
        environment=scalar_text(environment),
        timeout_minutes=float(timeout) if isinstance(timeout, int | float) and not isinstance(timeout, bool) else None,
        matrix=matrix,
        condition=ctx.redact(scalar_text(node.get("if")) or "", path) or None,
        allow_failure=node.get("continue-on-error") is True,
        concurrency=_concurrency(node.get("concurrency")),
        permissions=_permissions(node.get("permissions")),
        caches=caches,
        steps=steps,
        uses=scalar_text(node.get("uses")),
        evidence=ctx.evidence(path, *span),
    )


def _runs_on(value: Any) -> list[str]:
    if isinstance(value, YMap):
        labels = string_list(value.get("labels"))
        group = scalar_text(value.get("group"))
        return ([f"group:{group}"] if group else []) + labels
    return string_list(value)


def _steps(ctx: DetectContext, path: str, node: Any) -> list[Step]:
    steps: list[Step] = []
    if not isinstance(node, YSeq):
        return steps
    for index, item in enumerate(node):
        if not isinstance(item, YMap):
            continue
        evidence = ctx.evidence(path, *node.item_span(index))
        name = scalar_text(item.get("name"))
        uses = scalar_text(item.get("uses"))
        run = scalar_text(item.get("run"))
        if uses:
            action = uses.split("@", 1)[0].lower()
            kind: StepKind = "uses"
            if action == "actions/checkout":
                kind = "checkout"
            elif action.startswith("actions/cache"):
                kind = "cache"
            steps.append(Step(kind=kind, name=name, uses=uses, evidence=evidence))
        elif run is not None:
            steps.append(Step(kind="run", name=name, command=ctx.redact(run.rstrip("\n"), path),
                              shell=scalar_text(item.get("shell")), evidence=evidence))
        else:
            steps.append(Step(kind="other", name=name, evidence=evidence))
    return steps


def _caches(ctx: DetectContext, path: str, node: Any) -> list[Cache]:
    caches: list[Cache] = []
    if not isinstance(node, YSeq):
        return caches
    for index, item in enumerate(node):
        if not isinstance(item, YMap):
            continue
        uses = scalar_text(item.get("uses")) or ""
        action = uses.split("@", 1)[0].lower()
        with_ = item.get("with") if isinstance(item.get("with"), YMap) else YMap()
        evidence = ctx.evidence(path, *node.item_span(index))
        if action in ("actions/cache", "actions/cache/restore"):
            caches.append(Cache(via=uses, key=scalar_text(with_.get("key")),
                                paths=[p for p in (scalar_text(with_.get("path")) or "").split("\n") if p.strip()],
                                evidence=evidence))
        elif action in SETUP_CACHE_INPUTS:
            for input_name in SETUP_CACHE_INPUTS[action]:
                value = scalar_text(with_.get(input_name))
                if action in CACHE_INPUT_TRUE and value is not None and "${{" not in value:
                    enabled = value in CACHE_INPUT_TRUE[action]
                else:
                    enabled = value not in (None, "", "false") or (value is None and action in CACHE_BY_DEFAULT)
                if enabled:
                    via = f"{uses} ({input_name}: {value or 'default'})"
                    caches.append(Cache(via=via, key=value, evidence=evidence))
    return caches


def _matrix(node: Any) -> Matrix:
    if not isinstance(node, YMap):
        return Matrix(dynamic=True)  # e.g. ${{ fromJSON(needs.setup.outputs.matrix) }}
    dimensions: dict[str, list[str]] = {}
    dynamic = False
    for key, value in node.items():
        if key in ("include", "exclude"):
            continue
        if isinstance(value, list):
            dimensions[str(key)] = [scalar_text(v) or str(v) for v in value]
        else:
            dynamic = True
    include = _entries(node.get("include"))
    exclude = _entries(node.get("exclude"))
    if isinstance(node.get("include"), str) or isinstance(node.get("exclude"), str):
        dynamic = True
    fan_out = None if dynamic else _fan_out(dimensions, include, exclude)
    return Matrix(dimensions=dimensions, include=len(include), exclude=len(exclude), fan_out=fan_out, dynamic=dynamic)


def _entries(value: Any) -> list[dict]:
    """The map entries of an include/exclude list (anything else holds no combination)."""
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _fan_out(dimensions: dict[str, list[str]], include: list[dict], exclude: list[dict]) -> int | None:
    """Job count under GitHub's rules: exclusions first; then each include entry either extends the
    combinations whose original dimensions it matches, or, matching none, adds one combination."""
    combos = matrix_combinations(dimensions)
    if combos is None:  # too large to enumerate; same rules, approximately
        return matrix_size(dimensions) - len(exclude) + len(include)
    if not dimensions:
        combos = []  # GitHub: a matrix of include entries only has no base combination

    def matches(combo: dict[str, str], entry: dict) -> bool:
        return all(str(scalar_text(v)) == combo.get(str(k)) for k, v in entry.items() if str(k) in combo)

    combos = [c for c in combos if not any(matches(c, e) for e in exclude if all(str(k) in c for k in e))]
    added = 0
    for entry in include:
        original = {str(k): scalar_text(v) for k, v in entry.items() if str(k) in dimensions}
        if not original or not any(all(c.get(k) == v for k, v in original.items()) for c in combos):
            added += 1
    return len(combos) + added


def _concurrency(value: Any) -> str | None:
    if isinstance(value, YMap):
        group = scalar_text(value.get("group"))
        # `cancel-in-progress` is a boolean or an expression (actions/languageservices workflow-parser
        # workflow-v1.0.json, concurrency-mapping). GitHub reads YAML 1.2 (actions/runner YamlObjectReader.MatchBoolean:
        # true/True/TRUE, false/...), so a plain `yes` or `on` is the string "yes", which the schema refuses: no
        # cancellation, as for a quoted "true".
        cancel = value.get("cancel-in-progress")
        if group and (cancel is True or (isinstance(cancel, str) and "${{" in cancel)):
            return f"{group} (cancel-in-progress)"
        return group
    return scalar_text(value)


def _permissions(value: Any) -> dict[str, str] | str | None:
    if isinstance(value, YMap):
        return {str(k): scalar_text(v) or "" for k, v in value.items()}
    return scalar_text(value)
