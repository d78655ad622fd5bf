"""A small Groovy reader for Jenkinsfiles: tokens (every quoting style, `${...}`, comments) grouped into
statements and brace blocks without recursion. No Groovy is ever run. Not a detector module (leading underscore)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..models import TriggerKind
from .base import Wants

SHELL_STEPS = frozenset({"sh", "bat", "powershell", "pwsh"})
CHECKOUT_STEPS = frozenset({"checkout", "git"})
# Groovy statements that are not pipeline steps; their blocks are still read for steps.
CONTROL_WORDS = frozenset(
    {
        "if", "else", "for", "while", "do", "try", "catch", "finally", "switch", "case", "default", "return",
        "def", "import", "package", "break", "continue", "throw", "assert", "final", "static", "void",
        "String", "boolean", "int", "class", "private", "public", "protected",
    }
)
TRIGGER_KINDS: dict[str, TriggerKind] = {
    "cron": "schedule",
    "parameterizedCron": "schedule",
    "pollSCM": "push",
    "upstream": "pipeline",
    "githubPush": "push",
    "gitlab": "push",
    "bitbucketPush": "push",
    "GenericTrigger": "api",
    "issueCommentTrigger": "pull_request",
}
TIME_UNITS_IN_MINUTES = {
    "NANOSECONDS": 1 / 60e9,
    "MICROSECONDS": 1 / 60e6,
    "MILLISECONDS": 1 / 60e3,
    "SECONDS": 1 / 60,
    "MINUTES": 1.0,
    "HOURS": 60.0,
    "DAYS": 1440.0,
}
# Operators after which a statement goes on on the next line, and those that continue one from its start.
CONTINUE_AFTER = frozenset(
    {",", "=", "+", "-", "*", "/", "%", "&&", "||", "?", ":", ".", "?.", "*.", "->", "==", "!=", "<", ">",
     "<=", ">=", "=~", "==~", "+=", "-=", "*=", "/=", "<<", "?:", "!", "(", "[", "<=>", "..", "**", "&", "|"}
)
CONTINUE_BEFORE = frozenset({".", "?.", "*.", "&&", "||", "?", ":", "?:"})
# Words that carry a statement on after a closing brace: `} else {`, `} catch (e) {`, `} as Set`, ...
STATEMENT_GOES_ON = frozenset({"else", "catch", "finally", "as", "while", "in", "instanceof"})
OPERATORS = sorted(
    ["==~", "<=>", "...", "?.", "?:", "*.", "==", "!=", "<=", ">=", "&&", "||", "=~", "->", "++", "--", "+=", "-=",
     "*=", "/=", "<<", ">>", "..", "::", "**"],
    key=len, reverse=True,
)
MAX_DEPTH = 60  # blocks nested deeper than this are not walked (the parser itself never recurses)
NOT_PIPELINES = (".md", ".txt", ".rst", ".html", ".png", ".svg", ".jpg", ".orig", ".rej")
_NUMBER = re.compile(r"\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?[A-Za-z]?")


JENKINSFILE_GLOBS = ("jenkinsfile", "jenkinsfile.*", "jenkinsfile-*", "jenkinsfile_*", "*.jenkinsfile")
_JENKINSFILE = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in JENKINSFILE_GLOBS))


def is_jenkinsfile(path: str) -> bool:
    """`Jenkinsfile`, `Jenkinsfile.release`, `Jenkinsfile-nightly`, `Jenkinsfile_pr`, `x.jenkinsfile` (any case)."""
    lower = path.lower()
    return _JENKINSFILE.match(lower.rsplit("/", 1)[-1]) is not None and not lower.endswith(NOT_PIPELINES)


def is_shared_library_step(path: str) -> bool:
    """A global variable of a Jenkins shared library (`vars/<name>.groovy`): it may define a whole pipeline."""
    parts = path.split("/")
    return len(parts) >= 2 and parts[-2].lower() == "vars" and parts[-1].endswith(".groovy")


# Any depth (multibranch jobs point at a script path); the globs match the lower-cased base name. Shared libraries'
# `vars/*.groovy` are read too, and kept when they hold a pipeline (see jenkins.py).
JENKINS_FILES = Wants(globs=JENKINSFILE_GLOBS, dirs=frozenset({"vars"}),
                      refine=lambda p: is_jenkinsfile(p) or is_shared_library_step(p))



# ------------------------------------------------------------------ tokens


@dataclass(frozen=True)
class Tok:
    """A token. For a string, `text` is its content and `quote` its opening quote; offsets are into the file."""

    kind: str  # "id", "num", "str", "op", "nl"
    text: str
    line: int
    end_line: int
    start: int
    end: int
    quote: str = ""


class GroovyScanner:
    """Groovy text to tokens; `problems` collects (line, reason) for unterminated strings and comments."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.tokens: list[Tok] = []
        self.problems: list[tuple[int, str]] = []

    def run(self) -> list[Tok]:
        text, n = self.text, len(self.text)
        if text.startswith("#!"):
            self.i = text.find("\n") if "\n" in text else n
        while self.i < n:
            c = text[self.i]
            if c == "\n":
                self._emit("nl", "\n", self.i, self.i + 1)
                self.i += 1
                self.line += 1
            elif c in " \t\r\f\ufeff\v":
                self.i += 1
            elif c == "\\" and text.startswith("\n", self.i + 1):
                self.i += 2  # line continuation
                self.line += 1
            elif text.startswith("//", self.i):
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end
            elif text.startswith("/*", self.i):
                self._block_comment()
            elif c in "'\"":
                self._string()
            elif text.startswith("$/", self.i) and self._value_expected():
                self._dollar_slashy()
            elif c == "/" and self._value_expected() and self._slashy():
                pass
            elif c.isalpha() or c in "_$":
                end = self.i + 1
                while end < n and (text[end].isalnum() or text[end] in "_$"):
                    end += 1
                self._emit("id", text[self.i:end], self.i, end)
                self.i = end
            elif c.isdigit():
                match = _NUMBER.match(text, self.i)
                end = match.end() if match else self.i + 1
                self._emit("num", text[self.i:end], self.i, end)
                self.i = end
            else:
                op = next((o for o in OPERATORS if text.startswith(o, self.i)), c)
                self._emit("op", op, self.i, self.i + len(op))
                self.i += len(op)
        return self.tokens

    def _emit(self, kind: str, value: str, start: int, end: int, line: int | None = None, quote: str = "") -> None:
        first = self.line if line is None else line
        self.tokens.append(Tok(kind, value, first, self.line, start, end, quote))

    def _value_expected(self) -> bool:
        """Whether a `/` here starts a slashy string (a value is expected) rather than dividing."""
        previous = next((t for t in reversed(self.tokens) if t.kind != "nl"), None)
        if previous is None or self.tokens[-1].kind == "nl":
            return True
        if previous.kind == "op":
            return previous.text not in (")", "]", "++", "--")
        return previous.kind == "id" and previous.text in ("return", "case", "assert", "in")

    def _block_comment(self) -> None:
        start_line = self.line
        end = self.text.find("*/", self.i + 2)
        if end < 0:
            self.problems.append((start_line, "unterminated /* comment */"))
            end = len(self.text) - 2
        newlines = self.text.count("\n", self.i, end)
        self.line += newlines
        if newlines:
            self._emit("nl", "\n", end, end + 2)  # a comment spanning lines separates statements
        self.i = end + 2

    def _string(self) -> None:
        """A quoted string; an unterminated one is a problem, and ends at its line end (or the file end)."""
        text, start, first_line = self.text, self.i, self.line
        triple = text.startswith(("'''", '"""'), start)
        quote = text[start] * (3 if triple else 1)
        i, n = start + len(quote), len(text)
        out: list[str] = []
        closed = False
        while i < n:
            c = text[i]
            if c == "\\" and i + 1 < n:
                nxt = text[i + 1]
                out.append(nxt if nxt in "\\'\"$" else c + nxt)
                self.line += nxt == "\n"
                i += 2
            elif text.startswith(quote, i):
                i += len(quote)
                closed = True
                break
            elif c == "\n" and not triple:
                break
            elif c == "$" and quote[0] == '"' and text.startswith("{", i + 1):
                end = _interpolation_end(text, i + 2, stop_at_newline=not triple)
                out.append(text[i:end])
                self.line += text.count("\n", i, end)
                i = end
            else:
                out.append(c)
                self.line += c == "\n"
                i += 1
        if not closed:
            self.problems.append((first_line, f"unterminated string starting with {quote}"))
        self.i = i
        self._emit("str", "".join(out), start, i, line=first_line, quote=quote)

    def _slashy(self) -> bool:
        """`/regex/` on one line; False (so `/` is read as division) when it does not close on its line."""
        text, i = self.text, self.i + 1
        out: list[str] = []
        while i < len(text) and text[i] != "\n":
            if text.startswith("\\/", i):
                out.append("/")
                i += 2
                continue
            if text[i] == "/":
                if not out:
                    return False  # `//` is a comment, handled before; an empty slashy string is not Groovy
                self._emit("str", "".join(out), self.i, i + 1, quote="/")
                self.i = i + 1
                return True
            out.append(text[i])
            i += 1
        return False

    def _dollar_slashy(self) -> None:
        text, start, first_line = self.text, self.i, self.line
        i = start + 2
        out: list[str] = []
        closed = False
        while i < len(text):
            if text.startswith("/$", i):
                i += 2
                closed = True
                break
            if text.startswith(("$/", "$$"), i):
                out.append(text[i + 1])
                i += 2
                continue
            out.append(text[i])
            self.line += text[i] == "\n"
            i += 1
        if not closed:
            self.problems.append((first_line, "unterminated $/ string"))
        self.i = i
        self._emit("str", "".join(out), start, i, line=first_line, quote="$/")


def _interpolation_end(text: str, i: int, *, stop_at_newline: bool, depth: int = 0) -> int:
    """Index just after the `}` closing a `${` whose body starts at i, skipping strings inside it."""
    level = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n" and stop_at_newline:
            return i
        if c in "'\"" and depth < 8:
            i = _quoted_end(text, i, depth + 1)
            continue
        if c == "{":
            level += 1
        elif c == "}":
            level -= 1
            if level == 0:
                return i + 1
        i += 1
    return n


def _quoted_end(text: str, i: int, depth: int) -> int:
    """Index after a quoted string starting at i (used inside `${ }`, where only the extent matters)."""
    quote = text[i] * (3 if text.startswith(text[i] * 3, i) else 1)
    i += len(quote)
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote)
        if text[i] == "\n" and len(quote) == 1:
            return i
        if quote[0] == '"' and text.startswith("${", i):
            i = _interpolation_end(text, i + 2, stop_at_newline=len(quote) == 1, depth=depth)
            continue
        i += 1
    return len(text)


# ------------------------------------------------------------------ statements and blocks


@dataclass
class Block:
    """`{ ... }`: its statements, and the braces (close is None when the file ends first)."""

    open: Tok | None
    stmts: list[Stmt] = field(default_factory=list)
    close: Tok | None = None


@dataclass
class Stmt:
    """One statement: its tokens, with each `{ }` it contains as a nested Block."""

    items: list[Tok | Block]

    @property
    def line(self) -> int:
        return item_line(self.items[0])

    @property
    def end_line(self) -> int:
        return item_end_line(self.items[-1])


def item_line(item: Tok | Block) -> int:
    if isinstance(item, Tok):
        return item.line
    return item.open.line if item.open else 1


def _last_piece(item: Tok | Block) -> Tok | Block:
    """The token or closed (or empty) block an item ends with; unclosed blocks end with their last statement."""
    while isinstance(item, Block) and item.close is None and item.stmts:
        item = item.stmts[-1].items[-1]
    return item


def item_end_line(item: Tok | Block) -> int:
    item = _last_piece(item)
    if isinstance(item, Tok):
        return item.end_line
    return item.close.line if item.close is not None else item_line(item)


def item_start(item: Tok | Block) -> int:
    if isinstance(item, Tok):
        return item.start
    return item.open.start if item.open else 0


def item_end(item: Tok | Block) -> int:
    item = _last_piece(item)
    if isinstance(item, Tok):
        return item.end
    return item.close.end if item.close is not None else item_start(item) + 1


@dataclass
class _Frame:
    block: Block
    items: list[Tok | Block] = field(default_factory=list)
    brackets: int = 0

    def end_statement(self) -> None:
        if self.items:
            self.block.stmts.append(Stmt(self.items))
            self.items = []


def parse_groovy(tokens: list[Tok], problems: list[tuple[int, str]]) -> Block:
    """Statements and blocks, without recursion (so deep nesting cannot overflow the stack)."""
    root = Block(open=None)
    stack = [_Frame(root)]
    stray: list[int] = []  # lines of '}' that close nothing
    following = _next_non_newline(tokens)
    for index, tok in enumerate(tokens):
        frame = stack[-1]
        if tok.kind == "nl" or (tok.kind == "op" and tok.text == ";"):
            if frame.brackets == 0 and (tok.text == ";" or not _continues(frame.items, following[index])):
                frame.end_statement()
            continue
        if tok.kind == "op" and tok.text == "{":
            block = Block(open=tok)
            frame.items.append(block)
            stack.append(_Frame(block))
            continue
        if tok.kind == "op" and tok.text == "}":
            if len(stack) == 1:
                stray.append(tok.line)
                continue
            if frame.brackets:
                problems.append((tok.line, "unbalanced brackets: '(' or '[' not closed before '}'"))
            frame.end_statement()
            frame.block.close = tok
            stack.pop()
            continue
        if (tok.kind == "id" and frame.brackets == 0 and frame.items and isinstance(frame.items[-1], Block)
                and tok.text not in STATEMENT_GOES_ON):
            frame.end_statement()  # `when { ... } steps { ... }` on one line: two directives
        if tok.kind == "op" and tok.text in ("(", "["):
            frame.brackets += 1
        elif tok.kind == "op" and tok.text in (")", "]"):
            frame.brackets = max(0, frame.brackets - 1)
        frame.items.append(tok)
    for frame in reversed(stack):
        frame.end_statement()
    if stray:
        more = f"; {len(stray) - 1} more after it" if len(stray) > 1 else ""
        problems.append((stray[0], f"unbalanced braces: '}}' without a matching '{{'{more}"))
    if len(stack) > 1:
        innermost = stack[-1].block.open
        line = innermost.line if innermost else 1
        problems.append((line, f"unbalanced braces: the '{{' at line {line} is never closed "
                               f"({len(stack) - 1} block(s) open at the end of the file)"))
    return root


def _next_non_newline(tokens: list[Tok]) -> list[Tok | None]:
    """For each index, the first token after it that is not a newline (None at the end): one backward pass, so
    the parse stays linear however many blank lines or statements a file has (a slice per newline was quadratic)."""
    following: list[Tok | None] = [None] * len(tokens)
    nearest: Tok | None = None
    for index in range(len(tokens) - 1, -1, -1):
        following[index] = nearest
        if tokens[index].kind != "nl":
            nearest = tokens[index]
    return following


def _continues(items: list[Tok | Block], following: Tok | None) -> bool:
    """Whether the statement in `items` goes on past a newline whose next non-newline token is `following`."""
    if not items:
        return True
    last = items[-1]
    if isinstance(last, Tok) and last.kind == "op" and last.text in CONTINUE_AFTER:
        return True
    if following is None:
        return False
    if following.kind == "op" and following.text in CONTINUE_BEFORE:
        return True
    if following.kind == "id" and following.text in ("else", "catch", "finally"):
        return True
    # `stage('Build')` with its `{` on the next line
    return (following.kind == "op" and following.text == "{" and isinstance(last, Tok)
            and (last.kind in ("id", "str") or last.text == ")") and not any(isinstance(i, Block) for i in items))


# ------------------------------------------------------------------ statement helpers


def is_op(item: Tok | Block | None, *texts: str) -> bool:
    return isinstance(item, Tok) and item.kind == "op" and item.text in texts


def statement_head(stmt: Stmt) -> str | None:
    first = stmt.items[0]
    return first.text if isinstance(first, Tok) and first.kind == "id" else None


def trailing_block(stmt: Stmt) -> Block | None:
    """The closure given after a call (`stage('x') { ... }`): a block outside any brackets."""
    depth = 0
    for item in stmt.items:
        if is_op(item, "(", "["):
            depth += 1
        elif is_op(item, ")", "]"):
            depth = max(0, depth - 1)
        elif isinstance(item, Block) and depth == 0:
            return item
    return None


def statement_blocks(stmt: Stmt) -> list[Block]:
    return [item for item in stmt.items if isinstance(item, Block)]


def call_args(items: list[Tok | Block], at: int) -> list[Tok | Block]:
    """The argument items of the call whose name is items[at]: `(...)` contents, or up to the statement end
    (or its closure) for a command call like `sh 'make'`."""
    following = items[at + 1:]
    if following and is_op(following[0], "("):
        depth = 0
        for index, item in enumerate(following):
            if is_op(item, "(", "["):
                depth += 1
            elif is_op(item, ")", "]"):
                depth -= 1
                if depth == 0:
                    return following[1:index]
        return following[1:]
    args: list[Tok | Block] = []
    for item in following:
        if isinstance(item, Block) and not (args and is_op(args[-1], ":")):
            break
        args.append(item)
    return args


def split_args(args: list[Tok | Block]) -> tuple[list[list[Tok | Block]], dict[str, list[Tok | Block]]]:
    """Positional and named (`key: value`) arguments, split at top-level commas."""
    pieces: list[list[Tok | Block]] = [[]]
    depth = 0
    for item in args:
        if is_op(item, "(", "["):
            depth += 1
        elif is_op(item, ")", "]"):
            depth -= 1
        if is_op(item, ",") and depth == 0:
            pieces.append([])
        else:
            pieces[-1].append(item)
    positional: list[list[Tok | Block]] = []
    named: dict[str, list[Tok | Block]] = {}
    for piece in pieces:
        if not piece:
            continue
        key = piece[0]
        if len(piece) >= 2 and isinstance(key, Tok) and key.kind in ("id", "str") and is_op(piece[1], ":"):
            named[key.text] = piece[2:]
        else:
            positional.append(piece)
    return positional, named


def find_calls(items: list[Tok | Block], names: frozenset[str]) -> Iterator[tuple[str, int]]:
    """(name, index) of each call of one of `names` in the items (not `x.name`, not inside nested blocks)."""
    for index, item in enumerate(items):
        if not (isinstance(item, Tok) and item.kind == "id" and item.text in names):
            continue
        if index > 0 and is_op(items[index - 1], ".", "?.", "*."):
            continue
        following = items[index + 1] if index + 1 < len(items) else None
        named_next = (isinstance(following, Tok) and following.kind == "id" and index + 2 < len(items)
                      and is_op(items[index + 2], ":"))
        # `sh cmd` at the start of a statement: a command call with a variable as its argument
        variable = index == 0 and isinstance(following, Tok) and following.kind == "id"
        if is_op(following, "(") or (isinstance(following, Tok) and following.kind == "str") or named_next \
                or variable:
            yield item.text, index


def string_tokens(items: list[Tok | Block]) -> list[Tok]:
    return [item for item in items if isinstance(item, Tok) and item.kind == "str"]


def first_string(args: list[Tok | Block]) -> str | None:
    positional, named = split_args(args)
    for piece in ([named["name"]] if "name" in named else []) + positional:
        strings = string_tokens(piece)
        if strings:
            return strings[0].text
    return None


