"""Automation tools: generate (a reviewable plan), validate, apply (only the reviewed plan) and undo.

Each function calls the automation capability's service function (`automation.generate_automation`, ...) with the
repository folder confined to the server's roots and the server's cached scan as its Inventory, so `generate` and
`apply` see the same repository and compute the same plan hash. Generation and validation results are paged with
`budget.pack_model`: the plan's file changes, the validators' findings and the diff's lines fill the room in that
order; the plan hash, the effective spec and the validity are on every page.

This module imports the automation capability: `server.py` imports it inside the tool bodies only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import Field

from ..automation import apply_automation, generate_automation, undo_automation, validate_automation
from ..automation.results import ApplyResult, Finding, GenerationResult, PlanView, UndoResult, ValidationReport
from ..errors import InputError
from .budget import SectionPage, pack_model
from .inventory import Out
from .progress import in_background
from .roots import check_argument
from .state import NO_WORK, ServerState, Work

PLAN_LISTS = ("plan.changes", "findings", "diff_lines")
VALIDATION_LISTS = ("reports", "findings")
MAX_PATHS = 50


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class ApplyArguments(Out):
    """The arguments apply_automation needs to write exactly this plan."""

    repository: str
    kind: str
    spec: dict[str, Any] | None
    opportunity: str | None
    plan_hash: str


class AutomationPlan(Out):
    """What generate_automation returns: a plan to review. Nothing was written."""

    repository: str
    kind: str = Field(description="The kind that was generated ('procedure' when a runbook section was converted).")
    spec: dict[str, object] = Field(description="The effective spec, with what was derived from the repository "
                                    "filled in: edit it and generate again to change the result.")
    notes: list[str]
    valid: bool = Field(description="True when no validator reported an error; apply refuses an invalid plan "
                        "unless forced.")
    validation: list[ValidationReport] = Field(
        description="One report per file: the validators that ran (`checked`), those that did not and why "
        "(`skipped`), and `findings_total`; the findings themselves are in `findings`.")
    findings: list[Finding] = Field(description="The validators' findings (this page), with file and line.")
    plan: PlanView = Field(description="The writes (`changes`: path, create/update, content hashes, mode, size; "
                           "this page) and `plan_hash`. `diff` is empty here: the diff is `diff_lines`.")
    diff_lines: list[str] = Field(description="This page's lines of the unified diff (secrets redacted); every "
                                  "added line of every file is in it, and a page holds whole files only.")
    plan_hash: str = Field(description="Pass to apply_automation to write this plan, and only this plan.")
    apply_with: ApplyArguments
    sections: list[SectionPage]
    next_cursor: str | None
    note: str = ("Nothing was written. Review the diff and the findings; apply_automation with `apply_with` writes "
                 "these files if the repository has not changed since.")


def plan(
    state: ServerState, repository: str = ".", *, kind: str, spec: dict[str, Any] | None = None,
    opportunity: str | None = None, max_tokens: int, cursor: str | None = None, work: Work = NO_WORK,
) -> AutomationPlan:
    _root, folder, scan = state.scan(repository, work=work)
    key = ("generate", folder, scan.version, kind, _digest(spec), opportunity)

    def compute() -> GenerationResult:
        return in_background(work, lambda: generate_automation(
            folder, kind, spec, opportunity=opportunity, inventory=scan.inventory), "generating and validating")

    result = state.results.get(key, compute)
    page = AutomationPlan(
        repository=str(folder), kind=result.kind, spec=result.spec, notes=result.notes, valid=result.valid,
        validation=[r.model_copy(update={"findings": []}) for r in result.validation],
        findings=[f for r in result.validation for f in r.findings],
        plan=result.plan.model_copy(update={"diff": ""}), diff_lines=result.plan.diff.splitlines(),
        plan_hash=result.plan.plan_hash,
        apply_with=ApplyArguments(repository=repository, kind=kind, spec=spec, opportunity=opportunity,
                                  plan_hash=result.plan.plan_hash),
        sections=[], next_cursor=None,
    )
    # A page of the diff ends only where a file's diff starts: an assembled file is never cut by a page boundary.
    file_starts = [i for i, line in enumerate(page.diff_lines) if line.startswith("diff --orchestrator-kit ")]
    return pack_model(
        page, PLAN_LISTS, kind="generate_automation", version=result.plan.plan_hash[:16], max_tokens=max_tokens,
        cursor=cursor, wrap=lambda p, sections, next_cursor: p.model_copy(
            update={"sections": sections, "next_cursor": next_cursor}),
        whole={"diff_lines": file_starts},
    )


class AutomationValidation(Out):
    """What validate_automation returns: one report per file and the findings, paged."""

    repository: str
    ok: bool = Field(description="True when no finding is an error.")
    errors: int
    warnings: int
    reports: list[ValidationReport] = Field(description="This page's reports; their findings are in `findings`.")
    findings: list[Finding] = Field(description="This page's findings, each with its file (`path`) and line.")
    sections: list[SectionPage]
    next_cursor: str | None


def validate(
    state: ServerState, repository: str = ".", *, paths: list[str], kind: str | None = None, max_tokens: int,
    cursor: str | None = None, work: Work = NO_WORK,
) -> AutomationValidation:
    _root, folder = state.folder(repository)
    if not paths:
        raise InputError("Give at least one file to validate.")
    if len(paths) > MAX_PATHS:
        raise InputError(f"At most {MAX_PATHS} files per call; got {len(paths)}.")
    for path in paths:
        check_argument(path, "Path")
    version = _digest(state.cache.fingerprint(folder), paths, kind)[:16]
    result = state.results.get(("validate", folder, version), lambda: in_background(
        work, lambda: validate_automation(folder, paths, kind=kind), "validating"))
    page = AutomationValidation(
        repository=str(folder), ok=result.ok, errors=result.errors, warnings=result.warnings,
        reports=[r.model_copy(update={"findings": []}) for r in result.reports],
        findings=[f for r in result.reports for f in r.findings], sections=[], next_cursor=None,
    )
    return pack_model(
        page, VALIDATION_LISTS, kind="validate_automation", version=version, max_tokens=max_tokens, cursor=cursor,
        wrap=lambda p, sections, next_cursor: p.model_copy(update={"sections": sections, "next_cursor": next_cursor}),
    )


def apply(
    state: ServerState, repository: str = ".", *, kind: str, spec: dict[str, Any] | None = None,
    opportunity: str | None = None, plan_hash: str, force: bool = False, work: Work = NO_WORK,
) -> ApplyResult:
    """Write the plan generate_automation showed, if `plan_hash` is still its hash. Not run in the background: a
    write is never left going on after the call returns."""
    _root, folder, scan = state.scan(repository, work=work)
    return apply_automation(folder, kind, spec, plan_hash, force=force, opportunity=opportunity,
                            inventory=scan.inventory)


def undo(state: ServerState, repository: str = ".", *, last: int = 1, dry_run: bool = False) -> UndoResult:
    _root, folder = state.folder(repository)
    return undo_automation(Path(folder), last, dry_run=dry_run)
