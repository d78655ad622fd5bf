"""pass@k and pass^k, the comparison of two runs, and the proof's verdicts, on hand-built results."""

from __future__ import annotations

import math

import pytest

from orchestrator_kit.evals.agents.results import (
    AgentEvalResults,
    CaseResult,
    compare,
    pass_at,
    pass_hat,
    proof,
    render_markdown,
)


def test_pass_at_k_and_pass_hat_k():
    assert pass_at(5, 0, 1) == 0 and pass_at(5, 5, 3) == 1
    assert pass_at(4, 1, 2) == pytest.approx(1 - math.comb(3, 2) / math.comb(4, 2))  # 0.5
    assert pass_hat(4, 2, 2) == pytest.approx(1 / 6)
    assert pass_hat(3, 3, 3) == 1 and pass_hat(3, 2, 3) == 0
    assert math.isnan(pass_at(1, 1, 2)) and math.isnan(pass_hat(1, 1, 2))  # fewer epochs than k: undefined


def result(case: str, variant: str = "good", **graders: float) -> CaseResult:
    passed = int(all(v >= 1 for v in graders.values()))
    return CaseResult(case=case, variant=variant, agent="process-orchestrator", epochs=1, passed=passed,
                      graders=graders, explanations={g: f"{g} failed" for g, v in graders.items() if v < 1},
                      pass_at_k=passed, pass_hat_k=passed, input_tokens=10, output_tokens=5, cost_usd=0.01)


def results(*cases: CaseResult) -> AgentEvalResults:
    return AgentEvalResults(model="m", epochs=1, scripted=True, logs=["log.eval"], cases=list(cases))


def test_compare_flags_what_got_worse_only():
    before = results(result("a", findings=1, grounding=1), result("b", findings=0, grounding=1))
    after = results(result("a", findings=0.5, grounding=1), result("b", findings=1, grounding=1),
                    result("new", findings=0))
    found = compare(before, after)
    assert {(r.case, r.what) for r in found} == {("a", "pass@k"), ("a", "pass^k"), ("a", "grader findings")}
    assert compare(after, after) == []
    assert "Regressions" in render_markdown(after, found) and "No regression" in render_markdown(after, [])


def test_proof_demands_the_right_grader_and_only_it():
    rows = proof(results(
        result("a", findings=1, grounding=1),
        result("a", "invents-number", findings=1, grounding=0),
        result("a", "misses-finding", findings=0, grounding=0),  # fails for more than its reason
        result("a", "leaks-secret", safety=1, grounding=1),  # not caught
    ))
    assert [r.ok for r in rows] == [True, True, False, False]
    assert rows[1].why == "grounding failed" and rows[3].why == "safety did not fail"
