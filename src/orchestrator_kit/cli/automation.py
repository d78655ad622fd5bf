"""`orchestrator-kit generate`, `validate` and `undo`: write automation that a reviewer can trust.

Exit codes: 0 ok; 1 the generated artifact (or a validated file) has validation errors; 2 usage or input
error, including an apply that was refused (nothing written).
"""

from __future__ import annotations

import glob
import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..terminal import printable
from .common import QuietOption, TextFormat, echo, fail
from .progress import LiveProgress, wanted

if TYPE_CHECKING:
    from ..automation.results import GenerationResult, ValidationReport, ValidationResult

MAX_SPEC_BYTES = 1024 * 1024


class Kind(StrEnum):
    github_workflow = "github-workflow"
    gitlab_ci_job = "gitlab-ci-job"
    make_target = "make-target"
    just_recipe = "just-recipe"
    shell_script = "shell-script"
    crontab_line = "crontab-line"
    systemd_timer = "systemd-timer"
    pre_commit_hook = "pre-commit-hook"
    procedure = "procedure"
    ci_cache = "ci-cache"


class FileKind(StrEnum):
    github_workflow = "github-workflow"
    gitlab_ci = "gitlab-ci"
    makefile = "makefile"
    justfile = "justfile"
    shell = "shell"
    crontab = "crontab"
    systemd_unit = "systemd-unit"
    pre_commit_config = "pre-commit-config"
    circleci_config = "circleci-config"


class Conflict(StrEnum):
    refuse = "refuse"
    rename = "rename"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    never = "never"


RepoOption = Annotated[Path, typer.Option("--repo", "-C", help="The repository (default: the working directory).")]
FormatOption = Annotated[TextFormat, typer.Option("--format", "-f", help="text for people, json for machines.")]


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("validate")(validate)
    app.command("undo")(undo)


def generate(
    kind: Annotated[Kind, typer.Argument(help="What to generate.")],
    spec: Annotated[Path | None, typer.Option("--spec", "-s", help="The spec, YAML or JSON ('-' reads stdin).")] = None,
    from_opportunity: Annotated[
        str | None, typer.Option("--from-opportunity", metavar="ID", help="Derive the spec from this opportunity id.")
    ] = None,
    from_procedure: Annotated[
        str | None, typer.Option("--from-procedure", metavar="ID", help="Turn this procedure (id from scan) into KIND.")
    ] = None,
    repo: RepoOption = Path("."),
    apply: Annotated[bool, typer.Option("--apply", help="Write the files (default: show the diff only).")] = False,
    plan_hash: Annotated[
        str | None, typer.Option("--plan-hash", help="With --apply: write only if the plan still has this hash.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="With --apply: write even with validation errors.")] = False,
    on_conflict: Annotated[
        Conflict | None,
        typer.Option("--on-conflict", help="When the name or file exists: refuse (default) or rename."),
    ] = None,
    skip_unsafe: Annotated[
        bool,
        typer.Option("--skip-unsafe", help="From a procedure: keep commands with shell operators, and steps whose "
                     "text cannot be copied, as manual steps."),
    ] = False,
    output_format: FormatOption = TextFormat.text,
    quiet: QuietOption = False,
) -> None:
    """Generate automation that fits the repository, validate it, and show the diff. Writes only with --apply."""
    from ..automation import apply_automation, generate_automation
    from ..errors import OrchestratorError

    with LiveProgress(wanted(None, quiet)) as live:
        try:
            kind_name, data = _spec_input(kind.value, spec, from_opportunity, from_procedure)
            data = _with_options(data, on_conflict=on_conflict.value if on_conflict else None,
                                 skip_unsafe=skip_unsafe)
            live.hooks.stage("scanning the repository, generating and validating")
            result = generate_automation(repo, kind_name, data, opportunity=from_opportunity)
        except OrchestratorError as exc:
            live.close()
            fail(str(exc))
    if output_format is TextFormat.text:
        _print_generation(result, kind.value, apply)
    applied = None
    if apply and plan_hash is None:
        # Only a reviewed plan is written: a person confirms the diff above at a terminal; a script passes the
        # hash it reviewed. Never write straight away because --apply was typed.
        if not (sys.stdin.isatty() and sys.stdout.isatty()) or output_format is TextFormat.json:
            fail(
                "--apply without --plan-hash writes nothing when no person can confirm the diff (not a terminal). "
                f"Review the diff, then rerun with --apply --plan-hash {result.plan.plan_hash}"
            )
        changes = len(result.plan.changes)
        # The repository's path is the prompt's own text: typer.confirm sends it as it is, so shown here.
        if not typer.confirm(printable(f"Write these {changes} change(s) to {repo}?"), default=False):
            echo("Nothing written.")
            raise typer.Exit(0 if result.valid else 1)
    if apply:
        try:
            applied = apply_automation(repo, kind_name, data, plan_hash or result.plan.plan_hash, force=force,
                                       opportunity=from_opportunity)
        except OrchestratorError as exc:
            if output_format is TextFormat.json:
                echo(json.dumps({"generation": result.model_dump(mode="json")}, indent=2))
            fail(str(exc))
    if output_format is TextFormat.json:
        payload: dict[str, Any] = {"generation": result.model_dump(mode="json")}
        if applied is not None:
            payload["applied"] = applied.model_dump(mode="json")
        echo(json.dumps(payload, indent=2))
    elif applied is not None:
        echo(f"Applied {len(applied.applied)} change(s); audit log: {applied.audit_log}"
                   + (" (forced past validation errors)" if applied.forced else ""))
    if not result.valid and applied is None:
        raise typer.Exit(1)


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH", help="Files or quoted globs to validate (relative to --repo, or absolute)."),
    ],
    repo: RepoOption = Path("."),
    kind: Annotated[FileKind | None, typer.Option("--kind", help="The file kind (default: from the name).")] = None,
    fail_on: Annotated[FailOn, typer.Option(help="Exit 1 when a finding of this severity (or worse) is found.")] = (
        FailOn.error
    ),
    output_format: FormatOption = TextFormat.text,
    quiet: QuietOption = False,
) -> None:
    """Validate existing workflows, CI files, Makefiles, justfiles, scripts, crontabs, systemd units, hooks."""
    from ..automation import validate_automation
    from ..errors import OrchestratorError
    from ..repo import Workspace

    try:
        workspace = Workspace(repo)
        rels = [workspace.relative(path) for path in _expand(paths, repo)]
        with LiveProgress(wanted(None, quiet)) as live:  # the validators take seconds a file (zizmor, make -n)
            live.hooks.stage(f"validating {len(rels)} file(s)")
            result = validate_automation(repo, rels, kind=kind.value if kind else None)
    except OrchestratorError as exc:
        fail(str(exc))
    if output_format is TextFormat.json:
        echo(result.model_dump_json(indent=2))
    else:
        for report in result.reports:
            _print_report(report)
        echo(f"{len(result.reports)} file(s): {result.errors} error(s), {result.warnings} warning(s)")
    if _gate(result, fail_on):
        raise typer.Exit(1)


_GLOB = re.compile(r"[*?\[]")


def _expand(paths: list[Path], repo: Path) -> list[Path]:
    """Each path as given, or, for a quoted glob that names no file, the repository's files it matches (relative to
    --repo, so `validate '.github/workflows/*.yml' -C repo` reads the repository's workflows, not the working
    directory's). Every match is still confined by Workspace.relative."""
    from ..errors import InputError

    out: list[Path] = []
    for path in paths:
        text = str(path)
        if not _GLOB.search(text) or path.exists() or (repo / path).exists():
            out.append(path)
            continue
        matches = sorted(glob.glob(text, root_dir=repo, recursive=True)) if not path.is_absolute() else sorted(
            glob.glob(text, recursive=True))
        if not matches:
            raise InputError(f"no file in the repository '{repo}' matches '{text}'")
        out.extend(Path(m) for m in matches)
    return out


def undo(
    repo: RepoOption = Path("."),
    last: Annotated[int, typer.Option("--last", "-n", help="How many applied changes to reverse.", min=1)] = 1,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be reversed; change nothing.")] = False,
    output_format: FormatOption = TextFormat.text,
) -> None:
    """Reverse the newest changes `generate --apply` made (from .orchestrator-kit/audit.jsonl)."""
    from ..automation import undo_automation
    from ..errors import OrchestratorError

    try:
        result = undo_automation(repo, last, dry_run=dry_run)
    except OrchestratorError as exc:
        fail(str(exc))
    if output_format is TextFormat.json:
        echo(result.model_dump_json(indent=2))
        return
    verb = "Would reverse" if dry_run else "Reversed"
    for change in result.undone:
        echo(f"{verb}: {change.path} ({change.action}; audit entry {change.entry})")


# ------------------------------------------------------------------ helpers


def _spec_input(kind: str, spec: Path | None, opportunity: str | None, procedure: str | None) -> tuple[str, Any]:
    from ..errors import InputError

    given = [x for x in (spec, opportunity, procedure) if x is not None]
    if kind == "procedure" and not given:
        raise InputError("KIND procedure needs --from-procedure ID (the id scan shows) or a --spec naming it.")
    if len(given) != 1:
        raise InputError("Give exactly one of --spec FILE, --from-opportunity ID and --from-procedure ID.")
    if procedure is not None:
        if kind == "procedure":
            return "procedure", {"procedure": procedure}
        if kind not in ("shell-script", "github-workflow"):
            raise InputError("--from-procedure makes a shell-script or a github-workflow (or KIND procedure: a "
                             "shell-script).")
        return "procedure", {"procedure": procedure, "target": kind}
    if spec is None:
        return kind, None
    return kind, _read_spec(spec)


def _with_options(data: Any, *, on_conflict: str | None, skip_unsafe: bool) -> Any:
    """The spec with the CLI's --on-conflict and --skip-unsafe set (they override the spec's own fields)."""
    if on_conflict is None and not skip_unsafe:
        return data
    from ..errors import InputError

    if data is None:
        raise InputError("--on-conflict and --skip-unsafe need a spec (--spec or --from-procedure).")
    if not isinstance(data, dict):
        raise InputError("the spec is not a mapping, so --on-conflict and --skip-unsafe cannot be added to it.")
    out = dict(data)
    if on_conflict is not None:
        out["on_conflict"] = on_conflict
    if skip_unsafe:
        if out.get("kind", "procedure") != "procedure" and "procedure" not in out:
            raise InputError("--skip-unsafe applies to --from-procedure (a runbook turned into automation).")
        out["skip_unsafe"] = True
    return out


def _read_spec(path: Path) -> Any:
    from ..errors import InputError
    from ..yamlsrc import YamlError, load_yaml

    try:
        if str(path) == "-":
            raw = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1)
        else:
            with path.open("rb") as fh:
                raw = fh.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise InputError(f"Cannot read the spec '{path}': {exc.strerror or exc}") from None
    if len(raw) > MAX_SPEC_BYTES:
        raise InputError(f"The spec '{path}' is over {MAX_SPEC_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"The spec '{path}' is not UTF-8 text.") from None
    try:
        return load_yaml(text)  # JSON is YAML too
    except YamlError as exc:
        raise InputError(f"The spec '{path}' is not valid YAML or JSON: {exc}") from None


def _gate(result: ValidationResult, fail_on: FailOn) -> bool:
    if fail_on is FailOn.never:
        return False
    if fail_on is FailOn.warning:
        return result.errors > 0 or result.warnings > 0
    return result.errors > 0


LINES_SHOWN = 8  # lines listed for a finding repeated in one file


def _print_report(report: ValidationReport) -> None:
    status = "ok" if report.ok else "FAILED"
    echo(f"{report.path} ({report.kind}): {status}; checked: {', '.join(report.checked) or 'nothing'}")
    for skipped in report.skipped:
        echo(f"  skipped {skipped.validator}: {skipped.reason}")
    # one line per distinct finding of a file, with every line it occurs on (shellcheck repeats SC2086 per line)
    same: dict[tuple[str, str, str, str | None, str], list[int]] = {}
    for finding in report.findings:
        lines = same.setdefault((finding.severity, finding.path, finding.validator, finding.rule, finding.message), [])
        if finding.line:
            lines.append(finding.line)  # a line twice (two columns) is listed once below
    for (severity, path, validator, rule_id, message), all_lines in same.items():
        lines = list(dict.fromkeys(all_lines))
        where = path + (":" + ",".join(map(str, lines[:LINES_SHOWN])) if lines else "")
        more = f" (+{len(lines) - LINES_SHOWN} more)" if len(lines) > LINES_SHOWN else ""
        rule = f" [{rule_id}]" if rule_id else ""
        echo(f"  {severity}: {where}{more}: {validator}{rule}: {message}")
    if report.findings_total > len(report.findings):
        echo(f"  ... {report.findings_total - len(report.findings)} more finding(s)")


def _print_generation(result: GenerationResult, kind: str, applied: bool) -> None:
    for note in result.notes:
        echo(f"note: {note}")
    for report in result.validation:
        _print_report(report)
    echo("")
    echo(result.plan.diff, nl=False)
    echo("")
    echo(f"plan hash: {result.plan.plan_hash}")
    if not applied:
        hint = "" if result.valid else " (validation errors: add --force to write anyway)"
        echo(f"Nothing written. To write exactly this: orchestrator-kit generate {kind} ... --apply "
                   f"--plan-hash {result.plan.plan_hash}{hint}")
