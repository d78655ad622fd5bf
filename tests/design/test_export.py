"""ASL export checked by statelint (a second opinion next to our rules), and the XState export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_kit.design import export_workflow_asl, export_workflow_xstate
from orchestrator_kit.design.asl import run_statelint

from .helpers import BROKEN_EXAMPLES, VALID_EXAMPLES, base, example_text, retry, state

STATELINT = Path(sys.executable).with_name("statelint")


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_valid_examples_pass_statelint(name, tmp_path):
    export = export_workflow_asl(example_text(name))
    assert export.statelint == []
    # The statelint command too, as a separate process on the written file.
    path = tmp_path / f"{name}.asl.json"
    path.write_text(export.json_text(), encoding="utf-8")
    proc = subprocess.run([str(STATELINT), str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("order-fulfilment.broken", 'No state found named "manual_fulfillment"'),
        ("deployment-pipeline.broken", "BackoffRate is 0.5 but allowed floor is 1"),
        ("document-approval.broken", "StartAt value register_submision not found"),
    ],
)
def test_statelint_agrees_that_broken_twins_are_broken(name, expected):
    problems = export_workflow_asl(example_text(name)).statelint
    assert problems and any(expected in p for p in problems), problems


def test_task_mapping():
    design = base()
    state(design, "charge")["retry"] = [retry(2, ["Busy"], max_interval_seconds=10, jitter=True), retry(1, ["States.ALL"])]
    asl = export_workflow_asl(design).definition
    assert asl["StartAt"] == "charge" and asl["TimeoutSeconds"] == 3600
    charge = asl["States"]["charge"]
    assert charge == {
        "Comment": "side effect: card charged (compensation: refund); idempotency key $.id; metrics: charge_total",
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "svc.charge", "Payload": {"input.$": "$", "idempotency_key.$": "$.id"}},
        "TimeoutSeconds": 30,
        "ResultPath": "$.results.charge",
        "Retry": [
            {"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0,
             "MaxDelaySeconds": 10, "JitterStrategy": "FULL"},
            {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1, "BackoffRate": 2.0},
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "refund", "ResultPath": "$.error"}],
        "Next": "ship",
    }
    assert asl["States"]["failed"] == {"Type": "Fail", "Error": "Failed"}
    assert asl["States"]["done"] == {"Type": "Succeed"}


def test_callback_arn_and_rounding_notes():
    design = base()
    state(design, "ship").update(action="arn:aws:states:::sqs:sendMessage", callback=True, heartbeat_seconds=9.5,
                                 timeout_seconds=30)
    export = export_workflow_asl(design)
    ship = export.definition["States"]["ship"]
    assert ship["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert ship["Parameters"] == {"input.$": "$", "task_token.$": "$$.Task.Token"}
    assert ship["HeartbeatSeconds"] == 10
    assert "task 'ship' heartbeat_seconds: 9.5s rounded up to 10s (ASL takes whole seconds)" in export.notes
    assert export.statelint == []


def test_guards_and_events_become_a_routing_choice():
    design = base()
    state(design, "ship")["transitions"] = [
        {"target": "done", "guard": {"all": [{"variable": "$.total", "op": "lt", "value": 100},
                                             {"variable": "$.country", "op": "in", "value": ["DE", "FR"]}]}},
        {"target": "failed", "guard": {"not": {"variable": "$.address", "op": "present"}}},
        {"target": "done"},
    ]
    export = export_workflow_asl(design)
    states = export.definition["States"]
    assert states["ship"]["Next"] == "ship-route"
    assert "ResultSelector" not in states["ship"]  # one event: routing reads the data, not the task's result
    assert states["ship-route"] == {
        "Type": "Choice",
        "Choices": [
            {"And": [{"Variable": "$.total", "NumericLessThan": 100},
                     {"Or": [{"Variable": "$.country", "StringEquals": "DE"},
                             {"Variable": "$.country", "StringEquals": "FR"}]}], "Next": "done"},
            {"Not": {"Variable": "$.address", "IsPresent": True}, "Next": "failed"},
        ],
        "Default": "done",
        "Comment": "routes the outcome of 'ship'",
    }
    assert export.statelint == []


def test_human_task_outcomes_and_escalation_note():
    export = export_workflow_asl(example_text("deployment-pipeline"))
    approval = export.definition["States"]["approval"]
    assert approval["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert approval["TimeoutSeconds"] == 86400
    assert approval["Parameters"]["Payload"]["escalation"] == {"after_seconds": 14400.0, "to": "engineering-manager",
                                                              "action": "notify"}
    route = export.definition["States"]["approval-route"]
    assert [(c["StringEquals"], c["Next"]) for c in route["Choices"]] == [
        ("approved", "deploy_canary"), ("rejected", "deployment_rejected")
    ]
    assert all(c["Variable"] == "$.results.approval.event" for c in route["Choices"])
    assert any("ASL cannot escalate" in n for n in export.notes)
    branches = export.definition["States"]["checks"]["Branches"]
    assert [b["StartAt"] for b in branches] == ["integration_tests", "image_scan"]


def test_jsonata_expression_makes_a_jsonata_choice():
    design = base()
    state(design, "ship")["transitions"] = [{"target": "go", "guard": {"variable": "$.ok", "op": "eq", "value": True}},
                                            {"target": "done"}]
    design["states"].append({"name": "go", "type": "choice", "default": "done", "choices": [
        {"condition": {"all": [{"expression": "$states.input.total > 100"},
                               {"variable": "$.tier", "op": "matches", "value": "gold*"}]}, "target": "failed"}]})
    export = export_workflow_asl(design)
    go = export.definition["States"]["go"]
    assert go["QueryLanguage"] == "JSONata"
    assert go["Choices"] == [{"Condition": "{% ($states.input.total > 100) and ($contains($states.input.tier, /^gold.*$/)) %}",
                              "Next": "failed"}]
    assert export.statelint == []


def test_unbounded_retries_are_noted():
    design = base()
    state(design, "ship")["retry"] = [retry(None)]
    export = export_workflow_asl(design)
    assert export.definition["States"]["ship"]["Retry"][0]["MaxAttempts"] == 99_999_998
    assert "'ship' retry 0: unbounded retries written as MaxAttempts 99999998" in export.notes
    assert export.statelint == []  # statelint refuses 99999999 itself


def test_huge_max_attempts_are_capped_at_asls_limit():
    design = base()
    state(design, "ship")["retry"] = [retry(2_000_000_000)]
    export = export_workflow_asl(design)
    assert export.definition["States"]["ship"]["Retry"][0]["MaxAttempts"] == 99_999_998
    assert export.statelint == []


def test_all_guarded_routing_gets_a_default_fail_state():
    design = base()
    state(design, "ship")["transitions"] = [
        {"target": "done", "guard": {"variable": "$.ok", "op": "eq", "value": True}},
        {"target": "failed", "guard": {"variable": "$.ok", "op": "eq", "value": False}},
    ]
    export = export_workflow_asl(design)
    states = export.definition["States"]
    assert states["ship-route"]["Default"] == "ship-unrouted"
    assert states["ship-unrouted"]["Type"] == "Fail" and states["ship-unrouted"]["Error"] == "States.NoChoiceMatched"
    assert export.statelint == []


@pytest.mark.parametrize(
    ("extra", "long"),
    [({"long_running": True}, True), ({"heartbeat_seconds": 10}, True), ({"timeout_seconds": 3600}, True),
     ({"timeout_seconds": 900}, False), ({}, False)],
)
def test_long_work_is_started_with_a_task_token(extra, long):
    design = base()
    state(design, "ship").update(extra)
    body = export_workflow_asl(design).definition["States"]["ship"]
    assert body["Resource"].endswith(".waitForTaskToken") is long
    assert ("task_token.$" in body["Parameters"]["Payload"]) is long


def test_run_statelint_reports_problems_of_a_hand_made_definition():
    problems = run_statelint({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})
    assert problems and any('"B"' in p for p in problems)


def test_lint_can_be_skipped():
    assert export_workflow_asl(base(), lint=False).statelint is None


def test_xstate_machine():
    design = base()
    state(design, "ship")["transitions"] = [{"target": "wait"}]
    design["states"] += [
        {"name": "wait", "type": "wait", "seconds": 90, "transitions": [{"target": "review"}]},
        {"name": "review", "type": "human_task", "owner": "ops", "deadline_seconds": 60,
         "escalation": {"after_seconds": 30, "to": "lead"},
         "transitions": [{"event": "approved", "target": "done"},
                         {"event": "approved", "target": "failed", "guard": {"variable": "$.x", "op": "present"}}],
         "catch": [{"errors": ["States.Timeout"], "target": "failed"}]},
    ]
    export = export_workflow_xstate(design)
    machine = export.machine
    assert machine["id"] == "mini" and machine["initial"] == "charge"
    charge = machine["states"]["charge"]
    assert charge["invoke"] == {
        "id": "charge",
        "src": "svc.charge",
        "onDone": [{"target": "ship"}],
        "onError": [{"target": "refund", "guard": {"type": "errorMatches", "params": {"errors": ["States.ALL"]}}}],
    }
    assert charge["meta"]["side_effect"] == {"description": "card charged", "compensation": "refund"}
    assert machine["states"]["wait"] == {"after": {"90000": [{"target": "review"}]}}
    review = machine["states"]["review"]
    # The guarded transition first, the unguarded fallback last; the deadline is a delayed transition.
    assert review["on"] == {"approved": [{"target": "failed", "guard": {"type": "condition",
                                                                        "params": {"condition": "$.x present"}}},
                                         {"target": "done"}]}
    assert review["after"] == {"60000": [{"target": "failed"}]}
    assert machine["states"]["failed"] == {"type": "final", "tags": ["failed"], "meta": {"error": "Failed", "cause": None}}
    assert any("no retry policies" in n for n in export.notes)


def test_xstate_parallel_regions():
    machine = export_workflow_xstate(example_text("deployment-pipeline")).machine
    checks = machine["states"]["checks"]
    assert checks["type"] == "parallel" and list(checks["states"]) == ["tests", "security"]
    assert checks["states"]["tests"]["initial"] == "integration_tests"
    assert checks["onDone"] == [{"target": "approval"}]
    choice = machine["states"]["canary_healthy"]["always"]
    assert choice[-1] == {"target": "rollback_canary"} and choice[0]["target"] == "promote"


@pytest.mark.parametrize("name", VALID_EXAMPLES + BROKEN_EXAMPLES)
def test_every_example_exports(name):
    from orchestrator_kit.design import load_design

    design = load_design(example_text(name)).design
    assert set(export_workflow_xstate(design).machine["states"]) == {s.name for s in design.states}
