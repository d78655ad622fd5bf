"""CircleCI: `.circleci/config.yml` (or `.yaml`), and continuation configs next to it.

Read as the CircleCI configuration reference describes it:

* `jobs`: each with an execution environment (`docker` images, `machine`, `macos`, or a named `executor`
  from `executors:` or an orb), `resource_class`, and `steps`: `checkout`, `run` (a string, or a map with
  `command`, `name`, `shell`), `save_cache` / `restore_cache`, other built-in steps, calls of reusable
  `commands:` or of orb commands (`node/install-packages`), and `when` / `unless` blocks holding more steps;
* `workflows`: each workflow is one Pipeline named after it. Its `jobs` list holds a job name, or a one-key
  map `{name: {requires, type: approval, filters, context, matrix, name, pre-steps, post-steps}}`.
  `requires` are declared dependencies; `type: approval` is a hold a person releases (a manual, blocking job
  with no steps, never defined under `jobs:`); `triggers: [{schedule: {cron, filters}}]` are scheduled
  workflows (cron in UTC); `matrix.parameters` fans a job out;
* `orbs` (listed in Pipeline.includes as `orb:<name>@<version>`), `executors`, `commands`, `parameters`;
* without `workflows`, CircleCI runs the job named `build` (configuration reference, "jobs"): one Pipeline.

The 2.0-era `workflows: version: 2` key and setup configs (`setup: true`) are read like any other config.
Orb commands whose orb caches dependencies on its own (node/install-packages and a few others) add a Cache.

Each Job's `attributes` keep what has no common field, only for keys written in the file:
`context` (the workflow entry's contexts, comma-joined: the secrets the job gets), `parallelism` and
`resource_class` (from the job definition; the job's resource_class wins over its executor's), and
`no_output_timeout`, the largest one among the job's `run` steps (pre/post-steps, `when` blocks and
reusable commands included), as written (`20m`). Values are kept as written, `<< parameters.x >>` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..cron import CronError, explain_cron
from ..models import Cache, Evidence, Job, Matrix, Schedule, Step, Trigger
from ..repo import FileText
from ..yamlsrc import YMap, YSeq, as_list, scalar_text, string_list, yaml11_bool
from ._matrix import matrix_combinations, matrix_size
from .base import DetectContext, Wants, detector, is_yaml

CONFIG_NAMES = (".circleci/config.yml", ".circleci/config.yaml")

# Steps CircleCI provides itself (configuration reference, "steps"); anything else is a command call.
BUILTIN_STEPS = frozenset(
    {
        "run", "checkout", "setup_remote_docker", "save_cache", "restore_cache", "store_artifacts",
        "store_test_results", "persist_to_workspace", "attach_workspace", "add_ssh_keys", "when", "unless",
        "deploy",
    }
)

# Orb commands that restore and save a dependency cache themselves, by orb name and command, with the
# boolean parameter that turns the caching off (None: always on). From each orb's registry page.
ORB_CACHE_COMMANDS: dict[tuple[str, str], str | None] = {
    ("circleci/node", "install-packages"): "with-cache",
    ("circleci/python", "install-packages"): None,
    ("circleci/ruby", "install-deps"): "with-cache",
    ("circleci/go", "mod-download-cached"): None,
    ("circleci/go", "load-cache"): None,
    ("circleci/go", "save-cache"): None,
    ("circleci/go", "load-mod-cache"): None,
    ("circleci/go", "save-mod-cache"): None,
}
# How deep `when` blocks and reusable commands calling commands are followed (they may form cycles).
MAX_NESTING = 8
# A run step's `no_output_timeout` is "a decimal with unit suffix, such as 20m, 1.25h, 5s" (configuration
# reference, "run"); CircleCI parses it as a Go duration, so sums such as `1h30m` are accepted as well.
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_SECONDS_PER_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


# Only files directly in the root `.circleci/` folder (config.yml, and continuation configs beside it).
CIRCLECI_FILES = Wants(prefixes=(".circleci/",), refine=lambda p: p.count("/") == 1 and is_yaml(p))


@dataclass
class _Body:
    """What a job definition (or a reusable command, or pre/post-steps) says: where it runs, its steps and
    caches, and the facts kept in Job.attributes."""

    runs_on: list[str] = field(default_factory=list)
    image: str | None = None
    resource_class: str | None = None
    parallelism: str | None = None
    steps: list[Step] = field(default_factory=list)
    caches: list[Cache] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)  # `no_output_timeout` of run steps, as written

    def absorb(self, other: _Body) -> None:
        """Add the caches and run-step timeouts of a called command (its steps stay one `uses` step)."""
        self.caches.extend(other.caches)
        self.timeouts.extend(other.timeouts)


@dataclass
class _Config:
    """The parts of one config file that jobs and workflows refer to."""

    ctx: DetectContext
    path: str
    jobs: YMap
    executors: YMap
    commands: YMap
    orbs: dict[str, str | None] = field(default_factory=dict)  # alias -> "ns/name@version", None when inline
    command_bodies: dict[str, _Body] = field(default_factory=dict)  # reusable command -> what its steps set up

    def evidence(self, span: tuple[int, int]) -> Evidence:
        return self.ctx.evidence(self.path, *span)

    def orb_name(self, alias: str) -> str:
        """The registry name of an orb alias (`node` -> `circleci/node`); the alias itself when unknown."""
        ref = self.orbs.get(alias)
        return ref.split("@", 1)[0] if ref else alias


@detector("circleci", wants=CIRCLECI_FILES)
def detect_config(ctx: DetectContext, file: FileText) -> None:
    """One Pipeline per workflow of a CircleCI config (or one for the `build` job when there is none)."""
    path = file.path
    main = path in CONFIG_NAMES
    docs = ctx.yaml_documents(file)
    if docs is None:
        return
    if not docs or not isinstance(docs[0], YMap):
        if main:
            reason = "empty CircleCI config" if not docs else "not a CircleCI config: the top level is not a mapping"
            ctx.diagnostic(path, reason, line=1)
        return
    doc: YMap = docs[0]
    if not main and "jobs" not in doc and "workflows" not in doc:
        return  # another YAML file kept in .circleci/ (orb sources, scripts' settings, ...)
    if "version" not in doc:
        ctx.diagnostic(path, "CircleCI config has no 'version' key; CircleCI refuses it", line=doc.span[0])
    cfg = _Config(
        ctx=ctx,
        path=path,
        jobs=_section(ctx, path, doc, "jobs"),
        executors=_section(ctx, path, doc, "executors"),
        commands=_section(ctx, path, doc, "commands"),
    )
    includes = _orbs(cfg, doc)
    workflows = doc.get("workflows")
    if workflows is None:
        _default_pipeline(cfg, doc, includes)
        return
    if not isinstance(workflows, YMap):
        ctx.diagnostic(path, "'workflows' is not a mapping of workflow names", line=doc.key_line("workflows"))
        return
    for name, node in workflows.items():
        if name == "version" and not isinstance(node, dict):
            continue  # `workflows: version: 2` from config 2.0
        span = workflows.key_span(name)
        if not isinstance(node, YMap):
            ctx.diagnostic(path, f"workflow '{name}' is not a mapping", line=span[0])
            continue
        _workflow(cfg, str(name), node, span, includes)


def _section(ctx: DetectContext, path: str, doc: YMap, key: str) -> YMap:
    """A top-level mapping section (`jobs`, `executors`, `commands`); empty when absent or malformed."""
    value = doc.get(key)
    if isinstance(value, YMap):
        return value
    if value is not None and value != {}:
        ctx.diagnostic(path, f"'{key}' is not a mapping", line=doc.key_line(key))
    return YMap()


def _orbs(cfg: _Config, doc: YMap) -> list[str]:
    """`orbs: {alias: ns/name@version}` as `orb:ns/name@version`; inline orbs (a map) as `orb:<alias>@inline`."""
    node = doc.get("orbs")
    includes: list[str] = []
    if node is None:
        return includes
    if not isinstance(node, YMap):
        cfg.ctx.diagnostic(cfg.path, "'orbs' is not a mapping of alias to orb reference", line=doc.key_line("orbs"))
        return includes
    for alias, ref in node.items():
        text = scalar_text(ref)
        if isinstance(ref, YMap):
            cfg.orbs[str(alias)] = None
            includes.append(f"orb:{alias}@inline")
        elif text:
            cfg.orbs[str(alias)] = text
            includes.append(f"orb:{text}")
        else:
            cfg.ctx.diagnostic(cfg.path, f"orb '{alias}' has no reference", line=node.key_line(alias))
    return includes


def _default_pipeline(cfg: _Config, doc: YMap, includes: list[str]) -> None:
    """Without `workflows`, CircleCI runs the job named `build` on every push."""
    definition = cfg.jobs.get("build")
    if not isinstance(definition, YMap):
        cfg.ctx.diagnostic(cfg.path, "config has neither 'workflows' nor a job named 'build'; CircleCI runs nothing",
                           line=doc.span[0])
        return
    span = cfg.jobs.key_span("build")
    body = _job_body(cfg, "build", definition)
    job = Job(id="build", runs_on=body.runs_on, image=body.image, steps=body.steps, caches=body.caches,
              attributes=_attributes(cfg, body, YMap()), evidence=cfg.evidence(span))
    cfg.ctx.add_pipeline(
        DetectContext.pipeline(
            "circleci", cfg.path, key="build",
            name="build",
            triggers=[Trigger(kind="push", event="push", evidence=cfg.evidence(span))],
            jobs=[job],
            includes=includes,
            evidence=cfg.evidence(span),
        )
    )


# ------------------------------------------------------------------ workflows


def _workflow(cfg: _Config, name: str, node: YMap, span: tuple[int, int], includes: list[str]) -> None:
    entries = node.get("jobs")
    jobs: list[Job] = []
    tag_patterns: list[str] = []
    tag_span: tuple[int, int] | None = None
    if isinstance(entries, YSeq):
        for index, entry in enumerate(entries):
            item_span = entries.item_span(index)
            parsed = _workflow_entry(cfg, name, entry, item_span)
            if parsed is None:
                continue
            job, filters = parsed
            jobs.append(job)
            if filters.get("tags.only"):
                tag_patterns.extend(p for p in filters["tags.only"] if p not in tag_patterns)
                tag_span = tag_span or item_span
    else:
        cfg.ctx.diagnostic(cfg.path, f"workflow '{name}' has no 'jobs' list", line=span[0])
    _make_ids_unique(cfg, name, jobs)
    _check_requires(cfg, name, jobs)
    triggers = _workflow_triggers(cfg, name, node, span)
    if tag_patterns and tag_span is not None and not any(t.kind == "schedule" for t in triggers):
        # CircleCI runs no job for a tag push unless the job's filters name tags (configuration reference).
        triggers.append(Trigger(kind="tag", event="tag", filters={"tags": tag_patterns},
                                evidence=cfg.evidence(tag_span)))
    cfg.ctx.add_pipeline(
        DetectContext.pipeline(
            "circleci", cfg.path, key=name,
            name=name,
            triggers=triggers,
            jobs=jobs,
            includes=includes,
            evidence=cfg.evidence(span),
        )
    )


def _workflow_triggers(cfg: _Config, name: str, node: YMap, span: tuple[int, int]) -> list[Trigger]:
    """Scheduled `triggers`; otherwise the push that starts every workflow, with its `when`/`unless` as filters."""
    triggers: list[Trigger] = []
    raw = node.get("triggers")
    if isinstance(raw, YSeq):
        for index, item in enumerate(raw):
            trigger = _schedule_trigger(cfg, name, item, raw.item_span(index))
            if trigger is not None:
                triggers.append(trigger)
    elif raw is not None:
        cfg.ctx.diagnostic(cfg.path, f"workflow '{name}': 'triggers' is not a list", line=node.key_line("triggers"))
    if triggers:
        return triggers  # a workflow with schedule triggers runs only on its schedule
    filters: dict[str, list[str]] = {}
    for key in ("when", "unless"):
        if key in node:
            filters[key] = [cfg.ctx.redact(_logic_text(node[key]), cfg.path)]
    when = " ".join(filters.get("when", []))
    if "scheduled_pipeline" in when and "not(" not in when:
        # Scheduled pipelines (set up in the CircleCI app or API) are told apart by pipeline.trigger_source.
        return [Trigger(kind="schedule", event="scheduled_pipeline", filters=filters,
                        evidence=cfg.evidence(node.key_span("when")))]
    return [Trigger(kind="push", event="push", filters=filters, evidence=cfg.evidence((span[0], span[0])))]


def _schedule_trigger(cfg: _Config, workflow: str, item: Any, span: tuple[int, int]) -> Trigger | None:
    """`- schedule: {cron, filters}`: a Trigger, and a Schedule (CircleCI reads the cron in UTC)."""
    schedule = item.get("schedule") if isinstance(item, YMap) else None
    cron = scalar_text(schedule.get("cron")) if isinstance(schedule, YMap) else None
    if not isinstance(schedule, YMap) or not cron:
        cfg.ctx.diagnostic(cfg.path, f"workflow '{workflow}': trigger without a 'schedule' holding a 'cron'",
                           line=span[0])
        return None
    try:
        explained: str | None = explain_cron(cron)
    except CronError as exc:
        explained = None
        cfg.ctx.diagnostic(cfg.path, f"invalid cron '{cron}': {exc}", line=span[0])
    evidence = cfg.evidence(span)
    # The schedule's evidence is its cron line, where every other source's schedule points too.
    cron_line = cfg.evidence(schedule.key_span("cron", span))
    cfg.ctx.add_schedule(
        Schedule(source="circleci", expression=cron, explanation=explained or "invalid cron expression",
                 timezone="UTC", target=f"workflow '{workflow}' ({cfg.path})", evidence=cron_line)
    )
    return Trigger(kind="schedule", event="schedule", cron=cron, cron_explained=explained,
                   filters=_filters(schedule.get("filters")), evidence=evidence)


def _workflow_entry(
    cfg: _Config, workflow: str, entry: Any, span: tuple[int, int]
) -> tuple[Job, dict[str, list[str]]] | None:
    """One item of a workflow's `jobs` list: a job name, or `{job: {requires, type, filters, matrix, ...}}`."""
    ctx, path = cfg.ctx, cfg.path
    if isinstance(entry, str):
        job_name, conf = entry, YMap()
    elif isinstance(entry, YMap) and entry:
        keys = [str(k) for k in entry]
        job_name, conf = keys[0], entry[next(iter(entry))]
        if len(keys) > 1:
            ctx.diagnostic(path, f"workflow '{workflow}': the entry for job '{job_name}' also has the keys "
                                 f"{', '.join(keys[1:])}; they probably belong indented under '{job_name}'",
                           line=span[0])
        if conf is None:
            conf = YMap()
        elif not isinstance(conf, YMap):
            ctx.diagnostic(path, f"workflow '{workflow}': the settings of job '{job_name}' are not a mapping",
                           line=span[0])
            conf = YMap()
    else:
        ctx.diagnostic(path, f"workflow '{workflow}': a job entry is neither a job name nor a mapping", line=span[0])
        return None
    needs = _requires(conf.get("requires"))
    matrix_node = conf.get("matrix")
    matrix = _matrix(matrix_node) if matrix_node is not None else None
    alias = scalar_text(matrix_node.get("alias")) if isinstance(matrix_node, YMap) else None
    # Other jobs `require` a matrix job by its alias (default: the job name), not by its templated `name`.
    job_id = (alias or job_name) if matrix is not None else (scalar_text(conf.get("name")) or job_name)
    filters = _filters(conf.get("filters"))
    condition = _condition(conf.get("filters"), filters)
    common: dict[str, Any] = {
        "id": job_id,
        "name": job_name if job_id != job_name else None,
        "needs": needs,
        "needs_source": "declared" if needs else "none",
        "matrix": matrix,
        "condition": ctx.redact(condition, path) if condition else None,
        "environment": _target_environment(conf),
    }
    if scalar_text(conf.get("type")) == "approval":
        # A context on an approval job restricts who may approve it (CircleCI "Contexts" guide).
        return Job(**common, manual=True, blocking=True, attributes=_attributes(cfg, _Body(), conf),
                   evidence=cfg.evidence(span)), filters
    definition = cfg.jobs.get(job_name)
    body = _Body()
    uses: str | None = None
    evidence = cfg.evidence(span)
    if isinstance(definition, YMap):
        body = _job_body(cfg, job_name, definition)
        evidence = cfg.evidence(cfg.jobs.key_span(job_name))
    elif "/" in job_name:
        alias_name = job_name.split("/", 1)[0]
        ref = cfg.orbs.get(alias_name)
        uses = f"{job_name} ({ref})" if ref else job_name
        _check_orb_alias(cfg, alias_name, span[0])
    elif definition is not None:
        ctx.diagnostic(path, f"job '{job_name}' is not a mapping", line=cfg.jobs.key_line(job_name))
    else:
        ctx.diagnostic(path, f"workflow '{workflow}' runs job '{job_name}', which is not defined under 'jobs'",
                       line=span[0])
    pre = _Body()
    post = _Body()
    _read_steps(cfg, conf.get("pre-steps"), pre, 0)
    _read_steps(cfg, conf.get("post-steps"), post, 0)
    body.timeouts.extend(pre.timeouts + post.timeouts)  # pre/post-steps run in the same job
    job = Job(
        **common,
        runs_on=body.runs_on,
        image=body.image,
        steps=pre.steps + body.steps + post.steps,
        caches=pre.caches + body.caches + post.caches,
        uses=uses,
        attributes=_attributes(cfg, body, conf),
        evidence=evidence,
    )
    return job, filters


def _requires(node: Any) -> list[str]:
    """`requires` names: strings, or maps `{job: status}` (requiring a job's terminal status)."""
    names: list[str] = []
    for item in as_list(node):
        if isinstance(item, dict):
            names.extend(str(key) for key in item)
        elif (text := scalar_text(item)) is not None:
            names.append(text)
    return names


def _filters(node: Any) -> dict[str, list[str]]:
    """`filters: {branches: {only, ignore}, tags: {only, ignore}}` as {"branches.only": [...], ...}."""
    found: dict[str, list[str]] = {}
    if not isinstance(node, YMap):
        return found
    for ref in ("branches", "tags"):
        sub = node.get(ref)
        if isinstance(sub, YMap):
            for key in ("only", "ignore"):
                if key in sub:
                    found[f"{ref}.{key}"] = string_list(sub[key])
    return found


def _condition(node: Any, filters: dict[str, list[str]]) -> str | None:
    """A job's filters as one line; a filter expression string (`pipeline.git.branch == "main"`) as written."""
    if isinstance(node, str):
        return node
    if not filters:
        return None
    return "; ".join(f"{key}: {', '.join(values)}" for key, values in filters.items())


def _logic_text(node: Any, depth: int = 0) -> str:
    """A logic statement (`when: {and: [{equal: [a, b]}, ...]}`) written on one line: and(equal(a, b), ...)."""
    if depth > MAX_NESTING:
        return "..."
    if isinstance(node, dict):
        return ", ".join(f"{key}({_logic_text(value, depth + 1)})" for key, value in node.items())
    if isinstance(node, list):
        return ", ".join(_logic_text(value, depth + 1) for value in node)
    return _value_text(node) or ""


def _matrix(node: Any) -> Matrix:
    """`matrix: {parameters: {p: [values]}, exclude: [{p: v}]}`: fan_out = combinations - excluded ones."""
    params = node.get("parameters") if isinstance(node, YMap) else None
    if not isinstance(params, YMap):
        return Matrix(dynamic=True)
    dimensions: dict[str, list[str]] = {}
    dynamic = False
    for key, values in params.items():
        if isinstance(values, list):
            dimensions[str(key)] = [_value_text(v) or str(v) for v in values]
        else:
            dynamic = True  # e.g. << pipeline.parameters.versions >>
    raw_exclude = node.get("exclude")
    exclude = [e for e in raw_exclude if isinstance(e, dict)] if isinstance(raw_exclude, list) else []
    if dynamic:
        return Matrix(dimensions=dimensions, exclude=len(exclude), dynamic=True)
    combos = matrix_combinations(dimensions)
    if combos is None:
        size = matrix_size(dimensions)
        return Matrix(dimensions=dimensions, exclude=len(exclude), fan_out=max(0, size - len(exclude)))
    kept = sum(
        not any(all(chosen.get(str(k)) == _value_text(v) for k, v in e.items()) for e in exclude) for chosen in combos
    )
    return Matrix(dimensions=dimensions, exclude=len(exclude), fan_out=kept)


def _make_ids_unique(cfg: _Config, workflow: str, jobs: list[Job]) -> None:
    """CircleCI refuses a workflow naming a job twice; keep both, the later one suffixed `-2`, `-3`, ..."""
    seen: set[str] = set()
    for job in jobs:
        if job.id in seen:
            cfg.ctx.diagnostic(cfg.path, f"workflow '{workflow}' lists job '{job.id}' twice; "
                                         "give each a distinct 'name'", line=job.evidence.line_start)
            number = 2
            while f"{job.id}-{number}" in seen:
                number += 1
            job.id = f"{job.id}-{number}"
        seen.add(job.id)


def _check_requires(cfg: _Config, workflow: str, jobs: list[Job]) -> None:
    """Every `requires` must name a job of the workflow (or an instance of a matrix job: `<alias>-<values>`)."""
    known = {job.id for job in jobs}
    matrix_aliases = [job.id for job in jobs if job.matrix is not None]
    for job in jobs:
        for need in job.needs:
            if need in known or any(need.startswith(alias + "-") for alias in matrix_aliases):
                continue
            cfg.ctx.diagnostic(cfg.path, f"workflow '{workflow}': job '{job.id}' requires '{need}', "
                                         "which is not a job of this workflow", line=job.evidence.line_start)


# ------------------------------------------------------------------ job definitions


def _job_body(cfg: _Config, name: str, node: YMap) -> _Body:
    body = _Body()
    body.runs_on, body.image, body.resource_class = _environment(cfg, node, 0)
    body.parallelism = scalar_text(node.get("parallelism"))
    if isinstance(node.get("parallelism"), dict | list):
        cfg.ctx.diagnostic(cfg.path, f"job '{name}': 'parallelism' is not a number", line=node.key_line("parallelism"))
    if "steps" not in node:
        cfg.ctx.diagnostic(cfg.path, f"job '{name}' has no 'steps'", line=cfg.jobs.key_line(name))
    _read_steps(cfg, node.get("steps"), body, 0)
    return body


# Keys of a workflow entry that configure the entry itself; every other key passes a parameter to the job.
ENTRY_KEYS = frozenset({"requires", "context", "filters", "name", "matrix", "pre-steps", "post-steps", "type",
                        "serial-group", "override-with"})
# Parameters that name where a deploy job deploys (an orb's `environment`, `stage`, `cluster`, ...).
ENVIRONMENT_PARAMETERS = ("environment", "env", "stage", "target-environment", "deploy-environment", "cluster")


def _value_text(value: Any) -> str | None:
    """A scalar as CircleCI reads it, as text: a boolean (a plain yes/no/on/off too, see `_flag`) as true/false."""
    flag = _flag(value)
    return scalar_text(value) if flag is None else ("true" if flag else "false")


def _flag(value: Any) -> bool | None:
    """A boolean as CircleCI reads it: its config compiler parses YAML 1.1 with SnakeYAML, so a plain yes/no/on/off
    is a boolean there, a quoted one a string, and y/n are strings (CircleCI-Public/circleci-cli pull 1675, "Read
    yes/no/on/off as booleans when packing, as the compiler does"; orb-tools-orb issue 145: a quoted "on" is not a
    boolean parameter value)."""
    return yaml11_bool(value)


def _parameters(conf: YMap) -> dict[str, str]:
    """The parameters a workflow entry passes to its job (orb jobs take most of their meaning from them)."""
    found: dict[str, str] = {}
    for key, value in conf.items():
        text = _value_text(value)
        if isinstance(key, str) and key not in ENTRY_KEYS and text is not None:
            found[key] = text
    return found


def _target_environment(conf: YMap) -> str | None:
    parameters = _parameters(conf)
    return next((parameters[k] for k in ENVIRONMENT_PARAMETERS if parameters.get(k)), None)


def _attributes(cfg: _Config, body: _Body, conf: YMap) -> dict[str, str]:
    """Job.attributes from the workflow entry's settings (`conf`) and the job definition's `body`; a key is
    set only when the file writes it. `parameters` lists what the entry passes to the job (`k=v; ...`)."""
    parameters = _parameters(conf)
    found: dict[str, str | None] = {
        "parameters": "; ".join(f"{k}={v}" for k, v in parameters.items()) or None,
        "context": _context(cfg, conf),
        "parallelism": body.parallelism,
        "resource_class": body.resource_class,
        "no_output_timeout": _largest_timeout(body.timeouts),
    }
    return {key: cfg.ctx.redact(value, cfg.path) for key, value in found.items() if value}


def _context(cfg: _Config, conf: YMap) -> str | None:
    """`context`: a name or a list of names (configuration reference, "workflows.jobs.context"), joined."""
    node = conf.get("context")
    names = string_list(node)
    if isinstance(node, dict) or (isinstance(node, list) and len(names) != len(node)):
        cfg.ctx.diagnostic(cfg.path, "'context' is not a context name or a list of names",
                           line=conf.key_line("context"))
    return ", ".join(names) or None


def _largest_timeout(written: list[str]) -> str | None:
    """The longest of some `no_output_timeout` values, as written; the first one when none is a plain
    duration (all parameters, `<< parameters.timeout >>`), None when there is none."""
    best: tuple[float, str] | None = None
    for text in written:
        seconds = _duration_seconds(text)
        if seconds is not None and (best is None or seconds > best[0]):
            best = (seconds, text)
    if best is not None:
        return best[1]
    return written[0] if written else None


def _duration_seconds(text: str) -> float | None:
    """A Go duration (`20m`, `1.25h`, `1h30m`) in seconds; None when `text` is not one."""
    if text == "0":
        return 0.0  # the one duration Go reads without a unit
    parts = list(_DURATION_PART.finditer(text))
    if not parts or "".join(m.group(0) for m in parts) != text:
        return None
    return sum(float(m.group(1)) * _SECONDS_PER_UNIT[m.group(2)] for m in parts)


def _environment(cfg: _Config, node: YMap, depth: int) -> tuple[list[str], str | None, str | None]:
    """Where a job (or an executor) runs: `docker` (first image is the primary container), `machine`,
    `macos`, or a named `executor`; `resource_class` is added as `resource_class:<value>` and returned
    on its own as well."""
    runs_on: list[str] = []
    image: str | None = None
    executor_class: str | None = None
    executor = node.get("executor")
    executor_name = scalar_text(executor.get("name")) if isinstance(executor, YMap) else scalar_text(executor)
    if executor_name:
        definition = cfg.executors.get(executor_name)
        if isinstance(definition, YMap) and depth < 2:
            runs_on, image, executor_class = _environment(cfg, definition, depth + 1)
        else:
            runs_on = [f"executor:{executor_name}"]
            if "/" not in executor_name and definition is None:
                cfg.ctx.diagnostic(cfg.path, f"executor '{executor_name}' is not defined under 'executors'",
                                   line=node.key_line("executor"))
    docker = node.get("docker")
    if isinstance(docker, YSeq) and docker:
        primary = docker[0]
        image = scalar_text(primary.get("image")) if isinstance(primary, YMap) else scalar_text(primary)
        runs_on = ["docker"]
    machine = node.get("machine")
    if machine is not None and _flag(machine) is not False and machine != "false":
        machine_image = scalar_text(machine.get("image")) if isinstance(machine, YMap) else None
        runs_on = [f"machine:{machine_image}" if machine_image else "machine"]
    macos = node.get("macos")
    if isinstance(macos, YMap):
        xcode = scalar_text(macos.get("xcode"))
        runs_on = [f"macos:xcode {xcode}" if xcode else "macos"]
    resource_class = scalar_text(node.get("resource_class"))
    if resource_class:
        # The job's own resource_class wins over its executor's.
        runs_on = [r for r in runs_on if not r.startswith("resource_class:")] + [f"resource_class:{resource_class}"]
    return runs_on, image, resource_class or executor_class


def _read_steps(cfg: _Config, node: Any, body: _Body, depth: int) -> None:
    """Add to `body` the steps of a `steps` list (following `when`/`unless` blocks), the caches they set up
    and the `no_output_timeout` of their run steps."""
    if node is None:
        return
    if not isinstance(node, YSeq):
        line = node.span[0] if isinstance(node, YMap) else None
        cfg.ctx.diagnostic(cfg.path, "'steps' is not a list", line=line)
        return
    for index, item in enumerate(node):
        span = node.item_span(index)
        if isinstance(item, str):
            _one_step(cfg, item, None, span, body, depth)
        elif isinstance(item, YMap) and item:
            keys = [str(k) for k in item]
            if len(keys) > 1:
                cfg.ctx.diagnostic(cfg.path, f"step '{keys[0]}' has the sibling keys {', '.join(keys[1:])}; "
                                             f"they probably belong indented under '{keys[0]}'", line=span[0])
            _one_step(cfg, keys[0], item[next(iter(item))], span, body, depth)
        else:
            cfg.ctx.diagnostic(cfg.path, "a step is neither a step name nor a mapping", line=span[0])


def _one_step(cfg: _Config, name: str, args: Any, span: tuple[int, int], body: _Body, depth: int) -> None:
    ctx, path = cfg.ctx, cfg.path
    steps, caches = body.steps, body.caches
    evidence = cfg.evidence(span)
    settings = args if isinstance(args, YMap) else YMap()
    if name == "run":
        command = scalar_text(args) if not isinstance(args, YMap) else scalar_text(settings.get("command"))
        if command is None:
            ctx.diagnostic(path, "'run' step without a command", line=span[0])
            command = ""
        steps.append(Step(kind="run", name=scalar_text(settings.get("name")),
                          command=ctx.redact(command.rstrip("\n"), path),
                          shell=scalar_text(settings.get("shell")), evidence=evidence))
        _run_timeout(cfg, settings, body)
    elif name == "checkout":
        steps.append(Step(kind="checkout", name="checkout", evidence=evidence))
    elif name in ("save_cache", "restore_cache"):
        key = scalar_text(settings.get("key")) or ", ".join(string_list(settings.get("keys"))) or None
        steps.append(Step(kind="cache", name=scalar_text(settings.get("name")) or name, evidence=evidence))
        caches.append(Cache(via=name, key=key, paths=string_list(settings.get("paths")), evidence=evidence))
    elif name in ("when", "unless"):
        condition = _logic_text(settings.get("condition"))
        steps.append(Step(kind="other", name=ctx.redact(f"{name} {condition}".strip(), path), evidence=evidence))
        if depth < MAX_NESTING:
            _read_steps(cfg, settings.get("steps"), body, depth + 1)
    elif name in BUILTIN_STEPS:
        steps.append(Step(kind="other", name=name, evidence=evidence))
    elif "/" in name:
        steps.append(Step(kind="uses", name=name, uses=name, evidence=evidence))
        alias, command = name.split("/", 1)
        _check_orb_alias(cfg, alias, span[0])
        caches.extend(_orb_cache(cfg, name, cfg.orb_name(alias), command, settings, evidence))
    else:
        steps.append(Step(kind="uses", name=name, uses=name, evidence=evidence))
        if name in cfg.commands:
            body.absorb(_command_body(cfg, name, depth))
        else:
            ctx.diagnostic(path, f"step '{name}' is neither a built-in step nor a command under 'commands'",
                           line=span[0])


def _orb_cache(
    cfg: _Config, written: str, orb: str, command: str, settings: YMap, evidence: Evidence
) -> list[Cache]:
    """Orb commands that cache dependencies themselves (unless their off switch is set to false)."""
    if (orb, command) not in ORB_CACHE_COMMANDS:
        return []
    switch = ORB_CACHE_COMMANDS[(orb, command)]
    if switch is not None and (_flag(settings.get(switch)) is False or settings.get(switch) == "false"):
        return []
    paths = string_list(settings.get("cache-path"))
    return [Cache(via=written, key=scalar_text(settings.get("cache-version")), paths=paths, evidence=evidence)]


def _command_body(cfg: _Config, name: str, depth: int) -> _Body:
    """What a reusable command's steps set up: caches and run-step timeouts (read once per command;
    commands may call commands)."""
    if name in cfg.command_bodies:
        return cfg.command_bodies[name]
    cfg.command_bodies[name] = _Body()  # guards against a command that calls itself
    definition = cfg.commands.get(name)
    body = _Body()
    if isinstance(definition, YMap) and depth < MAX_NESTING:
        _read_steps(cfg, definition.get("steps"), body, depth + 1)
    cfg.command_bodies[name] = body
    return body


def _run_timeout(cfg: _Config, settings: YMap, body: _Body) -> None:
    """Keep a run step's `no_output_timeout` as written; report one that is neither a duration with a unit
    (which the configuration reference asks for) nor a parameter, and leave it out."""
    if "no_output_timeout" not in settings:
        return
    text = scalar_text(settings.get("no_output_timeout"))
    if text is None or (_duration_seconds(text) is None and "<<" not in text):
        expected = "a duration with a unit such as 20m, 1.25h or 90s"
        reason = (f"run step: no_output_timeout '{cfg.ctx.redact(text, cfg.path)}' is not {expected}" if text
                  else f"run step: no_output_timeout holds no duration (expected {expected})")
        cfg.ctx.diagnostic(cfg.path, reason, line=settings.key_line("no_output_timeout"))
        return
    body.timeouts.append(text)


def _check_orb_alias(cfg: _Config, alias: str, line: int) -> None:
    if alias not in cfg.orbs:
        cfg.ctx.diagnostic(cfg.path, f"'{alias}/...' refers to orb '{alias}', which is not declared under 'orbs'",
                           line=line)
