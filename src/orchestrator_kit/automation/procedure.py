"""Turn a ManualProcedure (a runbook section found by `scan`) into a ShellScriptSpec or a GitHubWorkflowSpec.

* each numbered step becomes a step; its commands are split with POSIX quoting (`split_command`), and a
  command with operators or expansions is refused, or with `skip_unsafe` kept as a manual instruction,
  never passed through; a step without commands stays a manual instruction;
* the example version the runbook uses most (`v1.4.0`) becomes the required `version` parameter wherever it
  appears, with a pattern in the same style (`v` prefix or not); other example versions (a hotfix's base tag)
  become `version_2`, `version_3`, so none stays hard-coded;
* known commands get idempotence checks: `git tag NAME` is skipped when the tag exists, `git commit` when
  nothing changed, `git checkout -b NAME` when the branch exists;
* for a workflow: `git push` grants `contents: write` (and keeps the checkout's credentials), a push to
  ghcr.io grants `packages: write`, a deploy with `ENV=<name>` runs in that GitHub environment.
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import ValidationError

from ..errors import InputError, sentence
from ..models import ManualProcedure
from .context import RepoContext
from .credentials import deploy_environment, needs
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
    skipped: set[int] = set()
    converted = _convert(ctx, spec, procedure, frozenset(), skipped)
    if skipped:
        # Again without the skipped steps' commands: nothing of a skipped step may reach the file, and an example
        # version in one became a required parameter that described it ('the runbook's example: v1.2.3-...').
        converted = _convert(ctx, spec, procedure, frozenset(skipped), set())
    return converted


def _convert(ctx: RepoContext, spec: ProcedureSpec, procedure: ManualProcedure, leave_out: frozenset[int],
             skipped: set[int]) -> tuple[ShellScriptSpec | GitHubWorkflowSpec, list[str]]:
    """spec_from_procedure's conversion; example versions are looked for in the steps not in `leave_out` (numbers
    from 1), and the steps skipped for their text (skip_unsafe) are added to `skipped`."""
    notes: list[str] = [f"From the procedure '{' › '.join(procedure.heading_path) or procedure.title}' "
                        f"({procedure.evidence})."]
    texts = [c.text for index, step in enumerate(procedure.steps, start=1) if index not in leave_out
             for c in step.commands]
    version = _example_versions(texts) if spec.version_param else {}
    params: list[ParamSpec] = []
    for example, param in version.items():
        pattern = (r"^v" if example.startswith("v") else "^") + r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$"
        what = "The version" if param == "version" else "Another version the runbook names"
        params.append(ParamSpec(name=param, description=f"{what} (the runbook's example: {example})",
                                required=True, pattern=pattern))
        notes.append(f"The runbook's example version '{example}' became the required parameter '{param}'.")
    steps: list[StepSpec] = []
    unsafe: list[str] = []
    remote: str | None = None  # the host of an interactive login in the step before: this step's commands run there
    for index, step in enumerate(procedure.steps, start=1):
        name = _step_name(step.text, index)
        parts: list[CommandSpec | str] = []  # in the runbook's order: commands, and instructions left to a person
        refused = len(unsafe)
        on_host, remote = remote, None
        if on_host is not None and step.commands:
            parts.append(f"on {on_host}: " + "; ".join(_one_line(c.text) for c in step.commands))
            notes.append(f"Step {index} ({step.evidence}) is a manual step: its commands run on {on_host}, where "
                         f"step {index - 1} logs in (an interactive ssh session is not scripted).")
        for command in step.commands if on_host is None else []:
            try:
                env, argv = split_command(command.text)
            except UnsafeCommand:
                argv = []
            host = _interactive_login(argv)
            if host is not None:
                remote = host
                parts.append(f"log in to {host} (an interactive ssh session) and do the next step there")
                notes.append(f"{command.evidence}: `{_one_line(command.text)}` opens an interactive session: kept as "
                             "a manual step.")
                continue
            try:
                env, argv = split_command(command.text)
                parts.append(_command(env, argv, version, str(command.evidence)))
            except (UnsafeCommand, ValueError) as exc:
                # ValueError: CommandSpec refused a word (a redacted secret, a CI expression): same remedy.
                # pydantic's str() ends with a "For further information visit <url>" line: its msg is the reason.
                reason = (exc.errors()[0]["msg"].removeprefix("Value error, ") if isinstance(exc, ValidationError)
                          else str(exc))
                if not spec.skip_unsafe:
                    unsafe.append(f"{command.evidence}: {reason}")
                    continue
                parts.append(f"run by hand: {_one_line(command.text)}")
                notes.append(f"{command.evidence}: kept as a manual step ({reason})")
        for ref in step.automated_by:
            how = "runs" if ref.match == "invokes" else "is already automated by"
            notes.append(f"Step {index} {how} {ref.ref} ({ref.evidence}).")
        if len(unsafe) > refused:
            continue  # refused below, with every refused command listed
        try:
            steps.extend(_step_specs(name, step.text, parts, str(step.evidence)))
        except ValidationError as exc:
            # The step's own text (its name or a hand instruction) cannot be written into a generated file: a CI
            # expression (`${{ }}`) that GitHub or GitLab would expand, or a control character.
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
            if not spec.skip_unsafe:
                raise InputError(f"Step {index} of the procedure ({step.evidence}) cannot be converted: "
                                 f"{sentence(reason)} Remedy: convert the rest and keep this step by hand with "
                                 "skip_unsafe (CLI: --skip-unsafe), or write a spec by hand (kind shell-script or "
                                 "github-workflow) from get_manual_procedure, leaving this step as a `manual` "
                                 "instruction.") from None
            # None of its text is copied: the step stays in its place as a pointer to the runbook, so the person
            # running the automation still stops there and does it by hand.
            steps.append(StepSpec(name=f"Step {index}", source=str(step.evidence),
                                  manual=f"do step {index} of {procedure.path} ({step.evidence}) by hand"))
            skipped.add(index)
            if remote is not None:  # the host it logs in to is its text too: the next step names the step instead
                remote = f"the host step {index} logs in to"
            notes.append(f"Step {index} ({step.evidence}) was skipped: its text cannot be copied into a generated "
                         f"file ({sentence(reason)}) It stays a manual step that points to the runbook.")
    if unsafe:
        raise InputError(
            "These runbook commands use shell operators, expansions or redacted secrets and cannot be converted "
            f"safely:\n  {chr(10).join('  ' + u for u in unsafe).strip()}\nRemedy: keep them as manual steps with "
            f"the spec {{\"procedure\": \"{spec.procedure}\", \"target\": \"{spec.target}\", \"skip_unsafe\": true}} "
            "(kind 'procedure'; CLI: --skip-unsafe), or split them in the runbook into simple commands.")
    title = procedure.title
    if title.strip().lower() in _GENERIC_TITLES and len(procedure.heading_path) > 1:
        title = procedure.heading_path[-2]  # "Restore the production database › Steps" is named by its parent
    name = spec.name or slug(title)
    description = f"{title}, from {procedure.path}"
    if len(description) > 500:  # a spec's texts hold 500 characters: cut the heading, keep the source if it fits
        source = f", from {procedure.path}"
        description = title[:497 - len(source)] + "..." + source if len(source) <= 400 else description[:497] + "..."
    if spec.target == "shell-script":
        return ShellScriptSpec(name=name, description=description, params=params, steps=steps,
                               on_conflict=spec.on_conflict), notes
    return _workflow(ctx, name, title, params, steps, spec, notes), notes


def _workflow(ctx: RepoContext, name: str, title: str, params: list[ParamSpec], steps: list[StepSpec],
              spec: ProcedureSpec, notes: list[str]) -> GitHubWorkflowSpec:
    environment = None
    found = needs(ctx, [[w if isinstance(w, str) else w.template for w in c.argv] for s in steps for c in s.commands])
    if found.deploys:
        environment, why, placeholder = deploy_environment(ctx, found)
        notes.append(f"Fill in: environment {environment} ({why}): the name of the GitHub environment this job "
                     "deploys to." if placeholder else f"The job runs in the GitHub environment '{environment}': "
                     f"{why}.")
    job_id = (name if re.match(r"^[A-Za-z_]", name) else f"job-{name}")[:95]
    # With an environment, a hand step that comes after automated ones opens a job of its own that waits for the
    # environment's approval: the person approves once it is done. Without one, it stays a required input.
    segments = _segments(steps) if environment else [steps]
    jobs: list[GitHubJobSpec] = []
    for number, segment in enumerate(segments, start=1):
        permissions, push = _permissions(segment)
        automated = any(s.commands for s in segment)
        jobs.append(GitHubJobSpec(
            id=job_id if number == 1 else f"{job_id}-{number}",
            name=title[:100] if len(segments) == 1 else f"{title[:85]} ({number}/{len(segments)})",
            needs=[] if number == 1 else [jobs[-1].id], steps=segment,
            permissions=permissions,  # type: ignore[arg-type]
            environment=environment, push=push, fetch_depth=0 if push else 1, timeout_minutes=30,
            setup_toolchain=automated, install=automated))
    joined = [" ".join(w if isinstance(w, str) else w.template for w in c.argv) for s in steps for c in s.commands]
    local = [j for j in joined if re.match(r"git (?:commit|tag|checkout -b|switch -c|cherry-pick|merge) ", j)]
    if local and not any(j.startswith("git push") for j in joined):
        notes.append(f"`{local[0]}` changes the runner's checkout, and no step pushes it: the change is lost when the "
                     "job ends. Add a `git push` step (and contents: write), or run this procedure as a script.")
    if len(segments) > 1:
        notes.append(f"The hand steps that come after automated ones wait for an approval of the environment "
                     f"'{environment}': jobs {', '.join(j.id for j in jobs[1:])} start only once a reviewer approves "
                     "(each checks that an approval was recorded, and fails if the environment has no required "
                     "reviewers). Each job checks out the repository afresh.")
    return GitHubWorkflowSpec(name=title[:100], file=f".github/workflows/{name}.yml",
                              triggers=TriggerSpec(workflow_dispatch=True), params=params, jobs=jobs,
                              on_conflict=spec.on_conflict)


def _permissions(steps: list[StepSpec]) -> tuple[dict[str, str], bool]:
    """The job permissions the steps' commands need, and whether they push (the checkout keeps its token)."""
    joined = [" ".join(w if isinstance(w, str) else w.template for w in c.argv) for s in steps for c in s.commands]
    permissions: dict[str, str] = {"contents": "read"}
    push = any(j.startswith("git push") for j in joined)
    if push or any(j.startswith(("gh release", "git tag")) for j in joined):
        permissions["contents"] = "write"
    if any("ghcr.io" in j for j in joined) or any(j.startswith(("make docker-push", "docker push")) for j in joined):
        permissions["packages"] = "write"
    return permissions, push


def _segments(steps: list[StepSpec]) -> list[list[StepSpec]]:
    """The steps cut before every hand step (no commands) that follows an automated step of the same segment."""
    segments: list[list[StepSpec]] = [[]]
    for step in steps:
        hand = not step.commands
        if hand and any(s.commands for s in segments[-1]) and segments[-1][-1].commands:
            segments.append([])
        segments[-1].append(step)
    return segments


_GENERIC_TITLES = {"steps", "procedure", "instructions", "how to", "howto", "usage", "process", "runbook"}
# ssh options that take a value (ssh(1)): the word after them is not the host.
_SSH_VALUE_OPTIONS = set("BbcDEeFIiJLlmOoPpQRSWw")


def _interactive_login(argv: list[str]) -> str | None:
    """The host of `ssh [options] host` with no remote command (an interactive session), else None."""
    if not argv or argv[0] != "ssh":
        return None
    operands: list[str] = []
    skip = False
    for word in argv[1:]:
        if skip:
            skip = False
        elif word.startswith("-") and len(word) > 1 and not operands:
            skip = word[-1] in _SSH_VALUE_OPTIONS and len(word) == 2
        else:
            operands.append(word)
    return operands[0] if len(operands) == 1 else None


def _step_specs(name: str, text: str, parts: list[CommandSpec | str], source: str) -> list[StepSpec]:
    """One StepSpec for the runbook step, or one per run of commands and of hand instructions when a hand
    instruction comes before a command (a StepSpec runs its commands first, so the order would change)."""
    condition = _condition(text)
    if not parts:  # Markdown code marks are dropped from instructions: `main` reads as main in a log line.
        return [StepSpec(name=name, manual=_one_line(text.replace("`", "")), source=source)]
    groups: list[list[CommandSpec | str]] = []
    for part in parts:
        if groups and isinstance(groups[-1][0], str) == isinstance(part, str):
            groups[-1].append(part)
        else:
            groups.append([part])
    if len(groups) == 2 and isinstance(groups[1][0], str):
        groups = [groups[0] + groups[1]]  # commands, then instructions: one step keeps that order
    specs = []
    for number, group in enumerate(groups, start=1):
        commands = [p for p in group if isinstance(p, CommandSpec)]
        manual = "; ".join(p for p in group if isinstance(p, str)) or None
        label = name if len(groups) == 1 else f"{name[:140]} ({number}/{len(groups)})"
        specs.append(StepSpec(name=label, commands=commands, manual=manual, source=source,
                              only_if=condition if commands else None))
    return specs


MAX_VERSION_PARAMS = 3


def _example_versions(texts: list[str]) -> dict[str, str]:
    """example version -> parameter: the most used one is `version`, the next ones (a hotfix's base tag)
    `version_2`, `version_3`, so no example stays hard-coded beside a parameter (at most MAX_VERSION_PARAMS)."""
    found = Counter(m.group(0) for text in texts for m in _VERSION.finditer(text))
    ordered = [example for example, _ in found.most_common(MAX_VERSION_PARAMS)]
    return {example: "version" if n == 1 else f"version_{n}" for n, example in enumerate(ordered, start=1)}


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


def _param(word: str, version: dict[str, str]) -> str | TemplateArg:
    """The word with each example version in it replaced by its parameter (a template), or the word itself."""
    hits = [example for example in version if re.search(rf"(?<![\w.]){re.escape(example)}(?![\w.])", word)]
    if not hits:
        return word
    template = word.replace("{", "{{").replace("}", "}}")
    for example in sorted(hits, key=len, reverse=True):
        template = re.sub(rf"(?<![\w.]){re.escape(example)}(?![\w.])", "{" + version[example] + "}", template)
    return TemplateArg(template=template)


def _command(env: dict[str, str], argv: list[str], version: dict[str, str], source: str) -> CommandSpec:
    words = [_param(w, version) for w in argv]
    unless = _unless(argv, version)
    return CommandSpec(argv=words, env={k: _param(v, version) for k, v in env.items()}, unless=unless,
                       source=source)


def _unless(argv: list[str], version: dict[str, str]) -> list[str | TemplateArg] | None:
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
