"""Fault simulation against expectations derived by hand from the designs (retry counts, delays, compensation order).

Retry delays follow ASL: delay before retry i = interval * backoff^(i-1), capped by max_interval.
"""

from __future__ import annotations

import pytest

from orchestrator_kit import InputError
from orchestrator_kit.design import simulate_workflow_failures

from .helpers import base, example_text, retry, scenario, state, task

ORDER = example_text("order-fulfilment")


def test_order_charge_timeout_refunds_then_releases():
    # charge_payment: 3 attempts time out at 30 s each; retries 1 and 2 wait 2 s and 4 s (interval 2, backoff 2);
    # States.Timeout is then caught by States.ALL -> refund_payment -> release_inventory -> order_failed.
    s = scenario(ORDER, "charge_payment", "timeout")
    assert s.path == ["validate_order", "reserve_inventory", "charge_payment", "refund_payment",
                      "release_inventory", "order_failed"]
    assert [(r.step, r.error, r.retries, r.delay_seconds) for r in s.retries] == [
        ("charge_payment", "States.Timeout", 2, 6.0)
    ]
    assert s.elapsed_seconds == 3 * 30 + 2 + 4
    assert s.committed == ["reserve_inventory", "charge_payment"]
    assert s.uncertain == ["charge_payment"]
    assert s.compensations == ["refund_payment", "release_inventory"]
    assert s.compensated == ["charge_payment", "reserve_inventory"]  # reverse order of commit
    assert (s.status, s.end_state, s.consistent, s.duplicates) == ("failed", "order_failed", True, [])


def test_order_declined_payment_only_releases_stock():
    s = scenario(ORDER, "charge_payment", "permanent", "PaymentDeclined")
    assert s.total_retries == 0  # PaymentDeclined matches no retry policy
    assert s.path[-2:] == ["release_inventory", "order_failed"]
    assert s.compensations == ["release_inventory"] and s.compensated == ["reserve_inventory"]
    assert s.consistent


def test_order_transient_gateway_error_is_retried_once():
    s = scenario(ORDER, "charge_payment", "transient", "PaymentGatewayUnavailable")
    assert s.total_retries == 1 and s.retries[0].delay_seconds == 2
    assert s.status == "succeeded" and s.end_state == "order_completed" and s.compensations == []


def test_order_shipment_timeout_after_the_pivot_goes_to_a_person():
    # 6 attempts x 60 s, delays 5, 10, 20, 40, then 80 capped at 60: 360 + 135 = 495 s.
    s = scenario(ORDER, "create_shipment", "timeout")
    assert s.total_retries == 5 and s.elapsed_seconds == 495
    assert s.path[3:] == ["create_shipment", "manual_fulfilment", "send_confirmation", "order_completed"]
    assert s.status == "succeeded" and s.consistent


def test_order_out_of_stock_runs_a_release_with_nothing_to_undo():
    s = scenario(ORDER, "reserve_inventory", "permanent", "OutOfStock")
    assert s.compensations == ["release_inventory"] and s.compensated == []
    assert "release_inventory: nothing to undo (reserve_inventory not applied)" in s.trace
    assert s.consistent


def test_order_summary_over_all_faults():
    report = simulate_workflow_failures(ORDER, limit=None)
    # 5 steps on the fault-free path x (1 transient + 1 permanent + 1 timeout), each with one declared error or none.
    assert report.summary.scenarios == 15 and report.summary.consistent == 15
    # Compensations are recovery steps, failed as second faults; manual_fulfilment is reached only after a fault.
    assert report.summary.not_reached == ["manual_fulfilment"]
    assert report.happy_path.path == ["validate_order", "reserve_inventory", "charge_payment", "create_shipment",
                                      "send_confirmation", "order_completed"]
    assert "reverse order" in report.summary.formula and report.summary.assumptions


def test_broken_order_is_caught_by_the_simulator_too():
    s = scenario(example_text("order-fulfilment.broken"), "charge_payment", "timeout")
    # retry 0 lists States.ALL, so the timeout is retried twice; no idempotency key: three possible charges.
    assert s.total_retries == 2 and s.duplicates == ["charge_payment"]
    assert s.compensations == ["release_inventory", "refund_payment"]
    assert s.compensation_order_ok is False
    assert s.uncompensated == ["validate_order"]
    assert not s.consistent and len(s.reasons) == 3


def test_a_timed_out_step_must_compensate_itself():
    design = base()
    s = scenario(design, "charge", "timeout")
    assert s.compensated == ["charge"] and s.consistent  # charge's catcher runs refund
    state(design, "charge")["catch"] = [{"errors": ["States.ALL"], "target": "failed"}]
    s = scenario(design, "charge", "timeout")
    assert s.uncompensated == ["charge"] and not s.consistent


def test_transient_fault_without_a_matching_retry_compensates():
    s = scenario(base(), "ship", "transient")  # ship retries States.Timeout only
    assert s.total_retries == 0
    assert s.path == ["charge", "ship", "refund", "failed"] and s.compensated == ["charge"] and s.consistent


def test_uncaught_error_leaves_effects_applied():
    design = base()
    state(design, "ship").pop("catch")
    s = scenario(design, "ship", "permanent")
    assert (s.status, s.uncaught_error, s.end_state) == ("failed", "States.TaskFailed", None)
    assert s.uncompensated == ["charge"] and not s.consistent


def test_heartbeat_notices_a_dead_worker_first():
    design = base()
    state(design, "ship").update(callback=True, heartbeat_seconds=10)
    s = scenario(design, "ship", "timeout")
    assert s.elapsed_seconds == 3 * 10 + 1 + 2  # three attempts stopped by the heartbeat, delays 1 and 2


@pytest.mark.parametrize(("workflow_timeout", "status", "elapsed"), [(3600, "timed_out", 3600), (None, "stuck", 0)])
def test_a_step_without_timeout_hangs(workflow_timeout, status, elapsed):
    design = base()
    state(design, "ship").pop("timeout_seconds")
    design["timeout_seconds"] = workflow_timeout
    s = scenario(design, "ship", "timeout")
    assert (s.status, s.elapsed_seconds) == (status, elapsed)
    assert s.uncompensated == ["charge"] and not s.consistent


@pytest.mark.parametrize(("workflow_timeout", "status"), [(3600, "timed_out"), (None, "loop")])
def test_a_retry_loop_without_exit_never_ends(workflow_timeout, status):
    design = base()
    state(design, "ship")["catch"] = [{"errors": ["States.ALL"], "target": "pause"}]
    design["states"].append({"name": "pause", "type": "wait", "seconds": 60, "transitions": [{"target": "ship"}]})
    design["timeout_seconds"] = workflow_timeout
    s = scenario(design, "ship", "permanent")
    assert s.status == status and not s.consistent
    if status == "timed_out":
        # 60 waits of 60 s fill the hour exactly; the timeout passes during the 61st.
        assert s.elapsed_seconds == 3600 and s.path.count("pause") == 61


def test_unbounded_retries_are_stuck():
    design = base()
    design.pop("timeout_seconds")
    state(design, "ship")["retry"] = [retry(None, ["States.ALL"], max_interval_seconds=1)]
    s = scenario(design, "ship", "permanent")
    assert s.status == "stuck" and "without limit" in s.reasons[0]


def _parallel_design(idempotent: bool) -> dict:
    write = task("write", "a_ok", side_effect={"description": "row written"}, retry=[])
    if not idempotent:
        write.pop("idempotency")
    return {
        "name": "fanout", "start_at": "checks", "timeout_seconds": 3600,
        "states": [
            {"name": "checks", "type": "parallel", "retry": [retry(1, ["States.ALL"])],
             "catch": [{"errors": ["States.ALL"], "target": "failed"}], "transitions": [{"target": "done"}],
             "branches": [
                 {"name": "a", "start_at": "write", "states": [write, {"name": "a_ok", "type": "succeed"}]},
                 {"name": "b", "start_at": "flaky",
                  "states": [task("flaky", "b_ok", retry=[]), {"name": "b_ok", "type": "succeed"}]},
             ]},
            {"name": "done", "type": "succeed"},
            {"name": "failed", "type": "fail"},
        ],
    }


@pytest.mark.parametrize("idempotent", [False, True])
def test_retrying_a_parallel_state_repeats_every_branch(idempotent):
    s = scenario(_parallel_design(idempotent), "flaky", "transient")
    # Branch b fails once (no retry of its own, so it never reaches b_ok); the parallel state retries once and
    # every branch runs again.
    assert s.path == ["checks", "write", "a_ok", "flaky", "write", "a_ok", "flaky", "b_ok", "done"]
    assert [(r.step, r.retries, r.delay_seconds) for r in s.retries] == [("checks", 1, 1.0)]
    assert s.status == "succeeded"
    assert s.duplicates == ([] if idempotent else ["write"])
    assert s.consistent is idempotent


def test_decisions_choose_a_branch():
    design = example_text("deployment-pipeline")
    s = scenario(design, decisions={"canary_healthy": "rollback_canary"})
    assert s.path[-3:] == ["canary_healthy", "rollback_canary", "deployment_failed"]
    assert s.compensated == ["deploy_canary"] and s.consistent
    assert s.elapsed_seconds == 600  # the 10 minute bake


def test_human_task_deadline_escalates_first():
    s = scenario(example_text("deployment-pipeline"), "approval", "timeout")
    assert "approval: escalated to engineering-manager after 14400s (attempt 1)" in s.trace
    assert s.elapsed_seconds == 86400 and s.end_state == "deployment_rejected"


def test_one_scenario_per_declared_error():
    design = base()
    state(design, "ship")["errors"] = {"transient": ["Busy", "Throttled"], "permanent": ["Refused"]}
    report = simulate_workflow_failures(design, steps=["ship"], limit=None)
    assert [(s.fault, s.error) for s in report.scenarios] == [
        ("transient", "Busy"), ("transient", "Throttled"), ("permanent", "Refused"), ("timeout", "States.Timeout")
    ]


def test_filters_paging_and_trace_option():
    report = simulate_workflow_failures(ORDER, faults=["timeout"], limit=2, include_trace=False)
    total = report.total_scenarios
    assert report.summary.scenarios == 5 and total == 5 + report.summary.second_faults
    assert len(report.scenarios) == 2 and report.next_cursor == 2
    assert all(s.fault == "timeout" and s.trace == [] for s in report.scenarios)
    last = simulate_workflow_failures(ORDER, faults=["timeout"], cursor=total - 1, limit=2)
    assert len(last.scenarios) == 1 and last.next_cursor is None
    broken = simulate_workflow_failures(example_text("order-fulfilment.broken"), only_inconsistent=True, limit=None)
    assert broken.scenarios and not any(s.consistent for s in broken.scenarios)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": ["nope"]}, "no state named 'nope'"),
        ({"decisions": {"ghost": "x"}}, "no state named 'ghost'"),
        ({"steps": ["order_completed"]}, "only tasks, human tasks and waits for events can fail"),
        ({"limit": 0}, "limit must be 1 or more"),
        ({"cursor": -1}, "cursor must be 0 or more"),
    ],
)
def test_bad_options_are_input_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        simulate_workflow_failures(ORDER, **kwargs)


def test_a_decision_to_an_unreachable_target_is_reported():
    s = scenario(base(), decisions={"charge": "done"})
    assert s.status == "broken" and "cannot go to" in s.reasons[0]


def test_a_budget_bounds_the_work():
    # The fault-free run enters 6 states; the first scenario (validate_order, transient) enters 6 more, which
    # spends the budget of 10: the other 14 scenarios are counted as skipped, not run.
    report = simulate_workflow_failures(ORDER, max_total_steps=10, limit=None)
    assert report.summary.scenarios == 1 and report.summary.skipped == 14
    assert (report.scenarios[0].step, report.scenarios[0].fault) == ("validate_order", "transient")
    with pytest.raises(InputError, match="max_total_steps must be 1 or more"):
        simulate_workflow_failures(ORDER, max_total_steps=0)


def test_a_saga_retried_from_the_start_keeps_reverse_order():
    # charge commits, ship fails, refund undoes charge, then the whole saga starts again (a new sequence of
    # commits): charge commits again and, on the second failure, is undone again. Undoing in reverse order each
    # time is consistent, although the second commit has a higher number than the first undo.
    design = base()
    state(design, "refund")["transitions"] = [{"target": "again"}]
    design["states"].append({"name": "again", "type": "choice", "default": "failed", "choices": [
        {"condition": {"variable": "$.attempts", "op": "lt", "value": 2}, "target": "charge"}]})
    s = scenario(design, "ship", "permanent", decisions={"again": "charge"})
    assert s.status == "loop"  # ship fails permanently, and the decision sends it round forever
    assert s.compensation_order_ok and s.duplicates == []
