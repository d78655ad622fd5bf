"""Putting spec values into shell (and make, just, cron, systemd, CI YAML) without letting them run.

Two doors, both strict:

* **argv values are quoted**: every word of a command given as a list is passed through `shlex.quote`, so
  `"; rm -rf /"`, `"$(id)"` or a backtick string arrive as one literal argument. A `{name}` placeholder in a
  template argument becomes `"${NAME}"`, an environment variable expanded inside double quotes (no word
  splitting, no globbing, no second round of expansion).
* **command text is split or refused**: a command written as one string (as in a runbook) is split into
  words by `split_command`, which follows POSIX shell quoting and refuses anything whose meaning would change
  once every word is quoted: operators (`;`, `&&`, `|`, `>`), expansions (`$VAR`, `$(...)`, backticks),
  globs, brace and tilde expansion, comments.

Each target then adds its own layer on top of the shell text: make doubles `$`, just doubles `{{`, cron
escapes `%`, systemd has its own quoting and `%`/`$` specifiers, GitHub and GitLab expand `${{ }}` before any
shell sees it (refused everywhere).
"""

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Mapping, Sequence

from ..errors import InputError

# Characters that are never allowed in a value that lands in a generated file (NUL, other C0 controls
# but tab, DEL, and the Unicode line/paragraph separators and bidi overrides that hide text from a reviewer).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_EXPRESSION = re.compile(r"\$\{\{")  # GitHub Actions / Gitea expressions; expanded before the shell runs
_REDACTED = "[REDACTED:"
MAX_ARG_LENGTH = 4096


def check_text(value: str, what: str, *, allow_newlines: bool = False) -> str:
    """`value` unchanged, or InputError when it cannot be written safely into a generated file."""
    if len(value) > MAX_ARG_LENGTH:
        raise InputError(f"{what} is {len(value)} characters long; the limit is {MAX_ARG_LENGTH}.")
    probe = value.replace("\n", "") if allow_newlines else value
    bad = _CONTROL.search(probe)
    if bad:
        raise InputError(f"{what} contains the control character U+{ord(bad.group()):04X}: {value[:80]!r}")
    if _EXPRESSION.search(value):
        raise InputError(
            f"{what} contains '${{{{', a CI expression that GitHub or GitLab would expand before any quoting "
            f"applies: {value[:80]!r}. Pass the value as a parameter instead."
        )
    if _REDACTED in value:
        raise InputError(f"{what} holds a redacted secret ({value[:80]!r}); write the real reference by hand.")
    return value


# ------------------------------------------------------------------ templates


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]{0,31})\}")


def template_parts(template: str) -> list[tuple[str, bool]]:
    """[(text, is_param)] for a template such as `"Release {version}"`; `{{` and `}}` are literal braces."""
    parts: list[tuple[str, bool]] = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        if literal:
            parts.append((literal, False))
        if field is None:
            continue
        if spec or conversion or not _PLACEHOLDER.fullmatch("{" + field + "}"):
            raise InputError(f"Template {template!r}: '{{{field}}}' is not a parameter name (a-z, 0-9, _).")
        parts.append((field, True))
    return parts


def env_name(param: str) -> str:
    """The environment variable a parameter travels in: `version` -> `VERSION`."""
    return param.upper()


# ------------------------------------------------------------------ shell rendering


def quote_word(word: str) -> str:
    """One literal shell word."""
    return shlex.quote(word)


def render_template(template: str, params: Sequence[str]) -> str:
    """A template argument as one shell word: literals single-quoted, parameters as `"${NAME}"`."""
    out: list[str] = []
    for text, is_param in template_parts(template):
        if is_param:
            if text not in params:
                raise InputError(f"Template {template!r} uses '{{{text}}}', which is not a declared parameter.")
            out.append(f'"${{{env_name(text)}}}"')
        else:
            out.append(shlex.quote(text))
    return "".join(out) or "''"


def render_command(
    argv: Sequence[object],
    params: Sequence[str] = (),
    env: Mapping[str, object] | None = None,
) -> str:
    """A command as shell text: `NAME=value` prefixes, then each argv word quoted.

    An argv item is a plain string (one literal word) or `{"template": "..."}` (one word with parameters).
    """
    words: list[str] = []
    for name, value in (env or {}).items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise InputError(f"Environment name {name!r} is not a valid shell variable name.")
        words.append(f"{name}={_render_arg(value, params)}")
    for index, arg in enumerate(argv):
        if index == 0 and isinstance(arg, str):
            words.append(command_word(arg))
        else:
            words.append(_render_arg(arg, params))
    return " ".join(words)


# Words the shell reads as syntax when they stand first (bash(1), "RESERVED WORDS"), and assignment-looking
# words: both are quoted at the command position so the command stays the command that was asked for.
_RESERVED_WORDS = frozenset({
    "!", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in", "select",
    "then", "until", "while", "{", "}", "time", "[[", "]]",
})


def command_word(word: str) -> str:
    """The first word of a command: quoted like any word, and also when it is a reserved word or would read
    as a `NAME=value` assignment."""
    if word in _RESERVED_WORDS or _ASSIGNMENT.match(word):
        return "'" + word.replace("'", "'\"'\"'") + "'"
    return quote_word(word)


def _render_arg(arg: object, params: Sequence[str]) -> str:
    if isinstance(arg, str):
        return quote_word(arg)
    template = arg["template"] if isinstance(arg, Mapping) else getattr(arg, "template", None)
    if not isinstance(template, str):
        raise InputError(f"A command word must be text or a template, not {type(arg).__name__}.")
    return render_template(template, params)


# ------------------------------------------------------------------ other targets


def for_make(shell_text: str) -> str:
    """Shell text as a make recipe line: make expands `$` first, so each one is doubled."""
    return shell_text.replace("$", "$$")


def for_just(shell_text: str) -> str:
    """Shell text as a just recipe line: `{{` starts a just interpolation, `{{{{` is a literal `{{`."""
    return shell_text.replace("{{", "{{{{")


def for_cron(shell_text: str) -> str:
    """Shell text as a crontab command: cron turns an unescaped `%` into a newline (crontab(5))."""
    return shell_text.replace("%", "\\%")


_SYSTEMD_SAFE = re.compile(r"^[A-Za-z0-9_@+=:,./-]+$")


def systemd_word(word: str) -> str:
    """One word of a systemd `ExecStart=`: systemd's own quoting (systemd.service(5), "Command lines"),
    not a shell's. `%` specifiers are doubled and `$` references doubled so systemd passes them literally."""
    escaped = word.replace("%", "%%").replace("$", "$$")
    if _SYSTEMD_SAFE.match(escaped):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------ splitting command text


_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
_UNQUOTED_BAD = {
    ";": "a command separator ';'", "&": "'&' (background or '&&')", "|": "a pipe or '||'",
    "<": "a redirection '<'", ">": "a redirection '>'", "(": "a subshell '('", ")": "a subshell ')'",
    "`": "a backtick command substitution", "$": "a '$' expansion", "*": "a glob '*'", "?": "a glob '?'",
    "[": "a glob '['", "\n": "a line break",
}


class UnsafeCommand(InputError):
    """Command text that would change meaning once its words are quoted (operators, expansions, globs)."""


def split_command(text: str) -> tuple[dict[str, str], list[str]]:
    """(leading VAR=value assignments, argv) of a simple shell command, or UnsafeCommand saying why not.

    Follows POSIX quoting: single quotes are literal, double quotes keep `\\"`, `\\\\`, `\\$`, `` \\` ``
    escapes, a backslash outside quotes escapes the next character.
    """
    words: list[str] = []
    current: list[str] = []
    in_word = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            i += 1
            continue
        if ch == "#" and not in_word:
            raise UnsafeCommand(f"Command {text!r} has a '#' comment; remove it or quote the '#'.")
        if ch == "~" and not in_word:
            raise UnsafeCommand(f"Command {text!r} uses '~' (tilde expansion); write the path out.")
        in_word = True
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise UnsafeCommand(f"Command {text!r} has an unterminated single quote.")
            current.append(text[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while True:
                if i >= n:
                    raise UnsafeCommand(f"Command {text!r} has an unterminated double quote.")
                c = text[i]
                if c == '"':
                    i += 1
                    break
                if c in "$`":
                    raise UnsafeCommand(
                        f"Command {text!r} expands {'a variable' if c == '$' else 'a command'} inside double "
                        "quotes; use a parameter ({name}) or a literal value."
                    )
                if c == "\\" and i + 1 < n and text[i + 1] in '"\\$`\n':
                    current.append(text[i + 1])
                    i += 2
                    continue
                current.append(c)
                i += 1
        elif ch == "\\":
            if i + 1 >= n:
                raise UnsafeCommand(f"Command {text!r} ends with a lone backslash.")
            current.append(text[i + 1])
            i += 2
        elif ch in _UNQUOTED_BAD:
            raise UnsafeCommand(
                f"Command {text!r} uses {_UNQUOTED_BAD[ch]}; only simple commands can be converted. "
                "Split it into separate commands, or put it in a script and call the script."
            )
        elif ch == "{" and re.match(r"\{[^{}\s]*(?:,|\.\.)[^{}\s]*\}", text[i:]):
            raise UnsafeCommand(f"Command {text!r} uses brace expansion; write the words out.")
        else:
            current.append(ch)
            i += 1
    if in_word:
        words.append("".join(current))
    env: dict[str, str] = {}
    while words and (match := _ASSIGNMENT.match(words[0])) and len(words) > 1:
        env[match.group(1)] = match.group(2)
        words.pop(0)
    if not words or _ASSIGNMENT.match(words[0]):
        raise UnsafeCommand(f"Command {text!r} has no command word (only variable assignments).")
    return env, words
