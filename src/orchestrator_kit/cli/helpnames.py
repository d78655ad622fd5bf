"""What `--help` and the README's CLI reference show after each option: the value a person types, not a Python type.

Typer's help prints a type name after every parameter: `<bool>` after a flag (which takes no value), `<str>`,
`<int range>`, `<list[str]>` after options, and `PATH <path>` for an argument already named for what it is. The
group class `TidyGroup` (the root app's `cls`) rewrites them once, when the command tree is built, for every command
and subcommand, by setting each parameter's metavar where the code did not choose one:
- a flag (`--wide`, `--renames / --no-renames`) shows nothing after its names;
- a value option shows click's words: TEXT, INTEGER, NUMBER, PATH, a choice as `[a|b]`; a repeatable one adds `...`;
  a choice list longer than INLINE_CHOICES is named for the parameter (`--kind KIND`) and listed in the help text;
- an argument shows its own upper-case name, in the usage line as `NAME` (required) or `[NAME]` (typer writes
  `{NAME}`), and after it in the help only its choices.
Help uses click's plain layout, not typer's rich panels: at 80 columns the panels' four name and type columns left
the help text 20 characters, and rich read `[scan]` in a help text as markup and dropped it.
Error messages keep working: click names a parameter by its opts or its metavar, both readable. Typer checks values
with pydantic, whose messages start "Value error, " (a pydantic class name, not ours): the group takes it off.
"""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.core import TyperGroup

WORDS = {"str": "TEXT", "int": "INTEGER", "int range": "INTEGER", "float": "NUMBER", "float range": "NUMBER",
         "path": "PATH", "file": "FILE", "directory": "DIR"}
INLINE_CHOICES = 48  # a longer choice list cannot wrap (no spaces) at 80 columns: it moves into the help text
_TYPE = re.compile(r"^<(?:list\[)?(?P<label>.*?)\]?>$")


def value_name(label: str, *, choices: bool = False) -> str | None:
    """The metavar for typer's `<type>` label: a choice `[a|b]`, else a word from WORDS; None for an unknown label.

    >>> value_name("<int range>"), value_name("<list[str]>"), value_name("<table|json>", choices=True)
    ('INTEGER', 'TEXT...', '[table|json]')
    """
    match = _TYPE.match(label)
    if match is None:
        return None
    many = "..." if label.startswith("<list[") else ""
    if choices:
        return f"[{match['label']}]{many}"
    word = WORDS.get(match["label"].lower())  # a list names its item by class: list[Path]
    return None if word is None else word + many


def _value_name(param: Any, ctx: Any) -> str | None:
    return value_name(param.display_type(ctx), choices=param.type_descriptor.is_choice)


def tidy(command: Any, ctx: Any) -> None:
    """Set the metavar of every parameter of `command` (and its subcommands) the code left unset (module docstring)."""
    command.rich_markup_mode = None  # click's plain layout: see the module docstring
    for param in command.params:
        named = _long_choices_to_help(param, ctx)
        if param.param_type_name == "argument":
            if param.metavar is None:
                param.metavar = param.name.upper()
            # its help row shows name + type: after the name, only a choice list says more
            shown = named if named.startswith("[") else None
            param.display_type_rich = lambda ctx, shown=shown: shown
            usage = (param.metavar if param.required else f"[{param.metavar}]") + ("..." if param.nargs != 1 else "")
            param.get_usage_pieces = lambda ctx, usage=usage: [usage]
        elif param.metavar is not None:
            continue
        elif getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
        else:
            param.metavar = named or None
    for sub in getattr(command, "commands", {}).values():
        tidy(sub, typer.Context(sub, parent=ctx, info_name=sub.name))


def _long_choices_to_help(param: Any, ctx: Any) -> str:
    """The parameter's value name; a choice list longer than INLINE_CHOICES is listed in the help text instead and
    the value named for the parameter (KIND)."""
    named = _value_name(param, ctx) or ""
    if not named.startswith("[") or len(named) <= INLINE_CHOICES:
        return named
    choices = named.removesuffix("...").strip("[]").split("|")
    param.help = f"{(param.help or '').rstrip()} One of: {', '.join(choices)}."
    return param.name.upper() + ("..." if named.endswith("...") else "")


class TidyGroup(TyperGroup):
    """The root command group; building it tidies every parameter's value name once (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # a bare context, not make_context: parsing would convert defaults (pydantic: slower start-up)
        tidy(self, typer.Context(self, info_name=self.name))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:  # subcommands parse their values inside the group's invoke
            exc.message = _PYDANTIC_PREFIX.sub("", exc.message)
            raise


_PYDANTIC_PREFIX = re.compile(r"^(?:Value error|Assertion failed), ")
