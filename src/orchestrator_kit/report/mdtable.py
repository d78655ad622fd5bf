"""Markdown tables: one row per item, cells made safe (pipes escaped, newlines folded, long text shortened)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

CELL_LIMIT = 160


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, newlines folded, text over CELL_LIMIT shortened."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ⏎ ").strip()
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 3] + "..."


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out.extend("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)
    return out
