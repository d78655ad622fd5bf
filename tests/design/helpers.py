"""A small, clean design to mutate in tests, and shortcuts to run the validator and the simulator on dicts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from orchestrator_kit.design import load_design
from orchestrator_kit.design.graph import DesignGraph
from orchestrator_kit.design.simulate import Fault, run_scenario
from orchestrator_kit.design.validate import check

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "orchestrator_kit" / "design" / "examples"
VALID_EXAMPLES = ["deployment-pipeline", "document-approval", "order-fulfilment", "tenant-schema-migration"]
BROKEN_EXAMPLES = [f"{name}.broken" for name in VALID_EXAMPLES]


def retry(max_attempts: int | None = 2, errors: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"errors": errors or ["States.Timeout"], "max_attempts": max_attempts, "interval_seconds": 1,
            "backoff_rate": 2, **extra}


def task(name: str, target: str | None, **extra: Any) -> dict[str, Any]:
    """A task that passes every rule on its own: timeout, idempotency, a retry, a metric."""
    state: dict[str, Any] = {
        "name": name, "type": "task", "action": f"svc.{name}", "timeout_seconds": 30,
        "idempotency": {"key": "$.id"}, "retry": [retry()], "metrics": [{"name": f"{name}_total"}],
    }
    if target is not None:
        state["transitions"] = [{"target": target}]
    state.update(extra)
    return state


def base() -> dict[str, Any]:
    """charge (compensated by refund) -> ship -> done; any failure -> refund -> failed. No finding at all."""
    return copy.deepcopy(
        {
            "name": "mini",
            "start_at": "charge",
            "timeout_seconds": 3600,
            "states": [
                task("charge", "ship", side_effect={"description": "card charged", "compensation": "refund"},
                     catch=[{"errors": ["States.ALL"], "target": "refund"}]),
                task("ship", "done", catch=[{"errors": ["States.ALL"], "target": "refund"}]),
                task("refund", "failed"),
                {"name": "done", "type": "succeed"},
                {"name": "failed", "type": "fail", "error": "Failed"},
            ],
        }
    )


def state(design: dict[str, Any], name: str) -> dict[str, Any]:
    found = [s for s in design["states"] if s["name"] == name]
    assert found, name
    return found[0]


def findings(design: dict[str, Any] | str):
    return check(load_design(design))


def rules_of(design: dict[str, Any] | str) -> set[str]:
    return {f.rule for f in findings(design)}


def scenario(design: dict[str, Any] | str, step: str | None = None, kind: str = "permanent", error: str | None = None,
             decisions: dict[str, str] | None = None):
    graph = DesignGraph(load_design(design).design)
    default = {"timeout": "States.Timeout"}.get(kind, "States.TaskFailed")
    fault = Fault(step, kind, error or default) if step else None  # type: ignore[arg-type]
    return run_scenario(graph, fault, decisions)


def example_text(name: str) -> str:
    return (EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8")
