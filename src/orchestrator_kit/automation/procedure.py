"""Turn a ManualProcedure (a runbook section found by `scan`) into a ShellScriptSpec or a GitHubWorkflowSpec.

* each numbered step becomes a step; its commands are split with POSIX quoting (`split_command`), and a
  command with operators or expansions is refused, or with `skip_unsafe` kept as a manual instruction,
  never passed through; a step without commands stays a manual instruction;
* the example version the runbook uses most (`v1.4.0`) becomes the required `version` parameter wherever it
  appears, with a pattern in the same style (`v` prefix or not);
* known commands get idempotence checks: `git tag NAME` is skipped when the tag exists, `git commit` when
  nothing changed, `git checkout -b NAME` when the branch exists;
* for a workflow: `git push` grants `contents: write` (and keeps the checkout's credentials), a push to
  ghcr.io grants `packages: write`, a deploy with `ENV=<name>` runs in that GitHub environment.
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import ValidationError

from ..errors import InputError
from ..models import ManualProcedure
from .context import RepoContext
from .github import slug
from .shellsafe import UnsafeCommand, split_command
from .spec import (
    CommandSpec,
    GitHubJobSpec,
    GitHubWorkflowSpec,
    ParamSpec,
    ProcedureSpec,
    ShellScriptSpec,
    StepSpec,
    TemplateArg,
    TriggerSpec,
)

_VERSION = re.compile(r"(?<![\w.])v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?(?![\w.])")
_ENV_WORD = re.compile(r"^(?:ENV|ENVIRONMENT|env|environment)=([A-Za-z0-9_-]+)$")
# A redaction mark (`[REDACTED:JSON Web Token]`) in a name or an instruction reads as "a secret" there: the
# generated file must never carry the mark, which `check_text` refuses, nor the secret.
_REDACTION = re.compile(r"\[REDACTED:[^\]]*\]")


def find_procedure(ctx: RepoContext, procedure_id: str) -> ManualProcedure:
    for procedure in ctx.inventory.procedures:
        if procedure.id == procedure_id:
            return procedure
    known = [p.id for p in ctx.inventory.procedures]
    hint = ("; procedures found: " + ", ".join(known[:10]) + (" ..." if len(known) > 10 else "")) if known else (
        "; the scan found no manual procedures")
    raise InputError(f"No procedure {procedure_id!r} in this repository{hint}.")


def spec_from_procedure(
    ctx: RepoContext, spec: ProcedureSpec
) -> tuple[ShellScriptSpec | GitHubWorkflowSpec, list[str]]:
    """The script or workflow spec for the procedure, and notes for the reviewer."""
    procedure = find_procedure(ctx, spec.procedure)
    notes: list[str] = [f"From the procedure '{procedure.title}' ({procedure.evidence})."]
    texts = [c.text for step in procedure.steps for c in step.commands]
    version = _example_version(texts) if spec.version_param else None
    params: list[ParamSpec] = []
    if version:
        pattern = (r"^v" if version.startswith("v") else "^") + r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$"
        params.append(ParamSpec(name="version", description=f"The version (the runbook's example: {version})",
                                required=True, pattern=pattern))
        notes.append(f"The runbook's example version '{version}' became the required parameter 'version'.")
    steps: list[StepSpec] = []
    unsafe: list[str] = []
    for index, step in enumerate(procedure.steps, start=1):
        name = _step_name(step.text, index)
        commands: list[CommandSpec] = []
        manual: list[str] = []
        refused = len(unsafe)
        for command in step.commands:
            try:
                env, argv = split_command(command.text)
                commands.append(_command(env, argv, version, str(command.evidence)))
            except (UnsafeCommand, ValueError) as exc:
                # ValueError: CommandSpec refused a word (a redacted secret, a CI expression): same remedy.
                reason = str(exc).splitlines()[-1] if isinstance(exc, ValidationError) else str(exc)
                if not spec.skip_unsafe:
                    unsafe.append(f"{command.evidence}: {reason}")
                    continue
                manual.append(f"run by hand: {_one_line(command.text)}")
                notes.append(f"{command.evidence}: kept as a manual step ({reason})")
        for ref in step.automated_by:
            how = "runs" if ref.match == "invokes" else "is already automated by"
            notes.append(f"Step {index} {how} {ref.ref} ({ref.evidence}).")
        if len(unsafe) > refused:
            continue  # refused below, with every refused command listed
        # Markdown code marks are dropped from instructions: `main` reads as main in a log line.
        manual_text = "; ".join(manual) if manual else (None if commands else _one_line(step.text.replace("`", "")))
        try:
            steps.append(StepSpec(name=name, commands=commands, manual=manual_text, source=str(step.evidence),
                                  only_if=_condition(step.text) if commands else None))
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise InputError(f"Step {index} of the procedure ({step.evidence}) cannot be converted: {reason}. "
                             "Remedy: write a spec by hand (kind shell-script or github-workflow) from "
                             "get_manual_procedure, leaving this step as a `manual` instruction.") from None
    if unsafe:
        raise InputError(
            "These runbook commands use shell operators, expansions or redacted secrets and cannot be converted "
            f"safely:\n  {chr(10).join('  ' + u for u in unsafe).strip()}\nRemedy: keep them as manual steps with "
            f"the spec {{\"procedure\": \"{spec.procedure}\", \"target\": \"{spec.target}\", \"skip_unsafe\": true}} "
            "(kind 'procedure'; CLI: --skip-unsafe), or split them in the runbook into simple commands.")
    name = spec.name or slug(procedure.title)
    description = f"{procedure.title}, from {procedure.path}"
    if spec.target == "shell-script":
        return ShellScriptSpec(name=name, description=description, params=params, steps=steps,
                               on_conflict=spec.on_conflict), notes
    return _workflow(name, procedure, params, steps, spec, notes), notes


def _workflow(name: str, procedure: ManualProcedure, params: list[ParamSpec], steps: list[StepSpec],
              spec: ProcedureSpec, notes: list[str]) -> GitHubWorkflowSpec:
    words = [w if isinstance(w, str) else w.template for s in steps for c in s.commands for w in c.argv]
    joined = [" ".join(w if isinstance(w, str) else w.template for w in c.argv) for s in steps for c in s.commands]
    permissions: dict[str, str] = {"contents": "read"}
    push = any(j.startswith("git push") for j in joined)
    if push or any(j.startswith(("gh release", "git tag")) for j in joined):
        permissions["contents"] = "write"
    if any("ghcr.io" in j for j in joined) or any(j.startswith(("make docker-push", "docker push")) for j in joined):
        permissions["packages"] = "write"
    environment = None
    if any("deploy" in w for w in words):
        environment = next((m.group(1) for w in words if (m := _ENV_WORD.match(w))), None)
    if environment:
        notes.append(f"The deploy step runs in the GitHub environment '{environment}'.")
    job_id = name if re.match(r"^[A-Za-z_]", name) else f"job-{name}"
    job = GitHubJobSpec(
        id=job_id[:100], name=procedure.title[:100], steps=steps, permissions=permissions,  # type: ignore[arg-type]
        environment=environment, push=push, fetch_depth=0 if push else 1, timeout_minutes=30,
    )
    return GitHubWorkflowSpec(name=procedure.title[:100], file=f".github/workflows/{name}.yml",
                              triggers=TriggerSpec(workflow_dispatch=True), params=params, jobs=[job],
                              on_conflict=spec.on_conflict)


def _example_version(texts: list[str]) -> str | None:
    found = Counter(m.group(0) for text in texts for m in _VERSION.finditer(text))
    return found.most_common(1)[0][0] if found else None


def _unredacted(text: str) -> str:
    return _REDACTION.sub("<secret>", text)


def _one_line(text: str) -> str:
    """A manual instruction is one line (a heredoc keeps its first line and says how many follow), <= 900 chars."""
    lines = _unredacted(text).strip().splitlines() or [""]
    line = lines[0] + (f" ... ({len(lines) - 1} more lines, see the runbook)" if len(lines) > 1 else "")
    return line if len(line) <= 900 else line[:897] + "..."


def _step_name(text: str, index: int) -> str:
    text = _unredacted(text)
    name = " ".join(text.replace("`", "").split()).rstrip(":")
    return (name[:150] + "...") if len(name) > 150 else (name or f"Step {index}")


def _param(word: str, version: str | None) -> str | TemplateArg:
    if not version or version not in word:
        return word
    escaped = word.replace("{", "{{").replace("}", "}}")
    return TemplateArg(template=escaped.replace(version, "{version}"))


def _command(env: dict[str, str], argv: list[str], version: str | None, source: str) -> CommandSpec:
    words = [_param(w, version) for w in argv]
    unless = _unless(argv, version)
    return CommandSpec(argv=words, env={k: _param(v, version) for k, v in env.items()}, unless=unless,
                       source=source)


def _unless(argv: list[str], version: str | None) -> list[str | TemplateArg] | None:
    if len(argv) < 2 or argv[0] != "git":
        return None
    if argv[1] == "tag":
        name = _first_operand(argv[2:], {"-m", "-F", "-u", "--message", "--file", "--local-user"})
        if name and not name.startswith("-"):
            return ["git", "rev-parse", "-q", "--verify", _param(f"refs/tags/{name}", version)]
    if argv[1] == "commit":
        return ["git", "diff", "--quiet", "HEAD", "--"]
    if argv[1] in ("checkout", "switch") and len(argv) >= 4 and argv[2] in ("-b", "-c"):
        return ["git", "rev-parse", "-q", "--verify", _param(f"refs/heads/{argv[3]}", version)]
    return None


def _first_operand(args: list[str], with_value: set[str]) -> str | None:
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in with_value:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg
    return None


_CONDITION = re.compile(r"\bif (?:the |a |an )?(.{3,200}?)[:.]?\s*$", re.IGNORECASE)


def _condition(text: str) -> str | None:
    """The condition of a step whose first line ends with `if ...` ("Build and push the image manually if the
    release workflow failed:" gives "release workflow failed"), else None."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    match = _CONDITION.search(first.replace("`", ""))
    return match.group(1).strip() if match else None
