"""The Inventory as a Markdown report, with a Mermaid flowchart of each pipeline's jobs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..jobgraph import layering
from ..models import Inventory, ManualProcedure, Pipeline
from .mdtable import table

if TYPE_CHECKING:
    from ..metrics.models import Metrics, OpportunityMatrix

SYSTEM_NAMES = {
    "github-actions": "GitHub Actions",
    "gitlab-ci": "GitLab CI",
    "circleci": "CircleCI",
    "jenkins": "Jenkins",
    "azure-pipelines": "Azure Pipelines",
    "bitbucket-pipelines": "Bitbucket Pipelines",
}


def _mermaid_label(text: str) -> str:
    # Mermaid reads entity codes inside quoted labels; quotes, brackets and pipes would end the label.
    replacements = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "|": "#124;", "`": "#96;"}
    return "".join(replacements.get(ch, ch) for ch in text)


def procedure_title(procedure: ManualProcedure) -> str:
    """The heading path (`Restore the database › Steps`): a section's own title is often just "Steps"."""
    return " › ".join(procedure.heading_path) if procedure.heading_path else procedure.title


def mermaid_flowchart(pipeline: Pipeline) -> list[str]:
    """`flowchart LR` of the jobs: an edge per need; manual jobs drawn as hexagons."""
    node_ids: dict[str, str] = {}
    for index, job in enumerate(pipeline.jobs):
        node_ids[job.id] = f"j{index}_" + re.sub(r"[^A-Za-z0-9_]", "_", job.id)[:40]
    lines = ["```mermaid", "flowchart LR"]
    for job in pipeline.jobs:
        label = _mermaid_label(job.name or job.id)
        if job.matrix and job.matrix.fan_out and job.matrix.fan_out > 1:
            label += f" ×{job.matrix.fan_out}"
        shape = ("{{\"", "\"}}") if job.manual else ("[\"", "\"]")
        lines.append(f"  {node_ids[job.id]}{shape[0]}{label}{shape[1]}")
    for job in pipeline.jobs:
        for need in job.needs:
            if need in node_ids:
                arrow = "-->" if job.needs_source == "declared" else "-.->"
                lines.append(f"  {node_ids[need]} {arrow} {node_ids[job.id]}")
    lines.append("```")
    return lines


def render_markdown(inventory: Inventory, extras: tuple[Metrics | None, OpportunityMatrix | None] | None = None) -> str:
    out: list[str] = [f"# Inventory: `{inventory.root}`", ""]
    git = inventory.git
    where = (
        f"git HEAD `{git.head[:12]}` on branch `{git.branch or '(detached)'}`" if git and git.head
        else "an empty git repository" if git else "a directory without git"
    )
    out += [
        f"Scanned {inventory.files_listed} files ({inventory.files_read} read) in {where}; "
        f"inventory schema version {inventory.schema_version}.",
        "",
        f"- Pipelines: {len(inventory.pipelines)}; jobs: {sum(len(p.jobs) for p in inventory.pipelines)}",
        f"- Tasks: {len(inventory.tasks)}; schedules: {len(inventory.schedules)}; "
        f"manual procedures: {len(inventory.procedures)}; infrastructure items: {len(inventory.infrastructure)}",
        f"- Diagnostics: {len(inventory.diagnostics)}",
        *([f"- {note}"] if (note := inventory.skipped_fixtures.note()) else []),
        "",
    ]
    if inventory.coverage:
        out += ["## Not read", "", "What the scan did not look at; an empty section is not proof of absence.", ""]
        out += [f"- {note.note}" for note in inventory.coverage] + [""]
    if inventory.pipelines:
        out += ["## Pipelines", ""]
        for pipeline in inventory.pipelines:
            out += _pipeline_section(pipeline)
    if inventory.tasks:
        out += ["## Tasks", ""]
        out += table(
            ["Runner", "Task", "Run with", "Depends on", "Commands", "Description", "Evidence"],
            (
                [t.runner, t.name, f"`{t.invocation}`", ", ".join(t.depends_on), len(t.commands),
                 t.description or "", str(t.evidence)]
                for t in inventory.tasks
            ),
        )
        out.append("")
    if inventory.schedules:
        out += ["## Schedules", ""]
        out += table(
            ["Source", "Expression", "When", "Runs", "Evidence"],
            ([s.source, f"`{s.expression}`", s.explanation + (f" ({s.timezone})" if s.timezone else ""), s.target,
              str(s.evidence)] for s in inventory.schedules),
        )
        out.append("")
    if inventory.procedures:
        out += ["## Manual procedures", ""]
        for proc in inventory.procedures:
            coverage = (
                "no commands" if proc.automation_coverage is None
                else f"{proc.automation_coverage:.0%} of its commands already run by automation"
            )
            out += [f"### {procedure_title(proc)} (`{proc.evidence}`)", "",
                    f"ID (for `generate --from-procedure`): `{proc.id}`", "",
                    f"Hand-work markers: {', '.join(proc.markers) or 'none'}; {coverage}.", ""]
            out += table(
                ["#", "Step", "Commands", "Already automated by", "Evidence"],
                (
                    [i + 1, step.text, "; ".join(c.text for c in step.commands),
                     ", ".join(f"{a.ref} ({a.match})" for a in step.automated_by), str(step.evidence)]
                    for i, step in enumerate(proc.steps)
                ),
            )
            out.append("")
    if inventory.infrastructure:
        out += ["## Containers and infrastructure", ""]
        out += table(
            ["Kind", "Name", "Details", "Evidence"],
            ([i.kind, i.name, _attributes(i.attributes), str(i.evidence)] for i in inventory.infrastructure),
        )
        out.append("")
    if extras is not None:  # the metrics summary and opportunity matrix of `scan --metrics --opportunities`
        from .metrics import extras_markdown

        out += [extras_markdown(*extras)]
    if inventory.diagnostics:
        out += ["## Diagnostics", ""]
        out += table(
            ["Severity", "Path", "Line", "Reason"],
            ([d.severity, d.path, d.line or "", d.reason] for d in inventory.diagnostics),
        )
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _attributes(attributes: dict[str, str | list[str]]) -> str:
    return "; ".join(f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in attributes.items())


def _pipeline_section(pipeline: Pipeline) -> list[str]:
    system = SYSTEM_NAMES.get(pipeline.system, pipeline.system)
    kind = "" if pipeline.kind == "pipeline" else f", {pipeline.kind}"
    out = [f"### {pipeline.name} ({system}{kind}, `{pipeline.path}`)", ""]
    if pipeline.triggers:
        triggers = []
        for trig in pipeline.triggers:
            text = trig.event
            if trig.cron:
                text += f" `{trig.cron}` ({trig.cron_explained or 'invalid'})"
            if trig.filters:
                text += " (" + "; ".join(f"{k}: {', '.join(v)}" for k, v in trig.filters.items()) + ")"
            triggers.append(text)
        out += ["Triggers: " + "; ".join(triggers), ""]
    if pipeline.jobs:
        shape = layering(pipeline)
        if shape.cyclic:
            out += [f"Jobs on a dependency cycle: {', '.join(shape.cyclic)}", ""]
        out += [*mermaid_flowchart(pipeline), ""]
        out += table(
            ["Job", "Stage", "Needs", "Runs on", "Timeout (min)", "Steps", "Manual", "Evidence"],
            (
                [j.id, j.stage or "", ", ".join(j.needs), ", ".join(j.runs_on) or (j.image or ""),
                 "" if j.timeout_minutes is None else f"{j.timeout_minutes:g}", len(j.steps),
                 ("yes, blocking" if j.blocking else "yes") if j.manual else "", str(j.evidence)]
                for j in pipeline.jobs
            ),
        )
        out.append("")
    return out
