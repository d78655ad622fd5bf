"""GitLab CI/CD: `.gitlab-ci.yml` files at any depth (outside vendored folders), with their local includes.

Read as the GitLab CI/CD YAML syntax reference (docs.gitlab.com/ee/ci/yaml/) describes it:

* top-level keywords that are not jobs (`stages`, `variables`, `include`, `default`, `workflow` and the deprecated
  global `image`, `services`, `before_script`, `after_script`, `cache`); every other key is a job (`pages` too),
  except hidden keys starting with `.`, which are templates for `extends` and `!reference`;
* `include` (string, `local`, `project`/`file`, `remote`, `template`, `component`): all are listed; a `local` include
  that is in the repository is read and merged under the main file ("included files are merged, the main file
  wins"), its jobs keep evidence in the included file;
* `extends` (string or list), resolved recursively with GitLab's merge: mappings are deep-merged, arrays and
  scalars replaced; a cycle or a missing parent is a Diagnostic;
* `default:` (and the global keywords) inherited by jobs unless `inherit: default` says otherwise;
* `!reference [.job, key, ...]` tags resolved against the merged configuration, else kept visible as text;
* per job: `stage` (default `test`), `needs` (strings, `{job, optional}`; `needs: []` runs at once) or else the
  implicit stage order, `rules`/`only`/`except`/`when` as condition text, manual jobs and whether they block
  (`allow_failure` defaults to true for `when: manual`, to false for `when: manual` inside `rules`), `cache`,
  scripts (each line one step), `environment`, `timeout`, `trigger`, `parallel`, `image`, `tags`,
  `resource_group`;
* triggers: GitLab creates a pipeline for every push unless `workflow:rules` restricts it; `rules:if` on
  `$CI_PIPELINE_SOURCE` (schedule, merge_request_event, web, api, ...) and `$CI_COMMIT_TAG`, and `only:` refs
  keywords, add the pipeline sources the jobs are written for. Schedules live in the GitLab UI, so a schedule
  trigger has no cron.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..models import Cache, Evidence, Job, Matrix, Severity, Step, Trigger, TriggerKind
from ..repo import FileText
from ..yamlsrc import Span, Tagged, YMap, YSeq, scalar_text, string_list, yaml11_bool
from ._gitlab_rules import ManualMode, RuleView, manual_mode
from .base import DetectContext, Wants, detector, finalizer

# Top-level keys that configure the pipeline rather than define a job (GitLab CI YAML reference, "Global keywords";
# `types` is the removed alias of `stages`, `spec` the header of a CI/CD component).
GLOBAL_KEYWORDS = frozenset(
    {"stages", "types", "variables", "include", "default", "workflow", "image", "services", "before_script",
     "after_script", "cache", "spec"}
)
# Deprecated top-level keywords that act as `default:` entries.
GLOBAL_DEFAULTS = ("image", "services", "before_script", "after_script", "cache")
# Keywords a job inherits from `default:` (GitLab CI YAML reference, `default`).
DEFAULT_KEYWORDS = ("after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens", "image",
                    "interruptible", "retry", "services", "tags", "timeout")
DEFAULT_STAGES = ["build", "test", "deploy"]
MAX_EXTENDS_DEPTH = 11  # GitLab refuses deeper inheritance
MAX_REFERENCE_DEPTH = 10  # nested !reference levels GitLab follows
MAX_SCRIPT_NESTING = 10  # "nested array of strings up to 10 levels deep"
MAX_INCLUDES = 150  # GitLab's limit on included files per pipeline
MAX_MERGE_DEPTH = 64
MERGE_BUDGET = 20_000  # mappings merged per call; a document of aliases can otherwise grow exponentially
MAX_FLAT_VISITS = 20_000  # values visited while flattening one list
MAX_STEPS = 5_000  # script lines per job; nested aliases can otherwise expand to millions
MAX_WALK_DEPTH = 64

# $CI_PIPELINE_SOURCE values (GitLab "Predefined CI/CD variables") and the trigger kind each one means.
PIPELINE_SOURCES: dict[str, TriggerKind] = {
    "push": "push",
    "merge_request_event": "pull_request",
    "external_pull_request_event": "pull_request",
    "schedule": "schedule",
    "web": "manual",
    "api": "api",
    "trigger": "api",
    "chat": "manual",
    "pipeline": "pipeline",
    "parent_pipeline": "pipeline",
    "webide": "manual",
    "ondemand_dast_scan": "other",
    "security_orchestration_policy": "other",
}
# `only:`/`except:` refs keywords (GitLab CI YAML reference, `only:refs`) and their trigger kind.
ONLY_REFS: dict[str, tuple[TriggerKind, str]] = {
    "schedules": ("schedule", "schedule"),
    "tags": ("tag", "tag"),
    "merge_requests": ("pull_request", "merge_request_event"),
    "external_pull_requests": ("pull_request", "external_pull_request_event"),
    "web": ("manual", "web"),
    "api": ("api", "api"),
    "triggers": ("api", "trigger"),
    "pipelines": ("pipeline", "pipeline"),
    "chat": ("manual", "chat"),
    "pushes": ("push", "push"),
    "branches": ("push", "push"),
}
SCHEDULE_NOTE = (
    "pipeline schedule configured in the GitLab UI (Build > Pipeline schedules); its cron is not in the repository"
)

_SOURCE_TEST = re.compile(
    r"""\$\{?CI_PIPELINE_SOURCE\}?\s*(==|!=|=~|!~)\s*(?:"([^"]*)"|'([^']*)'|/((?:\\/|[^/])*)/)"""
)
_TAG_TEST = re.compile(r"""\$\{?CI_COMMIT_TAG\}?(?!\w)(\s*(==|!=|=~|!~)\s*(null|""|''|\S+))?""")
_MR_VARIABLE = re.compile(r"\$\{?CI_MERGE_REQUEST_(IID|ID)\}?(?!\w)(?!\s*==\s*null)")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
_DURATION_UNITS = {
    "": 1 / 60, "s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60, "second": 1 / 60, "seconds": 1 / 60,
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
    "d": 1440, "day": 1440, "days": 1440,
    "w": 10080, "wk": 10080, "week": 10080, "weeks": 10080,
}


MAIN_FILE = ".gitlab-ci.yml"
# Files written to be included (by this project's pipeline, or by other projects with `include: project:`):
# `*.gitlab-ci.yml`, `gitlab-ci.yml`, and YAML under `.gitlab/ci/`.
INCLUDED_GLOBS = ("*.gitlab-ci.yml", "*.gitlab-ci.yaml", "gitlab-ci.yml", "gitlab-ci.yaml", ".gitlab-ci.yaml")
# What a CI configuration has and other YAML has not: a job keyword indented under a key, or a global keyword.
_CI_SNIFF = re.compile(r"^(?:\s+(?:script|extends|stage|trigger|rules|needs):|(?:stages|include|workflow):)", re.M)


def _is_included_ci_file(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1].lower()
    if name.endswith((".yml", ".yaml")) and ".gitlab/ci/" in f"{path}/":
        return True
    return any(fnmatch.fnmatchcase(name, glob) for glob in INCLUDED_GLOBS)


# The file name GitLab reads by default, at any depth, and files meant to be included; Wants skips vendored folders.
GITLAB_CI_FILES = Wants(
    names=frozenset({MAIN_FILE}), globs=INCLUDED_GLOBS, dirs=frozenset({".gitlab"}),
    refine=lambda p: p.rsplit("/", 1)[-1] == MAIN_FILE or _is_included_ci_file(p),
)


@detector("gitlab-ci", wants=GITLAB_CI_FILES)
def detect_gitlab_ci(ctx: DetectContext, file: FileText) -> None:
    """A `.gitlab-ci.yml` is a pipeline. A file meant to be included is read alone too, as a template (it runs
    where it is included), so that a CI file that only other projects include is not missed; when this
    project's own pipeline includes it, the finalizer drops the copy."""
    main = file.path.rsplit("/", 1)[-1] == MAIN_FILE
    if not main and _CI_SNIFF.search(file.text) is None:
        return
    doc = _config_document(ctx, file)
    if doc is None:
        return
    reader = _Reader(ctx, file.path, template=not main)
    reader.load(file.path, doc)
    reader.build(file.line_count)


@finalizer("gitlab-ci-included-files", order=40)
def drop_templates_read_through_a_pipeline(ctx: DetectContext) -> None:
    """Included files this project's pipelines already read (their jobs carry the file's path) are not separate
    templates; and a diagnostic met twice (once through the pipeline, once alone) is reported once."""
    pipelines = [p for p in ctx.findings.pipelines if p.system == "gitlab-ci"]
    read_through = {job.evidence.path for p in pipelines if p.kind == "pipeline" for job in p.jobs}
    read_through.update(p.path for p in pipelines if p.kind == "pipeline")
    patterns = [i.removeprefix("local:").strip().lstrip("/") for p in pipelines if p.kind == "pipeline"
                for i in p.includes]
    ctx.findings.pipelines = [
        p for p in ctx.findings.pipelines
        if not (p.system == "gitlab-ci" and p.kind == "template"
                and (not p.jobs or p.path in read_through or any(fnmatch.fnmatchcase(p.path, i) for i in patterns)))
    ]
    seen: set[tuple[str, int | None, str]] = set()
    kept = []
    for diagnostic in ctx.findings.diagnostics:
        key = (diagnostic.path, diagnostic.line, diagnostic.reason)
        if diagnostic.detector == "gitlab-ci" and key in seen:
            continue
        seen.add(key)
        kept.append(diagnostic)
    ctx.findings.diagnostics = kept


@finalizer("gitlab-ci-child-pipelines", order=50)
def mark_child_pipelines(ctx: DetectContext) -> None:
    """A `.gitlab-ci.yml` that another pipeline starts with `trigger: include:` (the monorepo pattern) is a child
    pipeline: its parent starts it, so its implied push trigger is replaced by a `parent_pipeline` trigger whose
    evidence is the trigger job of the parent."""
    pipelines = {p.path: p for p in ctx.findings.pipelines if p.system == "gitlab-ci"}
    for parent in list(pipelines.values()):
        for job in parent.jobs:
            if not (job.uses or "").startswith("child:"):
                continue
            for target in (job.uses or "").removeprefix("child:").split(","):
                child = pipelines.get(target.strip().lstrip("/"))
                if child is None or child is parent:
                    continue
                child.triggers = [t for t in child.triggers if not _is_default_trigger(t)]
                source = f"trigger job '{job.id}' of {parent.path}"
                existing = next((t for t in child.triggers if t.event == "parent_pipeline"), None)
                if existing is None:
                    child.triggers.insert(0, Trigger(kind="pipeline", event="parent_pipeline",
                                                     filters={"from": [source]}, evidence=job.evidence))
                elif source not in existing.filters.setdefault("from", []):
                    existing.filters["from"].append(source)


def _is_default_trigger(trigger: Trigger) -> bool:
    return any(text.startswith("default:") for text in trigger.filters.get("from", []))


def _config_document(ctx: DetectContext, file: FileText) -> YMap | None:
    """The configuration document: the first, or the second when the first is a component's `spec:` header."""
    docs = ctx.yaml_documents(file)
    if docs is None:
        return None
    if not docs:
        ctx.diagnostic(file.path, "empty .gitlab-ci.yml: GitLab creates no pipeline from it", severity="info")
        return None
    doc = docs[0]
    if isinstance(doc, YMap) and set(doc) == {"spec"} and len(docs) > 1:
        doc = docs[1]
    if not isinstance(doc, YMap):
        ctx.diagnostic(file.path, "not a GitLab CI configuration: the top level is not a mapping", line=1)
        return None
    return doc


# ------------------------------------------------------------------ merging with provenance


def _owner(mapping: YMap, key: Any) -> YMap:
    """The original mapping (as loaded from a file) in which `key` of `mapping` was written."""
    owners = getattr(mapping, "owners", None)
    return owners.get(key, mapping) if owners else mapping


def _merge(base: Any, over: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """GitLab's merge for `extends`, `include` and `default`: mappings deep-merged, anything else replaced by `over`.

    The result remembers, per key, the mapping the value was written in (`owners`), so evidence still points
    at the right file and line. `budget` bounds the work: aliases can make a small file a huge tree.
    """
    budget = [MERGE_BUDGET] if budget is None else budget
    budget[0] -= 1
    if not (isinstance(base, dict) and isinstance(over, dict)) or depth > MAX_MERGE_DEPTH or budget[0] <= 0:
        return over
    out = YMap()
    out.span = over.span if isinstance(over, YMap) else getattr(base, "span", (1, 1))
    out.key_spans = {}
    owners: dict[Any, YMap] = {}
    for source in (base, over):
        for key, value in source.items():
            out[key] = _merge(out[key], value, depth + 1, budget) if key in out else value
            if isinstance(source, YMap):
                out.key_spans[key] = source.key_span(key)
                owners[key] = _owner(source, key)
    out.owners = owners  # type: ignore[attr-defined]
    return out


def _reference_text(tagged: Tagged) -> str:
    value = tagged.value
    if isinstance(value, list):
        return f"{tagged.tag} [{', '.join(scalar_text(v) or '?' for v in value)}]"
    return f"{tagged.tag} {scalar_text(value) or ''}".strip()


@dataclass
class _Rule:
    """One entry of `rules:` (or of `workflow:rules`), with where it was written."""

    node: YMap
    path: str

    def text(self, key: str) -> str | None:
        return scalar_text(self.node.get(key))

    @property
    def when(self) -> str:
        return self.text("when") or "on_success"


@dataclass
class _Reader:
    """Reads one pipeline: the main file plus its local includes, merged as GitLab merges them."""

    ctx: DetectContext
    main: str
    template: bool = False  # a file meant to be included, read alone: no triggers of its own
    top: YMap = field(default_factory=YMap)
    origin: dict[int, str] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)
    external_includes: bool = False
    _seen_files: set[str] = field(default_factory=set)
    _resolved: dict[str, YMap] = field(default_factory=dict)
    _said: set[tuple[str, str]] = field(default_factory=set)
    _triggers: dict[tuple[str, str], Trigger] = field(default_factory=dict)

    # -------------------------------------------------------------- diagnostics and evidence

    def say(self, path: str, reason: str, line: int | None = None, severity: Severity = "warning") -> None:
        """A diagnostic, once per (path, reason): the same template may be reached from many jobs."""
        if (path, reason) in self._said:
            return
        self._said.add((path, reason))
        if self.template:
            return  # read alone, a file written to be included lacks its context (stages, templates): no verdicts
        self.ctx.diagnostic(path, reason, line=line, severity=severity)

    def path_of(self, node: Any) -> str:
        return self.origin.get(id(node), self.main)

    def key_evidence(self, mapping: YMap, key: Any) -> Evidence:
        owner = _owner(mapping, key)
        return self.ctx.evidence(self.path_of(owner), *owner.key_span(key))

    def _register(self, node: Any, path: str, depth: int = 0) -> None:
        """Remember which file every mapping and sequence came from (aliases are visited once)."""
        if depth > MAX_WALK_DEPTH or id(node) in self.origin:
            return
        if isinstance(node, Tagged):
            self._register(node.value, path, depth + 1)
            return
        if not isinstance(node, dict | list):
            return
        self.origin[id(node)] = path
        for child in node.values() if isinstance(node, dict) else node:
            self._register(child, path, depth + 1)

    # -------------------------------------------------------------- loading and includes

    def load(self, path: str, doc: YMap) -> None:
        """Merge `doc` (and, first, the local files it includes) into the configuration."""
        self._seen_files.add(path)
        self._register(doc, path)
        for local in self._include_entries(path, doc):
            if local in self._seen_files:
                continue
            if len(self._seen_files) >= MAX_INCLUDES:
                self.say(path, f"more than {MAX_INCLUDES} included files; GitLab refuses this configuration")
                break
            included = self.ctx.read(local)
            if included is None:
                continue
            docs = self.ctx.yaml_documents(included)
            if not docs:
                self._seen_files.add(local)
                continue
            body = docs[1] if isinstance(docs[0], YMap) and set(docs[0]) == {"spec"} and len(docs) > 1 else docs[0]
            if not isinstance(body, YMap):
                self.say(local, "included file is not a mapping of GitLab CI keywords", line=1)
                self._seen_files.add(local)
                continue
            self.load(local, body)
        self.top = _merge(self.top, doc)

    def _include_entries(self, path: str, doc: YMap) -> list[str]:
        """List every include of `doc` in `self.includes`; return the repository paths of local ones."""
        locals_: list[str] = []
        if "include" not in doc:
            return locals_
        value = self.deref(doc["include"])
        entries = value if isinstance(value, list) else [value]
        line = doc.key_line("include")
        for index, entry in enumerate(entries):
            entry = self.deref(entry)
            entry_line = entries.item_span(index)[0] if isinstance(entries, YSeq) else line
            described, local = self._describe_include(entry)
            if described is None:
                self.say(path, "include entry is neither a path nor a mapping with local, project, remote, "
                               "template or component", line=entry_line)
                continue
            described = self.ctx.redact(described, path)
            if described not in self.includes:
                self.includes.append(described)
            if local is None:
                self.external_includes = True
                continue
            if "$" in local:
                # GitLab expands the variable when it creates the pipeline; the file cannot be known here.
                self.external_includes = True
                self.say(path, f"local include '{local}' depends on a variable; not read", line=entry_line,
                         severity="info")
                continue
            matches = self._local_matches(local)
            if not matches:
                self.say(path, f"local include '{local}' is not a file of this repository", line=entry_line)
            locals_.extend(matches)
        return locals_

    @staticmethod
    def _describe_include(entry: Any) -> tuple[str | None, str | None]:
        """(text for Pipeline.includes, local path or None) for one include entry."""
        if isinstance(entry, str):
            if re.match(r"^https?://", entry):
                return f"remote:{entry}", None
            return f"local:{entry}", entry
        if not isinstance(entry, dict):
            return None, None
        local = scalar_text(entry.get("local"))
        if local:
            return f"local:{local}", local
        project = scalar_text(entry.get("project"))
        if project:
            ref = scalar_text(entry.get("ref"))
            files = string_list(entry.get("file"))
            where = project + (f"@{ref}" if ref else "")
            return f"project:{where}:{','.join(files)}", None
        for kind in ("remote", "template", "component"):
            target = scalar_text(entry.get(kind))
            if target:
                return f"{kind}:{target}", None
        return None, None

    def _local_matches(self, local: str) -> list[str]:
        """Repository files a local include names; `*` and `**` wildcards as GitLab allows them."""
        rel = local.lstrip("/")
        if "*" not in rel:
            return [rel] if self.ctx.exists(rel) else []
        pattern = re.escape(rel).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        regex = re.compile(f"^{pattern}$")
        return [f for f in self.ctx.files if regex.match(f)]

    # -------------------------------------------------------------- !reference

    def deref(self, value: Any, depth: int = 0) -> Any:
        """The value a `!reference [.job, key, ...]` points to, or the value itself; None when unresolvable."""
        if not isinstance(value, Tagged):
            return value
        if value.tag != "!reference" or depth > MAX_REFERENCE_DEPTH:
            return None
        keys = value.value if isinstance(value.value, list) else None
        node: Any = self.top
        for key in keys or [None]:
            node = node.get(key) if isinstance(node, dict) and key is not None else None
            if node is None:
                return None
        return self.deref(node, depth + 1)

    def flat(self, value: Any, path: str, span: Span, depth: int = 0,
             budget: list[int] | None = None) -> Iterator[tuple[Any, str, Span]]:
        """Items of a list, with nested lists (anchors, !reference) flattened: (item, path, lines).

        An unresolvable `!reference` is yielded as the `Tagged` value itself so callers can show it. At most
        MAX_FLAT_VISITS values are visited: nested aliases can make a short list expand exponentially.
        """
        budget = [MAX_FLAT_VISITS] if budget is None else budget
        budget[0] -= 1
        if budget[0] < 0:
            return
        resolved = self.deref(value)
        if resolved is None and isinstance(value, Tagged):
            yield value, path, span
            return
        if not isinstance(resolved, list) or depth > MAX_SCRIPT_NESTING:
            if resolved is not None:
                yield resolved, path, span
            return
        seq_path = self.path_of(resolved)
        for index, item in enumerate(resolved):
            item_span = resolved.item_span(index) if isinstance(resolved, YSeq) else span
            yield from self.flat(item, seq_path, item_span, depth + 1, budget)
            if budget[0] < 0:
                return

    # -------------------------------------------------------------- jobs

    def job_names(self) -> list[str]:
        """Top-level keys that are jobs; wrong-typed ones are reported and skipped."""
        names: list[str] = []
        for key, value in self.top.items():
            name = str(key)
            if name in GLOBAL_KEYWORDS or name.startswith("."):
                continue
            evidence = self.key_evidence(self.top, key)
            if isinstance(value, list):
                self.say(evidence.path, f"job '{name}' is a list, not a mapping of job keywords; skipped",
                         line=evidence.line_start)
            elif not isinstance(value, dict):
                self.say(evidence.path, f"top-level key '{name}' is neither a GitLab CI keyword nor a job "
                                        "(a job is a mapping with script or trigger); skipped",
                         line=evidence.line_start)
            else:
                names.append(name)
        return names

    def resolve(self, name: str, chain: tuple[str, ...] = ()) -> YMap:
        """The job (or hidden template) with its `extends` parents merged in, parents first."""
        if name in self._resolved:
            return self._resolved[name]
        raw = self.top.get(name)
        if not isinstance(raw, dict):
            return YMap()
        merged: Any = YMap()
        evidence = self.key_evidence(self.top, name)
        for parent in self.extends_of(raw):
            if parent == name or parent in chain:
                cycle = " -> ".join([*chain, name, parent])
                self.say(evidence.path, f"extends cycle {cycle}; the repeated parent is ignored",
                         line=evidence.line_start, severity="error")
                continue
            if len(chain) >= MAX_EXTENDS_DEPTH:
                self.say(evidence.path, f"'{name}' extends more than {MAX_EXTENDS_DEPTH} levels deep; "
                                        "GitLab refuses this", line=evidence.line_start)
                continue
            if not isinstance(self.top.get(parent), dict):
                self.say(evidence.path, self._missing(f"'{name}' extends '{parent}', which is not defined"),
                         line=evidence.line_start, severity="info" if self.external_includes else "warning")
                continue
            merged = _merge(merged, self.resolve(parent, (*chain, name)))
        result = _merge(merged, raw) if merged else raw
        self._resolved[name] = result
        return result

    def _missing(self, what: str) -> str:
        if self.external_includes:
            return f"{what} in this repository (it may come from a remote, project or template include)"
        return what

    def extends_of(self, job: dict) -> list[str]:
        return string_list(self.deref(job.get("extends")))

    def with_defaults(self, job: YMap) -> YMap:
        """The job with `default:` (and deprecated global) keywords it does not set itself, per `inherit:default`."""
        inherit = self.deref(job.get("inherit"))
        wanted = self.deref(inherit.get("default")) if isinstance(inherit, dict) else True
        if yaml11_bool(wanted) is False:  # GitLab reads YAML 1.1 (Psych): `default: no` is false too
            return job
        allowed = set(string_list(wanted)) if isinstance(wanted, list) else set(DEFAULT_KEYWORDS)
        defaults: Any = YMap()
        for key in GLOBAL_DEFAULTS:
            if key in self.top and key in allowed:
                defaults = _merge(defaults, _only(self.top, key))
        default = self.deref(self.top.get("default"))
        if isinstance(default, dict):
            picked = _only(default, *(k for k in DEFAULT_KEYWORDS if k in allowed))
            defaults = _merge(defaults, picked)
        missing = _only(defaults, *(k for k in defaults if k not in job))
        return _merge(missing, job) if missing else job

    def build(self, last_line: int) -> None:
        names = self.job_names()
        jobs = {name: self.with_defaults(self.resolve(name)) for name in names}
        stages = self.stages()
        built = [self.job(name, node) for name, node in jobs.items()]
        self._check_jobs(built, jobs)
        order = self._stage_order(stages, built)
        self._link_stage_order(built, order)
        self._pipeline_triggers(last_line)
        for job in built:
            self._job_triggers(job.id, jobs[job.id])
        used = [s for s in order if any(j.stage == s for j in built) or s not in (".pre", ".post")]
        workflow = self.deref(self.top.get("workflow"))
        name = scalar_text(self.deref(workflow.get("name"))) if isinstance(workflow, dict) else None
        self.ctx.add_pipeline(
            DetectContext.pipeline(
                "gitlab-ci", self.main,
                kind="template" if self.template else "pipeline",
                name=self.ctx.redact(name, self.main) if name else self.main,
                triggers=[] if self.template else list(self._triggers.values()),
                stages=used,
                jobs=built,
                includes=self.includes,
                evidence=self.ctx.evidence(self.main, 1, last_line),
            )
        )

    def stages(self) -> list[str]:
        for key in ("stages", "types"):
            if key in self.top:
                value = self.deref(self.top[key])
                if not isinstance(value, list):
                    evidence = self.key_evidence(self.top, key)
                    self.say(evidence.path, f"'{key}' is not a list of stage names", line=evidence.line_start)
                    continue
                return [s for s in (scalar_text(v) for v, _p, _s in self.flat(value, self.main, (1, 1))) if s]
        return list(DEFAULT_STAGES)

    def _stage_order(self, stages: list[str], jobs: list[Job]) -> list[str]:
        """Declared stages with `.pre` first and `.post` last, which GitLab always adds."""
        order = [s for s in stages if s not in (".pre", ".post")]
        order = [".pre", *order, ".post"]
        for job in jobs:
            if job.stage not in order:
                self.say(job.evidence.path, f"job '{job.id}' uses stage '{job.stage}', which is not in stages "
                                            f"({', '.join(stages)}); GitLab refuses this",
                         line=job.evidence.line_start)
        return order

    @staticmethod
    def _link_stage_order(jobs: list[Job], order: list[str]) -> None:
        """Jobs without `needs` wait for every job of the previous non-empty stage (GitLab's stage order)."""
        by_stage: dict[str, list[str]] = {}
        for job in jobs:
            by_stage.setdefault(job.stage or "test", []).append(job.id)
        for job in jobs:
            if job.needs_source != "none" or job.stage not in order:
                continue
            earlier = [s for s in order[: order.index(job.stage)] if by_stage.get(s)]
            if earlier:
                job.needs = list(by_stage[earlier[-1]])
                job.needs_source = "stage-order"

    def _check_jobs(self, built: list[Job], nodes: dict[str, YMap]) -> None:
        known = {job.id for job in built}
        for job in built:
            node = nodes[job.id]
            for need in job.needs:
                if need not in known:
                    self.say(job.evidence.path, self._missing(f"job '{job.id}' needs '{need}', which is not a job "
                                                              "of this pipeline"),
                             line=job.evidence.line_start, severity="info" if self.external_includes else "warning")
            complete = all(isinstance(self.top.get(p), dict) for p in self.extends_of(self.top.get(job.id, {})))
            if complete and not self.external_includes and not ({"script", "trigger", "run"} & set(node)):
                self.say(job.evidence.path, f"job '{job.id}' has no script, run or trigger; GitLab refuses it",
                         line=job.evidence.line_start)

    def job(self, name: str, node: YMap) -> Job:
        evidence = self.key_evidence(self.top, name)
        path = evidence.path
        needs, declared = self.needs(name, node, evidence)
        manual, allow_failure, blocking = self.manual(node)
        attributes: dict[str, str] = {}
        dependencies = self.deref(node.get("dependencies"))
        if isinstance(dependencies, list):
            # Whose artifacts the job downloads (`dependencies: []`: none): an edge of data, not of order.
            attributes["dependencies"] = ", ".join(n for n in (scalar_text(self.deref(d)) for d in dependencies) if n)
        if manual:
            mode, conditions = self.manual_mode(node)
            attributes["manual"] = mode
            if mode == "sometimes":
                attributes["manual_when"] = self.ctx.redact(" | ".join(conditions), path)
        return Job(
            id=name,
            stage=scalar_text(self.deref(node.get("stage", node.get("type")))) or "test",
            needs=needs,
            needs_source="declared" if declared else "none",
            runs_on=string_list(self.deref(node.get("tags"))),
            image=self.ctx.redact(image, path) if (image := self.image(node.get("image"))) else None,
            environment=self.environment(node.get("environment")),
            timeout_minutes=self.timeout(name, node),
            matrix=self.matrix(node, evidence),
            condition=self.ctx.redact(self.condition(node), path) or None,
            manual=manual,
            blocking=blocking,
            allow_failure=allow_failure,
            concurrency=scalar_text(self.deref(node.get("resource_group"))),
            caches=self.caches(node),
            steps=self.steps(name, node),
            uses=self.trigger(node),
            extends=self.extends_of(self.top[name]),
            attributes=attributes,
            evidence=evidence,
        )

    def needs(self, name: str, node: YMap, evidence: Evidence) -> tuple[list[str], bool]:
        """(job names waited for, whether `needs` was written). Cross-pipeline and cross-project needs are not
        jobs of this pipeline and are left out; `optional: true` needs on absent jobs are dropped as GitLab does."""
        if "needs" not in node:
            return [], False
        value = self.deref(node["needs"])
        if isinstance(value, str):
            return [value], True
        if not isinstance(value, list):
            if value is not None:
                self.say(evidence.path, f"needs of job '{name}' is not a list of job names", line=evidence.line_start)
            return [], True
        names: list[str] = []
        for item, _path, _span in self.flat(value, evidence.path, (evidence.line_start, evidence.line_end)):
            if isinstance(item, str):
                names.append(item)
            elif isinstance(item, dict) and "job" in item and not ({"pipeline", "project"} & set(item)):
                job = scalar_text(item["job"])
                optional = yaml11_bool(item.get("optional")) is True
                if job and (not optional or isinstance(self.top.get(job), dict)):
                    names.append(job)
        return list(dict.fromkeys(names)), True

    def variables_of(self, node: YMap) -> dict[str, str]:
        """The variables a job gets from the file (global `variables:`, then its own, `extends` merged in)."""
        known: dict[str, str] = {}
        for source in (self.deref(self.top.get("variables")), self.deref(node.get("variables"))):
            if not isinstance(source, dict):
                continue
            for key, value in source.items():
                value = self.deref(value)
                if isinstance(value, dict):
                    value = self.deref(value.get("value"))
                text = scalar_text(value)
                if isinstance(key, str) and text is not None:
                    known[key] = text
        return known

    def manual_mode(self, node: YMap) -> tuple[ManualMode, list[str]]:
        """always / sometimes (which conditions) / never: see `_gitlab_rules`."""
        rules = self.rules(node.get("rules"))
        job_when = scalar_text(self.deref(node.get("when"))) or "on_success"
        if not rules:
            return ("always" if job_when == "manual" else "never"), []
        # A rule without `when` uses the job's `when` (GitLab CI YAML reference, `rules:when`).
        views = [RuleView(condition=scalar_text(self.deref(r.node.get("if"))),
                          other_clauses="changes" in r.node or "exists" in r.node,
                          when=r.text("when") or job_when) for r in rules]
        return manual_mode(views, self.variables_of(node))

    def manual(self, node: YMap) -> tuple[bool, bool, bool | None]:
        """(manual, allow_failure, blocking) under GitLab's defaults: `when: manual` on the job allows failure
        unless told otherwise (so it does not block); `when: manual` in a rule does not allow failure. A manual
        rule that can never be the first to match (see `manual_mode`) does not make the job manual."""
        explicit = _allow_failure(self.deref(node.get("allow_failure")))
        mode, _conditions = self.manual_mode(node)
        manual_rule = next((r for r in self.rules(node.get("rules")) if r.when == "manual"), None)
        if mode == "never":
            return False, bool(explicit), None
        if manual_rule is not None:
            in_rule = _allow_failure(manual_rule.node.get("allow_failure"))
            allow = in_rule if in_rule is not None else explicit if explicit is not None else False
            return True, allow, not allow
        if scalar_text(self.deref(node.get("when"))) == "manual":
            allow = explicit if explicit is not None else True
            return True, allow, not allow
        return False, bool(explicit), None

    def rules(self, value: Any) -> list[_Rule]:
        rules: list[_Rule] = []
        for item, path, _span in self.flat(value, self.main, (1, 1)):
            if isinstance(item, YMap):
                rules.append(_Rule(item, self.origin.get(id(item), path)))
        return rules

    def condition(self, node: YMap) -> str:
        """`rules`, `only`, `except` and a non-default `when` as one line of text."""
        parts: list[str] = []
        rules = self.rules(node.get("rules"))
        if rules:
            parts.append("rules: " + " | ".join(_rule_text(r) for r in rules))
        for key in ("only", "except"):
            text = _only_text(self.deref(node.get(key)))
            if text:
                parts.append(f"{key}: {text}")
        when = scalar_text(self.deref(node.get("when")))
        if when and when != "on_success":
            start_in = scalar_text(self.deref(node.get("start_in")))
            parts.append(f"when: {when}" + (f" (start_in: {start_in})" if start_in else ""))
        return "; ".join(parts)

    def image(self, value: Any) -> str | None:
        value = self.deref(value)
        if isinstance(value, dict):
            value = self.deref(value.get("name"))
        return scalar_text(value)

    def environment(self, value: Any) -> str | None:
        value = self.deref(value)
        if isinstance(value, dict):
            value = self.deref(value.get("name"))
        return scalar_text(value)

    def timeout(self, name: str, node: YMap) -> float | None:
        text = scalar_text(self.deref(node.get("timeout")))
        if text is None:
            return None
        minutes = parse_duration(text)
        if minutes is None:
            where = self.key_evidence(node, "timeout")
            self.say(where.path, f"timeout '{text}' of job '{name}' is not a duration GitLab understands",
                     line=where.line_start)
        return minutes

    def matrix(self, node: YMap, evidence: Evidence) -> Matrix | None:
        """`parallel: N` (N copies) or `parallel: matrix:` (sum over entries of the product of the value counts)."""
        value = self.deref(node.get("parallel"))
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return Matrix(fan_out=value)
        entries = self.deref(value.get("matrix")) if isinstance(value, dict) else None
        if not isinstance(entries, list):
            where = self.key_evidence(node, "parallel")
            self.say(where.path, "parallel is neither a number nor a mapping with a 'matrix' list",
                     line=where.line_start)
            return Matrix(dynamic=True)
        dimensions: dict[str, list[str]] = {}
        fan_out = 0
        for entry, _path, _span in self.flat(entries, evidence.path, (evidence.line_start, evidence.line_end)):
            if not isinstance(entry, dict):
                continue
            size = 1
            for key, raw in entry.items():
                values = [s for s in (scalar_text(v) for v in (raw if isinstance(raw, list) else [raw])) if s]
                size *= len(values)
                dimensions.setdefault(str(key), [])
                dimensions[str(key)].extend(v for v in values if v not in dimensions[str(key)])
            fan_out += size
        return Matrix(dimensions=dimensions, fan_out=fan_out)

    def caches(self, node: YMap) -> list[Cache]:
        if "cache" not in node:
            return []
        value = self.deref(node["cache"])
        owner_evidence = self.key_evidence(node, "cache")
        entries = value if isinstance(value, list) else [value]
        caches: list[Cache] = []
        for index, entry in enumerate(entries):
            entry = self.deref(entry)
            if not isinstance(entry, dict) or not entry:
                continue
            evidence = owner_evidence
            if isinstance(entries, YSeq):
                evidence = self.ctx.evidence(self.path_of(entries), *entries.item_span(index))
            key = self.deref(entry.get("key"))
            if isinstance(key, dict):
                files = string_list(self.deref(key.get("files")))
                prefix = scalar_text(self.deref(key.get("prefix")))
                key_text: str | None = (f"{prefix}-" if prefix else "") + "files:" + ",".join(files)
            else:
                key_text = scalar_text(key)
            policy = scalar_text(self.deref(entry.get("policy")))
            caches.append(Cache(via="cache" + (f" (policy: {policy})" if policy else ""),
                                key=self.ctx.redact(key_text, evidence.path) if key_text else None,
                                paths=string_list(self.deref(entry.get("paths"))), evidence=evidence))
        return caches

    def steps(self, job_name: str, node: YMap) -> list[Step]:
        steps: list[Step] = []
        for section in ("before_script", "script", "after_script"):
            if section not in node:
                continue
            where = self.key_evidence(node, section)
            value = node[section]
            if isinstance(self.deref(value), str):
                steps.append(self._script_step(section, self.deref(value), where))
                continue
            for item, path, span in self.flat(value, where.path, (where.line_start, where.line_end)):
                if len(steps) >= MAX_STEPS:
                    self.say(where.path, f"job '{job_name}' has more than {MAX_STEPS} script lines; the rest "
                                         "are not listed", line=where.line_start)
                    return steps
                steps.extend(self._script_item(job_name, section, item, path, span))
        return steps

    def _script_item(self, job_name: str, section: str, item: Any, path: str, span: Span) -> list[Step]:
        """One script entry as a step; odd types are reported the way GitLab would refuse them."""
        line = span[0]
        if isinstance(item, str):
            return [self._script_step(section, item, self.ctx.evidence(path, *span))]
        if isinstance(item, Tagged):
            text = _reference_text(item)
            self.say(path, self._missing(f"cannot resolve {text} in job '{job_name}'"), line=line, severity="info")
            return [self._script_step(section, text, self.ctx.evidence(path, line))]
        if isinstance(item, dict) and len(item) == 1:
            key, value = next(iter(item.items()))
            text = f"{key}: {scalar_text(value) or ''}".rstrip()
            self.say(path, f"a {section} line of job '{job_name}' parses as a mapping ('{key}: ...'); quote lines "
                           "that contain ': ' (GitLab refuses this)", line=line)
            return [self._script_step(section, text, self.ctx.evidence(path, line))]
        kind = ("boolean" if isinstance(item, bool) else "number" if isinstance(item, int | float)
                else "mapping" if isinstance(item, dict) else type(item).__name__)
        self.say(path, f"a {section} line of job '{job_name}' is a {kind}, not a string (GitLab refuses this)",
                 line=line)
        text = scalar_text(item)
        return [self._script_step(section, text, self.ctx.evidence(path, line))] if text else []

    def _script_step(self, section: str, text: str, evidence: Evidence) -> Step:
        return Step(kind="script", name=section, command=self.ctx.redact(text.rstrip("\n"), evidence.path),
                    evidence=evidence)

    def trigger(self, node: YMap) -> str | None:
        """`trigger:` as `multi-project:<project>[@branch]` or `child:<include>[,...]`."""
        value = self.deref(node.get("trigger"))
        if value is None:
            return None
        if isinstance(value, str):
            return f"multi-project:{value}"
        if not isinstance(value, dict):
            return None
        project = scalar_text(self.deref(value.get("project")))
        if project:
            branch = scalar_text(self.deref(value.get("branch")))
            return f"multi-project:{project}" + (f"@{branch}" if branch else "")
        include = self.deref(value.get("include"))
        targets: list[str] = []
        for entry in include if isinstance(include, list) else [include]:
            entry = self.deref(entry)
            if isinstance(entry, str):
                targets.append(entry)
            elif isinstance(entry, dict):
                for key in ("local", "template", "artifact", "file", "component", "remote"):
                    target = entry.get(key)
                    if target is not None:
                        targets.extend(string_list(target))
                        break
        return f"child:{','.join(targets)}" if targets else "child"

    # -------------------------------------------------------------- triggers

    def _add_trigger(self, kind: TriggerKind, event: str, evidence: Evidence, source: str,
                     expression: str | None = None) -> None:
        trigger = self._triggers.get((kind, event))
        if trigger is None:
            trigger = Trigger(kind=kind, event=event, evidence=evidence)
            if kind == "schedule":
                trigger.filters["schedule"] = [SCHEDULE_NOTE]
            self._triggers[(kind, event)] = trigger
        froms = trigger.filters.setdefault("from", [])
        if source not in froms:
            froms.append(source)
        if expression:
            ifs = trigger.filters.setdefault("if", [])
            text = self.ctx.redact(expression, evidence.path)
            if text not in ifs:
                ifs.append(text)

    def _workflow_rules(self) -> list[_Rule] | None:
        workflow = self.deref(self.top.get("workflow"))
        if not isinstance(workflow, dict) or "rules" not in workflow:
            return None
        return self.rules(workflow["rules"])

    def _pipeline_triggers(self, last_line: int) -> None:
        """Which pipelines GitLab creates: every push by default, else what `workflow:rules` lets through."""
        rules = self._workflow_rules()
        if rules is None:
            self._add_trigger("push", "push", self.ctx.evidence(self.main, 1, last_line),
                              "default: GitLab creates a pipeline for every push (no workflow:rules)")
            return
        for rule in rules:
            if rule.when == "never":
                continue
            expression = rule.text("if")
            evidence = self.ctx.evidence(rule.path, *rule.node.key_span("if" if expression else "when"))
            kinds = _kinds_of(expression) if expression else []
            for kind, event in kinds or [("push", "push")]:
                self._add_trigger(kind, event, evidence, "workflow:rules", expression)

    def _workflow_allows(self, kind: str) -> bool:
        rules = self._workflow_rules()
        if rules is None:
            return True
        for rule in rules:
            if rule.when == "never":
                continue
            expression = rule.text("if")
            if expression is None:
                return True  # a catch-all rule
            kinds = {k for k, _e in _kinds_of(expression)}
            if kind in kinds or not kinds:
                return True
        return False

    def _job_triggers(self, name: str, node: YMap) -> None:
        """Pipeline sources a job is written for, from its `rules:if` and `only:` (push is the default already)."""
        for rule in self.rules(node.get("rules")):
            expression = rule.text("if")
            if rule.when == "never" or not expression:
                continue
            for kind, event in _kinds_of(expression):
                if kind == "push":
                    continue
                evidence = self.ctx.evidence(rule.path, *rule.node.key_span("if"))
                if self._workflow_allows(kind):
                    self._add_trigger(kind, event, evidence, f"rules of job '{name}'", expression)
                else:
                    self.say(rule.path, f"job '{name}' has a {event} rule, but workflow:rules never creates "
                                        f"{event} pipelines", line=evidence.line_start, severity="info")
        only = self.deref(node.get("only"))
        refs = self.deref(only.get("refs")) if isinstance(only, dict) else only
        if refs is None:
            return
        where = self.key_evidence(node, "only")
        for ref in string_list(refs):
            kind_event = ONLY_REFS.get(ref)
            if kind_event and kind_event[0] != "push" and self._workflow_allows(kind_event[0]):
                self._add_trigger(kind_event[0], kind_event[1], where, f"only of job '{name}'", f"only: {ref}")


def _only(mapping: dict, *keys: Any) -> YMap:
    """A sub-mapping with `keys`, keeping each key's owner and span for evidence."""
    out = YMap()
    out.span = getattr(mapping, "span", (1, 1))
    out.key_spans = {}
    owners: dict[Any, YMap] = {}
    for key in keys:
        if key in mapping:
            out[key] = mapping[key]
            if isinstance(mapping, YMap):
                out.key_spans[key] = mapping.key_span(key)
                owners[key] = _owner(mapping, key)
    out.owners = owners  # type: ignore[attr-defined]
    return out


def _allow_failure(value: Any) -> bool | None:
    """`allow_failure` as written: true/false, or `{exit_codes: ...}` (failure allowed for those codes)."""
    flag = yaml11_bool(value)  # GitLab reads YAML 1.1: a plain yes/no is a boolean there
    if flag is not None:
        return flag
    if isinstance(value, dict) and "exit_codes" in value:
        return True
    return None


def _kinds_of(expression: str) -> list[tuple[TriggerKind, str]]:
    """Trigger kinds a `rules:if` expression selects: `$CI_PIPELINE_SOURCE == "x"` (or `=~ /x|y/`),
    `$CI_COMMIT_TAG` (a tag pipeline, unless compared with null), `$CI_MERGE_REQUEST_IID` (a merge request)."""
    found: list[tuple[TriggerKind, str]] = []
    for match in _SOURCE_TEST.finditer(expression):
        operator, double, single, regex = match.groups()
        if operator in ("!=", "!~"):
            continue
        if regex is not None:
            sources = [s for s in re.findall(r"[a-z_]+", regex) if s in PIPELINE_SOURCES]
        else:
            sources = [double if double is not None else single]
        for source in sources:
            found.append((PIPELINE_SOURCES.get(source, "other"), source))
    for match in _TAG_TEST.finditer(expression):
        operator, operand = match.group(2), match.group(3)
        negated = (operator == "==" and operand in ("null", '""', "''")) or operator in ("!~",)
        if not negated and not (operator == "!=" and operand not in ("null", '""', "''")):
            found.append(("tag", "tag"))
    if _MR_VARIABLE.search(expression):
        found.append(("pull_request", "merge_request_event"))
    return list(dict.fromkeys(found))


def _rule_text(rule: _Rule) -> str:
    parts: list[str] = []
    condition = rule.text("if")
    if condition:
        parts.append(f"if {condition}")
    for key in ("changes", "exists"):
        value = rule.node.get(key)
        if isinstance(value, dict):
            value = value.get("paths")
        if value is not None:
            parts.append(f"{key} {', '.join(string_list(value))}")
    text = " and ".join(parts) or "always"
    when = rule.text("when")
    if when:
        text += f" -> {when}"
    flag = yaml11_bool(rule.node.get("allow_failure"))
    if flag is not None:
        text += f" (allow_failure: {'true' if flag else 'false'})"
    return text


def _only_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key}={','.join(string_list(v))}" for key, v in value.items())
    return ", ".join(string_list(value))


def parse_duration(text: str) -> float | None:
    """Minutes in a GitLab duration ('1h 30m', '3 hours 30 minutes', '2 days', '3600' = seconds); None if invalid.

    GitLab reads `timeout` with ChronicDuration, where a bare number is seconds.
    """
    cleaned = text.strip().lower().replace(",", " ").replace(" and ", " ")
    if not cleaned:
        return None
    total = 0.0
    position = 0
    for match in _DURATION_PART.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            return None
        unit = match.group(2)
        if unit not in _DURATION_UNITS:
            return None
        total += float(match.group(1)) * _DURATION_UNITS[unit]
        position = match.end()
    if position == 0 or cleaned[position:].strip():
        return None
    return round(total, 4)
