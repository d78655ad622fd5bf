"""Agent eval cases: what the user asks an agent on a sample repository, what a good answer holds, and what it must
not do. One YAML file per case in `evals/cases/agents/`; the sample's ground truth (`evals/cases/<repo>.yaml`, eval
suite part 1) supplies the findings, the forbidden items and texts, and the planted secrets.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...agent.report import AgentName
from ...errors import InputError
from ..truth import Truth, load_truth

CASES_DIR = Path("evals") / "cases" / "agents"
MAX_CASE_BYTES = 200_000

# The failure modes the offline proof plays, each with the scorer that must catch it.
FailureMode = Literal[
    "invents-number", "misses-finding", "claims-opportunity", "follows-injection", "writes-outside-root",
    "leaks-secret", "design-without-compensation",
]
CATCHES: dict[str, str] = {
    "invents-number": "grounding",
    "misses-finding": "findings",
    "claims-opportunity": "findings",
    "follows-injection": "safety",
    "writes-outside-root": "writes",
    "leaks-secret": "safety",
    "design-without-compensation": "design",
}


class CaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DesignProperties(CaseModel):
    """What a correct design for the prose process must have. Names are matched as words inside state names, so
    `charge` matches `charge_payment` and `charge-card`."""

    compensated: list[str] = Field(default_factory=list, description="Steps whose side effect needs a compensation.")
    pivot: str | None = Field(default=None, description="The point of no return of the saga.")
    approver: str | None = Field(default=None, description="Text the owner of a human task must contain.")
    reference: str | None = Field(default=None, description="A shipped example design that is a correct answer "
                                  "(the good scripted transcript presents it).")


class AgentCase(CaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    repo: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="The sample in evals/repos/.")
    agent: AgentName
    task: str = Field(min_length=1, max_length=4000, description="What the user asks (the run's --task).")
    allow_writes: bool = False
    may_write: list[str] = Field(default_factory=list, description="Globs of files the run may create or change.")
    must_cite: list[str] | None = Field(default=None, description="Evidence paths the report must cite; default: "
                                       "the paths of the truth's required opportunities.")
    min_recall: float = Field(default=1.0, ge=0, le=1)
    no_opportunities: bool = Field(default=False, description="The negative control: recommend nothing.")
    must_not_say: list[str] = Field(default_factory=list, description="Texts beyond the truth's forbidden ones.")
    design: DesignProperties | None = None
    failure_modes: list[FailureMode] = Field(description="The bad transcripts the offline proof plays.")
    source: str = ""

    @cached_property
    def truth(self) -> Truth:
        return load_truth(Path(self.source).parents[1] / f"{self.repo}.yaml")

    @property
    def sample(self) -> Path:
        return Path(self.source).parents[2] / "repos" / self.repo

    def cited_paths(self) -> list[str]:
        if self.must_cite is not None:
            return self.must_cite
        return sorted({o.path for o in self.truth.opportunities if not o.optional})


def load_case(path: str | os.PathLike[str]) -> AgentCase:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_CASE_BYTES:
            raise InputError(f"{file}: {file.stat().st_size:,} bytes; a case is at most {MAX_CASE_BYTES:,}.")
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{file}: cannot read the case: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise InputError(f"{file}: a case is a mapping, not {type(data).__name__}.")
    try:
        case = AgentCase.model_validate({**data, "source": str(file.resolve())})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{file}: {where}: {first['msg']}") from None
    if case.id != file.stem:
        raise InputError(f"{file}: the id '{case.id}' differs from the file name.")
    if not case.sample.is_dir():
        raise InputError(f"{file}: no sample repository '{case.repo}' in {case.sample.parent}.")
    if case.agent == "workflow-orchestrator" and case.design is None:
        raise InputError(f"{file}: a workflow-orchestrator case needs `design` (the properties a design must have).")
    return case


def load_cases(folder: str | os.PathLike[str] = CASES_DIR, only: list[str] | None = None) -> list[AgentCase]:
    """Every case in `folder` (sorted by id), or those whose id is in `only` (an unknown id is an error)."""
    files = sorted(Path(folder).glob("*.yaml"))
    if not files:
        raise InputError(f"No agent cases (*.yaml) in {folder}.")
    cases = [load_case(f) for f in files]
    if only:
        known = {c.id for c in cases}
        unknown = [name for name in only if name not in known]
        if unknown:
            raise InputError(f"Unknown case(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        cases = [c for c in cases if c.id in only]
    return cases
