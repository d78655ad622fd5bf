"""Hostile input found in review of issue 19's design features: each test is one bug that was fixed (the input that
broke, and what must hold now)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from orchestrator_kit import InputError
from orchestrator_kit.design import (
    export_workflow_ci,
    load_design,
    simulate_workflow_failures,
    validate_workflow_design,
)
from orchestrator_kit.design.asl_import import import_asl
from orchestrator_kit.design.load import DesignInputError

from .helpers import task
from .test_ci_export import release
from .test_saga_chain import saga

EVIL = "x${{ github.event.issue.title }}\n$(id);`rm -rf /`'\""


def _renamed(design: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(design)
    for old, new in names.items():
        text = text.replace(json.dumps(old), json.dumps(new))
    return json.loads(text)


def test_github_export_says_no_expression_from_names_actions_or_concurrency_key():
    """Before: the design name, a state name and an action `${{ ... }}` went verbatim into workflow, job and step
    names, which GitHub evaluates; a fixed concurrency key went into the group the same way."""
    design = _renamed(release(), {"build": "b ${{ github.token }} $(id)\nx"})
    design["name"] = "Rel ${{ secrets.TOKEN }}"
    design["concurrency"] = {"key": "k${{ secrets.TOKEN }}"}
    for state in design["states"]:
        if state.get("type") == "task":
            state["action"] = EVIL
    export = export_workflow_ci(design, target="github-actions")
    assert export.valid, export.findings
    expressions = re.findall(r"\$\{\{(.*?)\}\}", export.text)
    assert {e.strip() for e in expressions} <= {"github.workflow"} | {
        e.strip() for e in expressions if e.strip().startswith("always() && contains(needs.*.result")
    }
    workflow = yaml.safe_load(export.text)
    assert workflow["name"] == "Rel $ {{ secrets.TOKEN }}"
    first = next(iter(workflow["jobs"].values()))
    assert first["name"] == "b $ {{ github.token }} $(id) x"  # one line, no expression
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) for key in workflow["jobs"])


def test_gitlab_state_named_like_a_pipeline_keyword_does_not_replace_the_pipeline_settings():
    """Before: states named `stages`, `variables`, `workflow` became job keys that overwrote the pipeline's stages
    list, variables and workflow rules (the schema rejected the file)."""
    design = _renamed(release(), {"build": "stages", "approve": "variables", "publish": "workflow"})
    export = export_workflow_ci(design, target="gitlab-ci")
    assert export.valid, export.findings
    pipeline = yaml.safe_load(export.text)
    assert pipeline["stages"][0] == "step-1" and isinstance(pipeline["stages"], list)
    assert pipeline["workflow"]["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "web"'
    jobs = {k: v for k, v in pipeline.items() if isinstance(v, dict) and "stage" in v}
    assert {"stages-2", "variables-2", "workflow-2"} <= set(jobs)
    assert "./scripts/workflow/stages.sh" in jobs["stages-2"]["script"][0]


def _task(**extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob", **extra}


@pytest.mark.parametrize(
    ("definition", "location"),
    [
        # Before: TypeError (unhashable list) from an Or of equalities whose Variable is not a string.
        ({"StartAt": "A", "States": {"A": {"Type": "Choice", "Default": "B", "Choices": [
            {"Or": [{"Variable": ["x"], "StringEquals": "a"}, {"Variable": ["x"], "StringEquals": "b"}], "Next": "B"}]},
            "B": {"Type": "Succeed"}}}, "/States/A/Choices/0"),
        # Before: a non-string Next was dropped silently (the task became a dead end).
        ({"StartAt": "A", "States": {"A": _task(Next=5)}}, "/States/A/Next"),
        ({"StartAt": "A", "States": {"A": _task(Next=["B"]), "B": {"Type": "Succeed"}}}, "/States/A/Next"),
        # Before: a string ErrorEquals was read letter by letter ("S", "t", "a", ...), a dict by its keys.
        ({"StartAt": "A", "States": {"A": _task(End=True, Retry=[{"ErrorEquals": "States.ALL"}])}},
         "/States/A/Retry/0/ErrorEquals"),
        ({"StartAt": "A", "States": {"A": _task(End=True, Catch=[{"ErrorEquals": {"States.ALL": 1}, "Next": "A"}])}},
         "/States/A/Catch/0/ErrorEquals"),
        # Before: Retry, Catch, Choices and Branches that were strings or objects were iterated as such.
        ({"StartAt": "A", "States": {"A": _task(End=True, Retry="States.ALL")}}, "/States/A/Retry"),
        ({"StartAt": "A", "States": {"A": _task(End=True, Catch={"ErrorEquals": ["States.ALL"]})}}, "/States/A/Catch"),
        ({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": "abc", "Default": "B"},
                                      "B": {"Type": "Succeed"}}}, "/States/A/Choices"),
        ({"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": {"b": 1}, "End": True}}},
         "/States/A/Branches"),
        # Nested: the location names the branch.
        ({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "T", "States": {"T": _task(End=True, Retry=[{"ErrorEquals": "X"}])}}]}}},
         "/States/P/Branches/0/States/T/Retry/0/ErrorEquals"),
    ],
)
def test_asl_import_refuses_mistyped_fields_with_a_location(definition: dict[str, Any], location: str):
    with pytest.raises(DesignInputError) as caught:
        import_asl(definition)
    assert [p.location for p in caught.value.problems] == [location], caught.value


def test_ci_export_of_a_design_whose_start_names_no_state_is_an_input_error():
    """Before: KeyError from the exporter on an imported ASL machine whose StartAt names no state (the other exports
    and validate report it)."""
    imported = import_asl({"StartAt": "Z", "States": {"A": _task(End=True)}})
    for target in ("github-actions", "gitlab-ci"):
        with pytest.raises(InputError, match="start_at 'Z' names no state"):
            export_workflow_ci(imported.yaml, target=target, validate=False)  # type: ignore[arg-type]


def _saga_with(compensations: dict[str, str], pivot: str = "notify") -> dict[str, Any]:
    design = saga()
    for state in design["states"]:
        if state["name"] in compensations:
            state["side_effect"] = {"description": f"{state['name']} done", "compensation": compensations[state["name"]]}
    design["sagas"][0]["pivot"] = pivot
    return design


def test_generated_chain_refuses_a_compensation_shared_across_another_one():
    """Before: reserve and ship both undone by 'release', charge by 'refund' between them: the chain was written
    release -> refund -> end, so a failure of charge ran refund and never released the stock (and validate then
    reported compensation-order on the generated chain)."""
    design = _saga_with({"reserve": "release", "charge": "refund", "ship": "release"})
    with pytest.raises(DesignInputError) as caught:
        load_design(design)
    assert [p.location for p in caught.value.problems] == ["/sagas/0/steps"]
    assert "'release' undoes steps that have other compensations between them" in str(caught.value)


def test_generated_chain_with_a_compensation_shared_by_neighbours_or_a_pivot_first_is_consistent():
    shared = _saga_with({"reserve": "release", "charge": "release", "ship": "refund"})
    states = {s.name: s for s in load_design(shared).design.states}
    assert [t.target for t in states["refund"].transitions] == ["release"]
    assert [c.target for c in states["charge"].catch] == ["release"]
    assert [c.target for c in states["ship"].catch] == ["refund"]
    report = validate_workflow_design(shared)
    assert not [f.rule for f in report.findings if f.rule.startswith("compensation")], report.findings
    assert simulate_workflow_failures(shared).summary.inconsistent == 0
    # The pivot first: nothing before it declares an undo except the pivot itself, which is still compensated.
    first = _saga_with({"reserve": "release"}, pivot="reserve")
    states = {s.name: s for s in load_design(first).design.states}
    assert [c.target for c in states["reserve"].catch] == ["release"] and states["charge"].catch == []


def _nested_parallels(outer_catch: bool) -> dict[str, Any]:
    """p1 { outer1: p2 { charge (undo refund) | reserve (undo release) } | outer2: ship }; p2 has no catch."""
    def branch(name: str, states: list[dict[str, Any]]) -> dict[str, Any]:
        return {"name": name, "start_at": states[0]["name"], "states": states}

    inner = {"name": "p2", "type": "parallel", "transitions": [{"target": "p2-ok"}], "branches": [
        branch("b1", [task("charge", "c-ok", side_effect={"description": "charged", "compensation": "refund"}),
                      {"name": "c-ok", "type": "succeed"}]),
        branch("b2", [task("reserve", "r-ok", side_effect={"description": "held", "compensation": "release"}),
                      {"name": "r-ok", "type": "succeed"}])]}
    outer: dict[str, Any] = {"name": "p1", "type": "parallel", "transitions": [{"target": "done"}], "branches": [
        branch("outer1", [inner, {"name": "p2-ok", "type": "succeed"}]),
        branch("outer2", [task("ship", "s-ok"), {"name": "s-ok", "type": "succeed"}])]}
    if outer_catch:
        outer["catch"] = [{"errors": ["States.ALL"], "target": "refund"}]
    return {"name": "nested", "start_at": "p1", "timeout_seconds": 3600, "states": [
        outer, task("refund", "release", idempotency={"natural": True}),
        task("release", "failed", idempotency={"natural": True}),
        {"name": "done", "type": "succeed"}, {"name": "failed", "type": "fail", "error": "Failed"}]}


def test_a_nested_parallel_without_catch_inside_one_that_catches_is_no_false_alarm():
    """Before: parallel-failure-handled reported p2 (an error) although its failure fails p1's branch and p1's
    catch compensates both effects (the simulator finds every single fault consistent)."""
    caught = validate_workflow_design(_nested_parallels(outer_catch=True))
    assert "parallel-failure-handled" not in {f.rule for f in caught.findings}
    assert simulate_workflow_failures(_nested_parallels(outer_catch=True)).summary.inconsistent == 0
    # Near miss: nothing catches at any level: both parallels are reported.
    bare = validate_workflow_design(_nested_parallels(outer_catch=False))
    assert sorted(f.state for f in bare.findings if f.rule == "parallel-failure-handled") == ["p1", "p2"]


def test_states_whose_names_differ_only_in_punctuation_run_different_scripts():
    """Before: 'build' -> 'build app' and 'build-app' both ran ./scripts/workflow/build-app.sh (the scripts list
    deduplicated the collision away)."""
    design = _renamed(release(), {"tag": "build app", "publish": "build-app"})
    for target in ("github-actions", "gitlab-ci"):
        export = export_workflow_ci(design, target=target, validate=False)  # type: ignore[arg-type]
        assert len(export.scripts) == len(set(export.scripts)) == 7, export.scripts
        assert "scripts/workflow/build-app.sh" in export.scripts
        assert any(re.fullmatch(r"scripts/workflow/build-app-[0-9a-f]{6}\.sh", s) for s in export.scripts)


def test_a_parsed_asl_definition_with_too_many_states_is_refused_before_it_is_read():
    """A parsed definition (what the MCP tool receives as an object) has no byte limit: before, all 200,000 states
    were converted before the loader refused the design; now the importer stops at the loader's limit."""
    states: dict[str, Any] = {f"S{i}": _task(Next=f"S{i + 1}") for i in range(200_000)}
    states["S200000"] = {"Type": "Succeed"}
    with pytest.raises(DesignInputError, match="more than 5000 states"):
        import_asl({"StartAt": "S0", "States": states})
    nested = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "S0", "States": dict(list(states.items())[:3000])} for _ in range(2)]}}}
    with pytest.raises(DesignInputError, match="more than 5000 states"):
        import_asl(nested)


def test_end_true_in_several_branches_imports_with_unique_end_states():
    """Before: every scope's `End: true` became a succeed state named 'End', so a valid ASL parallel (unique names)
    imported as a design the validator refused with unique-names errors."""
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": _task(End=True)}},
        {"StartAt": "B", "States": {"B": _task(End=True)}},
        {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": {
            "StartAt": "C", "States": {"C": _task(End=True), "End_": {"Type": "Succeed"}}}}}}]}}}
    imported = import_asl(definition)
    design = load_design(imported.yaml).design
    assert [s.name for s in design.states] == ["P", "End"]
    report = validate_workflow_design(imported.yaml)
    assert "unique-names" not in {f.rule for f in report.findings}, report.findings
    # A branch state the author named "End" keeps its name; the top level's generated end state takes another.
    taken = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "End", "States": {"End": _task(Next="Done"), "Done": {"Type": "Succeed"}}}]}}}
    report = validate_workflow_design(import_asl(taken).yaml)
    assert "unique-names" not in {f.rule for f in report.findings}, report.findings
