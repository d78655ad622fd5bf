"""The simulator's second round, against expectations worked out by hand: concurrent parallel branches (commits in
different branches are not ordered), missed heartbeats as their own error, status checks that settle an unknown
outcome, loops capped by a visit count, loops that only the workflow timeout ends, event waits that time out,
second faults in recovery steps, and steps reached only on another decision's path."""

from __future__ import annotations

from typing import Any

from orchestrator_kit.design import simulate_workflow_failures

from .helpers import base, retry, scenario, state, task


def _undo(name: str, target: str) -> dict[str, Any]:
    return task(name, target, idempotency={"natural": True}, retry=[retry(errors=["States.ALL"])])


def two_branches() -> dict[str, Any]:
    """charge -> checks (branch a: a1 undone by undo_a; branch b: b1 undone by undo_b) -> ship -> done; ship fails
    -> undo_a -> undo_b -> refund -> failed (a1 and b1 are in different branches: either undo order is right)."""
    design = base()
    state(design, "charge")["transitions"] = [{"target": "checks"}]
    state(design, "ship")["catch"] = [{"errors": ["States.ALL"], "target": "undo_a"}]
    design["states"] += [
        {"name": "checks", "type": "parallel", "transitions": [{"target": "ship"}],
         "catch": [{"errors": ["States.ALL"], "target": "undo_a"}],
         "branches": [
             {"name": "a", "start_at": "a1", "states": [
                 task("a1", "a_ok", side_effect={"description": "row a", "compensation": "undo_a"}),
                 {"name": "a_ok", "type": "succeed"}]},
             {"name": "b", "start_at": "b1", "states": [
                 task("b1", "b_ok", side_effect={"description": "row b", "compensation": "undo_b"}),
                 {"name": "b_ok", "type": "succeed"}]}]},
        _undo("undo_a", "undo_b"), _undo("undo_b", "refund"),
    ]
    return design


def test_commits_in_different_branches_are_not_ordered():
    s = scenario(two_branches(), "ship", "permanent")
    # charge commits, then a1 and b1 concurrently; undo_a before undo_b is as right as the other way round.
    assert s.committed == ["charge", "a1", "b1"]
    assert s.compensated == ["a1", "b1", "charge"]
    assert s.compensation_order_ok and s.consistent


def test_order_within_one_branch_still_counts():
    design = two_branches()
    branch_a = design["states"][5]["branches"][0]
    branch_a["states"][0]["transitions"] = [{"target": "a2"}]
    branch_a["states"].insert(1, task("a2", "a_ok", side_effect={"description": "row a2", "compensation": "undo_a2"}))
    # The catch undoes a1 first although a2 committed after it in the same branch.
    state(design, "undo_b")["transitions"] = [{"target": "undo_a2"}]
    design["states"].append(_undo("undo_a2", "refund"))
    s = scenario(design, "ship", "permanent")
    assert s.compensated == ["a1", "b1", "a2", "charge"]
    assert not s.compensation_order_ok and not s.consistent


def test_a_missed_heartbeat_is_its_own_error():
    design = base()
    state(design, "ship").update({"heartbeat_seconds": 10, "timeout_seconds": 600,
                                  "retry": [retry(2, errors=["States.HeartbeatTimeout"])]})
    s = scenario(design, "ship", "timeout", error="States.HeartbeatTimeout")
    # 3 attempts, each noticed at the 10 s heartbeat; delays 1 + 2; then States.ALL catches it -> refund.
    assert s.error == "States.HeartbeatTimeout" and s.total_retries == 2 and s.elapsed_seconds == 3 * 10 + 1 + 2
    assert s.path[-2:] == ["refund", "failed"]
    report = simulate_workflow_failures(design, steps=["ship"], faults=["timeout"], limit=None)
    assert [x.error for x in report.scenarios] == ["States.HeartbeatTimeout"]


def test_states_task_failed_does_not_retry_a_missed_heartbeat():
    design = base()
    state(design, "ship").update({"heartbeat_seconds": 10, "retry": [retry(2, errors=["States.TaskFailed"])]})
    s = scenario(design, "ship", "timeout", error="States.HeartbeatTimeout")
    assert s.total_retries == 0 and s.path[-2:] == ["refund", "failed"]


def settled_charge(settles: bool) -> dict[str, Any]:
    """charge (not idempotent) times out -> check (a status check) -> again: charge once more while it was entered
    fewer than 2 times, else refund -> failed."""
    design = base()
    state(design, "charge").update({"idempotency": None, "retry": [],
                                    "catch": [{"errors": ["States.Timeout"], "target": "check"},
                                              {"errors": ["States.ALL"], "target": "refund"}]})
    check = task("check", "again", idempotency={"natural": True})
    if settles:
        check["settles"] = "charge"
    design["states"] += [check, {"name": "again", "type": "choice", "default": "refund", "choices": [
        {"condition": {"variable": "$$.visits.charge", "op": "lt", "value": 2}, "target": "charge"}]}]
    return design


def test_a_status_check_settles_the_unknown_outcome():
    s = scenario(settled_charge(True), "charge", "timeout")
    # The loop is capped by the visit count: charge twice, then refund.
    assert s.path == ["charge", "check", "again", "charge", "check", "again", "refund", "failed"]
    assert s.duplicates == [] and s.compensated == ["charge"] and s.consistent


def test_without_the_status_check_the_retry_may_charge_twice():
    s = scenario(settled_charge(False), "charge", "timeout")
    assert s.path.count("charge") == 2
    assert s.duplicates == ["charge"] and not s.consistent


def test_a_loop_that_only_the_workflow_timeout_ends_is_inconsistent():
    design = base()
    state(design, "charge")["transitions"] = [{"target": "pause"}]
    design["states"] += [
        {"name": "pause", "type": "wait", "seconds": 60, "transitions": [{"target": "poll"}]},
        task("poll", "ready?"),
        {"name": "ready?", "type": "choice", "default": "pause",
         "choices": [{"condition": {"variable": "$.ready", "op": "eq", "value": True}, "target": "ship"}]},
    ]
    s = scenario(design, decisions={"ready?": "pause"})
    assert s.status == "timed_out" and s.elapsed_seconds == 3600 and s.path.count("pause") == 61
    assert not s.consistent and any("ends only at the workflow timeout" in r for r in s.reasons)


def test_an_event_wait_times_out_into_its_catch():
    design = base()
    state(design, "ship")["transitions"] = [{"target": "hold"}]
    design["states"].append({"name": "hold", "type": "wait", "events": ["delivered"], "timeout_seconds": 600,
                             "transitions": [{"event": "delivered", "target": "done"}],
                             "catch": [{"errors": ["States.Timeout"], "target": "refund"}]})
    report = simulate_workflow_failures(design, steps=["hold"], limit=None)
    (s,) = report.scenarios
    assert (s.fault, s.error, s.path[-3:]) == ("timeout", "States.Timeout", ["hold", "refund", "failed"])
    assert s.elapsed_seconds == 600 and s.compensated == ["charge"] and s.consistent


def test_a_failing_compensation_is_a_second_fault():
    report = simulate_workflow_failures(base(), limit=None)
    seconds = [s for s in report.scenarios if s.then is not None]
    # refund is the only recovery step; every first fault of charge or ship ends there (the retry policy only
    # retries timeouts; States.ALL catches the rest): 2 steps x 3 first kinds x 2 second kinds.
    assert {(s.step, s.fault, s.then.step, s.then.fault) for s in seconds} == {
        (step, first, "refund", second)
        for step in ("charge", "ship") for first in ("transient", "permanent", "timeout")
        for second in ("permanent", "timeout")
    }
    assert report.summary.second_faults == len(seconds) == 12
    ship_then_refund = next(s for s in seconds if (s.step, s.fault, s.then.fault) == ("ship", "permanent", "permanent"))
    assert not ship_then_refund.consistent and ship_then_refund.uncompensated == ["charge"]
    assert report.summary.inconsistent == 0  # the single faults stay the gate
    # Inconsistent: every ship fault (charge applied), and charge's timeout (maybe applied); charge failing
    # transiently or permanently applied nothing, so a failed refund leaves nothing behind.
    assert report.summary.second_faults_inconsistent == 6 + 2


def test_a_step_on_another_decisions_path_is_tested():
    design = base()
    state(design, "charge")["transitions"] = [{"target": "route"}]
    design["states"] += [
        {"name": "route", "type": "choice", "default": "ship",
         "choices": [{"condition": {"variable": "$.manual", "op": "eq", "value": True}, "target": "by_hand"}]},
        {"name": "by_hand", "type": "human_task", "owner": "ops", "deadline_seconds": 600,
         "escalation": {"after_seconds": 60, "to": "lead"}, "transitions": [{"event": "done", "target": "ship"}],
         "catch": [{"errors": ["States.ALL"], "target": "refund"}]},
    ]
    report = simulate_workflow_failures(design, limit=None)
    assert report.summary.paths_explored == 2 and "by_hand" not in report.summary.not_reached
    by_hand = [s for s in report.scenarios if s.step == "by_hand" and s.then is None]
    assert by_hand and all(s.decisions == {"route": "by_hand"} for s in by_hand)
    assert all(s.path[-2:] == ["refund", "failed"] and s.consistent for s in by_hand)


def test_a_partial_effect_that_fails_counts_as_possibly_applied():
    design = base()
    state(design, "ship").update({"side_effect": {"description": "refs pushed", "partial": True,
                                                   "compensation": "unpush"},
                                  "catch": [{"errors": ["States.ALL"], "target": "unpush"}]})
    design["states"].append(_undo("unpush", "refund"))
    s = scenario(design, "ship", "permanent")
    assert s.committed == ["charge", "ship"] and s.uncertain == ["ship"]
    assert s.compensated == ["ship", "charge"] and s.consistent


def fix_forward_release(fix: bool) -> dict[str, Any]:
    """charge -> publish (irreversible, the pivot) -> announce -> done; announce fails -> repair (a person fixes
    forward, or not) -> failed."""
    design = base()
    design["states"] = [
        task("charge", "publish"),
        task("publish", "announce", side_effect={"description": "package published", "irreversible": True}),
        task("announce", "done", catch=[{"errors": ["States.ALL"], "target": "repair"}]),
        {"name": "repair", "type": "human_task", "owner": "release", "deadline_seconds": 600, "fix_forward": fix,
         "escalation": {"after_seconds": 60, "to": "lead"}, "transitions": [{"event": "done", "target": "failed"}]},
        {"name": "done", "type": "succeed"},
        {"name": "failed", "type": "fail", "error": "Failed"},
    ]
    design["sagas"] = [{"name": "release", "steps": ["charge", "publish", "announce"], "pivot": "publish"}]
    return design


def test_past_the_point_of_no_return_a_fix_forward_path_is_consistent():
    fixed = scenario(fix_forward_release(True), "announce", "permanent")
    assert fixed.uncompensated == ["publish"] and fixed.fixed_forward and fixed.consistent
    left = scenario(fix_forward_release(False), "announce", "permanent")
    assert not left.fixed_forward and not left.consistent
