"""Hypothesis-made designs, sound or not: every tool answers (findings, scenarios, diagrams, exports), none crashes."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.design import (
    export_workflow_asl,
    export_workflow_xstate,
    load_design,
    render_workflow_diagram,
    simulate_workflow_failures,
    validate_workflow_design,
)
from orchestrator_kit.design.render import mermaid_text

NAMES = ["a", "b", "c", "d", "ok", "bad", "a b", 'q"uote', "x;y#z"]
ERRORS = ["States.ALL", "States.Timeout", "States.TaskFailed", "Busy"]

names = st.sampled_from(NAMES)
durations = st.one_of(st.none(), st.integers(-5, 10**6), st.floats(0, 1e6, allow_nan=False), st.sampled_from(["30s", "2h"]))
errors = st.lists(st.sampled_from(ERRORS), min_size=1, max_size=3)
conditions = st.recursive(
    st.builds(lambda v, op, value: {"variable": v, "op": op, "value": value},
              st.sampled_from(["$.a", "$.b.c", "$$.State.EnteredTime"]),
              st.sampled_from(["eq", "ne", "lt", "ge", "matches"]),
              st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none()))
    | st.builds(lambda v, op: {"variable": v, "op": op}, st.sampled_from(["$.a"]), st.sampled_from(["present", "absent"]))
    | st.builds(lambda e: {"expression": e}, st.sampled_from(["$states.input.a > 1", "$now() > 0", "x"])),
    lambda children: st.builds(lambda c: {"all": c}, st.lists(children, max_size=3))
    | st.builds(lambda c: {"any": c}, st.lists(children, max_size=3))
    | st.builds(lambda c: {"not": c}, children),
    max_leaves=6,
)
retries = st.lists(
    st.fixed_dictionaries(
        {"errors": errors, "max_attempts": st.one_of(st.none(), st.integers(-2, 3000))},
        optional={"backoff_rate": st.floats(0, 50, allow_nan=False), "interval_seconds": durations.filter(lambda d: d is not None),
                  "max_interval_seconds": durations},
    ),
    max_size=3,
)
transitions = st.lists(
    st.fixed_dictionaries({"target": names}, optional={"event": st.sampled_from(["done", "approved", "x"]),
                                                       "guard": conditions}),
    max_size=3,
)
catches = st.lists(st.fixed_dictionaries({"errors": errors, "target": names}), max_size=2)


def _task(name: str) -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {"name": st.just(name), "type": st.just("task"), "action": st.sampled_from(["svc.x", "arn:aws:lambda:x"]),
         "transitions": transitions},
        optional={
            "timeout_seconds": durations, "heartbeat_seconds": durations, "callback": st.booleans(),
            "retry": retries, "catch": catches,
            "side_effect": st.fixed_dictionaries({"description": st.just("effect")},
                                                 optional={"compensation": st.one_of(st.none(), names)}),
            "idempotency": st.fixed_dictionaries({}, optional={"key": st.just("$.id"), "natural": st.booleans()}),
            "errors": st.fixed_dictionaries({}, optional={"transient": st.lists(st.sampled_from(ERRORS), max_size=2),
                                                          "permanent": st.lists(st.sampled_from(ERRORS), max_size=2)}),
        },
    )


def _state(name: str, depth: int) -> st.SearchStrategy:
    simple = [
        _task(name),
        st.fixed_dictionaries({"name": st.just(name), "type": st.sampled_from(["succeed", "fail"])}),
        st.fixed_dictionaries(
            {"name": st.just(name), "type": st.just("choice"),
             "choices": st.lists(st.fixed_dictionaries({"condition": conditions, "target": names}), max_size=3)},
            optional={"default": names},
        ),
        st.fixed_dictionaries(
            {"name": st.just(name), "type": st.just("human_task"), "transitions": transitions},
            optional={"owner": st.just("team"), "deadline_seconds": durations, "catch": catches, "retry": retries,
                      "escalation": st.fixed_dictionaries({"after_seconds": st.integers(0, 10**5), "to": st.just("lead")})},
        ),
        st.one_of(
            st.fixed_dictionaries({"name": st.just(name), "type": st.just("wait"), "seconds": st.integers(0, 10**4),
                                   "transitions": transitions}),
            st.fixed_dictionaries({"name": st.just(name), "type": st.just("wait"),
                                   "events": st.lists(st.sampled_from(["done", "x"]), max_size=2),
                                   "transitions": transitions},
                                  optional={"timeout_seconds": durations, "catch": catches}),
        ),
    ]
    if depth < 2:
        simple.append(
            st.fixed_dictionaries(
                {"name": st.just(name), "type": st.just("parallel"), "transitions": transitions,
                 "branches": st.lists(_scope(depth + 1), max_size=2)},
                optional={"retry": retries, "catch": catches},
            )
        )
    return st.one_of(simple)


def _states(depth: int) -> st.SearchStrategy:
    return st.lists(names, max_size=5).flatmap(lambda ns: st.tuples(*[_state(n, depth) for n in ns]).map(list))


def _scope(depth: int) -> st.SearchStrategy:
    return st.fixed_dictionaries({"name": names, "start_at": names, "states": _states(depth)})


designs = st.fixed_dictionaries(
    {"name": st.just("fuzz"), "start_at": names, "states": _states(0)},
    optional={
        "timeout_seconds": durations,
        "sagas": st.lists(st.fixed_dictionaries({"name": names, "steps": st.lists(names, min_size=1, max_size=3)},
                                                optional={"pivot": names}), max_size=2),
    },
)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(design=designs)
def test_every_tool_answers_any_design(design):
    loaded = load_design(design).design
    report = validate_workflow_design(design, limit=None)
    assert report.valid == (report.errors == 0)
    assert all(f.location == "" or f.location.startswith("/") for f in report.findings)
    sim = simulate_workflow_failures(design, limit=None)
    assert sim.summary.consistent + sim.summary.inconsistent == sim.summary.scenarios
    json.loads(sim.model_dump_json())  # every number is JSON (no infinity)
    for kind in ("state", "saga"):
        text = render_workflow_diagram(design, kind=kind).mermaid
        assert all('"' not in line.split('"', 2)[-1] for line in text.splitlines() if line.strip().startswith("state"))
    asl = export_workflow_asl(design)
    json.dumps(asl.definition)
    assert asl.statelint is not None
    json.dumps(export_workflow_xstate(design).machine)
    assert load_design(loaded.to_yaml()).design == loaded  # and the round trip holds for any design


@given(text=st.text(max_size=200))
def test_mermaid_text_is_one_safe_line(text):
    out = mermaid_text(text)
    assert "\n" not in out and '"' not in out and ";" not in out and "#" not in out and len(out) <= 120


@st.composite
def sagas(draw: st.DrawFn) -> tuple[dict, list[int], list[bool]]:
    """A linear saga s0..s(n-1); every step's catcher enters one chain that runs all compensations in the order
    `order` (a permutation); `keyed[i]` says whether step i has an idempotency key."""
    n = draw(st.integers(1, 5))
    order = draw(st.permutations(list(range(n))))
    keyed = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    steps = []
    for i in range(n):
        step = {
            "name": f"s{i}", "type": "task", "action": f"svc.s{i}", "timeout_seconds": draw(st.integers(1, 60)),
            "side_effect": {"description": f"effect {i}", "compensation": f"c{i}"},
            "retry": [{"errors": draw(st.sampled_from([["States.Timeout"], ["Busy"], ["States.ALL"]])),
                       "max_attempts": draw(st.integers(0, 3)), "interval_seconds": 1, "backoff_rate": 2}],
            "catch": [{"errors": ["States.ALL"], "target": f"c{order[0]}"}],
            "transitions": [{"target": f"s{i + 1}" if i + 1 < n else "done"}],
        }
        if keyed[i]:
            step["idempotency"] = {"key": "$.id"}
        steps.append(step)
    chain = [
        {"name": f"c{j}", "type": "task", "action": f"svc.undo{j}", "timeout_seconds": 30,
         "idempotency": {"natural": True},
         "retry": [{"errors": ["States.ALL"], "max_attempts": 3, "interval_seconds": 1, "backoff_rate": 2}],
         "transitions": [{"target": f"c{order[k + 1]}" if k + 1 < n else "failed"}]}
        for k, j in enumerate(order)
    ]
    design = {"name": "saga", "start_at": "s0", "states": steps + chain + [{"name": "done", "type": "succeed"},
                                                                          {"name": "failed", "type": "fail"}]}
    return design, order, keyed


@given(case=sagas())
def test_validator_and_simulator_agree_on_compensation_order(case):
    design, order, keyed = case
    in_reverse = order == sorted(order, reverse=True)
    rules = {f.rule for f in validate_workflow_design(design, limit=None).findings}
    assert ("compensation-order" in rules) == (not in_reverse)
    sim = simulate_workflow_failures(design, limit=None)
    # The last step timing out leaves every effect applied (its own possibly), so the chain undoes all of them.
    (last_timeout,) = [
        s for s in sim.scenarios if s.step == f"s{len(order) - 1}" and s.fault == "timeout" and s.then is None
    ]
    assert last_timeout.compensated == [f"s{j}" for j in order]
    assert last_timeout.compensation_order_ok == in_reverse
    if in_reverse and all(keyed):
        assert sim.summary.inconsistent == 0
    if "idempotent-retries" not in rules:  # the rule is conservative: without it, no duplicate is possible
        assert not any(s.duplicates for s in sim.scenarios)
