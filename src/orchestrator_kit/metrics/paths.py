"""Path keys shared by the history and token passes, in a module of their own so that counting tokens does not
import the history pass (and its DORA and git-log parsing) it never runs."""

from __future__ import annotations


def directory_of(path: str, depth: int) -> str:
    """The directory key of a file: its first `depth` folders ('.' for a file at the root)."""
    parts = path.split("/")[:-1]
    return "/".join(parts[:depth]) or "."
