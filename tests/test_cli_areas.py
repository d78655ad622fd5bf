"""A command runs in an app holding only its own area (`typer_app.app_for`): the same command, the same help, the
same errors as in the whole application, and none of the other areas imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from orchestrator_kit.cli import typer_app


def commands(application: typer.Typer) -> dict[str, click.Command]:
    group = typer.main.get_command(application)
    assert isinstance(group, click.Group) or hasattr(group, "commands")
    return dict(group.commands)  # type: ignore[attr-defined]


def test_the_area_table_names_every_command_of_the_application() -> None:
    full = sorted(commands(typer_app.build_app()))
    assert full == sorted(command for names in typer_app.AREAS.values() for command in names)
    for area, names in typer_app.AREAS.items():
        assert sorted(commands(typer_app.build_app([area]))) == sorted(names), area


def invocations() -> list[list[str]]:
    """Every command and subcommand with --help, and with an option no command has."""
    found: list[list[str]] = []
    for name, command in commands(typer_app.build_app()).items():
        subcommands = getattr(command, "commands", {})
        paths = [[name, sub] for sub in subcommands] if subcommands else [[name]]
        for path in [[name], *paths] if subcommands else paths:
            found += [[*path, "--help"], [*path, "--no-such-option"]]
    return found


@pytest.mark.parametrize("args", invocations(), ids=" ".join)
def test_a_command_alone_behaves_as_in_the_whole_application(args: list[str]) -> None:
    runner = CliRunner()
    whole = runner.invoke(typer_app.build_app(), args, prog_name="orchestrator-kit")
    alone = runner.invoke(typer_app.app_for(args), args, prog_name="orchestrator-kit")
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output)
    assert alone.exit_code in (0, 2) and "Usage: orchestrator-kit" in alone.output


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"], ["no-such-command"], ["--version", "scan"]])
def test_anything_but_a_known_command_gets_the_whole_application(args: list[str]) -> None:
    assert typer_app.app_for(args) is typer_app.app


def test_a_command_imports_no_other_area(tmp_path: Path) -> None:
    out = tmp_path / "modules.txt"
    code = (
        "import atexit, sys\n"
        "out = sys.argv.pop(1)\n"
        "atexit.register(lambda: open(out, 'w').write('\\n'.join(sys.modules)))\n"
        "from orchestrator_kit.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(out), "design", "rules"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    areas = {m.rpartition(".")[2] for m in out.read_text().split() if m.startswith("orchestrator_kit.cli.")}
    assert "design" in areas
    assert not areas & (set(typer_app.AREAS) - {"design"})
