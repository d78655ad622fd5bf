"""Terraform: backends, providers and modules of each root or module folder (`*.tf`, `*.tf.json`).

There is no HCL parser among our dependencies, so `*.tf` files are read by a small scanner that follows the
HCL native syntax specification closely enough for the top-level structure: blocks (`type "label" ... { }`)
and attributes (`name = expression`), with quoted strings and their `${ }`/`%{ }` templates, heredocs
(`<<EOF` and `<<-EOF`), comments (`#`, `//`, `/* */`) and object constructors (`{ key = value, ... }`),
all tracked with brace depth so that a `}` inside a string, heredoc or comment never closes a block.
`*.tf.json` files follow Terraform's JSON configuration syntax; their line numbers are those of the first
occurrence of each block's label (JSON has no better anchor without a position-aware parser).

Found per folder (a Terraform module is a folder, all its files merged):

* `terraform { backend "<type>" { ... } }` and `terraform { cloud { ... } }` -> a `terraform-backend` item
  with the literal settings; values of credential-like settings are replaced by `[REDACTED]`; an empty
  backend block is a partial configuration completed by `terraform init -backend-config`;
* `required_providers` entries (`aws = { source, version }`, or the legacy `aws = "~> 4.0"`) and `provider`
  blocks (region, alias) -> one `terraform-provider` item per provider local name, merged, counting the
  `resource` and `data` blocks that use it (a block's `provider` argument, else the resource type's prefix
  before the first underscore, Terraform's own rule); a provider only used implicitly gets source
  `hashicorp/<name>`, as Terraform assumes;
* `module "<name>" { source, version }` -> a `terraform-module` item.
"""

from __future__ import annotations

import json
import operator
import re
import weakref
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import accumulate, compress, count, repeat
from typing import Any

from ..datatext import load_json
from ..limits import exhausted, note_exhausted
from ..models import Evidence, InfraItem
from ..repo import FileText
from ._infra_common import SECRET_KEY
from .base import DetectContext, Wants, detector, directory_of, under, vendored

# ------------------------------------------------------------------ the scanner


# A lexical token, as a plain tuple: (kind, text, line, start, end, literal). Kind is ident, string, heredoc, number,
# newline or punct; start and end index the source; literal is False for a string with template interpolation (and
# for heredocs). A tuple, not a class: the scanner makes one per token of every Terraform file, and building a
# dataclass instance cost about as much as finding the token (indexes: 0 kind, 1 text, 2 line, 3 start, 4 end,
# 5 literal).
Token = tuple[str, str, int, int, int, bool]


@dataclass
class Value:
    """An attribute value: `text` is the literal (for plain strings, numbers, booleans) or the expression
    as written; `items` holds the entries of an object constructor."""

    text: str
    line: int
    end: int
    literal: bool
    items: dict[str, Value] | None = None


@dataclass
class Block:
    """`type "label"... { attributes and nested blocks }` with its first and last line."""

    type: str
    labels: list[str]
    start: int
    end: int
    attributes: dict[str, Value] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


# One pass of this pattern finds the next token; only strings with templates, heredocs and block comments
# need the slower character-by-character code. A plain string is written "unrolled" (runs of ordinary
# characters between the escapes and lone `$`/`%`, Friedl's normal* (special normal*)*): the same strings as
# one alternation per character, which was the pattern's main cost (a third less time for it on
# hashicorp/terraform's files). The branches start with different characters, so their order only decides how
# soon a token is found: the most frequent first (punctuation that never starts anything longer, then newlines
# and identifiers, two fifths of the tokens); `other` (any other character) stays last.
_TOKEN = re.compile(
    r"""[ \t\r]*
    (?: (?P<punct>[{}\[\](),=.:?])
      | (?P<newline>\n)
      | (?P<ident>[^\W\d][\w-]*)  # HCL identifiers: Unicode ID_Start, then ID_Continue or '-' (hclsyntax spec)
      | (?P<plain>"[^"\\\n$%]*(?:(?:\\[^\n]|\$(?!\{)|%(?!\{))[^"\\\n$%]*)*")  # a string, loop unrolled
      | (?P<comment>(?:\#|//)[^\n]*)
      | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
      | (?P<other>.)
      | $ )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(.)")
_ORDINARY = re.compile(r'[^"\\\n$%]+')  # inside a quoted template: what no branch of `Scanner._string` treats specially
_HEREDOC_START = re.compile(r"<<(-?)([^\W\d][\w-]*)[ \t]*\n")
_OPENERS, _CLOSERS = "([{", ")]}"
MAX_NESTING = 64  # real configurations nest a handful of levels; this bound keeps recursion safe


class Scanner:
    """Tokens of an HCL file; problems (unterminated strings, comments, heredocs) are collected, not raised."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.tokens: list[Token] = []
        self.problems: list[tuple[int, str]] = []

    def scan(self) -> list[Token]:
        # `finditer` walks the text match after match with no Python call per token: every position matches
        # `_TOKEN` (a newline, any other character, or the end), so its matches are those of repeated `match` calls.
        # Strings with templates, block comments and heredocs leave the loop to the slower code, which then
        # restarts it where that code stopped.
        text, size, append = self.text, len(self.text), self.tokens.append
        pos, line = self.pos, self.line
        while pos < size:
            for match in _TOKEN.finditer(text, pos):
                kind = match.lastgroup
                if kind is None:  # only blanks up to the end of the text
                    pos = size
                    break
                start, end = match.span(kind)
                if kind == "punct":
                    append(("punct", text[start], line, start, end, True))
                elif kind == "newline":
                    append(("newline", "\n", line, start, end, True))
                    line += 1
                elif kind == "ident" or kind == "number":
                    append((kind, text[start:end], line, start, end, True))
                elif kind == "plain":
                    content = text[start + 1:end - 1]
                    if "\\" in content:
                        content = _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), content)
                    append(("string", content, line, start, end, True))
                elif kind == "other":
                    char = text[start]
                    if char == '"':
                        special = self._string  # a template with ${ } or %{ }, or a string left open
                    elif char == "/" and text.startswith("/*", start):
                        special = self._block_comment
                    elif char == "<" and _HEREDOC_START.match(text, start):
                        special = self._heredoc
                    else:
                        append(("punct", char, line, start, end, True))
                        continue
                    self.pos, self.line = start, line
                    special()
                    pos, line = self.pos, self.line
                    break
            else:
                pos = size
        self.pos, self.line = pos, line
        return self.tokens

    def _add(self, kind: str, value: str, start: int, end: int, *, line: int | None = None,
             literal: bool = True) -> None:
        self.tokens.append((kind, value, line or self.line, start, end, literal))

    def _block_comment(self) -> None:
        end = self.text.find("*/", self.pos + 2)
        if end < 0:
            self.problems.append((self.line, "comment /* is never closed"))
            end = len(self.text) - 2
        self.line += self.text.count("\n", self.pos, end + 2)
        self.pos = end + 2

    def _string(self) -> None:
        """A quoted template: escapes, `$${`/`%%{` (literal), and `${ }`/`%{ }` interpolations, which may hold
        nested strings and braces. A quoted string cannot span lines outside an interpolation."""
        start, line = self.pos, self.line
        text, size = self.text, len(self.text)
        pos, parts, literal = start + 1, [], True
        while pos < size:
            char = text[pos]
            if char == "\\" and pos + 1 < size:
                parts.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(text[pos + 1], text[pos:pos + 2]))
                pos += 2
            elif char == '"':
                self.pos = pos + 1
                content = "".join(parts) if literal else text[start + 1:pos]
                self._add("string", content, start, pos + 1, line=line, literal=literal)
                return
            elif char == "\n":
                break
            elif text.startswith(("$${", "%%{"), pos):
                parts.append(text[pos + 1:pos + 3])
                pos += 3
            elif text.startswith(("${", "%{"), pos):
                literal = False
                pos = self._interpolation(pos + 2)
            else:
                run = _ORDINARY.match(text, pos)  # a run of characters that are themselves: one step, not one each
                if run is None:
                    parts.append(char)  # a lone `$` or `%`
                    pos += 1
                else:
                    parts.append(run.group())
                    pos = run.end()
        self.problems.append((line, "string is not closed on its line"))
        self._add("string", text[start + 1:pos], start, pos, line=line, literal=False)
        self.pos = pos

    def _interpolation(self, pos: int) -> int:
        """The offset just after the `}` that closes an interpolation opened before `pos`.

        Interpolations hold expressions, which hold strings, which hold interpolations, ...: a stack of
        frames (an expression with its brace depth, or a string) follows them without recursion.
        """
        text, size = self.text, len(self.text)
        stack: list[list[int]] = [[1]]  # [depth] for an expression, [] for a string
        while pos < size and stack:
            frame, char = stack[-1], text[pos]
            if char == "\n":
                self.line += 1
            if not frame:  # inside a string nested in the expression
                if char == "\\":
                    pos += 1
                elif char in '"\n':
                    stack.pop()  # a newline ends a string that was never closed
                elif text.startswith(("$${", "%%{"), pos):
                    pos += 2  # an escaped, literal `${`
                elif text.startswith(("${", "%{"), pos):
                    stack.append([1])
                    pos += 1
            elif char == '"':
                stack.append([])
            elif char == "{":
                frame[0] += 1
            elif char == "}":
                frame[0] -= 1
                if frame[0] == 0:
                    stack.pop()
            pos += 1
        return pos

    def _heredoc(self) -> None:
        match = _HEREDOC_START.match(self.text, self.pos)
        assert match is not None  # noqa: S101 - checked by the caller
        marker, start, line = match.group(2), self.pos, self.line
        pos = match.end()
        self.line += 1
        while pos < len(self.text):
            end = self.text.find("\n", pos)
            end = len(self.text) if end < 0 else end
            if self.text[pos:end].strip() == marker:
                self.pos = end
                self._add("heredoc", self.text[match.end():pos], start, end, line=line, literal=False)
                return
            self.line += 1
            pos = end + 1
        self.problems.append((line, f"heredoc <<{marker} is never closed"))
        self.pos = len(self.text)
        self._add("heredoc", self.text[match.end():], start, self.pos, line=line, literal=False)


# Most Terraform files hold no heredoc, block comment or template string with nested braces or strings: for them
# one `findall` gives every token's text in one C-level pass, without the Python loop of `Scanner.scan` (a match
# object, its group, a tuple and an append per token: two thirds of that scanner's time). The pattern is `_TOKEN`
# with the comment moved into the blanks before a token (a comment runs to the line's end, where a newline or the
# end follows: `_TOKEN` made no token of it either), one group (the token: `findall` returns the texts alone), and
# a branch for a quoted template whose interpolations hold no brace or newline, and no string but one without
# interpolations (`"${each.value["name"]}"`). That branch follows `Scanner._string` (and `_interpolation`) step by
# step: at each character exactly one of its alternatives can apply (an escape; `$${` or `%%{`; `${...}` or
# `%{...}`; a `$` or `%` that starts neither; any other character but a quote, backslash or newline; inside an
# interpolation, a character but a brace, quote or newline, or a string read as the template is, without
# interpolations), in their order, so it cannot backtrack into another reading: where it matches, it ends at
# `_string`'s closing quote; where `_string` would go further (nested braces, interpolations in a nested string,
# a newline, no closing quote) it does not match, the quote is a token of its own and `_fast_tokens` gives the
# file to `Scanner`.
_FAST_TOKENS = r"""[ \t\r]*(?:(?:\#|//)[^\n]*)?
    ( [{}\[\](),=.:?]
    | \n
    | [^\W\d][\w-]*
    | "[^"\\\n$%]*(?:(?:\\[^\n]|\$(?!\{)|%(?!\{))[^"\\\n$%]*)*"
    | [0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?
    | "(?:\\[^\n]|\$\$\{|%%\{|[$%]\{(?:[^{}"\n]|"(?:\\[^\n]|\$\$\{|%%\{|\$(?![{]|\$\{)|%(?![{]|%\{)|[^"\\\n$%])*")*\}
         |\$(?![{]|\$\{)|%(?![{]|%\{)|[^"\\\n$%])*"
    | .
    | $ )"""
_FAST_TOKEN = re.compile(_FAST_TOKENS, re.VERBOSE)
_IDENT_START = re.compile(r"[^\W\d]")
_LATIN1_IDENT_STARTS = frozenset(chr(code) for code in range(256) if _IDENT_START.match(chr(code)))
_DIGITS = frozenset("0123456789")


def _is_ident(token: str) -> bool:
    """Whether a token's text is an identifier: its first character starts one (the scanner's `ident` branch
    took every token that starts so; no other token does)."""
    char = token[0]
    return char in _LATIN1_IDENT_STARTS or (char > "\xff" and _IDENT_START.match(char) is not None)


def _fast_tokens(text: str) -> tuple[list[str], list[int], dict[int, int]] | None:
    """The texts of `Scanner(text).scan()`'s tokens (a string with its quotes), the line of each (one more entry: the
    line after the last) and, by line, the offset where the last block comment ending on that line ends; None where
    that scanner would run its slow code for more than a template string `_FAST_TOKEN` reads or a block comment
    that starts a line.

    That code starts at an `other` character that is `"` (a template string, or a string left open), `/` before
    `*` or `<` opening a heredoc. A `/*` with only blanks before it on its line (or since the comment before it)
    starts a block comment there, as `Scanner` reads it: the text up to it holds no token that spans lines (the
    only ones are strings and heredocs, which show here as a lone `"` or a `<<`), so it is not inside one. The
    tokens between such comments are `_FAST_TOKEN`'s matches up to the comment (the empty matches at the end
    dropped), those of `_TOKEN`: the same texts, none for comments; each comment adds its newlines to the lines
    after it. Any other `/*`, a lone `"` or a `<<` in the text: None."""
    if "<<" in text:
        return None
    tokens: list[str] = []
    lines: list[int] = []
    resumes: dict[int, int] = {}
    pos, line, size = 0, 1, len(text)
    while True:
        comment = text.find("/*", pos)
        if comment >= 0 and text[max(text.rfind("\n", pos, comment) + 1, pos):comment].strip(" \t\r"):
            return None  # after a token on its line, in a string or a line comment: `Scanner` decides
        segment = _FAST_TOKEN.findall(text, pos, comment if comment >= 0 else size)
        while segment and not segment[-1]:  # the end's empty match, and one more after a line comment there
            segment.pop()
        if '"' in segment:
            return None
        tokens += segment
        lines += accumulate(map(operator.eq, segment, repeat("\n")), initial=line)
        line = lines.pop()  # the line after the segment's last token
        if comment < 0:
            lines.append(line)
            return tokens, lines, resumes
        end = text.find("*/", comment + 2)  # as `Scanner._block_comment` finds it
        if end < 0:
            return None
        line += text.count("\n", comment, end + 2)
        pos = resumes[line] = end + 2


_QUOTED = ("string", "heredoc")
_KIND, _TEXT, _LINE = operator.itemgetter(0), operator.itemgetter(1), operator.itemgetter(2)


class _Tokens:
    """A file's tokens as parallel lists for the parser: `texts` (each token's source text), `lines` (the line each
    starts on), `span()` (start and end offsets, found when asked for: only values the detector reads need them)
    and `text()`/`literal()` (what the scanner's token holds: a string's content with its escapes read). When
    `Scanner` read the file, its tuples are kept for those, and a string's or heredoc's entry in `texts` is only the
    mark of its kind (`"`, `<<`: what the parser looks at); `special` keeps what a template string `_FAST_TOKEN` read
    holds, once asked for."""

    def __init__(self, text: str) -> None:
        self.source = text
        fast = _fast_tokens(text)
        self.fast = fast is not None
        self.special: dict[int, tuple[str, bool]] = {}
        self.problems: list[tuple[int, str]] = []
        self._tokens: list[Token] | None = None  # the scanner's, when it read the file
        self._line_starts: list[int] | None = None
        self._line_spans: dict[int, list[tuple[int, int]]] = {}
        self.resumes: dict[int, int] = {}  # by line: where the last block comment ending on it ends
        if fast is not None:
            self.texts, self.lines, self.resumes = fast
            return
        scanner = Scanner(text)
        tokens = scanner.scan()
        self.problems = scanner.problems
        # Columns taken with itemgetter (in C); offsets stay in the scanner's tuples, read when a value needs them.
        self._tokens = tokens
        texts = self.texts = list(map(_TEXT, tokens))
        self.lines = list(map(_LINE, tokens))
        for index in compress(count(), map(operator.contains, repeat(_QUOTED), map(_KIND, tokens))):
            texts[index] = '"' if tokens[index][0] == "string" else "<<"

    def span(self, index: int) -> tuple[int, int]:
        """(start, end) of a token in the source. For `_FAST_TOKEN`'s tokens: between two tokens of a line there are
        only blanks (a comment runs to the newline token), and no token starts with a blank, so from the line's
        start each token of the line is the first occurrence of its text after the one before it. A line is walked
        once, when one of its tokens is first asked for: a line of many values (one-line object constructors) costs
        one walk, not one per value."""
        if self._tokens is not None:
            return self._tokens[index][3], self._tokens[index][4]
        lines = self.lines
        line = lines[index]
        first = bisect_left(lines, line, 0, index)
        spans = self._line_spans.get(line)
        if spans is None:
            if self._line_starts is None:
                # Line n (from 1) starts after the n - 1 lines before it and their newlines.
                self._line_starts = list(accumulate(map(len, self.source.split("\n")), initial=0))
            source, pos = self.source, max(self._line_starts[line - 1] + line - 1, self.resumes.get(line, 0))
            spans = self._line_spans[line] = []
            for token in self.texts[first:bisect_right(lines, line, index, len(self.texts))]:
                start = source.find(token, pos)
                pos = start + len(token)
                spans.append((start, pos))
        return spans[index - first]

    def end_line(self, index: int) -> int:
        """The line a token ends on (only a heredoc, a block comment or a template string spans lines, none of
        them read by `_FAST_TOKEN`)."""
        if self._tokens is None:
            return self.lines[index]
        _, _, line, start, end, _ = self._tokens[index]
        return line + self.source.count("\n", start, end)

    def text(self, index: int) -> str:
        """What the scanner's token holds as its text: a string's content with its escapes read."""
        if self._tokens is not None:
            return self._tokens[index][1]
        special = self.special.get(index)
        if special is not None:
            return special[0]
        token = self.texts[index]
        if token[0] == '"':
            if "{" in token:  # maybe a template: `Scanner` reads it alone as it would in the file
                [(_, value, _, _, _, literal)] = Scanner(token).scan()
                self.special[index] = (value, literal)
                return value
            content = token[1:-1]
            return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), content) if "\\" in content else content
        return token

    def literal(self, index: int) -> bool:
        if self._tokens is not None:
            return self._tokens[index][5]
        if self.texts[index][0] == '"':
            self.text(index)  # fills `special` for a template
        special = self.special.get(index)
        return True if special is None else special[1]


# What `detect_terraform` reads of a file's top-level blocks (`_top_block`): every attribute, at any depth, of a
# `terraform` block (None below), and of the other blocks only these arguments, none of their nested blocks.
# The rest (variables, outputs, locals, resource arguments: most of a module's text) is skipped over, its
# values never built.
_READ: dict[str, frozenset[str] | None] = {
    "terraform": None,
    "provider": frozenset({"region", "alias"}),
    "module": frozenset({"source", "version", "count", "for_each"}),
    "resource": frozenset({"provider"}),
    "data": frozenset({"provider"}),
}
_NOTHING: frozenset[str] = frozenset()


class Parser:
    """Blocks and attributes over the scanner's tokens, with recovery: a problem skips to the line's end.

    With `detector_only`, attributes the detector never reads (see `_READ`) are left out of the blocks;
    blocks, lines and problems are the same (building a value never reports a problem)."""

    def __init__(self, text: str, *, detector_only: bool = False) -> None:
        self.tokens = _Tokens(text)
        self.texts, self.lines = self.tokens.texts, self.tokens.lines
        self.problems = self.tokens.problems
        self.text = text
        self.pos = 0
        self.depth = 0
        self.truncated = False  # reading stopped early: open blocks are not reported as unclosed
        self.detector_only = detector_only
        self.wanted: frozenset[str] | None = None  # the attributes of the current block to build; None: all

    def parse(self) -> list[Block]:
        body = Block("", [], 1, 1)
        self._body(body, closing=False)
        return body.blocks

    # `word in _OPENERS` is a substring test that only a one-character token can pass (no token is empty, none
    # holds two of those characters): unlike a set it hashes no token text.
    # The methods below compare token texts directly (no peek helper, no kind): this loop runs once per token of
    # every Terraform file, and a method call per token was a third of the parser's time. A token's text tells its
    # kind: "\n" a newline, a punctuation character itself, a leading `"` a string, a leading digit a number,
    # a leading identifier character (`_is_ident`) an identifier.

    def _body(self, block: Block, *, closing: bool) -> None:
        texts, lines, count = self.texts, self.lines, len(self.texts)
        pos = self.pos  # kept in a local; `self.pos` is where `_item` starts and stops
        while pos < count:
            word = texts[pos]
            if word == "\n":
                pos += 1
            elif word == "}":
                pos += 1
                if closing:
                    self.pos = pos
                    block.end = lines[pos - 1]
                    return
                self.problems.append((lines[pos - 1], "unexpected '}' (more closing than opening braces)"))
            elif word[0] in _LATIN1_IDENT_STARTS or _is_ident(word):  # the set first: no call for most names
                self.pos = pos
                self._item(block, pos)
                pos = self.pos
            else:
                self.problems.append((lines[pos], f"unexpected '{self.tokens.text(pos)[:20]}' where a "
                                                  "block or argument was expected"))
                while pos < count and texts[pos] != "\n":  # the rest of the line
                    pos += 1
        self.pos = pos
        if closing:
            if not self.truncated:
                self.problems.append((block.start, f"block '{' '.join([block.type, *block.labels])}' is never "
                                                   "closed"))
            block.end = lines[count - 1] if count else block.start

    def _item(self, block: Block, index: int) -> None:
        texts, count = self.texts, len(self.texts)
        name, name_line = texts[index], self.lines[index]
        pos = index + 1
        if pos < count and texts[pos] == "=":
            # The expression: up to a newline, or the `}` of a one-line block, at bracket depth 0.
            start = pos = pos + 1
            depth = 0
            while pos < count:
                word = texts[pos]
                if word in _OPENERS:
                    depth += 1
                elif word in _CLOSERS:
                    if depth == 0:
                        break
                    depth -= 1
                elif word == "\n" and depth == 0:
                    break
                pos += 1
            self.pos = pos
            if self.wanted is None or name in self.wanted:
                block.attributes[name] = self._value(start, pos, name_line)
            return
        labels: list[str] = []
        while pos < count:
            label = texts[pos]
            if label[0] == '"':
                # A plain string's content is its text inside the quotes when nothing in it is read otherwise.
                labels.append(label[1:-1] if self.tokens.fast and "\\" not in label and "{" not in label
                              else self.tokens.text(pos))
            elif label[0] in _LATIN1_IDENT_STARTS or _is_ident(label):
                labels.append(label)
            else:
                break
            pos += 1
        self.pos = pos
        if pos >= count or texts[pos] != "{":
            self.problems.append((name_line, f"'{name}' is neither an argument (name = value) nor a block"))
            self._skip_line()
            return
        self.pos += 1
        if self.depth >= MAX_NESTING:
            self.problems.append((name_line, f"blocks nested deeper than {MAX_NESTING} levels; the rest of the "
                                             "file is not read"))
            self.pos = count
            self.truncated = True
            return
        child = Block(name, labels, name_line, name_line)
        wanted = self.wanted
        if self.detector_only:
            if self.depth == 0:
                self.wanted = _READ.get(name, _NOTHING)
            elif wanted is not None:
                self.wanted = _NOTHING  # a block nested in a module, a resource, a variable, ...
        self.depth += 1
        self._body(child, closing=True)
        self.depth -= 1
        self.wanted = wanted
        block.blocks.append(child)

    def _skip_line(self) -> None:
        texts, count, pos = self.texts, len(self.texts), self.pos
        while pos < count and texts[pos] != "\n":
            pos += 1
        self.pos = pos

    def _value(self, start: int, end: int, line: int, nesting: int = 0) -> Value:
        """A value; an object constructor's entries are read down to MAX_NESTING levels (deeper ones stay text),
        which bounds both the recursion and the work (each level scans its own range once)."""
        texts = self.texts
        indexes = [i for i in range(start, end) if texts[i] != "\n"]
        if not indexes:
            return Value("", line, line, literal=False)
        first, last = indexes[0], indexes[-1]
        last_line = self.lines[last] if self.tokens.fast else self.tokens.end_line(last)
        if len(indexes) == 1:
            word = texts[first]
            if word[0] == '"':
                if not self.tokens.fast or "\\" in word or "{" in word:
                    return Value(self.tokens.text(first), line, last_line, literal=self.tokens.literal(first))
                return Value(word[1:-1], line, last_line, literal=True)  # a plain string without escapes
            if word[0] in _DIGITS or word in ("true", "false"):
                return Value(word, line, last_line, literal=True)
        items = None
        if texts[first] == "{" and texts[last] == "}" and nesting < MAX_NESTING:
            items = self._object(first + 1, last, nesting + 1)
        return Value(self.text[self.tokens.span(first)[0]:self.tokens.span(last)[1]], line, last_line,
                     literal=False, items=items)

    def _object(self, start: int, end: int, nesting: int) -> dict[str, Value] | None:
        """Entries of an object constructor `{ key = value, "key" : value }`; None when it is not that shape."""
        texts = self.texts
        items: dict[str, Value] = {}
        index = start
        while index < end:
            word = texts[index]
            if word == "\n" or word == ",":
                index += 1
                continue
            if (not (word[0] == '"' or _is_ident(word)) or index + 1 >= end
                    or texts[index + 1] not in ("=", ":")):
                return None
            value_end, depth = index + 2, 0
            while value_end < end:
                item = texts[value_end]
                if item in _OPENERS:
                    depth += 1
                elif item in _CLOSERS:
                    depth -= 1
                elif depth == 0 and (item == "\n" or item == ","):
                    break
                value_end += 1
            items[self.tokens.text(index)] = self._value(index + 2, value_end, self.lines[index], nesting)
            index = value_end
        return items


def parse_hcl(text: str) -> tuple[list[Block], list[tuple[int, str]]]:
    """Top-level blocks of an HCL file and the problems met (line, reason)."""
    parser = Parser(text)
    blocks = parser.parse()
    return blocks, parser.problems


def _parse_read(text: str) -> tuple[list[Block], list[tuple[int, str]]]:
    """`parse_hcl` without the attributes `detect_terraform` never reads (the same blocks and problems)."""
    parser = Parser(text, detector_only=True)
    blocks = parser.parse()
    return blocks, parser.problems


# ------------------------------------------------------------------ JSON configuration syntax


def parse_tf_json(text: str) -> tuple[list[Block], list[tuple[int, str]]]:
    """Blocks of a `*.tf.json` file (terraform, provider, module, resource, data), with approximate lines."""
    try:
        doc = load_json(text)
    except ValueError as exc:
        return [], [(getattr(exc, "lineno", 1), f"invalid JSON: {exc}")]
    except RecursionError:
        note_exhausted()  # how deep the caller's stack already was decided it (see `limits.note_exhausted`)
        return [], [(1, "invalid JSON: nesting too deep")]
    if not isinstance(doc, dict):
        return [], [(1, "a .tf.json file must hold a JSON object")]
    try:
        return _json_blocks(doc, text), []
    except RecursionError:
        note_exhausted()
        return [], [(1, "JSON nesting too deep to read")]


def _json_blocks(doc: dict[str, Any], text: str) -> list[Block]:
    finder = _LineFinder(text)
    blocks: list[Block] = []
    for body in _json_bodies(doc.get("terraform")):
        blocks.append(_json_block("terraform", [], body, finder.line("terraform"), finder))
    for kind, depth in (("provider", 1), ("module", 1), ("resource", 2), ("data", 2)):
        for labels, body in _json_labelled(doc.get(kind), depth):
            blocks.append(_json_block(kind, labels, body, finder.line(labels[-1]), finder))
    return blocks


class _LineFinder:
    def __init__(self, text: str) -> None:
        self.text = text

    def line(self, key: str) -> int:
        index = self.text.find(json.dumps(key))
        return self.text.count("\n", 0, index) + 1 if index >= 0 else 1


def _json_bodies(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def _json_labelled(value: Any, depth: int) -> list[tuple[list[str], dict[str, Any]]]:
    if not isinstance(value, dict):
        return []
    result: list[tuple[list[str], dict[str, Any]]] = []
    for label, inner in value.items():
        if depth == 1:
            result.extend(([str(label)], body) for body in _json_bodies(inner))
        else:
            result.extend(([str(label), *labels], body) for labels, body in _json_labelled(inner, depth - 1))
    return result


def _json_value(value: Any, line: int) -> Value:
    if isinstance(value, str):
        return Value(value, line, line, literal="${" not in value)
    if isinstance(value, dict):
        return Value(json.dumps(value), line, line, literal=False,
                     items={str(k): _json_value(v, line) for k, v in value.items()})
    if isinstance(value, bool | int | float):
        return Value(json.dumps(value), line, line, literal=True)
    return Value(json.dumps(value), line, line, literal=False)


def _json_block(kind: str, labels: list[str], body: dict[str, Any], line: int, finder: _LineFinder) -> Block:
    block = Block(kind, labels, line, line)
    for key, value in body.items():
        if kind == "terraform" and key == "backend" and isinstance(value, dict):
            for backend_type, config in value.items():
                for config_body in _json_bodies(config):
                    block.blocks.append(_json_block("backend", [str(backend_type)], config_body,
                                                    finder.line(str(backend_type)), finder))
        elif kind == "terraform" and key in ("cloud", "required_providers"):
            for config_body in _json_bodies(value):
                block.blocks.append(_json_block(key, [], config_body, finder.line(key), finder))
        elif kind == "required_providers":
            block.attributes[key] = _json_value(value, finder.line(key))
        else:
            block.attributes[key] = _json_value(value, line)
    return block


# ------------------------------------------------------------------ what a folder declares


@dataclass
class Provider:
    """A provider of one folder, merged from required_providers, provider blocks and resource types."""

    name: str
    source: str | None = None
    versions: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    resources: int = 0
    data_sources: int = 0
    evidence: Evidence | None = None
    evidence_rank: int = 0  # which evidence is best: 3 required_providers, 2 provider block, 1 a resource
    locations: list[str] = field(default_factory=list)

    def cite(self, evidence: Evidence, rank: int) -> None:
        """Keep the best evidence: the first required_providers entry, else provider block, else resource."""
        if rank > self.evidence_rank:
            self.evidence, self.evidence_rank = evidence, rank


# Per scan: the Terraform files of each folder, and the folders already read.
_folders: weakref.WeakKeyDictionary[DetectContext, dict[str, list[str]]] = weakref.WeakKeyDictionary()
_done: weakref.WeakKeyDictionary[DetectContext, set[str]] = weakref.WeakKeyDictionary()
Parsed = tuple[list[Block], list[tuple[int, str]]]


class _ParseMemo:
    """What each distinct file text parsed to in one scan. Module repositories repeat files in every example and
    variant (terraform-google-kubernetes-engine: 26% of its .tf bytes are copies of another file's,
    hashicorp/terraform 28%): a copy is parsed once. Parsing is a function of the text alone and nothing after it
    changes a block, so a copy's blocks and problems are the first one's. The texts kept as keys are bounded
    (`budget` characters in all; past it, files are parsed as they come), so a scan's memory stays bounded."""

    def __init__(self, budget: int = 32_000_000) -> None:
        self.known: dict[tuple[bool, str], Parsed] = {}
        self.budget = budget

    def parse(self, text: str, *, json_syntax: bool) -> Parsed:
        key = (json_syntax, text)
        found = self.known.get(key)
        if found is None:
            before = exhausted()
            found = parse_tf_json(text) if json_syntax else _parse_read(text)
            # A parse the recursion limit cut short is not a function of the text (see `limits.note_exhausted`):
            # not kept, so a copy parses (and counts) again and the scan memo sees it in each folder.
            if len(text) <= self.budget and exhausted() == before:
                self.budget -= len(text)
                self.known[key] = found
        return found


_memos: weakref.WeakKeyDictionary[DetectContext, _ParseMemo] = weakref.WeakKeyDictionary()


def _is_terraform(path: str) -> bool:
    return path.endswith((".tf", ".tf.json")) and not vendored(path) and not under(path, ".terraform")


# `.terraform/` holds downloaded modules and providers: someone else's code.
TERRAFORM_FILES = Wants(globs=("*.tf", "*.tf.json"), refine=lambda path: not under(path, ".terraform"))


def _folder_files(ctx: DetectContext, folder: str) -> list[str]:
    """The Terraform files of `folder`, from an index built once per scan (not a glob per file)."""
    index = _folders.get(ctx)
    if index is None:
        index = {}
        for path in ctx.files:
            if _is_terraform(path):
                index.setdefault(directory_of(path), []).append(path)
        _folders[ctx] = index
    return sorted(index.get(folder, []))


@detector("terraform", wants=TERRAFORM_FILES)
def detect_terraform(ctx: DetectContext, file: FileText) -> None:
    folder = directory_of(file.path)
    done = _done.get(ctx)
    if done is None:
        done = _done[ctx] = set()
    if folder in done:
        return  # the folder was read whole when its first file came up
    done.add(folder)
    # Files sorting before this one were offered first and could not be read: do not read them again.
    files = [path for path in _folder_files(ctx, folder) if path > file.path]
    texts = [file] + [text for text in map(ctx.read, files) if text is not None]
    # What a folder holds depends on its files' paths and texts alone: remembered across scans.
    ctx.remembered(texts, lambda: _read_folder(ctx, folder, texts))


def _read_folder(ctx: DetectContext, folder: str, texts: list[FileText]) -> None:
    providers: dict[str, Provider] = {}
    memo = _memos.get(ctx)
    if memo is None:
        memo = _memos[ctx] = _ParseMemo()
    for text in texts:
        path = text.path
        blocks, problems = memo.parse(text.text, json_syntax=path.endswith(".json"))
        for line, reason in problems:
            ctx.diagnostic(path, reason, line=line)
        for block in blocks:
            _top_block(ctx, path, folder, block, providers)
    for provider in providers.values():
        _emit_provider(ctx, folder, provider)


def _top_block(ctx: DetectContext, path: str, folder: str, block: Block, providers: dict[str, Provider]) -> None:
    if block.type == "terraform":
        for child in block.blocks:
            if child.type == "backend" and child.labels:
                _emit_backend(ctx, path, folder, child.labels[0], child)
            elif child.type == "cloud":
                _emit_backend(ctx, path, folder, "cloud", child)
            elif child.type == "required_providers":
                _required_providers(ctx, path, child, providers)
    elif block.type == "provider" and block.labels:
        provider = _provider(providers, block.labels[0])
        for key, target in (("region", provider.regions), ("alias", provider.aliases)):
            value = block.attributes.get(key)
            if value is not None and value.text not in target:
                target.append(value.text)
        provider.locations.append(f"{path}:{block.start}")
        provider.cite(ctx.evidence(path, block.start, block.end), 2)
    elif block.type == "module" and block.labels:
        _emit_module(ctx, path, folder, block)
    elif block.type in ("resource", "data") and block.labels:
        explicit = block.attributes.get("provider")
        name = explicit.text.split(".", 1)[0] if explicit is not None else block.labels[0].split("_", 1)[0]
        provider = _provider(providers, name)
        if block.type == "resource":
            provider.resources += 1
        else:
            provider.data_sources += 1
        # `cite` keeps a resource's evidence only while the provider has none (rank 0): it is built only then.
        if provider.evidence_rank < 1:
            provider.cite(ctx.evidence(path, block.start, block.end), 1)


def _provider(providers: dict[str, Provider], name: str) -> Provider:
    if name not in providers:
        providers[name] = Provider(name=name)
    return providers[name]


def _required_providers(ctx: DetectContext, path: str, block: Block, providers: dict[str, Provider]) -> None:
    for name, value in block.attributes.items():
        provider = _provider(providers, name)
        if value.items is not None:
            source, version = value.items.get("source"), value.items.get("version")
            if source is not None:
                provider.source = source.text
            if version is not None and version.text not in provider.versions:
                provider.versions.append(version.text)
        elif value.literal and value.text not in provider.versions:
            provider.versions.append(value.text)  # Terraform 0.12 form: `aws = "~> 2.0"`
        provider.locations.append(f"{path}:{value.line}")
        provider.cite(ctx.evidence(path, value.line, value.end), 3)


def _emit_provider(ctx: DetectContext, folder: str, provider: Provider) -> None:
    if provider.evidence is None:
        return
    attributes: dict[str, str | list[str]] = {
        "directory": folder,
        "source": provider.source or f"hashicorp/{provider.name} (implied)",
        "resources": str(provider.resources),
        "data_sources": str(provider.data_sources),
    }
    if provider.versions:
        attributes["version"] = provider.versions
    if provider.regions:
        attributes["regions"] = provider.regions
    if provider.aliases:
        attributes["aliases"] = provider.aliases
    if provider.locations:
        attributes["declared_at"] = provider.locations
    ctx.add_infra(InfraItem(kind="terraform-provider", name=provider.name, path=provider.evidence.path,
                            attributes=attributes, evidence=provider.evidence))


def _settings(ctx: DetectContext, path: str, block: Block, prefix: str = "") -> dict[str, str | list[str]]:
    """Backend settings as `name: value`, nested blocks as `block.name`; credentials become [REDACTED]."""
    settings: dict[str, str | list[str]] = {}
    for key, value in block.attributes.items():
        name = prefix + key
        settings[name] = "[REDACTED]" if SECRET_KEY.search(key) else ctx.redact(value.text, path)
    for child in block.blocks:
        settings.update(_settings(ctx, path, child, f"{prefix}{child.type}."))
    return settings


def _emit_backend(ctx: DetectContext, path: str, folder: str, name: str, block: Block) -> None:
    attributes: dict[str, str | list[str]] = _settings(ctx, path, block)
    attributes["directory"] = folder
    if not block.attributes and not block.blocks:
        attributes["configuration"] = "partial (completed by terraform init -backend-config)"
    ctx.add_infra(InfraItem(kind="terraform-backend", name=name, path=path, attributes=attributes,
                            evidence=ctx.evidence(path, block.start, block.end)))


def _emit_module(ctx: DetectContext, path: str, folder: str, block: Block) -> None:
    name = block.labels[0]
    attributes: dict[str, str | list[str]] = {"directory": folder}
    source = block.attributes.get("source")
    if source is None:
        ctx.diagnostic(path, f"module '{name}' has no source (Terraform requires one)", line=block.start)
    else:
        attributes["source"] = ctx.redact(source.text, path)
    version = block.attributes.get("version")
    if version is not None:
        attributes["version"] = version.text
    for key in ("count", "for_each"):
        if key in block.attributes:
            attributes[key] = ctx.redact(block.attributes[key].text, path)
    ctx.add_infra(InfraItem(kind="terraform-module", name=name, path=path, attributes=attributes,
                            evidence=ctx.evidence(path, block.start, block.end)))
