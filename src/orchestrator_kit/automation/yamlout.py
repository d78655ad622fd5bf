"""YAML for CI files, written the way people write it: block style, keys in the given order, multi-line
strings as `|` blocks, `on:` unquoted, a blank line between top-level sections and between jobs."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..yamltext import string_style


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent sequences inside mappings ("steps:\n  - run: x"), as GitHub's and GitLab's docs do.
        super().increase_indent(flow, False)


class Quoted(str):
    """A string always written in double quotes (cron expressions, versions), as people write them."""

    __slots__ = ()


def _quoted(dumper: yaml.SafeDumper, value: Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line text as a `|` block where it reads back unchanged (yamltext.string_style).
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=string_style(value, block=True))


_Dumper.add_representer(str, _str)
_Dumper.add_representer(Quoted, _quoted)


def dump(data: dict[str, Any], *, spaced_keys: tuple[str, ...] = ()) -> str:
    """`data` as YAML; a blank line goes before each top-level key and before each child of `spaced_keys`."""
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000,
                     allow_unicode=True)
    text = re.sub(r"^'on':", "on:", text, flags=re.M)
    text = re.sub(r"^(\s*[^\s#][^\n]*?:) null$", r"\1", text, flags=re.M)  # `workflow_dispatch:`, not `: null`
    out: list[str] = []
    parent: str | None = None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0 and line.strip():
            if out:
                out.append("")
            parent = line.split(":", 1)[0]
        elif indent == 2 and parent in spaced_keys and not line.startswith("  -") and out and out[-1] != f"{parent}:":
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"
