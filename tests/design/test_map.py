"""Map states (a step repeated over a set of items, with its own failure policy): schema, each rule with a failing
and a near-miss passing case, the simulator against hand-derived expectations, and the ASL, Mermaid and CI exports.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from orchestrator_kit.design import (
    DesignInputError,
    export_workflow_asl,
    export_workflow_ci,
    load_design,
    render_workflow_diagram,
    simulate_workflow_failures,
)
from orchestrator_kit.design.asl_import import import_asl
from orchestrator_kit.errors import InputError

from .helpers import findings, rules_of, scenario, task


def rollout(**map_fields: Any) -> dict[str, Any]:
    """deploy_all: a map over the declared list input `regions` (3 at a time), each item `apply` (compensated per
    item by `revert_one`) then `check`; it tolerates one failed item and its compensation `revert_all` undoes every
    region that committed; past the policy its catch runs revert_all -> failed. No finding at all."""
    design: dict[str, Any] = {
        "name": "rollout",
        "start_at": "deploy_all",
        "timeout_seconds": 3600,
        "inputs": [{"name": "regions", "type": "list"}],
        "sagas": [{"name": "rollout", "steps": ["deploy_all"]}],
        "states": [
            {
                "name": "deploy_all", "type": "map", "items_path": "$.inputs.regions", "max_concurrency": 3,
                "tolerated_failure_count": 1, "compensation": "revert_all",
                "processor": {"start_at": "apply", "states": [
                    task("apply", "check", idempotency={"key": "$.item"},
                         side_effect={"description": "config applied", "compensation": "revert_one"},
                         catch=[{"errors": ["States.ALL"], "target": "revert_one"}]),
                    task("check", "ok", catch=[{"errors": ["States.ALL"], "target": "revert_one"}]),
                    task("revert_one", "item_failed", idempotency={"natural": True}),
                    {"name": "ok", "type": "succeed"},
                    {"name": "item_failed", "type": "fail", "error": "RegionFailed"},
                ]},
                "catch": [{"errors": ["States.ExceedToleratedFailureThreshold"], "target": "revert_all"}],
                "transitions": [{"target": "done"}],
                "metrics": [{"name": "regions_total"}],
            },
            task("revert_all", "failed", idempotency={"natural": True}),
            {"name": "done", "type": "succeed"},
            {"name": "failed", "type": "fail", "error": "RolloutFailed"},
        ],
    }
    design["states"][0].update(map_fields)
    return copy.deepcopy(design)


def the_map(design: dict[str, Any]) -> dict[str, Any]:
    return design["states"][0]


def inner(design: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in the_map(design)["processor"]["states"] if s["name"] == name)


def test_the_rollout_is_clean():
    assert findings(rollout()) == []


# -- schema and bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"items": ["eu", "us"]}, "exactly one of: items_path, items"),
        ({"items_path": None}, "exactly one of: items_path, items"),
        ({"max_concurrency": -1}, "greater than or equal to 0"),
        ({"tolerated_failure_percentage": 101}, "less than or equal to 100"),
        ({"tolerated_failure_count": "two"}, "valid integer"),
        ({"processor": {"states": []}}, "start_at"),
        ({"items_per_batch": 3}, "unknown field"),
    ],
)
def test_malformed_maps_are_refused_with_their_location(change, message):
    design = rollout(**change)
    if change.get("items_path", "") is None:
        del the_map(design)["items_path"]
    with pytest.raises(DesignInputError) as caught:
        load_design(design)
    assert message in str(caught.value) and "/states/0" in str(caught.value)


def test_states_inside_a_processor_count_towards_the_state_limit():
    design = rollout()
    the_map(design)["processor"]["states"] += [{"name": f"s{i}", "type": "succeed"} for i in range(5_000)]
    with pytest.raises(DesignInputError, match="states; the limit is 5000"):
        load_design(design)


def test_a_hostile_item_list_and_names_stay_data():
    design = rollout(items=["$(rm -rf /)", "${{ secrets.X }}", "x" * 10_000], items_path=None)
    del the_map(design)["items_path"]
    report = simulate_workflow_failures(design)
    assert report.summary.map_items == {"deploy_all": 3}
    assert "${{" not in render_workflow_diagram(design, kind="state").mermaid.replace("$ {{", "")


# -- rules: each with a failing case and a near miss that passes --------------------------------------------------


def _inputs(design: dict[str, Any], **types: str) -> dict[str, Any]:
    design["inputs"] = [{"name": n, "type": t} for n, t in types.items()]
    return design


def _no_per_item_compensation(design: dict[str, Any]) -> dict[str, Any]:
    inner(design, "apply")["side_effect"]["compensation"] = "revert_all"
    return design


def _tolerance_zero(design: dict[str, Any]) -> dict[str, Any]:
    design = _no_per_item_compensation(design)
    the_map(design)["tolerated_failure_count"] = 0
    return design


def _retried_map(design: dict[str, Any], key: dict[str, Any] | None, settles: bool = False) -> dict[str, Any]:
    the_map(design)["retry"] = [{"errors": ["States.ExceedToleratedFailureThreshold"], "max_attempts": 1,
                                 "interval_seconds": 5, "backoff_rate": 2}]
    apply = inner(design, "apply")
    apply.pop("idempotency")
    apply["retry"] = []
    if key is not None:
        apply["idempotency"] = key
    if settles:
        the_map(design)["processor"]["states"].insert(0, task("probe", "apply", settles="apply",
                                                               idempotency={"natural": True}))
        the_map(design)["processor"]["start_at"] = "probe"
    return design


def _no_policy(design: dict[str, Any]) -> dict[str, Any]:
    del the_map(design)["tolerated_failure_count"]
    return _no_per_item_compensation(design)


def _slow(concurrency: int) -> dict[str, Any]:
    # 30 regions, 30s + 30s per item (apply, check); workflow timeout 3600s.
    return rollout(max_items=30, max_concurrency=concurrency)


CASES = [
    # rule, failing design, near miss that passes
    ("map-items-declared", _inputs(rollout(), regions="string"), _inputs(rollout(), regions="list")),
    ("map-items-declared", _inputs(rollout(), region="list"), rollout(items_path="$.results.discover")),
    ("map-concurrency-bounded", rollout(max_concurrency=None), rollout(max_concurrency=None, max_items=20)),
    ("map-concurrency-bounded", rollout(max_concurrency=0), rollout(max_concurrency=1)),
    ("map-failure-compensated", rollout(compensation=None), rollout()),
    ("map-item-rollback", _no_per_item_compensation(rollout()), _tolerance_zero(rollout())),
    ("map-item-idempotent", _retried_map(rollout(), None), _retried_map(rollout(), {"natural": True})),
    ("map-item-idempotent", _retried_map(rollout(), {"key": "$.run_id"}), _retried_map(rollout(), None, True)),
    ("map-error-names", _no_policy(rollout()), _tolerance_zero(rollout())),
]
# A key that does not read the item: every item sends the same one.
_shared_key, _per_item_key = rollout(), rollout()
inner(_shared_key, "apply")["idempotency"] = {"key": "$.deployment_id"}
inner(_per_item_key, "apply")["idempotency"] = {"key": "$.deployment_id-$.item.region"}
CASES.append(("map-item-idempotent", _shared_key, _per_item_key))
# 30 items, (150 + 150)s each, workflow timeout 3600s: 2 at a time is 15 rounds (4500s), 3 at a time 10 (3000s).
_slow_item, _fast_enough = _slow(2), _slow(3)
for _d in (_slow_item, _fast_enough):
    for _name in ("apply", "check"):
        inner(_d, _name)["timeout_seconds"] = 150
CASES.append(("map-within-workflow-timeout", _slow_item, _fast_enough))


@pytest.mark.parametrize(("rule", "failing", "passing"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_map_rule_fails_and_its_near_miss_passes(rule, failing, passing):
    assert rule in rules_of(failing)
    assert rule not in rules_of(passing)


def test_the_timeout_rule_states_its_arithmetic():
    # 30 items, 2 at a time: ceil(30 / 2) = 15 rounds x (150 + 150)s = 4500s > 3600s; at 3: 10 x 300 = 3000s.
    (finding,) = [f for f in findings(_slow_item) if f.rule == "map-within-workflow-timeout"]
    assert "15 rounds x 300s per item = 4500s" in finding.message and finding.severity == "warning"


def test_a_map_compensation_must_be_reached_when_the_map_fails():
    design = rollout()
    the_map(design)["catch"] = [{"errors": ["States.ExceedToleratedFailureThreshold"], "target": "failed"}]
    assert "compensation-reachable" in rules_of(design)


def test_a_map_compensation_names_a_task():
    assert "compensation-valid" in rules_of(rollout(compensation="done"))
    assert "compensation-valid" in rules_of(rollout(compensation="nowhere"))


def test_only_done_leaves_a_map():
    design = rollout()
    the_map(design)["transitions"] = [{"event": "approved", "target": "done"}]
    assert "transition-event-known" in rules_of(design)


# -- simulator: hand-derived expectations --------------------------------------------------------------------------
# rollout(): 3 symbolic items (tolerated(3) = 1, and 1 + 2 <= 3), all of them run; a fault in `check` hits the last k
# items for k in {1 (one item, within the policy), 2 (past it)}.


def _check_fails(design: dict[str, Any], items: set[int]):
    from orchestrator_kit.design.graph import DesignGraph
    from orchestrator_kit.design.simulate import Fault, run_scenario

    graph = DesignGraph(load_design(design).design)
    return run_scenario(graph, Fault("check", "permanent", "States.TaskFailed", frozenset(items)))


def test_the_fault_free_run_commits_every_item_and_undoes_none():
    s = scenario(rollout())
    assert s.status == "succeeded" and s.consistent
    assert s.committed == ["apply[0]", "apply[1]", "apply[2]"] and s.compensated == []
    assert s.path[:4] == ["deploy_all", "apply[0]", "check[0]", "ok[0]"]


def test_one_failed_item_within_the_policy_is_undone_by_itself_and_the_map_succeeds():
    s = _check_fails(rollout(), {2})
    assert (s.status, s.end_state) == ("succeeded", "done")
    assert s.compensations == ["revert_one[2]"] and s.compensated == ["apply[2]"]
    assert s.consistent


def test_past_the_policy_the_map_fails_and_its_compensation_undoes_only_the_items_that_committed():
    s = _check_fails(rollout(), {1, 2})
    assert (s.status, s.end_state) == ("failed", "failed")
    # items 1 and 2 undo themselves; revert_all then finds only item 0 still applied.
    assert s.compensations == ["revert_one[1]", "revert_one[2]", "revert_all"]
    assert s.compensated == ["apply[1]", "apply[2]", "apply[0]"]
    assert s.consistent and "States.ExceedToleratedFailureThreshold caught -> revert_all" in " ".join(s.trace)


def test_a_map_compensation_undoes_every_committed_item_latest_commit_first():
    design = _tolerance_zero(rollout())  # apply's compensation is revert_all: no per-item undo
    s = _check_fails(design, {2})
    assert s.end_state == "failed"
    assert s.compensations == ["revert_all"] and s.compensated == ["apply[2]", "apply[1]", "apply[0]"]
    assert s.compensation_order_ok and s.consistent


def test_without_a_map_compensation_the_committed_items_stay_applied():
    design = rollout(compensation=None)
    the_map(design)["catch"] = [{"errors": ["States.ExceedToleratedFailureThreshold"], "target": "failed"}]
    s = _check_fails(design, {1, 2})
    assert not s.consistent and s.uncompensated == ["apply[0]"]


def test_without_a_policy_one_failed_item_fails_the_map_with_its_own_error():
    design = _no_policy(rollout())
    the_map(design)["catch"] = [{"errors": ["RegionFailed"], "target": "revert_all"}]
    s = _check_fails(design, {2})
    assert s.end_state == "failed" and "deploy_all: 1 of 3 items failed ([2] RegionFailed)" in " ".join(s.trace)


def test_the_report_states_the_bound_and_tries_within_and_past_the_policy():
    report = simulate_workflow_failures(rollout(), limit=None)
    assert report.summary.map_items == {"deploy_all": 3}
    hits = {(s.step, tuple(s.items or ())) for s in report.scenarios if s.then is None and s.fault == "permanent"}
    assert {("check", (2,)), ("check", (1, 2)), ("apply", (2,)), ("apply", (1, 2))} <= hits
    assert report.summary.inconsistent == 0


def test_more_items_are_explored_when_the_policy_tolerates_more():
    # tolerated_failure_count 2: 3 items could all fail within... 2 + 2 <= n needs n = 4.
    report = simulate_workflow_failures(rollout(tolerated_failure_count=2), limit=None)
    assert report.summary.map_items == {"deploy_all": 4}
    past = next(s for s in report.scenarios if s.step == "check" and s.items == [1, 2, 3] and s.fault == "permanent")
    assert past.compensated == ["apply[1]", "apply[2]", "apply[3]", "apply[0]"]


def test_a_retried_map_without_item_idempotency_applies_effects_twice():
    design = _retried_map(rollout(), None)
    s = _check_fails(design, {1, 2})
    assert "apply[0]" in s.duplicates and not s.consistent


# -- exports ------------------------------------------------------------------------------------------------------


def test_asl_map_fields():
    definition = export_workflow_asl(rollout()).definition
    body = definition["States"]["deploy_all"]
    assert body["Type"] == "Map" and body["ItemsPath"] == "$.inputs.regions"
    assert body["MaxConcurrency"] == 3 and body["ToleratedFailureCount"] == 1
    assert body["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert body["ItemProcessor"]["StartAt"] == "apply" and "revert_one" in body["ItemProcessor"]["States"]
    assert body["ItemSelector"] == {"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"}
    assert export_workflow_asl(rollout()).statelint in ([], None)
    inline = export_workflow_asl(_no_policy(rollout())).definition["States"]["deploy_all"]
    assert inline["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"} and "ToleratedFailureCount" not in inline


@pytest.mark.parametrize(
    "design",
    [rollout(), rollout(tolerated_failure_percentage=50, tolerated_failure_count=None, max_items=40),
     _no_policy(rollout())],
)
def test_asl_map_round_trip_gives_the_same_design(design):
    loaded = load_design(design).design
    back = load_design(import_asl(export_workflow_asl(loaded).definition).yaml).design
    assert back.to_dict() == loaded.to_dict() | {"states": back.to_dict()["states"]}
    assert back.states[0].model_dump() == loaded.states[0].model_dump()
    assert back.inputs == loaded.inputs


def test_literal_items_round_trip_through_the_comment():
    design = rollout(items=["eu-west-1", "us;east"], items_path=None)
    del the_map(design)["items_path"]
    export = export_workflow_asl(design)
    assert export.definition["States"]["deploy_all"]["ItemsPath"] == "$.map_items.deploy_all"
    assert any("literal items" in n for n in export.notes)
    back = load_design(import_asl(export.definition).yaml).design
    assert back.states[0].items == ["eu-west-1", "us;east"]  # type: ignore[union-attr]


def test_an_aws_style_map_imports_as_a_map():
    asl = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.records", "MaxConcurrency": 0,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Work",
                          "States": {"Work": {"Type": "Task", "Resource": "arn:aws:lambda:eu-west-1:1:function:w",
                                              "End": True}}},
        "End": True}}}
    result = import_asl(asl)
    state = load_design(result.yaml).design.states[0]
    assert state.type == "map" and state.items_path == "$.records" and state.max_concurrency is None
    assert [s.name for s in state.processor.states][:1] == ["Work"]  # type: ignore[union-attr]
    assert not any("parallel" in n for n in result.notes)


@pytest.mark.parametrize(
    ("extra", "outcome"),
    [
        ({"ToleratedFailurePercentage": 500}, "tolerated_failure_percentage: Input should be less than or equal to 100"),
        ({"MaxConcurrency": -3}, "max_concurrency: Input should be greater than or equal to 0"),
        ({"ItemsPath": 7}, "note: reads its items from ItemsPath (7)"),
        ({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject"}}, "note: reads its items from ItemReader"),
        ({"Comment": "items: [1,2"}, "description: items: [1,2"),
        ({"ToleratedFailureCount": True}, "no policy"),
    ],
)
def test_hostile_asl_maps_import_clearly_or_are_refused_with_the_field(extra, outcome):
    asl = {"StartAt": "E", "States": {"E": {"Type": "Map", "End": True, **extra, "ItemProcessor": {
        "StartAt": "W", "States": {"W": {"Type": "Succeed"}}}}}}
    if "Input should" in outcome:
        with pytest.raises(DesignInputError, match=outcome.split(": ", 1)[1]):
            import_asl(asl)
        return
    result = import_asl(asl)
    state = load_design(result.yaml).design.states[0]
    assert state.type == "map"
    if outcome.startswith("note: "):
        assert any(outcome[len("note: "):] in n for n in result.notes), result.notes
    elif outcome.startswith("description: "):
        assert state.description == outcome[len("description: "):] and state.items is None  # type: ignore[union-attr]
    else:
        assert not state.has_tolerance  # type: ignore[union-attr]  # a boolean is no count


def test_a_map_without_a_processor_is_refused_clearly():
    with pytest.raises(DesignInputError, match="ItemProcessor"):
        import_asl({"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": True}}})


def test_mermaid_draws_the_map_with_its_policy():
    text = render_workflow_diagram(rollout(), kind="state").mermaid
    assert "deploy_all (each of $.inputs.regions, 3 at a time, tolerates 1 failed, undo: revert_all)" in text
    lines = text.splitlines()
    opening = next(i for i, line in enumerate(lines) if "deploy_all (" in line)
    assert lines[opening].endswith("{") and lines[opening + 1].strip().startswith('state "apply')


def test_ci_export_is_a_matrix_with_max_parallel_and_fail_fast():
    design = _no_policy(rollout())
    the_map(design)["processor"] = {"start_at": "apply", "states": [
        task("apply", "check", idempotency={"key": "$.item"}, retry=[]), task("check", "ok", retry=[]),
        {"name": "ok", "type": "succeed"}]}
    the_map(design).pop("compensation")
    the_map(design)["catch"] = []
    design["sagas"] = []
    export = export_workflow_ci(design, target="github-actions")
    import yaml

    job = yaml.safe_load(export.text)["jobs"]["deploy_all"]
    assert job["strategy"] == {"fail-fast": True, "matrix": {"item": "${{ fromJSON(inputs.regions) }}"},
                               "max-parallel": 3}
    assert [s["name"] for s in job["steps"][1:]] == ["svc.apply", "svc.check"]
    on = yaml.safe_load(export.text)[True]  # YAML 1.1 reads the key `on` as true
    assert on["workflow_dispatch"]["inputs"]["regions"]["type"] == "string"
    assert export.valid, export.findings


@pytest.mark.parametrize(
    ("target", "change", "reason"),
    [
        ("github-actions", {}, "tolerates some failed items"),
        ("github-actions", {"tolerated_failure_count": 0, "items_path": "$.results.found"},
         "a CI matrix takes a run input or a literal list"),
        ("github-actions", {"tolerated_failure_count": 0}, "processor branches, catches"),
        ("gitlab-ci", {"tolerated_failure_count": 0}, "cannot limit how many items run at once"),
    ],
)
def test_ci_export_refuses_what_a_matrix_cannot_say_by_name(target, change, reason):
    with pytest.raises(InputError) as caught:
        export_workflow_ci(rollout(**change), target=target)
    assert "'deploy_all'" in str(caught.value) and reason in str(caught.value)


def _nested(depth: int, items: list[Any]) -> dict[str, Any]:
    """`depth` maps, each over the literal `items`, around one side-effecting task `put`."""
    processor: dict[str, Any] = {"start_at": "put", "states": [
        task("put", "ok", retry=[], idempotency={"key": "$.item"}, side_effect={"description": "row written"}),
        {"name": "ok", "type": "succeed"}]}
    for d in range(depth):
        processor = {"start_at": f"m{d}", "states": [
            {"name": f"m{d}", "type": "map", "items": items, "processor": processor,
             "transitions": [{"target": f"end{d}"}]},
            {"name": f"end{d}", "type": "succeed"}]}
    return {"name": "nested", "start_at": processor["start_at"], "states": processor["states"], "not_a_saga": True,
            "timeout_seconds": 3600}


def test_nested_maps_name_every_item_of_every_level():
    s = scenario(_nested(2, ["a", "b"]))
    assert s.status == "succeeded"
    assert s.committed == ["put[0][0]", "put[0][1]", "put[1][0]", "put[1][1]"]


def test_deeply_nested_maps_stop_at_the_step_bound_and_say_why():
    # 3^10 = 59,049 runs of `put`: more than the 100,000 steps one scenario may take.
    report = simulate_workflow_failures(_nested(10, [1, 2, 3]), max_total_steps=150_000, limit=1)
    assert report.happy_path.status == "loop"
    assert "nested maps run too many items to simulate" in report.happy_path.trace[-1]


def test_a_generated_saga_chain_takes_a_maps_compensation():
    # prepare (undone by unprepare) -> deploy_all (undone by revert_all): the chain is revert_all -> unprepare ->
    # the generated end, and deploy_all (no catch of its own here) gets a catch-all into it.
    design = rollout()
    mapped = the_map(design)
    mapped["catch"] = []
    design["sagas"] = [{"name": "rollout", "steps": ["prepare", "deploy_all"], "compensation_chain": "generated",
                        "on_compensated": "failed"}]
    design["start_at"] = "prepare"
    design["states"].insert(0, task("prepare", "deploy_all", idempotency={"natural": True},
                                    side_effect={"description": "lock taken", "compensation": "unprepare"}))
    design["states"].append(task("unprepare", None, idempotency={"natural": True}))
    del design["states"][2]["transitions"]  # revert_all: the chain writes where it goes
    loaded = load_design(design).design
    by_name = {s.name: s for s in loaded.states}
    assert [t.target for t in by_name["revert_all"].transitions] == ["unprepare"]  # type: ignore[union-attr]
    assert [(c.errors, c.target) for c in by_name["deploy_all"].catch] == [(["States.ALL"], "revert_all")]  # type: ignore[union-attr]
    assert findings(design) == []


def nested_maps(depth: int) -> dict[str, Any]:
    """`depth` maps one inside the other, each over 12 symbolic items (10 tolerated failures), with an effect to
    undo in the innermost processor: a run enters 12**depth innermost items."""

    def level(d: int) -> dict[str, Any]:
        if d == depth:
            return {"start_at": "work", "states": [
                {"name": "work", "type": "task", "action": "svc.work", "timeout_seconds": 60,
                 "idempotency": {"key": "$.item"},
                 "side_effect": {"description": "done", "resource": "r", "compensation": "undo"},
                 "transitions": [{"target": "done"}]},
                {"name": "undo", "type": "task", "action": "svc.undo", "timeout_seconds": 60,
                 "idempotency": {"natural": True}, "transitions": [{"target": "failed"}]},
                {"name": "failed", "type": "fail", "error": "X"},
                {"name": "done", "type": "succeed"}]}
        return {"start_at": f"m{d + 1}", "states": [
            {"name": f"m{d + 1}", "type": "map", "items_path": "$.inputs.items" if d == 0 else "$.item",
             "max_items": 100_000, "max_concurrency": 10, "tolerated_failure_count": 10, "processor": level(d + 1),
             "transitions": [{"target": f"ok{d + 1}"}]},
            {"name": f"ok{d + 1}", "type": "succeed"}]}

    return {"name": f"nested-{depth}", "description": "maps in maps", "timeout_seconds": 3600,
            "inputs": [{"name": "items", "type": "list"}], **level(0)}


def test_nested_maps_are_reported_in_bounded_lists_with_what_was_left_out():
    """Three nested maps of 12 items enter 1,728 innermost items: the run is simulated whole, the report lists the
    first SCENARIO_LISTED entries of each list and counts the rest (it printed 1 MB at depth 3, 72 MB at 14)."""
    import io
    import json

    from rich.console import Console

    from orchestrator_kit.design.service import REASON_CHARS, SCENARIO_LISTED
    from orchestrator_kit.design.text import print_simulation

    design = nested_maps(3)
    report = simulate_workflow_failures(design, include_trace=True)
    happy = report.happy_path
    assert report.summary.map_items == {"m1": 12, "m2": 12, "m3": 12}
    # Worked out by hand: each innermost item enters 'work' and 'done'; each map level enters its map state and
    # its 'ok' state once per item of the level above: 1 + 1 + 12 * 2 + 144 * 2 + 1728 * 2 states in all.
    assert len(happy.path) == SCENARIO_LISTED and happy.omitted["path"] == 2 + 24 + 288 + 3456 - SCENARIO_LISTED
    assert happy.path[:4] == ["m1", "m2[0]", "m3[0][0]", "work[0][0][0]"]
    assert happy.status == "succeeded" and happy.committed[:1] == ["work[0][0][0]"]
    assert happy.omitted["committed"] == 1728 - SCENARIO_LISTED
    for run in [happy, *report.scenarios]:
        for name in ("path", "committed", "compensations", "compensated", "uncompensated", "trace"):
            assert len(getattr(run, name)) <= SCENARIO_LISTED
        assert all(len(reason) <= REASON_CHARS + 40 for reason in run.reasons)
    failed = [s for s in report.scenarios if not s.consistent]
    assert failed and all(s.reasons for s in failed)
    assert len(json.dumps(report.model_dump(mode="json"))) < 1_000_000
    out = io.StringIO()
    print_simulation(report, Console(file=out, width=120))
    assert f"→ ... ({happy.omitted['path']:,} more states)" in out.getvalue().replace("\n", " ")
