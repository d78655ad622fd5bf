"""Bitbucket Pipelines: `bitbucket-pipelines.yml` at the repository root.

Read as the Bitbucket Pipelines configuration reference describes it. Under `pipelines:`, each start
condition is one Pipeline: `default`; `branches`, `tags`, `bookmarks` and `pull-requests` (each a map of
glob pattern to a pipeline); `custom` (pipelines a person starts by hand, optionally with `variables`, or an
`import:` of a pipeline shared from another repository). A pipeline is a list of `- step:`, `- parallel:` (a
list of steps, or `{steps: [...], fail-fast}`) and `- stage: {name, deployment, condition, trigger, steps}`.

Steps give: `name`, `script` and `after-script` (each item a command, or a `pipe:` map), `image` (or the
global one), `caches` (the predefined ones such as `node`, `pip`, `docker`, or those of
`definitions.caches`), `deployment` (the environment), `trigger: manual` (the step waits for a person; what
follows waits for it), `max-time` in minutes (or `options.max-time`), `size` and `runs-on` (where it runs),
`condition.changesets` (paths that must change). Items run in order: each step needs the step(s) of the
item before it; parallel steps all need the step before the group, and the next item needs all of them.

Each Job's `attributes` keep what has no common field, only for keys written in the file: `services`
(the step's service containers, comma-joined, with `docker` added when `options.docker: true` gives every
step a Docker service), `size` (the step's, else `options.size`), and `oidc: "true"` when the step asks for
an OpenID Connect token (`oidc: true`). `runs-on` needs no attribute: its labels are the Job's `runs_on`.

`definitions` (caches, services, anchored steps reused with `<<: *build`), `options`, `image` and `clone`
are settings, never pipelines. Schedules live in the Bitbucket UI, not in this file, so no Schedule item is
ever made here; where the file itself mentions a schedule (a pipeline's name or a comment next to it), its
Pipeline gets a `schedule` Trigger without a cron.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..models import Cache, Evidence, Job, Step, Trigger, TriggerKind
from ..repo import FileText
from ..yamlsrc import YMap, YSeq, scalar_text, string_list, yaml11_bool
from .base import DetectContext, Wants, detector

# Predefined caches and their directories (Bitbucket Pipelines, "Caches"); `docker` caches image layers.
PREDEFINED_CACHES: dict[str, list[str]] = {
    "docker": [],
    "composer": ["~/.composer/cache"],
    "dotnetcore": ["~/.nuget/packages"],
    "gradle": ["~/.gradle/caches"],
    "gradlewrapper": ["~/.gradle/wrapper"],
    "ivy2": ["~/.ivy2/cache"],
    "maven": ["~/.m2/repository"],
    "node": ["node_modules"],
    "pip": ["~/.cache/pip"],
    "sbt": ["~/.sbt", "~/.ivy2/cache"],
}
SECTIONS: dict[str, tuple[TriggerKind, str]] = {
    # section -> (trigger kind, filter name for its patterns)
    "branches": ("push", "branches"),
    "tags": ("tag", "tags"),
    "bookmarks": ("push", "bookmarks"),
    "pull-requests": ("pull_request", "source_branches"),
    "custom": ("manual", "custom"),
}
_SCHEDULE_WORDS = re.compile(r"schedul|\bcron\b|nightly|hourly|daily|weekly", re.IGNORECASE)


# Bitbucket reads only the file at the repository root.
BITBUCKET_FILE = Wants(names=frozenset({"bitbucket-pipelines.yml"}), refine=lambda p: p == "bitbucket-pipelines.yml")


@dataclass
class _File:
    """What every pipeline of the file may use: the global image, max-time and custom caches."""

    ctx: DetectContext
    path: str
    lines: list[str]
    image: str | None = None
    max_time: float | None = None
    size: str | None = None  # options.size
    docker: bool = False  # options.docker: a Docker service in every step
    caches: YMap = field(default_factory=YMap)
    services: YMap = field(default_factory=YMap)  # definitions.services

    def evidence(self, span: tuple[int, int]) -> Evidence:
        return self.ctx.evidence(self.path, *span)

    def diagnostic(self, reason: str, line: int | None) -> None:
        self.ctx.diagnostic(self.path, reason, line=line)


@dataclass
class _StepEntry:
    """A `step:` found in a pipeline, with what its place adds (stage, parallel group, sequence position)."""

    node: YMap
    span: tuple[int, int]
    group: int  # steps sharing a group number run in parallel
    stage: YMap | None = None
    stage_name: str | None = None
    first_in_stage: bool = False


@detector("bitbucket-pipelines", wants=BITBUCKET_FILE)
def detect_bitbucket(ctx: DetectContext, file: FileText) -> None:
    """One Pipeline per start condition under `pipelines:`."""
    path = file.path
    docs = ctx.yaml_documents(file)
    if docs is None:
        return
    if not docs or not isinstance(docs[0], YMap):
        ctx.diagnostic(path, "empty Bitbucket Pipelines file" if not docs else "the top level is not a mapping",
                       line=1)
        return
    doc: YMap = docs[0]
    bb = _File(ctx=ctx, path=path, lines=file.lines, image=_image(doc.get("image")))
    options = doc.get("options")
    if isinstance(options, YMap):
        bb.max_time = _minutes(options.get("max-time"))
        bb.size = scalar_text(options.get("size"))
        bb.docker = yaml11_bool(options.get("docker")) is True
    definitions = doc.get("definitions")
    if isinstance(definitions, YMap):
        if isinstance(definitions.get("caches"), YMap):
            bb.caches = definitions["caches"]
        if isinstance(definitions.get("services"), YMap):
            bb.services = definitions["services"]
    pipelines = doc.get("pipelines")
    if not isinstance(pipelines, YMap):
        reason = "no 'pipelines' section" if pipelines is None else "'pipelines' is not a mapping"
        ctx.diagnostic(path, reason, line=doc.key_line("pipelines") if "pipelines" in doc else doc.span[0])
        return
    for section, value in pipelines.items():
        span = pipelines.key_span(section)
        if section == "default":
            _pipeline(bb, "default", value, span, Trigger(kind="push", event="default",
                                                           evidence=bb.evidence((span[0], span[0]))))
        elif section in SECTIONS:
            _section(bb, str(section), value, span)
        else:
            bb.diagnostic(f"unknown pipelines section '{section}' (expected default, branches, tags, bookmarks, "
                          "pull-requests or custom)", span[0])


def _section(bb: _File, section: str, value: Any, span: tuple[int, int]) -> None:
    """`branches:`, `tags:`, ... : a map of pattern (or custom name) to a pipeline."""
    if not isinstance(value, YMap):
        bb.diagnostic(f"'{section}' is not a mapping of patterns to pipelines", span[0])
        return
    kind, filter_name = SECTIONS[section]
    for pattern, pipeline in value.items():
        key_span = value.key_span(pattern)
        trigger = Trigger(kind=kind, event=section, evidence=bb.evidence((key_span[0], key_span[0])))
        if section != "custom":
            trigger.filters[filter_name] = [str(pattern)]
        _pipeline(bb, f"{section}: {pattern}", pipeline, key_span, trigger)


def _pipeline(bb: _File, name: str, value: Any, span: tuple[int, int], trigger: Trigger) -> None:
    triggers = [trigger]
    includes: list[str] = []
    items: Any = value
    if isinstance(value, YMap) and "import" in value:
        # `custom: {name: {import: repo:branch:pipeline}}`: a pipeline shared from another repository.
        reference = scalar_text(value.get("import"))
        if reference:
            includes.append(f"import:{reference}")
        else:
            bb.diagnostic(f"pipeline '{name}': 'import' names no shared pipeline", value.key_line("import"))
        items = YSeq()
    elif not isinstance(value, YSeq):
        bb.diagnostic(f"pipeline '{name}' is not a list of steps", span[0])
        return
    entries, variables, stages = _flatten(bb, name, items)
    if variables is not None:
        trigger.filters["variables"] = variables
    note = _schedule_note(bb, name, span)
    if note is not None:
        triggers.append(Trigger(kind="schedule", event="schedule (set in the Bitbucket UI)",
                                evidence=bb.evidence((note, note))))
    jobs = _jobs(bb, entries)
    bb.ctx.add_pipeline(
        DetectContext.pipeline(
            "bitbucket-pipelines", bb.path, key=name,
            name=name,
            triggers=triggers,
            stages=stages,
            jobs=jobs,
            includes=includes,
            evidence=bb.evidence(span),
        )
    )


def _flatten(bb: _File, name: str, items: YSeq) -> tuple[list[_StepEntry], list[str] | None, list[str]]:
    """The steps of a pipeline in order, each with its parallel group; custom `variables`; stage names."""
    entries: list[_StepEntry] = []
    variables: list[str] | None = None
    stages: list[str] = []
    group = 0
    for index, item in enumerate(items):
        span = items.item_span(index)
        if not isinstance(item, YMap) or not item:
            bb.diagnostic(f"pipeline '{name}': item {index + 1} is not a step, parallel or stage mapping", span[0])
            continue
        key = next(iter(item))
        body = item[key]
        if key == "step":
            if _step_node(bb, body, span) is not None:
                group += 1
                entries.append(_StepEntry(node=body, span=span, group=group))
        elif key == "parallel":
            group += 1
            for step_span, node in _parallel_steps(bb, name, body, span):
                entries.append(_StepEntry(node=node, span=step_span, group=group))
        elif key == "stage":
            stage = body if isinstance(body, YMap) else None
            if stage is None:
                bb.diagnostic(f"pipeline '{name}': 'stage' is not a mapping", span[0])
                continue
            stage_name = scalar_text(stage.get("name")) or f"stage {len(stages) + 1}"
            stages.append(stage_name)
            first = True
            for step_span, node in _listed_steps(bb, name, stage.get("steps"), span):
                group += 1
                entries.append(_StepEntry(node=node, span=step_span, group=group, stage=stage,
                                          stage_name=stage_name, first_in_stage=first))
                first = False
        elif key == "variables":
            variables = [n for v in (body if isinstance(body, list) else [])
                         if isinstance(v, YMap) and (n := scalar_text(v.get("name")))]
        else:
            bb.diagnostic(f"pipeline '{name}': unknown item '{key}' (expected step, parallel or stage)", span[0])
    return entries, variables, stages


def _step_node(bb: _File, body: Any, span: tuple[int, int]) -> YMap | None:
    if isinstance(body, YMap):
        return body
    bb.diagnostic("'step' is not a mapping", span[0])
    return None


def _listed_steps(bb: _File, name: str, node: Any, span: tuple[int, int]) -> list[tuple[tuple[int, int], YMap]]:
    """`[- step: {...}, ...]` as (span, step) pairs."""
    found: list[tuple[tuple[int, int], YMap]] = []
    if not isinstance(node, YSeq):
        bb.diagnostic(f"pipeline '{name}': expected a list of steps", span[0])
        return found
    for index, item in enumerate(node):
        item_span = node.item_span(index)
        body = item.get("step") if isinstance(item, YMap) else None
        if body is None:
            bb.diagnostic(f"pipeline '{name}': expected '- step:' here", item_span[0])
            continue
        step = _step_node(bb, body, item_span)
        if step is not None:
            found.append((item_span, step))
    return found


def _parallel_steps(bb: _File, name: str, body: Any, span: tuple[int, int]) -> list[tuple[tuple[int, int], YMap]]:
    """`parallel: [- step: ...]` or `parallel: {fail-fast: true, steps: [- step: ...]}`."""
    if isinstance(body, YMap):
        return _listed_steps(bb, name, body.get("steps"), span)
    return _listed_steps(bb, name, body, span)


def _jobs(bb: _File, entries: list[_StepEntry]) -> list[Job]:
    """Jobs with ids from step names (suffixed `-<n>`, n the step's 1-based position, when a name repeats
    or is missing) and needs from the order of items."""
    names = [scalar_text(e.node.get("name")) for e in entries]
    counts: dict[str, int] = {}
    for step_name in names:
        if step_name:
            counts[step_name] = counts.get(step_name, 0) + 1
    jobs: list[Job] = []
    previous_group: list[str] = []
    current_group: list[str] = []
    group = None
    for position, (entry, step_name) in enumerate(zip(entries, names, strict=True), start=1):
        if entry.group != group:
            previous_group, current_group, group = current_group or previous_group, [], entry.group
        unique = counts.get(step_name or "") == 1  # None and "" are not counted (no name; "" was a KeyError)
        job_id = step_name if unique and step_name else f"{step_name or 'step'}-{position}"
        jobs.append(_job(bb, job_id, step_name, entry, list(previous_group)))
        current_group.append(job_id)
    return jobs


def _job(bb: _File, job_id: str, name: str | None, entry: _StepEntry, needs: list[str]) -> Job:
    step, stage = entry.node, entry.stage
    ctx, path = bb.ctx, bb.path
    manual = scalar_text(step.get("trigger")) == "manual"
    if stage is not None and entry.first_in_stage and scalar_text(stage.get("trigger")) == "manual":
        manual = True  # a manual stage waits for a person before its first step
    deployment = scalar_text(step.get("deployment")) or (scalar_text(stage.get("deployment")) if stage else None)
    conditions = [c for c in (_condition(stage.get("condition")) if stage else None,
                              _condition(step.get("condition"))) if c]
    runs_on = string_list(step.get("runs-on"))
    if isinstance(step.get("runs-on"), dict):
        bb.diagnostic(f"step '{job_id}': 'runs-on' is not a list of runner labels", step.key_line("runs-on"))
    size = scalar_text(step.get("size"))
    if size:
        runs_on.append(f"size:{size}")
    steps = _script(bb, step.get("script"), None, entry.span)
    steps += _script(bb, step.get("after-script"), "after-script", entry.span) if "after-script" in step else []
    if "script" not in step:
        bb.diagnostic(f"step '{job_id}' has no 'script'", entry.span[0])
    max_time = _minutes(step.get("max-time"))
    return Job(
        id=job_id,
        name=name,
        stage=entry.stage_name,
        needs=needs,
        needs_source="sequence" if needs else "none",
        runs_on=runs_on,
        image=_image(step.get("image")) or bb.image,
        environment=deployment,
        timeout_minutes=max_time if max_time is not None else bb.max_time,
        condition=ctx.redact("; ".join(conditions), path) if conditions else None,
        manual=manual,
        blocking=True if manual else None,
        caches=_caches(bb, step.get("caches"), entry.span),
        steps=steps,
        attributes=_attributes(bb, job_id, step),
        evidence=bb.evidence(entry.span),
    )


def _attributes(bb: _File, job_id: str, step: YMap) -> dict[str, str]:
    """Job.attributes of a step: `services`, `size` and `oidc` (Bitbucket Pipelines step options and global
    options); a key is set only when the file writes something for it."""
    found: dict[str, str | None] = {
        "services": ", ".join(_services(bb, job_id, step)) or None,
        "size": scalar_text(step.get("size")) or bb.size,
        # Only a true value asks for a token; `oidc: false` is the default spelled out.
        "oidc": "true" if yaml11_bool(step.get("oidc")) is True else None,
    }
    return {key: bb.ctx.redact(value, bb.path) for key, value in found.items() if value}


def _services(bb: _File, job_id: str, step: YMap) -> list[str]:
    """`services: [name, ...]` of a step, each defined under `definitions.services` (`docker` is built in),
    plus `docker` when `options.docker` is true."""
    node = step.get("services")
    names: list[str] = []
    if node is not None and not isinstance(node, YSeq):
        bb.diagnostic(f"step '{job_id}': 'services' is not a list of service names", step.key_line("services"))
    elif node is not None:
        for index, item in enumerate(node):
            name = scalar_text(item)
            line = node.item_span(index)[0]
            if name is None:
                bb.diagnostic(f"step '{job_id}': a service entry is not a name", line)
                continue
            if name != "docker" and name not in bb.services:
                bb.diagnostic(f"step '{job_id}': service '{name}' is not defined under 'definitions.services'",
                              line)
            if name not in names:
                names.append(name)  # kept even when undefined: the step asks for it
    if bb.docker and "docker" not in names:
        names.append("docker")
    return names


def _script(bb: _File, node: Any, name: str | None, span: tuple[int, int]) -> list[Step]:
    """`script:` items: commands (kind script, each with its own lines) and `- pipe: owner/name:version`."""
    steps: list[Step] = []
    if node is None:
        return steps
    if not isinstance(node, YSeq):
        text = scalar_text(node)
        bb.diagnostic("'script' is not a list of commands", span[0])
        if text:
            steps.append(Step(kind="script", name=name, command=bb.ctx.redact(text, bb.path),
                              evidence=bb.evidence(span)))
        return steps
    for index, item in enumerate(node):
        evidence = bb.evidence(node.item_span(index))
        if isinstance(item, YMap) and "pipe" in item:
            pipe = scalar_text(item.get("pipe"))
            steps.append(Step(kind="uses", name=name or pipe, uses=pipe, evidence=evidence))
        elif (text := scalar_text(item)) is not None:
            steps.append(Step(kind="script", name=name, command=bb.ctx.redact(text.rstrip("\n"), bb.path),
                              evidence=evidence))
        else:
            bb.diagnostic("a script item is neither a command nor a pipe", evidence.line_start)
    return steps


def _caches(bb: _File, node: Any, span: tuple[int, int]) -> list[Cache]:
    """Cache names: predefined ones, or `definitions.caches` entries (`name: path` or `{key: {files}, path}`)."""
    caches: list[Cache] = []
    if node is None:
        return caches
    if not isinstance(node, YSeq):
        bb.diagnostic("'caches' is not a list of cache names", span[0])
        return caches
    for index, item in enumerate(node):
        cache_name = scalar_text(item)
        evidence = bb.evidence(node.item_span(index))
        if cache_name is None:
            bb.diagnostic("a cache entry is not a name", evidence.line_start)
            continue
        if cache_name in bb.caches:
            definition = bb.caches[cache_name]
            key: str | None = None
            if isinstance(definition, YMap):
                key_node = definition.get("key")
                files = string_list(key_node.get("files")) if isinstance(key_node, YMap) else []
                key = f"files: {', '.join(files)}" if files else None
                paths = string_list(definition.get("path"))
            else:
                paths = string_list(definition)
            caches.append(Cache(via=f"cache '{cache_name}' (definitions)", key=key, paths=paths, evidence=evidence))
        elif cache_name in PREDEFINED_CACHES:
            caches.append(Cache(via=f"cache '{cache_name}' (predefined)", paths=PREDEFINED_CACHES[cache_name],
                                evidence=evidence))
        else:
            bb.diagnostic(f"cache '{cache_name}' is neither predefined nor defined under 'definitions.caches'",
                          evidence.line_start)
    return caches


def _condition(node: Any) -> str | None:
    """`condition: {changesets: {includePaths: [...], excludePaths: [...]}}` on one line."""
    changesets = node.get("changesets") if isinstance(node, YMap) else None
    if not isinstance(changesets, YMap):
        return None
    parts = [f"changesets.{key}: {', '.join(string_list(changesets[key]))}"
             for key in ("includePaths", "excludePaths") if key in changesets]
    return "; ".join(parts) or None


def _image(node: Any) -> str | None:
    """`image: name:tag` or `image: {name: ..., username: ...}`."""
    if isinstance(node, YMap):
        return scalar_text(node.get("name"))
    return scalar_text(node)


def _minutes(node: Any) -> float | None:
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return float(node)


def _schedule_note(bb: _File, name: str, span: tuple[int, int]) -> int | None:
    """The line where the file says a pipeline is scheduled: its name, or a comment right above its key
    or on its key's line (schedules themselves are kept in the Bitbucket UI)."""
    if _SCHEDULE_WORDS.search(name):
        return span[0]
    line = span[0]
    own = bb.lines[line - 1] if 0 < line <= len(bb.lines) else ""
    if "#" in own and _SCHEDULE_WORDS.search(own.split("#", 1)[1]):
        return line
    above = line - 1
    while above >= 1 and bb.lines[above - 1].strip().startswith("#"):
        if _SCHEDULE_WORDS.search(bb.lines[above - 1]):
            return above
        above -= 1
    return None
