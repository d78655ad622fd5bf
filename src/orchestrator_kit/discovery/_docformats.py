"""Documentation formats other than Markdown, rewritten as Markdown line for line, so that one reader (markdown-it)
finds the procedures of every format and every line number stays true.

* ERB-templated Markdown (`.html.md.erb`, `.md.erb`, the sources of many documentation sites): `<% ... %>` tags
  are blanked (newlines kept).
* reStructuredText (`.rst`): a title with an `=`/`-`/`~`/... underline (and optional overline) becomes an ATX
  heading, levels in the order the adornment styles first appear, as docutils assigns them; `.. code-block:: lang`,
  `.. code:: lang`, `.. sourcecode:: lang` and a paragraph ending in `::` open a fenced block holding the indented
  lines that follow (dedented); admonition directives (`.. note::`, ...) lose their marker line and their body is
  dedented so it is read as text; other directive lines and comments (`..`) are blanked; `#.` lists are numbered.
* AsciiDoc (`.adoc`, `.asciidoc`): `=`..`======` titles become headings; `[source,lang]` plus `----` delimiters,
  and bare `----`/`....` listing blocks, become fences; `. item` / `.. item` ordered lists and `* item` / `** item`
  bullets become Markdown lists (nested by depth); attribute entries (`:toc:`), block titles (`.Title`), block
  attributes (`[NOTE]`) and `//` comments are blanked.
* Plain text (`.txt`) is read as Markdown as it is: numbered lines are lists, indented commands are code.

Each converter returns exactly as many lines as it was given, except that a code block still open at the end of
the file gets one closing line after the last.
"""

from __future__ import annotations

import re

ERB_TAG = re.compile(r"<%.*?%>", re.S)

_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+:.<>_])\1{2,}\s*$")
_RST_CODE = re.compile(r"^(\s*)\.\.\s+(?:code-block|code|sourcecode|prompt)::\s*(\S*)\s*$", re.IGNORECASE)
_RST_ADMONITION = re.compile(
    r"^(\s*)\.\.\s+(?:note|warning|important|tip|attention|caution|danger|hint|error|admonition|seealso)::\s*(.*)$",
    re.IGNORECASE,
)
_RST_DIRECTIVE = re.compile(r"^\s*\.\.(?:\s|$)")
_RST_OPTION = re.compile(r"^\s+:[\w-]+:")
_RST_AUTO_NUMBER = re.compile(r"^(\s*)#\.(\s+)")
_RST_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|#\.|\d+[.)])\s+")


def erb_to_markdown(text: str) -> str:
    """ERB tags blanked, newlines kept (`<%= vars.x %>` and `<% if ... %>` say nothing about procedures)."""
    return ERB_TAG.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _indented_block(lines: list[str], start: int, base: int) -> int:
    """The index just past the block of lines indented more than `base` that starts at `start` (blank lines
    inside the block belong to it; trailing blank lines do not)."""
    end = start
    index = start
    while index < len(lines):
        line = lines[index]
        if line.strip():
            if _indent(line) <= base:
                break
            end = index + 1
        index += 1
    return end


def _rst_literal_block(lines: list[str], out: list[str], index: int, code: re.Match[str] | None) -> bool:
    """Fence the indented block after a code directive or a `::` paragraph at `index`, in place; False when
    there is none. The fence opens on the directive line (or the blank line after a `::` paragraph) and closes
    on the blank line after the block, so no line moves; a block not followed by a blank line (docutils warns
    about that too) is left as it is."""
    line = lines[index]
    base = _indent(line)
    item = _RST_LIST_ITEM.match(line)
    pad = " " * (item.end() if item else base)  # the block stays inside the list item it belongs to
    body_start = index + 1
    while body_start < len(lines) and (_RST_OPTION.match(lines[body_start]) or not lines[body_start].strip()):
        body_start += 1
    end = _indented_block(lines, body_start, base)
    if end == body_start or (code is None and body_start == index + 1):
        return False
    if end < len(lines) and lines[end].strip():
        return False
    for i in range(index + 1, body_start):
        out[i] = ""
    if code is not None:
        out[index] = pad + "```" + code.group(2)
    else:  # "Run this::" keeps its sentence, with one colon
        out[index] = "" if line.strip() == "::" else out[index].rstrip()[:-1]
        out[index + 1] = pad + "```"
    cut = min((_indent(lines[i]) for i in range(body_start, end) if lines[i].strip()), default=0)
    for i in range(body_start, end):
        out[i] = pad + lines[i][cut:] if lines[i].strip() else ""
    if end < len(lines):
        out[end] = pad + "```"
    else:
        out.append(pad + "```")
    return True


def rst_to_markdown(text: str) -> str:
    """reStructuredText as Markdown, line for line (see the module doc)."""
    lines = text.split("\n")
    out = list(lines)
    styles: list[tuple[str, bool]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        # A title: text with an adornment line under it at least as long (and maybe the same line over it). The
        # cheap tests go first: most lines are not followed by an adornment.
        under = lines[index + 1] if index + 1 < len(lines) else ""
        if (stripped and not line[:1].isspace() and _RST_ADORNMENT.match(under) and not _RST_ADORNMENT.match(line)
                and len(under.rstrip()) >= len(stripped)):
            over = index > 0 and lines[index - 1].strip() == under.strip()
            style = (under.strip()[0], over)
            if style not in styles:
                styles.append(style)
            level = min(styles.index(style) + 1, 6)
            out[index] = f"{'#' * level} {stripped}"
            out[index + 1] = ""
            if over:
                out[index - 1] = ""
            index += 2
            continue
        # Numbered items, directives and comments all start with `#.` or `..` after the indentation: the other lines
        # (nearly all) skip their four patterns.
        marked = stripped.startswith(("..", "#."))
        numbered = _RST_AUTO_NUMBER.match(line) if marked else None
        if numbered:
            out[index] = f"{numbered.group(1)}1.{numbered.group(2)}{line[numbered.end():]}"
        code = _RST_CODE.match(line) if marked else None
        literal = not code and stripped.endswith("::") and not (marked and _RST_DIRECTIVE.match(line))
        if code or literal:
            if _rst_literal_block(lines, out, index, code):
                index += 1
                continue
            if code:
                out[index] = ""
        elif marked and (admonition := _RST_ADMONITION.match(line)):
            out[index] = admonition.group(2)
            base = _indent(line)
            end = _indented_block(lines, index + 1, base)
            for i in range(index + 1, end):
                out[i] = lines[i].lstrip(" \t")
            index = end
            continue
        elif marked and _RST_DIRECTIVE.match(line):
            out[index] = ""
        index += 1
    return "\n".join(out)


_ADOC_TITLE = re.compile(r"^(={1,6})\s+(\S.*)$")
_ADOC_SOURCE = re.compile(r"^\[(?:source|listing)(?:\s*,\s*([\w+-]+))?[^\]]*\]\s*$", re.IGNORECASE)
_ADOC_DELIMITER = re.compile(r"^(-{4,}|\.{4,})\s*$")
_ADOC_ORDERED = re.compile(r"^(\.{1,5})\s+(\S.*)$")
_ADOC_BULLET = re.compile(r"^(\*{1,5}|-)\s+(\S.*)$")
_ADOC_BLANKED = re.compile(r"^(?::[\w-]+!?:.*|\.[A-Za-z0-9].*|\[[^\]]*\]|//.*|ifdef::.*|ifndef::.*|endif::.*|"
                           r"include::.*|\+)$")


def adoc_to_markdown(text: str) -> str:
    """AsciiDoc as Markdown, line for line (see the module doc)."""
    lines = text.split("\n")
    out: list[str] = []
    language: str | None = None  # set by a [source,lang] line for the next delimited block
    fence: str | None = None  # the delimiter that closes the open block
    for line in lines:
        if fence is not None:
            if line.strip() == fence:
                out.append("```")
                fence = None
            else:
                out.append(line)
            continue
        delimiter = _ADOC_DELIMITER.match(line)
        if delimiter:
            fence = delimiter.group(1)
            out.append("```" + (language or ""))
            language = None
            continue
        source = _ADOC_SOURCE.match(line)
        if source:
            language = source.group(1) or ""
            out.append("")
            continue
        title = _ADOC_TITLE.match(line)
        ordered = _ADOC_ORDERED.match(line)
        bullet = _ADOC_BULLET.match(line)
        if title:
            out.append(f"{'#' * len(title.group(1))} {title.group(2)}")
        elif ordered:
            out.append(f"{'   ' * (len(ordered.group(1)) - 1)}1. {ordered.group(2)}")
        elif bullet:
            depth = 1 if bullet.group(1) == "-" else len(bullet.group(1))
            out.append(f"{'  ' * (depth - 1)}- {bullet.group(2)}")
        elif _ADOC_BLANKED.match(line):
            out.append("")
        else:
            out.append(line)
        language = None if not source else language
    if fence is not None:
        out.append("```")
    return "\n".join(out)


def as_markdown(path: str, text: str) -> str:
    """The document at `path` as Markdown text with the same line numbers (see the module doc)."""
    lower = path.lower()
    if lower.endswith(".erb"):
        return erb_to_markdown(text)
    if lower.endswith(".rst"):
        return rst_to_markdown(text)
    if lower.endswith((".adoc", ".asciidoc")):
        return adoc_to_markdown(text)
    return text
