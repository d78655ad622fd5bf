""".NET: local tools in `.config/dotnet-tools.json` and custom MSBuild targets in project and build files.

* `dotnet-tools.json` (the local tool manifest): each tool's `commands` are tasks run as `dotnet tool run <cmd>`
  (or `dotnet <cmd>`), with the package and version as attributes.
* `*.csproj`, `*.fsproj`, `*.vbproj`, `*.proj`, `*.props`, `*.targets`, `Directory.Build.*`: each
  `<Target Name="X">` is a task run as `dotnet msbuild <file> -t:X`, with `DependsOnTargets` as dependencies and
  `BeforeTargets`/`AfterTargets` (hooks into the build) as attributes, and the `Exec Command` lines it runs.
  Read with regular expressions over the XML text (nothing is evaluated; MSBuild properties stay as written).
"""

from __future__ import annotations

import re

from ..repo import FileText
from ._locate import json_key_line, json_object
from .base import DetectContext, Wants, detector

_TARGET = re.compile(r"<Target\b([^>]*?)(/?)>", re.DOTALL)
_ATTRIBUTE = re.compile(r"""(\w+)\s*=\s*"([^"]*)\"""")
_EXEC = re.compile(r"""<Exec\b[^>]*?\bCommand\s*=\s*"([^"]*)\"""", re.DOTALL)
MSBUILD_GLOBS = ("*.csproj", "*.fsproj", "*.vbproj", "*.proj", "*.props", "*.targets")
DOTNET_FILES = Wants(names=frozenset({"dotnet-tools.json"}), globs=MSBUILD_GLOBS)


@detector("dotnet", wants=DOTNET_FILES)
def detect_dotnet(ctx: DetectContext, file: FileText) -> None:
    if file.path.endswith("dotnet-tools.json"):
        _tools(ctx, file)
    else:
        _targets(ctx, file)


def _tools(ctx: DetectContext, file: FileText) -> None:
    data = json_object(ctx, file)
    tools = data.get("tools") if data is not None else None
    if data is None or not isinstance(tools, dict):
        return
    lines = file.lines
    for package, spec in tools.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("commands"), list):
            continue
        line = json_key_line(lines, package)
        for command in spec["commands"]:
            if not isinstance(command, str):
                continue
            attributes = {"package": package}
            if isinstance(spec.get("version"), str):
                attributes["version"] = spec["version"]
            ctx.add_task(ctx.task("dotnet", file.path, command, invocation=f"dotnet tool run {command}",
                                  attributes=attributes, evidence=ctx.evidence(file.path, line)))


def _targets(ctx: DetectContext, file: FileText) -> None:
    text = file.text
    for match in _TARGET.finditer(text):
        attributes = dict(_ATTRIBUTE.findall(match.group(1)))
        name = attributes.get("Name")
        if not name:
            continue
        start = text.count("\n", 0, match.start()) + 1
        closing = match.end() if match.group(2) else text.find("</Target>", match.end())
        closing = match.end() if closing < 0 else closing
        end = text.count("\n", 0, closing) + 1
        body = text[match.end():closing]
        hooks = {key: value for key, value in attributes.items() if key in ("BeforeTargets", "AfterTargets")}
        if "Condition" in attributes:
            hooks["condition"] = attributes["Condition"]
        depends = [t.strip() for t in attributes.get("DependsOnTargets", "").split(";") if t.strip()]
        commands = []
        for exec_match in _EXEC.finditer(body):
            line = text.count("\n", 0, match.end() + exec_match.start()) + 1
            commands.append(ctx.command(" ".join(exec_match.group(1).split()), file.path, line))
        ctx.add_task(ctx.task("dotnet", file.path, name, invocation=f"dotnet msbuild {file.path} -t:{name}",
                              attributes=hooks, depends_on=depends, commands=commands,
                              evidence=ctx.evidence(file.path, start, end)))
