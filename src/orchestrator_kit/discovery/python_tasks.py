"""Python task runners: pyproject.toml scripts and task tables, tox, and nox.

* `pyproject.toml` (and `hatch.toml`), read with `tomllib`; lines are found by scanning the text for table
  headers and keys (see `_TomlIndex`):
  - `[project.scripts]` / `[project.gui-scripts]` (PEP 621 entry points; runner "pyproject", invocation = the
    script name) and `[tool.poetry.scripts]` (Poetry's entry points; invocation `poetry run <name>`);
  - `[tool.poe.tasks]` (Poe the Poet: a string is a `cmd` task, an array a `sequence` whose string items are
    references by default, a table one of cmd/shell/script/sequence/ref/expr/switch with help/deps/uses);
  - `[tool.hatch.envs.<env>.scripts]` (Hatch: a string or an array of commands; a command that starts with the
    name of another script of the env runs that script; `- ` ignores the exit code); invocation
    `hatch run <env>:<name>`, or `hatch run <name>` in the `default` env;
  - `[tool.pdm.scripts]` (PDM: a string, or a table with cmd/shell/call/composite and help; `pre_x`/`post_x`
    run around `x`; `_` holds shared options and is not a script).
* tox (the tox configuration reference): `tox.ini`, `setup.cfg` (`[tox:tox]`), `[tool.tox]` in pyproject.toml
  (`legacy_tox_ini` or native tables) and tox 4's `tox.toml`; the first of these that exists is the one tox
  reads. Environments come from `envlist`/`env_list` (generative names such as `py{311,312}-django{42,50}`
  and ranges `py3{10-13}` expanded) and from `[testenv:x]` / `[env.x]` sections; commands are
  `commands_pre`, `commands` and `commands_post`, with factor-conditional lines (`py311: ...`) kept only
  for the environments they name; `depends` gives the dependencies. Invocation `tox -e <env>`.
* nox (`noxfile.py`), read with `ast` only and never imported: functions decorated with `@nox.session`,
  `@nox.session(python=[...], name=..., tags=..., requires=...)` or a `session` imported from nox (or
  nox_poetry); the docstring's first paragraph is the description; each `session.run(...)` /
  `session.install(...)` call becomes a command with its literal arguments (anything else is shown as
  `<expression>`); `session.notify("x")` lists `x` as a hook. Invocation `nox -s <name>`.
"""

from __future__ import annotations

import ast
import bisect
import inspect
import itertools
import posixpath
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from typing import Any

from ..models import Command, Task
from ..repo import FileText
from .base import DetectContext, Wants, basename, detector

DESCRIPTION_LIMIT = 500
GENERATED_ENV_LIMIT = 512


# ==================================================================== TOML text index


class _TomlIndex:
    """Where each table header and key of a TOML document is written.

    `span(path)` is the first and last line of everything written under `path` (a header, a key and its
    value, or dotted keys below it). The text must already have parsed with tomllib; the scan only has to
    step over strings, arrays and inline tables correctly.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.entries: list[tuple[tuple[str, ...], int, int]] = []
        self.string_starts: dict[tuple[str, ...], int] = {}
        self._spans: dict[tuple[str, ...], tuple[int, int]] | None = None
        self._scan()

    def line(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1

    def span(self, path: tuple[str, ...]) -> tuple[int, int] | None:
        if self._spans is None:  # one pass over the entries, then every look-up is a dict hit
            self._spans = {}
            for key, start, end in self.entries:
                for size in range(len(key) + 1):
                    known = self._spans.get(key[:size])
                    self._spans[key[:size]] = (min(known[0], start), max(known[1], end)) if known else (start, end)
        return self._spans.get(path)

    # ---------------------------------------------------------------- scanning

    def _scan(self) -> None:
        text = self.text
        pos = 0
        table: tuple[str, ...] = ()
        while pos < len(text):
            pos = self._skip_blank(pos)
            if pos >= len(text):
                break
            if text[pos] == "[":
                double = text.startswith("[[", pos)
                keys, pos = self._key(pos + (2 if double else 1))
                table = tuple(keys)
                self.entries.append((table, self.line(pos), self.line(pos)))
                pos = self._end_of_line(pos)
                continue
            start = pos
            keys, pos = self._key(pos)
            pos = self._skip_spaces(pos)
            if pos < len(text) and text[pos] == "=":
                pos = self._skip_spaces(pos + 1)
            value_start = pos
            pos = self._value(pos)
            full = table + tuple(keys)
            self.entries.append((full, self.line(start), self.line(max(start, pos - 1))))
            if text.startswith(('"""', "'''"), value_start):
                after = value_start + 3
                self.string_starts[full] = self.line(after) + (1 if text.startswith("\n", after) else 0)
            elif text.startswith(('"', "'"), value_start):
                self.string_starts[full] = self.line(value_start)
            pos = self._end_of_line(pos)

    def _skip_blank(self, pos: int) -> int:
        text = self.text
        while pos < len(text):
            if text[pos] in " \t\r\n":
                pos += 1
            elif text[pos] == "#":
                pos = self._end_of_line(pos)
            else:
                break
        return pos

    def _skip_spaces(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t":
            pos += 1
        return pos

    def _end_of_line(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        return len(self.text) if end < 0 else end + 1

    def _key(self, pos: int) -> tuple[list[str], int]:
        """A dotted key (bare or quoted parts) starting at `pos`; stops at `=`, `]` or the end of the line."""
        text = self.text
        keys: list[str] = []
        while pos < len(text):
            pos = self._skip_spaces(pos)
            if pos >= len(text):
                break
            char = text[pos]
            if char in "\"'":
                end = self._string_end(pos)
                raw = text[pos + 1 : end - 1]
                keys.append(_decode_basic(raw) if char == '"' else raw)
                pos = end
            else:
                match = _BARE_KEY.match(text, pos)
                if not match:
                    break
                keys.append(match.group(0))
                pos = match.end()
            pos = self._skip_spaces(pos)
            if pos < len(text) and text[pos] == ".":
                pos += 1
                continue
            break
        return keys, pos

    def _string_end(self, pos: int) -> int:
        """Offset just past the string that opens at `pos` (any of the four TOML string kinds)."""
        text = self.text
        for delimiter in ('"""', "'''"):
            if text.startswith(delimiter, pos):
                cursor = pos + 3
                while True:
                    found = text.find(delimiter, cursor)
                    if found < 0:
                        return len(text)
                    if delimiter == '"""' and _escaped(text, found):
                        cursor = found + 1
                        continue
                    end = found + 3
                    while end < len(text) and text[end] == delimiter[0] and end - found < 5:
                        end += 1  # up to two quotes may end the content: `""""x"""""`
                    return end
        quote = text[pos]
        cursor = pos + 1
        while cursor < len(text) and text[cursor] != "\n":
            if text[cursor] == "\\" and quote == '"':
                cursor += 2
                continue
            if text[cursor] == quote:
                return cursor + 1
            cursor += 1
        return cursor

    def _value(self, pos: int) -> int:
        """Offset just past the value that starts at `pos`."""
        text = self.text
        if pos >= len(text):
            return pos
        char = text[pos]
        if char in "\"'":
            return self._string_end(pos)
        if char in "[{":
            closing = "]" if char == "[" else "}"
            depth = 0
            cursor = pos
            while cursor < len(text):
                current = text[cursor]
                if current in "\"'":
                    cursor = self._string_end(cursor)
                    continue
                if current == "#" and char == "[":
                    cursor = self._end_of_line(cursor)
                    continue
                if current in "[{":
                    depth += 1
                elif current in "]}":
                    depth -= 1
                    if depth == 0 and current == closing:
                        return cursor + 1
                cursor += 1
            return cursor
        match = _SCALAR.match(text, pos)
        return match.end() if match else pos + 1


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^\n#]*")


def _escaped(text: str, index: int) -> bool:
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _decode_basic(raw: str) -> str:
    try:
        return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return raw


def _load_toml(ctx: DetectContext, file: FileText, *, report: bool = True) -> dict[str, Any] | None:
    """The parsed document; None (and, when `report`, a Diagnostic with tomllib's line) when it is not TOML."""
    try:
        return tomllib.loads(file.text)
    except tomllib.TOMLDecodeError as exc:
        if report:
            message = str(exc)
            where = re.search(r"at line (\d+), column (\d+)", message)
            line = int(where.group(1)) if where else file.line_count
            ctx.diagnostic(file.path, f"invalid TOML: {message}", line=line)
        return None
    except RecursionError:
        if report:
            ctx.diagnostic(file.path, "invalid TOML: nesting too deep to read")
        return None


def _locate(lines: list[str], text: str, span: tuple[int, int], after: int = 0) -> tuple[int, int]:
    """The line inside `span` (at or after line `after`) that holds the start of `text`; `span` when unknown.

    Commands inside arrays and strings are found by their first line's text, falling back to the part
    before the first quote or backslash (TOML escapes change how the text is written)."""
    first = next((piece.strip() for piece in text.split("\n") if piece.strip()), "")
    if not first:
        return span
    needles = [first, re.split(r"[\"'\\]", first, maxsplit=1)[0].strip()]
    start = max(span[0], after)
    for needle in needles:
        if len(needle) < 2:
            continue
        for number in range(start, min(span[1], len(lines)) + 1):
            if needle in lines[number - 1]:
                return number, number
    return span


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _get(document: dict[str, Any], *keys: str) -> Any:
    node: Any = document
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _join_args(args: list[Any]) -> str:
    return " ".join(_quote(str(a)) for a in args)


def _quote(word: str) -> str:
    """A word as a person would type it in a shell: bare when safe, else quoted the readable way."""
    if word and not re.search(r"[\s\"'$`\\|&;<>()*?]", word):
        return word
    if "'" not in word:
        return f"'{word}'"
    if not re.search(r"[\"$`\\]", word):
        return f'"{word}"'
    return shlex.quote(word)


# ==================================================================== pyproject.toml


PYPROJECTS = Wants(names=frozenset({"pyproject.toml", "hatch.toml"}))


@dataclass
class _Doc:
    """One TOML file being read: its parse, its line index and where to report."""

    ctx: DetectContext
    path: str
    lines: list[str]
    data: dict[str, Any]
    index: _TomlIndex

    def span(self, *keys: str) -> tuple[int, int]:
        return self.index.span(tuple(keys)) or (1, 1)

    def diagnostic(self, reason: str, *keys: str) -> None:
        self.ctx.diagnostic(self.path, reason, line=self.span(*keys)[0])

    def command(self, text: str, within: tuple[int, int], after: int = 0) -> Command:
        where = _locate(self.lines, text, within, after)
        return self.ctx.command(text, self.path, *where)

    def task(self, runner: str, name: str, key: str, invocation: str, span: tuple[int, int], **fields: Any) -> Task:
        description = fields.pop("description", None)
        attributes = {k: self.ctx.redact(v, self.path) for k, v in fields.pop("attributes", {}).items() if v}
        return Task(
            id=f"{runner}:{self.path}#{key}",
            runner=runner,  # type: ignore[arg-type]
            name=name,
            path=self.path,
            invocation=invocation,
            description=self.ctx.redact(description, self.path)[:DESCRIPTION_LIMIT] if description else None,
            attributes=attributes,
            evidence=self.ctx.evidence(self.path, *span),
            **fields,
        )


@detector("pyproject-tasks", wants=PYPROJECTS)
def detect_pyproject(ctx: DetectContext, file: FileText) -> None:
    data = _load_toml(ctx, file)
    if data is None:
        return
    doc = _Doc(ctx, file.path, file.lines, data, _TomlIndex(file.text))
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
        table = _get(doc.data, "project", table_name)
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
    table = _get(doc.data, "tool", "poetry", "scripts")
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
    tasks = _get(doc.data, "tool", "poe", "tasks")
    if tasks is None:
        return
    if not isinstance(tasks, dict):
        doc.diagnostic("[tool.poe.tasks] is not a table of tasks", "tool", "poe", "tasks")
        return
    default_item = _get(doc.data, "tool", "poe", "default_array_item_task_type")
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
        texts = [body] if isinstance(body, str) else [_join_args(body)] if isinstance(body, list) else []
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
    envs = _get(doc.data, *prefix, "envs") if prefix else doc.data.get("envs")
    if envs is None:
        return
    if not isinstance(envs, dict):
        doc.diagnostic("hatch 'envs' is not a table of environments", *prefix, "envs")
        return
    for env_name, env in envs.items():
        scripts = _table(env).get("scripts")
        if scripts is None:
            continue
        keys = (*prefix, "envs", env_name, "scripts")
        if not isinstance(scripts, dict):
            doc.diagnostic(f"hatch env '{env_name}': 'scripts' is not a table", *keys)
            continue
        matrix = _hatch_matrix(_table(env).get("matrix"))
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
    scripts = _get(doc.data, "tool", "pdm", "scripts")
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
                commands.append(doc.command(_join_args(body), span))
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


# ==================================================================== tox

TOX_FILES = ("tox.ini", "setup.cfg", "pyproject.toml", "tox.toml")


TOX_CONFIGS = Wants(names=frozenset(TOX_FILES))


@dataclass
class _IniValue:
    line: int
    end: int
    lines: list[tuple[int, str]]  # (line number, text) of the value, continuation lines included


@dataclass
class _IniSection:
    name: str
    line: int
    end: int
    values: dict[str, _IniValue] = field(default_factory=dict)


@dataclass
class _Env:
    """One tox environment as the detector sees it: where it is written and its settings by name."""

    name: str
    span: tuple[int, int]
    own: bool
    settings: dict[str, list[tuple[int, str]]]
    sources: dict[str, str]


@detector("tox", wants=TOX_CONFIGS)
def detect_tox(ctx: DetectContext, file: FileText) -> None:
    name = basename(file.path)
    directory = posixpath.dirname(file.path)
    if name in ("tox.ini", "setup.cfg"):
        sections = _read_ini(file.lines)
        core = "tox" if name == "tox.ini" else "tox:tox"
        if name == "setup.cfg" and not any(s.name == core for s in sections):
            return
        if _shadowed(ctx, directory, name):
            return
        envs = _ini_envs(ctx, file.path, sections, core)
    elif name == "pyproject.toml":
        data = _load_toml(ctx, file, report=False)  # the pyproject detector reports bad TOML
        tox = _get(data or {}, "tool", "tox")
        if not isinstance(tox, dict) or _shadowed(ctx, directory, name):
            return
        index = _TomlIndex(file.text)
        legacy = tox.get("legacy_tox_ini")
        if isinstance(legacy, str):
            offset = index.string_starts.get(("tool", "tox", "legacy_tox_ini"), 1) - 1
            sections = _read_ini(legacy.split("\n"), offset)
            envs = _ini_envs(ctx, file.path, sections, "tox")
        else:
            envs = _toml_envs(ctx, file, tox, index, ("tool", "tox"))
    else:
        data = _load_toml(ctx, file)
        if data is None or _shadowed(ctx, directory, name):
            return
        envs = _toml_envs(ctx, file, data, _TomlIndex(file.text), ())
    for env in envs:
        ctx.add_task(_tox_task(ctx, file.path, env, {e.name for e in envs}))


def _shadowed(ctx: DetectContext, directory: str, name: str) -> bool:
    """tox reads the first of tox.ini, setup.cfg ([tox:tox]), pyproject.toml ([tool.tox]), tox.toml."""
    for earlier in TOX_FILES[: TOX_FILES.index(name)]:
        candidate = posixpath.join(directory, earlier) if directory else earlier
        if not ctx.exists(candidate):
            continue
        if earlier == "tox.ini":
            used = True
        else:
            other = ctx.read(candidate)
            marker = r"^\[tox:tox\]" if earlier == "setup.cfg" else r"^\[tool\.tox(\]|\.)|^legacy_tox_ini\s*="
            used = other is not None and re.search(marker, other.text, re.M) is not None
        if used:
            path = posixpath.join(directory, name) if directory else name
            ctx.diagnostic(path, f"tox reads {candidate} first, so this tox configuration is not used",
                           severity="info", line=1)
            return True
    return False


def _tox_task(ctx: DetectContext, path: str, env: _Env, known: set[str]) -> Task:
    commands: list[Command] = []
    for key in ("commands_pre", "commands", "commands_post"):
        for line, text in _factor_filter(env.settings.get(key, []), env.name):
            commands.append(ctx.command(text, path, line))
    description = " ".join(t for _, t in _factor_filter(env.settings.get("description", []), env.name)).strip()
    depends: list[str] = []
    for _, text in _factor_filter(env.settings.get("depends", []), env.name):
        for item in _split_env_list(text):
            depends.extend(_expand_generative(item))
    attributes: dict[str, str] = {}
    for key in ("basepython", "labels", "skip_install", "base_python"):
        values = [t for _, t in _factor_filter(env.settings.get(key, []), env.name)]
        if values:
            attributes[key.replace("base_python", "basepython")] = ", ".join(values)
    if env.sources.get("commands"):
        attributes["commands_from"] = env.sources["commands"]
    if not env.own:
        attributes["declared_in"] = "env list"
    return Task(
        id=f"tox:{path}#{env.name}",
        runner="tox",
        name=env.name,
        path=path,
        invocation=f"tox -e {env.name}",
        description=ctx.redact(description, path)[:DESCRIPTION_LIMIT] if description else None,
        depends_on=list(dict.fromkeys(d for d in depends if d != env.name)),
        commands=commands,
        attributes={k: ctx.redact(v, path) for k, v in attributes.items()},
        evidence=ctx.evidence(path, *env.span),
    )


# -------------------------------------------------------------------- tox INI


def _read_ini(lines: list[str], offset: int = 0) -> list[_IniSection]:
    """Sections, keys and continuation lines of an INI text (configparser's layout, with line numbers).

    Full-line `#`/`;` comments are dropped, and so are inline ` # comments` (tox 4 strips them; `\\#` is a
    literal `#`)."""
    sections: list[_IniSection] = []
    current: _IniSection | None = None
    value: _IniValue | None = None
    for index, raw in enumerate(lines):
        number = index + 1 + offset
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        header = re.match(r"^\[(.+)\]\s*(?:[#;].*)?$", stripped)
        if header and raw[0] == "[":
            current = _IniSection(name=header.group(1).strip(), line=number, end=number)
            sections.append(current)
            value = None
            continue
        if current is None:
            continue
        if raw[0] in " \t" and value is not None:
            value.lines.append((number, _strip_inline_comment(stripped)))
            value.end = number
            current.end = number
            continue
        separator = re.search(r"[=:]", stripped)
        if separator and separator.start() > 0:
            first = _strip_inline_comment(stripped[separator.end() :].strip())
            value = _IniValue(line=number, end=number, lines=[(number, first)] if first else [])
            current.values[stripped[: separator.start()].strip()] = value
            current.end = number
    return sections


def _strip_inline_comment(text: str) -> str:
    text = re.sub(r"(^|\s)(?<!\\)#.*$", "", text).rstrip()
    return text.replace("\\#", "#")


def _value_lines(value: _IniValue | None) -> list[tuple[int, str]]:
    """The value's lines, with `\\`-continued lines joined (as tox joins command lines)."""
    if value is None:
        return []
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, text in value.lines:
        if pending is not None:
            text = f"{pending[1]} {text}"
            number = pending[0]
            pending = None
        if text.endswith("\\") and not text.endswith("\\\\"):
            pending = (number, text[:-1].rstrip())
            continue
        if text:
            joined.append((number, text))
    if pending is not None and pending[1]:
        joined.append(pending)
    return joined


def _ini_envs(ctx: DetectContext, path: str, sections: list[_IniSection], core: str) -> list[_Env]:
    by_name = {s.name: s for s in sections}
    base = by_name.get("testenv")
    declared: list[str] = []
    core_section = by_name.get(core)
    envlist_span: tuple[int, int] | None = None
    if core_section is not None:
        envlist = core_section.values.get("envlist") or core_section.values.get("env_list")
        if envlist is not None:
            envlist_span = (envlist.line, envlist.end)
            for _, text in _value_lines(envlist):
                for item in _split_env_list(text):
                    declared.extend(_expand_generative(item, ctx, path, envlist.line))
    own: dict[str, _IniSection] = {}
    for section in sections:
        if section.name.startswith("testenv:"):
            for name in _expand_generative(section.name[len("testenv:") :].strip(), ctx, path, section.line):
                own.setdefault(name, section)
    # `.pkg` and other dotted names are tox's own packaging environments
    names = [n for n in dict.fromkeys([*declared, *own]) if not n.startswith(".")]
    envs: list[_Env] = []
    for name in names:
        section = own.get(name)
        settings: dict[str, list[tuple[int, str]]] = {}
        sources: dict[str, str] = {}
        for layer in (base, section):
            if layer is None:
                continue
            for key, value in layer.values.items():
                settings[key] = _value_lines(value)
                sources[key] = layer.name
        span = (section.line, section.end) if section else (base.line, base.end) if base else envlist_span or (1, 1)
        envs.append(_Env(name=name, span=span, own=section is not None, settings=settings, sources=sources))
    return envs


def _split_env_list(text: str) -> list[str]:
    """Comma-separated items, commas inside `{}` kept."""
    items: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += char
    items.append(current.strip())
    return [i for i in items if i]


def _expand_generative(
    item: str, ctx: DetectContext | None = None, path: str = "", line: int | None = None
) -> list[str]:
    """tox generative names: `py{311,312}-django{42,50}` is the product; `{10-13}` is a numeric range."""
    parts = re.split(r"(\{[^{}]*\})", item)
    choices: list[list[str]] = []
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            options: list[str] = []
            for option in part[1:-1].split(","):
                option = option.strip()
                numeric = re.fullmatch(r"(\d+)-(\d+)", option)
                if numeric and int(numeric.group(1)) <= int(numeric.group(2)) <= int(numeric.group(1)) + 100:
                    options.extend(str(n) for n in range(int(numeric.group(1)), int(numeric.group(2)) + 1))
                else:
                    options.append(option)
            choices.append(options)
        else:
            choices.append([part])
    total = 1
    for options in choices:
        total *= max(1, len(options))
    if total > GENERATED_ENV_LIMIT:
        if ctx is not None:
            ctx.diagnostic(path, f"'{item}' generates {total} environments; only the first "
                                 f"{GENERATED_ENV_LIMIT} are listed", line=line)
        products = itertools.islice(itertools.product(*choices), GENERATED_ENV_LIMIT)
    else:
        products = itertools.product(*choices)
    return [re.sub(r"-{2,}", "-", "".join(p)).strip("-") for p in products if "".join(p).strip("-")]


def _factor_filter(lines: list[tuple[int, str]], env: str) -> list[tuple[int, str]]:
    """Keep plain lines, and factor-conditional lines (`py311,py312: x`, `py311-django: x`, `!py311: x`) whose
    condition holds for the environment's factors (its name split on `-`)."""
    factors = set(env.split("-"))
    kept: list[tuple[int, str]] = []
    for number, text in lines:
        match = re.match(r"^(!?[\w.{}]+(?:[-,]!?[\w.{}]+)*)\s*:\s+(.*)$", text)
        if not match or "://" in text[: match.end(1) + 3]:
            kept.append((number, text))
            continue
        condition, rest = match.groups()
        alternatives = [a for group in condition.split(",") for a in _expand_generative(group)]
        if any(_all_factors(a, factors) for a in alternatives):
            kept.append((number, rest))
    return kept


def _all_factors(condition: str, factors: set[str]) -> bool:
    for factor in condition.split("-"):
        negated = factor.startswith("!")
        present = factor.lstrip("!") in factors
        if present == negated:
            return False
    return True


# -------------------------------------------------------------------- tox TOML (tox 4)


def _toml_envs(
    ctx: DetectContext, file: FileText, tox: dict[str, Any], index: _TomlIndex, prefix: tuple[str, ...]
) -> list[_Env]:
    """tox 4 TOML: `env_list`, `[env_run_base]` and `[env.<name>]`; commands are arrays of argument arrays."""
    path = file.path
    declared: list[str] = []
    env_list = tox.get("env_list", tox.get("envlist"))
    if env_list is not None and not isinstance(env_list, list):
        ctx.diagnostic(path, "tox 'env_list' is not an array", line=(index.span((*prefix, "env_list")) or (1, 1))[0])
    for item in env_list if isinstance(env_list, list) else []:
        if isinstance(item, str):
            declared.append(item)
        elif isinstance(item, dict) and isinstance(item.get("product"), list):
            declared.extend(_toml_product(item["product"]))
    envs_table = tox.get("env") if isinstance(tox.get("env"), dict) else {}
    base = _table(tox.get("env_run_base"))
    env_span = index.span((*prefix, "env_list")) or index.span((*prefix, "envlist")) or (1, 1)
    envs: list[_Env] = []
    for name in dict.fromkeys([*declared, *(str(k) for k in envs_table)]):
        own = envs_table.get(name)
        own_span = index.span((*prefix, "env", name)) if isinstance(own, dict) else None
        base_span = index.span((*prefix, "env_run_base"))
        span = own_span or base_span or env_span
        settings: dict[str, list[tuple[int, str]]] = {}
        sources: dict[str, str] = {}
        for layer_name, layer, keys in (("env_run_base", base, (*prefix, "env_run_base")),
                                        (f"env.{name}", _table(own), (*prefix, "env", name))):
            for key, value in layer.items():
                where = index.span((*keys, key)) or span
                settings[key] = _toml_setting(file.lines, key, value, where)
                sources[key] = layer_name
        envs.append(_Env(name=name, span=span, own=own_span is not None, settings=settings, sources=sources))
    return envs


def _toml_product(factors: list[Any]) -> list[str]:
    lists = [[str(x) for x in f] if isinstance(f, list) else [str(f)] for f in factors]
    return ["-".join(p) for p in itertools.islice(itertools.product(*lists), GENERATED_ENV_LIMIT)]


def _toml_setting(lines: list[str], key: str, value: Any, span: tuple[int, int]) -> list[tuple[int, str]]:
    """A tox TOML setting as (line, text) items: each command of a commands array on its own line."""
    if key.startswith("commands") and isinstance(value, list):
        found: list[tuple[int, str]] = []
        after = 0
        for command in value:
            args = command if isinstance(command, list) else [command]
            text = " ".join(_toml_arg(a) for a in args)
            first_literal = next((a for a in args if isinstance(a, str)), text)
            line = _locate(lines, f'"{first_literal}"', span, after)[0]
            line = line if line != span[0] or span[0] == span[1] else _locate(lines, first_literal, span, after)[0]
            after = line
            found.append((line, text))
        return found
    if isinstance(value, list):
        return [(span[0], ", ".join(str(v) for v in value if not isinstance(v, dict | list)))]
    if isinstance(value, str | int | float | bool):
        return [(span[0], str(value).lower() if isinstance(value, bool) else str(value))]
    return []


def _toml_arg(arg: Any) -> str:
    """One argument of a tox TOML command: a string, or a `{replace = ...}` table shown in tox's INI style."""
    if isinstance(arg, str):
        return _quote(arg)
    if isinstance(arg, dict):
        kind = arg.get("replace")
        if kind == "posargs":
            default = arg.get("default")
            shown = " ".join(str(d) for d in default) if isinstance(default, list) else ""
            return f"{{posargs:{shown}}}" if shown else "{posargs}"
        if kind == "env":
            return f"{{env:{arg.get('name', '')}}}"
        if kind == "ref":
            of = arg.get("of")
            return f"{{ref:{'.'.join(str(o) for o in of) if isinstance(of, list) else of}}}"
        return "{" + str(kind) + "}"
    return _quote(str(arg))


# ==================================================================== nox


NOXFILES = Wants(names=frozenset({"noxfile.py"}))


_NOX_MODULES = ("nox", "nox_poetry", "nox_uv")
_SESSION_CALLS = {"run": "", "run_always": "", "run_install": "", "install": "pip install ",
                  "conda_install": "conda install "}


@detector("nox", wants=NOXFILES)
def detect_noxfile(ctx: DetectContext, file: FileText) -> None:
    path = file.path
    try:
        tree = ast.parse(file.text, filename=path)
    except SyntaxError as exc:
        ctx.diagnostic(path, f"not valid Python: {exc.msg}", line=exc.lineno)
        return
    except (ValueError, RecursionError, MemoryError) as exc:
        ctx.diagnostic(path, f"not readable as Python: {type(exc).__name__}")
        return
    modules, session_names = _nox_imports(tree)
    constants = _module_constants(tree)
    defaults = _default_sessions(tree, modules, constants)
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        decorator = next((d for d in node.decorator_list if _is_session_decorator(d, modules, session_names)), None)
        if decorator is None:
            continue
        ctx.add_task(_nox_task(ctx, path, node, decorator, constants, modules, defaults))


def _nox_imports(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to the nox module (`import nox as n`) and to its `session` decorator."""
    modules: set[str] = set()
    sessions: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _NOX_MODULES:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module in _NOX_MODULES:
            for alias in node.names:
                if alias.name == "session":
                    sessions.add(alias.asname or alias.name)
    return modules, sessions


def _is_session_decorator(node: ast.expr, modules: set[str], sessions: set[str]) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id in sessions
    return (
        isinstance(target, ast.Attribute)
        and target.attr == "session"
        and isinstance(target.value, ast.Name)
        and target.value.id in modules
    )


def _module_constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level `NAME = <literal>` assignments (so `python=PYTHONS` can be shown as its value)."""
    constants: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                try:
                    constants[target.id] = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    constants.pop(target.id, None)
    return constants


def _default_sessions(tree: ast.Module, modules: set[str], constants: dict[str, Any]) -> list[str] | None:
    """`nox.options.sessions = [...]`: the sessions plain `nox` runs."""
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "sessions"
                and isinstance(target.value, ast.Attribute)
                and target.value.attr == "options"
                and isinstance(target.value.value, ast.Name)
                and target.value.value.id in modules
            ):
                value = _literal(node.value, constants)
                if isinstance(value, list | tuple):
                    return [str(v) for v in value]
    return None


def _literal(node: ast.expr, constants: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _shown(node: ast.expr, constants: dict[str, Any]) -> str:
    """A keyword value as text: its literal value (lists joined), or `<expression>`."""
    value = _literal(node, constants)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if value is not None:
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(node, ast.Constant):  # `python=None`
        return "none"
    return f"<{_unparse(node)}>"


def _unparse(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        return "expression"
    return text if len(text) <= 80 else text[:77] + "..."


def _nox_task(
    ctx: DetectContext,
    path: str,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    decorator: ast.expr,
    constants: dict[str, Any],
    modules: set[str],
    defaults: list[str] | None,
) -> Task:
    name = node.name
    attributes: dict[str, str] = {}
    depends: list[str] = []
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == "name":
                name = str(_literal(keyword.value, constants) or name)
            elif keyword.arg in ("python", "py"):
                attributes["python"] = _shown(keyword.value, constants)
            elif keyword.arg == "requires":
                value = _literal(keyword.value, constants)
                depends = [str(v) for v in value] if isinstance(value, list | tuple) else []
            elif keyword.arg in ("tags", "venv_backend", "reuse_venv", "default"):
                attributes[keyword.arg] = _shown(keyword.value, constants)
    parametrize = _parametrize(node, modules, constants)
    if parametrize:
        attributes["parametrize"] = parametrize
    if defaults is not None:
        attributes["default"] = "true" if name in defaults else "false"
    commands, hooks = _session_calls(ctx, path, node)
    docstring = ast.get_docstring(node)
    description = inspect.cleandoc(docstring).split("\n\n", 1)[0].replace("\n", " ").strip() if docstring else None
    first_line = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return Task(
        id=f"nox:{path}#{name}",
        runner="nox",
        name=name,
        path=path,
        invocation=f"nox -s {name}",
        description=ctx.redact(description, path)[:DESCRIPTION_LIMIT] if description else None,
        depends_on=depends,
        commands=commands,
        hooks=hooks,
        attributes={k: ctx.redact(v, path) for k, v in attributes.items()},
        evidence=ctx.evidence(path, first_line, node.end_lineno or node.lineno),
    )


def _parametrize(node: ast.FunctionDef | ast.AsyncFunctionDef, modules: set[str], constants: dict[str, Any]) -> str:
    found: list[str] = []
    for decorator in node.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "parametrize"
            and isinstance(decorator.func.value, ast.Name)
            and decorator.func.value.id in modules
            and len(decorator.args) >= 2
        ):
            found.append(f"{_shown(decorator.args[0], constants)}: {_shown(decorator.args[1], constants)}")
    return "; ".join(found)


def _session_calls(
    ctx: DetectContext, path: str, node: ast.FunctionDef | ast.AsyncFunctionDef
) -> tuple[list[Command], list[str]]:
    """`session.run/install/...` calls on the session parameter, in source order, and `session.notify` targets."""
    params = node.args.posonlyargs + node.args.args
    if not params:
        return [], []
    session = params[0].arg
    calls: list[ast.Call] = []
    for child in ast.walk(node):
        if (
            isinstance(child, ast.Call)
            and isinstance(child.func, ast.Attribute)
            and isinstance(child.func.value, ast.Name)
            and child.func.value.id == session
        ):
            calls.append(child)
    calls.sort(key=lambda c: (c.lineno, c.col_offset))
    commands: list[Command] = []
    hooks: list[str] = []
    for call in calls:
        method = call.func.attr  # type: ignore[attr-defined]
        if method == "notify":
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                hooks.append(call.args[0].value)
            continue
        if method not in _SESSION_CALLS:
            continue
        words = [_argument(a) for a in call.args]
        if not words:
            continue
        text = _SESSION_CALLS[method] + " ".join(words)
        commands.append(ctx.command(text, path, call.lineno, call.end_lineno or call.lineno))
    return commands, hooks


def _argument(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _quote(node.value)
    if isinstance(node, ast.Starred):
        return f"<*{_unparse(node.value)}>"
    return f"<{_unparse(node)}>"
