"""Generated compensation chains: the failure path of a saga written from its steps' compensation declarations.

For a saga with `compensation_chain: generated`, the steps up to its pivot (all of them without a pivot) that declare
`side_effect.compensation` (a map: its `compensation`) give the chain, in reverse order of the steps: the compensation
of the last such step goes to the one of the step before it, and so on; the first step's compensation goes to
`on_compensated` (default: a generated fail state `<saga>-compensated`, error `SagaCompensated`). Each step up to the
pivot that has no catch-all gets `catch: [States.ALL] -> ` the chain's entry for it: the compensation of the latest step
at or before it that declares one (its own included: a timed-out step may have applied its effect, and compensations are
idempotent, so undoing one that never happened is safe). Steps next to each other may share a compensation; one shared
across steps with other compensations between them is an input error (its state would need two next states). So the two
commonest saga bugs, undoing in the wrong order and a failure path that skips an undo, cannot be written. What the
design already says is kept; a compensation that already goes somewhere else than the chain needs is an input error, not
silently rewired.
"""

from __future__ import annotations

from typing import Any

from .load import DesignInputError, LoadProblem
from .model import CATCH_ALL, WorkflowDesign

CHAIN_END_ERROR = "SagaCompensated"


def expand_sagas(design: WorkflowDesign) -> WorkflowDesign:
    """The design with every generated compensation chain written out (the same object when there is none)."""
    if not any(s.compensation_chain == "generated" for s in design.sagas):
        return design
    data = design.to_dict()
    states: list[dict[str, Any]] = data["states"]
    by_name = {s["name"]: s for s in states}
    problems: list[LoadProblem] = []
    for index, saga in enumerate(design.sagas):
        if saga.compensation_chain != "generated":
            continue
        where = f"/sagas/{index}"
        missing = [s for s in saga.steps if s not in by_name]
        if missing:
            problems.append(LoadProblem(
                location=f"{where}/steps",
                message=f"a generated chain needs its steps in the workflow's own states (not in branches): "
                f"{', '.join(repr(m) for m in missing)}",
            ))
            continue
        upto = saga.steps[: saga.steps.index(saga.pivot) + 1] if saga.pivot in saga.steps else list(saga.steps)
        undo: dict[str, str] = {}
        for step in upto:
            declared = by_name[step]  # a map's own `compensation` undoes its committed items
            effect = declared if declared.get("type") == "map" else declared.get("side_effect") or {}
            comp = effect.get("compensation")
            if comp:
                undo[step] = comp
        if not undo:
            problems.append(LoadProblem(location=where, message="a generated chain needs steps that declare a "
                                        "side_effect.compensation before the pivot"))
            continue
        comps = list(undo.values())
        runs = [c for i, c in enumerate(comps) if i == 0 or c != comps[i - 1]]
        split = sorted({c for c in runs if runs.count(c) > 1})
        if split:  # one state has one next: a chain X -> Y -> X cannot be written, and deduplicating skips an undo
            problems.append(LoadProblem(
                location=f"{where}/steps",
                message=f"compensation {', '.join(repr(c) for c in split)} undoes steps that have other "
                "compensations between them; a chain passes each state once: give those steps their own compensation",
            ))
            continue
        end = saga.on_compensated or _fresh(f"{saga.name}-compensated", by_name)
        if end not in by_name:
            fail = {"name": end, "type": "fail", "error": CHAIN_END_ERROR,
                    "cause": f"saga {saga.name} failed and was compensated"}
            states.append(fail)
            by_name[end] = fail
        chain = list(dict.fromkeys(reversed(list(undo.values()))))
        for comp, nxt in zip(chain, [*chain[1:], end], strict=True):
            body = by_name.get(comp)
            if body is None:
                problems.append(LoadProblem(location=where, message=f"compensation '{comp}' is no state"))
                continue
            wanted = [{"target": nxt}]
            current = body.get("transitions")
            if current and [t.get("target") for t in current] != [nxt]:
                problems.append(LoadProblem(
                    location=f"{where}/compensation_chain",
                    message=f"compensation '{comp}' already goes to "
                    f"{', '.join(repr(t.get('target')) for t in current)}; the generated chain needs '{nxt}'",
                ))
                continue
            body["transitions"] = wanted
        latest: str | None = None
        for step in upto:
            latest = undo.get(step, latest)
            body = by_name[step]
            catches = body.setdefault("catch", [])
            if latest is None or any(CATCH_ALL in c.get("errors", []) for c in catches):
                if not catches:
                    body.pop("catch")
                continue
            catches.append({"errors": [CATCH_ALL], "target": latest})
    if problems:
        raise DesignInputError("the generated compensation chain cannot be written", problems)
    return WorkflowDesign.model_validate(data)


def _fresh(name: str, taken: dict[str, Any]) -> str:
    candidate, n = name, 2
    while candidate in taken and taken[candidate].get("error") != CHAIN_END_ERROR:
        candidate = f"{name}-{n}"
        n += 1
    return candidate
