"""Task (go-task, taskfile.dev): `Taskfile.yml|yaml`, `taskfile.yml|yaml`, `Taskfile.dist.yml|yaml`.

Read as the Taskfile v3 schema reference describes it: `tasks:` maps a name (namespaced names such as
`db:migrate` included) to either a mapping, a plain list of commands, or one command string. A task mapping
has `desc`, `summary`, `cmds` (each a string, `{cmd}`, `{task: x}` which calls another task, `{defer: ...}`
which runs at the end, or `{for: ..., cmd}`), a single `cmd`, `deps` (strings or `{task}`), `internal`,
`dir`, `aliases`, `prompt`, `platforms`, `sources`/`generates` and `run`. Top-level `includes` (a path or
`{taskfile, dir, optional, internal, flatten}`) are listed in each task's attributes.

A Taskfile in a folder runs as `task -d <folder> <name>`, unless a Taskfile above includes it, when it runs
as `task <namespace>:<name>` from there (`flatten: true` drops the namespace). An included file with another
name (`taskfiles/docker.yml`) is read through the Taskfile that includes it.
"""

from __future__ import annotations

import posixpath
import weakref
from typing import Any

from ..models import Command, Task
from ..repo import FileText
from ..yamlsrc import YamlError, YMap, YSeq, go_yaml_bool, load_yaml_documents, scalar_text, string_list
from .base import DetectContext, Wants, basename, detector

TASKFILE_NAMES = (
    "Taskfile.yml", "taskfile.yml", "Taskfile.yaml", "taskfile.yaml",
    "Taskfile.dist.yml", "taskfile.dist.yml", "Taskfile.dist.yaml", "taskfile.dist.yaml",
)


TASKFILES = Wants(names=frozenset(TASKFILE_NAMES))


@detector("taskfile", wants=TASKFILES)
def detect_taskfile(ctx: DetectContext, file: FileText) -> None:
    docs = ctx.yaml_documents(file)
    if not docs:
        return
    _read_taskfile(ctx, file.path, docs[0], _invocation_prefix(ctx, file.path), {file.path})


def _read_taskfile(ctx: DetectContext, path: str, doc: Any, prefix: str, seen: set[str]) -> None:
    """Tasks of one Taskfile document; included files that no scan would pick up by name are read too."""
    if not isinstance(doc, YMap):
        ctx.diagnostic(path, "not a Taskfile: the top level is not a mapping", line=1)
        return
    version = scalar_text(doc.get("version"))
    if version is not None and not version.startswith("3"):
        ctx.diagnostic(path, f"Taskfile version '{version}' is read with the version 3 rules", severity="info",
                       line=doc.key_line("version"))
    _follow_includes(ctx, path, doc.get("includes"), prefix, seen)
    tasks = doc.get("tasks")
    if tasks is None:
        return
    if not isinstance(tasks, YMap):
        ctx.diagnostic(path, "'tasks' is not a mapping of task names to tasks", line=doc.key_line("tasks"))
        return
    includes = _includes(doc.get("includes"))
    for name, node in tasks.items():
        task = _task(ctx, path, str(name), node, tasks.key_span(name), includes, prefix)
        if task is not None:
            ctx.add_task(task)


_included_read: weakref.WeakKeyDictionary[DetectContext, set[str]] = weakref.WeakKeyDictionary()


def _follow_includes(ctx: DetectContext, path: str, node: Any, prefix: str, seen: set[str]) -> None:
    """Read included Taskfiles with other names (`taskfiles/docker.yml`): their tasks run as `ns:name`.

    A folder include, or a file with a Taskfile name, is read by its own scan instead; remote and templated
    (`{{.VAR}}`) includes cannot be read offline."""
    if not isinstance(node, YMap) or len(seen) > 16:
        return
    base = posixpath.dirname(path)
    for namespace, value in node.items():
        target = _include_target(value)
        if not target or "{{" in target or "://" in target:
            continue
        resolved = posixpath.normpath(posixpath.join(base, target))
        done = _included_read.setdefault(ctx, set())
        if resolved in seen or resolved in done or basename(resolved) in TASKFILE_NAMES or not ctx.exists(resolved):
            continue  # a file included twice is listed once, under its first namespace
        done.add(resolved)
        file = ctx.read(resolved)
        if file is None:
            continue
        docs = ctx.yaml_documents(file)
        if not docs:
            continue
        flatten = isinstance(value, YMap) and go_yaml_bool(value.get("flatten")) is True
        _read_taskfile(ctx, resolved, docs[0], prefix if flatten else f"{prefix}{namespace}:", seen | {resolved})


def _task(
    ctx: DetectContext,
    path: str,
    name: str,
    node: Any,
    span: tuple[int, int],
    includes: list[str],
    prefix: str,
) -> Task | None:
    attributes: dict[str, str] = {}
    depends: list[str] = []
    hooks: list[str] = []
    commands: list[Command] = []
    description: str | None = None
    if isinstance(node, str):  # `build: go build ./...`
        commands.append(ctx.command(node.rstrip("\n"), path, *span))
    elif isinstance(node, YSeq):  # `build: [go vet ./..., go build ./...]`
        _commands(ctx, path, node, commands, depends, hooks, attributes)
    elif isinstance(node, YMap):
        description = _description(node)
        cmds = node.get("cmds")
        if isinstance(cmds, YSeq):
            _commands(ctx, path, cmds, commands, depends, hooks, attributes)
        elif cmds is not None:
            ctx.diagnostic(path, f"task '{name}': 'cmds' is not a list", line=node.key_line("cmds"))
        single = node.get("cmd")
        if isinstance(single, str):
            commands.append(ctx.command(single.rstrip("\n"), path, *node.key_span("cmd")))
        depends = _unique([*_deps(ctx, path, name, node), *depends])
        _attributes(node, attributes)
    elif node is None:
        pass  # `name:` with nothing: a task that does nothing
    else:
        ctx.diagnostic(path, f"task '{name}' is neither a mapping, a list of commands nor a command", line=span[0])
        return None
    if includes:
        attributes["includes"] = ", ".join(includes)
    return ctx.task(
        "task", path, name,
        invocation=f"{prefix}{name}",
        description=description,
        depends_on=depends,
        commands=commands,
        hooks=hooks,
        attributes=attributes,
        evidence=ctx.evidence(path, *span),
    )


def _description(node: YMap) -> str | None:
    desc = scalar_text(node.get("desc"))
    if desc and desc.strip():
        return desc.strip()
    summary = scalar_text(node.get("summary"))
    if summary and summary.strip():
        return summary.strip().split("\n", 1)[0]
    return None


def _commands(
    ctx: DetectContext,
    path: str,
    items: YSeq,
    commands: list[Command],
    depends: list[str],
    hooks: list[str],
    attributes: dict[str, str],
) -> None:
    """Each `cmds` item: a command string, `{cmd}`, `{task}` (a call), `{defer}` (runs at the end), `{for, cmd}`."""
    deferred: list[str] = []
    for index, item in enumerate(items):
        span = items.item_span(index)
        if isinstance(item, YMap):
            if "defer" in item:
                deferred_item = item["defer"]
                if isinstance(deferred_item, YMap) and scalar_text(deferred_item.get("task")):
                    hooks.append(scalar_text(deferred_item.get("task")) or "")
                elif scalar_text(deferred_item):
                    commands.append(ctx.command(scalar_text(deferred_item) or "", path, *span))
                    deferred.append(str(span[0]))
                continue
            called = scalar_text(item.get("task"))
            if called:
                depends.append(called)
                continue
            text = scalar_text(item.get("cmd"))
            if text:
                commands.append(ctx.command(text.rstrip("\n"), path, *span))
            continue
        text = scalar_text(item)
        if text:
            commands.append(ctx.command(text.rstrip("\n"), path, *span))
    if deferred:
        attributes["deferred_lines"] = ", ".join(deferred)


def _deps(ctx: DetectContext, path: str, name: str, node: YMap) -> list[str]:
    deps = node.get("deps")
    if deps is None:
        return []
    if not isinstance(deps, YSeq):
        ctx.diagnostic(path, f"task '{name}': 'deps' is not a list", line=node.key_line("deps"))
        return []
    found: list[str] = []
    for item in deps:
        if isinstance(item, YMap):
            called = scalar_text(item.get("task"))
            if called:
                found.append(called)
        elif scalar_text(item):
            found.append(scalar_text(item) or "")
    return found


def _attributes(node: YMap, attributes: dict[str, str]) -> None:
    # Task decodes `internal` (and an include's `flatten`) into a Go bool with go-yaml (go-task/task
    # taskfile/ast/task.go, include.go), which takes y/yes/on and n/no/off there too, quoted or not.
    if go_yaml_bool(node.get("internal")) is True:
        attributes["internal"] = "true"
    for key in ("dir", "prompt", "run", "method", "label"):
        value = node.get(key)
        text = scalar_text(value) if not isinstance(value, list) else "; ".join(string_list(value))
        if text:
            attributes[key] = text
    for key in ("aliases", "platforms", "sources", "generates"):
        values = string_list(node.get(key))
        if values:
            attributes[key] = ", ".join(values)
    summary = scalar_text(node.get("summary"))
    if summary and summary.strip():
        attributes["summary"] = summary.strip()


def _includes(node: Any) -> list[str]:
    """`includes:` entries as `namespace=path`."""
    if not isinstance(node, YMap):
        return []
    found: list[str] = []
    for namespace, value in node.items():
        target = _include_target(value)
        found.append(f"{namespace}={target}" if target else str(namespace))
    return found


def _include_target(value: Any) -> str | None:
    if isinstance(value, YMap):
        return scalar_text(value.get("taskfile"))
    return scalar_text(value)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


# -------------------------------------------------------------------- how to run it


def _invocation_prefix(ctx: DetectContext, path: str) -> str:
    directory = posixpath.dirname(path)
    if not directory:
        return "task "
    included = _included_by(ctx, path)
    if included is not None:
        includer, namespace = included
        base = _invocation_prefix(ctx, includer)  # the includer sits higher up, so this ends
        return f"{base}{namespace}:" if namespace else base
    return f"task -d {directory} "


def _included_by(ctx: DetectContext, path: str) -> tuple[str, str | None] | None:
    """(Taskfile, namespace or None when flattened) of the nearest Taskfile above that includes this one."""
    directory = posixpath.dirname(path)
    folder = posixpath.dirname(directory)
    while True:
        for name in TASKFILE_NAMES:
            candidate = posixpath.join(folder, name) if folder else name
            if candidate == path or not ctx.exists(candidate):
                continue
            found = _find_include(ctx, candidate, path)
            if found is not None:
                return found
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def _find_include(ctx: DetectContext, includer: str, path: str) -> tuple[str, str | None] | None:
    file = ctx.read(includer)
    if file is None:
        return None
    try:
        docs = load_yaml_documents(file.text)
    except YamlError:
        return None  # the includer's own scan reports its YAML error
    if not docs or not isinstance(docs[0], YMap) or not isinstance(docs[0].get("includes"), YMap):
        return None
    base = posixpath.dirname(includer)
    for namespace, value in docs[0]["includes"].items():
        target = _include_target(value)
        if not target or "{{" in target:
            continue
        resolved = posixpath.normpath(posixpath.join(base, target))
        if resolved == path or (resolved == posixpath.dirname(path) and basename(path) in TASKFILE_NAMES):
            flatten = isinstance(value, YMap) and go_yaml_bool(value.get("flatten")) is True
            return includer, None if flatten else str(namespace)
    return None
