"""Every command's `--help` reads at 80 columns, and the README's CLI reference names values the way a person types them.

Typer prints a Python type after each parameter (`<bool>` after a flag that takes no value, `<str>`, `<int range>`,
`<list[str]>`, `PATH <path>`) and marks a required argument `{PATH}`; `cli.helpnames` replaces them. The commands are
found by walking the real command tree, so a new command or option is checked without being listed here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from orchestrator_kit.cli import app
from orchestrator_kit.cli.helpnames import value_name
from orchestrator_kit.clidoc import END, START, cli_reference_markdown

# what typer would print, and what a person cannot type
PYTHON_TYPES = re.compile(r"<(?:bool|str|int|float|path|list\[|file|directory|text)[^>]*>|[{}]|\bNone\b")


def command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(command: Any, prefix: list[str]) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not sub.hidden:
                paths.append([*prefix, name])
                walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


COMMANDS = command_paths()


def test_the_tree_has_every_area():
    names = {" ".join(p) for p in COMMANDS}
    assert {"scan", "metrics", "generate", "design validate", "eval tools", "install"} <= names
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("path", [[], *COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_help_fits_80_columns_and_names_values_for_people(path):
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, [*path, "--help"], prog_name="orchestrator-kit")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Usage: orchestrator-kit {' '.join(path)}".rstrip()), lines[0]
    too_wide = [line for line in lines if len(line) > 80]
    assert not too_wide, too_wide
    assert not PYTHON_TYPES.search(result.output), PYTHON_TYPES.search(result.output)
    assert "╭" not in result.output  # click's plain layout: rich's panels left 20 columns for the help text


def test_flags_show_no_value_and_options_show_what_to_type():
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["metrics", "--help"])
    lines = [line.strip() for line in result.output.splitlines()]
    assert any(line.startswith("--wide  ") for line in lines)  # a flag: its help right after the name
    assert any(line.startswith("--renames / --no-renames  ") for line in lines)
    assert any(line.startswith("--top INTEGER  ") for line in lines)
    assert any(line.startswith("--path TEXT...  ") for line in lines)
    assert "[scan] exclude" in result.output  # rich markup ate "[scan]" from this help text


def test_a_long_choice_list_moves_into_the_help_text():
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["generate", "--help"])
    assert "Usage: orchestrator-kit generate [OPTIONS] KIND" in result.output
    text = " ".join(result.output.split())
    assert "What to generate. One of: github-workflow, gitlab-ci-job, make-target," in text
    assert "[refuse|rename]" in text  # a short one stays after the option


def test_readme_reference_names_values_for_people():
    reference = cli_reference_markdown()
    assert reference.startswith(START) and reference.endswith(END)
    assert not PYTHON_TYPES.search(reference), PYTHON_TYPES.search(reference)
    assert "| `--wide` |" in reference and "| `--top INTEGER` |" in reference
    assert "orchestrator-kit design examples [OPTIONS] [NAME]\n" in reference  # once bracketed, not [[NAME]]


@pytest.mark.parametrize("args", [["scan", ".", "-f", "xml"], ["design", "validate", "x.yaml", "-f", "xml"],
                                  ["metrics", ".", "--top", "many"]])
def test_a_bad_value_reads_without_pydantic_prefixes(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    error = result.output.splitlines()[-1]
    assert error.startswith("Error: Invalid value for '-") and "Value error" not in error, error


@pytest.mark.parametrize(("label", "choices", "expected"), [
    ("<int range>", False, "INTEGER"), ("<list[str]>", False, "TEXT..."), ("<path>", False, "PATH"),
    ("<a|b>", True, "[a|b]"), ("<list[x|y]>", True, "[x|y]..."), ("<asl>", True, "[asl]"),
    ("<UUID>", False, None), ("not a type", False, None), ("", False, None), ("<" + "x" * 10_000 + ">", False, None),
])
def test_value_name(label, choices, expected):
    assert value_name(label, choices=choices) == expected
