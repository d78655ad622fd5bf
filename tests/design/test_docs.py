"""The README's design section stays true to the code: every rule with its severity and summary, the formula."""

from __future__ import annotations

from pathlib import Path

from orchestrator_kit.design.simulate import CONSISTENCY_FORMULA
from orchestrator_kit.design.validate import RULES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Designing workflows", 1)[1].split("\n## ", 1)[0]


def test_every_rule_is_in_the_readme_table():
    rows = {line for line in SECTION.splitlines() if line.startswith("| `")}
    assert rows == {f"| `{r.id}` | {r.severity} | {r.summary} |" for r in RULES}


def test_the_consistency_formula_is_the_one_the_code_reports():
    assert " ".join(CONSISTENCY_FORMULA.split()) in " ".join(SECTION.replace("*", "").split())
