"""Maven: `pom.xml` profiles and plugin executions bound to lifecycle phases, as tasks.

Read with regular expressions over the POM text (no XML entity is expanded and nothing is resolved):
* each `<profile>` with an `<id>` is a task run as `mvn -P <id> <phase>`; its activation (`activeByDefault`,
  `<property>`, `<jdk>`, `<os>`) is kept as an attribute;
* each plugin `<execution>` with a `<phase>` is a task named `<artifactId>:<goal>@<execution id>` run by `mvn
  <phase>` (Maven's "Introduction to the Build Lifecycle": executions bind goals to phases), with the phase and
  goals as attributes. Executions without a phase run at the goal's default phase and are left out.
Invocation uses `./mvnw` where the Maven wrapper sits at the root, else `mvn`.
"""

from __future__ import annotations

import re

from ..repo import FileText
from .base import DetectContext, Wants, detector, directory_of

_TAG = {name: re.compile(rf"<{name}>\s*([^<]+?)\s*</{name}>") for name in ("id", "phase", "artifactId", "goal")}
_ACTIVATION = re.compile(r"<activation>(.*?)</activation>", re.DOTALL)
POM_FILES = Wants(names=frozenset({"pom.xml"}))


def _elements(text: str, tag: str) -> list[tuple[int, int, str]]:
    """(start, end, inner text) of each `<tag>...</tag>`, left to right; `str.find` keeps it linear where a lazy
    regex would rescan the rest of a file full of unclosed tags."""
    found: list[tuple[int, int, str]] = []
    opening, closing = f"<{tag}>", f"</{tag}>"
    at = 0
    while (start := text.find(opening, at)) >= 0:
        end = text.find(closing, start)
        if end < 0:
            break
        found.append((start, end + len(closing), text[start + len(opening) : end]))
        at = end + len(closing)
    return found


def _first(name: str, text: str) -> str | None:
    match = _TAG[name].search(_without_nested(text))
    return match.group(1) if match else None


def _without_nested(text: str) -> str:
    """The text with nested executions/plugins/dependencies blanked, so that `<id>` means this element's id."""
    return re.sub(r"<(executions|dependencies|plugins|build|configuration)>.*?</\1>", "", text, flags=re.DOTALL)


@detector("maven", wants=POM_FILES)
def detect_pom(ctx: DetectContext, file: FileText) -> None:
    text = file.text
    folder = directory_of(file.path)
    program = "./mvnw" if ctx.exists("mvnw") else "mvn"
    where = "" if folder == "." else f" -f {file.path}"

    def line(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    for profile_start, profile_end, body in _elements(text, "profile"):
        profile_id = _first("id", body)
        if not profile_id:
            continue
        attributes: dict[str, str] = {}
        activation = _ACTIVATION.search(body)
        if activation:
            attributes["activation"] = " ".join(re.sub(r"<[^>]+>", " ", activation.group(1)).split())
        ctx.add_task(ctx.task("maven", file.path, f"profile {profile_id}", key=f"profile:{profile_id}",
                              invocation=f"{program}{where} -P {profile_id} verify", attributes=attributes,
                              evidence=ctx.evidence(file.path, line(profile_start), line(profile_end))))
    for plugin_start, _plugin_end, body in _elements(text, "plugin"):
        artifact = _first("artifactId", body) or "plugin"
        offset = plugin_start + len("<plugin>")
        for execution_start, execution_end, inner in _elements(body, "execution"):
            phase = _first("phase", inner)
            if not phase:
                continue
            goals = _TAG["goal"].findall(inner)
            execution_id = _first("id", inner) or "default"
            name = f"{artifact}:{'+'.join(goals) or '?'}@{execution_id}"
            start, end = offset + execution_start, offset + execution_end
            ctx.add_task(ctx.task("maven", file.path, name, invocation=f"{program}{where} {phase}",
                                  attributes={"phase": phase, "goals": ", ".join(goals), "plugin": artifact},
                                  evidence=ctx.evidence(file.path, line(start), line(end))))
