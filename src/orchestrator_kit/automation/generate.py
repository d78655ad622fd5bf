"""From a spec to validated, planned files: the pipeline behind `generate_automation` and `apply_automation`.

spec -> generator (reads the Inventory) -> artifacts -> validators (in a temporary directory) -> Writer.plan
(diff and plan hash). Nothing here writes into the repository.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..discovery import discover
from ..errors import InputError
from ..models import Inventory, Model
from ..redaction import redact_text
from ..repo import Workspace
from .artifact import Artifact, Generated
from .cicache import generate_ci_cache
from .context import RepoContext
from .github import generate_github_workflow
from .gitlab import generate_gitlab_job
from .precommit import generate_precommit_hook
from .procedure import spec_from_procedure
from .results import ArtifactView, Finding, GenerationResult, ValidationReport
from .schedule import generate_crontab_line, generate_systemd_timer
from .script import generate_shell_script
from .spec import ProcedureSpec, parse_spec
from .tasks import generate_just_recipe, generate_make_target
from .validate import validate_text
from .writer import Plan, ProposedFile, Writer, sha256_text

GENERATORS: dict[str, Callable[[RepoContext, Any], Generated]] = {
    "github-workflow": generate_github_workflow,
    "gitlab-ci-job": generate_gitlab_job,
    "make-target": generate_make_target,
    "just-recipe": generate_just_recipe,
    "shell-script": generate_shell_script,
    "crontab-line": generate_crontab_line,
    "systemd-timer": generate_systemd_timer,
    "pre-commit-hook": generate_precommit_hook,
    "ci-cache": generate_ci_cache,
}


@dataclass
class Prepared:
    """Everything `generate` computed, kept together so `apply` can use exactly the same plan."""

    result: GenerationResult
    plan: Plan
    writer: Writer


def load_context(repo: str | os.PathLike[str], inventory: Inventory | None = None) -> RepoContext:
    """The repository as generators see it; scans it unless an Inventory of the same root is given."""
    workspace = Workspace(repo)
    if inventory is None or os.path.realpath(inventory.root) != str(workspace.root):
        inventory = discover(workspace)
    return RepoContext.load(workspace, inventory)


def build(ctx: RepoContext, kind: str, spec: Any) -> Generated:
    """Run the generator for `kind` (a `procedure` spec is first turned into a script or workflow spec)."""
    parsed = parse_spec(kind, spec)
    if isinstance(parsed, ProcedureSpec):
        converted, notes = spec_from_procedure(ctx, parsed)
        generated = GENERATORS[converted.kind](ctx, converted)
        generated.notes = notes + generated.notes
        return generated
    return GENERATORS[kind](ctx, parsed)


def validate_artifacts(artifacts: list[Artifact]) -> list[ValidationReport]:
    """Validate each artifact's complete new content; problems in lines that were already in an appended-to
    file are reported as warnings prefixed 'existing content:' (they do not block this change)."""
    reports = []
    for artifact in artifacts:
        companions = {a.path: a.content for a in artifacts if a is not artifact and a.kind == artifact.kind}
        report = validate_text(artifact.path, artifact.content, artifact.kind, make_target=artifact.make_target,
                               companions=companions)
        if artifact.base:
            added = _added_lines(artifact.base, artifact.content)
            findings = [_existing(f) if f.line is not None and f.line not in added else f for f in report.findings]
            report = report.model_copy(update={"findings": findings,
                                               "ok": not any(f.severity == "error" for f in findings)})
        reports.append(report)
    return reports


def _added_lines(base: str, content: str) -> set[int]:
    """The 1-based numbers of the lines of `content` that are not lines of `base` (appended or inserted)."""
    matcher = difflib.SequenceMatcher(a=base.splitlines(), b=content.splitlines(), autojunk=False)
    return {n + 1 for tag, _, _, j1, j2 in matcher.get_opcodes() if tag != "equal" for n in range(j1, j2)}


def _existing(finding: Finding) -> Finding:
    if finding.severity != "error":
        return finding
    return finding.model_copy(update={"severity": "warning", "message": "existing content: " + finding.message})


def prepare(repo: str | os.PathLike[str], kind: str, spec: Any, *, inventory: Inventory | None = None,
            opportunity: str | None = None) -> Prepared:
    """Generate, validate and plan. With `opportunity`, the spec is derived from that opportunity instead."""
    ctx = load_context(repo, inventory)
    notes: list[str] = []
    if opportunity is not None:
        if spec is not None:
            raise InputError("Give a spec or an opportunity, not both.")
        from .opportunity import spec_from_opportunity

        kind, spec, derived = spec_from_opportunity(ctx, opportunity, kind)
        notes.append(f"Spec derived from opportunity {opportunity}; save `spec` to edit it.")
        notes.extend(derived)
    elif spec is None:
        raise InputError("Give a spec (or an opportunity id to derive one from).")
    generated = build(ctx, kind, spec)
    generated.notes = notes + generated.notes
    # What we write is held to zizmor's defaults: a repository's zizmor.yml applies to its own files (`validate`).
    reports = validate_artifacts(generated.artifacts)
    writer = Writer(ctx.workspace.root)
    expected = {a.path: (sha256_text(a.base) if a.base is not None else None) for a in generated.artifacts}
    plan = writer.plan([ProposedFile(a.path, a.content, a.mode) for a in generated.artifacts], expected=expected)
    views = [ArtifactView(path=a.path, kind=a.kind, action=a.action, mode=a.mode, text=redact_text(a.text, a.path))
             for a in generated.artifacts]
    effective = generated.spec.model_dump(mode="json", exclude_none=True) if isinstance(generated.spec, Model) else {}
    result = GenerationResult(
        kind=kind, spec=effective, artifacts=views, notes=[redact_text(n) for n in generated.notes],
        validation=reports, valid=all(r.ok for r in reports), plan=plan.view(),
    )
    return Prepared(result=result, plan=plan, writer=writer)
