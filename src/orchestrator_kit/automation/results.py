"""What the automation capabilities return: findings, validation reports, plans, and what apply and undo did.

These are the models the CLI prints and the MCP tools return; none of them holds secrets: text that came
from a repository (diffs, artifact text, validator messages) is redacted before it is put here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..models import Model

FindingSeverity = Literal["error", "warning", "info"]

ArtifactKind = Literal[
    "github-workflow", "gitlab-ci", "makefile", "justfile", "shell", "crontab", "systemd-unit",
    "pre-commit-config", "circleci-config",
]


class Finding(Model):
    """One problem a validator reported, with the line (1-based) where the validator gave one.

    `validator` names the check (yaml, schema, zizmor, shellcheck, make, just, cron, systemd, static);
    `rule` is the validator's own code (SC2086, unpinned-uses, ...). Only `error` blocks an apply.
    """

    validator: str
    severity: FindingSeverity
    message: str
    path: str
    line: int | None = None
    column: int | None = None
    rule: str | None = None


class SkippedCheck(Model):
    """A validator that did not run on a file, and why (tool missing, unsafe to run, not applicable)."""

    validator: str
    reason: str


class ValidationReport(Model):
    """All findings for one file. `ok` is true when no finding is an error.

    `checked` lists the validators that ran; `skipped` says which did not and why, so a clean report
    never hides a check that was not made.
    """

    path: str
    kind: ArtifactKind
    ok: bool
    findings: list[Finding] = Field(default_factory=list)
    findings_total: int = 0
    checked: list[str] = Field(default_factory=list)
    skipped: list[SkippedCheck] = Field(default_factory=list)


class ArtifactView(Model):
    """One file a generator produced, as shown to a reviewer.

    `text` is the whole new file for a `create`, or the block added to an existing file for an `append`
    (redacted either way), or the inserted lines of an `edit`, each run after an
    `@@ before line N` mark. `mode` is the permission bits the file gets (0o755 for scripts).
    """

    path: str
    kind: ArtifactKind
    action: Literal["create", "append", "edit"]
    mode: int
    text: str


class FileChange(Model):
    """One file write of a plan. `old_sha256` is the content the write expects to find (None: the file must
    not exist); `new_sha256` is what it will hold afterwards."""

    path: str
    action: Literal["create", "update"]
    old_sha256: str | None = None
    new_sha256: str
    mode: int
    size: int


class PlanView(Model):
    """A reviewable plan: the writes, their unified diff (redacted, possibly truncated), and the plan hash.

    plan_hash = sha256 of the canonical JSON of [root, [path, action, old_sha256, new_sha256, mode] per change].
    `apply_automation` refuses unless it is given this exact hash, so what is applied is what was reviewed.
    """

    root: str
    changes: list[FileChange]
    diff: str
    diff_truncated: bool = False
    plan_hash: str
    formula: str = "sha256(json([root, [[path, action, old_sha256, new_sha256, mode], ...]]))"


class GenerationResult(Model):
    """What `generate_automation` returns. It writes nothing.

    `spec` is the effective spec (with what was derived from the repository filled in), so it can be saved,
    edited and passed again. `valid` is true when no validation report has an error.
    """

    kind: str
    spec: dict[str, object]
    artifacts: list[ArtifactView]
    notes: list[str] = Field(default_factory=list)
    validation: list[ValidationReport] = Field(default_factory=list)
    valid: bool
    plan: PlanView


class AppliedChange(Model):
    """A write that happened, as recorded in the audit log (`entry` is its audit id)."""

    entry: str
    path: str
    action: Literal["create", "update"]
    new_sha256: str


class ApplyResult(Model):
    """What `apply_automation` wrote, and where the audit log is."""

    applied: list[AppliedChange]
    audit_log: str
    plan_hash: str
    forced: bool = False
    validation_errors: int = 0


class UndoneChange(Model):
    """One change reversed by undo: a created file removed, or an updated file's previous content restored."""

    entry: str
    path: str
    action: Literal["removed", "restored"]


class UndoResult(Model):
    """What `undo_automation` reversed (newest first); with `dry_run` nothing was changed."""

    undone: list[UndoneChange]
    dry_run: bool = False
    audit_log: str
    ignored_entries: int = Field(default=0, description="Audit entries not signed by orchestrator-kit on this machine "
                                 "for this repository (a committed, copied or edited log): never acted on.")


class ValidationResult(Model):
    """What `validate_automation` returns: one report per file, and totals over all of them."""

    reports: list[ValidationReport]
    ok: bool
    errors: int = 0
    warnings: int = 0
