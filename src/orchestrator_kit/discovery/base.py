"""What a detector is, and the context it works in.

A detector is a function `detect(ctx, file)` plus a predicate `wants(path)` that picks the files it reads.
Detectors register with `@detector(name, wants=...)` in a module of this package; the package imports every
module in it, so a new ecosystem is one new module and nothing else. A detector never opens files itself:
it gets a decoded `FileText`, may ask `ctx.read()` for another file (a local include), and reports what it
found through `ctx`. Anything it raises becomes an error Diagnostic; the scan goes on.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import math
import posixpath
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter

from ..errors import ConfinementError, ReadError
from ..limits import exhausted
from ..models import (
    CISystem,
    Command,
    Diagnostic,
    Evidence,
    InfraItem,
    ManualProcedure,
    Pipeline,
    Schedule,
    Severity,
    Task,
    TaskRunner,
)
from ..repo import FileText, Workspace
from ..yamlsrc import YamlError, load_yaml_documents
from ._memo import ScanMemo, call_key, read_outcome

log = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 500  # characters of a task's description kept (after redaction)


@dataclass
class Findings:
    """What the detectors found so far; the runner turns it into an `Inventory`."""

    pipelines: list[Pipeline] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    infrastructure: list[InfraItem] = field(default_factory=list)
    procedures: list[ManualProcedure] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


# What one remembered call added: per kind of finding (in `Findings` order), None or a list of that kind.
_Added = tuple[list[Pipeline] | None, list[Task] | None, list[Schedule] | None, list[InfraItem] | None,
               list[ManualProcedure] | None, list[Diagnostic] | None]
_added_adapter: list[TypeAdapter[_Added]] = []  # built when first needed (it builds the models' validators)


def _adapter() -> TypeAdapter[_Added]:
    if not _added_adapter:
        _added_adapter.append(TypeAdapter(_Added))
    return _added_adapter[0]


def _replayed(stored: bytes, headroom: int) -> _Added | None:
    """What a stored entry (`_entry`) says its call added, as new models validated from its JSON; None when it is not
    valid (any shape or value the models refuse) or was made with more stack headroom than this scan has (with less,
    the call might meet the recursion limit and find something else: see `_memo.stack_headroom`), so the call runs
    again. JSON holds no class and no shared object: a store, whatever it holds, can only yield findings the models
    accept."""
    made, _, data = stored.partition(b":")
    if not made.isdigit() or int(made) > headroom:
        return None
    try:
        return _adapter().validate_json(data)
    except Exception:  # ValidationError (not JSON, or not findings), or any other damage: the call runs again
        return None


def _entry(added: list[list[Any]], headroom: int) -> bytes | None:
    """The stored form of what a call made with `headroom` added (`_replayed` reads it): `<headroom>:<JSON>`; None
    when it cannot be written as JSON. The JSON is written by pydantic-core's serializer (the same bytes as
    `model_dump` then `json.dumps`, in a third of the time: hashicorp/terraform's 1,816 findings, 16 -> 6 ms). It
    writes an infinite or NaN float as null, which a `float | None` field reads back as None (a workflow's
    `timeout-minutes: .inf` came back as no timeout): a call that found one keeps nothing, so it runs again."""
    if not all(all_finite(items) for items in added):
        return None
    try:
        return b"%d:" % headroom + _adapter().dump_json(cast(_Added, tuple(items or None for items in added)))
    except Exception:  # PydanticSerializationError: keep nothing, the next scan runs the call
        return None


def all_finite(value: Any) -> bool:
    """Whether every float in `value` (findings, an Inventory, or what their fields hold) is finite: pydantic-core's
    JSON writes an infinite or NaN float as null, which a `float | None` field reads back as None, so what holds one
    is not kept as JSON. Only the fields whose type can hold a float are looked at (`_float_fields`): a job's
    timeout, a procedure's coverage."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, BaseModel):
        return all(all_finite(getattr(value, name)) for name in _float_fields(type(value)))
    if isinstance(value, list | tuple):
        return all(all_finite(item) for item in value)
    if isinstance(value, dict):
        return all(all_finite(item) for item in value.values())
    return True


@functools.cache
def _float_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` whose declared type can hold a float, directly or in a model, list or dict it holds."""
    return tuple(name for name, info in model.model_fields.items() if _holds_float(info.annotation, (model,)))


def _holds_float(annotation: Any, seen: tuple[type, ...]) -> bool:
    if annotation is float or annotation is Any:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation not in seen and any(_holds_float(info.annotation, (*seen, annotation))
                                              for info in annotation.model_fields.values())
    return any(_holds_float(argument, seen) for argument in typing.get_args(annotation))


class DetectContext:
    """The one object a detector talks to: reading, evidence, redaction, diagnostics and results."""

    def __init__(self, workspace: Workspace, files: list[str]) -> None:
        self.workspace = workspace
        self.files = files
        self._file_set = set(files)
        self.findings = Findings()
        self._cache: dict[str, FileText | None] = {}
        self.files_read = 0
        self.current_detector: str | None = None
        self.active: frozenset[str] | None = None  # the detectors this scan runs (None: all), for finalizers
        self.memo: ScanMemo | None = None  # findings of earlier scans' calls (`remembered`); None: run every call
        self.foreign: frozenset[str] = frozenset()  # detectors whose code the memo's fingerprint does not cover
        # With the memo: each file read (path -> `read_outcome`) and each executable bit looked at, in this scan: all
        # that a scan's result depends on besides the listing (see `_unchanged`). None: not recorded.
        self.reads: dict[str, str] | None = None
        self.modes: dict[str, bool] = {}
        self.preread: dict[str, FileText | ReadError | ConfinementError] = {}  # read ahead by `_unchanged`

    # -------------------------------------------------------------- files

    def exists(self, rel: str) -> bool:
        """Whether `rel` is one of the listed files of the workspace."""
        return rel in self._file_set

    def glob(self, pattern: str) -> list[str]:
        """Listed files matching a glob (`*` does not cross `/`, `**/` matches any depth)."""
        if "**/" in pattern:
            head, tail = pattern.split("**/", 1)
            return [f for f in self.files if f.startswith(head) and fnmatch.fnmatchcase(posixpath.basename(f), tail)]
        return [f for f in self.files if fnmatch.fnmatchcase(f, pattern) and f.count("/") == pattern.count("/")]

    def read(self, rel: str) -> FileText | None:
        """A file as text, read at most once per scan; None (and a Diagnostic) when it cannot be read."""
        if rel in self._cache:
            return self._cache[rel]
        result: FileText | None = None
        try:
            result = self._read_file(rel)
            self.files_read += 1
            if result.note:
                self.diagnostic(rel, result.note, severity="info")
        except ReadError as exc:
            self.diagnostic(rel, exc.reason)
        except ConfinementError as exc:
            self.diagnostic(rel, str(exc), severity="error")
        self._cache[rel] = result
        return result

    def _read_file(self, rel: str) -> FileText:
        """The workspace's answer for `rel` (a FileText, or ReadError/ConfinementError raised), or the one read ahead
        (`preread`); with the memo on, recorded in `reads` (see `_unchanged`)."""
        ahead = self.preread.pop(rel, None)
        try:
            if isinstance(ahead, Exception):
                raise ahead
            result = ahead if ahead is not None else self.workspace.read_text(rel, digest=self.memo is not None)
        except (ReadError, ConfinementError) as exc:
            self._recorded(rel, read_outcome(exc))
            raise
        self._recorded(rel, read_outcome(result))
        return result

    def _recorded(self, rel: str, outcome: str) -> None:
        """Note in `reads` what reading `rel` gave. A file read again in the same scan (after `forget`: a makefile
        read for its own targets, then by the file it includes) that gave something else the second time changed
        in between: the findings come from both versions, which no later read can give again, so the scan keeps no
        record (`not_recorded`)."""
        if self.reads is not None and self.reads.setdefault(rel, outcome) != outcome:
            self.not_recorded(f"{rel} changed between two reads")

    def not_recorded(self, why: str) -> None:
        """This scan's Inventory is not a function of what it read (`_unchanged`): it leaves no record."""
        if self.reads is not None:
            log.debug("scan of %s leaves no record: %s", self.workspace.root, why)
        self.reads = None

    def executable(self, rel: str) -> bool:
        """Whether the listed file `rel` has an executable bit as checked out (a stat; nothing is run). Recorded
        with the reads: it is the one thing about a file besides its text that detectors look at."""
        found = self.workspace.is_executable(rel)
        if self.modes.setdefault(rel, found) != found:  # changed between two looks (see `_recorded`)
            self.not_recorded(f"the executable bit of {rel} changed during the scan")
        return found

    def forget(self, rel: str) -> None:
        """Drop a cached file once no detector needs it (keeps memory flat on big repos)."""
        self._cache.pop(rel, None)

    # -------------------------------------------------------------- calls kept across scans

    def remembered(self, inputs: Sequence[str | FileText], run: Callable[[], None]) -> None:
        """Run `run` (the current detector's work on `inputs`: every file it reads, and any other text its findings
        depend on), or, when an earlier
        scan made the same call, add what that call found instead (see `_memo`). `run` may only report through
        this context; what it reads besides `inputs` must not change its findings. A call during which the
        recursion limit or a lack of memory decided a result (`limits.note_exhausted`) is not kept, nor is one of a
        detector from outside the package (`foreign`: its code is not in the store's fingerprint)."""
        memo, name = self.memo, self.current_detector
        if memo is None or name is None or name in self.foreign:
            run()
            return
        key = call_key(name, inputs)
        found = self.findings
        lists: tuple[list[Any], ...] = (found.pipelines, found.tasks, found.schedules, found.infrastructure,
                                        found.procedures, found.diagnostics)
        stored = memo.get(key)
        if stored is not None:
            kept = _replayed(stored, memo.headroom)
            if kept is not None:
                for target, added in zip(lists, kept, strict=True):
                    if added:
                        target.extend(added)
                return
        marks = [len(target) for target in lists]
        before = exhausted()
        run()
        if exhausted() != before:
            # The recursion limit or memory decided part of it: another scan, deeper in its stack or with more
            # memory, must find it again (see `limits.note_exhausted`).
            return
        # Kept now, before finalizers change the findings: a later scan gets them as this call made them.
        entry = _entry([target[mark:] for target, mark in zip(lists, marks, strict=True)], memo.headroom)
        if entry is not None:
            memo.put(key, entry)

    # -------------------------------------------------------------- helpers for detectors

    @staticmethod
    def evidence(path: str, line_start: int, line_end: int | None = None) -> Evidence:
        start = max(1, line_start)
        return Evidence(path=path, line_start=start, line_end=max(start, line_end or start))

    def redact(self, text: str, path: str = "") -> str:
        return self.workspace.redact(text, path)

    def command(self, text: str, path: str, line_start: int, line_end: int | None = None) -> Command:
        """A redacted Command with its evidence."""
        return Command(text=self.redact(text, path), evidence=self.evidence(path, line_start, line_end))

    def yaml_documents(self, file: FileText) -> list[Any] | None:
        """The YAML documents of a file; None (and a Diagnostic with the line) when it is not valid YAML."""
        try:
            return load_yaml_documents(file.text)
        except YamlError as exc:
            self.diagnostic(file.path, str(exc), line=exc.line)
            return None

    def diagnostic(self, path: str, reason: str, *, severity: Severity = "warning", line: int | None = None) -> None:
        self.findings.diagnostics.append(
            Diagnostic(path=path, reason=reason, severity=severity, line=line, detector=self.current_detector)
        )

    # -------------------------------------------------------------- what detectors build

    def task(
        self, runner: TaskRunner, path: str, name: str, *, invocation: str, evidence: Evidence, key: str | None = None,
        description: str | None = None, attributes: dict[str, str] | None = None, **fields: Any,
    ) -> Task:
        """A Task with the id `runner:path#key` (key: the name unless given), its description redacted and cut to
        DESCRIPTION_LIMIT characters, and its attributes redacted. `fields`: the other Task fields as they are."""
        return Task(
            id=f"{runner}:{path}#{key if key is not None else name}", runner=runner, name=name, path=path,
            invocation=invocation,
            description=self.redact(description, path)[:DESCRIPTION_LIMIT] if description else None,
            attributes={k: self.redact(v, path) for k, v in (attributes or {}).items()},
            evidence=evidence, **fields,
        )

    @staticmethod
    def pipeline(system: CISystem, path: str, *, key: str | None = None, **fields: Any) -> Pipeline:
        """A Pipeline with the id `system:path` (`system:path#key` when one file holds several pipelines)."""
        return Pipeline(id=f"{system}:{path}" + (f"#{key}" if key is not None else ""), system=system, path=path,
                        **fields)

    @staticmethod
    def procedure(path: str, slug: str, **fields: Any) -> ManualProcedure:
        """A ManualProcedure with the id `path#slug` (the slug of its heading)."""
        return ManualProcedure(id=f"{path}#{slug}", path=path, **fields)

    # -------------------------------------------------------------- results

    def add_pipeline(self, pipeline: Pipeline) -> None:
        self.findings.pipelines.append(pipeline)

    def add_task(self, task: Task) -> None:
        self.findings.tasks.append(task)

    def add_schedule(self, schedule: Schedule) -> None:
        self.findings.schedules.append(schedule)

    def add_infra(self, item: InfraItem) -> None:
        self.findings.infrastructure.append(item)

    def add_procedure(self, procedure: ManualProcedure) -> None:
        self.findings.procedures.append(procedure)


DetectFn = Callable[[DetectContext, FileText], None]
FinalizeFn = Callable[[DetectContext], None]


@dataclass(frozen=True)
class Wants:
    """Which files a detector reads, as data the runner can index instead of calling a function per file.

    A file is a candidate when its base name is in `names`, or its lower-cased base name matches one of the
    `globs`, or one of its lower-cased directory components is in `dirs` (write them in lower case), or its path
    starts with one of `prefixes`;
    `refine(path)` then has the last word. Files under vendored folders (node_modules, vendor, ...) are
    never candidates unless `vendored_too`.
    """

    names: frozenset[str] = frozenset()
    globs: tuple[str, ...] = ()
    dirs: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    refine: Callable[[str], bool] | None = None
    vendored_too: bool = False

    @cached_property
    def glob_regex(self) -> re.Pattern[str] | None:
        if not self.globs:
            return None
        return re.compile("|".join(f"(?:{fnmatch.translate(g.lower())})" for g in self.globs))

    def candidate(self, path: str, base: str, dirs: list[str]) -> bool:
        """The cheap part of the test: names, globs, folders and prefixes (no refine, no vendored check)."""
        if base in self.names:
            return True
        regex = self.glob_regex
        if regex is not None and regex.match(base.lower()):
            return True
        if self.dirs and not self.dirs.isdisjoint(dirs):
            return True
        return bool(self.prefixes) and path.startswith(self.prefixes)

    def __call__(self, path: str) -> bool:
        slash = path.rfind("/")
        # Folder names are compared case-insensitively (`Scripts/`, `Docs/`): people spell them both ways.
        base, dirs = path[slash + 1 :], path[:slash].lower().split("/") if slash > 0 else []
        if not self.candidate(path, base, dirs):
            return False
        if not self.vendored_too and not VENDORED.isdisjoint(dirs):
            return False
        return self.refine is None or self.refine(path)


@dataclass(frozen=True)
class Detector:
    """A registered detector: `wants` picks files (a `Wants`, or any predicate); `detect(ctx, file)` reads one."""

    name: str
    wants: Wants | Callable[[str], bool]
    detect: DetectFn


@dataclass(frozen=True)
class Finalizer:
    """Runs once after every file was seen, in `order`: cross-references between findings."""

    name: str
    run: FinalizeFn
    order: int = 100


DETECTORS: list[Detector] = []
FINALIZERS: list[Finalizer] = []


def detector(name: str, *, wants: Wants | Callable[[str], bool]) -> Callable[[DetectFn], DetectFn]:
    """Register a detector function under `name`. Prefer a `Wants` for `wants`: the runner indexes it, while a
    plain predicate is called for every file of the repository."""

    def register(fn: DetectFn) -> DetectFn:
        if any(d.name == name for d in DETECTORS):
            raise ValueError(f"detector {name!r} is registered twice")
        DETECTORS.append(Detector(name=name, wants=wants, detect=fn))
        return fn

    return register


def finalizer(name: str, *, order: int = 100) -> Callable[[FinalizeFn], FinalizeFn]:
    """Register a function that runs after all detectors (e.g. linking procedures to automation)."""

    def register(fn: FinalizeFn) -> FinalizeFn:
        FINALIZERS.append(Finalizer(name=name, run=fn, order=order))
        return fn

    return register


# ------------------------------------------------------------------ path predicates


def basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def directory_of(path: str) -> str:
    """The folder of a repository path, "." for the root."""
    return path.rsplit("/", 1)[0] if "/" in path else "."


def name_matches(*patterns: str) -> Callable[[str], bool]:
    """A predicate: the base name matches one of the glob patterns, case-insensitively."""
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p.lower())})" for p in patterns))
    return lambda path: regex.match(basename(path).lower()) is not None


def under(path: str, *dirs: str) -> bool:
    """Whether `path` has one of `dirs` as a directory component (any depth)."""
    parts = path.split("/")[:-1]
    if len(dirs) == 1:  # the usual call: one membership test, not a generator (this runs for most files of a scan)
        return dirs[0] in parts
    return any(d in parts for d in dirs)


def is_yaml(path: str) -> bool:
    return path.endswith((".yml", ".yaml"))


VENDORED_DIRS = ("node_modules", "vendor", "third_party", "third-party", ".venv", "venv", "site-packages")
VENDORED = frozenset(VENDORED_DIRS)


def vendored(path: str) -> bool:
    """Files under vendored dependency folders describe someone else's project."""
    return not VENDORED.isdisjoint(path.split("/")[:-1])
