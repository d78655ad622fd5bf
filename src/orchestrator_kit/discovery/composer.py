"""Composer: the `scripts` of every `composer.json` (outside `vendor/`), one Task per script.

A script is a command string, or a list of them; `@other` runs another script (a dependency), `@php`/`@composer`
run PHP or Composer, a `Class::method` string is a PHP callback (Composer documentation, "Scripts"). Composer's
event names (`post-install-cmd`, `pre-update-cmd`, ...) are hooks that run with those commands, not something a
person runs: they are kept with the `event` attribute. Descriptions come from `scripts-descriptions`.
Invocation: `composer run-script name`.
"""

from __future__ import annotations

import re

from ..repo import FileText
from ._locate import json_key_line, json_object
from .base import DetectContext, Wants, detector

_EVENT = re.compile(r"^(?:pre|post)-[a-z-]+$")
COMPOSER_FILES = Wants(names=frozenset({"composer.json"}))


@detector("composer", wants=COMPOSER_FILES)
def detect_composer(ctx: DetectContext, file: FileText) -> None:
    data = json_object(ctx, file)
    scripts = data.get("scripts") if data is not None else None
    if data is None or not isinstance(scripts, dict):
        return
    descriptions = data.get("scripts-descriptions")
    descriptions = descriptions if isinstance(descriptions, dict) else {}
    lines = file.lines
    table = json_key_line(lines, "scripts")
    for name, value in scripts.items():
        commands = [value] if isinstance(value, str) else value if isinstance(value, list) else None
        line = json_key_line(lines, name, table - 1, table)
        if commands is None or not all(isinstance(c, str) for c in commands):
            ctx.diagnostic(file.path, f"composer script '{name}' is not a command or a list of commands", line=line)
            continue
        depends = [c[1:].split()[0] for c in commands if c.startswith("@") and c[1:].split()
                   and c[1:].split()[0] not in ("php", "composer", "putenv")]
        attributes = {"event": "true"} if _EVENT.match(name) else {}
        description = descriptions.get(name)
        ctx.add_task(ctx.task(
            "composer", file.path, name, invocation=f"composer run-script {name}",
            description=description if isinstance(description, str) else None, attributes=attributes,
            depends_on=depends, commands=[ctx.command(c, file.path, line) for c in commands],
            evidence=ctx.evidence(file.path, line),
        ))
