"""Rake: `Rakefile` (any case, `rakefile.rb`) and `*.rake` files (Rails' `lib/tasks/*.rake`), one Task per task.

Read line by line, never run: `task :name`, `task name: [:dep, ...]`, `task "name" => :dep`, `task :name, [:arg]
=> :dep`, with the `desc "..."` line right above as the description; `namespace :db do` ... `end` prefixes the
names inside (`db:migrate`), closed by the `end` at the namespace's own indentation. Invocation: `rake name`
(`bin/rails name` where `bin/rails` exists, as Rails apps run them).
"""

from __future__ import annotations

import re

from ..repo import FileText
from .base import DetectContext, Wants, detector

_NAMESPACE = re.compile(r"""^(\s*)namespace\s*\(?\s*[:"']([\w-]+)["']?\s*\)?\s*do\b""")
_TASK = re.compile(r"""^\s*(?:multi)?task\s*\(?\s*(?::([\w?!-]+)|["']([\w:?!-]+)["']|([\w?!-]+):)""")
_DEPS = re.compile(r"""=>\s*\[?([^\]\n]*?)\]?\s*(?:do\b|$)|"""
                   r"""^\s*\w*task\s*\(?\s*[\w?!-]+:\s*\[?([^\]\n]*?)\]?\s*(?:do\b|$)""")
_SYMBOL = re.compile(r""":([\w:?!-]+)|["']([\w:?!-]+)["']""")
_DESC = re.compile(r"""^\s*desc\s*\(?\s*["'](.+?)["']""")

RAKE_FILES = Wants(names=frozenset({"Rakefile", "rakefile", "Rakefile.rb", "rakefile.rb"}), globs=("*.rake",))


@detector("rake", wants=RAKE_FILES)
def detect_rake(ctx: DetectContext, file: FileText) -> None:
    program = "bin/rails" if ctx.exists("bin/rails") else "rake"
    namespaces: list[tuple[int, str]] = []  # (indentation, name)
    description: str | None = None
    for index, line in enumerate(file.lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped == "end" and namespaces and namespaces[-1][0] == indent:
            namespaces.pop()
            continue
        namespace = _NAMESPACE.match(line)
        if namespace:
            namespaces.append((len(namespace.group(1)), namespace.group(2)))
            continue
        desc = _DESC.match(line)
        if desc:
            description = desc.group(1)
            continue
        task = _TASK.match(line)
        if task is None:
            if stripped and not stripped.startswith("#"):
                description = None if not stripped.startswith(("desc", "#")) else description
            continue
        name = next(g for g in task.groups() if g)
        full = ":".join([*(n for _, n in namespaces), name])
        depends = []
        deps = _DEPS.search(line)
        if deps:
            depends = [a or b for a, b in _SYMBOL.findall(deps.group(1) or deps.group(2) or "")]
        ctx.add_task(ctx.task("rake", file.path, full, invocation=f"{program} {full}", description=description,
                              depends_on=depends, evidence=ctx.evidence(file.path, index + 1)))
        description = None
