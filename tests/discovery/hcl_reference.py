"""The Terraform parser as it was before it read `_fast_tokens` (main at 7d85680): one tuple per token from
`terraform.Scanner`, kinds compared by name. Kept here as the reference the parser over token texts must agree with
(same blocks, values, lines and problems), on any text."""

from __future__ import annotations

from orchestrator_kit.discovery import terraform


class ReferenceParser:
    """Blocks and attributes over the scanner's tokens, with recovery: a problem skips to the line's end.

    With `detector_only`, attributes the detector never reads (see `_READ`) are left out of the blocks;
    blocks, lines and problems are the same (building a value never reports a problem)."""

    def __init__(self, text: str, *, detector_only: bool = False) -> None:
        scanner = terraform.Scanner(text)
        self.tokens = scanner.scan()
        self.problems = scanner.problems
        self.text = text
        self.pos = 0
        self.depth = 0
        self.truncated = False  # reading stopped early: open blocks are not reported as unclosed
        self.detector_only = detector_only
        self.wanted: frozenset[str] | None = None  # the attributes of the current block to build; None: all

    def parse(self) -> list[terraform.Block]:
        body = terraform.Block("", [], 1, 1)
        self._body(body, closing=False)
        return body.blocks

    # The methods below index `self.tokens` directly (no peek helper): this loop runs once per token of every
    # Terraform file, and a method call per token was a third of the parser's time.

    def _body(self, block: terraform.Block, *, closing: bool) -> None:
        tokens, count = self.tokens, len(self.tokens)
        while self.pos < count:
            token = tokens[self.pos]
            kind = token[0]
            if kind == "newline":
                self.pos += 1
            elif kind == "ident":
                self._item(block, token)
            elif kind == "punct" and token[1] == "}":
                self.pos += 1
                if closing:
                    block.end = token[2]
                    return
                self.problems.append((token[2], "unexpected '}' (more closing than opening braces)"))
            else:
                self.problems.append((token[2], f"unexpected '{token[1][:20]}' where a block or argument "
                                                  "was expected"))
                self._skip_line()
        if closing:
            if not self.truncated:
                self.problems.append((block.start, f"block '{' '.join([block.type, *block.labels])}' is never "
                                                   "closed"))
            block.end = tokens[-1][2] if tokens else block.start

    def _item(self, block: terraform.Block, name: terraform.Token) -> None:
        tokens, count = self.tokens, len(self.tokens)
        pos = self.pos + 1
        following = tokens[pos] if pos < count else None
        if following is not None and following[0] == "punct" and following[1] == "=":
            self.pos = start = pos + 1
            self._skip_expression()
            if self.wanted is None or name[1] in self.wanted:
                block.attributes[name[1]] = self._value(start, self.pos, name[2])
            return
        labels: list[str] = []
        while pos < count and tokens[pos][0] in ("string", "ident"):
            labels.append(tokens[pos][1])
            pos += 1
        self.pos = pos
        token = tokens[pos] if pos < count else None
        if token is None or not (token[0] == "punct" and token[1] == "{"):
            self.problems.append((name[2], f"'{name[1]}' is neither an argument (name = value) nor a block"))
            self._skip_line()
            return
        self.pos += 1
        if self.depth >= terraform.MAX_NESTING:
            self.problems.append((name[2], f"blocks nested deeper than {terraform.MAX_NESTING} levels; the rest of the "
                                             "file is not read"))
            self.pos = count
            self.truncated = True
            return
        child = terraform.Block(name[1], labels, name[2], name[2])
        wanted = self.wanted
        if self.detector_only:
            if self.depth == 0:
                self.wanted = terraform._READ.get(name[1], terraform._NOTHING)
            elif wanted is not None:
                self.wanted = terraform._NOTHING  # a block nested in a module, a resource, a variable, ...
        self.depth += 1
        self._body(child, closing=True)
        self.depth -= 1
        self.wanted = wanted
        block.blocks.append(child)

    def _skip_line(self) -> None:
        tokens, count, pos = self.tokens, len(self.tokens), self.pos
        while pos < count and tokens[pos][0] != "newline":
            pos += 1
        self.pos = pos

    def _skip_expression(self) -> None:
        """Move past an expression: up to a newline, or the `}` of a one-line block, at bracket depth 0."""
        tokens, count, pos, depth = self.tokens, len(self.tokens), self.pos, 0
        while pos < count:
            token = tokens[pos]
            kind = token[0]
            if kind == "punct":
                if token[1] in terraform._OPENERS:
                    depth += 1
                elif token[1] in terraform._CLOSERS:
                    if depth == 0:
                        break
                    depth -= 1
            elif kind == "newline" and depth == 0:
                break
            pos += 1
        self.pos = pos

    def _value(self, start: int, end: int, line: int, nesting: int = 0) -> terraform.Value:
        """A value; an object constructor's entries are read down to terraform.MAX_NESTING levels (deeper ones stay text),
        which bounds both the recursion and the work (each level scans its own range once)."""
        indexes = [i for i in range(start, end) if self.tokens[i][0] != "newline"]
        if not indexes:
            return terraform.Value("", line, line, literal=False)
        first, last = self.tokens[indexes[0]], self.tokens[indexes[-1]]
        last_line = last[2] + self.text.count("\n", last[3], last[4])
        if len(indexes) == 1 and first[0] in ("string", "number"):
            return terraform.Value(first[1], line, last_line, literal=first[5])
        if len(indexes) == 1 and first[0] == "ident" and first[1] in ("true", "false"):
            return terraform.Value(first[1], line, last_line, literal=True)
        items = None
        if first[0] == last[0] == "punct" and first[1] == "{" and last[1] == "}" and nesting < terraform.MAX_NESTING:
            items = self._object(indexes[0] + 1, indexes[-1], nesting + 1)
        return terraform.Value(self.text[first[3]:last[4]], line, last_line, literal=False, items=items)

    def _object(self, start: int, end: int, nesting: int) -> dict[str, terraform.Value] | None:
        """Entries of an object constructor `{ key = value, "key" : value }`; None when it is not that shape."""
        items: dict[str, terraform.Value] = {}
        index = start
        while index < end:
            token = self.tokens[index]
            if token[0] == "newline" or (token[0] == "punct" and token[1] == ","):
                index += 1
                continue
            following = self.tokens[index + 1] if index + 1 < end else None
            if (token[0] not in ("ident", "string") or following is None or following[0] != "punct"
                    or following[1] not in ("=", ":")):
                return None
            value_end, depth = index + 2, 0
            while value_end < end:
                item = self.tokens[value_end]
                if item[0] == "punct" and item[1] in terraform._OPENERS:
                    depth += 1
                elif item[0] == "punct" and item[1] in terraform._CLOSERS:
                    depth -= 1
                elif depth == 0 and (item[0] == "newline" or (item[0] == "punct" and item[1] == ",")):
                    break
                value_end += 1
            items[token[1]] = self._value(index + 2, value_end, token[2], nesting)
            index = value_end
        return items


def reference_parse(text: str, *, detector_only: bool = False) -> tuple[list[terraform.Block], list[tuple[int, str]]]:
    parser = ReferenceParser(text, detector_only=detector_only)
    return parser.parse(), parser.problems
