"""Writing YAML that reads back as the same data: the one rule PyYAML's emitter gets wrong, in one place.

PyYAML writes a string holding NEL (U+0085), LINE SEPARATOR (U+2028) or PARAGRAPH SEPARATOR (U+2029) in plain or
single-quoted style with the character raw; a YAML reader treats each as a line break and folds it into a space,
so `"a\\x85b"` comes back as `"a b"`. Such strings are forced into double quotes, where the emitter escapes them.
A literal block (`|`) reads back unchanged only when the string has a line break and something besides whitespace,
and does not end in two line breaks (PyYAML writes no `|+` keep indicator for those).
"""

from __future__ import annotations

from typing import Any

import yaml

FOLDED_BREAKS = "\x85\u2028\u2029"


def string_style(value: str, *, block: bool = False) -> str | None:
    """The scalar style for `value`: '"' when it holds a break PyYAML would fold, '|' for multi-line text when
    `block` and the literal block reads back unchanged, else None (PyYAML chooses, which is safe)."""
    if any(c in value for c in FOLDED_BREAKS):
        return '"'
    if block and "\n" in value and value.strip() and not value.endswith("\n\n"):
        return "|"
    return None


def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """A representer for `str` that keeps the round trip (no literal blocks)."""
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=string_style(value))


class RoundTripDumper(yaml.SafeDumper):
    """`yaml.SafeDumper` whose strings always read back unchanged."""


RoundTripDumper.add_representer(str, represent_str)


def dump(data: Any, **options: Any) -> str:
    """`yaml.safe_dump(data, **options)`, except that every string reads back unchanged."""
    text: str = yaml.dump(data, Dumper=RoundTripDumper, **options)
    return text
