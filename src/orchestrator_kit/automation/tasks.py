"""Makefile target and justfile recipe generators: appended to the repository's file, never over a name that
is already there (refused, or renamed with `on_conflict: rename`), prerequisites checked to exist.

Quoting: each command is shell text built from quoted words (`shellsafe`); make then doubles every `$`
(make expands `$` before the shell sees the line) and just doubles every `{{`. Parameters are read from the
environment inside double quotes: make exports command-line variables to recipes (GNU make manual,
"Communicating Variables to a Sub-make"), and just exports `$`-parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from ..errors import InputError
from .artifact import HEADER, Artifact, Generated, append_block
from .context import RepoContext, unique_name
from .shellsafe import env_name, for_just, for_make, quote_word, render_command
from .spec import CommandSpec, JustRecipeSpec, MakeTargetSpec, ParamSpec

_TARGET_LINE = re.compile(r"^([^\s:#=][^:#=]*?)\s*::?(?!=)", re.M)
_RECIPEPREFIX = re.compile(r"^\s*\.RECIPEPREFIX\s*[:?+]?=\s*(\S)", re.M)


def _existing_make_targets(text: str) -> set[str]:
    names: set[str] = set()
    for match in _TARGET_LINE.finditer(text):
        names.update(match.group(1).split())
    return names


def generate_make_target(ctx: RepoContext, spec: MakeTargetSpec) -> Generated:
    notes: list[str] = []
    existing = ctx.read(spec.file) or ""
    taken = ctx.task_names("make", spec.file) | _existing_make_targets(existing)
    name, note = unique_name(spec.name, taken, spec.on_conflict, f"Target of {spec.file}")
    if note:
        notes.append(note)
    missing = [p for p in spec.prerequisites if p not in taken]
    if missing:
        raise InputError(f"Prerequisites {missing} are not targets of {spec.file}; define them first.")
    prefix_match = _RECIPEPREFIX.search(existing)
    prefix = prefix_match.group(1) if prefix_match else "\t"
    self_documenting = bool(re.search(r"^[A-Za-z0-9_.-]+:[^\n]*##", existing, re.M))
    params = [p.name for p in spec.params]
    lines: list[str] = []
    description = make_comment(spec.description or f"{name} ({HEADER})")
    if not self_documenting:
        lines.append(f"# {description}")
    lines.append(f"# {HEADER}." + (" Parameters: " + ", ".join(
        f"{env_name(p)}=..." for p in params) if params else ""))
    lines.append(f".PHONY: {name}")
    rule = f"{name}:" + "".join(f" {p}" for p in spec.prerequisites)
    if self_documenting:
        rule += f" ## {description}"
    lines.append(rule)
    for check in _param_checks(spec.params, lambda p: f"make {name} {env_name(p.name)}=..."):
        lines.append(prefix + "@" + for_make(check))
    for command in spec.commands:
        lines.append(prefix + for_make(_command_text(command, params)))
    block = "\n".join(lines) + "\n"
    content = append_block(existing, block)
    action: Literal["create", "append"] = "append" if existing else "create"
    if not existing:
        notes.append(f"{spec.file} does not exist yet; it is created with this one target.")
    effective = spec.model_copy(update={"name": name})
    return Generated([Artifact(spec.file, "makefile", action, content, block, base=existing or None,
                               make_target=name)], effective, notes)


def make_comment(text: str) -> str:
    """Text safe after `#` in a Makefile: one line, and no trailing backslash (make would join the next line, the
    rule or its first recipe line, to the comment and so drop it)."""
    return " ".join(text.split()).rstrip("\\ ") or "-"


def _command_text(command: CommandSpec, params: list[str]) -> str:
    text = render_command(command.argv, params, command.env)
    if command.unless is None:
        return text
    check = render_command(command.unless, params)
    return f"if {check} >/dev/null 2>&1; then echo {quote_word('skip: already done (' + check + ')')}; else {text}; fi"


def _param_checks(params: list[ParamSpec], usage: Callable[[ParamSpec], str]) -> list[str]:
    """POSIX sh checks (make and just run recipes with sh): required values present, patterns matched.
    `usage(param)` says how to pass the value (`make release VERSION=...`)."""
    checks: list[str] = []
    for p in params:
        var = env_name(p.name)
        if p.required and p.default is None:
            message = quote_word(f"{var} is required: {usage(p)}")
            checks.append(f'test -n "${{{var}-}}" || {{ echo {message} >&2; exit 1; }}')
        if p.pattern:
            message = quote_word(f"{var} must match {p.pattern}")
            checks.append(f'printf \'%s\\n\' "${{{var}-}}" | grep -Eq {quote_word(p.pattern)} || '
                          f"{{ echo {message} >&2; exit 1; }}")
    return checks


# ------------------------------------------------------------------ just


_JUST_RECIPE = re.compile(r"^@?([A-Za-z_][A-Za-z0-9_-]*)(?=[^\n]*:)", re.M)
JUSTFILE_NAMES = ("justfile", "Justfile", ".justfile")


def _existing_recipes(text: str) -> set[str]:
    names: set[str] = set()
    for line in text.splitlines():
        if not line or line[0] in " \t#":
            continue
        match = _JUST_RECIPE.match(line)
        if match and ":=" not in line.split("#", 1)[0]:
            names.add(match.group(1))
    return names


def generate_just_recipe(ctx: RepoContext, spec: JustRecipeSpec) -> Generated:
    notes: list[str] = []
    path = spec.file or ctx.first_task_file("just") or next(
        (n for n in JUSTFILE_NAMES if ctx.exists(n)), "justfile")
    existing = ctx.read(path) or ""
    taken = ctx.task_names("just", path) | _existing_recipes(existing)
    name, note = unique_name(spec.name, taken, spec.on_conflict, f"Recipe of {path}")
    if note:
        notes.append(note)
    missing = [d for d in spec.dependencies if d not in taken]
    if missing:
        raise InputError(f"Dependencies {missing} are not recipes of {path}; define them first.")
    params = [p.name for p in spec.params]
    ordered = sorted(spec.params, key=lambda p: p.default is not None)  # just wants defaults last
    words = []
    for p in ordered:
        if p.default is not None and "'" in p.default:
            raise InputError(f"The default of parameter {p.name!r} contains a single quote, which just cannot hold.")
        words.append(f"${env_name(p.name)}" + (f"='{p.default}'" if p.default is not None else ""))
    lines = [f"# {spec.description or name}", f"# {HEADER}."]
    header = " ".join([name, *words]) + ":" + "".join(f" {d}" for d in spec.dependencies)
    lines.append(header)
    for check in _param_checks(spec.params, lambda p: f"just {name} <{p.name}>"):
        lines.append("    @" + for_just(check))
    for command in spec.commands:
        lines.append("    " + for_just(_command_text(command, params)))
    block = "\n".join(lines) + "\n"
    content = append_block(existing, block)
    effective = spec.model_copy(update={"name": name, "file": path})
    return Generated([Artifact(path, "justfile", "append" if existing else "create", content, block,
                               base=existing or None)], effective, notes)
