"""Gradle: custom tasks declared in `build.gradle` / `build.gradle.kts` (any depth), one Task each.

Read by regular expressions over the build script (Groovy or Kotlin DSL), never by running Gradle:
`tasks.register("name")` / `tasks.register<Type>("name")` / `tasks.register('name', Type)`, `tasks.create(...)`,
`task name`, `task name(type: X)`, `task("name")`. The `description = "..."` and `group = "..."` written in the
task's block (the lines up to its closing brace, at most 40) become its description and `group` attribute;
`dependsOn(...)` / `dependsOn ...` names (quoted or `:`-paths) its dependencies. Tasks that plugins add (`build`,
`test`) are not in the file and not reported. Invocation: `./gradlew name` from the root where a `gradlew` wrapper
sits there (`./gradlew :sub:name` for a subproject), else `gradle name`.
"""

from __future__ import annotations

import posixpath
import re

from ..repo import FileText
from .base import DetectContext, Wants, detector, directory_of

_DECLARATION = re.compile(
    r"""(?:\btasks\.(?:register|create)\s*(?:<[\w.]+>)?\s*\(\s*["']([\w.-]+)["']"""
    r"""|^[ \t]*task[ \t]*\([ \t]*["']([\w.-]+)["']"""
    r"""|^[ \t]*task[ \t]+([A-Za-z_][\w-]*)[ \t]*(?:\(|\{|$))""",
    re.MULTILINE,
)
_DESCRIPTION = re.compile(r"""\bdescription\s*=\s*["']([^"'\n]+)["']""")
_GROUP = re.compile(r"""\bgroup\s*=\s*["']([^"'\n]+)["']""")
_DEPENDS = re.compile(r"""\bdependsOn\s*\(?\s*([^)\n]+)""")
_QUOTED = re.compile(r"""["']([\w:.-]+)["']""")
BLOCK_LINES = 40

GRADLE_FILES = Wants(names=frozenset({"build.gradle", "build.gradle.kts"}))


@detector("gradle", wants=GRADLE_FILES)
def detect_gradle(ctx: DetectContext, file: FileText) -> None:
    lines = file.lines
    folder = directory_of(file.path)
    wrapper = ctx.exists("gradlew") or ctx.exists("gradlew.bat")
    project = "" if folder == "." else ":" + folder.replace("/", ":")
    program = "./gradlew" if wrapper else "gradle"
    seen: set[str] = set()
    for match in _DECLARATION.finditer(file.text):
        name = next(g for g in match.groups() if g)
        if name in seen:
            continue
        seen.add(name)
        start = file.text.count("\n", 0, match.start()) + 1
        end, block = _block(lines, start - 1)
        attributes = {"build_file": posixpath.basename(file.path)}
        description = _DESCRIPTION.search(block)
        group = _GROUP.search(block)
        if group:
            attributes["group"] = group.group(1)
        depends = [d for m in _DEPENDS.finditer(block) for d in _QUOTED.findall(m.group(1))]
        ctx.add_task(ctx.task(
            "gradle", file.path, name, invocation=f"{program} {project + ':' if project else ''}{name}",
            description=description.group(1) if description else None, attributes=attributes,
            depends_on=depends, evidence=ctx.evidence(file.path, start, end),
        ))


def _block(lines: list[str], index: int) -> tuple[int, str]:
    """The 1-based last line and the text of the `{ }` block that starts on line `index` (braces counted; a
    declaration without a block is its own line)."""
    depth = 0
    opened = False
    for offset, line in enumerate(lines[index : index + BLOCK_LINES]):
        depth += line.count("{") - line.count("}")
        opened = opened or "{" in line
        if opened and depth <= 0:
            return index + offset + 1, "\n".join(lines[index : index + offset + 1])
        if not opened and offset >= 1:
            break
    if not opened:
        return index + 1, lines[index] if index < len(lines) else ""
    last = min(len(lines), index + BLOCK_LINES)
    return last, "\n".join(lines[index:last])
