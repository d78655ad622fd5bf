"""Automation writing: generate, validate and safely apply CI workflows, task targets, scripts and schedules.

The service functions below are the capabilities (the CLI commands and the MCP tools call them 1:1):

* `generate_automation(repo, kind, spec)`: artifacts + validation + diff + plan hash. Writes nothing.
* `validate_automation(repo, paths, kind=None)`: validate existing files (read-only).
* `apply_automation(repo, kind, spec, plan_hash, force=False)`: regenerate, check that the plan hash is the
  one that was reviewed, refuse when validation found errors (unless forced), write through the Writer.
* `undo_automation(repo, last=1, dry_run=False)`: reverse the newest applied changes from the audit log.
* `spec_for_procedure(repo, procedure_id, target)`: the script or workflow spec a runbook section becomes.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from ..errors import InputError
from ..models import Inventory
from .generate import load_context, prepare
from .procedure import spec_from_procedure
from .results import (
    ApplyResult as ApplyResult,
)
from .results import (
    GenerationResult as GenerationResult,
)
from .results import (
    UndoResult as UndoResult,
)
from .results import (
    ValidationReport as ValidationReport,
)
from .results import (
    ValidationResult as ValidationResult,
)
from .spec import KINDS as KINDS
from .spec import ProcedureSpec, parse_spec
from .writer import Writer as Writer

MAX_VALIDATE_PATHS = 200


def generate_automation(
    repo: str | os.PathLike[str],
    kind: str,
    spec: Any = None,
    *,
    opportunity: str | None = None,
    inventory: Inventory | None = None,
) -> GenerationResult:
    """Generate the automation `kind` described by `spec` (or derived from `opportunity`, an id of the
    opportunity matrix) for the repository at `repo`.

    Returns the artifacts, each validator's findings, the unified diff and the plan hash that
    `apply_automation` needs. Reads the repository (a scan, unless `inventory` is given); writes nothing.
    """
    return prepare(repo, kind, spec, inventory=inventory, opportunity=opportunity).result


def apply_automation(
    repo: str | os.PathLike[str],
    kind: str,
    spec: Any = None,
    plan_hash: str = "",
    *,
    force: bool = False,
    opportunity: str | None = None,
    inventory: Inventory | None = None,
) -> ApplyResult:
    """Write what `generate_automation` showed, if `plan_hash` is the hash of that very plan.

    The plan is regenerated and compared: a repository or spec that changed since the review gives another
    hash and is refused. An artifact with validation errors is refused unless `force`.
    """
    if not plan_hash or not isinstance(plan_hash, str):
        raise InputError("apply_automation needs the plan_hash shown with the diff; nothing was written.")
    prepared = prepare(repo, kind, spec, inventory=inventory, opportunity=opportunity)
    if prepared.plan.hash != plan_hash:
        raise InputError("The plan hash does not match: the repository or the spec changed since the diff was "
                         "shown (or the hash is wrong). Generate again, review the new diff, then apply its hash.")
    errors = sum(1 for report in prepared.result.validation for f in report.findings if f.severity == "error")
    if errors and not force:
        raise InputError(f"Validation found {errors} error{'s' if errors != 1 else ''}; nothing was written. "
                         "Fix the spec, or apply with force if you accept them.")
    return prepared.writer.apply(prepared.plan, plan_hash, forced=force and errors > 0, validation_errors=errors)


def validate_automation(
    repo: str | os.PathLike[str], paths: list[str], *, kind: str | None = None
) -> ValidationResult:
    """Validate existing automation files (paths relative to `repo`). Read-only; validators run on copies."""
    from ..repo import Workspace
    from .validate import detect_kind, repository_zizmor_config, unknown_kind_message, validate_text

    if not paths:
        raise InputError("Give at least one file to validate.")
    if len(paths) > MAX_VALIDATE_PATHS:
        raise InputError(f"At most {MAX_VALIDATE_PATHS} files per call; got {len(paths)}.")
    workspace = Workspace(repo)
    # Every file is read and its kind told before any validator runs: a bad path or an unknown kind at the end of
    # the list is refused at once, not after minutes of validating the files before it.
    work: list[tuple[str, str, str]] = []
    for rel in paths:
        workspace.resolve(rel)  # confinement first: ConfinementError for '..', absolute or escaping paths
        text = workspace.read_text(rel).text
        file_kind = kind or detect_kind(rel, text)
        if file_kind is None:
            raise InputError(unknown_kind_message(rel))
        work.append((rel, text, file_kind))
    zizmor_config = repository_zizmor_config(lambda rel: workspace.read_text(rel).text)
    reports = [
        validate_text(rel, text, file_kind, zizmor_config=zizmor_config)  # type: ignore[arg-type]
        for rel, text, file_kind in work
    ]
    errors = sum(1 for r in reports for f in r.findings if f.severity == "error")
    warnings = sum(1 for r in reports for f in r.findings if f.severity == "warning")
    return ValidationResult(reports=reports, ok=errors == 0, errors=errors, warnings=warnings)


def undo_automation(repo: str | os.PathLike[str], last: int = 1, *, dry_run: bool = False) -> UndoResult:
    """Reverse the newest `last` changes orchestrator-kit applied in `repo` (from its audit log)."""
    return Writer(repo).undo(last, dry_run=dry_run)


def spec_for_procedure(
    repo: str | os.PathLike[str],
    procedure_id: str,
    target: Literal["shell-script", "github-workflow"] = "shell-script",
    *,
    inventory: Inventory | None = None,
) -> dict[str, Any]:
    """The spec (as a mapping, ready to edit and pass to `generate_automation`) for a runbook section."""
    ctx = load_context(repo, inventory)
    spec = parse_spec("procedure", {"procedure": procedure_id, "target": target})
    if not isinstance(spec, ProcedureSpec):  # parse_spec returns the model of the kind it was given
        raise InputError("internal: a procedure spec was expected")
    converted, _notes = spec_from_procedure(ctx, spec)
    return converted.model_dump(mode="json", exclude_none=True)


__all__ = [
    "KINDS", "ApplyResult", "GenerationResult", "UndoResult", "ValidationReport", "ValidationResult", "Writer",
    "apply_automation", "generate_automation", "spec_for_procedure", "undo_automation", "validate_automation",
]
