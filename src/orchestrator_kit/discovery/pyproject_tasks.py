"""Python task runners declared in pyproject.toml (and hatch.toml):

* `pyproject.toml` (and `hatch.toml`), read with `tomllib`; lines are found by scanning the text for table
  headers and keys (see `TomlIndex`):
  - `[project.scripts]` / `[project.gui-scripts]` (PEP 621 entry points; runner "pyproject", invocation = the
    script name) and `[tool.poetry.scripts]` (Poetry's entry points; invocation `poetry run <name>`);
  - `[tool.poe.tasks]` (Poe the Poet: a string is a `cmd` task, an array a `sequence` whose string items are
    references by default, a table one of cmd/shell/script/sequence/ref/expr/switch with help/deps/uses);
  - `[tool.hatch.envs.<env>.scripts]` (Hatch: a string or an array of commands; a command that starts with the
    name of another script of the env runs that script; `- ` ignores the exit code); invocation
    `hatch run <env>:<name>`, or `hatch run <name>` in the `default` env;
  - `[tool.pdm.scripts]` (PDM: a string, or a table with cmd/shell/call/composite and help; `pre_x`/`post_x`
    run around `x`; `_` holds shared options and is not a script).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import Command, Task
from ..repo import FileText
from ._python_common import (
    TomlIndex,
    as_table,
    get_in,
    join_args,
    load_toml,
    locate_text,
)
from .base import DetectContext, Wants, basename, detector

# ==================================================================== pyproject.toml


PYPROJECTS = Wants(names=frozenset({"pyproject.toml", "hatch.toml"}))


@dataclass
class _Doc:
    """One TOML file being read: its parse, its line index and where to report."""

    ctx: DetectContext
    path: str
    lines: list[str]
    data: dict[str, Any]
    index: TomlIndex

    def span(self, *keys: str) -> tuple[int, int]:
        return self.index.span(tuple(keys)) or (1, 1)

    def diagnostic(self, reason: str, *keys: str) -> None:
        self.ctx.diagnostic(self.path, reason, line=self.span(*keys)[0])

    def command(self, text: str, within: tuple[int, int], after: int = 0) -> Command:
        where = locate_text(self.lines, text, within, after)
        return self.ctx.command(text, self.path, *where)

    def task(self, runner: str, name: str, key: str, invocation: str, span: tuple[int, int], **fields: Any) -> Task:
        attributes = {k: v for k, v in fields.pop("attributes", {}).items() if v}
        return self.ctx.task(
            runner, self.path, name, key=key, invocation=invocation,  # type: ignore[arg-type]
            attributes=attributes, evidence=self.ctx.evidence(self.path, *span), **fields,
        )


@detector("pyproject-tasks", wants=PYPROJECTS)
def detect_pyproject(ctx: DetectContext, file: FileText) -> None:
    """One pyproject.toml or hatch.toml (remembered across scans: its tasks depend on its path and text alone)."""
    ctx.remembered((file,), lambda: _read_pyproject(ctx, file))


def _read_pyproject(ctx: DetectContext, file: FileText) -> None:
    data = load_toml(ctx, file)
    if data is None:
        return
    doc = _Doc(ctx, file.path, file.lines, data, TomlIndex(file.text))
    if basename(file.path) == "hatch.toml":
        _hatch(doc, ())
        return
    entry_points = _project_scripts(doc)
    _poetry_scripts(doc, entry_points)
    _poe_tasks(doc)
    _hatch(doc, ("tool", "hatch"))
    _pdm_scripts(doc)


def _project_scripts(doc: _Doc) -> set[str]:
    """PEP 621 `[project.scripts]` and `[project.gui-scripts]`: console commands installed with the package."""
    seen: set[str] = set()
    for table_name in ("scripts", "gui-scripts"):
        table = get_in(doc.data, "project", table_name)
        if table is None:
            continue
        if not isinstance(table, dict):
            reason = f"[project.{table_name}] is not a table of name = \"module:function\""
            doc.diagnostic(reason, "project", table_name)
            continue
        for name, target in table.items():
            keys = ("project", table_name, name)
            if not isinstance(target, str):
                doc.diagnostic(f"entry point '{name}' is not a \"module:function\" string", *keys)
                continue
            if name in seen:
                continue
            seen.add(name)
            span = doc.span(*keys)
            attributes = {"entry_point": target, "source": f"project.{table_name}"}
            if table_name == "gui-scripts":
                attributes["gui"] = "true"
            doc.ctx.add_task(doc.task("pyproject", name, name, name, span, commands=[doc.command(target, span)],
                                      attributes=attributes))
    return seen


def _poetry_scripts(doc: _Doc, already: set[str]) -> None:
    """`[tool.poetry.scripts]`: `name = "module:function"` or `{callable = ..., extras = [...]}` (or the old
    `{reference = ..., type = "file"}`); run with `poetry run <name>`."""
    table = get_in(doc.data, "tool", "poetry", "scripts")
    if table is None:
        return
    if not isinstance(table, dict):
        doc.diagnostic("[tool.poetry.scripts] is not a table", "tool", "poetry", "scripts")
        return
    for name, value in table.items():
        keys = ("tool", "poetry", "scripts", name)
        target = value if isinstance(value, str) else None
        if isinstance(value, dict):
            target = value.get("callable") or value.get("reference")
        if not isinstance(target, str):
            doc.diagnostic(f"poetry script '{name}' has no \"module:function\" target", *keys)
            continue
        if name in already:
            continue  # the same command, declared for both PEP 621 and Poetry
        span = doc.span(*keys)
        doc.ctx.add_task(doc.task("pyproject", name, name, f"poetry run {name}", span,
                                  commands=[doc.command(target, span)],
                                  attributes={"entry_point": target, "source": "tool.poetry.scripts"}))


# -------------------------------------------------------------------- Poe the Poet

_POE_TYPES = ("cmd", "shell", "script", "sequence", "ref", "expr", "switch")


def _poe_tasks(doc: _Doc) -> None:
    tasks = get_in(doc.data, "tool", "poe", "tasks")
    if tasks is None:
        return
    if not isinstance(tasks, dict):
        doc.diagnostic("[tool.poe.tasks] is not a table of tasks", "tool", "poe", "tasks")
        return
    default_item = get_in(doc.data, "tool", "poe", "default_array_item_task_type")
    default_item = default_item if isinstance(default_item, str) else "ref"
    for name, value in tasks.items():
        keys = ("tool", "poe", "tasks", name)
        span = doc.span(*keys)
        parsed = _poe_task(doc, name, value, span, default_item)
        if parsed is None:
            doc.diagnostic(f"poe task '{name}' is not a string, an array or a table with a task type", *keys)
            continue
        kind, commands, depends, description, attributes = parsed
        attributes = {"type": kind, **attributes}
        if name.startswith("_"):
            attributes["private"] = "true"
        doc.ctx.add_task(doc.task("poe", name, name, f"poe {name}", span, commands=commands,
                                  depends_on=list(dict.fromkeys(depends)), description=description,
                                  attributes=attributes))


def _poe_task(
    doc: _Doc, name: str, value: Any, span: tuple[int, int], default_item: str
) -> tuple[str, list[Command], list[str], str | None, dict[str, str]] | None:
    commands: list[Command] = []
    depends: list[str] = []
    attributes: dict[str, str] = {}
    if isinstance(value, str):
        commands.append(doc.command(value, span))
        return "cmd", commands, depends, None, attributes
    if isinstance(value, list):
        _poe_sequence(doc, value, default_item, span, commands, depends)
        return "sequence", commands, depends, None, attributes
    if not isinstance(value, dict):
        return None
    kind = next((k for k in _POE_TYPES if k in value), None)
    if kind is None:
        return None
    body = value[kind]
    if kind in ("cmd", "shell", "script", "expr"):
        texts = [body] if isinstance(body, str) else [join_args(body)] if isinstance(body, list) else []
        for text in texts:
            _poe_lines(doc, kind, text, span, commands)
    elif kind == "sequence" and isinstance(body, list):
        item_type = value.get("default_item_type") if isinstance(value.get("default_item_type"), str) else default_item
        _poe_sequence(doc, body, item_type, span, commands, depends)
    elif kind == "ref" and isinstance(body, str):
        depends.append(body.split()[0] if body.split() else body)
    elif kind == "switch" and isinstance(body, list):
        for case in body:
            if isinstance(case, dict):
                sub = _poe_task(doc, name, case, span, default_item)
                if sub is not None:
                    commands.extend(sub[1])
                    depends.extend(sub[2])
    for dep in value.get("deps", []) if isinstance(value.get("deps"), list) else []:
        if isinstance(dep, str) and dep.split():
            depends.append(dep.split()[0])
    uses = value.get("uses")
    if isinstance(uses, dict):
        depends.extend(v.split()[0] for v in uses.values() if isinstance(v, str) and v.split())
    if isinstance(value.get("cwd"), str):
        attributes["cwd"] = value["cwd"]
    help_text = value.get("help") if isinstance(value.get("help"), str) else None
    return kind, commands, depends, help_text, attributes


def _poe_lines(doc: _Doc, kind: str, text: str, span: tuple[int, int], commands: list[Command]) -> None:
    """A shell task's script gives one command per line; other kinds are one command."""
    if kind != "shell":
        commands.append(doc.command(text.strip(), span))
        return
    after = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            command = doc.command(stripped, span, after)
            after = command.evidence.line_start
            commands.append(command)


def _poe_sequence(
    doc: _Doc, items: list[Any], item_type: str, span: tuple[int, int], commands: list[Command], depends: list[str]
) -> None:
    after = 0
    for item in items:
        if isinstance(item, str):
            if item_type == "ref":
                if item.split():
                    depends.append(item.split()[0])
            else:
                command = doc.command(item, span, after)
                after = command.evidence.line_start
                commands.append(command)
        elif isinstance(item, dict):
            sub = _poe_task(doc, "", item, span, item_type)
            if sub is not None:
                commands.extend(sub[1])
                depends.extend(sub[2])


# -------------------------------------------------------------------- Hatch


def _hatch(doc: _Doc, prefix: tuple[str, ...]) -> None:
    envs = get_in(doc.data, *prefix, "envs") if prefix else doc.data.get("envs")
    if envs is None:
        return
    if not isinstance(envs, dict):
        doc.diagnostic("hatch 'envs' is not a table of environments", *prefix, "envs")
        return
    for env_name, env in envs.items():
        scripts = as_table(env).get("scripts")
        if scripts is None:
            continue
        keys = (*prefix, "envs", env_name, "scripts")
        if not isinstance(scripts, dict):
            doc.diagnostic(f"hatch env '{env_name}': 'scripts' is not a table", *keys)
            continue
        matrix = _hatch_matrix(as_table(env).get("matrix"))
        for name, value in scripts.items():
            _hatch_script(doc, env_name, name, value, set(scripts), (*keys, name), matrix)


def _hatch_script(
    doc: _Doc, env: str, name: str, value: Any, names: set[str], keys: tuple[str, ...], matrix: str | None
) -> None:
    span = doc.span(*keys)
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        doc.diagnostic(f"hatch script '{env}:{name}' is not a command or an array of commands", *keys)
        return
    commands: list[Command] = []
    depends: list[str] = []
    ignored: list[str] = []
    after = 0
    for item in items:
        text = item.strip()
        if text.startswith("- "):  # Hatch: a leading `- ` ignores the command's exit code
            text = text[2:].strip()
            ignored.append(text)
        first = text.split()[0] if text.split() else ""
        if first in names and first != name:
            depends.append(first)  # Hatch expands a command that names another script
            continue
        command = doc.command(text, span, after)
        after = command.evidence.line_start
        commands.append(command)
    invocation = f"hatch run {name}" if env == "default" else f"hatch run {env}:{name}"
    attributes = {"env": env, "matrix": matrix or "", "ignore_exit_code": "; ".join(ignored)}
    doc.ctx.add_task(doc.task("hatch", name, f"{env}:{name}", invocation, span, commands=commands,
                              depends_on=list(dict.fromkeys(depends)), attributes=attributes))


def _hatch_matrix(value: Any) -> str | None:
    """`[[tool.hatch.envs.x.matrix]]` entries as `python=3.11,3.12; ...`."""
    if not isinstance(value, list):
        return None
    parts: list[str] = []
    for entry in value:
        if isinstance(entry, dict):
            parts.append(" ".join(f"{k}={','.join(str(v) for v in vs) if isinstance(vs, list) else vs}"
                                  for k, vs in entry.items()))
    return "; ".join(p for p in parts if p) or None


# -------------------------------------------------------------------- PDM

_PDM_KINDS = ("cmd", "shell", "call", "composite")
# PDM's own commands emit these hooks (PDM docs, "Lifecycle and hooks").
_PDM_COMMAND_HOOKS = {"install", "lock", "build", "publish", "script", "run", "init", "use"}


def _pdm_scripts(doc: _Doc) -> None:
    scripts = get_in(doc.data, "tool", "pdm", "scripts")
    if scripts is None:
        return
    if not isinstance(scripts, dict):
        doc.diagnostic("[tool.pdm.scripts] is not a table of scripts", "tool", "pdm", "scripts")
        return
    names = {n for n in scripts if n != "_"}
    for name, value in scripts.items():
        if name == "_":
            continue  # options shared by every script
        keys = ("tool", "pdm", "scripts", name)
        span = doc.span(*keys)
        commands: list[Command] = []
        depends: list[str] = []
        attributes: dict[str, str] = {}
        description = None
        if isinstance(value, str):
            kind = "cmd"
            commands.append(doc.command(value, span))
        elif isinstance(value, dict) and any(k in value for k in _PDM_KINDS):
            kind = next(k for k in _PDM_KINDS if k in value)
            body = value[kind]
            description = value.get("help") if isinstance(value.get("help"), str) else None
            if kind == "composite" and isinstance(body, list):
                after = 0
                for item in body:
                    if not isinstance(item, str) or not item.split():
                        continue
                    if item.split()[0] in names:
                        depends.append(item.split()[0])
                    else:
                        command = doc.command(item, span, after)
                        after = command.evidence.line_start
                        commands.append(command)
            elif isinstance(body, str):
                commands.append(doc.command(body, span))
            elif isinstance(body, list):
                commands.append(doc.command(join_args(body), span))
            for key in ("working_dir", "env_file"):
                if isinstance(value.get(key), str):
                    attributes[key] = value[key]
        else:
            doc.diagnostic(f"pdm script '{name}' is not a command or a table with cmd, shell, call or composite",
                           *keys)
            continue
        attributes["type"] = kind
        hooks = [h for h in (f"pre_{name}", f"post_{name}") if h in names]
        for prefix in ("pre_", "post_"):
            base = name[len(prefix) :] if name.startswith(prefix) else None
            if base and (base in names or base in _PDM_COMMAND_HOOKS):
                attributes["hook_of"] = base
        doc.ctx.add_task(doc.task("pdm", name, name, f"pdm run {name}", span, commands=commands,
                                  depends_on=list(dict.fromkeys(depends)), hooks=hooks, description=description,
                                  attributes=attributes))


