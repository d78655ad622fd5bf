"""Benchmark: fault simulation of every step of a large saga, against validating the same design (same process).

The synthetic design is a linear saga of N side-effecting steps, each with its compensation, retry policy and
catcher, the compensations chained in reverse order, plus a parallel stage and a choice every 25 steps. Simulation
injects 3 faults per step (transient, permanent, timeout), so it runs 3N scenarios of up to 2N states each: its cost
grows as N^2, validation's about linearly. Printed: median seconds over runs and the ratio simulate / validate.

    python benchmarks/design.py [N ...]    (default: 50 200 800)
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from orchestrator_kit.design import load_design, simulate_workflow_failures, validate_workflow_design

RUNS = 3


def saga(n: int) -> dict[str, Any]:
    states: list[dict[str, Any]] = []
    for i in range(n):
        nxt = f"step{i + 1}" if i + 1 < n else "done"
        if i % 25 == 24:
            nxt = f"route{i}"
        states.append({
            "name": f"step{i}", "type": "task", "action": f"svc{i % 7}.call{i}", "timeout_seconds": 30,
            "side_effect": {"description": f"effect {i}", "compensation": f"undo{i}"},
            "idempotency": {"key": "$.id"}, "errors": {"transient": ["Busy"], "permanent": ["Refused"]},
            "retry": [{"errors": ["Busy", "States.Timeout"], "max_attempts": 2, "interval_seconds": 1,
                       "backoff_rate": 2}],
            "catch": [{"errors": ["States.ALL"], "target": f"undo{i}"}],
            "transitions": [{"target": nxt}], "metrics": [{"name": f"step{i}_total"}],
        })
        if i % 25 == 24:
            states.append({
                "name": f"route{i}", "type": "choice", "default": f"undo{i}",
                "choices": [{"condition": {"variable": "$.approved", "op": "eq", "value": True},
                             "target": f"checks{i}"}],
            })
            states.append({
                "name": f"checks{i}", "type": "parallel", "catch": [{"errors": ["States.ALL"], "target": f"undo{i}"}],
                "transitions": [{"target": f"step{i + 1}" if i + 1 < n else "done"}],
                "branches": [
                    {"name": f"b{i}{k}", "start_at": f"check{i}_{k}", "states": [
                        {"name": f"check{i}_{k}", "type": "task", "action": "qa.check", "timeout_seconds": 60,
                         "idempotency": {"natural": True}, "transitions": [{"target": f"ok{i}_{k}"}],
                         "metrics": [{"name": "checks"}]},
                        {"name": f"ok{i}_{k}", "type": "succeed"},
                    ]}
                    for k in range(2)
                ],
            })
    for i in range(n):
        states.append({
            "name": f"undo{i}", "type": "task", "action": f"svc{i % 7}.undo{i}", "timeout_seconds": 30,
            "idempotency": {"natural": True},
            "retry": [{"errors": ["States.ALL"], "max_attempts": 3, "interval_seconds": 1, "backoff_rate": 2}],
            "transitions": [{"target": f"undo{i - 1}" if i else "failed"}], "metrics": [{"name": f"undo{i}_total"}],
        })
    states += [{"name": "done", "type": "succeed"}, {"name": "failed", "type": "fail"}]
    return {"name": f"saga-{n}", "start_at": "step0", "timeout_seconds": 86400, "states": states}


def median_seconds(action: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(sizes: list[int]) -> None:
    print(f"{'steps':>6} {'states':>7} {'scenarios':>9} {'load s':>8} {'validate s':>10} {'simulate s':>10} "
          f"{'simulate/validate':>17} {'ms/scenario':>11}")
    for n in sizes:
        text = load_design(saga(n)).design.to_yaml()
        load_s, loaded = median_seconds(lambda text=text: load_design(text).design)
        validate_s, report = median_seconds(lambda loaded=loaded: validate_workflow_design(loaded, limit=None))
        simulate_s, sim = median_seconds(  # no step budget: every scenario runs
            lambda loaded=loaded: simulate_workflow_failures(
                loaded, limit=None, include_trace=False, max_total_steps=10**9
            )
        )
        assert report.valid, report.findings[:3]
        assert sim.summary.inconsistent == 0, "the synthetic saga is sound: every scenario must be consistent"
        per_scenario = 1000 * simulate_s / sim.summary.scenarios
        print(f"{n:>6} {report.states:>7} {sim.summary.scenarios:>9} {load_s:>8.3f} {validate_s:>10.3f} "
              f"{simulate_s:>10.3f} {simulate_s / validate_s:>17.1f} {per_scenario:>11.2f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [50, 200, 800])
