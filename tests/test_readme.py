"""README.md stays true: the CLI reference is current and the quick start has its two commands, the second in CI."""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator_kit.clidoc import END, START, cli_reference_markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_cli_reference_is_current():
    generated = README[README.index(START) : README.index(END) + len(END)]
    assert generated == cli_reference_markdown(), "run: python -m orchestrator_kit.clidoc README.md"


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "orchestrator-kit scan" in commands[0] and "evals/repos/acme-shop" in commands[0]
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci


def constraints() -> dict[str, str]:
    """constraints.txt as {normalized name: pinned version}."""
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version.strip(), f"constraints.txt: not 'name==version': {line!r}"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_the_test_command_installs_the_pinned_versions():
    assert "-c constraints.txt" in quick_start_commands()[1]


def test_constraints_pin_every_requirement_within_what_pyproject_allows():
    """A dependency added to pyproject.toml must be pinned too, at a version its specifier allows (all extras)."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    pins = constraints()
    assert "orchestrator-kit" not in pins
    for text in requirements:
        requirement = Requirement(text)
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pinned, prereleases=True), f"{requirement.name}=={pinned} vs {text}"
