"""Generated compensation chains: the failure path written from the compensation declarations, checked against
what a careful engineer writes by hand, then by the validator and the simulator."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator_kit.design import DesignInputError, load_design, simulate_workflow_failures, validate_workflow_design

from .helpers import task


def _undo(name: str) -> dict[str, Any]:
    return task(name, None, idempotency={"natural": True})


def saga(**extra: Any) -> dict[str, Any]:
    """reserve (undo release) -> charge (undo refund) -> ship (the pivot) -> notify -> done; no catch, no chain."""
    return {
        "name": "order", "start_at": "reserve", "timeout_seconds": 3600,
        "states": [
            task("reserve", "charge", side_effect={"description": "stock held", "compensation": "release"}),
            task("charge", "ship", side_effect={"description": "card charged", "compensation": "refund"}),
            task("ship", "notify", side_effect={"description": "parcel booked"}),
            task("notify", "done"),
            _undo("release"), _undo("refund"),
            {"name": "done", "type": "succeed"},
        ],
        "sagas": [{"name": "order", "steps": ["reserve", "charge", "ship", "notify"], "pivot": "ship",
                   "compensation_chain": "generated", **extra}],
    }


def by_name(design: Any) -> dict[str, Any]:
    return {s.name: s for s in design.states}


def test_the_chain_is_what_one_writes_by_hand():
    states = by_name(load_design(saga()).design)
    # refund -> release -> the generated end; every step up to the pivot catches into the chain at its own undo.
    assert [t.target for t in states["refund"].transitions] == ["release"]
    assert [t.target for t in states["release"].transitions] == ["order-compensated"]
    assert states["order-compensated"].type == "fail" and states["order-compensated"].error == "SagaCompensated"
    assert [(c.errors, c.target) for c in states["reserve"].catch] == [(["States.ALL"], "release")]
    assert [(c.errors, c.target) for c in states["charge"].catch] == [(["States.ALL"], "refund")]
    assert [(c.errors, c.target) for c in states["ship"].catch] == [(["States.ALL"], "refund")]
    assert states["notify"].catch == []  # after the pivot: retried forward, never compensated


def test_the_generated_design_is_valid_and_every_fault_before_the_pivot_is_undone():
    report = validate_workflow_design(saga(), min_severity="error")
    assert report.valid, report.findings
    sim = simulate_workflow_failures(saga(), faults=["permanent", "timeout"], limit=None)
    singles = [s for s in sim.scenarios if s.then is None]
    # What the chain guarantees: every fault of a step before the pivot ends compensated, in order. (At and after
    # the pivot the simulator still reports what a chain cannot fix: a timed-out booking may exist, and notify
    # failing for good leaves the order half done; those need a reconciliation or forward retries.)
    assert all(s.consistent for s in singles if s.step in ("reserve", "charge"))
    assert {(s.step, s.fault) for s in singles if not s.consistent} == {
        ("ship", "timeout"), ("notify", "permanent"), ("notify", "timeout")}
    charge = next(s for s in sim.scenarios if s.step == "charge" and s.fault == "timeout" and s.then is None)
    assert charge.compensated == ["charge", "reserve"] and charge.compensation_order_ok


def test_a_catch_the_design_wrote_is_kept_and_on_compensated_is_used():
    design = saga(on_compensated="cancelled")
    design["states"].append({"name": "cancelled", "type": "fail", "error": "Cancelled"})
    design["states"][0]["catch"] = [{"errors": ["OutOfStock"], "target": "cancelled"},
                                    {"errors": ["States.ALL"], "target": "cancelled"}]
    states = by_name(load_design(design).design)
    assert [c.target for c in states["reserve"].catch] == ["cancelled", "cancelled"]
    assert [t.target for t in states["release"].transitions] == ["cancelled"]
    assert "order-compensated" not in states


def test_loading_twice_changes_nothing():
    once = load_design(saga()).design
    assert load_design(once.to_yaml()).design == once


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["states"][5].update({"transitions": [{"target": "done"}]}),
         "compensation 'refund' already goes to 'done'; the generated chain needs 'release'"),
        (lambda d: d["sagas"][0].update({"steps": ["reserve", "nope"], "pivot": None}), "'nope'"),
        (lambda d: [s.pop("side_effect", None) for s in d["states"]], "needs steps that declare"),
    ],
)
def test_a_chain_that_cannot_be_written_is_an_input_error(mutate, message):
    design = saga()
    mutate(design)
    with pytest.raises(DesignInputError) as info:
        load_design(design)
    assert message in str(info.value)
