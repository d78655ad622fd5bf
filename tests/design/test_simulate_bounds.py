"""The simulator's bounds on a design with many decisions (review of issue 19), measured by counting scenarios
and state entries, never by wall time: at most MAX_EXPLORED_PATHS fault-free paths, `max_total_steps` honoured
(first and second faults alike: a scenario starts only while the budget lasts), and the number of scenarios
grows with the design's size, not with its number of paths (2**n here)."""

from __future__ import annotations

from typing import Any

from orchestrator_kit.design import load_design
from orchestrator_kit.design.graph import DesignGraph
from orchestrator_kit.design.simulate import MAX_EXPLORED_PATHS, simulate

from .helpers import task


def many_choices(n: int) -> dict[str, Any]:
    """n choices in a row, each to a compensated step a_i (undone by u_i, which chains to u_{i-1}) or a plain b_i:
    2**n fault-free paths."""
    states: list[dict[str, Any]] = []
    for i in range(n):
        after = f"c{i + 1}" if i + 1 < n else "done"
        states += [
            {"name": f"c{i}", "type": "choice", "default": f"b{i}",
             "choices": [{"condition": {"variable": f"$.x{i}", "op": "eq", "value": 1}, "target": f"a{i}"}]},
            task(f"a{i}", after, side_effect={"description": f"effect {i}", "compensation": f"u{i}"},
                 catch=[{"errors": ["States.ALL"], "target": f"u{i}"}]),
            task(f"b{i}", after),
            task(f"u{i}", f"u{i - 1}" if i else "failed", idempotency={"natural": True}),
        ]
    states += [{"name": "done", "type": "succeed"}, {"name": "failed", "type": "fail", "error": "Failed"}]
    return {"name": "many", "start_at": "c0", "timeout_seconds": 3600, "states": states}


def _entries(run: Any) -> tuple[int, int]:
    lengths = [len(s.path) for s in run.scenarios]
    return sum(lengths), max(lengths, default=0)


def test_path_exploration_is_bounded_and_untested_steps_are_named():
    run = simulate(DesignGraph(load_design(many_choices(40)).design), max_total_steps=20_000)
    assert run.paths_explored == MAX_EXPLORED_PATHS  # 2**40 paths, 32 explored
    assert run.not_reached  # the a_i no explored path enters: "not tested", not silently passed
    total, longest = _entries(run)
    assert total <= 20_000 + longest and run.skipped > 0


def test_scenarios_grow_polynomially_with_the_number_of_choices():
    counts = {n: len(simulate(DesignGraph(load_design(many_choices(n)).design)).scenarios) for n in (4, 8)}
    # Each a_i has 3 faults plus second faults on the i+1 undo steps its failure runs: quadratic, not 2**n.
    assert counts[8] <= 4 * counts[4] + 64, counts


def test_a_tiny_budget_runs_no_scenario_beyond_it():
    run = simulate(DesignGraph(load_design(many_choices(10)).design), max_total_steps=50)
    assert run.scenarios == [] and run.skipped > 0
