"""Expected and found items in one comparable shape: kind, detector, identity key, evidence path and line.

An identity key is a tuple of normalized strings; in an expected key, `None` is a wildcard (a pipeline whose
truth names no workflow matches whatever name the tool gives it). Opportunities match by kind and by one of
their evidence paths, so their key is the kind alone and `paths` holds every evidence path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..metrics.models import OpportunityMatrix
from ..models import Inventory, Pipeline
from .truth import PipelineTruth, Truth

# Which detector reports an infrastructure kind (the others are named by their system, source or runner).
INFRA_DETECTOR = {
    "dockerfile": "docker", "compose-service": "compose", "kubernetes": "kubernetes", "helm-chart": "helm",
    "kustomization": "kustomize", "terraform-backend": "terraform", "terraform-module": "terraform",
    "terraform-provider": "terraform", "ansible-playbook": "ansible",
}

Key = tuple[str | None, ...]


@dataclass(frozen=True)
class Item:
    """One thing that is (expected) or was (found) in a repository."""

    kind: str
    detector: str
    key: Key
    path: str
    line: int | None = None
    optional: bool = False
    paths: tuple[str, ...] = ()
    detail: str | None = None

    @property
    def label(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        shown = " ".join(k for k in self.key if k)
        return f"{self.kind} {shown} ({where})"


_SPACE = re.compile(r"\s+")
_PROMPT = re.compile(r"^(?:\$|#|>)\s+")
# A secret as the tools show it; a truth file writes `<secret>` where a command holds one.
_REDACTED = re.compile(r"\[REDACTED(?::[^\]]*)?\]")


def norm(text: str) -> str:
    """Whitespace collapsed, case folded: how identities are compared."""
    return _SPACE.sub(" ", text).strip().casefold()


def norm_command(text: str) -> str:
    """A command as compared: a leading shell prompt (`$ `) dropped, whitespace collapsed (case kept), and each
    redacted secret (`[REDACTED:<type>]`) written as `<secret>`, as truth files write it."""
    return _SPACE.sub(" ", _REDACTED.sub("<secret>", _PROMPT.sub("", text.strip()))).strip()


# ------------------------------------------------------------------ expected


def expected_items(truth: Truth) -> list[Item]:
    """Every item the truth file expects (history facts and forbidden rules are scored apart)."""
    items: list[Item] = []
    for pipeline in truth.pipelines:
        items.extend(_expected_pipeline(pipeline))
    for s in truth.schedules:
        items.append(Item("schedule", s.source, (s.source, s.path, norm(s.expression)), s.path, s.line, s.optional,
                          detail=s.target))
    for t in truth.tasks:
        items.append(Item("task", t.runner, (t.runner, t.path, t.name), t.path, t.line, t.optional))
    for p in truth.procedures:
        title = norm(p.title)
        items.append(Item("procedure", "procedures", (p.path, title), p.path, p.line, p.optional))
        refs: dict[str, bool] = {}
        for c in p.commands:
            items.append(Item("command", "procedures", (p.path, title, norm_command(c.text)), p.path, None,
                              p.optional or c.optional))
            for ref in c.automated_by:
                refs[ref] = refs.get(ref, True) and (p.optional or c.optional)
            for ref in c.may_link:
                refs.setdefault(ref, True)
        for ref, optional in refs.items():
            items.append(Item("automation-link", "automation-links", (p.path, title, ref), p.path, None, optional))
    for i in truth.infrastructure:
        items.append(Item("infrastructure", INFRA_DETECTOR.get(i.kind, i.kind), (i.kind, i.path, i.name), i.path,
                          i.line, i.optional))
    for d in truth.diagnostics:
        items.append(Item("diagnostic", d.detector or "diagnostics", (d.path,), d.path, d.line, d.optional,
                          detail=d.about or None))
    for o in truth.opportunities:
        items.append(Item("opportunity", "opportunities", (o.kind,), o.path, None, o.optional, paths=(o.path,)))
    return items


def _expected_pipeline(p: PipelineTruth) -> Iterator[Item]:
    base: Key = (p.system, p.path, norm(p.name) if p.name else None)
    yield Item("pipeline", p.system, base, p.path, p.line, p.optional)
    for kind in dict.fromkeys(p.triggers):
        yield Item("trigger", p.system, (*base, kind), p.path, None, p.optional)
    for job in p.jobs:
        optional = p.optional or job.optional
        yield Item("job", p.system, (*base, job.id), p.path, job.line, optional, detail=job.environment)
        for need in job.needs:
            yield Item("need", p.system, (*base, job.id, need), p.path, None, optional)
        if job.manual:
            yield Item("gate", p.system, (*base, job.id), p.path, job.line, optional)


# ------------------------------------------------------------------ found


def found_items(inventory: Inventory, matrix: OpportunityMatrix | None = None) -> list[Item]:
    """Every item the tools reported, in the same shape as the expected ones."""
    items: list[Item] = []
    for pipeline in inventory.pipelines:
        items.extend(_found_pipeline(pipeline))
    for s in inventory.schedules:
        items.append(Item("schedule", s.source, (s.source, s.evidence.path, norm(s.expression)), s.evidence.path,
                          s.evidence.line_start, detail=s.target))
    for t in inventory.tasks:
        items.append(Item("task", t.runner, (t.runner, t.path, t.name), t.evidence.path, t.evidence.line_start))
    for p in inventory.procedures:
        title = norm(p.title)
        items.append(Item("procedure", "procedures", (p.path, title), p.path, p.evidence.line_start))
        commands: dict[str, int] = {}
        refs: dict[str, int] = {}
        for step in p.steps:
            for c in step.commands:
                commands.setdefault(norm_command(c.text), c.evidence.line_start)
            for r in step.automated_by:
                refs.setdefault(r.ref, step.evidence.line_start)
        items.extend(Item("command", "procedures", (p.path, title, c), p.path, line) for c, line in commands.items())
        items.extend(Item("automation-link", "automation-links", (p.path, title, r), p.path, line)
                     for r, line in refs.items())
    for i in inventory.infrastructure:
        items.append(Item("infrastructure", INFRA_DETECTOR.get(i.kind, i.kind), (i.kind, i.path, i.name),
                          i.evidence.path, i.evidence.line_start))
    for d in inventory.diagnostics:
        items.append(Item("diagnostic", d.detector or "diagnostics", (d.path,), d.path, d.line, detail=d.reason))
    if matrix is not None:
        for o in matrix.opportunities:
            paths = tuple(dict.fromkeys(e.path for e in o.evidence))
            first = o.evidence[0] if o.evidence else None
            items.append(Item("opportunity", "opportunities", (o.kind,), first.path if first else "",
                              first.line_start if first else None, paths=paths, detail=o.title))
    return items


def _found_pipeline(p: Pipeline) -> Iterator[Item]:
    base: Key = (p.system, p.path, norm(p.name))
    yield Item("pipeline", p.system, base, p.path, p.evidence.line_start)
    for kind in dict.fromkeys(t.kind for t in p.triggers):
        yield Item("trigger", p.system, (*base, kind), p.path)
    for job in p.jobs:
        line = job.evidence.line_start
        yield Item("job", p.system, (*base, job.id), job.evidence.path, line, detail=job.environment)
        for need in dict.fromkeys(job.needs):
            yield Item("need", p.system, (*base, job.id, need), job.evidence.path)
        if job.manual:
            yield Item("gate", p.system, (*base, job.id), job.evidence.path, line)
