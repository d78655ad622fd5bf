"""Markdown as a light syntax tree for the procedures detector, with tables read only when asked for.

The tree is the one `markdown_it.tree.SyntaxTreeNode` builds from the token stream of
`MarkdownIt("commonmark").enable("table")` (same node types, `map`, `tag`, `info`, `content`, children and
parent), without its per-access property work, which took about a fifth of the procedures detector's time. One
difference, in cost only: a table's rows, cells and their inline content become nodes the first time the table's
`children` are read, and each cell's inline content is parsed the first time that cell's `children` are read.
Generated documentation (Terraform module READMEs, API references) is mostly tables, two thirds of the tokens
markdown-it makes for such a document, and a table never makes a section a procedure by itself: its text is only
needed for the markers of a section that already is one (see `procedures`).

Tables are recognised by our own block rule, registered in place of markdown-it's `table` rule through its
ruler: the same decisions (see `_table`), but it keeps the table's lines instead of pushing a token per row and
cell; `Node.children` then builds the nodes markdown-it's tokens would have given. A cell's lazy inline parse runs
the same inline parser with the same environment (link reference definitions) and then markdown-it's `text_join`,
as the core chain would have, so its children are the same tokens. tests/discovery/test_mdtree.py compares whole
trees with markdown-it's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import markdown_it
from markdown_it import MarkdownIt, rules_block, rules_inline
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore, text_join
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

_TRIM: str | None  # what markdown-it's table rule strips from rows and cells (markdown-it-py 4)
try:
    from markdown_it.common.utils import MD_TRIM_CHARS

    _TRIM = MD_TRIM_CHARS
except ImportError:  # pragma: no cover - markdown-it-py 3: its own table rule stays
    _TRIM = None

__all__ = ["Node", "parse", "release"]


def _inline_outside_tables(state: StateCore) -> None:
    """markdown-it's core `inline` rule, except for inline tokens inside a table (parsed later by `Node`; with
    `_table` registered there are none)."""
    depth = 0
    md = state.md
    for token in state.tokens:
        kind = token.type
        if kind == "table_open":
            depth += 1
        elif kind == "table_close":
            depth -= 1
        elif kind == "inline":
            if token.children is None:
                token.children = []
            if depth == 0:
                md.inline.parse(token.content, md, state.env, token.children)


# ------------------------------------------------------------------ tables (GFM), recognised without cell tokens

# The delimiter row: `|`, `-`, `:` then at least one more of those or a space/tab (the first character is never
# a space: markdown-it's line start skips them). "- " or "-\t" first is a list item, not a delimiter row.
_DELIMITER_ROW = re.compile(r"[-:|][-:|\t ]+")
_DELIMITER_CELL = re.compile(r":?-+:?")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
# markdown-it-py 4 stops a table once its rows lack more than this many cells in all (empty cells it would fill
# in: a guard against small input expanding into a huge table).
_MAX_FILLED_CELLS = 0x10000
# The first character (after the indent) of every line each of these markdown-it block rules accepts (CommonMark
# preset, markdown-it-py 4): code fence, blockquote, thematic break, list item (a bullet or an ASCII digit), link
# reference definition, HTML block, ATX heading.
_OPENING_CHARACTERS = {
    "fence": "`~", "blockquote": ">", "hr": "*-_", "list": "*-+0123456789", "reference": "[", "html_block": "<",
    "heading": "#",
}
# Those of the blocks that end a table (markdown-it's blockquote terminators): a row starting otherwise is not
# offered to them.
_TERMINATOR_STARTS = frozenset("".join(_OPENING_CHARACTERS[name] for name in
                                       ("fence", "blockquote", "hr", "list", "html_block", "heading")))
_LAZY = "orchestrator_kit.lazy_table"  # key of the table_open token's `meta` holding its `_TableLines`


def _cells(row: str) -> list[str]:
    """A row cut at its unescaped pipes; `\\|` inside a cell becomes `|`; an empty first and last piece (the
    row's outer pipes) are dropped. As markdown-it's table rule cuts rows."""
    pieces = _UNESCAPED_PIPE.split(row)
    if pieces[0] == "":
        del pieces[0]
    if pieces and pieces[-1] == "":
        pieces.pop()
    return [piece.replace("\\|", "|") for piece in pieces]


def _cell_count(row: str) -> int:
    """`len(_cells(row))` without cutting: unescaped pipes (each `\\|` is one escaped pipe, and such pairs cannot
    overlap) plus one, less an empty first piece (a pipe at 0) and an empty last one (an unescaped pipe at the end)."""
    count = row.count("|") - row.count("\\|") + 1
    if row.startswith("|"):
        count -= 1
    if count and row.endswith("|") and not row.endswith("\\|"):
        count -= 1
    return count


class _TableLines:
    """What a table's nodes are built from: its first line, header cells (already cut) and trimmed body rows."""

    __slots__ = ("body", "end", "header", "start")

    def __init__(self, start: int, end: int, header: list[str], body: list[str]) -> None:
        self.start, self.end, self.header, self.body = start, end, header, body


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]


def _table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's GFM `table` block rule, deciding the same: a header row with a pipe and N cells, then a
    delimiter row of N cells `-`, `:-`, `-:` or `:-:` (outer pipes optional), neither indented as code; body rows
    follow until a blank line, a line less indented than the block, a code indent, a line that starts a block
    able to interrupt a blockquote, or more than `_MAX_FILLED_CELLS` missing cells in all. Instead of a token per
    row and cell it pushes `table_open` (its `meta` holding the lines) and `table_close`."""
    if start + 2 > end:
        return False
    delimiter = start + 1
    if state.sCount[delimiter] < state.blkIndent or state.is_code_block(delimiter):
        return False
    first = state.bMarks[delimiter] + state.tShift[delimiter]
    if first >= state.eMarks[delimiter] or state.src[first] not in "|-:":
        return False  # most lines: decided before the line is copied
    text = state.src[first:state.eMarks[delimiter]]
    if not _DELIMITER_ROW.fullmatch(text) or (text[0] == "-" and text[1] in " \t"):
        return False
    parts = text.split("|")
    last = len(parts) - 1
    columns = 0
    for index, part in enumerate(parts):
        cell = part.strip(_TRIM)
        if not cell:
            if index == 0 or index == last:
                continue  # outer pipes
            return False
        if not _DELIMITER_CELL.fullmatch(cell):
            return False
        columns += 1
    header_row = _line(state, start).strip(_TRIM)
    if "|" not in header_row or state.is_code_block(start):
        return False
    header = _cells(header_row)
    if not header or len(header) != columns:
        return False
    if silent:
        return True

    # Where the body ends, as markdown-it decides it (its parent type is "table" while the terminators look).
    outer_parent = state.parentType
    state.parentType = "table"
    terminators = state.md.block.ruler.getRules("blockquote")
    every_row = terminators != _TERMINATORS  # not those `_register` put there: offer them every row
    src, starts, ends, shifts = state.src, state.bMarks, state.eMarks, state.tShift
    body: list[str] = []
    filled = 0
    line = start + 2
    while line < end:
        if state.sCount[line] < state.blkIndent:
            break
        first = starts[line] + shifts[line]
        if (every_row or (first < ends[line] and src[first] in _TERMINATOR_STARTS)) and any(
            terminate(state, line, end, True) for terminate in terminators
        ):
            break  # (an empty row, not offered, ends the table below)
        row = _line(state, line).strip(_TRIM)
        if not row or state.is_code_block(line):
            break
        filled += columns - _cell_count(row)
        if filled > _MAX_FILLED_CELLS:
            break
        body.append(row)
        line += 1
    opening = state.push("table_open", "table", 1)
    opening.map = [start, line]
    opening.meta = {_LAZY: _TableLines(start, line, header, body)}
    state.push("table_close", "table", -1)
    state.parentType = outer_parent
    state.line = line
    return True


# ------------------------------------------------------------------ block rules offered only lines they can start

# A rule of `_OPENING_CHARACTERS` offered any other line returns False, after a LOGGER.debug call and a few
# look-ups; every line that starts a block is offered to each rule in turn, and every paragraph line to most of
# them (may it interrupt the paragraph?): about a tenth of the parse. They are registered guarded instead.
_RULES = {"code": rules_block.code, "fence": rules_block.fence, "blockquote": rules_block.blockquote,
          "hr": rules_block.hr, "list": rules_block.list_block, "reference": rules_block.reference,
          "html_block": rules_block.html_block, "heading": rules_block.heading}

RuleFunction = Callable[[StateBlock, int, int, bool], bool]


def _opening_with(rule: RuleFunction, characters: str) -> RuleFunction:
    """`rule`, called only for a line whose first character after the indent is one of `characters`."""

    def rule_on_its_lines(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        first = state.bMarks[line] + state.tShift[line]
        return first < len(state.src) and state.src[first] in characters and rule(state, line, end, silent)

    return rule_on_its_lines


def _indented_code(rule: RuleFunction) -> RuleFunction:
    """The indented code rule, called only for a line indented as code (its own first test)."""

    def rule_on_its_lines(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        return state.is_code_block(line) and rule(state, line, end, silent)

    return rule_on_its_lines


def _register(parser: MarkdownIt) -> list[RuleFunction] | None:
    """Put `_table` and the guarded rules in place of markdown-it's, each with the same `alt` (the blocks it may
    interrupt, read back through the ruler). Returns the blockquote terminators (see `_table`), or None when the
    rules are not the ones this module was written against (markdown-it-py 3): then nothing is replaced."""
    ruler = parser.block.ruler
    stock = {"table": rules_block.table, **_RULES}
    active = ruler.getRules("")
    if _TRIM is None or markdown_it.__version__.split(".")[0] != "4" or any(f not in active for f in stock.values()):
        return None
    chains = ruler.get_all_rules()
    alts = {name: [chain for chain in chains if rule in ruler.getRules(chain)] for name, rule in stock.items()}
    ruler.at("table", _table, {"alt": alts["table"]})
    ruler.at("code", _indented_code(rules_block.code), {"alt": alts["code"]})
    for name, characters in _OPENING_CHARACTERS.items():
        ruler.at(name, _opening_with(_RULES[name], characters), {"alt": alts[name]})
    return list(ruler.getRules("blockquote"))


# ------------------------------------------------------------------ inline rules tried only where they can match

# The character each stock inline rule needs at the position it is offered (markdown-it-py 4): any other, and it
# returns False before it looks further or changes anything. `text` is the one rule for every character that does
# not stop text (it takes the run up to the next one) and returns False at those that do.
_INLINE_OPENERS: dict[Callable[[StateInline, bool], bool], str] = {
    rules_inline.newline: "\n", rules_inline.escape: "\\", rules_inline.backtick: "`",
    rules_inline.emphasis.tokenize: "_*", rules_inline.link: "[", rules_inline.image: "!",
    rules_inline.autolink: "<", rules_inline.html_inline: "<", rules_inline.entity: "&",
}


def _inline_dispatch(parser: MarkdownIt) -> Callable[[StateInline], None] | None:
    """markdown-it's inline `tokenize` loop (markdown-it-py 4), offering each position only the rules that can match
    its character, in the ruler's order, instead of every rule in turn: a character that stops text but opens
    nothing (`-`, `:`, `=`, `#`, ...) was offered to all ten rules, each a call that returned False. The same rules
    decide, in the same order, under the same nesting limit: the same tokens. None when a rule is not one of the
    stock ones `_INLINE_OPENERS` describes or the text rule's stop characters cannot be read back: then
    markdown-it's own loop stays."""
    inline = parser.inline
    rules = inline.ruler.getRules("")
    if markdown_it.__version__.split(".")[0] != "4" or not hasattr(inline, "terminator_re"):
        return None
    if not rules or rules[0] is not rules_inline.text or any(rule not in _INLINE_OPENERS for rule in rules[1:]):
        return None
    pattern = inline.terminator_re.pattern
    stops = re.sub(r"\\(.)", r"\1", pattern[1:-1], flags=re.DOTALL)
    if "[" + re.escape(stops) + "]" != pattern:
        return None
    text_rule: tuple[Callable[[StateInline, bool], bool], ...] = (rules_inline.text,)
    # At a stop character `text` returns False: only the rules opened by that character are offered.
    offered = {char: tuple(rule for rule in rules[1:] if char in _INLINE_OPENERS[rule]) for char in stops}

    def tokenize(state: StateInline) -> None:
        end = state.posMax
        max_nesting = state.md.options["maxNesting"]
        src = state.src
        while state.pos < end:
            pos = state.pos
            ok = False
            if state.level < max_nesting:
                for rule in offered.get(src[pos], text_rule):
                    ok = rule(state, False)
                    if ok:
                        if state.pos <= pos:
                            raise RuntimeError("inline rule didn't increment state.pos")
                        break
            if ok:
                if state.pos >= end:
                    break
                continue
            state.append_pending(src[pos])
            state.pos += 1
        if state.pending:
            state.pushPending()

    return tokenize


_PARSER = MarkdownIt("commonmark").enable("table")
_PARSER.core.ruler.at("inline", _inline_outside_tables)
_TERMINATORS = _register(_PARSER)
_TOKENIZE = _inline_dispatch(_PARSER)
if _TOKENIZE is not None:
    _PARSER.inline.tokenize = _TOKENIZE  # type: ignore[method-assign,assignment]  # the link rule calls it through `md` too


def _destination_as_written(url: str) -> str:
    """markdown-it's `normalizeLink` for this tree: the destination as written. A `Node` keeps no link destination
    (no `attrs`), so normalizing one (a URL parse, punycode for the host, percent-encoding: a tenth of the inline
    parse of a documentation page full of links) only fed `validateLink`, which decides whether `[x](y)` is a link
    at all; it reads the protocol, which normalizing keeps, and gives the same answer on the destination as written
    (tests/discovery/test_mdtree.py checks that on seeded odd destinations)."""
    return url


_PARSER.normalizeLink = _destination_as_written  # type: ignore[method-assign]


class Node:
    """A node of the tree: the root ("root"), a token without nesting, or an `_open`/`_close` pair (its type
    without `_open`); the attributes are those of the token (the opening one for a pair)."""

    __slots__ = ("_children", "_deferred", "content", "info", "map", "parent", "tag", "type")

    def __init__(self, kind: str, token: Token | None, parent: Node | None) -> None:
        self.type = kind
        self.parent = parent
        self._children: list[Node] = []
        # What `children` still has to build: a cell's inline token and the environment to parse it in, or a
        # table's lines and that environment.
        self._deferred: tuple[Token | _TableLines, dict[str, Any]] | None = None
        self.map: tuple[int, int] | None
        if token is None:
            self.tag, self.map, self.content, self.info = "", None, "", ""
        else:
            self.tag, self.content, self.info = token.tag, token.content, token.info
            self.map = (token.map[0], token.map[1]) if token.map else None  # a tuple, as SyntaxTreeNode gives it

    @property
    def children(self) -> list[Node]:
        if self._deferred is not None:
            source, env = self._deferred
            self._deferred = None
            if isinstance(source, _TableLines):
                _table_nodes(self, source, env)
            else:
                _PARSER.inline.parse(source.content, _PARSER, env, source.children)  # type: ignore[arg-type]
                state = StateCore("", _PARSER, env)
                state.tokens = [source]
                text_join(state)
                _add(source.children or [], self, env, in_table=0)
        return self._children


def _pair(kind: str, tag: str, parent: Node, line_map: tuple[int, int] | None) -> Node:
    """The node of an `_open`/`_close` pair that markdown-it's table rule pushes (no content, no info)."""
    node = Node(kind, None, parent)
    node.tag, node.map = tag, line_map
    parent._children.append(node)
    return node


def _cell(kind: str, row: Node, line: int, content: str, env: dict[str, Any]) -> None:
    """A `th`/`td` node and its inline node, whose children are parsed when read (as for any table cell)."""
    cell = _pair(kind, kind, row, None)
    token = Token("inline", "", 0, map=[line, line + 1], content=content, children=[])
    inline = Node("inline", token, cell)
    inline._deferred = (token, env)
    cell._children.append(inline)


def _table_nodes(table: Node, lines: _TableLines, env: dict[str, Any]) -> None:
    """The nodes under `table` that markdown-it's table tokens give: `thead > tr > th*` (one per header cell),
    then, when there are body rows, `tbody > tr > td*` with as many cells as the header (missing ones empty,
    extra ones dropped). Cell content is trimmed; rows, sections and cells' inline nodes map to their lines."""
    start = lines.start
    columns = len(lines.header)
    head_row = _pair("tr", "tr", _pair("thead", "thead", table, (start, start + 1)), (start, start + 1))
    for cell in lines.header:
        _cell("th", head_row, start, cell.strip(_TRIM), env)
    if not lines.body:
        return
    body = _pair("tbody", "tbody", table, (start + 2, lines.end))
    for line, text in enumerate(lines.body, start + 2):
        row = _pair("tr", "tr", body, (line, line + 1))
        cells = _cells(text)
        for index in range(columns):
            _cell("td", row, line, cells[index].strip(_TRIM) if index < len(cells) else "", env)


def _add(tokens: list[Token], parent: Node, env: dict[str, Any], *, in_table: int) -> None:
    """Append the nodes of a balanced token stream under `parent`."""
    stack = [parent]
    for token in tokens:
        nesting = token.nesting
        if nesting < 0:
            stack.pop()
            if token.type == "table_close":
                in_table -= 1
            continue
        top = stack[-1]
        if nesting > 0:
            node = Node(token.type.removesuffix("_open"), token, top)
            top._children.append(node)
            stack.append(node)
            if token.type == "table_open":
                in_table += 1
                lines = token.meta.get(_LAZY) if token.meta else None
                if lines is not None:
                    node._deferred = (lines, env)
            continue
        node = Node(token.type, token, top)
        top._children.append(node)
        if token.type == "inline" and in_table:
            node._deferred = (token, env)
        elif token.children:
            _add(token.children, node, env, in_table=0)


def parse(text: str) -> Node:
    """The document's tree (CommonMark plus tables, as `MarkdownIt("commonmark").enable("table")` parses it)."""
    env: dict[str, Any] = {}
    root = Node("root", None, None)
    _add(_PARSER.parse(text, env), root, env, in_table=0)
    return root


def release(root: Node) -> None:
    """Break the tree's parent links once it has been read, so that its nodes are freed by reference counting.

    Each node points at its parent and the parent at its children: a cycle, which only the cyclic garbage collector
    reclaims. The scan pauses that collector while it parses (see `discovery._collector_paused`), so every tree of a
    scan stayed in memory until the end and was then traversed in one collection: 25-50 ms of CPU on a repository
    with a few dozen documents (10,000-15,000 nodes), more than reading its files. Table cells not parsed yet stay
    unparsed (`_children` is walked, not `children`)."""
    stack = [root]
    while stack:
        node = stack.pop()
        node.parent = None
        stack.extend(node._children)
