"""tox environments as tasks.

* tox (the tox configuration reference): `tox.ini`, `setup.cfg` (`[tox:tox]`), `[tool.tox]` in pyproject.toml
  (`legacy_tox_ini` or native tables) and tox 4's `tox.toml`; the first of these that exists is the one tox
  reads. Environments come from `envlist`/`env_list` (generative names such as `py{311,312}-django{42,50}`
  and ranges `py3{10-13}` expanded) and from `[testenv:x]` / `[env.x]` sections; commands are
  `commands_pre`, `commands` and `commands_post`, with factor-conditional lines (`py311: ...`) kept only
  for the environments they name; `depends` gives the dependencies. Invocation `tox -e <env>`.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from ..models import Command, Task
from ..repo import FileText
from ._python_common import (
    GENERATED_ENV_LIMIT,
    TomlIndex,
    as_table,
    get_in,
    load_toml,
    locate_text,
    quote_arg,
)
from .base import DetectContext, Wants, basename, detector

# ==================================================================== tox

TOX_FILES = ("tox.ini", "setup.cfg", "pyproject.toml", "tox.toml")


TOX_CONFIGS = Wants(names=frozenset(TOX_FILES))


@dataclass
class _IniValue:
    line: int
    end: int
    lines: list[tuple[int, str]]  # (line number, text) of the value, continuation lines included


@dataclass
class _IniSection:
    name: str
    line: int
    end: int
    values: dict[str, _IniValue] = field(default_factory=dict)


@dataclass
class _Env:
    """One tox environment as the detector sees it: where it is written and its settings by name."""

    name: str
    span: tuple[int, int]
    own: bool
    settings: dict[str, list[tuple[int, str]]]
    sources: dict[str, str]


@detector("tox", wants=TOX_CONFIGS)
def detect_tox(ctx: DetectContext, file: FileText) -> None:
    """One tox configuration. A tox.ini is remembered across scans: no other file comes before it, so what it holds
    depends on its path and text alone (the others depend on the files tox reads first)."""
    if basename(file.path) == TOX_FILES[0]:
        ctx.remembered((file,), lambda: _read_tox(ctx, file))
    else:
        _read_tox(ctx, file)


def _read_tox(ctx: DetectContext, file: FileText) -> None:
    name = basename(file.path)
    directory = posixpath.dirname(file.path)
    if name in ("tox.ini", "setup.cfg"):
        sections = _read_ini(file.lines)
        core = "tox" if name == "tox.ini" else "tox:tox"
        if name == "setup.cfg" and not any(s.name == core for s in sections):
            return
        if _shadowed(ctx, directory, name):
            return
        envs = _ini_envs(ctx, file.path, sections, core)
    elif name == "pyproject.toml":
        data = load_toml(ctx, file, report=False)  # the pyproject detector reports bad TOML
        tox = get_in(data or {}, "tool", "tox")
        if not isinstance(tox, dict) or _shadowed(ctx, directory, name):
            return
        index = TomlIndex(file.text)
        legacy = tox.get("legacy_tox_ini")
        if isinstance(legacy, str):
            offset = index.string_starts.get(("tool", "tox", "legacy_tox_ini"), 1) - 1
            sections = _read_ini(legacy.split("\n"), offset)
            envs = _ini_envs(ctx, file.path, sections, "tox")
        else:
            envs = _toml_envs(ctx, file, tox, index, ("tool", "tox"))
    else:
        data = load_toml(ctx, file)
        if data is None or _shadowed(ctx, directory, name):
            return
        envs = _toml_envs(ctx, file, data, TomlIndex(file.text), ())
    known = {e.name for e in envs}  # once: a set per environment made a file with many environments quadratic
    for env in envs:
        ctx.add_task(_tox_task(ctx, file.path, env, known))


def _shadowed(ctx: DetectContext, directory: str, name: str) -> bool:
    """tox reads the first of tox.ini, setup.cfg ([tox:tox]), pyproject.toml ([tool.tox]), tox.toml."""
    for earlier in TOX_FILES[: TOX_FILES.index(name)]:
        candidate = posixpath.join(directory, earlier) if directory else earlier
        if not ctx.exists(candidate):
            continue
        if earlier == "tox.ini":
            used = True
        else:
            other = ctx.read(candidate)
            marker = r"^\[tox:tox\]" if earlier == "setup.cfg" else r"^\[tool\.tox(\]|\.)|^legacy_tox_ini\s*="
            used = other is not None and re.search(marker, other.text, re.M) is not None
        if used:
            path = posixpath.join(directory, name) if directory else name
            ctx.diagnostic(path, f"tox reads {candidate} first, so this tox configuration is not used",
                           severity="info", line=1)
            return True
    return False


def _tox_task(ctx: DetectContext, path: str, env: _Env, known: set[str]) -> Task:
    commands: list[Command] = []
    for key in ("commands_pre", "commands", "commands_post"):
        for line, text in _factor_filter(env.settings.get(key, []), env.name):
            commands.append(ctx.command(text, path, line))
    description = " ".join(t for _, t in _factor_filter(env.settings.get("description", []), env.name)).strip()
    depends: list[str] = []
    for _, text in _factor_filter(env.settings.get("depends", []), env.name):
        for item in _split_env_list(text):
            depends.extend(_expand_generative(item))
    attributes: dict[str, str] = {}
    for key in ("basepython", "labels", "skip_install", "base_python"):
        values = [t for _, t in _factor_filter(env.settings.get(key, []), env.name)]
        if values:
            attributes[key.replace("base_python", "basepython")] = ", ".join(values)
    if env.sources.get("commands"):
        attributes["commands_from"] = env.sources["commands"]
    if not env.own:
        attributes["declared_in"] = "env list"
    return ctx.task(
        "tox", path, env.name,
        invocation=f"tox -e {env.name}",
        description=description,
        depends_on=list(dict.fromkeys(d for d in depends if d != env.name)),
        commands=commands,
        attributes=attributes,
        evidence=ctx.evidence(path, *env.span),
    )


# -------------------------------------------------------------------- tox INI


def _read_ini(lines: list[str], offset: int = 0) -> list[_IniSection]:
    """Sections, keys and continuation lines of an INI text (configparser's layout, with line numbers).

    Full-line `#`/`;` comments are dropped, and so are inline ` # comments` (tox 4 strips them; `\\#` is a
    literal `#`)."""
    sections: list[_IniSection] = []
    current: _IniSection | None = None
    value: _IniValue | None = None
    for index, raw in enumerate(lines):
        number = index + 1 + offset
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        header = re.match(r"^\[(.+)\]\s*(?:[#;].*)?$", stripped)
        if header and raw[0] == "[":
            current = _IniSection(name=header.group(1).strip(), line=number, end=number)
            sections.append(current)
            value = None
            continue
        if current is None:
            continue
        if raw[0] in " \t" and value is not None:
            value.lines.append((number, _strip_inline_comment(stripped)))
            value.end = number
            current.end = number
            continue
        separator = re.search(r"[=:]", stripped)
        if separator and separator.start() > 0:
            first = _strip_inline_comment(stripped[separator.end() :].strip())
            value = _IniValue(line=number, end=number, lines=[(number, first)] if first else [])
            current.values[stripped[: separator.start()].strip()] = value
            current.end = number
    return sections


def _strip_inline_comment(text: str) -> str:
    text = re.sub(r"(^|\s)(?<!\\)#.*$", "", text).rstrip()
    return text.replace("\\#", "#")


def _value_lines(value: _IniValue | None) -> list[tuple[int, str]]:
    """The value's lines, with `\\`-continued lines joined (as tox joins command lines)."""
    if value is None:
        return []
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, text in value.lines:
        if pending is not None:
            text = f"{pending[1]} {text}"
            number = pending[0]
            pending = None
        if text.endswith("\\") and not text.endswith("\\\\"):
            pending = (number, text[:-1].rstrip())
            continue
        if text:
            joined.append((number, text))
    if pending is not None and pending[1]:
        joined.append(pending)
    return joined


def _ini_envs(ctx: DetectContext, path: str, sections: list[_IniSection], core: str) -> list[_Env]:
    by_name = {s.name: s for s in sections}
    base = by_name.get("testenv")
    declared: list[str] = []
    core_section = by_name.get(core)
    envlist_span: tuple[int, int] | None = None
    if core_section is not None:
        envlist = core_section.values.get("envlist") or core_section.values.get("env_list")
        if envlist is not None:
            envlist_span = (envlist.line, envlist.end)
            for _, text in _value_lines(envlist):
                for item in _split_env_list(text):
                    declared.extend(_expand_generative(item, ctx, path, envlist.line))
    own: dict[str, _IniSection] = {}
    for section in sections:
        if section.name.startswith("testenv:"):
            for name in _expand_generative(section.name[len("testenv:") :].strip(), ctx, path, section.line):
                own.setdefault(name, section)
    # `.pkg` and other dotted names are tox's own packaging environments
    names = [n for n in dict.fromkeys([*declared, *own]) if not n.startswith(".")]
    envs: list[_Env] = []
    for name in names:
        section = own.get(name)
        settings: dict[str, list[tuple[int, str]]] = {}
        sources: dict[str, str] = {}
        for layer in (base, section):
            if layer is None:
                continue
            for key, value in layer.values.items():
                settings[key] = _value_lines(value)
                sources[key] = layer.name
        span = (section.line, section.end) if section else (base.line, base.end) if base else envlist_span or (1, 1)
        envs.append(_Env(name=name, span=span, own=section is not None, settings=settings, sources=sources))
    return envs


def _split_env_list(text: str) -> list[str]:
    """Comma-separated items, commas inside `{}` kept."""
    items: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += char
    items.append(current.strip())
    return [i for i in items if i]


def _numeric_range(option: str) -> range | None:
    """`10-13` as range(10, 14); None when not a rising range of at most 101 numbers. A number past int()'s digit
    limit (sys.get_int_max_str_digits, 4,300 by default) is no range either: int() raised ValueError there, and a
    tox.ini with such an envlist was "internal error in detector" (found by a hostile-input hunt)."""
    numeric = re.fullmatch(r"(\d+)-(\d+)", option)
    if numeric is None:
        return None
    try:
        first, last = int(numeric.group(1)), int(numeric.group(2))
    except ValueError:
        return None
    return range(first, last + 1) if first <= last <= first + 100 else None


def _expand_generative(
    item: str, ctx: DetectContext | None = None, path: str = "", line: int | None = None
) -> list[str]:
    """tox generative names: `py{311,312}-django{42,50}` is the product; `{10-13}` is a numeric range."""
    parts = re.split(r"(\{[^{}]*\})", item)
    choices: list[list[str]] = []
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            options: list[str] = []
            for option in part[1:-1].split(","):
                option = option.strip()
                numbers = _numeric_range(option)
                if numbers is not None:
                    options.extend(str(n) for n in numbers)
                else:
                    options.append(option)
            choices.append(options)
        else:
            choices.append([part])
    total = 1
    for options in choices:
        total *= max(1, len(options))
    if total > GENERATED_ENV_LIMIT:
        if ctx is not None:
            ctx.diagnostic(path, f"'{item}' generates {total} environments; only the first "
                                 f"{GENERATED_ENV_LIMIT} are listed", line=line)
        products = itertools.islice(itertools.product(*choices), GENERATED_ENV_LIMIT)
    else:
        products = itertools.product(*choices)
    return [re.sub(r"-{2,}", "-", "".join(p)).strip("-") for p in products if "".join(p).strip("-")]


def _factor_filter(lines: list[tuple[int, str]], env: str) -> list[tuple[int, str]]:
    """Keep plain lines, and factor-conditional lines (`py311,py312: x`, `py311-django: x`, `!py311: x`) whose
    condition holds for the environment's factors (its name split on `-`)."""
    factors = set(env.split("-"))
    kept: list[tuple[int, str]] = []
    for number, text in lines:
        match = re.match(r"^(!?[\w.{}]+(?:[-,]!?[\w.{}]+)*)\s*:\s+(.*)$", text)
        if not match or "://" in text[: match.end(1) + 3]:
            kept.append((number, text))
            continue
        condition, rest = match.groups()
        alternatives = [a for group in condition.split(",") for a in _expand_generative(group)]
        if any(_all_factors(a, factors) for a in alternatives):
            kept.append((number, rest))
    return kept


def _all_factors(condition: str, factors: set[str]) -> bool:
    for factor in condition.split("-"):
        negated = factor.startswith("!")
        present = factor.lstrip("!") in factors
        if present == negated:
            return False
    return True


# -------------------------------------------------------------------- tox TOML (tox 4)


def _toml_envs(
    ctx: DetectContext, file: FileText, tox: dict[str, Any], index: TomlIndex, prefix: tuple[str, ...]
) -> list[_Env]:
    """tox 4 TOML: `env_list`, `[env_run_base]` and `[env.<name>]`; commands are arrays of argument arrays."""
    path = file.path
    declared: list[str] = []
    env_list = tox.get("env_list", tox.get("envlist"))
    if env_list is not None and not isinstance(env_list, list):
        ctx.diagnostic(path, "tox 'env_list' is not an array", line=(index.span((*prefix, "env_list")) or (1, 1))[0])
    for item in env_list if isinstance(env_list, list) else []:
        if isinstance(item, str):
            declared.append(item)
        elif isinstance(item, dict) and isinstance(item.get("product"), list):
            declared.extend(_toml_product(item["product"]))
    envs_table = tox.get("env") if isinstance(tox.get("env"), dict) else {}
    base = as_table(tox.get("env_run_base"))
    env_span = index.span((*prefix, "env_list")) or index.span((*prefix, "envlist")) or (1, 1)
    envs: list[_Env] = []
    for name in dict.fromkeys([*declared, *(str(k) for k in envs_table)]):
        own = envs_table.get(name)
        own_span = index.span((*prefix, "env", name)) if isinstance(own, dict) else None
        base_span = index.span((*prefix, "env_run_base"))
        span = own_span or base_span or env_span
        settings: dict[str, list[tuple[int, str]]] = {}
        sources: dict[str, str] = {}
        for layer_name, layer, keys in (("env_run_base", base, (*prefix, "env_run_base")),
                                        (f"env.{name}", as_table(own), (*prefix, "env", name))):
            for key, value in layer.items():
                where = index.span((*keys, key)) or span
                settings[key] = _toml_setting(file.lines, key, value, where)
                sources[key] = layer_name
        envs.append(_Env(name=name, span=span, own=own_span is not None, settings=settings, sources=sources))
    return envs


def _toml_product(factors: list[Any]) -> list[str]:
    lists = [[str(x) for x in f] if isinstance(f, list) else [str(f)] for f in factors]
    return ["-".join(p) for p in itertools.islice(itertools.product(*lists), GENERATED_ENV_LIMIT)]


def _toml_setting(lines: list[str], key: str, value: Any, span: tuple[int, int]) -> list[tuple[int, str]]:
    """A tox TOML setting as (line, text) items: each command of a commands array on its own line."""
    if key.startswith("commands") and isinstance(value, list):
        found: list[tuple[int, str]] = []
        after = 0
        for command in value:
            args = command if isinstance(command, list) else [command]
            text = " ".join(_toml_arg(a) for a in args)
            first_literal = next((a for a in args if isinstance(a, str)), text)
            line = locate_text(lines, f'"{first_literal}"', span, after)[0]
            line = line if line != span[0] or span[0] == span[1] else locate_text(lines, first_literal, span, after)[0]
            after = line
            found.append((line, text))
        return found
    if isinstance(value, list):
        return [(span[0], ", ".join(str(v) for v in value if not isinstance(v, dict | list)))]
    if isinstance(value, str | int | float | bool):
        return [(span[0], str(value).lower() if isinstance(value, bool) else str(value))]
    return []


def _toml_arg(arg: Any) -> str:
    """One argument of a tox TOML command: a string, or a `{replace = ...}` table shown in tox's INI style."""
    if isinstance(arg, str):
        return quote_arg(arg)
    if isinstance(arg, dict):
        kind = arg.get("replace")
        if kind == "posargs":
            default = arg.get("default")
            shown = " ".join(str(d) for d in default) if isinstance(default, list) else ""
            return f"{{posargs:{shown}}}" if shown else "{posargs}"
        if kind == "env":
            return f"{{env:{arg.get('name', '')}}}"
        if kind == "ref":
            of = arg.get("of")
            return f"{{ref:{'.'.join(str(o) for o in of) if isinstance(of, list) else of}}}"
        return "{" + str(kind) + "}"
    return quote_arg(str(arg))


