"""The XState export run in XState itself (npm `xstate`, installed by .ci/setup.d/xstate.sh): every machine loads,
the fault-free run ends in a final state, and a failing task ends up where the design's catch says, parallel catches
and dotted state names included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from orchestrator_kit.design import export_workflow_xstate, load_design

from ..conftest import require_tool
from .helpers import VALID_EXAMPLES, base, example_text, state, task

HARNESS = Path(__file__).with_name("xstate_harness.mjs")
pytestmark = pytest.mark.external_tool("xstate")


def _xstate_dir() -> str:
    found = os.environ.get("XSTATE_DIR")
    node = shutil.which("node")
    ok = found and node and (Path(found) / "node_modules" / "xstate" / "package.json").exists()
    return require_tool("xstate", found if ok else None)


def run(machine: dict[str, Any], tmp_path: Path, fail: str | None = None, error: str = "Boom",
        **more: Any) -> dict[str, Any]:
    directory = _xstate_dir()
    spec = tmp_path / "input.json"
    spec.write_text(json.dumps({"machine": machine, "fail": fail, "error": error, **more}))
    proc = subprocess.run(["node", str(HARNESS), str(spec)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "XSTATE_DIR": directory})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _flat(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    found: set[str] = set()
    for key, sub in value.items():
        found |= {key} | _flat(sub)
    return found


def visited(result: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for value in result["visited"]:
        names |= _flat(value)
    return names


def branch_saga() -> dict[str, Any]:
    """charge -> checks (parallel: 'db.write' compensated by undo_db; 'mail.send' whose fail state fails the branch)
    -> ship; the parallel's catch -> undo_db -> refund -> failed."""
    design = base()
    state(design, "charge")["transitions"] = [{"target": "checks"}]
    design["states"] += [
        {"name": "checks", "type": "parallel", "transitions": [{"target": "ship"}],
         "catch": [{"errors": ["States.ALL"], "target": "undo_db"}],
         "branches": [
             {"name": "db", "start_at": "db.write", "states": [
                 task("db.write", "db.ok", side_effect={"description": "row", "compensation": "undo_db"}),
                 {"name": "db.ok", "type": "succeed"}]},
             {"name": "mail", "start_at": "mail.send", "states": [
                 task("mail.send", "mail.ok", catch=[{"errors": ["Bounced"], "target": "mail.failed"}]),
                 {"name": "mail.ok", "type": "succeed"},
                 {"name": "mail.failed", "type": "fail", "error": "MailFailed"}]},
         ]},
        task("undo_db", "refund", idempotency={"natural": True}),
    ]
    return design


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_examples_run_to_a_final_state(name, tmp_path):
    machine = export_workflow_xstate(example_text(name)).machine
    result = run(machine, tmp_path)
    assert result["status"] == "done", result


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_a_failing_task_goes_where_its_catch_says(name, tmp_path):
    design = load_design(example_text(name)).design
    machine = export_workflow_xstate(design).machine
    happy = visited(run(machine, tmp_path))
    tried = 0
    # Top-level tasks, and the tasks of a map's processor (their catch-all to a task, as a fail state is left at
    # once and never shows in a snapshot).
    inner = [t for m in design.states if m.type == "map" for t in m.processor.states]  # type: ignore[union-attr]
    fail_states = {t.name for t in inner if t.type == "fail"}
    for s in [*design.states, *inner]:
        if s.type != "task" or s.name not in happy:
            continue
        catch_all = next((c.target for c in s.catch if "States.ALL" in c.errors), None)
        if catch_all is None or catch_all in fail_states:
            continue
        result = run(machine, tmp_path, fail=s.action)
        assert result["status"] == "done" and catch_all in visited(result), (s.name, result)
        tried += 1
    assert tried >= 2


def test_parallel_catch_and_dotted_names_run(tmp_path):
    machine = export_workflow_xstate(branch_saga()).machine
    assert "db_write" in machine["states"]["checks"]["states"]["db"]["states"]
    ok = run(machine, tmp_path)
    assert ok["status"] == "done" and {"db_write", "mail_send", "ship", "done"} <= visited(ok)
    # A task failing inside a branch: the parallel's catch runs the compensation, then the refund.
    failed = run(machine, tmp_path, fail="svc.db.write")
    assert {"undo_db", "refund", "failed"} <= visited(failed) and "ship" not in visited(failed)
    # A branch's own fail state fails the parallel too (it does not count as the branch succeeding).
    bounced = run(machine, tmp_path, fail="svc.mail.send", error="Bounced")
    # (mail_failed itself is left by an eventless transition, so no snapshot shows it; without the jump it would
    # be final, the parallel state done, and ship would run.)
    assert {"undo_db", "failed"} <= visited(bounced) and "ship" not in visited(bounced)


def test_a_timestamp_wait_is_a_named_delay_that_runs(tmp_path):
    design = base()
    state(design, "charge")["transitions"] = [{"target": "hold"}]
    design["states"].append({"name": "hold", "type": "wait", "until": "$.release_at",
                             "transitions": [{"target": "ship"}]})
    export = export_workflow_xstate(design)
    assert export.machine["states"]["hold"]["after"] == {"until_release_at": [{"target": "ship"}]}
    result = run(export.machine, tmp_path)
    assert result["status"] == "done" and {"hold", "ship", "done"} <= visited(result)


# The shipped tenant migration: 3 items in the harness, tolerated_failure_count 2; verify_tenant fails in the items
# listed. Expected by hand from the design: up to 2 failed tenants are restored by their own item and the run ends in
# `migrated`; 3 exceed the policy, so the map's catch runs restore_migrated_tenants and the run ends in rolled_back.
@pytest.mark.parametrize(
    ("fail_items", "failed", "end"),
    [(None, 0, "migrated"), ([2], 1, "migrated"), ([0, 1], 2, "migrated"), ([0, 1, 2], 3, "rolled_back")],
)
def test_a_map_runs_every_item_and_applies_its_failure_policy_in_xstate(fail_items, failed, end, tmp_path):
    machine = export_workflow_xstate(example_text("tenant-schema-migration")).machine
    result = run(machine, tmp_path, fail="db.verify_tenant" if fail_items else None, failItems=fail_items)
    assert result["status"] == "done" and result["value"] == end, result
    assert result["maps"] == {"migrate_every_tenant": {"index": 3, "failed": failed}}
    restored = "restore_migrated_tenants" in visited(result)
    assert restored == (end == "rolled_back")


def test_a_map_without_a_policy_fails_on_its_first_failed_item_in_xstate(tmp_path):
    design = load_design(example_text("tenant-schema-migration")).design.to_dict()
    mapped = design["states"][1]
    del mapped["tolerated_failure_count"]
    mapped["catch"] = [{"errors": ["States.ALL"], "target": "restore_migrated_tenants"}]
    machine = export_workflow_xstate(design).machine
    result = run(machine, tmp_path, fail="db.verify_tenant", failItems=[0])
    # The first item fails; without a policy nothing is tolerated: items 1 and 2 never start.
    assert result["value"] == "rolled_back" and result["maps"]["migrate_every_tenant"] == {"index": 1, "failed": 1}


def test_a_map_failure_nothing_catches_fails_the_machine_in_xstate(tmp_path):
    # Without a catch the failed map must not count as done: the run ends in the generated failed state, and
    # `migrated` (the map's done transition) is never entered.
    design = load_design(example_text("tenant-schema-migration")).design.to_dict()
    design["states"][1]["catch"] = []
    export = export_workflow_xstate(design)
    assert export.machine["states"]["migrate_every_tenant_failed"]["tags"] == ["failed"]
    result = run(export.machine, tmp_path, fail="db.verify_tenant", failItems=[0, 1, 2])
    assert result["value"] == "migrate_every_tenant_failed" and "migrated" not in visited(result)
