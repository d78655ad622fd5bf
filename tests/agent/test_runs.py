"""Whole runs: the real anthropic SDK against the loopback fake Messages API, our real MCP server over stdio, on the
built sample repository. Assertions are on the files written, the saved reports and the requests the fake received."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from orchestrator_kit.agent.budget import Limits
from orchestrator_kit.agent.runner import RunOptions, run_agent
from orchestrator_kit.agent.store import read_events
from orchestrator_kit.mcp_tools.prompts import prompt_text
from orchestrator_kit.testing.fake_messages_api import system_text, tool_names, tool_result_text

from .scripted import (
    DESIGN,
    TURN_USAGE,
    answer,
    calls,
    error,
    grounded_plan,
    ok_requests,
    process_phases,
    result,
    say,
    tool_results_of,
)


def events(run_dir: str, kind: str) -> list[dict]:
    return [e for e in read_events(Path(run_dir) / "transcript.jsonl") if e["type"] == kind]


def test_a_process_run_through_every_phase_ends_in_a_grounded_report(shop, tmp_path, fake_api) -> None:
    api = fake_api(process_phases(answer(grounded_plan), first=[error(529), error(429)]))
    result_ = run_agent(RunOptions(agent="process-orchestrator", repository=shop, base_dir=tmp_path,
                                   task="Automate the release runbook"))
    assert api.unused_steps() == []
    assert (result_.status, result_.grounded, result_.unsupported, result_.exit_code) == ("done", True, 0, 0)
    assert result_.claims is not None and result_.claims >= 8

    requests = api.messages_requests()
    assert [r.status for r in requests[:3]] == [529, 429, 200]  # the SDK retried both, then went on
    sent = ok_requests(api)
    assert len(sent) == 11 == result_.turns
    for request in sent:
        body = request.body
        assert body["system"] == [{"type": "text", "text": prompt_text("process-orchestrator"),
                                   "cache_control": {"type": "ephemeral"}}]
        assert "thread" not in body  # full history every time: resumable without a server-side thread
        names = tool_names(body)
        assert {"scan_repository", "opportunity_matrix", "generate_automation"} <= set(names)
        assert "apply_automation" not in names  # read-only server without --allow-writes
        assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
        assert all("cache_control" not in tool for tool in body["tools"][:-1])
    # each request carries the whole conversation so far
    assert [len(r.body["messages"]) for r in sent] == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    first = sent[0].body["messages"][0]["content"]
    assert "Automate the release runbook" in first and str(shop) in first and "read-only" in first
    # tool results went back to the model: the scan's counts, and the tool error as an error result
    [scan, pipelines] = tool_results_of(sent[2])
    assert json.loads(tool_result_text(scan))["counts"]["pipelines"] == 3 and "is_error" not in scan
    assert len(json.loads(tool_result_text(pipelines))["items"]) == 3
    [missing] = tool_results_of(sent[3])
    assert missing["is_error"] is True and "missing.txt" in tool_result_text(missing)
    # the phases, each opened by one user message
    kickoffs = [m["content"] for m in sent[-1].body["messages"] if m["role"] == "user" and isinstance(m["content"], str)]
    assert len(kickoffs) == 5 and "opportunity_matrix" in kickoffs[1] and "templates" in kickoffs[4]

    run_dir = Path(result_.run_dir)
    state = json.loads((run_dir / "state.json").read_text())
    assert (state["status"], state["stage"], state["turn"]) == ("done", "done", 11)
    assert state["usage"]["cache_read_input_tokens"] == 11 * TURN_USAGE.cache_read_input_tokens
    assert state["usage"]["cost_usd"] > 0
    stages = [(e["previous"], e["next"]) for e in events(result_.run_dir, "stage")]
    assert stages == [("discovery", "assessment"), ("assessment", "design"), ("design", "implementation"),
                      ("implementation", "report"), ("report", "done")]
    [session] = events(result_.run_dir, "session")
    assert session["tools"] == tool_names(sent[0].body) and session["read_only"] is True
    assert session["system_sha256"] == hashlib.sha256(prompt_text("process-orchestrator").encode()).hexdigest()
    turns = events(result_.run_dir, "turn")
    assert [t["stage"] for t in turns].count("discovery") == 4
    calls_made = [c["name"] for t in turns for c in t["tool_calls"]]
    assert calls_made == ["list_roots", "scan_repository", "list_pipelines", "read_file", "list_manual_procedures",
                          "opportunity_matrix", "read_file", "generate_automation"]
    assert turns[2]["tool_calls"][0]["is_error"] is True
    assert turns[1]["tool_calls"][0]["input"] == {}

    report = json.loads(Path(result_.report_json).read_text())
    plan = report["process_automation_plan"]
    assert plan["current_state"].startswith("3 pipelines")
    assert [w["name"] for w in plan["workflows"]] == ["Cutting a release"]
    # The release runbook's row is not a quick win (payback 13.8 months, tests/metrics/test_opportunities.py).
    assert plan["quick_wins"] == [] and [r["name"] for r in plan["medium_term"]] == ["Release script"]
    assert report["grounding"]["grounded"] and report["revised"] is False
    markdown = Path(result_.report_markdown).read_text()
    assert "## Grounding check" in markdown and "grounded:" in markdown and "+#!/usr/bin/env bash" in markdown
    assert not (shop / "scripts" / "release.sh").exists()  # nothing written: the diff is the deliverable


def workflow_report(body) -> str:
    validation = result(body, "validate_workflow_design")
    summary = result(body, "simulate_workflow_failures")["summary"]
    pipeline = result(body, "list_pipelines")["items"][0]
    return f"""## 1. Workflow Analysis
Current state: {pipeline['name']} has {pipeline['job_count']} jobs - Evidence: {pipeline['path']}:1

## 2. Proposed Solution
Design: deployment-pipeline, {validation['states']} states, {validation['errors']} errors from validate_workflow_design.

## 3. State Machine
| State | Type | On success | On failure | Timeout | Evidence |
|---|---|---|---|---|---|
| build | task | checks | failed | Goal: 30 minutes | {pipeline['path']}:1 |

## 7. Testing Strategy
- Validation: {summary['consistent']} of {summary['scenarios']} simulated scenarios end consistent.

## Sources
- validate_workflow_design, simulate_workflow_failures (design=deployment-pipeline)
"""


def test_a_workflow_run_validates_and_simulates_a_design(shop, tmp_path, fake_api) -> None:
    api = fake_api([
        calls(("scan_repository", {})), say("Context: the deploy pipeline."),
        calls(("list_pipelines", {})), say("Analysis: no rollback."),
        calls(("validate_workflow_design", {"design": DESIGN})), say("Design: valid."),
        calls(("simulate_workflow_failures", {"design": DESIGN, "max_tokens": 4000})), say("Reliability: consistent."),
        calls(("render_workflow_diagram", {"design": DESIGN})), say("Documentation: diagram rendered."),
        answer(workflow_report),
    ])
    result_ = run_agent(RunOptions(agent="workflow-orchestrator", repository=shop, base_dir=tmp_path))
    assert api.unused_steps() == []
    assert (result_.status, result_.grounded) == ("done", True)
    sent = ok_requests(api)
    assert system_text(sent[0].body) == prompt_text("workflow-orchestrator")
    summary = json.loads(tool_result_text(tool_results_of(sent[7])[0]))["summary"]
    assert summary["scenarios"] > 0 and summary["consistent"] + summary["inconsistent"] <= summary["scenarios"]
    report = json.loads(Path(result_.report_json).read_text())
    design = report["workflow_design"]
    assert [row["state"] for row in design["state_machine"]] == ["build"]
    assert f"{summary['consistent']} of {summary['scenarios']}" in design["testing_strategy"]
    assert {"implementation plan", "monitoring"} <= set(report["missing_sections"])


# Decimals an invented report might hold; no tool result of the sample has these values (to the tenth).
INVENTED = "## Executive Summary\nCurrent State: 3 pipelines; releases take 47.5 minutes and fail 31.7% of the time.\n"


def test_an_invented_number_is_caught_and_the_revision_turn_fixes_it(shop, tmp_path, fake_api) -> None:
    fixed = "## Executive Summary\nCurrent State: 3 pipelines; release duration and failure rate: not measured.\n"
    api = fake_api([calls(("scan_repository", {})), say("ok"), say("ok"), say("ok"), say("ok"), say(INVENTED),
                    say(fixed)])
    result_ = run_agent(RunOptions(agent="process-orchestrator", repository=shop, base_dir=tmp_path))
    assert (result_.status, result_.grounded, result_.exit_code) == ("done", True, 0)
    revision = ok_requests(api)[-1].body["messages"][-1]["content"]
    assert "`47.5`" in revision and "`31.7%`" in revision and "releases take 47.5 minutes" in revision
    assert "`3`" not in revision  # supported by scan_repository's counts
    report = json.loads(Path(result_.report_json).read_text())
    assert report["revised"] is True and report["markdown"].strip() == fixed.strip()
    checks = events(result_.run_dir, "grounding")
    assert [(c["stage"], c["unsupported"]) for c in checks] == [("report", 2), ("revision", 0)]


def test_a_report_that_stays_ungrounded_is_saved_marked_so(shop, tmp_path, fake_api) -> None:
    api = fake_api([say("ok"), say("ok"), say("ok"), say("ok"), say(INVENTED), say(INVENTED)])
    result_ = run_agent(RunOptions(agent="process-orchestrator", repository=shop, base_dir=tmp_path,
                                   output=tmp_path / "out"))
    assert api.unused_steps() == []
    assert (result_.status, result_.grounded, result_.exit_code) == ("done", False, 1)
    assert result_.report_json == str(tmp_path / "out" / "report.json")
    assert result_.unsupported == 3  # 3 pipelines is unsupported too: no tool was called
    report = json.loads(Path(result_.report_json).read_text())
    assert report["revised"] is True and not report["grounding"]["grounded"]
    sentences = set(report["grounding"]["offending_sentences"])
    assert sentences == {"Current State: 3 pipelines; releases take 47.5 minutes and fail 31.7% of the time."}
    markdown = Path(result_.report_markdown).read_text()
    assert "NOT grounded" in markdown and "unsupported number `31.7%`" in markdown


@pytest.mark.parametrize(("limits", "budget", "turns"), [
    (Limits(max_turns=2), "max-turns", 2),
    (Limits(max_tokens_total=10_000), "max-tokens-total", 2),  # 7,280 tokens a turn
    (Limits(max_cost_usd=0.007), "max-cost-usd", 2),  # about $0.0038 a turn at the default model's prices
])
def test_each_budget_stops_the_run_cleanly_with_a_partial_report(shop, tmp_path, fake_api, limits, budget,
                                                                  turns) -> None:
    api = fake_api([calls(("list_roots", {})), say("Discovery: one root."), calls(("scan_repository", {}))])
    result_ = run_agent(RunOptions(agent="process-orchestrator", repository=shop, base_dir=tmp_path, limits=limits))
    assert (result_.status, result_.turns, result_.exit_code) == ("stopped", turns, 1)
    assert result_.stopped_by is not None and result_.stopped_by.budget == budget
    assert len(ok_requests(api)) == turns  # no request after the limit
    assert result_.resume_command and result_.run_id in result_.resume_command
    assert result_.report_markdown and result_.report_markdown.endswith("report.partial.md")
    markdown = Path(result_.report_markdown).read_text()
    assert "Partial report" in markdown and budget in markdown and "Discovery: one root." in markdown
    report = json.loads(Path(result_.report_json).read_text())
    assert report["status"] == "partial" and budget in report["stopped_by"]


def test_an_api_error_after_the_retries_keeps_the_run_resumable(shop, tmp_path, fake_api) -> None:
    from orchestrator_kit.testing.fake_messages_api import ApiError, Step

    api = fake_api([calls(("list_roots", {})), Step(respond=ApiError(400, message="prompt is too long"))])
    failed = run_agent(RunOptions(agent="process-orchestrator", repository=shop, base_dir=tmp_path))
    assert (failed.status, failed.turns, failed.exit_code) == ("failed", 1, 2)
    assert failed.error and "prompt is too long" in failed.error
    assert failed.resume_command and failed.run_id in failed.resume_command
    api.add(say("Discovery done."), say("a"), say("d"), say("i"), say("## Executive Summary\nNothing to report.\n"))
    resumed = run_agent(RunOptions(agent="process-orchestrator", repository=shop, base_dir=tmp_path,
                                   resume=failed.run_id))
    assert (resumed.status, resumed.turns, resumed.exit_code) == ("done", 6, 0)
    sent = ok_requests(api)
    assert sent[1].body["messages"] == api.messages_requests()[1].body["messages"]  # the failed request, sent again
