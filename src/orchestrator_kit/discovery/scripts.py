"""Script files: shell, Python and other scripts under `scripts/`, `script/`, `bin/`, `tools/` or `hack/`
folders (at any depth, never in vendored folders), one Task per file.

A file is a script when it starts with a shebang (whatever its extension, unless that extension is a
document's, data's or another language's), or when its extension is a script language's
(.sh .bash .zsh .ksh .py .rb .pl .ps1 .js .mjs .cjs .ts). A `.py` file without a shebang that sits in a
Python package (a folder with `__init__.py`) and has no `if __name__ == "__main__":` is a module, not a
script; so is a `.js`/`.ts` file without a shebang below the top-level script folder.

* Invocation: `./path` for a file with a shebang, else the interpreter its extension implies (`bash path`,
  `python path`, `node path`, ...).
* Interpreter: from the shebang (`#!/usr/bin/env -S uv run --script` gives `uv`; env's options and
  `VAR=value` words are skipped), else from the extension.
* Description: a Python module docstring (read with `ast`, never run), else the first comment block after
  the shebang; a licence header (Copyright, SPDX, "Licensed under") is skipped, as are editor modelines and
  shellcheck directives.
* Shell scripts: `strict_mode` is yes when errexit, nounset and pipefail are all set (`set -euo pipefail`,
  `set -o errexit ...`, or flags on the shebang line); the first 200 command lines (comments, blank lines,
  heredoc bodies and bare keywords such as `fi` left out, `\\`-continued lines joined) are kept as commands,
  so that a manual procedure can later be matched to the script that already automates it.
* `usage`: the text after the first `Usage:` the script prints or documents (or argparse's `usage=`).
"""

from __future__ import annotations

import ast
import posixpath
import re

from ..limits import note_exhausted
from ..models import Command
from ..repo import FileText
from .base import DetectContext, Wants, basename, detector, finalizer

SCRIPT_DIRS = ("scripts", "script", "bin", "tools", "hack")
INTERPRETER_BY_EXTENSION = {
    ".sh": "bash", ".bash": "bash", ".zsh": "zsh", ".ksh": "ksh", ".py": "python", ".rb": "ruby", ".pl": "perl",
    ".ps1": "pwsh", ".js": "node", ".mjs": "node", ".cjs": "node", ".ts": "npx tsx",
}
SHELLS = {"sh", "bash", "zsh", "ksh", "dash", "ash", "mksh", "fish"}
POSIX_LIKE_SHELLS = SHELLS - {"fish"}
COMMAND_LIMIT = 200
USAGE_LIMIT = 300
_SKIP_NAMES = {"__init__.py", "conftest.py"}
# Extensions of files that are never scripts (documents, data, configuration, compiled code, other languages'
# sources): they are not even read. Anything else is read and kept when it has a shebang.
_NOT_SCRIPT_EXTENSIONS = """
    .md .rst .txt .adoc .json .jsonc .yaml .yml .toml .ini .cfg .conf .properties .lock .csv .tsv .xml .html .htm
    .css .scss .go .rs .java .kt .c .h .cc .cpp .hpp .cs .swift .scala .tf .tfvars .hcl .sql .proto .graphql
    .png .jpg .jpeg .gif .svg .ico .webp .pdf .zip .gz .tgz .tar .bz2 .xz .whl .jar .class .so .dylib .dll .exe
    .o .a .pyc .pyi .map .env .example .sample .tmpl .tpl .j2 .mod .sum .bak .orig .log .pem .crt .key .pub
    .patch .diff .vim .el .ipynb
"""
_NOT_SCRIPTS = frozenset(_NOT_SCRIPT_EXTENSIONS.split())
_SYNTAX_ONLY = re.compile(
    r"^(?:fi|done|esac|then|else|do|in|\{|\}|\(|\)|;;|;;&|;&|\}\s*\|\|.*|"
    r"(?:function\s+)?[\w:.-]+\s*\(\s*\)\s*\{?|function\s+[\w:.-]+\s*\{?|"
    r"[^\s()|]+(?:\s*\|\s*[^\s()|]+)*\))$"  # a `case` pattern line; `|` kept out of the runs (no backtracking)
)
_HEREDOC = re.compile(r"(?<!<)<<(-?)\s*(['\"]?)([A-Za-z_][\w-]*)\2")
_LICENCE = re.compile(r"copyright|spdx-license|licensed under|license, version|all rights reserved", re.I)
_DIRECTIVE = re.compile(r"^(?:shellcheck\s|-\*-|vim?:|ex:|noqa|type:|pylint:|fmt:|eslint|@ts-|prettier-|"
                        r"///)", re.I)
_USAGE = re.compile(r"\busage:\s*(.+)", re.I)
_ARGPARSE_USAGE = re.compile(r"usage\s*=\s*[rfbu]?(['\"])(.+?)\1", re.I)


def _is_script_candidate(path: str) -> bool:
    name = basename(path)
    if name in _SKIP_NAMES or name.endswith(".d.ts") or re.match(r"^test_.*\.py$|.*_test\.py$", name):
        return False
    extension = posixpath.splitext(name)[1].lower()
    return extension not in _NOT_SCRIPTS  # a `.bats` or `.awk` file with a shebang is a script too


SHELL_GLOBS = ("*.sh", "*.bash", "*.zsh", "*.ksh", "*.ps1")
COMPLETION_DIRS = frozenset({"completion", "completions", "bash_completion.d", "bash-completion", "site-functions",
                             "zsh-completions", "autocomplete"})
_COMPLETION_NAME = re.compile(r"(?:^|[-_.])(?:completion|completions|complete)(?:[-_.]|$)|^_[\w-]+$", re.I)
_LIBRARY_NAME = re.compile(r"^(?:lib|common|util|utils|helpers?|functions|env|vars|config|init|base)(?:[-_.]\w+)?"
                           r"\.(?:sh|bash|zsh|ksh)$|^lib[-_]", re.I)
LIBRARY_DIRS = frozenset({"lib", "libs", "include", "includes", "functions"})


def in_script_dir(path: str) -> bool:
    return not frozenset(path.lower().split("/")[:-1]).isdisjoint(SCRIPT_DIRS)


# Files in script folders, and shell scripts by extension in any folder (kept there only when they are runnable:
# a shebang or the executable bit).
SCRIPT_FILES = Wants(dirs=frozenset(SCRIPT_DIRS), globs=SHELL_GLOBS, refine=_is_script_candidate)


# Lower-case, extension-less files at the root that are not scripts by convention.
_ROOT_NOT_SCRIPTS = frozenset(
    {"makefile", "gnumakefile", "justfile", "dockerfile", "procfile", "gemfile", "rakefile", "brewfile", "vagrantfile",
     "jenkinsfile", "taskfile", "license", "licence", "copying", "notice", "authors", "version", "codeowners",
     "owners", "changelog", "readme", "todo", "manifest", "pipfile", "podfile", "cartfile", "berksfile", "guardfile",
     "capfile", "dangerfile", "fastfile", "appfile", "earthfile", "tiltfile", "caddyfile", "containerfile",
     # build tools' wrappers: how their tasks run, not tasks of their own
     "gradlew", "mvnw", "sbtw", "millw"}
)


def _root_script_candidate(path: str) -> bool:
    """`smoke-test`, `bootstrap`, `release` at the repository root: read, and kept when they start with a shebang."""
    return "/" not in path and "." not in path and path.islower() and path not in _ROOT_NOT_SCRIPTS


@finalizer("root-scripts", order=10)
def detect_root_scripts(ctx: DetectContext) -> None:
    """Root-level candidates come from one pass over the listing here rather than from a per-file predicate, which
    the file index would have to call for every file of the repository."""
    if ctx.active is not None and "scripts" not in ctx.active:
        return
    for path in [f for f in ctx.files if "/" not in f]:
        if not _root_script_candidate(path):
            continue
        file = ctx.read(path)
        if file is not None and file.text.startswith("#!"):
            previous, ctx.current_detector = ctx.current_detector, "scripts"
            try:
                detect_script(ctx, file)
            finally:
                ctx.current_detector = previous
        ctx.forget(path)


@detector("scripts", wants=SCRIPT_FILES)
def detect_script(ctx: DetectContext, file: FileText) -> None:
    path = file.path
    lines = file.lines
    shebang = lines[0].strip() if lines and lines[0].startswith("#!") else None
    extension = posixpath.splitext(basename(path))[1].lower()
    if shebang is None and extension not in INTERPRETER_BY_EXTENSION:
        return  # a file without extension and without shebang: data, docs or a compiled program
    if shebang is None and _is_module(ctx, path, file.text, extension):
        return
    if _not_runnable(ctx, path, lines, shebang):
        return
    # From here on, what the script holds depends on its path and text alone: remembered across scans.
    ctx.remembered((file,), lambda: _script_task(ctx, file, shebang, extension))


def _script_task(ctx: DetectContext, file: FileText, shebang: str | None, extension: str) -> None:
    path = file.path
    lines = file.lines
    interpreter, interpreter_args = _from_shebang(shebang) if shebang else (INTERPRETER_BY_EXTENSION[extension], "")
    attributes: dict[str, str] = {
        "interpreter": interpreter,
        "interpreter_source": "shebang" if shebang else "extension",
    }
    if shebang:
        attributes["shebang"] = shebang
    if interpreter_args:
        attributes["interpreter_args"] = interpreter_args
    shell = interpreter in SHELLS or (shebang is None and extension in (".sh", ".bash", ".zsh", ".ksh"))
    commands: list[Command] = []
    if shell:
        options = _shell_options(lines, interpreter_args)
        if interpreter in POSIX_LIKE_SHELLS:
            attributes["strict_mode"] = "yes" if {"errexit", "nounset", "pipefail"} <= options else "no"
            if options:
                attributes["shell_options"] = ", ".join(sorted(options))
        commands = _shell_commands(ctx, path, lines)
    usage = _usage(lines, extension == ".py" or interpreter.startswith("python"))
    if usage:
        attributes["usage"] = usage
    last = max((i + 1 for i, line in enumerate(lines) if line.strip()), default=0)
    if last == 0 or (last == 1 and shebang):
        attributes["empty"] = "true"
    description = _description(file.text, lines, extension, interpreter)
    invocation = f"./{path}" if shebang else f"{INTERPRETER_BY_EXTENSION[extension]} {path}"
    ctx.add_task(
        ctx.task(
            "script", path, basename(path),
            invocation=invocation,
            description=description,
            commands=commands,
            attributes=attributes,
            evidence=ctx.evidence(path, 1, max(1, last)),
        )
    )


def _not_runnable(ctx: DetectContext, path: str, lines: list[str], shebang: str | None) -> bool:
    """Shell files nobody runs: completion files (`#compdef`, `completions/`, `x-completion.bash`), libraries that
    scripts `source` (no shebang, not executable, and a library's name or folder, or nothing but definitions),
    and, outside the script folders, any shell file without a shebang or the executable bit."""
    parts = path.lower().split("/")
    name = parts[-1]
    first = lines[0].strip() if lines else ""
    if first.startswith(("#compdef", "#autoload")) or not COMPLETION_DIRS.isdisjoint(parts[:-1]):
        return True
    stem = name.rsplit(".", 1)[0]
    if ("complet" in name and _COMPLETION_NAME.search(stem)) or (name.startswith("_") and not shebang):
        return True
    if shebang is not None or ctx.executable(path):
        return False
    if not in_script_dir(path):
        return True
    return bool(_LIBRARY_NAME.match(name) or not LIBRARY_DIRS.isdisjoint(parts[:-1]) or _only_definitions(lines))


_DEFINITION = re.compile(
    r"^(?:#.*|(?:export\s+|readonly\s+|declare(?:\s+-\w+)*\s+|local\s+)?[A-Za-z_]\w*(?:\[[^\]]*\])?\+?=.*|"
    r"(?:function\s+)?[\w:.-]+\s*\(\s*\)\s*\{?.*|function\s+[\w:.-]+\s*\{?.*|set\s+-.*|shopt\s.*|"
    r"(?:source|\.)\s+\S.*|\{|\}|\)|;;|fi|esac|done)$"
)


def _only_definitions(lines: list[str]) -> bool:
    """Whether every line outside function bodies is a comment, an assignment, a function definition, `set`,
    or a `source`: a library to be sourced, which does nothing when run."""
    depth = 0
    functions = 0
    for raw in lines:
        line = _strip_comment(raw.strip())
        if not line:
            continue
        if depth == 0 and not _DEFINITION.match(line):
            return False
        functions += depth == 0 and ("(" in line or line.startswith("function"))
        unquoted = re.sub(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"", "", line)
        depth = max(0, depth + unquoted.count("{") - unquoted.count("}"))
    return functions > 0


def _is_module(ctx: DetectContext, path: str, text: str, extension: str) -> bool:
    """A library file that lives in a script folder: a package module, a Python file that only defines things
    (imported by the scripts next to it), or a JS/TS module deeper down."""
    directory = posixpath.dirname(path)
    if extension == ".py":
        if re.search(r"^if\s+__name__\s*==\s*['\"]__main__['\"]\s*:", text, re.M) is not None:
            return False
        return ctx.exists(posixpath.join(directory, "__init__.py")) or _python_definitions_only(text)
    if extension in (".js", ".mjs", ".cjs", ".ts"):
        return path.split("/", 1)[0].lower() not in SCRIPT_DIRS
    return False


_DEFINING_NODES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
                   ast.AnnAssign)


def _python_definitions_only(text: str) -> bool:
    """Whether a Python file only imports and defines (functions, classes, constants, a docstring): a module
    other scripts import, which does nothing when run. Parsed with `ast`, never run."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    except (RecursionError, MemoryError):
        note_exhausted()  # the stack's depth or the memory left decided it (see `limits.note_exhausted`)
        return False
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return bool(body) and all(isinstance(node, _DEFINING_NODES) for node in body)


def _from_shebang(shebang: str) -> tuple[str, str]:
    """(interpreter, its arguments) from `#!/path/prog args` or `#!/usr/bin/env [-S] [VAR=x] prog args`."""
    words = shebang[2:].strip().split()
    if not words:
        return "unknown", ""
    program, rest = basename(words[0]), words[1:]
    if program == "env":
        while rest:
            word = rest[0]
            if word in ("-S", "--split-string", "-i", "--ignore-environment", "-") or re.match(r"^\w+=", word):
                rest = rest[1:]
            elif word in ("-u", "--unset", "-C", "--chdir"):
                rest = rest[2:]
            elif word.startswith("-S") and len(word) > 2:
                rest = [word[2:], *rest[1:]]
            elif word.startswith("--split-string="):
                rest = [*word.split("=", 1)[1].split(), *rest[1:]]
            elif word.startswith("-"):
                rest = rest[1:]
            else:
                break
        if not rest:
            return "env", ""
        program, rest = basename(rest[0]), rest[1:]
    return program, " ".join(rest)


def _shell_options(lines: list[str], shebang_args: str) -> set[str]:
    """The `set -e/-u/-o pipefail` style options a shell script turns on (errexit, nounset, pipefail, ...)."""
    letters = {"e": "errexit", "u": "nounset", "x": "xtrace", "E": "errtrace"}
    options: set[str] = set()
    candidates = [f"set {shebang_args}"] if shebang_args.startswith("-") else []
    for raw in lines[1:] if lines and lines[0].startswith("#!") else lines:
        code = _strip_comment(raw.strip())
        candidates.extend(m.group(1) for m in re.finditer(r"(?:^|[;&|]\s*)set\s+([^;&|]*)", code))
    for candidate in candidates:
        words = candidate.replace("set ", "", 1).split() if candidate.startswith("set ") else candidate.split()
        index = 0
        while index < len(words):
            word = words[index]
            index += 1
            if not word.startswith("-") or word == "--":
                continue
            for letter in word[1:]:
                if letter == "o" and index < len(words):
                    options.add(words[index])
                    index += 1
                elif letter in letters:
                    options.add(letters[letter])
    return options


def _strip_comment(line: str) -> str:
    """A shell line without its trailing `# comment` (a `#` inside quotes, `$#` or `${#x}` is not one)."""
    quote: str | None = None
    for index, char in enumerate(line):
        if quote:
            if char == quote and (quote == "'" or line[index - 1] != "\\"):
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t;"):
            return line[:index].rstrip()
    return line


def _shell_commands(ctx: DetectContext, path: str, lines: list[str]) -> list[Command]:
    commands: list[Command] = []
    heredoc: tuple[str, bool] | None = None
    index = 1 if lines and lines[0].startswith("#!") else 0
    while index < len(lines) and len(commands) < COMMAND_LIMIT:
        raw = lines[index]
        if heredoc is not None:
            terminator, strip_tabs = heredoc
            if (raw.lstrip("\t") if strip_tabs else raw).rstrip() == terminator:
                heredoc = None
            index += 1
            continue
        start = index
        text = _strip_comment(raw.strip())
        while text.endswith("\\") and index + 1 < len(lines):
            index += 1
            text = text[:-1].rstrip() + " " + _strip_comment(lines[index].strip())
        index += 1
        if not text or _SYNTAX_ONLY.match(text):
            continue
        found = _HEREDOC.search(text)
        if found:
            heredoc = (found.group(3), found.group(1) == "-")
        commands.append(ctx.command(text, path, start + 1, index))
    return commands


def _trim_usage(text: str) -> str:
    """Drop what closes the printed string: quotes, `)`, `;` and a literal `\\n` (a loop, not a regex:
    a line of ten thousand `;` must not cost seconds)."""
    text = text.strip()
    while text:
        if text.endswith("\\n"):
            text = text[:-2].rstrip()
        elif text[-1] in "\"'`);":
            text = text[:-1].rstrip()
        else:
            break
    return text


def _usage(lines: list[str], python: bool) -> str | None:
    for raw in lines:
        match = _USAGE.search(raw)
        if not match:
            continue
        text = match.group(1)
        opening = max(raw.rfind('"', 0, match.start()), raw.rfind("'", 0, match.start()))
        if opening >= 0:  # printed from a string: the usage ends where that string does
            text = text.rsplit(raw[opening], 1)[0] if raw[opening] in text else text
        text = _trim_usage(text[:USAGE_LIMIT])
        if text:
            return text
    if python:
        for raw in lines:
            match = _ARGPARSE_USAGE.search(raw)
            if match:
                return match.group(2).strip()
    return None


# -------------------------------------------------------------------- descriptions


def _description(text: str, lines: list[str], extension: str, interpreter: str) -> str | None:
    if extension == ".py" or interpreter.startswith("python"):
        docstring = _python_docstring(text)
        if docstring:
            return docstring
    if extension in (".js", ".mjs", ".cjs", ".ts") or interpreter in ("node", "deno", "bun", "npx", "tsx", "ts-node"):
        return _first_block(_slash_comment_blocks(lines))
    if extension == ".ps1" or interpreter in ("pwsh", "powershell"):
        return _first_block(_powershell_blocks(lines))
    return _first_block(_hash_comment_blocks(lines))


def _python_docstring(text: str) -> str | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError):
        note_exhausted()
        return None
    docstring = ast.get_docstring(tree)
    if not docstring:
        return None
    return _paragraph(docstring.split("\n"))


def _hash_comment_blocks(lines: list[str]) -> list[list[str]]:
    """The leading `#` comment blocks (a blank line ends a block; the first code line ends the search)."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        if index == 0 and stripped.startswith("#!"):
            continue
        if stripped.startswith("#"):
            if current is None:
                current = []
                blocks.append(current)
            current.append(stripped.lstrip("#").strip())
        elif not stripped:
            current = None
        else:
            break
    return blocks


def _slash_comment_blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] | None = None
    in_block = False
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        if index == 0 and stripped.startswith("#!"):
            continue
        if in_block:
            end = stripped.endswith("*/")
            content = stripped[:-2] if end else stripped
            if current is not None:
                current.append(content.lstrip("*").strip())
            in_block = not end
            if end:
                current = None
            continue
        if stripped.startswith("/*"):
            current = []
            blocks.append(current)
            content = stripped[2:].lstrip("*")
            end = content.rstrip().endswith("*/")
            current.append(content.rstrip()[:-2].strip() if end else content.strip())
            in_block = not end
            if end:
                current = None
        elif stripped.startswith("//"):
            if current is None:
                current = []
                blocks.append(current)
            current.append(stripped.lstrip("/").strip())
        elif not stripped or stripped in ("'use strict';", '"use strict";'):
            current = None
        else:
            break
    return blocks


def _powershell_blocks(lines: list[str]) -> list[list[str]]:
    """`<# .SYNOPSIS ... #>` help (the synopsis wins) or leading `#` lines."""
    text = "\n".join(lines)
    block = re.search(r"<#(.*?)#>", text, re.S)
    if block:
        body = block.group(1)
        synopsis = re.search(r"^\s*\.SYNOPSIS\s*\n(.*?)(?:^\s*\.\w+|\Z)", body, re.S | re.M)
        chosen = synopsis.group(1) if synopsis else body
        return [[line.strip() for line in chosen.split("\n")]]
    return _hash_comment_blocks(lines)


def _first_block(blocks: list[list[str]]) -> str | None:
    for block in blocks:
        kept = [line for line in block if not _DIRECTIVE.match(line)]
        if block and block[0].startswith("/// "):
            continue  # PEP 723 inline script metadata (`# /// script ... # ///`)
        if not any(kept) or _LICENCE.search(" ".join(kept)):
            continue
        description = _paragraph(kept)
        if description:
            return description
    return None


def _paragraph(block: list[str]) -> str | None:
    """The first paragraph of a comment block, separator lines and a leading `Usage:` paragraph left out."""
    words: list[str] = []
    for line in block:
        line = line.strip()
        if re.fullmatch(r"[-=#*_~/+]{3,}", line):
            continue
        if not line:
            if words:
                break
            continue
        if _USAGE.match(line):
            if words:
                break
            continue
        words.append(line)
    text = " ".join(words).strip()
    return text or None
