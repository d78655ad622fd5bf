"""Ten designs of our own, modelled on real processes (tests/design/corpus/), and thirty broken twins with one
planted defect each (corpus/twins.yaml): every correct design validates without an error or a warning and ends
consistent under every single fault; every twin is caught by the rule named for it. `python -m tests.design.
test_corpus` prints the recall and false-alarm table the README quotes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator_kit.design import simulate_workflow_failures, validate_workflow_design

CORPUS = Path(__file__).with_name("corpus")
DESIGNS = sorted(p.stem for p in CORPUS.glob("*.yaml") if p.stem != "twins")
TWINS: dict[str, list[dict[str, Any]]] = yaml.safe_load((CORPUS / "twins.yaml").read_text(encoding="utf-8"))
TWIN_CASES = [(name, i, twin) for name, twins in TWINS.items() for i, twin in enumerate(twins)]


def design(name: str) -> dict[str, Any]:
    return yaml.safe_load((CORPUS / f"{name}.yaml").read_text(encoding="utf-8"))


def _states(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    stack = list(data["states"])
    while stack:
        s = stack.pop()
        found[s["name"]] = s
        for branch in s.get("branches", []):
            stack.extend(branch["states"])
    return found


def twin_of(name: str, twin: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(design(name))
    states = _states(data)
    for op in twin["ops"]:
        target = data if "design" in op else states[op["state"]]
        if "design" in op:
            target.update(op["design"])
        elif "set" in op:
            target.update(copy.deepcopy(op["set"]))
        else:
            target.pop(op["delete"])
    return data


def test_the_corpus_has_ten_designs_and_thirty_one_twins():
    assert len(DESIGNS) == 10 and len(TWIN_CASES) == 31 and set(TWINS) == set(DESIGNS)


@pytest.mark.parametrize("name", DESIGNS)
def test_correct_designs_raise_no_false_alarm(name):
    report = validate_workflow_design(design(name), limit=None)
    assert (report.errors, report.warnings) == (0, 0), report.findings


@pytest.mark.parametrize("name", DESIGNS)
def test_correct_designs_stay_consistent_under_every_single_fault(name):
    sim = simulate_workflow_failures(design(name), limit=None, include_trace=False)
    assert sim.summary.inconsistent == 0, [(s.step, s.fault, s.reasons) for s in sim.scenarios if not s.consistent]


@pytest.mark.parametrize(("name", "index", "twin"), TWIN_CASES, ids=[f"{n}-{t['rule']}" for n, _, t in TWIN_CASES])
def test_each_twin_is_caught_by_its_rule(name, index, twin):
    report = validate_workflow_design(twin_of(name, twin), limit=None)
    assert twin["rule"] in {f.rule for f in report.findings}, (twin["why"], report.findings)


def table() -> str:
    """Recall on the twins and false alarms on the correct designs, per design, as Markdown."""
    rows = ["| design | twins caught by their rule | errors or warnings on the correct design |", "|---|---|---|"]
    caught_all = 0
    for name in DESIGNS:
        caught = sum(
            twin["rule"] in {f.rule for f in validate_workflow_design(twin_of(name, twin), limit=None).findings}
            for twin in TWINS[name]
        )
        caught_all += caught
        report = validate_workflow_design(design(name), limit=None)
        rows.append(f"| {name} | {caught} of {len(TWINS[name])} | {report.errors + report.warnings} |")
    rows.append(f"| **all** | **{caught_all} of {len(TWIN_CASES)}** | |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
