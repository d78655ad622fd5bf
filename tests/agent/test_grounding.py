"""The grounding check: numbers and path:line claims against tool results, labels, and what is not a claim."""

from __future__ import annotations

import json

import pytest

from orchestrator_kit.agent.grounding import check_grounding, revision_request

TOOL = json.dumps({
    "pipelines": 3,
    "jobs": [{"name": "build", "evidence": {"path": ".github/workflows/ci.yml", "line_start": 10, "line_end": 14}}],
    "hours_saved_per_year": 25.6,
    "automation_coverage": 0.45,
    "latest_tag": "2026-11-30T10:00:00Z",
    "python": "3.11.4",
    "diagnostics": [{"path": "Makefile", "line": 7, "reason": "tab"}],
})
EXCERPT = json.dumps({"path": "docs/RELEASE.md", "line_start": 1, "line_end": 40, "text": "1\t# Release\n"})


def statuses(report: str, *results: str) -> dict[str, str]:
    result = check_grounding(report, list(results) or [TOOL])
    return {claim.text: claim.status for claim in result.all_claims}


@pytest.mark.parametrize(("sentence", "claim", "status"), [
    ("There are 3 pipelines.", "3", "supported"),
    ("About 26 hours a year are saved.", "26", "supported"),  # 25.6 rounded to the claim's precision
    ("About 25.6 hours a year.", "25.6", "supported"),
    ("About 25.7 hours a year.", "25.7", "unsupported"),
    ("45% of the commands are automated.", "45%", "supported"),  # the ratio 0.45
    ("46% of the commands are automated.", "46%", "unsupported"),
    ("It releases 17 times a week.", "17", "unsupported"),
    ("It releases 17 times a week (assumption: weekly cadence).", "17", "labelled"),
    ("Estimated 17 hours of toil.", "17", "labelled"),
    ("Goal (not a measurement): 99.9% availability.", "99.9%", "labelled"),
    ("Lead time: 40 minutes, not measured.", "40", "labelled"),
    ("The last release was 2026-11-30.", "2026-11-30", "supported"),
    ("The last release was 2026-11-29.", "2026-11-29", "unsupported"),
    ("Python 3.11.4 is pinned.", "3.11.4", "supported"),
    ("Python 3.11.5 is pinned.", "3.11.5", "unsupported"),
    ("A run takes 50m.", "50m", "unsupported"),
    ("A run takes 14m.", "14m", "supported"),
    ("It has 1,234 lines.", "1,234", "unsupported"),
    ("About ~45% of commands.", "45%", "supported"),
    ("It costs $14 a month.", "14", "supported"),
    ("It costs $15 a month.", "15", "unsupported"),
])
def test_numbers(sentence: str, claim: str, status: str) -> None:
    assert statuses(sentence)[claim] == status


@pytest.mark.parametrize(("sentence", "claim", "status"), [
    ("The build job is at .github/workflows/ci.yml:10.", ".github/workflows/ci.yml:10", "supported"),
    ("See .github/workflows/ci.yml:11-14.", ".github/workflows/ci.yml:11-14", "supported"),
    ("See .github/workflows/ci.yml:12-15.", ".github/workflows/ci.yml:12-15", "unsupported"),
    ("See ci.yml:12 (shortened path).", "ci.yml:12", "supported"),
    ("See ./Makefile:7.", "./Makefile:7", "supported"),
    ("See Makefile:8.", "Makefile:8", "unsupported"),
    ("The runbook docs/RELEASE.md:33 says so.", "docs/RELEASE.md:33", "supported"),  # inside a read_file excerpt
    ("The runbook docs/RELEASE.md:41 says so.", "docs/RELEASE.md:41", "unsupported"),
])
def test_locations(sentence: str, claim: str, status: str) -> None:
    assert statuses(sentence, TOOL, EXCERPT)[claim] == status


def test_a_location_label_does_not_exempt_other_cells_of_a_table() -> None:
    report = "| Task | Frequency | Hours |\n|---|---|---|\n| deploy | 52 (assumption: weekly) | 19 |\n"
    found = statuses(report)
    assert found == {"52": "labelled", "19": "unsupported"}


@pytest.mark.parametrize("text", [
    "Runs on ubuntu-22.04 with sha256 checks.",
    "Plan hash 3f9a2b1c, step kinds xx2.",
    "## 2. Proposed Solution",
    "1. **Step 4**: deploy (Manual)",
    "Phase 3 is next.",
    "See https://example.com:8443/x for details.",
    "```\ntimeout-minutes: 999\n```",
    "Image python:3.11 is used.",
    "The 1st and 2nd steps run at 02:00.",
])
def test_not_claims(text: str) -> None:
    assert check_grounding(text, [TOOL]).claims == 0


def test_sources_section_numbers_are_arguments_but_its_locations_are_checked() -> None:
    report = "## Sources\n- read_file (line_start=1, line_end=400): Makefile:99\n"
    result = check_grounding(report, [TOOL])
    assert [(c.text, c.status) for c in result.all_claims] == [("Makefile:99", "unsupported")]


def test_result_counts_and_offending_sentences() -> None:
    report = "There are 3 pipelines. It releases 17 times a week.\n\nAbout 99 deploys.\n"
    result = check_grounding(report, [TOOL])
    assert (result.claims, result.supported, result.labelled, result.unsupported) == (3, 1, 0, 2)
    assert not result.grounded
    assert result.offending_sentences == ["It releases 17 times a week.", "About 99 deploys."]
    assert result.score == round(1 / 3, 4) and check_grounding("No numbers here.", []).score == 1.0
    request = revision_request(result)
    assert "`17`" in request and "It releases 17 times a week." in request and "2 claims" in request


def test_no_tool_results_means_every_claim_is_unsupported() -> None:
    result = check_grounding("There are 3 pipelines at Makefile:1.", [])
    assert result.unsupported == 2 and result.tool_results == 0


def test_hostile_inputs() -> None:
    # deep JSON, huge numbers, NUL bytes and non-JSON results neither crash nor count as evidence they are not
    deep = "[" * 5000 + "]" * 5000
    result = check_grounding("Value 7\x00 and 1e309 and " + "9" * 500 + ".", [deep, "not json 7", "\x00"])
    assert result.supported >= 1
    with pytest.raises(ValueError, match="at most"):
        check_grounding("x" * 3_000_000, [])


def test_a_line_number_past_pythons_digit_limit_is_no_location() -> None:
    # int() raised ValueError for these, which check-report took for bad input: "Error: Exceeds the limit", exit 2
    nines = "9" * 5000
    report = f"See src/app.py:{nines} and src/app.py:1-{nines}; the job is at .github/workflows/ci.yml:10."
    result = check_grounding(report, [TOOL, f"src/app.py:{nines}"])
    assert {claim.text: claim.status for claim in result.all_claims} == {".github/workflows/ci.yml:10": "supported"}


def test_a_grounded_report() -> None:
    report = (
        "## Executive Summary\nCurrent State: 3 pipelines (scan_repository, .github/workflows/ci.yml:10-14).\n"
        "Expected Benefits: 26 hours saved per year (estimate from opportunity_matrix).\n"
    )
    result = check_grounding(report, [TOOL])
    assert result.grounded and result.claims == 3


def test_long_words_cost_linear_time() -> None:
    # A class of letters between two classes that also hold letters backtracks cubically on a long word; these
    # would not finish if a pattern regressed (no time is asserted: the test would hang instead).
    words = ["a" * 50_000, "a/" * 25_000, "a:" * 25_000, "1" * 50_000, "a.1" * 15_000]
    result = check_grounding(" ".join(words) + " Makefile:7", [*words, TOOL])
    assert [c.text for c in result.all_claims if c.kind == "location"] == ["Makefile:7"]
