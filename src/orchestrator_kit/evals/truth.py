"""The ground truth of one sample repository (`evals/cases/<repo>.yaml`), written by a person reading its files.

Every expected item names what identifies it (kind, identity, evidence path) and, where the author counted it, the
line its evidence starts on. `optional: true` marks a judgement call: found, it is neither a hit nor a false
positive; missed, it is not a miss. `forbidden` lists what must never be reported (vendored or fixture items,
injected instructions) and the planted secrets that must never appear in any output. `diagnostics` lists the
problems a scan must report; every other diagnostic counts as a false positive (issue 18: diagnostics people can
trust).

`load_truth(path)` validates the file on load and raises `InputError` with a one-line message naming the file and
the field (`pipelines[0].jobs[2].needs: ...`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError, sentence
from ..metrics.models import OpportunityKind
from ..models import CISystem, InfraKind, ScheduleSource, TriggerKind
from ..yamlsrc import YamlError, load_yaml

# A truth file is written by hand: anything bigger is not one.
MAX_TRUTH_BYTES = 1024 * 1024

ItemKind = Literal[
    "pipeline", "job", "need", "trigger", "gate", "schedule", "task", "procedure", "command", "automation-link",
    "infrastructure", "diagnostic", "opportunity",
]
ITEM_KINDS: tuple[str, ...] = ItemKind.__args__  # type: ignore[attr-defined]


class TruthModel(BaseModel):
    """Unknown fields are refused, so a typo in a truth file is an error and not a silently ignored fact."""

    model_config = ConfigDict(extra="forbid")


class Expected(TruthModel):
    line: int | None = Field(default=None, ge=1, description="Line the evidence starts on, when counted.")
    optional: bool = Field(default=False, description="A judgement call: neither required nor penalized.")


class JobTruth(Expected):
    id: str = Field(min_length=1)
    needs: list[str] = Field(default_factory=list)
    manual: bool = Field(default=False, description="A person must start or approve it (a manual gate).")
    environment: str | None = Field(default=None, description="The environment it deploys to, when it says.")


class PipelineTruth(Expected):
    system: CISystem
    path: str = Field(min_length=1)
    name: str | None = Field(default=None, description="Only where one file holds several pipelines.")
    triggers: list[TriggerKind] = Field(default_factory=list)
    jobs: list[JobTruth] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_name_jobs(self) -> PipelineTruth:
        ids = [job.id for job in self.jobs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"jobs listed twice in {self.path}: {', '.join(duplicates)}")
        for job in self.jobs:
            unknown = [need for need in job.needs if need not in ids]
            if unknown:
                raise ValueError(f"job '{job.id}' needs unknown job(s) {', '.join(unknown)} in {self.path}")
        return self


class ScheduleTruth(Expected):
    source: ScheduleSource
    path: str = Field(min_length=1)
    expression: str = Field(min_length=1)
    target: str = Field(min_length=1, description="Text the reported target must contain (case-insensitive).")


class TaskTruth(Expected):
    # Any runner a careful engineer names (gradle, maven, cargo, ...), not only those the scanner knows today.
    runner: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    path: str = Field(min_length=1)
    name: str = Field(min_length=1)


class CommandTruth(TruthModel):
    text: str = Field(min_length=1)
    automated_by: list[str] = Field(default_factory=list, description="Refs of automation that already runs it.")
    may_link: list[str] = Field(default_factory=list, description="Refs a tool may link it to without being wrong "
                                                                   "(e.g. the build tool's wrapper it invokes).")
    optional: bool = False


class ProcedureTruth(Expected):
    path: str = Field(min_length=1)
    title: str = Field(min_length=1)
    commands: list[CommandTruth] = Field(default_factory=list)


class InfraTruth(Expected):
    kind: InfraKind
    path: str = Field(min_length=1)
    name: str = Field(min_length=1)


class DiagnosticTruth(Expected):
    """A problem the scan must report (an invalid file, a broken reference): any other diagnostic is a false one."""

    path: str = Field(min_length=1)
    detector: str | None = None
    about: str = Field(default="", description="Text the reported reason must contain (case-insensitive).")


HOTSPOT_RANK = 3


class HistoryTruth(TruthModel):
    """Facts of the built git history, compared exactly."""

    commits: int = Field(ge=0)
    merges: int = Field(default=0, ge=0)
    authors: list[str] = Field(default_factory=list, description="Author names.")
    tags: list[str] = Field(default_factory=list)
    reverts: int = Field(default=0, ge=0)
    hotspots: list[str] = Field(
        default_factory=list,
        description="Files the history spec makes its hotspot: each must be among the first "
                    "HOTSPOT_RANK of the reported hotspots (score = revisions x lines, so a small file changed "
                    "most may rank just below a bigger one).")
    coupled: list[tuple[str, str]] | None = Field(
        default=None,
        description="The coupled file pairs the spec builds (changed together in at least the coupling "
                    "thresholds' shared revisions), compared exactly as unordered pairs; absent: not checked.")


class OpportunityTruth(TruthModel):
    kind: OpportunityKind
    path: str = Field(min_length=1, description="A path the opportunity's evidence must include.")
    why: str = ""
    optional: bool = False


class ForbiddenItem(TruthModel):
    """No reported item (or opportunity) of this kind may have its evidence under `path` (a glob)."""

    path: str = Field(min_length=1)
    kind: ItemKind | None = None
    reason: str = Field(min_length=1)


ForbiddenScope = Literal["inventory", "metrics", "opportunities"]
ALL_SCOPES: list[ForbiddenScope] = ["inventory", "metrics", "opportunities"]


class ForbiddenText(TruthModel):
    """Text (an injected instruction) that must not appear in these outputs (case-insensitive)."""

    text: str = Field(min_length=4)
    reason: str = Field(min_length=1)
    scope: list[ForbiddenScope] = Field(default_factory=lambda: list(ALL_SCOPES))


class Forbidden(TruthModel):
    items: list[ForbiddenItem] = Field(default_factory=list)
    texts: list[ForbiddenText] = Field(default_factory=list)
    secrets: list[str] = Field(default_factory=list, description="Planted secret values; none may leak anywhere.")

    @model_validator(mode="after")
    def _secrets_long_enough(self) -> Forbidden:
        short = [s for s in self.secrets if len(s) < 8]
        if short:
            raise ValueError(f"a secret shorter than 8 characters matches by accident: {short[0]!r}")
        return self


class Truth(TruthModel):
    """Everything a careful engineer reads in one sample repository."""

    repo: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = ""
    sample: str | None = Field(default=None, description="The sample folder, relative to this file "
                                                         "(default ../repos/<repo>).")
    pipelines: list[PipelineTruth] = Field(default_factory=list)
    schedules: list[ScheduleTruth] = Field(default_factory=list)
    tasks: list[TaskTruth] = Field(default_factory=list)
    procedures: list[ProcedureTruth] = Field(default_factory=list)
    infrastructure: list[InfraTruth] = Field(default_factory=list)
    diagnostics: list[DiagnosticTruth] = Field(default_factory=list)
    history: HistoryTruth | None = None
    opportunities: list[OpportunityTruth] = Field(default_factory=list)
    forbidden: Forbidden = Field(default_factory=Forbidden)

    @model_validator(mode="after")
    def _no_duplicates(self) -> Truth:
        keys: list[tuple[str, ...]] = [
            *(("pipeline", p.system, p.path, p.name or "") for p in self.pipelines),
            *(("schedule", s.source, s.path, s.expression, s.target) for s in self.schedules),
            *(("task", t.runner, t.path, t.name) for t in self.tasks),
            *(("procedure", p.path, p.title) for p in self.procedures),
            *(("infrastructure", i.kind, i.path, i.name) for i in self.infrastructure),
        ]
        seen: set[tuple[str, ...]] = set()
        for key in keys:
            if key in seen:
                raise ValueError(f"{key[0]} listed twice: {' '.join(key[1:])}")
            seen.add(key)
        return self


def parse_truth(data: object, source: str = "<truth>") -> Truth:
    """Validate already-loaded data as a Truth; InputError names the source and the first bad field."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: a truth file is a mapping (repo, pipelines, tasks, ...), not {_kind(data)}.")
    try:
        return Truth.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _location(first.get("loc", ()))
        count = exc.error_count()
        more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
        raise InputError(f"{source}: {where}: {first.get('msg', 'invalid')}{more}") from None


def load_truth(path: str | os.PathLike[str]) -> Truth:
    """Read and validate a truth file (YAML, at most MAX_TRUTH_BYTES)."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise InputError(f"Truth file '{path}' is not a file.")
        if size > MAX_TRUTH_BYTES:
            raise InputError(f"Truth file '{path}' is {size} bytes; a truth file is at most {MAX_TRUTH_BYTES}.")
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"Truth file '{path}' does not exist.") from None
    except UnicodeDecodeError:
        raise InputError(f"Truth file '{path}' is not UTF-8 text.") from None
    except OSError as exc:
        raise InputError(f"Truth file '{path}' cannot be read: {sentence(exc.strerror or str(exc))}") from None
    try:
        data = load_yaml(text)
    except YamlError as exc:
        raise InputError(f"{path}: invalid YAML: {exc}") from None
    return parse_truth(data, str(path))


def sample_dir(truth: Truth, truth_path: str | os.PathLike[str]) -> Path:
    """The sample repository folder a truth file describes."""
    base = Path(truth_path).resolve().parent
    return (base / truth.sample).resolve() if truth.sample else base.parent / "repos" / truth.repo


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _kind(data: object) -> str:
    return "nothing" if data is None else f"a {type(data).__name__}"
