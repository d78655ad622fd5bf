"""Property (review of issue 19): ASL export -> import -> export gives the same ASL for every design the validator
passes; for any design the loader accepts, the export imports (a dead end's `End: true` comes back as a
transition to a generated succeed state, so invalid designs need not be a fixpoint). Uses the fuzz test's design
strategy and the derandomized `ci` profile.

Found: a transition whose guard always holds ({all: []}) was dropped on import, as if it were the filler rule the
export writes to the default."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings

from orchestrator_kit.design import DesignInputError, export_workflow_asl, load_design, validate_workflow_design
from orchestrator_kit.design.asl_import import import_asl

from .test_fuzz import designs


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(design=designs)
def test_asl_export_import_export_is_a_fixpoint(design):
    try:
        load_design(design)
    except DesignInputError:
        assume(False)
    first = export_workflow_asl(design, lint=False).definition
    second = export_workflow_asl(import_asl(first).yaml, lint=False).definition
    if validate_workflow_design(design).valid:
        assert second == first


def test_a_transition_whose_guard_always_holds_survives_the_round_trip():
    design = {"name": "loop", "start_at": "a", "states": [
        {"name": "a", "type": "task", "action": "svc.x", "transitions": [{"target": "a", "guard": {"all": []}}]}]}
    first = export_workflow_asl(design, lint=False).definition
    imported = load_design(import_asl(first).yaml).design
    assert [(t.target, t.guard is not None) for t in imported.states[0].transitions] == [("a", True)]
    assert export_workflow_asl(imported.to_yaml(), lint=False).definition == first
