"""Tables that fit the terminal: columns chosen by width, ids never broken, long text moved to a detail line.

`fitted(title, columns, rows, width)` lays a table out for `width` characters:
0. a column no row fills leaves the table (its header alone says nothing);
1. every column's natural width is max(header, longest cell); a `text` column may shrink to TEXT_MIN or its longest
   word, whichever is wider (it wraps between words, so a path in it stays whole), and only when that leaves no
   room to TEXT_MIN (then a word longer than the column is folded); `id` and `short` columns never wrap (an id
   split over two lines cannot be copied);
2. while the minimum widths plus the gaps (GAP between columns) exceed `width`, the column with the highest `drop`
   rank leaves the table and its value moves to the row's detail line (`Header: value; Header: value`); a `detail`
   column is always on the detail line unless every column fits at its natural width;
3. text columns start at TEXT_MIN and share the room left in proportion to (natural - TEXT_MIN), never above
   their natural width; a detail line wraps under a hanging indent of DETAIL_INDENT.
4. when even the columns that never leave do not fit (an id longer than the terminal), the table is stacked: each
   row's `id` cells on a line of their own (or one line each), whole and unbroken even past the terminal's edge
   (the terminal wraps it softly, so it still copies as one word; a newline folded into it would not), the rest
   on its detail line, and no header row (nothing lines up under it).
With `wide`, nothing is dropped or wrapped: the table takes its natural width and the terminal may wrap it.
A `right` column (a number; its unit goes in the header) is right-aligned, header included.
The layout is a column grid without borders (borders cost 3 characters a column at 80 columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Column, Table
from rich.text import Text

from .terminal import printable, safe_console

GAP = 2
TEXT_MIN = 16
DETAIL_INDENT = 4


@dataclass(frozen=True)
class Col:
    """A table column: `kind` says how it may be laid out; `drop` ranks which leaves first (0 never leaves)."""

    header: str
    kind: Literal["id", "short", "text", "detail"] = "short"
    drop: int = 0
    right: bool = False


def fitted(title: str, columns: Sequence[Col], rows: Sequence[Sequence[str | Text]], width: int,
           *, wide: bool = False) -> RenderableType:
    """The table as a renderable for `width` characters (see the module docstring)."""
    cells = [[_cell(c) for c in row] for row in rows]
    natural = [max([len(col.header), *(_longest(row[i]) for row in cells)]) for i, col in enumerate(columns)]
    shown = list(range(len(columns)))
    if not wide and cells:  # a column no row fills says nothing but its header
        shown = [i for i in shown if any(row[i].plain.strip() for row in cells)] or shown
    if not wide and not _all_fit([natural[i] for i in shown], width):
        shown = [i for i in shown if columns[i].kind != "detail"]
        # text columns wrap between words; only when the words leave no room are they folded
        for least in (_least(columns, cells, natural, words=True), _least(columns, cells, natural, words=False)):
            chosen = _choose(shown, columns, least, width)
            if _need(chosen, least) <= width:
                break
        shown = chosen
        if _need(shown, least) > width:
            return _stacked(title, columns, cells, width)
    else:
        least = natural
    widths = _widths(shown, natural, least, width, wide=wide)
    moved = [i for i in range(len(columns)) if i not in shown]
    header = Table.grid(*(_column(columns[i], widths[i], wrap=False) for i in shown), padding=(0, GAP, 0, 0))
    header.add_row(*(Text(columns[i].header, style="bold") for i in shown))
    parts: list[RenderableType] = [Text(title, style="bold italic"), header]
    for row in cells:
        grid = Table.grid(*(_column(columns[i], widths[i], wrap=not wide and columns[i].kind == "text")
                            for i in shown), padding=(0, GAP, 0, 0))
        grid.add_row(*(row[i] for i in shown))
        parts.append(grid)
        detail = _detail(columns, row, moved)
        if detail is not None:
            parts.append(detail)
    return Group(*parts)


def _least(columns: Sequence[Col], cells: list[list[Text]], natural: list[int], *, words: bool) -> list[int]:
    """Each column's narrowest width: a text column min(natural, TEXT_MIN), raised to its longest word with `words`
    (a path in a task's text then wraps whole); every other column its natural width."""
    least = []
    for i, col in enumerate(columns):
        if col.kind != "text":
            least.append(natural[i])
            continue
        word = max((len(w) for row in cells for w in row[i].plain.split()), default=0) if words else 0
        least.append(min(natural[i], max(TEXT_MIN, word)))
    return least


def _choose(shown: list[int], columns: Sequence[Col], least: list[int], width: int) -> list[int]:
    """The columns kept: the highest `drop` rank leaves first while the narrowest layout is wider than `width`."""
    shown = list(shown)
    while len(shown) > 1 and _need(shown, least) > width:
        droppable = [i for i in shown if columns[i].drop > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    return shown


def _column(col: Col, width: int, *, wrap: bool) -> Column:
    return Column(width=width, no_wrap=not wrap, overflow="fold" if col.kind == "text" else "ellipsis",
                  justify="right" if col.right else "left")


def _detail(columns: Sequence[Col], row: list[Text], moved: Sequence[int]) -> RenderableType | None:
    """`Header: value; Header: value` of the row's moved columns, under a hanging indent; None when all are empty."""
    details = [i for i in moved if row[i].plain.strip()]
    if not details:
        return None
    line = Text()
    for n, i in enumerate(details):
        line.append(("; " if n else "") + columns[i].header + ": ", style="dim")
        line.append_text(row[i])
    return Padding(line, (0, 0, 0, DETAIL_INDENT))


def _stacked(title: str, columns: Sequence[Col], cells: list[list[Text]], width: int) -> RenderableType:
    """Each row as its ids on one line (each on a line of its own when together they pass `width`; never broken)
    and every other cell on its detail line."""
    ids = [i for i, col in enumerate(columns) if col.kind == "id"] or [0]
    rest = [i for i in range(len(columns)) if i not in ids]
    parts: list[RenderableType] = [Text(title, style="bold italic")]
    for row in cells:
        head = Text(" " * GAP).join(row[i] for i in ids)
        for line in [head] if len(head) <= width else [row[i] for i in ids if row[i].plain]:
            line = line.copy()
            line.no_wrap, line.overflow = True, "ignore"  # printed uncropped (print_fitted): module docstring
            parts.append(line)
        detail = _detail(columns, row, rest)
        if detail is not None:
            parts.append(detail)
    return Group(*parts)


def print_fitted(console: Console, title: str, columns: Sequence[Col], rows: Sequence[Sequence[str | Text]], *,
                 wide: bool = False) -> None:
    """Print the table fitted to the console; with `wide`, at its natural width, uncropped (the terminal wraps)."""
    if not wide:
        console.print(fitted(title, columns, rows, console.width), crop=False)  # only a stacked id passes the edge
        return
    cells = [[_cell(c).plain for c in row] for row in rows]
    need = sum(max([len(col.header), *(_longest(Text(row[i])) for row in cells)]) for i, col in enumerate(columns))
    need += GAP * (len(columns) - 1)
    # rich clamps a print to the console's width: a console as wide as the table, on the same file, does not
    wider = safe_console(file=console.file, width=max(need, console.width), force_terminal=console.is_terminal,
                         color_system=console.color_system, no_color=console.no_color)
    wider.print(fitted(title, columns, rows, need, wide=True), crop=False)


def _cell(value: str | Text) -> Text:
    """A cell as Text, its control characters shown (`terminal.printable`) before the table is laid out: the
    console shows them too, but a width measured on the raw text would crop what it shows."""
    if isinstance(value, Text):
        shown = printable(value.plain)
        return value if shown is value.plain else Text(shown, style=value.style)
    return Text(printable(value))


def _longest(text: Text) -> int:
    return max((len(line) for line in text.plain.split("\n")), default=0)


def _all_fit(natural: list[int], width: int) -> bool:
    return sum(natural) + GAP * (len(natural) - 1) <= width


def _need(shown: list[int], widths: list[int]) -> int:
    return sum(widths[i] for i in shown) + GAP * (len(shown) - 1)


def _widths(shown: list[int], natural: list[int], least: list[int], width: int, *, wide: bool) -> dict[int, int]:
    widths = {i: natural[i] for i in shown}
    if wide or _need(shown, natural) <= width:
        return widths
    text = [i for i in shown if natural[i] > least[i]]  # only text columns can be narrower than their natural width
    for i in text:
        widths[i] = least[i]
    room = width - sum(widths.values()) - GAP * (len(shown) - 1)
    share = sum(natural[i] - least[i] for i in text) or 1
    for i in text:  # the room above the minimums, in proportion to what each column would use
        widths[i] += max(0, min(natural[i] - least[i], room * (natural[i] - least[i]) // share))
    return widths
