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
