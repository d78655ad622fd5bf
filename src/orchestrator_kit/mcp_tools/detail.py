"""Detail levels and lean continuation pages (issue 20, item 3): what a result leaves out until it is asked for.

`detail="concise"` (the default of every tool that returns bulk) sends what a model needs to decide and cite:

* inventory listings give each item's evidence as one `path:start-end` string, and a task's commands as their text
  (each command's own line is inside the task's evidence range);
* metrics send every list's first `CONCISE_ROWS` rows (the rest is counted in the section's `omitted`), leave out
  the weekly commit series (its mean and median stay), keep a pipeline's job estimates for the jobs on its
  critical path by minutes only, and leave out an opportunity's `explanation.inputs` (the same numbers as its
  `frequency_per_year`, `duration_minutes` and scores, which the result holds once) and its copy of the formula
  (the matrix's `formulas` holds it once).

`detail="detailed"` sends everything, paged as before. Either way, formulas go once per result: a metrics
continuation page (called with a `cursor`) holds its page of the paged lists, the numbers and the short texts; the
formulas, assumptions, notes, caveats and unpaged lists are on the first page only (`lean`); its `detail` line says
so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from ..models import Evidence, InfraItem, InfraKind, Model, Schedule, ScheduleSource, Task, TaskRunner

Detail = Literal["concise", "detailed"]
CONCISE_ROWS = 5
M = TypeVar("M", bound=BaseModel)

FIRST_PAGE_ONLY = ("formula",)  # text fields emptied on continuation pages, whatever their length


def detail_line(detail: Detail, continuation: bool, omitted: int = 0, trimmed: str = "") -> str:
    """The result's `detail` field: what this page leaves out and how to get it. `trimmed` names what concise
    leaves out of each item, if anything."""
    parts = []
    if detail == "concise":
        left = [f"{omitted} rows past the first {CONCISE_ROWS} of each list and the long series (see each "
                "section's `omitted`)"] if omitted else []
        left += [trimmed] if trimmed else []
        parts.append(f"concise: left out {' and '.join(left)}; call with detail='detailed' for them" if left
                     else "concise: nothing was left out")
    else:
        parts.append("detailed")
    if continuation:
        parts.append("continuation page: only this page's list items and the numbers; formulas, assumptions, caveats "
                     "and the other lists are on the first page")
    return "; ".join(parts)


def caps(lists: Sequence[str], detail: Detail, *, whole: Sequence[str] = ()) -> dict[str, int]:
    """The row caps of `detail` for the paged `lists` (none for the `whole` ones, or when detailed)."""
    if detail == "detailed":
        return {}
    return {name: CONCISE_ROWS for name in lists if name not in whole}


LONG_TEXT = 120  # characters: a longer text field is an explanation, sent on the first page only


def lean(model: M) -> M:
    """A continuation page's copy of `model` (whose first page carried the rest): every list and mapping emptied at
    any depth (`pack_model` then puts this page's items into the paged lists), and the formula texts and the texts
    longer than LONG_TEXT characters emptied. Numbers, flags and short texts stay."""
    return _lean(model)  # type: ignore[no-any-return]


def _lean(value: Any) -> Any:
    updates: dict[str, Any] = {}
    for name in type(value).model_fields:
        current = getattr(value, name)
        if isinstance(current, list | dict) and current:
            updates[name] = type(current)()
        elif isinstance(current, str) and (name in FIRST_PAGE_ONLY or len(current) > LONG_TEXT):
            updates[name] = ""
        elif isinstance(current, BaseModel):
            changed = _lean(current)
            if changed is not current:
                updates[name] = changed
    return value.model_copy(update=updates) if updates else value


# ---------------------------------------------------------------- concise inventory items


class TaskBrief(Model):
    """A task with its evidence as one `path:start-end` string and its commands as text (detail='concise')."""

    id: str
    runner: TaskRunner
    name: str
    invocation: str
    description: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list, description="The commands' text, redacted, in order.")
    hooks: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)
    evidence: str = Field(description="path:start-end")


class ScheduleBrief(Model):
    """A schedule with its evidence as one `path:start-end` string (detail='concise')."""

    source: ScheduleSource
    expression: str
    explanation: str
    timezone: str | None = None
    target: str
    evidence: str = Field(description="path:start-end")


def task_brief(task: Task) -> TaskBrief:
    return TaskBrief(id=task.id, runner=task.runner, name=task.name, invocation=task.invocation,
                     description=task.description, depends_on=task.depends_on,
                     commands=[c.text for c in task.commands], hooks=task.hooks, attributes=task.attributes,
                     evidence=_span(task.evidence.path, task.evidence.line_start, task.evidence.line_end))


def schedule_brief(schedule: Schedule) -> ScheduleBrief:
    e = schedule.evidence
    return ScheduleBrief(source=schedule.source, expression=schedule.expression, explanation=schedule.explanation,
                         timezone=schedule.timezone, target=schedule.target,
                         evidence=_span(e.path, e.line_start, e.line_end))


def _span(path: str, start: int, end: int) -> str:
    """`path:start-end`, always with both numbers, so a reader never mistakes a range for one line."""
    return f"{path}:{start}-{end}"


def omitted_rows(totals: Mapping[str, int], capped: Mapping[str, int]) -> int:
    return sum(max(0, totals[name] - cap) for name, cap in capped.items() if name in totals)


class InfraBrief(Model):
    """An infrastructure item with its evidence as one `path:start-end` string (detail='concise')."""

    kind: InfraKind
    name: str
    attributes: dict[str, str | list[str]] = Field(default_factory=dict)
    evidence: str = Field(description="path:start-end")


def infra_brief(item: InfraItem) -> InfraBrief:
    e = item.evidence
    return InfraBrief(kind=item.kind, name=item.name, attributes=item.attributes,
                      evidence=_span(e.path, e.line_start, e.line_end))


def evidence_text(evidence: Evidence) -> str:
    return _span(evidence.path, evidence.line_start, evidence.line_end)
