"""Shell script generator: a bash script a reviewer can trust and an operator can rerun.

* strict mode (`set -Eeuo pipefail`) and an ERR trap that logs the failing line;
* `--help`, `--dry-run` (prints every command, quoted, and runs none of them, not even the checks),
  one `--name VALUE` flag per parameter (also read from the environment variable NAME), required
  parameters and patterns checked before the first step;
* one function per step; a command with an `unless` check is skipped when the check succeeds, so a rerun
  after a failure goes past the finished steps;
* a step the runbook does only `if ...` (`only_if`) runs only with its `--run-step-N` flag (or RUN_STEP_N=1), never
  by default; a manual step waits for a person to type `done` (or `--yes`), never silently skipped;
* timestamped log lines on stderr; the script runs from the repository root wherever it is called from.

Every word of every command is quoted with `shlex.quote`; parameters are read as `"${NAME}"`.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ..errors import InputError
from .artifact import HEADER, Artifact, Generated
from .context import RepoContext, unique_path
from .credentials import Credential, needs
from .shellsafe import env_name, quote_word, render_command
from .spec import ParamSpec, ShellScriptSpec

_RESERVED = {"dry_run", "help", "yes", "n", "h", "y"}


def generate_shell_script(ctx: RepoContext, spec: ShellScriptSpec) -> Generated:
    """The script (see the module docstring); the variables that choose where its tools act (KUBECONFIG, an AWS
    profile or key: `credentials`) are checked before the first step, so it never acts on a default by accident."""
    notes: list[str] = []
    path, note = unique_path(ctx, spec.path or f"scripts/{spec.name}.sh", spec.on_conflict, "Script")
    if note:
        notes.append(note)
    clash = _RESERVED & {p.name for p in spec.params}
    if clash:
        raise InputError(f"Parameter names {sorted(clash)} are reserved by the script's own options.")
    guarded = {f"run_step_{n}" for n in _conditional(spec)}
    if guarded & {p.name for p in spec.params}:
        raise InputError(f"Parameter names {sorted(guarded & {p.name for p in spec.params})} are reserved by the "
                         "script's --run-step-N flags of conditional steps; rename the parameters.")
    checks = _credential_checks(ctx, spec, notes)
    content = render_script(spec, path, checks)
    effective = spec.model_copy(update={"path": path})
    return Generated([Artifact(path, "shell", "create", content, content, mode=0o755)], effective, notes)


def _credential_checks(ctx: RepoContext, spec: ShellScriptSpec, notes: list[str]) -> list[str]:
    """Lines that stop the script before step 1 when none of the variables that choose a tool's target is set
    (a dry run only warns): the message names the variables, what they are for and the steps that need them."""
    users: dict[str, list[int]] = {}
    chosen: dict[str, Credential] = {}
    for index, step in enumerate(spec.steps, start=1):
        found = needs(ctx, [[w if isinstance(w, str) else w.template for w in c.argv] for c in step.commands])
        for credential in found.credentials:
            if credential.script_any:
                users.setdefault(credential.key, []).append(index)
                chosen.setdefault(credential.key, credential)
    lines: list[str] = []
    for key, credential in chosen.items():
        names = credential.script_any
        steps = ", ".join(str(n) for n in users[key])
        message = (f"{' or '.join(names)} is not set: step(s) {steps} need {credential.purpose}; set it so the "
                   "script never acts on a default target")
        test = " && ".join(f'[ -z "${{{name}:-}}" ]' for name in names)
        lines += [f"if {test}; then",
                  f'  if [ "$DRY_RUN" -eq 1 ]; then log {quote_word("warning: " + message)}; '
                  f"else die {quote_word(message)}; fi",
                  "fi"]
        notes.append(f"The script stops before step 1 unless {' or '.join(names)} is set ({credential.purpose}).")
    return [*lines, ""] if lines else []


def render_script(spec: ShellScriptSpec, path: str, checks: list[str] | None = None) -> str:
    depth = len(PurePosixPath(path).parts) - 1
    root = '"$(dirname -- "${BASH_SOURCE[0]}")"' + ("/.." * depth if depth else "")
    params = [p.name for p in spec.params]
    script_name = PurePosixPath(path).name
    out: list[str] = ["#!/usr/bin/env bash"]
    out.append(f"# {spec.name}: {spec.description}".rstrip(": ") if spec.description else f"# {spec.name}")
    out.append(f"# {HEADER}. Run with --help for usage, --dry-run to see every command first.")
    out.append("set -Eeuo pipefail")
    out.append("")
    out.append("SCRIPT_NAME=${0##*/}")
    out.append("DRY_RUN=0")
    out.append("ASSUME_DONE=0")
    for index in _conditional(spec):
        out.append(f"RUN_STEP_{index}=${{RUN_STEP_{index}:-0}}")
    for p in spec.params:
        out.append(f"{env_name(p.name)}=${{{env_name(p.name)}-}}")
    out.append("")
    out.extend(_usage(spec, script_name, _conditional(spec)))
    out.extend(_HELPERS)
    out.extend(_parse_args(spec.params, _conditional(spec)))
    out.extend(_check_params(spec.params))
    out.extend(checks or [])
    out.append(f"cd {root}")
    out.append("")
    total = len(spec.steps)
    for index, step in enumerate(spec.steps, start=1):
        out.append(f"step_{index}() {{")
        where = f" ({step.source})" if step.source else ""
        out.append(f"  # {step.name}{where}")
        if step.only_if:  # the runbook does this step only under a condition a person judges: opt in, never default
            out.append(f'  if [ "$RUN_STEP_{index}" != 1 ]; then')
            skip = f"skip step {index}/{total}: {step.name} (only if {step.only_if}; pass --run-step-{index} to run it)"
            out.append(f"    log {quote_word(skip)}")
            out.append("    return 0")
            out.append("  fi")
        out.append(f"  log {quote_word(f'step {index}/{total}: {step.name}')}")
        for command in step.commands:
            text = _run(render_command(command.argv, params, command.env))
            if command.unless is None:
                out.append(f"  {text}")
            else:
                out.append(f"  if ! already_done {render_command(command.unless, params)}; then")
                out.append(f"    {text}")
                out.append("  fi")
        if step.manual:
            out.append(f"  manual {quote_word(step.manual)}")
        out.append("}")
        out.append("")
    out.append("main() {")
    out.extend(f"  step_{index}" for index in range(1, total + 1))
    out.append('  log "done"')
    out.append("}")
    out.append("")
    out.append('main "$@"')
    return "\n".join(out) + "\n"


def _run(line: str) -> str:
    # `run` prints or runs its arguments; leading VAR=value words go through `env` so they stay assignments.
    words = line.split(" ", 1)
    if "=" in words[0] and not words[0].startswith("'"):
        return f"run env {line}"
    return f"run {line}"


def _conditional(spec: ShellScriptSpec) -> list[int]:
    """The 1-based numbers of the steps the runbook does only under a condition (`only_if`)."""
    return [index for index, step in enumerate(spec.steps, start=1) if step.only_if]


def _usage(spec: ShellScriptSpec, script_name: str, conditional: list[int]) -> list[str]:
    flags = " ".join(
        f"--{p.name.replace('_', '-')} VALUE" if p.required and p.default is None
        else f"[--{p.name.replace('_', '-')} VALUE]" for p in spec.params
    )
    lines = ["usage() {", "  cat <<'USAGE'", f"Usage: {script_name} [--dry-run] {flags}".rstrip(), ""]
    if spec.description:
        lines += [spec.description, ""]
    lines.append("Options:")
    for p in spec.params:
        extra = []
        if p.required and p.default is None:
            extra.append("required")
        if p.default is not None:
            extra.append(f"default {p.default}")
        if p.pattern:
            extra.append(f"must match {p.pattern}")
        suffix = f" ({'; '.join(extra)})" if extra else ""
        lines.append(f"  --{p.name.replace('_', '-')} VALUE  {p.description or p.name}{suffix}")
        lines.append(f"      also read from the environment variable {env_name(p.name)}")
    for index in conditional:
        condition = spec.steps[index - 1].only_if or ""
        lines.append(f"  --run-step-{index}  Also run step {index}, done only if {condition}")
        lines.append(f"      also read from the environment variable RUN_STEP_{index}=1")
    lines += [
        "  -n, --dry-run  Print each command (quoted) instead of running it; checks are not run either.",
        "  -y, --yes      Treat the manual steps as done (do them first).",
        "  -h, --help     Show this help.",
        "USAGE",
        "}",
        "",
    ]
    # A heredoc body ends at a line that is exactly USAGE; spec text never contains a newline (checked).
    return lines


_HELPERS = [
    "log() {",
    "  printf '%s %s: %s\\n' \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"$SCRIPT_NAME\" \"$*\" >&2",
    "}",
    "",
    "die() {",
    '  log "error: $*"',
    "  exit 1",
    "}",
    "",
    "trap 'log \"failed at line $LINENO\"' ERR",
    "",
    "# Run a command, or only print it (quoted) in a dry run.",
    "run() {",
    '  if [ "$DRY_RUN" -eq 1 ]; then',
    "    log \"dry-run:$(printf ' %q' \"$@\")\"",
    "    return 0",
    "  fi",
    "  log \"run:$(printf ' %q' \"$@\")\"",
    '  "$@"',
    "}",
    "",
    "# An idempotence check: succeeds (and the command after it is skipped) when the work is already done.",
    "# A dry run does not run it.",
    "already_done() {",
    '  if [ "$DRY_RUN" -eq 1 ]; then',
    "    log \"dry-run: would check:$(printf ' %q' \"$@\")\"",
    "    return 1",
    "  fi",
    '  if "$@" >/dev/null 2>&1; then',
    "    log \"skip, already done:$(printf ' %q' \"$@\")\"",
    "    return 0",
    "  fi",
    "  return 1",
    "}",
    "",
    "# A step the runbook leaves to a person: the script waits until the person says it is done",
    "# (or goes on with --yes, for someone who did it beforehand).",
    "manual() {",
    '  log "MANUAL STEP: $*"',
    '  if [ "$DRY_RUN" -eq 1 ] || [ "$ASSUME_DONE" -eq 1 ]; then',
    "    return 0",
    "  fi",
    "  if [ ! -t 0 ]; then",
    '    die "this step needs a person: run the script in a terminal, or pass --yes once it is done"',
    "  fi",
    "  local answer=''",
    "  while [ \"$answer\" != 'done' ]; do",
    "    printf 'Type done when finished: ' >&2",
    "    read -r answer || die \"no answer; stopping\"",
    "  done",
    "}",
    "",
]


def _parse_args(params: list[ParamSpec], conditional: list[int]) -> list[str]:
    lines = ['while [ "$#" -gt 0 ]; do', '  case "$1" in',
             "    -n|--dry-run) DRY_RUN=1 ;;", "    -y|--yes) ASSUME_DONE=1 ;;", "    -h|--help) usage; exit 0 ;;"]
    lines += [f"    --run-step-{index}) RUN_STEP_{index}=1 ;;" for index in conditional]
    for p in params:
        flag, var = f"--{p.name.replace('_', '-')}", env_name(p.name)
        lines.append(f'    {flag}) [ "$#" -ge 2 ] || die "{flag} needs a value"; {var}=$2; shift ;;')
        lines.append(f"    {flag}=*) {var}=${{1#*=}} ;;")
    lines += ['    *) usage >&2; die "unknown argument: $1" ;;', "  esac", "  shift", "done", ""]
    return lines


def _check_params(params: list[ParamSpec]) -> list[str]:
    lines: list[str] = []
    for p in params:
        var, flag = env_name(p.name), f"--{p.name.replace('_', '-')}"
        if p.default is not None:
            lines.append(f'if [ -z "${{{var}}}" ]; then {var}={quote_word(p.default)}; fi')
        if p.required:
            lines.append(f'[ -n "${{{var}}}" ] || die "{flag} is required (see --help)"')
        if p.pattern:
            lines.append(f"{p.name}_pattern={quote_word(p.pattern)}")
            lines.append(f'if [ -n "${{{var}}}" ] && ! [[ ${var} =~ ${p.name}_pattern ]]; then')
            lines.append(f'  die "{flag} must match ${p.name}_pattern"')
            lines.append("fi")
        lines.append(f"export {var}")
    if lines:
        lines.append("")
    return lines
