"""ASL import: round trips through our export, ASL written the way AWS's published samples are (our own
equivalents: a callback approval, a map over records with a parallel report, a timestamp wait with assorted choice
rules), and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator_kit.design import (
    DesignInputError,
    export_workflow_asl,
    load_design,
    render_workflow_diagram,
    simulate_workflow_failures,
    validate_workflow_design,
)
from orchestrator_kit.design.asl_import import import_asl

from .helpers import VALID_EXAMPLES, base, example_text, state

SAMPLES = Path(__file__).with_name("asl")


def _without_what_asl_cannot_hold(data: Any) -> Any:
    """The design minus alerts, metric kinds/descriptions, side-effect resources and idempotency notes."""
    if isinstance(data, list):
        return [_without_what_asl_cannot_hold(x) for x in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        if key in ("alerts", "resource", "note", "service") or (key in ("kind", "description") and "name" in data
                                                               and "type" not in data and "condition" not in data):
            continue
        out[key] = _without_what_asl_cannot_hold(value)
    return out


def _normal(design: Any) -> Any:
    data = _without_what_asl_cannot_hold(design.to_dict())
    for s in _all_states(data["states"]):  # the unguarded fallback's place among transitions carries no meaning
        if "transitions" in s:
            s["transitions"].sort(key=lambda t: (t.get("event", "done"), "guard" not in t))
    return data


def _all_states(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    stack = list(states)
    while stack:
        s = stack.pop()
        found.append(s)
        for b in s.get("branches", []):
            stack.extend(b["states"])
    return found


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_export_then_import_gives_the_same_design(name):
    design = load_design(example_text(name)).design
    imported = import_asl(export_workflow_asl(design).definition)
    back = load_design(imported.yaml).design
    assert _normal(back) == _normal(design)
    assert validate_workflow_design(imported.yaml).valid


def test_round_trip_of_events_guards_errors_and_long_work():
    design = base()
    state(design, "ship").update({
        "long_running": True, "heartbeat_seconds": 60, "timeout_seconds": 3000,
        "errors": {"transient": ["Busy"], "permanent": ["Lost"]},
        "transitions": [{"target": "done", "guard": {"variable": "$.total", "op": "in", "value": [1, 2]}},
                        {"target": "failed", "guard": {"variable": "$.country", "op": "ne", "value": "XX"}}],
    })
    state(design, "refund")["side_effect"] = {"description": "dead letter", "failure_path": True}
    loaded = load_design(design).design
    back = load_design(import_asl(export_workflow_asl(loaded).definition).yaml).design
    assert _normal(back) == _normal(loaded)


@pytest.mark.parametrize(
    ("sample", "states", "notes"),
    [
        ("callback-approval", 7, ["pass 'Escalate' imported as a choice with only a default"]),
        # 6 states at the top, the map's Put record + End, each report branch's task + End
        ("transfer-records", 12, []),  # the Map comes back as a map, with nothing to approximate
        ("schedule-until", 5, ["NumericLessThanPath has no design comparison"]),
    ],
)
def test_asl_samples_import_with_every_state(sample, states, notes):
    text = (SAMPLES / f"{sample}.asl.json").read_text()
    imported = import_asl(text)
    assert imported.states == states  # every ASL state, plus the generated `End` where a state had End: true
    for expected in notes:
        assert any(expected in n for n in imported.notes), imported.notes
    # The imported design goes through every other tool.
    report = validate_workflow_design(imported.yaml, limit=None)
    assert report.states == states
    assert simulate_workflow_failures(imported.yaml).summary.scenarios >= 1
    assert render_workflow_diagram(imported.yaml).mermaid.startswith("stateDiagram-v2")


def test_what_the_callback_sample_becomes():
    design = load_design(import_asl((SAMPLES / "callback-approval.asl.json").read_text()).yaml).design
    by_name = {s.name: s for s in design.states}
    request = by_name["Request approval"]
    assert request.type == "task" and request.callback and request.action == "arn:aws:states:::sqs:sendMessage"
    assert request.timeout_seconds == 172800 and request.catch[0].errors == ["States.Timeout"]
    choice = by_name["Approved?"]
    assert choice.choices[0].condition.describe() == "$.approval.decision == 'approve'"
    assert choice.choices[1].condition.describe() == "($.approval.decision == 'reject') and ($.amount > 1000)"
    assert choice.default == "Rejected"
    pay = by_name["Pay"]
    assert pay.transitions[0].target == "End" and by_name["End"].type == "succeed"
    assert pay.retry[0].jitter and pay.retry[0].max_attempts == 4
    assert design.timeout_seconds == 604800


def test_choice_rules_read_back():
    design = load_design(import_asl((SAMPLES / "schedule-until.asl.json").read_text()).yaml).design
    rules = [c.condition for c in design.states[0].choices]
    assert rules[0].describe() == "$.release_at absent"
    assert (rules[1].variable, rules[1].op, rules[1].value) == ("$.env", "in", ["prod", "staging"])
    assert rules[2].expression == '$.limit NumericLessThanPath "$.used"'
    assert (rules[3].op, rules[3].value) == ("matches", "release-*")
    wait = design.states[1]
    assert wait.type == "wait" and wait.until == "$.release_at"


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ("{}", "needs StartAt"),
        ('{"StartAt": "a", "States": {"a": {"Type": "Teleport"}}}', "unknown state type 'Teleport'"),
        ('{"StartAt": "a", "States": {"a": 5}}', "a state is an object"),
        ('{"StartAt": "a", "States": {"a": {"Type": "Choice", "Choices": [{"Next": "a"}]}}}', "a choice rule needs"),
        ('{"StartAt": "a", "States": {"a": {"Type": "Task", "Resource": "x", "TimeoutSeconds": "soon", "End": true}}}',
         "timeout_seconds"),
        ("x" * (1024 * 1024 + 1), "larger than"),
        ('{"StartAt": "a", "States": {"a": {"Type": "Parallel", "Branches": [' * 200 + "]}}}" * 200, "too deeply"),
        # json.loads let a bare ValueError out for an integer past Python's digit limit: "Internal error", exit 70
        ('{"StartAt": "a",\n "States": {"a": {"Type": "Succeed", "N": ' + "9" * 5000 + "}}}",
         "not JSON: Integer of more than 4300 digits: line 2 column 43"),
    ],
)
def test_bad_definitions_are_clear_input_errors(definition, message):
    with pytest.raises(DesignInputError) as info:
        import_asl(definition)
    assert message in str(info.value)


def test_comments_json_and_numbers_past_the_parser_stay_text():
    # what the export writes into Comments is read back with json.loads and int(): a number past Python's digit
    # limit or nesting past the recursion limit raised ValueError / RecursionError out of import_asl
    nines = "9" * 5000
    definition = {"Comment": f"tiny; inputs: [{nines}]; inputs: " + "[" * 5000, "StartAt": "m", "States": {
        "m": {"Type": "Map", "Comment": f"fan out; at most {nines} items; items: [{nines}]; items: " + "[" * 5000,
              "ItemProcessor": {"StartAt": "x", "States": {"x": {"Type": "Succeed"}}}, "End": True}}}
    design = load_design(import_asl(json.dumps(definition)).yaml).design
    assert design.description is not None and design.description.startswith(f"tiny; inputs: [{nines}]; inputs: [[")
    assert design.inputs == []
    mapped = design.states[0]
    assert mapped.max_items is None and mapped.items is None
    assert mapped.description is not None and f"at most {nines} items" in mapped.description


def test_deeply_nested_parallels_are_refused_by_the_loaders_limits():
    inner: dict[str, Any] = {"StartAt": "x", "States": {"x": {"Type": "Succeed"}}}
    for i in range(40):
        inner = {"StartAt": f"p{i}", "States": {f"p{i}": {"Type": "Parallel", "Branches": [inner], "End": True}}}
    with pytest.raises(DesignInputError) as info:
        import_asl(json.dumps(inner))
    assert "deep" in str(info.value)
