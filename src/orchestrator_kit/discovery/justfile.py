"""just: `justfile` (any case), `.justfile` and `*.just` module/import files, one Task per recipe.

Read as the just manual ("Just Programmer's Manual") describes a justfile:

* a recipe is `[@]name param param='default' +variadic *variadic $exported: dep (dep "arg") && after`, then
  an indented body (any indentation, the same on every line; blank lines may sit inside it);
* `@name` makes a quiet recipe; in linewise bodies a line's `@` / `-` prefixes are stripped and a trailing `\\`
  joins the next line; a body whose first line is `#!` (a shebang recipe) or a `[script]` recipe is one script;
* attributes sit on the lines above the recipe, alone or several per line: `[private]`, `[confirm]`,
  `[confirm('Sure?')]`, `[group('ci')]`, `[group: 'ci']`, `[doc('text')]`, `[no-cd]`, `[linux]`, ...;
  a recipe is private with `[private]` or when its name starts with `_` (both are kept, marked private);
* the doc comment is the comment line right above the recipe (or above its attributes); `[doc(...)]` wins;
* `set ...`, `alias x := y` (the alias is listed on its recipe), assignments `x := ...` (also `export x := ...`),
  `unexport`, `import 'file'` and `mod name ['path']` are not recipes; a multi-line value (triple-quoted
  string, backtick block, parenthesized expression) is skipped whole.

Dependencies before `&&` run first (`depends_on`); those after it run after the recipe (`hooks`). A body
line that runs `just other` (a recipe of the same file) adds `other` to `depends_on` as well.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from ..models import Command, Task
from ..repo import FileText
from .base import DetectContext, Wants, basename, detector

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_HEADER = re.compile(rf"^(?P<quiet>@)?(?P<name>{_NAME})(?P<rest>(?:\s.*)?:.*)$")
_ASSIGNMENT = re.compile(rf"^(?:export\s+)?{_NAME}\s*:=")
_KEYWORD_LINE = re.compile(r"^(?:set|alias|import\??|mod\??|unexport|export)(?:\s|$)")
_ALIAS = re.compile(rf"^alias\s+({_NAME})\s*:=\s*((?:{_NAME}::)*{_NAME})\s*(?:#.*)?$")
_MOD = re.compile(rf"^mod\??\s+({_NAME})(?:\s+(['\"])(.+?)\2)?\s*(?:#.*)?$")
_IMPORT = re.compile(r"^import\??\s+(['\"])(.+?)\1")
_OS_ATTRIBUTES = {"linux", "macos", "windows", "unix", "openbsd", "freebsd", "netbsd", "dragonfly", "android"}
_PREFIX_CHARS = ("@", "-")


# just finds its justfile whatever the case of the name (`justfile`, `Justfile`, `JUSTFILE`, `.justfile`).
JUSTFILES = Wants(globs=("justfile", ".justfile", "*.just"))


@dataclass
class _Recipe:
    name: str
    line: int
    end: int
    quiet: bool
    parameters: str
    depends: list[str]
    after: list[str]
    attributes: list[tuple[str, str | None]]
    doc: str | None
    commands: list[Command] = field(default_factory=list)
    shebang: str | None = None


@dataclass
class _Justfile:
    recipes: list[_Recipe] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)


_JUST_CALL = re.compile(rf"(?:^|[;&|(]|\s)just\s+(?:-{{1,2}}[\w-]+\s+)*({_NAME})")


@detector("just", wants=JUSTFILES)
def detect_justfile(ctx: DetectContext, file: FileText) -> None:
    parsed = _Parser(ctx, file).parse()
    prefix = _invocation_prefix(ctx, file.path)
    names = {r.name: r.name for r in parsed.recipes}
    names.update({alias: target for target, aliases in parsed.aliases.items() for alias in aliases})
    for recipe in parsed.recipes:
        # `just other` in a body runs another recipe of this justfile, like a dependency written in the body
        called = [names[m.group(1)] for c in recipe.commands for m in _JUST_CALL.finditer(c.text)
                  if m.group(1) in names]
        recipe.depends = list(dict.fromkeys([*recipe.depends, *(c for c in called if c != recipe.name)]))
        ctx.add_task(_task(ctx, file.path, recipe, parsed, prefix))


def _task(ctx: DetectContext, path: str, recipe: _Recipe, parsed: _Justfile, prefix: str) -> Task:
    attributes: dict[str, str] = {}
    others: list[str] = []
    description = recipe.doc
    platforms: list[str] = []
    for name, argument in recipe.attributes:
        if name == "private":
            attributes["private"] = "true"
        elif name == "confirm":
            attributes["confirm"] = argument or "true"
        elif name == "group":
            attributes["group"] = ", ".join(filter(None, [attributes.get("group"), argument]))
        elif name == "doc":
            description = argument
        elif name in _OS_ATTRIBUTES:
            platforms.append(name)
        elif name == "script":
            attributes["script"] = argument or "true"
        else:
            others.append(f"{name}({argument})" if argument is not None else name)
    if recipe.name.startswith("_"):
        attributes["private"] = "true"
    if platforms:
        attributes["platforms"] = ", ".join(platforms)
    if others:
        attributes["just_attributes"] = ", ".join(others)
    if recipe.quiet:
        attributes["quiet"] = "true"
    if recipe.parameters:
        attributes["parameters"] = recipe.parameters
    if recipe.shebang:
        attributes["shebang"] = recipe.shebang
    if recipe.name in parsed.aliases:
        attributes["aliases"] = ", ".join(parsed.aliases[recipe.name])
    return ctx.task(
        "just", path, recipe.name,
        invocation=f"{prefix}{recipe.name}",
        description=description,
        depends_on=recipe.depends,
        commands=recipe.commands,
        hooks=recipe.after,
        attributes=attributes,
        evidence=ctx.evidence(path, recipe.line, recipe.end),
    )


class _Parser:
    """Reads a justfile top to bottom; recipe bodies are the indented lines after a header."""

    def __init__(self, ctx: DetectContext, file: FileText) -> None:
        self.ctx = ctx
        self.path = file.path
        self.lines = file.lines
        self.result = _Justfile()

    def parse(self) -> _Justfile:
        index = 0
        doc: tuple[int, str] | None = None
        attributes: list[tuple[str, str | None]] = []
        while index < len(self.lines):
            raw = self.lines[index]
            stripped = raw.strip()
            line = index + 1
            if not stripped:
                doc = None
                index += 1
                continue
            if raw[0] in " \t":  # indented text outside a recipe: continuation of a value, or stray
                index += 1
                continue
            if stripped.startswith("#"):
                if not stripped.startswith("#!"):
                    doc = (line, stripped[1:].strip())
                index += 1
                continue
            if stripped.startswith("["):
                parsed = _attributes(stripped)
                if parsed is None:
                    self.ctx.diagnostic(self.path, f"attribute line not understood: {stripped[:80]}", line=line)
                else:
                    attributes.extend(parsed)
                index += 1
                continue
            if _ASSIGNMENT.match(stripped) or _KEYWORD_LINE.match(stripped):
                self._statement(stripped)
                index = _expression_end(self.lines, index) + 1
                doc, attributes = None, []
                continue
            header = _HEADER.match(stripped)
            parts = _split_header(header.group("rest")) if header else None
            if header is None or parts is None:
                self.ctx.diagnostic(self.path, f"line not understood as a just recipe: {stripped[:80]}", line=line)
                index += 1
                doc, attributes = None, []
                continue
            recipe_doc = doc[1] if doc and doc[0] == line - 1 - len(_attribute_lines_above(self.lines, index)) else None
            index = self._recipe(index, header, parts, attributes, recipe_doc)
            doc, attributes = None, []
        return self.result

    def _statement(self, text: str) -> None:
        """Only aliases matter to the recipes of this file (`mod`/`import` are read by `_declared_by`)."""
        alias = _ALIAS.match(text)
        if alias:
            self.result.aliases.setdefault(alias.group(2), []).append(alias.group(1))

    def _recipe(
        self,
        index: int,
        header: re.Match[str],
        parts: tuple[str, str],
        attributes: list[tuple[str, str | None]],
        doc: str | None,
    ) -> int:
        parameters, dependencies = parts
        before, _, after = dependencies.partition("&&")
        recipe = _Recipe(
            name=header.group("name"),
            line=index + 1,
            end=index + 1,
            quiet=header.group("quiet") is not None,
            parameters=parameters.strip(),
            depends=_dependency_names(before),
            after=_dependency_names(after),
            attributes=attributes,
            doc=doc,
        )
        body_end = index
        cursor = index + 1
        while cursor < len(self.lines):
            raw = self.lines[cursor]
            if raw.strip() and raw[0] not in " \t":
                break
            if raw.strip():
                body_end = cursor
            cursor += 1
        recipe.end = body_end + 1
        body = self.lines[index + 1 : body_end + 1]
        is_script = any(name == "script" for name, _ in attributes)
        first = next((b.strip() for b in body if b.strip()), "")
        if first.startswith("#!"):
            recipe.shebang = first
            is_script = True
        if is_script:
            self._script_commands(recipe, index + 2, body)
        else:
            self._linewise_commands(recipe, index + 2, body)
        self.result.recipes.append(recipe)
        return body_end + 1

    def _linewise_commands(self, recipe: _Recipe, first_line: int, body: list[str]) -> None:
        offset = 0
        while offset < len(body):
            start = offset
            parts = [body[offset].strip()]
            while parts[-1].endswith("\\") and offset + 1 < len(body):
                parts[-1] = parts[-1][:-1].rstrip()
                offset += 1
                parts.append(body[offset].strip())
            offset += 1
            text = " ".join(p for p in parts if p)
            while text[:1] in _PREFIX_CHARS and text:
                text = text[1:].lstrip()
            if not text or text.startswith("#"):
                continue
            recipe.commands.append(self.ctx.command(text, self.path, first_line + start, first_line + offset - 1))

    def _script_commands(self, recipe: _Recipe, first_line: int, body: list[str]) -> None:
        """A shebang or `[script]` body: each non-comment line is recorded as a command line."""
        for offset, raw in enumerate(body):
            text = raw.strip()
            if text and not text.startswith(("#", "//")):
                recipe.commands.append(self.ctx.command(text, self.path, first_line + offset))


def _attribute_lines_above(lines: list[str], index: int) -> list[int]:
    """Indexes of the attribute lines directly above line `index` (a doc comment may sit above them)."""
    found: list[int] = []
    cursor = index - 1
    while cursor >= 0 and lines[cursor].strip().startswith("["):
        found.append(cursor)
        cursor -= 1
    return found


def _attributes(text: str) -> list[tuple[str, str | None]] | None:
    """`[a, b('x')]`, `[group: 'x']` or several bracket groups on one line -> [(name, argument)]."""
    found: list[tuple[str, str | None]] = []
    rest = text.strip()
    while rest:
        if not rest.startswith("["):
            return None if not rest.startswith("#") else found
        close = _first_unquoted(rest, "]")
        if close is None:
            return None
        for item in _split_top_level(rest[1:close], ","):
            item = item.strip()
            match = re.match(rf"^({_NAME})\s*(?:\((.*)\)|:\s*(.+))?$", item, re.S)
            if not match:
                return None
            argument = match.group(2) if match.group(2) is not None else match.group(3)
            found.append((match.group(1), _unquote(argument) if argument is not None else None))
        rest = rest[close + 1 :].strip()
    return found


def _first_unquoted(text: str, target: str) -> int | None:
    """Index of the first `target` character outside '...' or "..." quotes, or None."""
    quote: str | None = None
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == target:
            return index
    return None


def _unquote(text: str) -> str:
    """`'x'`, `"x"` or several quoted arguments (`'a', 'b'`) as plain text."""
    items = [i.strip() for i in _split_top_level(text, ",")]
    cleaned = [i[1:-1] if len(i) >= 2 and i[0] == i[-1] and i[0] in "'\"" else i for i in items]
    return ", ".join(cleaned)


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` outside quotes and parentheses."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current = ""
    for char in text:
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == separator and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def _split_header(rest: str) -> tuple[str, str] | None:
    """(parameters, dependencies) of a recipe header after its name; None when there is no recipe colon."""
    depth = 0
    quote: str | None = None
    for index, char in enumerate(rest):
        if quote:
            if char == "\\" and quote == '"':
                continue
            if char == quote:
                quote = None
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "#" and depth == 0:
            return None
        elif char == ":" and depth == 0:
            if rest[index + 1 : index + 2] == "=":
                return None  # `name := value`, an assignment
            dependencies = rest[index + 1 :]
            comment = _first_unquoted(dependencies, "#")
            return rest[:index], dependencies[:comment] if comment is not None else dependencies
    return None




def _dependency_names(text: str) -> list[str]:
    """`a (b "x" y) mod::c` -> ['a', 'b', 'mod::c']: the recipe of each dependency, arguments dropped."""
    names: list[str] = []
    for match in re.finditer(rf"\(\s*((?:{_NAME}::)*{_NAME})[^)]*\)|((?:{_NAME}::)*{_NAME})", text):
        names.append(match.group(1) or match.group(2))
    return list(dict.fromkeys(names))


def _expression_end(lines: list[str], index: int) -> int:
    """Last line index of a statement starting at `index`: open quotes, backticks and brackets continue it."""
    state: str | None = None  # the open string delimiter
    depth = 0
    cursor = index
    while cursor < len(lines):
        line = lines[cursor]
        position = 0
        while position < len(line):
            if state is not None:
                if line.startswith(state, position):
                    position += len(state)
                    state = None
                    continue
                position += 2 if line[position] == "\\" and state == '"' else 1
                continue
            for delimiter in ('"""', "'''", "```", '"', "'", "`"):
                if line.startswith(delimiter, position):
                    state = delimiter
                    position += len(delimiter)
                    break
            else:
                char = line[position]
                if char == "#":
                    break
                if char in "([{":
                    depth += 1
                elif char in ")]}":
                    depth = max(0, depth - 1)
                position += 1
        if state in ('"', "'", "`"):
            state = None  # a one-line string never spans lines; the line was malformed
        if state is None and depth == 0:
            return cursor
        cursor += 1
    return len(lines) - 1


# -------------------------------------------------------------------- how to run it


def _invocation_prefix(ctx: DetectContext, path: str, seen: frozenset[str] = frozenset()) -> str:
    """`just ` for the root justfile; `just dir/` for one in a folder (just searches from `dir`);
    `just mod::` for a module file; `just -f file ` when nothing declares a `*.just` file."""
    directory = posixpath.dirname(path)
    if basename(path).lower() in ("justfile", ".justfile"):
        return f"just {directory}/" if directory else "just "
    declared = _declared_by(ctx, path)
    if declared is not None and declared[0] not in seen:  # an import loop is just's error, not ours
        declaring, module = declared
        base = _invocation_prefix(ctx, declaring, seen | {path})
        return f"{base}{module}::" if module else base
    return f"just -f {path} "


def _declared_by(ctx: DetectContext, path: str) -> tuple[str, str | None] | None:
    """(justfile, module name or None for an import) that brings this `*.just` file in."""
    directory = posixpath.dirname(path)
    parent = posixpath.dirname(directory) if directory else None
    candidates = [directory] + ([parent] if parent is not None and parent != directory else [])
    for folder in candidates:
        siblings = ctx.glob(f"{folder}/*" if folder else "*")
        for justfile in [f for f in siblings if f != path and _is_root_justfile(f)]:
            file = ctx.read(justfile)
            if file is None:
                continue
            found = _find_declaration(justfile, file.lines, path)
            if found is not None:
                return found
    return None


def _is_root_justfile(path: str) -> bool:
    return basename(path).lower() in ("justfile", ".justfile") or basename(path).endswith(".just")


def _find_declaration(justfile: str, lines: list[str], path: str) -> tuple[str, str | None] | None:
    folder = posixpath.dirname(justfile)
    relative = posixpath.relpath(path, folder or ".")
    for raw in lines:
        text = raw.strip()
        imported = _IMPORT.match(text)
        if imported and posixpath.normpath(imported.group(2)) == relative:
            return justfile, None
        module = _MOD.match(text)
        if not module:
            continue
        name, explicit = module.group(1), module.group(3)
        if explicit:
            explicit = posixpath.normpath(explicit)
            options = [explicit, f"{explicit}/mod.just", f"{explicit}/justfile", f"{explicit}/.justfile"]
        else:
            options = [f"{name}.just", f"{name}/mod.just", f"{name}/justfile", f"{name}/.justfile"]
        if relative in options or relative.lower() in [o.lower() for o in options]:
            return justfile, name
    return None
