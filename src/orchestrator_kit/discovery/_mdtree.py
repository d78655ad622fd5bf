"""Markdown as a light syntax tree for the procedures detector, with table cells read only when asked for.

The tree is the one `markdown_it.tree.SyntaxTreeNode` builds from the same token stream (same node types, `map`,
`tag`, `info`, `content`, children and parent), without its per-access property work, which took about a fifth of
the procedures detector's time. One difference, in cost only: the inline content of table cells is parsed the first
time a cell's `children` are read, not with the rest of the document. Generated documentation (Terraform module
READMEs, API references) is mostly tables, and a table never makes a section a procedure by itself; its text is
only needed for the markers of a section that already is one (see `procedures`). The lazy parse runs the same
inline parser with the same environment (link reference definitions) and then markdown-it's `text_join`, as the
core chain would have, so the children are the same tokens.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore, text_join
from markdown_it.token import Token

__all__ = ["Node", "parse", "release"]


def _inline_outside_tables(state: StateCore) -> None:
    """markdown-it's core `inline` rule, except for inline tokens inside a table (parsed later by `Node`)."""
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


_PARSER = MarkdownIt("commonmark").enable("table")
_PARSER.core.ruler.at("inline", _inline_outside_tables)


class Node:
    """A node of the tree: the root ("root"), a token without nesting, or an `_open`/`_close` pair (its type
    without `_open`); the attributes are those of the token (the opening one for a pair)."""

    __slots__ = ("_children", "_deferred", "content", "info", "map", "parent", "tag", "type")

    def __init__(self, kind: str, token: Token | None, parent: Node | None) -> None:
        self.type = kind
        self.parent = parent
        self._children: list[Node] = []
        self._deferred: tuple[Token, dict[str, Any]] | None = None
        self.map: tuple[int, int] | None
        if token is None:
            self.tag, self.map, self.content, self.info = "", None, "", ""
        else:
            self.tag, self.content, self.info = token.tag, token.content, token.info
            self.map = (token.map[0], token.map[1]) if token.map else None  # a tuple, as SyntaxTreeNode gives it

    @property
    def children(self) -> list[Node]:
        if self._deferred is not None:
            token, env = self._deferred
            self._deferred = None
            _PARSER.inline.parse(token.content, _PARSER, env, token.children)  # type: ignore[arg-type]
            state = StateCore("", _PARSER, env)
            state.tokens = [token]
            text_join(state)
            _add(token.children or [], self, env, in_table=0)
        return self._children


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
