"""The service functions the CLI and the MCP server call: inputs, paging, examples, schema, rules."""

from __future__ import annotations

import pytest

from orchestrator_kit import InputError
from orchestrator_kit.design import (
    DesignInputError,
    get_design_example,
    list_design_examples,
    list_design_rules,
    load_design,
    validate_workflow_design,
    workflow_design_schema,
)

from .helpers import BROKEN_EXAMPLES, VALID_EXAMPLES, base, example_text

# The rules each broken twin breaks, as listed by hand in the comment at the top of its file.
BROKEN_RULES = {
    "order-fulfilment.broken": {
        "task-timeout", "compensation-before-pivot", "idempotent-retries", "retry-catch-all-last",
        "compensation-order", "target-exists", "human-task-complete", "reachable", "retry-permanent-errors",
    },
    "deployment-pipeline.broken": {
        "task-heartbeat", "unique-names", "deterministic-decisions", "choice-has-default", "retry-bounded",
        "retry-backoff", "can-terminate",
    },
    "document-approval.broken": {
        "start-state", "single-unguarded-transition", "human-task-complete", "guarded-transition-fallback",
        "task-timeout", "transition-event-known", "no-dead-end", "compensation-idempotent", "compensation-retried",
        "saga-valid", "workflow-timeout", "event-correlation",
    },
    "tenant-schema-migration.broken": {
        "map-items-declared", "map-concurrency-bounded", "map-failure-compensated", "map-item-idempotent",
        "compensation-before-pivot",
    },
}


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_valid_examples_have_no_finding(name):
    report = validate_workflow_design(example_text(name))
    assert report.valid and report.total_findings == 0, report.findings


@pytest.mark.parametrize("name", BROKEN_EXAMPLES)
def test_broken_twins_break_exactly_the_rules_they_say(name):
    text = example_text(name)
    report = validate_workflow_design(text, limit=None)
    assert not report.valid
    assert {f.rule for f in report.findings} == BROKEN_RULES[name]
    for rule in BROKEN_RULES[name]:
        assert f"[{rule}]" in text  # the file's header documents each one


def test_inputs_can_be_a_model_a_dict_or_text():
    text = example_text("order-fulfilment")
    model = load_design(text).design
    for source in (model, model.to_dict(), text, model.to_json()):
        assert validate_workflow_design(source).design == "order-fulfilment"


def test_lines_only_when_the_design_came_as_text():
    design = base()
    design["start_at"] = "nope"
    assert validate_workflow_design(design).findings[0].line is None
    text = load_design(design).design.to_yaml()
    assert validate_workflow_design(text).findings[0].line == text.splitlines().index("start_at: nope") + 1


def test_findings_are_paged():
    text = example_text("document-approval.broken")
    first = validate_workflow_design(text, limit=5)  # 10 errors, 3 warnings, 1 info (event-correlation)
    assert len(first.findings) == 5 and first.total_findings == 14 and first.next_cursor == 5
    rest = validate_workflow_design(text, cursor=first.next_cursor, limit=100)
    assert rest.next_cursor is None
    assert [f.location for f in first.findings + rest.findings] == [
        f.location for f in validate_workflow_design(text, limit=None).findings
    ]
    errors_only = validate_workflow_design(text, min_severity="error", limit=None)
    assert errors_only.total_findings == errors_only.errors == 10 and errors_only.warnings == 3


def test_unreadable_design_is_an_input_error_with_every_problem():
    with pytest.raises(DesignInputError) as info:
        validate_workflow_design({"name": 1, "states": "many"})
    assert isinstance(info.value, InputError)
    locations = {p.location for p in info.value.problems}
    assert locations == {"/name", "/start_at", "/states"}


def test_examples_api():
    names = [e.name for e in list_design_examples()]
    assert sorted(names) == sorted(VALID_EXAMPLES + BROKEN_EXAMPLES)
    assert all(e.text is None and e.description for e in list_design_examples())
    assert [e.name for e in list_design_examples("valid")] == sorted(VALID_EXAMPLES)
    example = get_design_example("order-fulfilment")
    assert example.valid and example.text == example_text("order-fulfilment")
    with pytest.raises(InputError, match="no example design named 'x'"):
        get_design_example("x")


def test_schema_resource():
    schema = workflow_design_schema()
    assert schema.uri == "orchestrator-kit://schemas/workflow-design-v1.json"
    assert schema.json_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema.json_schema["properties"]) >= {"name", "start_at", "states", "sagas", "timeout_seconds"}


def test_rules_listing_matches_the_validator():
    rules = list_design_rules()
    assert len(rules) == len({r.id for r in rules}) == len(validate_workflow_design(base()).rules_checked)


def test_missing_examples_folder_is_an_input_error(monkeypatch, tmp_path):
    from orchestrator_kit.design import service

    monkeypatch.setattr(service.resources, "files", lambda package: tmp_path)  # a folder without examples/
    with pytest.raises(InputError, match="example designs are not installed"):
        list_design_examples()
